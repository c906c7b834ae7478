"""Checking the signatures of a PDF (DOMAIN.md §8): integrity, trust, what changed after signing.

``validate_pdf(data, trust)`` answers one ``ValidationReport`` with an entry per signature and
per document timestamp, in signing order. pyHanko does the work (``PdfFileReader(strict=False)``,
its signature validation and the difference analysis of later revisions); this module turns
its statuses into a verdict and Vietnamese sentences a clerk can act on.

Decisions worth knowing:

* Trust is checked now; when that fails only because a certificate has since expired, the
  chain is checked again as it stood at the signing time — the RFC 3161 timestamp's time when
  the signature has one, otherwise the signer's own clock, which a note then flags.
* Revocation is never fetched (no network): unless a certificate is known to be revoked the
  status is reported as ``unknown``.
* One broken signature gives an ``invalid`` entry; it never fails the whole report.
* When pyHanko cannot read the file's structure at all, signature dictionaries are found in
  the raw bytes and checked cryptographically over their /ByteRange. What changed after such
  a signature cannot be analysed, so unless it covers the whole file it is not reported valid.
* A signature dictionary that no signature field of the document points to (copied from
  another file, say) is reported as an ``invalid`` entry.
"""
from __future__ import annotations

import asyncio
import binascii
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from asn1crypto import cms, x509
from cryptography.hazmat.primitives import hashes
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.crypt import AuthStatus, StandardSecurityHandler
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel
from pyhanko.sign.fields import MDPPerm, enumerate_sig_fields
from pyhanko.sign.general import extract_signer_info
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.pdf_embedded import (
    EmbeddedPdfSignature,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.status import (
    SignatureCoverageLevel,
    StandardCMSSignatureStatus,
    TimestampSignatureStatus,
)
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from docmgr.core import clock
from docmgr.core.errors import UploadRejected, ValidationFailed
from docmgr.signing.trust import KEY_USAGE, TrustStore

# --- vocabulary --------------------------------------------------------------------------------

VERDICT_LABELS = {
    "valid": "Hợp lệ",
    "untrusted": "Toàn vẹn nhưng chưa xác thực được nguồn gốc chứng thư",
    "altered": "Văn bản đã bị sửa đổi sau khi ký",
    "invalid": "Chữ ký không hợp lệ",
    "unsigned": "Không có chữ ký số",
}
# How bad a verdict is for the document as a whole: the worst entry decides.
_SEVERITY = {"valid": 0, "untrusted": 1, "invalid": 2, "altered": 3}

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

_MODIFICATION = {
    ModificationLevel.NONE: "none",
    ModificationLevel.LTA_UPDATES: "none",  # only validation data (DSS) or timestamps added
    ModificationLevel.FORM_FILLING: "form_filling",
    ModificationLevel.ANNOTATIONS: "annotations",
    ModificationLevel.OTHER: "other",
}
_COVERAGE = {
    SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
    SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision",
    SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: "partial",
    SignatureCoverageLevel.UNCLEAR: "partial",
}
_DOCMDP = {MDPPerm.NO_CHANGES: "no_changes", MDPPerm.FILL_FORMS: "fill_forms",
           MDPPerm.ANNOTATE: "annotate"}

# Trust failures that may vanish when the chain is checked at the signing time instead of now.
_TIME_BOUND = {AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
               AdESIndeterminate.EXPIRED, AdESIndeterminate.NOT_YET_VALID,
               AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE}
_REVOKED = {AdESIndeterminate.REVOKED_NO_POE, AdESIndeterminate.REVOKED_CA_NO_POE,
            AdESFailure.REVOKED}
_TSA_USAGE = TimestampSignatureStatus.default_usage_constraints()

_NOTE_BEYOND_EOF = "Phạm vi ký (/ByteRange) vượt quá độ dài tệp"
NOTE_SIGNER_CLOCK = "Thời điểm ký lấy từ đồng hồ máy người ký (không có dấu thời gian)."


# --- report ------------------------------------------------------------------------------------

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
    changed_fields: list[str] = field(default_factory=list)
    coverage: str = "partial"
    verdict: str = "invalid"
    revocation: str = "unknown"
    docmdp: dict | None = None
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
            "signed_at": _iso(self.signed_at),
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
            "timestamp_time": _iso(self.timestamp_time),
            "timestamp_trusted": self.timestamp_trusted,
            "timestamp_authority": self.timestamp_authority,
            "revocation": self.revocation,
            "docmdp": self.docmdp,
            "changed_fields": list(self.changed_fields),
            "issuer": self.issuer,
            "serial": self.serial,
            "not_valid_after": _iso(self.not_valid_after),
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


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return clock.local(moment).isoformat(timespec="seconds")


# --- entry point -------------------------------------------------------------------------------

def validate_pdf(data: bytes, trust: TrustStore | None = None) -> ValidationReport:
    """Check every signature and document timestamp in ``data``.

    Raises ``UploadRejected`` when ``data`` is not a PDF and ``ValidationFailed`` when it is
    too damaged to find anything in it; everything else ends up in the report.
    """
    data = bytes(data)
    if not data:
        raise ValidationFailed("Tệp rỗng.", field="file")
    if b"%PDF-" not in data[:1024]:
        raise UploadRejected("Tệp không phải PDF.", field="file", reason="not_pdf")
    return asyncio.run(_Run(data, trust or TrustStore()).execute())


class _Run:
    """One validation: the file, the trust store and the validation contexts it built."""

    def __init__(self, data: bytes, trust: TrustStore):
        self.data = data
        self.trust = trust
        self.vc = None
        self._vcs_at: dict[datetime, object] = {}
        self._raw: list[_RawSig] | None = None

    async def execute(self) -> ValidationReport:
        self.vc = self.trust.validation_context()
        try:
            entries, fallback = await self._structured()
        finally:
            for vc in (self.vc, *self._vcs_at.values()):
                await vc.aclose()
        return _report(entries, fallback)

    @property
    def raw(self) -> list[_RawSig]:
        if self._raw is None:
            self._raw = _scan_raw_signatures(self.data)
        return self._raw

    def context_at(self, moment: datetime):
        """A point-in-time context sharing the certificates collected so far."""
        if moment not in self._vcs_at:
            self._vcs_at[moment] = self.trust.validation_context(
                moment=moment, certificate_registry=self.vc.certificate_registry)
        return self._vcs_at[moment]

    # -- files pyHanko can read ----------------------------------------------------------------

    async def _structured(self) -> tuple[list[SignatureReport], str | None]:
        try:
            reader = PdfFileReader(io.BytesIO(self.data), strict=False)
            _unlock(reader)
            fields = list(enumerate_sig_fields(reader, filled_status=True))
        except Exception as exc:
            return await self._fallback(exc)

        sig_names = {name for name, _, _ in fields}
        ordered: list[tuple[int, int, object]] = []
        known_ranges: set[tuple] = set()
        for index, (fq_name, value, field_ref) in enumerate(fields):
            try:
                known_ranges.add(_as_range(value.get_object().raw_get("/ByteRange")))
            except Exception:
                pass
            try:
                emb = EmbeddedPdfSignature(reader, field_ref, fq_name)
            except Exception as exc:
                ordered.append((_revision_of(reader, field_ref), index, (fq_name, value, exc)))
            else:
                ordered.append((emb.signed_revision, index, emb))
        ordered.sort(key=lambda item: item[:2])

        entries = []
        for _, _, item in ordered:
            if isinstance(item, EmbeddedPdfSignature):
                entries.append(await self._embedded(item, sig_names))
            else:
                entries.append(_unreadable(*item))
        for raw in self.raw:
            # an empty placeholder no field points to is not a signature, just debris
            if raw.byte_range not in known_ranges and any(raw.contents):
                entries.append(await self._raw_entry(raw, orphan=True))
        return entries, None

    async def _embedded(self, emb: EmbeddedPdfSignature, sig_names: set[str]) -> SignatureReport:
        report = SignatureReport(field=emb.field_name)
        try:
            report.signer, report.issuer, report.serial, report.not_valid_after = \
                _cert_facts(emb.signer_cert)
            if emb.sig_object_type == "/DocTimeStamp":
                report.kind = "timestamp"
                status = await async_validate_pdf_timestamp(emb, validation_context=self.vc)
            else:
                status = await async_validate_pdf_signature(
                    emb, signer_validation_context=self.vc, ts_validation_context=self.vc,
                    key_usage_settings=KEY_USAGE)
        except Exception as exc:
            return _broken(report, exc)

        report.coverage = _COVERAGE.get(status.coverage, "partial")
        diff = status.diff_result
        level = status.modification_level
        report.modification_level = _MODIFICATION.get(level, "other")
        notes = []
        if isinstance(diff, DiffResult):
            changed = sorted(diff.changed_form_fields or ())
            report.changed_fields = [n for n in changed if n not in sig_names]
            later_sigs = [n for n in changed if n in sig_names]
            if later_sigs:
                notes.append("Sau chữ ký này có thêm chữ ký hoặc dấu thời gian ở trường: "
                             + ", ".join(later_sigs) + ".")
            if report.changed_fields:
                notes.append("Sau khi ký, các trường biểu mẫu sau đã được điền hoặc đổi giá trị "
                             "(kiểm tra nội dung hiển thị): " + ", ".join(report.changed_fields)
                             + ".")
            if level == ModificationLevel.LTA_UPDATES and not later_sigs:
                notes.append("Sau khi ký chỉ bổ sung dữ liệu xác thực dài hạn (DSS) hoặc dấu "
                             "thời gian.")
        elif diff is not None:  # SuspiciousModification: pyHanko's reason, as raised
            report.error = report.error or f"{type(diff).__name__}: {diff}"[:300]

        docmdp_ok = getattr(status, "docmdp_ok", None)
        if report.kind == "timestamp":
            docmdp_ok = report.modification_level != "other"
        try:
            docmdp = emb.docmdp_level
        except Exception:
            docmdp = None
        if docmdp is not None:
            report.docmdp = {"permission": _DOCMDP.get(docmdp, str(docmdp)),
                             "label": DOCMDP_LABELS.get(_DOCMDP.get(docmdp), str(docmdp)),
                             "certification": _is_certification(emb.sig_object),
                             "ok": bool(docmdp_ok)}
            if docmdp_ok is False and report.modification_level != "other":
                notes.append("Thay đổi sau khi ký vượt quá mức chữ ký chứng nhận cho phép ("
                             + report.docmdp["label"].lower() + ").")
        await self._judge(report, status, docmdp_ok=docmdp_ok,
                          signer_clock=_self_reported(emb), notes=notes)
        return report

    # -- trust, time and verdict shared by every kind of entry ---------------------------------

    async def _judge(self, report: SignatureReport, status, *, docmdp_ok, signer_clock,
                     notes: list[str], structure_known: bool = True) -> None:
        report.intact = bool(status.intact)
        report.valid = bool(status.valid)
        report.trusted = bool(status.trusted)
        indic = status.trust_problem_indic
        revoked = bool(status.revocation_details) or indic in _REVOKED

        # When was it signed, and does a timestamp vouch for that?
        reference = None
        if report.kind == "timestamp":
            report.timestamp_time = reference = status.timestamp
            report.signed_at, report.signed_at_source = status.timestamp, "timestamp"
            report.timestamped = report.intact and report.valid
            report.timestamp_trusted = report.trusted
            report.timestamp_authority = report.signer
        else:
            tst = getattr(status, "timestamp_validity", None)
            if tst is not None:
                report.timestamp_authority = _cert_facts(tst.signing_cert)[0]
                report.timestamp_time = tst.timestamp
                report.timestamped = bool(tst.intact and tst.valid)
                report.timestamp_trusted = report.timestamped and (
                    tst.trusted or await self._trusted_at(
                        tst.signing_cert, tst.timestamp, _TSA_USAGE,
                        tst.trust_problem_indic))
                if not report.timestamped:
                    notes.append("Dấu thời gian đi kèm chữ ký bị hỏng hoặc không khớp với chữ "
                                 "ký; không dùng được làm bằng chứng thời điểm ký.")
                elif not report.timestamp_trusted:
                    notes.append("Dấu thời gian hợp lệ về mật mã nhưng đơn vị cấp dấu thời gian "
                                 f"({report.timestamp_authority}) chưa được xác thực.")
            if report.timestamped:
                reference = tst.timestamp
                report.signed_at, report.signed_at_source = tst.timestamp, "timestamp"
            elif signer_clock is not None:
                reference = signer_clock
                report.signed_at, report.signed_at_source = signer_clock, "signer_clock"
                notes.append(NOTE_SIGNER_CLOCK)
            else:
                notes.append("Chữ ký không ghi thời điểm ký và không có dấu thời gian.")

        # Expired (or not yet valid) now, but valid at the signing time?
        if indic == AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE and not (
                reference and status.error_time_horizon
                and reference < status.error_time_horizon):
            pass  # the algorithm was already banned when it was used
        elif (not report.trusted and report.intact and report.valid and indic in _TIME_BOUND
                and reference is not None):
            usage = _TSA_USAGE if report.kind == "timestamp" else KEY_USAGE
            if await self._trusted_at(status.signing_cert, reference, usage, indic):
                report.trusted = True
                indic = None
                if report.not_valid_after and report.not_valid_after < clock.now():
                    notes.append("Chứng thư số đã hết hạn ngày "
                                 f"{clock.local(report.not_valid_after):%d/%m/%Y} nhưng còn hiệu "
                                 "lực tại thời điểm ký.")
        report.revocation = "revoked" if revoked else "unknown"

        # What changed, and is the signature still the document's?
        beyond_eof = any(n.startswith(_NOTE_BEYOND_EOF) for n in notes)
        if not report.intact:
            if not beyond_eof:
                notes.insert(0, "Nội dung đã ký bị thay đổi: giá trị băm không khớp với chữ ký.")
        elif not report.valid:
            notes.insert(0, "Giá trị chữ ký không khớp với chứng thư số (chữ ký hỏng hoặc mã hóa "
                            "theo cách không được hỗ trợ).")
        if report.coverage == "partial" and not beyond_eof:
            notes.append("Phạm vi ký (/ByteRange) bất thường: chữ ký không bao trùm trọn vẹn "
                         "văn bản tại thời điểm ký.")
        elif report.modification_level == "other" and structure_known:
            notes.append("Sau khi ký, văn bản có thay đổi không được phép (ví dụ thêm trang, sửa "
                          "nội dung hoặc hình hiển thị, thay đổi cấu trúc tệp).")
        if report.valid and report.intact and not report.trusted:
            notes.append(_trust_note(indic, status.signing_cert, report, reference))
        if revoked:
            notes.append("Chứng thư số đã bị thu hồi.")

        if (not report.intact or report.coverage == "partial"
                or report.modification_level == "other" or docmdp_ok is False):
            report.verdict = "altered"
        elif not report.valid or revoked:
            report.verdict = "invalid"
        elif report.trusted and (report.kind == "timestamp" or report.timestamped
                                 or getattr(status, "timestamp_validity", None) is None):
            report.verdict = "valid"
        else:
            report.verdict = "untrusted"
        if report.verdict == "valid" and report.kind == "signature":
            notes.append("Chưa kiểm tra được tình trạng thu hồi của chứng thư (hệ thống không "
                         "tra cứu CRL/OCSP trực tuyến).")
        report.notes = _unique(notes)

    async def _trusted_at(self, cert: x509.Certificate, moment: datetime, usage, indic) -> bool:
        if indic not in _TIME_BOUND or moment is None:
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        vc = self.context_at(moment)
        try:
            result = await generic_cms.validate_cert_usage(
                cert, vc, key_usage_settings=usage,
                paths=vc.path_builder.async_build_paths_lazy(cert))
        except Exception:
            return False
        return result.success_result is not None and result.error_subindic is None

    # -- raw bytes: files pyHanko cannot read, signatures no field points to -------------------

    async def _fallback(self, exc: Exception) -> tuple[list[SignatureReport], str]:
        if not self.raw:
            if isinstance(exc, _Encrypted):
                raise ValidationFailed(
                    f"{exc} nên không kiểm tra được chữ ký; hãy gửi bản không mã hóa.",
                    field="file", reason="encrypted") from exc
            raise ValidationFailed(
                "Tệp PDF bị hỏng hoặc không đọc được nên không kiểm tra được chữ ký ("
                + _structure_reason(exc) + ").", field="file", reason="corrupt") from exc
        entries = [await self._raw_entry(raw, orphan=False, reason=exc) for raw in self.raw]
        return entries, _structure_reason(exc)

    async def _raw_entry(self, raw: _RawSig, *, orphan: bool,
                         reason: Exception | None = None) -> SignatureReport:
        report = SignatureReport(field=raw.field_name(self.data),
                                 kind="timestamp" if raw.type == "DocTimeStamp" else "signature")
        notes = []
        if orphan:
            notes.append("Từ điển chữ ký này không thuộc trường chữ ký nào của văn bản (có thể "
                         "được sao chép từ tệp khác); chữ ký không gắn với văn bản này.")
        else:
            notes.append("Không đọc được cấu trúc tệp PDF (" + _structure_reason(reason)
                         + "); chỉ kiểm tra được phần mật mã trên các byte đã ký, không đánh giá "
                         "được các thay đổi sau khi ký.")
        try:
            if not raw.contents or not any(raw.contents):
                raise _Placeholder()
            signed_data = cms.ContentInfo.load(raw.contents)["content"]
            signer_info = extract_signer_info(signed_data)
            cert_info = generic_cms.extract_certs_for_validation(signed_data)
            report.signer, report.issuer, report.serial, report.not_valid_after = \
                _cert_facts(cert_info.signer_cert)
        except Exception as exc:
            report = _broken(report, exc)
            report.notes = _unique(notes + report.notes)
            return report

        digests: dict[str, bytes] = {}
        in_file = raw.ranges_within(len(self.data))

        def digest(algorithm: str) -> bytes:
            if algorithm not in digests:
                md = hashes.Hash(get_pyca_cryptography_hash(algorithm))
                for start, length in raw.pairs():
                    md.update(self.data[start:start + length])
                digests[algorithm] = md.finalize()
            return digests[algorithm]

        if not in_file:
            notes.append(_NOTE_BEYOND_EOF + ": phần đã ký không còn nằm trong tệp này.")
        report.coverage = raw.coverage(self.data)
        report.modification_level = "none" if report.coverage == "entire_file" else "other"
        try:
            if report.kind == "timestamp":
                kwargs = await generic_cms.validate_tst_signed_data(
                    signed_data, self.vc,
                    digest if in_file else (lambda algorithm: b""))
                status = TimestampSignatureStatus(**kwargs)
            else:
                algorithm = signer_info["digest_algorithm"]["algorithm"].native
                raw_digest = digest(algorithm) if in_file else b"\0" * 32
                kwargs = await generic_cms.collect_timing_info(
                    signer_info, self.vc, raw_digest=digest if in_file else (lambda a: b""))
                kwargs = await generic_cms.cms_basic_validation(
                    signed_data, raw_digest=raw_digest, validation_context=self.vc,
                    status_kwargs=kwargs, key_usage_settings=KEY_USAGE)
                status = StandardCMSSignatureStatus(**kwargs)
        except Exception as exc:
            report = _broken(report, exc)
            report.notes = _unique(notes + report.notes)
            return report

        if not in_file:
            status = _replace_intact(status, False)
        await self._judge(report, status, docmdp_ok=None, signer_clock=raw.signing_time(),
                          notes=notes, structure_known=False)
        if orphan:
            report.verdict = "invalid"
        return report


# --- helpers -----------------------------------------------------------------------------------

class _Placeholder(Exception):
    pass


def _unlock(reader: PdfFileReader) -> None:
    """Opens files encrypted with an empty user password (signature dictionaries are
    readable); anything else cannot be checked structurally."""
    if not reader.encrypted:
        return
    handler = reader.security_handler
    if not isinstance(handler, StandardSecurityHandler):
        raise _Encrypted("Tệp PDF được mã hóa bằng chứng thư số của người nhận")
    if reader.decrypt(b"").status == AuthStatus.FAILED:
        raise _Encrypted("Tệp PDF được mã hóa bằng mật khẩu")


class _Encrypted(Exception):
    pass


def _structure_reason(exc: Exception | None) -> str:
    if isinstance(exc, _Encrypted):
        return str(exc)
    text = f"{type(exc).__name__}: {exc}" if exc is not None else ""
    if "seed" in text.lower() or "encrypt" in text.lower():
        return "tệp được mã hóa hoặc thông tin mã hóa bị hỏng"
    return "cấu trúc tệp bị hỏng: " + text[:160] if text else "cấu trúc tệp bị hỏng"


def _revision_of(reader: PdfFileReader, field_ref) -> int:
    try:
        sig_field = field_ref.get_object()
        return reader.xrefs.get_last_change(sig_field.raw_get("/V").reference)
    except Exception:
        return 1 << 30


def _as_range(value) -> tuple:
    return tuple(int(v) for v in value.get_object())


def _is_certification(sig_object) -> bool:
    try:
        for ref in sig_object.get("/Reference", ()):
            if ref.get_object().get("/TransformMethod") == "/DocMDP":
                return True
    except Exception:
        pass
    return False


def _self_reported(emb: EmbeddedPdfSignature) -> datetime | None:
    try:
        return emb.self_reported_timestamp
    except Exception:
        return None


def _cert_facts(cert: x509.Certificate | None):
    if cert is None:
        return None, None, None, None
    return (_common_name(cert.subject), _common_name(cert.issuer),
            format(cert.serial_number, "X"), cert.not_valid_after)


def _common_name(name: x509.Name) -> str:
    try:
        value = name.native.get("common_name")
    except Exception:
        value = None
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    if value:
        return str(value)
    try:
        return name.human_friendly
    except Exception:
        return "(không rõ)"


def _trust_note(indic, cert: x509.Certificate, report: SignatureReport,
                reference: datetime | None = None) -> str:
    issuer = report.issuer or "không rõ"
    if cert is not None and cert.self_signed != "no":
        return ("Chứng thư số tự ký (self-signed), không do tổ chức chứng thực nào đã cấu hình "
                "cấp.")
    if indic in (AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
                 AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE):
        return ("Chữ ký dùng thuật toán mật mã yếu hoặc không còn được chấp nhận (ví dụ SHA-1) "
                "nên không xác thực được.")
    if indic in _TIME_BOUND and reference is not None and cert is not None:
        if reference.tzinfo is None:
            reference = reference.replace(tzinfo=timezone.utc)
        if cert.not_valid_after < reference:
            return (f"Chứng thư số đã hết hạn ngày {clock.local(cert.not_valid_after):%d/%m/%Y}, "
                    "trước thời điểm ký.")
        if cert.not_valid_before > reference:
            return ("Chứng thư số chưa có hiệu lực tại thời điểm ký (hiệu lực từ ngày "
                    f"{clock.local(cert.not_valid_before):%d/%m/%Y}).")
    if indic in _TIME_BOUND:
        return ("Chứng thư số không còn hiệu lực (hết hạn) và không có thời điểm ký đáng tin "
                "cậy để xác nhận nó còn hiệu lực khi ký.")
    if indic == AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE:
        return ("Chứng thư số không đáp ứng ràng buộc của chuỗi chứng thực hoặc mục đích sử "
                f"dụng khóa (tổ chức cấp: {issuer}).")
    return ("Không xây dựng được chuỗi chứng thư tới chứng thư gốc tin cậy đã cấu hình (tổ "
            f"chức cấp: {issuer}); cần cấu hình chứng thư gốc của tổ chức chứng thực này.")


def _broken(report: SignatureReport, exc: Exception) -> SignatureReport:
    report.intact = report.valid = report.trusted = False
    report.verdict = "invalid"
    report.coverage = report.coverage or "partial"
    report.modification_level = "other"
    report.error = None if isinstance(exc, _Placeholder) else f"{type(exc).__name__}: {exc}"[:500]
    report.notes = _unique(report.notes + [_broken_note(exc)])
    return report


def _unreadable(fq_name: str, value, exc: Exception) -> SignatureReport:
    report = SignatureReport(field=fq_name)
    try:
        contents = value.get_object().raw_get("/Contents")
        if isinstance(contents, generic.ByteStringObject) and not any(bytes(contents)):
            exc = _Placeholder()
    except Exception:
        pass
    return _broken(report, exc)


def _broken_note(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, _Placeholder):
        return "Trường chữ ký chỉ có vùng giữ chỗ trống: văn bản chưa được ký hoàn chỉnh."
    if "ContentInfo" in text or "asn1crypto" in text or "parsing" in text.lower():
        return "Dữ liệu chữ ký (CMS) bị hỏng hoặc trống, không đọc được."
    if "encapsulated data" in text:
        return ("Cấu trúc chữ ký (CMS) không đúng chuẩn: chữ ký tách rời nhưng lại chứa dữ liệu "
                "nhúng.")
    if "SubFilter" in text:
        return "Định dạng chữ ký (SubFilter) không được hỗ trợ."
    if type(exc).__name__ in ("PdfReadError", "PdfStreamError", "PdfStrictReadError"):
        return "Cấu trúc PDF quanh chữ ký bị hỏng nên không kiểm tra được chữ ký."
    return "Không kiểm tra được chữ ký do dữ liệu bất thường."


def _replace_intact(status, intact: bool):
    from dataclasses import replace
    return replace(status, intact=intact)


def _unique(items: list[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _report(entries: list[SignatureReport], fallback: str | None) -> ValidationReport:
    if not entries:
        return ValidationReport([], "Văn bản không có chữ ký số.", "unsigned")
    verdict = max((e.verdict for e in entries), key=_SEVERITY.__getitem__)
    sigs = [e for e in entries if e.kind == "signature"]
    stamps = [e for e in entries if e.kind == "timestamp"]
    headline = {
        "valid": "Các chữ ký số trên văn bản hợp lệ.",
        "untrusted": ("Chữ ký số còn toàn vẹn nhưng chưa xác thực được nguồn gốc chứng thư (chưa "
                      "chuỗi tới chứng thư gốc tin cậy đã cấu hình)."),
        "altered": "Cảnh báo: văn bản đã bị sửa đổi sau khi ký hoặc phạm vi ký bất thường.",
        "invalid": "Văn bản có chữ ký số không hợp lệ.",
    }[verdict]
    counted = []
    for kind_entries, noun in ((sigs, "chữ ký số"), (stamps, "dấu thời gian tài liệu")):
        if not kind_entries:
            continue
        parts = [f"{sum(e.verdict == v for e in kind_entries)} {_COUNT_WORDS[v]}"
                 for v in ("valid", "untrusted", "altered", "invalid")
                 if any(e.verdict == v for e in kind_entries)]
        counted.append(f"{len(kind_entries)} {noun} ({', '.join(parts)})")
    summary = f"{headline} Văn bản có {' và '.join(counted)}."
    if fallback:
        summary += (" Cấu trúc tệp PDF không đọc được đầy đủ nên chỉ kiểm tra được phần mật mã "
                    "của chữ ký.")
    return ValidationReport(entries, summary, verdict, structure_readable=fallback is None)


_COUNT_WORDS = {"valid": "hợp lệ", "untrusted": "chưa xác thực được nguồn gốc",
                "altered": "bị sửa đổi sau khi ký", "invalid": "không hợp lệ"}


# --- raw scan ----------------------------------------------------------------------------------

_BYTERANGE = re.compile(rb"/ByteRange\s*\[([0-9\s+-]{0,200})\]")
_CONTENTS = re.compile(rb"/Contents\s*<([0-9A-Fa-f\s]*)>")
_TYPE = re.compile(rb"/Type\s*/([A-Za-z]+)")
_SIGNING_TIME = re.compile(rb"/M\s*\(([^)]{0,64})\)")
_OBJ_HEADER = re.compile(rb"(\d+)\s+(\d+)\s+$")
_FIELD_NAME = re.compile(rb"/T\s*\(((?:\\.|[^\\)]){0,256})\)")
_EOF_TAIL = re.compile(rb"%%EOF\s*$")
_WS = re.compile(rb"\s+")


@dataclass
class _RawSig:
    byte_range: tuple
    contents: bytes
    contents_hex: bytes
    type: str
    obj: tuple[int, int] | None
    dict_text: bytes

    def pairs(self):
        br = self.byte_range
        return [(br[i], br[i + 1]) for i in range(0, len(br) - 1, 2)]

    def ranges_within(self, size: int) -> bool:
        return (len(self.byte_range) % 2 == 0 and bool(self.byte_range)
                and all(s >= 0 and n >= 0 and s + n <= size for s, n in self.pairs()))

    def coverage(self, data: bytes) -> str:
        br = self.byte_range
        if len(br) != 4 or br[0] != 0 or not self.ranges_within(len(data)):
            return "partial"
        _, len1, start2, len2 = br
        gap = data[len1:start2]
        if not (gap.startswith(b"<") and gap.endswith(b">")
                and _WS.sub(b"", gap[1:-1]).lower() == self.contents_hex.lower()):
            return "partial"
        end = start2 + len2
        if end == len(data):
            return "entire_file"
        return "entire_revision" if _EOF_TAIL.search(data[max(0, end - 64):end]) else "partial"

    def signing_time(self) -> datetime | None:
        match = _SIGNING_TIME.search(self.dict_text)
        if not match:
            return None
        try:
            return generic.parse_pdf_date(match[1].decode("latin-1"), strict=False)
        except Exception:
            return None

    def field_name(self, data: bytes) -> str:
        if self.obj is not None:
            ref = re.compile(rb"/V\s+%d\s+%d\s+R" % self.obj)
            match = ref.search(data)
            if match:
                start, end = _object_bounds(data, match.start())
                name = _FIELD_NAME.search(data, start, end)
                if name:
                    return _decode_pdf_literal(name[1])
            return f"(đối tượng {self.obj[0]} {self.obj[1]})"
        return "(không rõ tên trường)"


def _object_bounds(data: bytes, pos: int) -> tuple[int, int]:
    """Start of the body of the indirect object around ``pos`` and its ``endobj``."""
    start, cursor = 0, pos
    while True:
        i = data.rfind(b"obj", 0, cursor)
        if i < 0:
            break
        if data[i - 3:i] == b"end":  # the previous object's end: we are not inside one
            start = i + 3
            break
        if _OBJ_HEADER.search(data[max(0, i - 24):i]):
            start = i + 3
            break
        cursor = i
    end = data.find(b"endobj", pos)
    return start, len(data) if end < 0 else end


def _object_number(data: bytes, body_start: int) -> tuple[int, int] | None:
    match = _OBJ_HEADER.search(data[max(0, body_start - 27):body_start - 3])
    return (int(match[1]), int(match[2])) if match else None


def _scan_raw_signatures(data: bytes) -> list[_RawSig]:
    """Signature dictionaries straight from the bytes. They are never inside compressed
    object streams (their /Contents must sit in the file for /ByteRange to skip it), so
    the scan sees them all."""
    found, seen = [], set()
    for match in _BYTERANGE.finditer(data):
        try:
            byte_range = tuple(int(v) for v in match[1].split())
        except ValueError:
            continue
        start, end = _object_bounds(data, match.start())
        text = data[start:end]
        contents = _CONTENTS.search(text)
        if contents is None:
            continue
        hex_digits = _WS.sub(b"", contents[1])
        key = (byte_range, hex_digits[:64])
        if key in seen:
            continue
        seen.add(key)
        try:
            raw = binascii.unhexlify(hex_digits + (b"0" if len(hex_digits) % 2 else b""))
        except binascii.Error:
            raw = b""
        kind = _TYPE.search(text)
        found.append(_RawSig(
            byte_range=byte_range, contents=_strip_padding(raw), contents_hex=hex_digits,
            type=kind[1].decode("latin-1") if kind else "Sig",
            obj=_object_number(data, start) if start else None,
            dict_text=_CONTENTS.sub(b"/Contents <>", text)[:8192]))
    found.sort(key=lambda r: sum(r.byte_range[-2:]) if len(r.byte_range) >= 2 else 0)
    return found


def _strip_padding(der: bytes) -> bytes:
    """/Contents is zero-padded after the DER value; asn1crypto wants the value alone."""
    if len(der) < 2 or der[0] != 0x30:
        return der
    length = der[1]
    if length < 0x80:
        total = 2 + length
    else:
        count = length & 0x7F
        if count == 0 or len(der) < 2 + count:  # indefinite length: leave it to the parser
            return der
        total = 2 + count + int.from_bytes(der[2:2 + count], "big")
    return der[:total] if total <= len(der) else der


def _decode_pdf_literal(raw: bytes) -> str:
    out, i = bytearray(), 0
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
    while i < len(raw):
        ch = raw[i:i + 1]
        if ch == b"\\" and i + 1 < len(raw):
            nxt = raw[i + 1:i + 2]
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
            if octal:
                out.append(int(octal[0], 8) & 0xFF)
                i += 1 + len(octal[0])
                continue
            out += escapes.get(nxt, nxt)
            i += 2
            continue
        out += ch
        i += 1
    data = bytes(out)
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
