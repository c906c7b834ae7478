"""What a validation answers: one ``SignatureReport`` per signature or document timestamp and
a ``ValidationReport`` for the file, with the Vietnamese labels of every value a page shows.

The JSON form (``to_dict``) is API.md's contract: its first keys and their order are fixed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from docmgr.core import clock

VERDICT_LABELS = {
    "valid": "Hợp lệ",
    "untrusted": "Toàn vẹn nhưng chưa xác thực được nguồn gốc chứng thư",
    "altered": "Văn bản đã bị sửa đổi sau khi ký",
    "invalid": "Chữ ký không hợp lệ",
    "unsigned": "Không có chữ ký số",
}
MODIFICATION_LABELS = {
    "none": "Không có thay đổi nào sau khi ký",
    "form_filling": "Chỉ điền biểu mẫu hoặc ký tiếp (được phép)",
    "annotations": "Thêm ghi chú, chú thích (annotation)",
    "other": "Có thay đổi khác sau khi ký (không được phép hoặc không xác định được)",
}
COVERAGE_LABELS = {
    "entire_file": "Toàn bộ tệp",
    "entire_revision": "Toàn bộ văn bản tại thời điểm ký (tệp có cập nhật bổ sung sau đó)",
    "partial": "Chỉ một phần tệp (bất thường)",
}
REVOCATION_LABELS = {
    "good": "Chưa bị thu hồi",
    "revoked": "Đã bị thu hồi",
    "unknown": "Chưa xác định (không tra cứu CRL/OCSP)",
}
DOCMDP_LABELS = {
    "no_changes": "Không cho phép thay đổi",
    "fill_forms": "Chỉ cho phép điền biểu mẫu và ký",
    "annotate": "Cho phép điền biểu mẫu, ký và thêm ghi chú",
}
KIND_LABELS = {"signature": "Chữ ký số", "timestamp": "Dấu thời gian tài liệu"}


@dataclass(frozen=True)
class FieldChange:
    """A form field that differs between the signed revision and the file as it is now:
    its value from ``old`` to ``new`` (None: empty or absent); with ``what`` = "appearance"
    only how it is shown (value unchanged); "other": a field that is no form field with a
    value (an empty signature field added, say)."""
    field: str
    old: str | None
    new: str | None
    what: str = "value"  # "value" | "appearance" | "other"

    def to_dict(self) -> dict:
        return {"field": self.field, "old": self.old, "new": self.new, "what": self.what}


@dataclass
class SignatureReport:
    field: str
    kind: str = "signature"  # or "timestamp" (a /DocTimeStamp)
    signer: str | None = None
    signed_at: datetime | None = None
    signed_at_source: str | None = None  # "timestamp" | "signer_clock" | None
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    timestamped: bool = False
    timestamp_trusted: bool = False
    timestamp_time: datetime | None = None
    timestamp_authority: str | None = None
    modification_level: str = "other"
    changed_fields: list[FieldChange] = field(default_factory=list)
    # True: something changed after the document's last signature that nobody signed
    unsigned_changes: bool = False
    coverage: str = "partial"
    verdict: str = "invalid"
    revocation: str = "unknown"
    docmdp: dict | None = None
    field_lock: dict | None = None  # facts.field_lock
    issuer: str | None = None
    serial: str | None = None
    not_valid_after: datetime | None = None
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # technical detail for support staff, English as raised

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]

    def to_dict(self) -> dict:
        return {
            # API.md's contract, in its order
            "field": self.field,
            "signer": self.signer,
            "signed_at": iso_local(self.signed_at),
            "intact": self.intact,
            "valid": self.valid,
            "trusted": self.trusted,
            "timestamped": self.timestamped,
            "modification_level": self.modification_level,
            "coverage": self.coverage,
            # extras
            "kind": self.kind,
            "verdict": self.verdict,
            "verdict_label": self.verdict_label,
            "signed_at_source": self.signed_at_source,
            "timestamp_time": iso_local(self.timestamp_time),
            "timestamp_trusted": self.timestamp_trusted,
            "timestamp_authority": self.timestamp_authority,
            "revocation": self.revocation,
            "docmdp": self.docmdp,
            "field_lock": self.field_lock,
            "changed_fields": [change.to_dict() for change in self.changed_fields],
            "unsigned_changes": self.unsigned_changes,
            "issuer": self.issuer,
            "serial": self.serial,
            "not_valid_after": iso_local(self.not_valid_after),
            "notes": list(self.notes),
            "error": self.error,
        }


@dataclass
class ValidationReport:
    signatures: list[SignatureReport]
    summary: str
    verdict: str  # the worst entry's verdict, or "unsigned"
    structure_readable: bool = True

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]

    def to_dict(self) -> dict:
        return {"signatures": [s.to_dict() for s in self.signatures],
                "summary": self.summary, "verdict": self.verdict}


def iso_local(moment: datetime | None) -> str | None:
    """ISO 8601 in the organisation's zone (+07:00); pyHanko may hand back naive UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return clock.local(moment).isoformat(timespec="seconds")
