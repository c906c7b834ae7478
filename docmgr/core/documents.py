"""What incoming and outgoing documents share: their common columns and stored files."""
import unicodedata

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from docmgr.core import catalogue, pdf_risks
from docmgr.core.storage import BlobStore
from docmgr.core.uploads import CheckedPdf
from docmgr.db import Base, UTCDateTime, utcnow

OVER_LIMIT_NOTICE = "Không tạo được bản xem trước: tệp vượt giới hạn xử lý."


class StoredFile(Base):
    """One immutable file (a blob) with what we know about it."""
    __tablename__ = "stored_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    size: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    has_signatures: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)
    # Set when rendering or reading the file crossed a worker's memory or CPU limit
    # ("memory", "cpu", "crash"): it is not previewed, read or OCR'd again.
    over_limit: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # What the upload check accepted but readers must be told (embedded files, an owner
    # password): [{"code": …}, …] as uploads.CheckedPdf.warnings; None for none.
    warnings: Mapped[list | None] = mapped_column(JSON, nullable=True)

    @property
    def preview_notice(self) -> str | None:
        """Why the document page shows no preview of this file (None: it shows one)."""
        return OVER_LIMIT_NOTICE if self.over_limit else None

    @property
    def warning_messages(self) -> list[str]:
        """The warnings as the document page and the JSON API say them."""
        return pdf_risks.warning_messages(self.warnings)

    def warnings_json(self) -> list[dict]:
        return [{"code": w.get("code"), "message": pdf_risks.warning_message(w)}
                for w in self.warnings or () if isinstance(w, dict)]


class DocumentColumns:
    """Columns every document has, whichever register it belongs to."""
    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(Text)  # trích yếu
    notation: Mapped[str] = mapped_column(String(100), default="")  # số, ký hiệu
    doc_date = mapped_column(Date, nullable=True)
    urgency: Mapped[str] = mapped_column(String(20), default="normal")
    secrecy: Mapped[str] = mapped_column(String(20), default="normal")
    # ``status`` is declared by each register's model, with its own set of statuses.
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @declared_attr
    def org_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("organizations.id"))

    @declared_attr
    def file_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("stored_files.id"), nullable=True)

    @property
    def type_name(self) -> str:
        return catalogue.type_name(self.doc_type)

    @property
    def urgency_label(self) -> str:
        return catalogue.URGENCY.get(self.urgency, self.urgency)

    @property
    def secrecy_label(self) -> str:
        return catalogue.SECRECY.get(self.secrecy, self.secrecy)

    @property
    def is_classified(self) -> bool:
        return self.secrecy != "normal"


def store_pdf(session, store: BlobStore, checked: CheckedPdf, *, filename: str, org_id: int,
              user_id: int | None) -> StoredFile:
    """Put the bytes in the blob store, then record them (the row commits after the blob)."""
    digest = store.put(checked.data)
    row = StoredFile(org_id=org_id, sha256=digest, filename=pdf_name(safe_filename(filename)),
                     size=len(checked.data), page_count=checked.page_count,
                     has_signatures=checked.has_signatures, uploaded_by_id=user_id,
                     warnings=list(checked.warnings) or None)
    session.add(row)
    session.flush()
    return row


def safe_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "tai-lieu.pdf"
    return name[:200]


def pdf_name(name: str) -> str:
    """The uploader's name with a .pdf extension: what was stored passed the PDF checks,
    whatever it was called (``hoa-don.html`` with a PDF appended becomes ``hoa-don.pdf``)."""
    if name.lower().endswith(".pdf"):
        return name
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return f"{stem.lstrip('.') or 'tai-lieu'}.pdf"


def normalise_text(value: str) -> str:
    """NFC, single spaces, look-alike Đ fixed: how every typed field is kept."""
    value = unicodedata.normalize("NFC", value or "")
    return " ".join(catalogue.fix_lookalikes(value).split())
