"""The rules of văn bản đi (ND30 Điều 10–19): draft → review route → signature → issue
with a yearly number and the organisation's signature → dispatch."""
import json
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from docmgr.core import audit, catalogue, clock, numbering
from docmgr.core.auth import Organization, Role, Unit, User, require_role, user_in_org
from docmgr.core.documents import StoredFile, store_pdf
from docmgr.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from docmgr.core.storage import BlobStore
from docmgr.core.uploads import CheckedPdf, require_signable
from docmgr.core.values import (
    NAME_MAX,
    NOTE_MAX,
    SUBJECT_MAX,
    choice,
    parse_date,
    parse_float,
    parse_int,
    text,
)
from docmgr.inbound import operations as inbound
from docmgr.outbound import authority
from docmgr.outbound.models import (
    Attachment,
    DispatchStatus,
    DraftVersion,
    OutgoingDocument,
    OutgoingStatus,
    Recipient,
    ReviewDecision,
    RouteStep,
)
from docmgr.signing import appearance, engine, placement, signer_block
from docmgr.signing import operations as signing
from docmgr.signing.trust import TrustStore
from docmgr.signing.validation import validate_pdf

DRAFTERS = (Role.SPECIALIST, Role.HEAD, Role.LEADER, Role.CLERK)
SIGNERS = (Role.LEADER, Role.HEAD)
# A "Nơi nhận" list names tens of bodies, a circular to every province and ministry a few
# hundred; each becomes a row and, inside the system, a delivery.
RECIPIENTS_MAX = 300
SIGNER_RETURNED = -1  # returned_from value when the signer sent the draft back


@dataclass(frozen=True)
class DraftInput:
    doc_type: str
    subject: str
    signer_id: int
    reviewer_ids: tuple[int, ...] = ()
    recipients: tuple[str, ...] = ()
    urgency: str = "normal"
    secrecy: str = "normal"
    legal_normative: bool = False
    reply_deadline: date | None = None
    copies: int = 1
    extra: dict = field(default_factory=dict)


def _ids(raw, name: str) -> tuple[int, ...]:
    if isinstance(raw, (list, tuple)):
        parts = raw
    else:
        parts = [p for p in str(raw or "").replace(";", ",").split(",") if p.strip()]
    ids = tuple(parse_int(str(p).strip(), name) for p in parts)
    if None in ids:
        raise ValidationFailed("Danh sách người xem xét không hợp lệ.", field=name)
    return ids


def _recipients(raw) -> tuple[str, ...]:
    if isinstance(raw, str):
        listed = raw.strip()
        if listed.startswith("["):
            try:
                raw = json.loads(listed)
            except ValueError:
                raise ValidationFailed("Nơi nhận phải là danh sách JSON.",
                                       field="recipients") from None
        else:
            raw = listed.splitlines()
    if not isinstance(raw, (list, tuple)) or not all(isinstance(r, str) for r in raw):
        raise ValidationFailed("Nơi nhận phải là danh sách tên hoặc mã cơ quan.",
                               field="recipients")
    entries = [r for r in raw if r.strip()]
    if len(entries) > RECIPIENTS_MAX:
        raise ValidationFailed(f"Tối đa {RECIPIENTS_MAX} nơi nhận.", field="recipients")
    names = tuple(dict.fromkeys(
        text(r, "recipients", label="Tên nơi nhận", max_len=NAME_MAX) for r in entries))
    if not names:
        raise ValidationFailed("Vui lòng nhập ít nhất một nơi nhận.", field="recipients")
    return names


def _bool(raw) -> bool:
    return str(raw).strip().lower() in {"1", "true", "yes", "on"} if raw is not None else False


def parse_draft(raw) -> DraftInput:
    doc_type = catalogue.canonical_type(raw.get("doc_type"))
    if doc_type is None:
        raise ValidationFailed("Loại văn bản không có trong danh mục.", field="doc_type")
    subject = text(raw.get("subject"), "subject", label="Trích yếu", max_len=SUBJECT_MAX,
                   required="Vui lòng nhập trích yếu nội dung.")
    signer = _ids(raw.get("signer_id"), "signer_id")
    if len(signer) != 1:
        raise ValidationFailed("Vui lòng chọn người ký.", field="signer_id")
    copies = raw.get("copies") or 1
    try:
        copies = int(copies)
    except (TypeError, ValueError):
        raise ValidationFailed("Số lượng bản phải là số.", field="copies") from None
    return DraftInput(
        doc_type=doc_type, subject=subject, signer_id=signer[0],
        reviewer_ids=_ids(raw.get("reviewer_ids"), "reviewer_ids"),
        recipients=_recipients(raw.get("recipients")),
        urgency=choice(raw.get("urgency"), catalogue.URGENCY, "urgency", "normal"),
        secrecy=choice(raw.get("secrecy"), catalogue.SECRECY, "secrecy", "normal"),
        legal_normative=_bool(raw.get("legal_normative")),
        reply_deadline=parse_date(raw.get("reply_deadline"), "reply_deadline"),
        copies=max(1, min(copies, 999)))


# --- who sees what ------------------------------------------------------------------------

def _broad_clause(user: User):
    """The documents of the organisation a role sees without being involved in them."""
    if user.role == Role.CLERK:
        return OutgoingDocument.status.in_(OutgoingStatus.VISIBLE_TO_CLERKS)
    return and_(OutgoingDocument.status == OutgoingStatus.ISSUED,
                OutgoingDocument.secrecy == "normal")


def _involved_clause(user: User):
    on_route = exists().where(RouteStep.document_id == OutgoingDocument.id,
                              RouteStep.reviewer_id == user.id)
    return or_(OutgoingDocument.author_id == user.id, OutgoingDocument.signer_id == user.id,
               on_route)


def visible_clause(user: User):
    """Drafts are seen by their author, route, signer and leaders; clerks see what is
    signed or issued; everyone in the organisation reads issued unclassified documents."""
    own = OutgoingDocument.org_id == user.org_id
    if user.role == Role.LEADER:
        return own
    return and_(own, or_(_broad_clause(user), _involved_clause(user)))


def count_visible(session, actor: User, *criteria) -> int:
    """The count of visible documents meeting ``criteria``, in two parts so that the large
    one (what the role sees anyway) is a plain indexed count and the involvement test runs
    only over the rest."""
    def count(*where):
        return session.scalar(select(func.count()).select_from(OutgoingDocument).where(
            OutgoingDocument.org_id == actor.org_id, *criteria, *where))
    if actor.role == Role.LEADER:
        return count()
    broad = _broad_clause(actor)
    return count(broad) + count(~broad, _involved_clause(actor))


def _loaders():
    return (joinedload(OutgoingDocument.author), joinedload(OutgoingDocument.signer),
            joinedload(OutgoingDocument.unit), joinedload(OutgoingDocument.file),
            selectinload(OutgoingDocument.versions).joinedload(DraftVersion.file),
            selectinload(OutgoingDocument.versions).joinedload(DraftVersion.uploaded_by),
            selectinload(OutgoingDocument.route).joinedload(RouteStep.reviewer),
            selectinload(OutgoingDocument.recipients).joinedload(Recipient.org),
            selectinload(OutgoingDocument.attachments).joinedload(Attachment.file),
            selectinload(OutgoingDocument.attachments).joinedload(Attachment.signed_file))


# The audit log shows events about classified documents only to who may open them.
audit.seal_documents(OutgoingDocument, "outgoing", visible_clause)


def get_visible(session, actor: User, doc_id: int, *, with_details: bool = False,
                for_update: bool = False) -> OutgoingDocument:
    stmt = select(OutgoingDocument).where(OutgoingDocument.id == doc_id,
                                          visible_clause(actor))
    if with_details:
        stmt = stmt.options(*_loaders())
    if for_update:
        stmt = stmt.with_for_update(of=OutgoingDocument)
    doc = session.scalar(stmt)
    if doc is None:
        raise NotFound("Không tìm thấy văn bản đi hoặc bạn không có quyền xem.")
    return doc


QUEUES = {
    "mine": "Dự thảo của tôi",
    "to_review": "Chờ cho ý kiến",
    "to_sign": "Chờ ký",
    "to_issue": "Chờ phát hành",
    "issued": "Đã phát hành",
}


def _queue_clause(actor: User, queue: str):
    if queue == "mine":
        return and_(OutgoingDocument.author_id == actor.id,
                    OutgoingDocument.status != OutgoingStatus.ISSUED)
    if queue == "to_review":
        return and_(OutgoingDocument.status == OutgoingStatus.IN_REVIEW, exists().where(
            RouteStep.document_id == OutgoingDocument.id,
            RouteStep.position == OutgoingDocument.current_step,
            RouteStep.reviewer_id == actor.id))
    if queue == "to_sign":
        return and_(OutgoingDocument.status == OutgoingStatus.AWAITING_SIGNATURE,
                    OutgoingDocument.signer_id == actor.id)
    if queue == "to_issue":
        return (OutgoingDocument.status == OutgoingStatus.SIGNED
                if actor.role == Role.CLERK else False)
    if queue == "issued":
        return OutgoingDocument.status == OutgoingStatus.ISSUED
    raise ValidationFailed("Hàng đợi không hợp lệ.", field="queue")


def list_documents(session, actor: User, *, queue: str | None = None, status: str | None = None,
                   year: int | None = None, offset: int = 0, limit: int = 20):
    criteria = []
    if queue:
        criteria.append(_queue_clause(actor, queue))
    if status:
        criteria.append(OutgoingDocument.status == status)
    if year:
        criteria.append(OutgoingDocument.year == year)
    stmt = select(OutgoingDocument).where(visible_clause(actor), *criteria)
    total = count_visible(session, actor, *criteria)
    # selectinload, not a join: a join would make the database sort whole joined rows.
    items = session.scalars(stmt.options(selectinload(OutgoingDocument.author),
                                         selectinload(OutgoingDocument.signer))
                            .order_by(OutgoingDocument.updated_at.desc(),
                                      OutgoingDocument.id.desc())
                            .offset(offset).limit(limit)).all()
    return total, items


ACTIONABLE = ("to_review", "to_sign", "to_issue")


def queue_counts(session, actor: User, *, remind_after_hours: int = 24) -> dict:
    """Counts for the dashboard, and ``waiting``: what waits for the actor (to review,
    sign or issue) unchanged for longer than ``remind_after_hours`` — the reminder."""
    def count(*clauses):
        return session.scalar(select(func.count()).select_from(OutgoingDocument)
                              .where(visible_clause(actor), *clauses))
    counts = {}
    for queue in ("mine", *ACTIONABLE):
        clause = _queue_clause(actor, queue)
        counts[queue] = 0 if clause is False else count(clause)
    actionable = [c for c in (_queue_clause(actor, q) for q in ACTIONABLE) if c is not False]
    since = clock.now() - timedelta(hours=remind_after_hours)
    counts["waiting"] = count(or_(*actionable), OutgoingDocument.updated_at < since)
    return counts


def waiting_too_long(doc: OutgoingDocument, remind_after_hours: int = 24) -> bool:
    return (doc.status in OutgoingStatus.AWAITING_ACTION
            and doc.updated_at < clock.now() - timedelta(hours=remind_after_hours))


# --- drafting and review ------------------------------------------------------------------

def create_draft(session, blobs: BlobStore, actor: User, data: DraftInput, upload: CheckedPdf,
                 filename: str, attachments: list[tuple[CheckedPdf, str]] = ()
                 ) -> OutgoingDocument:
    require_role(actor, *DRAFTERS)
    require_signable(upload)
    for attached, _ in attachments:  # signed too when the document is issued
        require_signable(attached, "attachments")
    signer = _signer(session, actor.org_id, data.signer_id,
                     authority.doc_class_of(data.doc_type, data.legal_normative))
    reviewers = [user_in_org(session, actor.org_id, rid) for rid in data.reviewer_ids]
    if len(set(data.reviewer_ids)) != len(data.reviewer_ids):
        raise ValidationFailed("Một người chỉ xem xét một lần trên tuyến.", field="reviewer_ids")
    if actor.id in data.reviewer_ids or signer.id in data.reviewer_ids:
        raise ValidationFailed("Người soạn và người ký không nằm trong danh sách xem xét.",
                               field="reviewer_ids")
    if data.doc_type == "CV" and actor.unit is None:
        raise ValidationFailed("Công văn cần đơn vị soạn thảo; tài khoản chưa thuộc phòng/ban.",
                               field="doc_type")
    stored = store_pdf(session, blobs, upload, filename=filename, org_id=actor.org_id,
                       user_id=actor.id)
    doc = OutgoingDocument(
        org_id=actor.org_id, doc_type=data.doc_type, subject=data.subject, urgency=data.urgency,
        secrecy=data.secrecy, status=OutgoingStatus.DRAFT, author_id=actor.id,
        unit_id=actor.unit_id,
        signer_id=signer.id, legal_normative=data.legal_normative,
        reply_deadline=data.reply_deadline, copies=data.copies, file_id=stored.id)
    session.add(doc)
    session.flush()
    session.add(DraftVersion(document_id=doc.id, number=1, file_id=stored.id,
                             uploaded_by_id=actor.id, uploaded_at=clock.now()))
    for position, reviewer in enumerate(reviewers):
        session.add(RouteStep(document_id=doc.id, position=position, reviewer_id=reviewer.id))
    _add_recipients(session, doc, data.recipients)
    for position, (attached, name) in enumerate(attachments, start=1):
        kept = store_pdf(session, blobs, attached, filename=name, org_id=actor.org_id,
                         user_id=actor.id)
        session.add(Attachment(document_id=doc.id, position=position, file_id=kept.id))
    session.flush()
    audit.record(session, "outgoing.drafted", actor=actor, obj=doc, subject=doc.subject,
                 sha256=stored.sha256, attachments=len(attachments))
    return doc


def _signer(session, org_id: int, signer_id: int, doc_class: str) -> User:
    """The person named to sign, when the organisation's signing authority allows it."""
    signer = user_in_org(session, org_id, signer_id)
    if signer.role not in SIGNERS:
        raise ValidationFailed("Người ký phải là lãnh đạo hoặc trưởng phòng.", field="signer_id")
    authority.permitted(session, org_id, doc_class, signer)
    return signer


def signer_choices(session, actor: User) -> list[User]:
    """Who may be named to sign: leaders and unit heads (the rules decide per document)."""
    return session.scalars(select(User).where(
        User.org_id == actor.org_id, User.active, User.role.in_(SIGNERS))
        .order_by(User.role.desc(), User.full_name)).all()


def draft_choices(session, actor: User) -> tuple[list[User], list[User], list[Organization]]:
    """Who may sign (leaders, heads), who may review (anyone but the author and admins)
    and which other organisations on this system may receive."""
    people = select(User).where(User.org_id == actor.org_id, User.active)
    signers = signer_choices(session, actor)
    reviewers = session.scalars(people.where(User.role != Role.ADMIN, User.id != actor.id)
                                .order_by(User.full_name)).all()
    orgs = session.scalars(select(Organization).where(Organization.id != actor.org_id)
                           .order_by(Organization.name)).all()
    return signers, reviewers, orgs


def _add_recipients(session, doc: OutgoingDocument, names: tuple[str, ...]) -> None:
    orgs = {o.code: o for o in session.scalars(
        select(Organization).where(Organization.code.in_(names)))}
    for name in names:
        org = orgs.get(name)
        if org is not None and org.id == doc.org_id:
            raise ValidationFailed("Nơi nhận không thể là chính cơ quan ban hành.",
                                   field="recipients")
        session.add(Recipient(document_id=doc.id, org_id=org.id if org else None,
                              name=org.name if org else name))


def add_version(session, blobs: BlobStore, actor: User, doc_id: int, upload: CheckedPdf,
                filename: str, note: str = "") -> DraftVersion:
    note = text(note, "note", label="Ghi chú phiên bản", max_len=NOTE_MAX)
    doc = get_visible(session, actor, doc_id, for_update=True)
    if doc.author_id != actor.id:
        raise Forbidden("Chỉ người soạn thảo mới tải lên phiên bản mới.")
    if doc.status not in OutgoingStatus.EDITABLE:
        raise Conflict("Chỉ sửa được dự thảo chưa trình hoặc bị trả lại.", code="invalid_state")
    require_signable(upload)
    stored = store_pdf(session, blobs, upload, filename=filename, org_id=actor.org_id,
                       user_id=actor.id)
    version = DraftVersion(document_id=doc.id, number=current_version_no(session, doc) + 1,
                           file_id=stored.id,
                           uploaded_by_id=actor.id, uploaded_at=clock.now(),
                           note=note)
    session.add(version)
    doc.file_id = stored.id
    session.flush()
    audit.record(session, "outgoing.version_added", actor=actor, obj=doc,
                 version=version.number, sha256=stored.sha256, note=version.note)
    return version


def change_signer(session, actor: User, doc_id: int, signer_id: int) -> OutgoingDocument:
    """The author names another signer while the draft is theirs to edit."""
    doc = get_visible(session, actor, doc_id, for_update=True)
    if doc.author_id != actor.id:
        raise Forbidden("Chỉ người soạn thảo mới đổi được người ký.")
    if doc.status not in OutgoingStatus.EDITABLE:
        raise Conflict("Chỉ đổi được người ký khi dự thảo chưa trình hoặc bị trả lại.",
                       code="invalid_state")
    signer = _signer(session, actor.org_id, signer_id,
                     authority.doc_class_of(doc.doc_type, doc.legal_normative))
    if any(step.reviewer_id == signer.id for step in _steps(session, doc)):
        raise ValidationFailed("Người ký không nằm trong danh sách xem xét.", field="signer_id")
    if signer.id != doc.signer_id:
        previous, doc.signer_id = doc.signer_id, signer.id
        audit.record(session, "outgoing.signer_changed", actor=actor, obj=doc,
                     previous=previous, signer=signer.id, name=signer.full_name)
    return doc


def _steps(session, doc: OutgoingDocument) -> list[RouteStep]:
    return session.scalars(select(RouteStep).where(RouteStep.document_id == doc.id)
                           .order_by(RouteStep.position)).all()


def current_version_no(session, doc: OutgoingDocument) -> int:
    return session.scalar(select(func.max(DraftVersion.number))
                          .where(DraftVersion.document_id == doc.id)) or 0


def not_covering(steps: list[RouteStep], version_no: int) -> list[RouteStep]:
    """The route's steps whose approval does not cover this version: undecided, returned,
    or approved an earlier version. The draft reaches its signer when there are none."""
    return [step for step in steps if not step.approved(version_no)]


def review_state(doc: OutgoingDocument) -> tuple[int, list[RouteStep]]:
    """(the current version's number, the steps still to approve it) of a document
    loaded with its details (versions and route)."""
    version_no = doc.versions[-1].number if doc.versions else 0
    return version_no, not_covering(doc.route, version_no)


def _to_next_step(doc: OutgoingDocument, steps: list[RouteStep], version_no: int) -> None:
    """On to the first reviewer whose approval does not cover the current version —
    after a new version, the first who approved an earlier one — or to the signer."""
    pending = not_covering(steps, version_no)
    if pending:
        doc.status, doc.current_step = OutgoingStatus.IN_REVIEW, pending[0].position
    else:
        doc.status, doc.current_step = OutgoingStatus.AWAITING_SIGNATURE, None


def submit(session, actor: User, doc_id: int) -> OutgoingDocument:
    """Trình: to the first reviewer who has not approved the current version (all of
    them after a new version), or to the signer when every approval covers it."""
    doc = get_visible(session, actor, doc_id, for_update=True)
    if doc.author_id != actor.id:
        raise Forbidden("Chỉ người soạn thảo mới trình được dự thảo.")
    if doc.status not in OutgoingStatus.EDITABLE:
        raise Conflict("Dự thảo đã được trình.", code="invalid_state")
    version_no = current_version_no(session, doc)
    _to_next_step(doc, _steps(session, doc), version_no)
    doc.returned_from = None
    audit.record(session, "outgoing.submitted", actor=actor, obj=doc, status=doc.status,
                 version_no=version_no)
    return doc


def _decision_said(step: RouteStep, reviewer: User) -> str:
    if step.decision == ReviewDecision.APPROVED:
        covered = f"bản {step.version_no}" if step.version_no else "một bản trước"
        return f"{reviewer.full_name} đã duyệt {covered}"
    if step.decision == ReviewDecision.RETURNED:
        return f"{reviewer.full_name} đã trả lại"
    return f"{reviewer.full_name} chưa cho ý kiến"


def _require_approved_route(session, doc: OutgoingDocument, doing: str) -> None:
    """Signing and issuing need every reviewer's approval of the version being signed:
    an approval of an earlier version does not carry over (checked here, not only by
    the route's progress, so that no path — a batch, an API call, older data — skips it)."""
    version_no = current_version_no(session, doc)
    pending = not_covering(_steps(session, doc), version_no)
    if pending:
        said = "; ".join(_decision_said(step, session.get(User, step.reviewer_id))
                         for step in pending)
        raise Conflict(f"Chưa {doing} được: bản dự thảo hiện tại (bản {version_no}) chưa được "
                       f"duyệt đủ trên tuyến trình ({said}). Dự thảo cần được trả lại để "
                       "trình xem xét bản này.", code="approval_outdated")


def _current_step(session, doc: OutgoingDocument, actor: User) -> RouteStep:
    if doc.status != OutgoingStatus.IN_REVIEW or doc.current_step is None:
        raise Conflict("Dự thảo không ở bước xem xét.", code="invalid_state")
    step = session.scalar(select(RouteStep).where(RouteStep.document_id == doc.id,
                                                  RouteStep.position == doc.current_step))
    if step.reviewer_id != actor.id:
        raise Forbidden("Chưa đến lượt bạn xem xét dự thảo này.")
    return step


def approve(session, actor: User, doc_id: int, comment: str = "") -> OutgoingDocument:
    comment = text(comment, "comment", label="Ý kiến", max_len=NOTE_MAX)
    doc = get_visible(session, actor, doc_id, for_update=True)
    step = _current_step(session, doc, actor)
    version_no = current_version_no(session, doc)
    step.decision, step.decided_at, step.comment = ReviewDecision.APPROVED, clock.now(), comment
    step.version_no = version_no
    _to_next_step(doc, _steps(session, doc), version_no)
    audit.record(session, "outgoing.approved", actor=actor, obj=doc, comment=step.comment,
                 step=step.position + 1, version_no=version_no)
    return doc


def return_draft(session, actor: User, doc_id: int, comment: str) -> OutgoingDocument:
    """Trả lại: the current reviewer, or the signer, sends it back to the author."""
    comment = text(comment, "comment", label="Ý kiến", max_len=NOTE_MAX,
                   required="Vui lòng ghi ý kiến khi trả lại dự thảo.")
    doc = get_visible(session, actor, doc_id, for_update=True)
    if doc.status == OutgoingStatus.AWAITING_SIGNATURE:
        if doc.signer_id != actor.id:
            raise Forbidden("Chỉ người ký mới trả lại được dự thảo đang chờ ký.")
        doc.returned_from = SIGNER_RETURNED
    else:
        step = _current_step(session, doc, actor)
        step.decision, step.decided_at, step.comment = ReviewDecision.RETURNED, clock.now(), comment
        step.version_no = current_version_no(session, doc)
        doc.returned_from = step.position
    doc.status, doc.current_step = OutgoingStatus.RETURNED, None
    audit.record(session, "outgoing.returned", actor=actor, obj=doc, comment=comment,
                 version_no=current_version_no(session, doc))
    return doc


# --- signing, issuing, dispatch -----------------------------------------------------------

REASON_PERSONAL = "Người có thẩm quyền ký văn bản"


def reason_issued(notation: str) -> str:
    return f"Cơ quan ký số phát hành văn bản số {notation}"


def reason_attachment(notation: str) -> str:
    return f"Cơ quan ký số tài liệu kèm theo văn bản số {notation}"


def purpose(reason: str, org: Organization) -> engine.Purpose:
    """/Reason and /Location of a signature: the organisation's place (địa danh)."""
    return engine.Purpose(reason=reason, location=org.place or None)


@dataclass(frozen=True)
class Placement:
    """Where the signer wants the signature: page from 1, lower-left corner in points."""
    page: int
    x: float
    y: float


def signature_layout(session, blobs: BlobStore, doc: OutgoingDocument,
                     signer: User) -> placement.Layout:
    """The proposed layout for the current version (shown on the signing page)."""
    current = session.get(StoredFile, doc.file_id)
    return placement.layout_of_blob(str(blobs.path(current.sha256)), signer.full_name)


PLACE_FIELDS = ("page", "x", "y")


def chosen_place(values) -> Placement | None:
    """The place a signer chose, from a form or JSON (``page`` from 1, ``x``/``y`` in
    points, 0 when left out); None when no page is given. A value that is no number is a
    400 naming its field; whether the place is on the page is judged when signing."""
    page = parse_int(values.get("page"), "page")
    if page is None:
        return None
    x = parse_float(values.get("x"), "x", label="Tọa độ x của chữ ký")
    y = parse_float(values.get("y"), "y", label="Tọa độ y của chữ ký")
    return Placement(page=page, x=x or 0.0, y=y or 0.0)


def _personal_box(layout: placement.Layout, chosen: Placement | None) -> placement.Box:
    if chosen is None:
        return layout.personal
    if not 1 <= chosen.page <= len(layout.page_sizes):
        raise ValidationFailed("Trang đặt chữ ký không tồn tại.", field="page")
    width, height = layout.page_sizes[chosen.page - 1]
    # The corner must be on the page (the page's own drag never leaves it); a box that
    # would stick out past the right or top edge is then moved back inside.
    for name, value, size, side in (("x", chosen.x, width, "ngang"),
                                    ("y", chosen.y, height, "dọc")):
        if not (math.isfinite(value) and 0 <= value <= size):
            raise ValidationFailed(f"Tọa độ {name} của chữ ký phải từ 0 đến {size:g} "
                                   f"(chiều {side} của trang).", field=name)
    x = min(max(chosen.x, 0), width - placement.SIGNATURE_W)
    y = min(max(chosen.y, 0), height - placement.SIGNATURE_H)
    return placement.Box(chosen.page - 1, x, y, x + placement.SIGNATURE_W,
                         y + placement.SIGNATURE_H)


def _require_signer(doc: OutgoingDocument, actor: User) -> None:
    if doc.signer_id != actor.id:
        raise Forbidden("Chỉ người ký được chỉ định mới ký được văn bản này.")
    if doc.status != OutgoingStatus.AWAITING_SIGNATURE:
        raise Conflict("Văn bản không ở trạng thái chờ ký.", code="invalid_state")


def stated_authority(blobs: BlobStore, current: StoredFile, signer: User):
    """The capacity (KT., TL. ...) the draft's signer block states; None without a block."""
    return authority.stated_authority(
        signer_block.lines_of_blob(str(blobs.path(current.sha256)), signer.full_name))


def _require_authority(session, blobs: BlobStore, doc: OutgoingDocument, signer: User):
    """The signer may still sign this document (the rules and the signer's position may
    have changed since the draft named them) in the capacity its signer block states."""
    stated = stated_authority(blobs, session.get(StoredFile, doc.file_id), signer)
    authority.check_block(session, doc.org_id,
                          authority.doc_class_of(doc.doc_type, doc.legal_normative),
                          signer, stated)
    return stated


def signing_obstacle(session, blobs: BlobStore, doc: OutgoingDocument,
                     signer: User) -> str | None:
    """Why the signer could not sign this document now, said on the signing page before
    the PIN is typed; None when nothing stands in the way."""
    try:
        _require_approved_route(session, doc, "ký")
        _require_authority(session, blobs, doc, signer)
    except DomainError as exc:
        return exc.message
    return None


def sign(session, blobs: BlobStore, actor: User, doc_id: int, pin: str, *,
         chosen: Placement | None = None, credential=None, timestamper=None,
         trust: TrustStore | None = None) -> OutgoingDocument:
    """Ký số: the signer's visible personal signature, an approval whose field lock leaves
    only the number, the date and the organisation's signature open for issuing.

    ``credential`` lets a batch unlock the key once; otherwise the PIN unlocks it here.
    """
    doc = get_visible(session, actor, doc_id, for_update=True)
    _require_signer(doc, actor)
    _require_approved_route(session, doc, "ký")
    stated = _require_authority(session, blobs, doc, actor)
    if credential is None:
        credential = signing.unlock(session, signing.active_key(
            session, org_id=actor.org_id, user_id=actor.id), pin, actor)
    current = session.get(StoredFile, doc.file_id)
    pdf = blobs.get(current.sha256)
    layout = placement.layout_of_blob(str(blobs.path(current.sha256)), actor.full_name)
    personal = _personal_box(layout, chosen)
    diameter = signing.seal_diameter_mm(session, doc.org_id) * appearance.MM
    personal, _ = engine.place_block(personal, diameter)
    prepared = engine.prepare(pdf, personal, seal_diameter_pt=diameter, number=layout.number,
                              date=layout.date)
    org = session.get(Organization, doc.org_id)
    signed = engine.sign_personal(prepared, credential,
                                  signing.signature_picture(session, blobs, actor),
                                  purpose=purpose(REASON_PERSONAL, org),
                                  timestamper=timestamper)
    stored = _store_signed(session, blobs, doc, signed, actor, "da-ky")
    doc.signed_file_id, doc.signed_at, doc.status = stored.id, clock.now(), OutgoingStatus.SIGNED
    doc.signature_box = personal.as_dict()
    doc.signer_authority = stated
    doc.signature_report = validate_pdf(signed, trust).to_dict()
    audit.record(session, "outgoing.signed", actor=actor, obj=doc, sha256=stored.sha256,
                 certificate=credential.certificate.subject.native.get("common_name"),
                 authority=stated)
    return doc


@dataclass
class BatchResult:
    id: int
    ok: bool
    subject: str = ""
    error: str = ""


def sign_batch(session, blobs: BlobStore, actor: User, doc_ids: list, pin: str, *,
               limit: int, timestamper=None, trust: TrustStore | None = None
               ) -> list[BatchResult]:
    """Sign several documents with one PIN entry. The key is unlocked once; each document
    is signed in its own savepoint, so one refusal leaves the others signed.

    ``doc_ids`` as sent (a form's values, a JSON list): at most ``limit`` of them, checked
    before anything is parsed or the PIN tried, so an oversized batch costs nothing."""
    if not isinstance(doc_ids, list):  # a string would be signed digit by digit
        raise ValidationFailed("Danh sách văn bản cần ký phải là một danh sách mã số.",
                               field="ids")
    if not doc_ids:
        raise ValidationFailed("Chọn ít nhất một văn bản để ký.", field="ids")
    if len(doc_ids) > limit:
        raise ValidationFailed(f"Mỗi lần ký tối đa {limit} văn bản (đã chọn "
                               f"{len(doc_ids)}); hãy chọn bớt.", field="ids")
    doc_ids = list(dict.fromkeys(parse_int(raw, "ids") for raw in doc_ids))
    credential = signing.unlock(session, signing.active_key(
        session, org_id=actor.org_id, user_id=actor.id), pin, actor)
    results = []
    for doc_id in doc_ids:
        savepoint = session.begin_nested()
        try:
            doc = sign(session, blobs, actor, doc_id, pin, credential=credential,
                       timestamper=timestamper, trust=trust)
        except DomainError as exc:  # the engine's SigningError is one too
            savepoint.rollback()
            results.append(BatchResult(doc_id, False, error=exc.message))
        else:
            savepoint.commit()
            results.append(BatchResult(doc_id, True, subject=doc.subject))
    return results


def _store_signed(session, blobs, doc, data: bytes, actor: User, suffix: str) -> StoredFile:
    # A signature adds a revision; what the draft embeds stays, and so do its warnings.
    draft = session.get(StoredFile, doc.file_id)
    digest = blobs.put(data)
    stored = StoredFile(org_id=doc.org_id, sha256=digest, filename=f"van-ban-{doc.id}-{suffix}"
                        ".pdf", size=len(data), page_count=draft.page_count, has_signatures=True,
                        uploaded_by_id=actor.id, warnings=draft.warnings)
    session.add(stored)
    session.flush()
    return stored


def register_for(doc: OutgoingDocument) -> str:
    """ND30: classified documents and legal normative documents (per type) have their own
    sequences; everything else shares the organisation's one outgoing sequence."""
    if doc.secrecy != "normal":
        return "outgoing-classified"
    if doc.legal_normative:
        return f"outgoing-legal-{doc.doc_type}"
    return "outgoing"


def compose_notation(doc: OutgoingDocument, org: Organization, unit_abbr: str | None,
                     number: int, year: int) -> str:
    """Số, ký hiệu per ND30: 05/QĐ-UBND, 8235/VP-HC (công văn), 55/2021/QĐ-UBND."""
    shown = f"{number:02d}"
    abbr = catalogue.DOC_TYPES[doc.doc_type][1]
    if abbr is None:  # công văn, thư công: issuing body - drafting unit
        return f"{shown}/{org.abbr}-{unit_abbr}" if unit_abbr else f"{shown}/{org.abbr}"
    if doc.legal_normative:
        return f"{shown}/{year}/{abbr}-{org.abbr}"
    return f"{shown}/{abbr}-{org.abbr}"


def date_line(place: str, day: date) -> str:
    """ND30: "Quảng Ngãi, ngày 05 tháng 01 năm 2020" (day < 10, months 1-2 padded)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    prefix = f"{place}, " if place else ""
    return f"{prefix}ngày {day.day:02d} tháng {month} năm {day.year}"


def issue(session, blobs: BlobStore, actor: User, doc_id: int, pin: str, *,
          timestamper=None, trust: TrustStore | None = None) -> OutgoingDocument:
    """Phát hành, in one transaction: number, notation, date, the organisation's
    signature, the register and dispatch. Any failure rolls all of it back, the number
    included."""
    require_role(actor, Role.CLERK)
    doc = get_visible(session, actor, doc_id, for_update=True)
    if doc.status != OutgoingStatus.SIGNED:
        raise Conflict("Chỉ phát hành được văn bản đã được ký.", code="invalid_state")
    _require_approved_route(session, doc, "phát hành")
    # The rules may have changed since signing: the capacity recorded then must still fit.
    authority.check_block(session, doc.org_id,
                          authority.doc_class_of(doc.doc_type, doc.legal_normative),
                          session.get(User, doc.signer_id), doc.signer_authority)
    credential = signing.unlock(session, signing.active_key(session, org_id=actor.org_id,
                                                            user_id=None), pin, actor)
    seal_picture, _ = signing.seal_picture(session, blobs, actor.org_id)
    org = session.get(Organization, doc.org_id)
    unit_abbr = session.get(Unit, doc.unit_id).abbr if doc.unit_id else None
    signed = blobs.get(session.get(StoredFile, doc.signed_file_id).sha256)
    moment = clock.now()
    day = clock.local(moment).date()
    register = register_for(doc)
    number = numbering.allocate(session, doc.org_id, register, day.year)
    notation = compose_notation(doc, org, unit_abbr, number, day.year)
    present = engine.field_names(signed)
    values = {name: value for name, value in ((engine.FIELD_NUMBER, notation),
                                              (engine.FIELD_DATE, date_line(org.place, day)))
              if name in present}
    final = engine.fill_and_seal(signed, credential, seal_picture, values,
                                 purpose=purpose(reason_issued(notation), org),
                                 timestamper=timestamper)
    stored = _store_signed(session, blobs, doc, final, actor, "phat-hanh")
    _sign_attachments(session, blobs, doc, credential, notation, moment, actor, timestamper,
                      purpose(reason_attachment(notation), org))
    doc.status = OutgoingStatus.ISSUED
    doc.register, doc.year, doc.number = register, day.year, number
    doc.notation, doc.doc_date, doc.issued_at, doc.issued_by_id = notation, day, moment, actor.id
    doc.signed_file_id = stored.id
    doc.signature_report = validate_pdf(final, trust).to_dict()
    _dispatch(session, doc, org, stored)
    audit.record(session, "outgoing.issued", actor=actor, obj=doc, number=number,
                 notation=notation, register=register, sha256=stored.sha256)
    return doc


def _sign_attachments(session, blobs, doc, credential, notation: str, moment, actor,
                      timestamper, why: engine.Purpose) -> None:
    """ND30 Phụ lục I: an attachment in a separate file carries the organisation's
    signature as text at the top right of page 1 — the main document's số, ký hiệu and
    the signing time (ISO 8601, +07:00)."""
    stamp = [notation, clock.local(moment).isoformat(timespec="seconds")]
    for attachment in session.scalars(select(Attachment).where(
            Attachment.document_id == doc.id).order_by(Attachment.position)):
        original = session.get(StoredFile, attachment.file_id)
        signed = engine.sign_text(blobs.get(original.sha256), credential, stamp, purpose=why,
                                  timestamper=timestamper)
        digest = blobs.put(signed)
        kept = StoredFile(org_id=doc.org_id, sha256=digest, filename=original.filename,
                          size=len(signed), page_count=original.page_count,
                          has_signatures=True, uploaded_by_id=actor.id,
                          warnings=original.warnings)
        session.add(kept)
        session.flush()
        attachment.signed_file_id = kept.id


def attachment_file(session, actor: User, doc_id: int, attachment_id: int) -> StoredFile:
    """An attachment of a visible document: the signed file once issued, else the draft."""
    doc = get_visible(session, actor, doc_id)
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.document_id != doc.id:
        raise NotFound("Không tìm thấy tài liệu kèm theo.")
    return session.get(StoredFile, attachment.signed_file_id or attachment.file_id)


def attachment_name(session, doc_id: int, attachment_id: int) -> tuple[str, str]:
    """(name, fallback) of an attachment's download, once ``attachment_file`` allowed it:
    the document's notation and the attachment's place (tài liệu kèm theo 1, 2...)."""
    doc = session.get(OutgoingDocument, doc_id)
    position = session.get(Attachment, attachment_id).position
    name = f"{doc.notation}-phu-luc-{position}" if doc.notation else ""
    return name, f"van-ban-di-{doc_id}-phu-luc-{position}"


def _dispatch(session, doc: OutgoingDocument, org: Organization, stored: StoredFile) -> None:
    """Internal recipients receive the signed file in their incoming queue at once;
    classified documents never travel over the electronic interchange."""
    moment = clock.now()
    for recipient in session.scalars(select(Recipient).where(Recipient.document_id == doc.id)):
        recipient.sent_at = moment
        if recipient.org_id is None or doc.secrecy != "normal":
            continue
        incoming = inbound.receive_dispatched(session, recipient.org_id, inbound.Dispatched(
            sender=org.name, notation=doc.notation, doc_date=doc.doc_date,
            doc_type=doc.doc_type, subject=doc.subject, urgency=doc.urgency,
            due_date=doc.reply_deadline, sha256=stored.sha256,
            filename=f"{doc.notation.replace('/', '-')}.pdf", size=stored.size,
            page_count=stored.page_count, signature_check=doc.signature_report,
            warnings=stored.warnings))
        recipient.incoming_id = incoming.id


def dispatch_status(session, doc: OutgoingDocument) -> list[dict]:
    """Each recipient with its status, read live from the recipient's incoming document."""
    recipients = session.scalars(select(Recipient).where(Recipient.document_id == doc.id)
                                 .order_by(Recipient.id)).all()
    live = inbound.statuses(session, [r.incoming_id for r in recipients if r.incoming_id])
    rows = []
    for recipient in recipients:
        status, reason = DispatchStatus.SENT, ""
        if recipient.incoming_id:
            incoming, reason = live[recipient.incoming_id]
            status = DispatchStatus.of_incoming(incoming)
        elif recipient.sent_at is None:
            status = DispatchStatus.NOT_SENT
        rows.append({"name": recipient.name, "internal": recipient.org_id is not None,
                     "status": status, "reason": reason,
                     "sent_at": recipient.sent_at})
    return rows


def allowed_actions(actor: User, doc: OutgoingDocument, current_reviewer_id: int | None) -> set:
    actions = set()
    if doc.author_id == actor.id and doc.status in OutgoingStatus.EDITABLE:
        actions |= {"new_version", "submit", "change_signer"}
    if doc.status == OutgoingStatus.IN_REVIEW and current_reviewer_id == actor.id:
        actions |= {"approve", "return"}
    if doc.status == OutgoingStatus.AWAITING_SIGNATURE and doc.signer_id == actor.id:
        actions.add("return")
        if not review_state(doc)[1]:  # a stale approval: the signer can only send it back
            actions.add("sign")
    if doc.status == OutgoingStatus.SIGNED and actor.role == Role.CLERK:
        actions.add("issue")
    return actions


def timeline(session, doc: OutgoingDocument) -> list[audit.AuditEvent]:
    return session.scalars(select(audit.AuditEvent).where(
        audit.AuditEvent.object_type == OutgoingDocument.__tablename__,
        audit.AuditEvent.object_id == str(doc.id)).order_by(audit.AuditEvent.id)).all()
