"""Hồ sơ (dossiers) of the yearly danh mục and the documents filed into them."""
from datetime import date

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docmgr.core.auth import Unit, User
from docmgr.core.choices import Choice, column_type
from docmgr.db import Base, UTCDateTime, utcnow


class DossierStatus(Choice):
    OPEN = "open", "Đang lập"  # documents may still be filed into it
    CLOSED = "closed", "Đã đóng"


STATUS_LABELS = DossierStatus.labels()  # the list's status filter
PERMANENT_LABEL = "Vĩnh viễn"
RIGHTS_LABELS = {"public": "Công khai", "restricted": "Hạn chế sử dụng"}
# Closed hồ sơ kept at least this long (or permanently) go to the organisation's archive.
ARCHIVE_MIN_YEARS = 5
DUE_FILTER = f"status = '{DossierStatus.CLOSED}' AND submitted_at IS NULL"


class Dossier(Base):
    """One hồ sơ of an organisation's yearly danh mục hồ sơ."""
    __tablename__ = "dossiers"
    __table_args__ = (
        UniqueConstraint("org_id", "year", "code"),
        CheckConstraint("retention_years IS NULL OR retention_years > 0",
                        name="retention_positive"),
        # The 30-day warning reads only closed, not yet submitted hồ sơ.
        Index("ix_dossiers_archive_due", "org_id", "archive_due",
              postgresql_where=text(DUE_FILTER), sqlite_where=text(DUE_FILTER)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    year: Mapped[int] = mapped_column(Integer)  # FileCatalog
    code: Mapped[str] = mapped_column(String(30))  # số và ký hiệu hồ sơ (FileNotation)
    title: Mapped[str] = mapped_column(String(500))
    # Thời hạn bảo quản in years; NULL is "Vĩnh viễn" (permanent), longer than any number.
    retention_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rights: Mapped[str] = mapped_column(String(20), default="public")  # chế độ sử dụng
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    status: Mapped[DossierStatus] = mapped_column(
        column_type(DossierStatus, column="status", length=10), default=DossierStatus.OPEN)
    start_date = mapped_column(Date, nullable=True)  # earliest filed document's date
    end_date = mapped_column(Date, nullable=True)  # latest filed document's date
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    closed_at = mapped_column(UTCDateTime, nullable=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    archive_due = mapped_column(Date, nullable=True)  # hạn nộp lưu cơ quan
    submitted_at = mapped_column(UTCDateTime, nullable=True)  # nộp lưu cơ quan

    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="raise")
    unit: Mapped[Unit | None] = relationship(lazy="raise")
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id], lazy="raise")

    @property
    def is_open(self) -> bool:
        return self.status == DossierStatus.OPEN

    @property
    def status_label(self) -> str:
        return DossierStatus(self.status).label

    @property
    def permanent(self) -> bool:
        return self.retention_years is None

    @property
    def retention_label(self) -> str:
        return PERMANENT_LABEL if self.permanent else f"{self.retention_years} năm"

    @property
    def maintenance(self) -> str:
        """ND30 Maintenance: a number of years or "Vĩnh viễn"."""
        return PERMANENT_LABEL if self.permanent else str(self.retention_years)

    @property
    def rights_label(self) -> str:
        return RIGHTS_LABELS.get(self.rights, self.rights)

    def archive_state(self, today: date) -> str | None:
        """'overdue' after the due date, 'due_soon' within 30 days of it, else None."""
        if self.archive_due is None or self.submitted_at is not None:
            return None
        if today > self.archive_due:
            return "overdue"
        if (self.archive_due - today).days <= 30:
            return "due_soon"
        return None


class FiledDocument(Base):
    """A document filed into a hồ sơ: exactly one of an incoming or an outgoing document.
    Two nullable foreign keys (not a kind + id pair) keep the database's integrity checks."""
    __tablename__ = "dossier_documents"
    __table_args__ = (
        UniqueConstraint("dossier_id", "incoming_id"),
        UniqueConstraint("dossier_id", "outgoing_id"),
        CheckConstraint("(incoming_id IS NULL) <> (outgoing_id IS NULL)", name="one_document"),
        Index("ix_dossier_documents_incoming", "incoming_id"),
        Index("ix_dossier_documents_outgoing", "outgoing_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    incoming_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"),
                                                    nullable=True)
    outgoing_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"),
                                                    nullable=True)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at = mapped_column(UTCDateTime, default=utcnow)

    @property
    def kind(self) -> str:
        return "incoming" if self.incoming_id is not None else "outgoing"

    @property
    def document_id(self) -> int:
        return self.incoming_id if self.incoming_id is not None else self.outgoing_id
