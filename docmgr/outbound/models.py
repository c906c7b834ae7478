"""Outgoing documents: the draft and its versions, its review route and its recipients."""
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

from docmgr.core.auth import Organization, Unit, User
from docmgr.core.choices import Choice, column_type, group
from docmgr.core.documents import DocumentColumns, StoredFile
from docmgr.db import Base, UTCDateTime, utcnow
from docmgr.inbound.models import IncomingStatus


class OutgoingStatus(Choice):
    """Where a văn bản đi is, from its first draft to its issue."""
    DRAFT = "draft", "Dự thảo"
    IN_REVIEW = "in_review", "Đang xem xét"
    RETURNED = "returned", "Bị trả lại"
    AWAITING_SIGNATURE = "awaiting_signature", "Chờ ký"
    SIGNED = "signed", "Đã ký, chờ phát hành"
    ISSUED = "issued", "Đã phát hành"

    # The author may upload a new version and submit it.
    EDITABLE = group(DRAFT, RETURNED)
    # Waiting for a reviewer, the signer or the clerk: the reminders count how long.
    AWAITING_ACTION = group(IN_REVIEW, AWAITING_SIGNATURE, SIGNED)
    # Signed by the competent person: from here on it is the văn thư's (issue, dispatch).
    VISIBLE_TO_CLERKS = group(SIGNED, ISSUED)
    # In the sổ văn bản đi (it has its number): searchable, and may be filed into a hồ sơ.
    IN_REGISTER = group(ISSUED)


class ReviewDecision(Choice):
    """A reviewer's latest decision on the route (NULL while undecided)."""
    APPROVED = "approved", "Đồng ý"
    RETURNED = "returned", "Trả lại"


class SignerKind(Choice):
    """Who signs, as the signing-authority rules tell signers apart (ND30 Điều 13)."""
    HEAD = "head", "Người đứng đầu cơ quan"
    DEPUTY = "deputy", "Cấp phó của người đứng đầu"
    UNIT_HEAD = "unit_head", "Trưởng đơn vị thuộc cơ quan"


class Authority(Choice):
    """In what capacity a person signs: the prefix of the signer block's first line
    ("quyền hạn, chức vụ của người ký", ND30 Phụ lục I)."""
    NONE = "none", "Ký trực tiếp"
    TM = "TM", "TM. (thay mặt tập thể)"
    KT = "KT", "KT. (ký thay)"
    Q = "Q", "Q. (quyền)"
    TL = "TL", "TL. (thừa lệnh)"
    TUQ = "TUQ", "TUQ. (thừa ủy quyền)"


class DispatchStatus(Choice):
    """Where one recipient's copy is, as its sender follows it. Not stored: read live from
    the recipient's incoming document, whose statuses it repeats in the sender's words."""
    NOT_SENT = "draft", "Chưa gửi"
    SENT = "sent", "Đã gửi"  # delivered outside this system (or classified: never online)
    RECEIVED = "received", "Đã đến"  # pending in the recipient's queue
    REGISTERED = "registered", "Đã vào sổ"
    ASSIGNED = "assigned", "Đã phân công"
    IN_PROGRESS = "in_progress", "Đang xử lý"
    COMPLETED = "completed", "Hoàn thành"
    REJECTED = "rejected", "Từ chối"

    @classmethod
    def of_incoming(cls, status: IncomingStatus) -> "DispatchStatus":
        return cls.RECEIVED if status == IncomingStatus.PENDING else cls(status)


STATUS_LABELS = OutgoingStatus.labels()  # the list's status filter
RECIPIENT_LABELS = DispatchStatus.labels()
DECISION_LABELS = ReviewDecision.labels()
# Issued documents whose signatures the issuing step could not confirm valid (rare): the
# statistics count them from this small partial index instead of parsing every report.
UNCONFIRMED = {
    "postgresql": f"status = '{OutgoingStatus.ISSUED}' AND (signed_file_id IS NULL OR "
                  "(signature_report ->> 'verdict') IS DISTINCT FROM 'valid')",
    "sqlite": f"status = '{OutgoingStatus.ISSUED}' AND (signed_file_id IS NULL OR "
              "json_extract(signature_report, '$.verdict') IS NOT 'valid')",
}


class OutgoingDocument(DocumentColumns, Base):
    """A văn bản đi from its first draft to its issue; the id stays the same throughout."""
    __tablename__ = "outgoing_documents"
    __table_args__ = (
        UniqueConstraint("org_id", "register", "year", "number"),
        Index("ix_outgoing_org_status", "org_id", "status"),
        Index("ix_outgoing_org_issued", "org_id", "year", "number"),
        Index("ix_outgoing_org_status_date", "org_id", "status", "doc_date"),  # statistics
        Index("ix_outgoing_org_updated", "org_id", "updated_at", "id"),  # the list's order
        Index("ix_outgoing_unconfirmed", "org_id", "doc_date",
              postgresql_where=text(UNCONFIRMED["postgresql"]),
              sqlite_where=text(UNCONFIRMED["sqlite"])),
    )

    status: Mapped[OutgoingStatus] = mapped_column(
        column_type(OutgoingStatus, column="status", length=20))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))  # drafting unit
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    legal_normative: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_deadline = mapped_column(Date, nullable=True)
    current_step: Mapped[int | None] = mapped_column(Integer, nullable=True)  # route position
    returned_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    signature_box: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    signed_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    signed_at = mapped_column(UTCDateTime, nullable=True)
    register: Mapped[str | None] = mapped_column(String(40), nullable=True)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issued_at = mapped_column(UTCDateTime, nullable=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signature_report: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    copies: Mapped[int] = mapped_column(Integer, default=1)  # số lượng bản
    # The capacity the signer block of the signed draft states (KT., TL. ...), checked
    # against the rules when signing; NULL before signing or when no block was found.
    signer_authority: Mapped[Authority | None] = mapped_column(
        column_type(Authority, column="signer_authority", length=10), nullable=True)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="raise")
    signer: Mapped[User] = relationship(foreign_keys=[signer_id], lazy="raise")
    unit: Mapped[Unit | None] = relationship(lazy="raise")
    file: Mapped[StoredFile | None] = relationship(foreign_keys="OutgoingDocument.file_id",
                                                   lazy="raise")
    versions: Mapped[list["DraftVersion"]] = relationship(
        back_populates="document", lazy="raise", order_by="DraftVersion.number")
    route: Mapped[list["RouteStep"]] = relationship(
        back_populates="document", lazy="raise", order_by="RouteStep.position")
    recipients: Mapped[list["Recipient"]] = relationship(
        back_populates="document", lazy="raise", order_by="Recipient.id")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="document", lazy="raise", order_by="Attachment.position")


class DraftVersion(Base):
    __tablename__ = "outgoing_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("outgoing_documents.id"))
    number: Mapped[int] = mapped_column(Integer)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    document: Mapped[OutgoingDocument] = relationship(back_populates="versions", lazy="raise")
    file: Mapped[StoredFile] = relationship(lazy="raise")
    uploaded_by: Mapped[User] = relationship(lazy="raise")


class RouteStep(Base):
    """One reviewer on the route, in order. Decisions and comments over time are in the
    audit log (the timeline); the step keeps only its latest decision."""
    __tablename__ = "outgoing_route"
    __table_args__ = (UniqueConstraint("document_id", "position"),
                      Index("ix_route_reviewer", "reviewer_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("outgoing_documents.id"))
    position: Mapped[int] = mapped_column(Integer)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[ReviewDecision | None] = mapped_column(
        column_type(ReviewDecision, column="decision", length=20), nullable=True)
    decided_at = mapped_column(UTCDateTime, nullable=True)
    # The draft version (DraftVersion.number) the decision was about: an approval covers
    # that version only, a new version has to be approved again.
    version_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")

    document: Mapped[OutgoingDocument] = relationship(back_populates="route", lazy="raise")

    def approved(self, version_no: int) -> bool:
        return self.decision == ReviewDecision.APPROVED and self.version_no == version_no
    reviewer: Mapped[User] = relationship(lazy="raise")


class Recipient(Base):
    """Nơi nhận: an organisation on this system (delivered as a pending incoming document)
    or an external name. The internal status is read from the incoming document."""
    __tablename__ = "outgoing_recipients"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("outgoing_documents.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(255))
    incoming_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    sent_at = mapped_column(UTCDateTime, nullable=True)

    document: Mapped[OutgoingDocument] = relationship(back_populates="recipients", lazy="raise")
    org: Mapped[Organization | None] = relationship(lazy="raise")


class Attachment(Base):
    """A file that travels with the document but is not part of its PDF (tài liệu kèm
    theo). At issue it gets the organisation's text-only signature (ND30 Phụ lục I)."""
    __tablename__ = "outgoing_attachments"
    __table_args__ = (UniqueConstraint("document_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("outgoing_documents.id"))
    position: Mapped[int] = mapped_column(Integer)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    signed_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))

    document: Mapped[OutgoingDocument] = relationship(back_populates="attachments",
                                                      lazy="raise")
    file: Mapped[StoredFile] = relationship(foreign_keys=[file_id], lazy="raise")
    signed_file: Mapped[StoredFile | None] = relationship(foreign_keys=[signed_file_id],
                                                          lazy="raise")


class SigningAuthority(Base):
    """One line of an organisation's thẩm quyền ký: for a class of documents (a catalogue
    type, or every văn bản quy phạm pháp luật), whether a kind of signer may sign in a
    capacity. Seeded with ND30's defaults; a capacity an organisation must decide on
    (TL., TUQ., Q.) is a row with ``allowed`` false until it does."""
    __tablename__ = "signing_authorities"
    __table_args__ = (UniqueConstraint("org_id", "doc_class", "signer", "authority"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    doc_class: Mapped[str] = mapped_column(String(20))  # a catalogue code or "legal_normative"
    signer: Mapped[SignerKind] = mapped_column(column_type(SignerKind, column="signer",
                                                           length=20))
    authority: Mapped[Authority] = mapped_column(column_type(Authority, column="authority",
                                                             length=10))
    allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
