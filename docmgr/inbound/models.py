"""Incoming documents and their assignments."""
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docmgr.core.auth import Unit, User
from docmgr.core.choices import Choice, column_type, group, sql_in
from docmgr.core.documents import DocumentColumns, StoredFile
from docmgr.db import Base, UTCDateTime, utcnow


class IncomingStatus(Choice):
    """Where a văn bản đến is in its flow."""
    PENDING = "pending", "Chờ tiếp nhận"  # sent by an organisation on this system, no số đến
    REGISTERED = "registered", "Đã vào sổ"
    ASSIGNED = "assigned", "Đã chuyển xử lý"
    IN_PROGRESS = "in_progress", "Đang xử lý"
    COMPLETED = "completed", "Hoàn thành"
    REJECTED = "rejected", "Đã trả lại"  # a pending document returned to its sender

    # Registered and not yet handled: the work queues, distribution, deadlines, "overdue".
    OPEN = group(REGISTERED, ASSIGNED, IN_PROGRESS)
    # A main handler has it: it may be started or completed.
    IN_HAND = group(ASSIGNED, IN_PROGRESS)
    # In the sổ đến (it has a số đến): searchable, and may be filed into a hồ sơ.
    IN_REGISTER = group(REGISTERED, ASSIGNED, IN_PROGRESS, COMPLETED)


class AssignmentRole(Choice):
    MAIN = "main", "Xử lý chính"
    COOPERATE = "cooperate", "Phối hợp"
    INFO = "info", "Nhận để biết"

    # Roles that make the document part of someone's work ("văn bản của tôi").
    HANDLING = group(MAIN, COOPERATE)


STATUS_LABELS = IncomingStatus.labels()  # the list's status filter
OPEN_FILTER = sql_in("status", IncomingStatus.OPEN)
MAIN_FILTER = f"active AND role = '{AssignmentRole.MAIN}'"


class IncomingDocument(DocumentColumns, Base):
    __tablename__ = "incoming_documents"
    __table_args__ = (
        UniqueConstraint("org_id", "arrival_year", "arrival_number"),
        Index("ix_incoming_duplicate", "org_id", "sender_key", "notation_key", "doc_date"),
        Index("ix_incoming_status_deadline", "org_id", "status", "deadline"),
        Index("ix_incoming_org_created", "org_id", "created_at"),
        Index("ix_incoming_org_arrival_date", "org_id", "arrival_date"),
        Index("ix_incoming_org_year_secrecy", "org_id", "arrival_year", "secrecy"),
        Index("ix_incoming_classified", "org_id", "arrival_year",
              postgresql_where=text("secrecy <> 'normal'"),
              sqlite_where=text("secrecy <> 'normal'")),
        Index("ix_incoming_open", "org_id", "arrival_year", "arrival_number",
              postgresql_where=text(OPEN_FILTER), sqlite_where=text(OPEN_FILTER)),
    )

    status: Mapped[IncomingStatus] = mapped_column(
        column_type(IncomingStatus, column="status", length=20))
    arrival_year: Mapped[int] = mapped_column(Integer)
    arrival_number: Mapped[int | None] = mapped_column(Integer, nullable=True)  # số đến
    arrival_date = mapped_column(Date, nullable=True)
    sender: Mapped[str] = mapped_column(String(255))  # tác giả / cơ quan ban hành
    sender_key: Mapped[str] = mapped_column(String(255))
    notation_key: Mapped[str] = mapped_column(String(100))
    received_via: Mapped[str] = mapped_column(String(20), default="electronic")
    due_date = mapped_column(Date, nullable=True)  # hạn giải quyết stated on registration
    deadline = mapped_column(Date, nullable=True)  # current handling deadline
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    registered_at = mapped_column(UTCDateTime, nullable=True)
    completed_at = mapped_column(UTCDateTime, nullable=True)
    completion_note: Mapped[str] = mapped_column(Text, default="")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    signature_check: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    file: Mapped[StoredFile | None] = relationship(lazy="raise")
    registered_by: Mapped[User | None] = relationship(lazy="raise")
    assignments: Mapped[list["Assignment"]] = relationship(
        back_populates="document", lazy="raise", order_by="Assignment.id")


class Assignment(Base):
    """Who handles a document: a unit or a person, as main handler, cooperating or informed."""
    __tablename__ = "incoming_assignments"
    __table_args__ = (
        Index("ix_assign_user_active", "user_id", "active"),
        Index("ix_assign_unit_active", "unit_id", "active"),
        Index("ix_assign_user_document", "user_id", "document_id", "role",
              postgresql_where=text("active"), sqlite_where=text("active")),
        Index("ix_assign_unit_document", "unit_id", "document_id", "role",
              postgresql_where=text("active"), sqlite_where=text("active")),
        # Statistics by unit and handler join each document to its current main handler.
        Index("ix_assign_main_document", "document_id", "unit_id", "user_id",
              postgresql_where=text(MAIN_FILTER), sqlite_where=text(MAIN_FILTER)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("incoming_documents.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    role: Mapped[AssignmentRole] = mapped_column(
        column_type(AssignmentRole, column="role", length=20))
    deadline = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")  # ý kiến chỉ đạo
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    document: Mapped[IncomingDocument] = relationship(back_populates="assignments", lazy="raise")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="raise")
    unit: Mapped[Unit | None] = relationship(lazy="raise")
    assigned_by: Mapped[User] = relationship(foreign_keys=[assigned_by_id], lazy="raise")

    @property
    def assignee_name(self) -> str:
        return self.user.full_name if self.user_id else self.unit.name
