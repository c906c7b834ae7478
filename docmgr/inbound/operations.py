"""The rules of văn bản đến. Functions take a session and plain values, never ``request``."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from docmgr.core import audit, catalogue, clock, numbering
from docmgr.core.auth import Role, Unit, User, require_role, unit_in_org, user_in_org
from docmgr.core.documents import StoredFile, normalise_text, store_pdf
from docmgr.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from docmgr.core.storage import BlobStore
from docmgr.core.uploads import CheckedPdf
from docmgr.core.values import (
    NAME_MAX,
    NOTATION_MAX,
    NOTE_MAX,
    REASON_MAX,
    SUBJECT_MAX,
    choice,
    parse_date,
    text,
)
from docmgr.inbound.models import Assignment, AssignmentRole, IncomingDocument, IncomingStatus
from docmgr.signing.trust import TrustStore
from docmgr.signing.validation import validate_upload

REGISTER = "incoming"
DISTRIBUTORS = (Role.LEADER, Role.HEAD, Role.CLERK)


@dataclass(frozen=True)
class Registration:
    sender: str
    notation: str
    doc_date: date
    doc_type: str
    subject: str
    urgency: str = "normal"
    secrecy: str = "normal"
    due_date: date | None = None
    received_via: str = "electronic"


def parse_registration(raw) -> Registration:
    """Check what a clerk typed; raise ValidationFailed naming the first wrong field."""
    sender = text(raw.get("sender"), "sender", label="Tên cơ quan ban hành", max_len=NAME_MAX,
                  required="Vui lòng nhập cơ quan ban hành (tác giả).")
    notation = text(raw.get("notation"), "notation", label="Số, ký hiệu", max_len=NOTATION_MAX,
                    required="Vui lòng nhập số, ký hiệu của văn bản.")
    subject = text(raw.get("subject"), "subject", label="Trích yếu", max_len=SUBJECT_MAX,
                   required="Vui lòng nhập trích yếu nội dung.")
    doc_type = catalogue.canonical_type(raw.get("doc_type"))
    if doc_type is None:
        raise ValidationFailed("Loại văn bản không có trong danh mục.", field="doc_type")
    doc_date = parse_date(raw.get("doc_date"), "doc_date", required=True)
    if doc_date > clock.today():
        raise ValidationFailed("Ngày văn bản không thể sau hôm nay.", field="doc_date")
    due_date = parse_date(raw.get("due_date"), "due_date")
    if due_date and due_date < doc_date:
        raise ValidationFailed("Hạn giải quyết không thể trước ngày văn bản.", field="due_date")
    return Registration(
        sender=sender, notation=notation, doc_date=doc_date, doc_type=doc_type, subject=subject,
        urgency=choice(raw.get("urgency"), catalogue.URGENCY, "urgency", "normal"),
        secrecy=choice(raw.get("secrecy"), catalogue.SECRECY, "secrecy", "normal"),
        due_date=due_date,
        received_via=choice(raw.get("received_via"), catalogue.RECEIVED_VIA, "received_via",
                            "electronic"))


def _key(text: str) -> str:
    return normalise_text(text).casefold()


def _twin(session, org_id: int, sender: str, notation: str,
          doc_date: date) -> IncomingDocument | None:
    """An already registered document with the same issuing body, notation and date,
    whoever may open it: registering it twice is refused all the same."""
    return session.scalar(select(IncomingDocument).where(
        IncomingDocument.org_id == org_id,
        IncomingDocument.sender_key == _key(sender),
        IncomingDocument.notation_key == _key(notation),
        IncomingDocument.doc_date == doc_date,
        IncomingDocument.status != IncomingStatus.REJECTED).limit(1))


ALREADY_REGISTERED = "Văn bản này đã được vào sổ."


@dataclass(frozen=True)
class Duplicate:
    """What the asker may learn of an already registered twin: its id and số đến only
    when they may open it. A classified twin they may not open is only said to exist, so
    typing a notation is no way to learn a secret document's number or id."""
    message: str
    id: int | None = None
    arrival_number: int | None = None


def _may_open(session, actor: User, doc: IncomingDocument) -> bool:
    return session.scalar(select(IncomingDocument.id).where(
        IncomingDocument.id == doc.id, visible_clause(actor))) is not None


def _describe(session, actor: User, doc: IncomingDocument, known: str) -> Duplicate:
    if not _may_open(session, actor, doc):
        return Duplicate(ALREADY_REGISTERED)
    return Duplicate(f"{known} đã được vào sổ (số đến {doc.arrival_number}).", doc.id,
                     doc.arrival_number)


def find_duplicate(session, actor: User, sender: str, notation: str,
                   doc_date: date) -> Duplicate | None:
    """The registration form's early warning: a twin in the actor's organisation."""
    doc = _twin(session, actor.org_id, sender, notation, doc_date)
    return None if doc is None else _describe(session, actor, doc, "Văn bản này")


def _refuse_duplicate(session, actor: User, doc: IncomingDocument, known: str) -> Conflict:
    seen = _describe(session, actor, doc, known)
    extra = {} if seen.id is None else {"id": seen.id}
    return Conflict(seen.message, code="duplicate", **extra)


def check_signatures(upload: CheckedPdf, trust: TrustStore | None) -> dict | None:
    """ND30 Điều 21: an electronic document's signatures are checked on receipt; the report
    is kept with the document. Unsigned files have none."""
    if not upload.has_signatures:
        return None
    try:
        return validate_upload(upload.data, trust).to_dict()
    except DomainError as exc:
        return {"signatures": [], "verdict": "invalid", "summary": exc.message}


def register(session, blobs: BlobStore, actor: User, data: Registration, upload: CheckedPdf,
             filename: str, *, trust: TrustStore | None = None) -> IncomingDocument:
    """Vào sổ: store the file, allocate the số đến and record the document, atomically."""
    require_role(actor, Role.CLERK)
    signature_check = check_signatures(upload, trust)  # before the number is locked
    stored = store_pdf(session, blobs, upload, filename=filename, org_id=actor.org_id,
                       user_id=actor.id)
    moment = clock.now()
    arrival = clock.local(moment).date()
    # The counter row is locked from here to commit: the duplicate check below is
    # therefore race-free, and a refused registration gives its number back.
    number = numbering.allocate(session, actor.org_id, REGISTER, arrival.year)
    existing = _twin(session, actor.org_id, data.sender, data.notation, data.doc_date)
    if existing is not None:
        raise _refuse_duplicate(session, actor, existing, f"Văn bản {data.notation} của "
                                f"{data.sender} ngày {data.doc_date:%d/%m/%Y}")
    doc = IncomingDocument(
        org_id=actor.org_id, doc_type=data.doc_type, subject=data.subject,
        notation=data.notation, notation_key=_key(data.notation), doc_date=data.doc_date,
        urgency=data.urgency, secrecy=data.secrecy, status=IncomingStatus.REGISTERED,
        arrival_year=arrival.year, arrival_number=number, arrival_date=arrival,
        sender=data.sender, sender_key=_key(data.sender), received_via=data.received_via,
        due_date=data.due_date, deadline=data.due_date, page_count=upload.page_count,
        file_id=stored.id, registered_by_id=actor.id, registered_at=moment,
        signature_check=signature_check)
    session.add(doc)
    session.flush()
    audit.record(session, "incoming.registered", actor=actor, obj=doc,
                 arrival_number=number, notation=data.notation, sha256=stored.sha256)
    return doc


# --- who sees what -------------------------------------------------------------------------

def _assignment_exists(*, user_id: int | None = None, unit_id: int | None = None,
                       roles=None):
    """An active assignment of the document to one person or one unit. One EXISTS per
    target (not an OR inside one) lets the database answer each from its own partial
    index instead of hashing the unit's whole assignment history."""
    clause = [Assignment.document_id == IncomingDocument.id, Assignment.active,
              Assignment.user_id == user_id if user_id is not None
              else Assignment.unit_id == unit_id]
    if roles:
        clause.append(Assignment.role.in_(roles))
    return exists().where(*clause)


def _scope(user: User):
    """The organisation's documents; pending ones only for clerks and leaders."""
    own = IncomingDocument.org_id == user.org_id
    if user.role in (Role.LEADER, Role.CLERK):
        return own
    return and_(own, IncomingDocument.status != IncomingStatus.PENDING)


def _classified_access(user: User):
    """Who besides leaders may open a classified document: the clerk who registered it, the
    persons named on it (main handler, co-handler or informed) and, when it is assigned to
    a unit, that unit's head and deputies — not the unit's other members. A unit head who
    passes it on to a member names that member, who may then open it."""
    targets = [IncomingDocument.registered_by_id == user.id,
               _assignment_exists(user_id=user.id)]
    if user.headed_unit_id is not None:
        targets.append(_assignment_exists(unit_id=user.headed_unit_id))
    return or_(*targets)


def visible_clause(user: User):
    """Documents the user may open: the own organisation's; classified ones only for
    leaders and those ``_classified_access`` names. Applied inside every query, so counts
    and pages never include what the user may not see."""
    if user.role == Role.LEADER:
        return _scope(user)
    return and_(_scope(user), or_(IncomingDocument.secrecy == "normal",
                                  _classified_access(user)))


def count_visible(session, actor: User, *criteria, cap: int | None = None) -> int:
    """Count of the visible documents meeting ``criteria``, split in two so that the
    common case (unclassified documents) is a plain indexed count and the visibility rule
    only runs over the few classified ones. With ``cap``, counting stops after cap + 1
    rows (a substring filter can match a large part of the register)."""
    def count(*where):
        rows = select(IncomingDocument.id).where(_scope(actor), *criteria, *where)
        if cap is not None:
            rows = rows.limit(cap + 1)
        return session.scalar(select(func.count()).select_from(rows.subquery()))
    if actor.role == Role.LEADER:
        total = count()
    else:
        total = (count(IncomingDocument.secrecy == "normal")
                 + count(IncomingDocument.secrecy != "normal", _classified_access(actor)))
    return total if cap is None else min(total, cap + 1)


TEXT_COUNT_CAP = 10_000


# The audit log shows events about classified documents only to who may open them.
audit.seal_documents(IncomingDocument, "incoming", visible_clause)


def get_visible(session, actor: User, doc_id: int, *, with_details: bool = False,
                for_update: bool = False) -> IncomingDocument:
    stmt = select(IncomingDocument).where(IncomingDocument.id == doc_id, visible_clause(actor))
    if with_details:
        stmt = stmt.options(joinedload(IncomingDocument.file),
                            joinedload(IncomingDocument.registered_by),
                            *_assignment_loaders())
    if for_update:
        stmt = stmt.with_for_update(of=IncomingDocument)
    doc = session.scalar(stmt)
    if doc is None:
        raise NotFound("Không tìm thấy văn bản đến hoặc bạn không có quyền xem.")
    return doc


def _assignment_loaders():
    assignments = selectinload(IncomingDocument.assignments)
    return (assignments.joinedload(Assignment.user), assignments.joinedload(Assignment.unit),
            assignments.joinedload(Assignment.assigned_by))


QUEUES = ("to_assign", "mine", "overdue")


def list_documents(session, actor: User, *, year: int | None = None, status: str | None = None,
                   q: str | None = None, queue: str | None = None, offset: int = 0,
                   limit: int = 20, with_total: bool = True
                   ) -> tuple[int | None, list[IncomingDocument]]:
    criteria = []
    if year:
        criteria.append(IncomingDocument.arrival_year == year)
    if status:
        criteria.append(IncomingDocument.status == status)
    if q:
        criteria.append(_text_filter(q))
    if queue:
        criteria.append(_queue_clause(actor, queue))
    cap = TEXT_COUNT_CAP if q else None  # "more than 10,000" is all a reader needs there
    total = count_visible(session, actor, *criteria, cap=cap) if with_total else None
    items = session.scalars(
        select(IncomingDocument).where(visible_clause(actor), *criteria)
        .options(*_assignment_loaders())
        .order_by(IncomingDocument.arrival_year.desc(), IncomingDocument.arrival_number.desc(),
                  IncomingDocument.id.desc())
        .offset(offset).limit(limit)).all()
    return total, items


def _text_filter(q: str):
    # Plain substring match for the list filter; full-text search is the search slice's job.
    needle = f"%{normalise_text(q).casefold()}%"
    return or_(func.lower(IncomingDocument.subject).like(needle),
               IncomingDocument.notation_key.like(needle),
               IncomingDocument.sender_key.like(needle))


def _queue_clause(actor: User, queue: str):
    today = clock.today()
    is_open = IncomingDocument.status.in_(IncomingStatus.OPEN)
    if queue == "to_assign":
        return IncomingDocument.status == IncomingStatus.REGISTERED
    mine = _handler_clause(actor)
    if queue == "mine":
        return and_(is_open, mine)
    if queue == "overdue":
        late = and_(is_open, IncomingDocument.deadline < today)
        return late if actor.role in (Role.LEADER, Role.CLERK) else and_(late, mine)
    raise ValidationFailed("Hàng đợi không hợp lệ.", field="queue")


def _handler_clause(actor: User):
    """Documents the actor handles: assigned to them, or to their unit when they head it."""
    roles = AssignmentRole.HANDLING
    targets = [_assignment_exists(user_id=actor.id, roles=roles)]
    if actor.role == Role.HEAD and actor.unit_id is not None:
        targets.append(_assignment_exists(unit_id=actor.unit_id, roles=roles))
    return or_(*targets)


def queue_counts(session, actor: User) -> dict:
    """Counts for the dashboard: one aggregate per visibility part, over the few rows that
    are open, pending or registered today (indexed), never the whole register."""
    today = clock.today()
    named = {
        "pending": IncomingDocument.status == IncomingStatus.PENDING,
        "to_assign": _queue_clause(actor, "to_assign"),
        "mine": _queue_clause(actor, "mine"),
        "overdue": _queue_clause(actor, "overdue"),
        "today": IncomingDocument.arrival_date == today,
    }
    candidates = or_(IncomingDocument.status.in_((IncomingStatus.PENDING, *IncomingStatus.OPEN)),
                     IncomingDocument.arrival_date == today)

    def counts(*where) -> dict:
        columns = [func.count().filter(clause).label(name) for name, clause in named.items()]
        return session.execute(select(*columns).select_from(IncomingDocument).where(
            _scope(actor), candidates, *where)).one()._asdict()
    if actor.role == Role.LEADER:
        return counts()
    normal = counts(IncomingDocument.secrecy == "normal")
    classified = counts(IncomingDocument.secrecy != "normal", _classified_access(actor))
    return {name: normal[name] + classified[name] for name in named}


# --- distribution and handling -------------------------------------------------------------

def assign(session, actor: User, doc_id: int, *, user_id: int | None = None,
           unit_id: int | None = None, role: str = AssignmentRole.MAIN,
           deadline: date | None = None, note: str = "") -> Assignment:
    """Chuyển xử lý: give the document to a unit or a person, with a deadline and instructions.

    A leader or clerk assigning a new main handler replaces the previous one (reassign).
    A unit head may pass a document given to the unit on to one of its members.
    """
    require_role(actor, *DISTRIBUTORS)
    note = text(note, "note", label="Ý kiến chỉ đạo", max_len=NOTE_MAX)
    doc = get_visible(session, actor, doc_id, for_update=True)
    role = _assignment_role(role)
    _check_assignable(doc, user_id, unit_id, deadline)
    target_user = user_in_org(session, actor.org_id, user_id) if user_id else None
    target_unit = unit_in_org(session, actor.org_id, unit_id) if unit_id else None
    active = session.scalars(select(Assignment).where(
        Assignment.document_id == doc.id, Assignment.active)).all()
    delegating = actor.role == Role.HEAD
    if delegating:
        _check_head_may_pass_on(actor, active, target_user)
    if any(a.role == role and a.user_id == user_id and a.unit_id == unit_id for a in active):
        raise Conflict("Người/đơn vị này đã được giao văn bản với vai trò đó.",
                       code="already_assigned")
    _hand_over(doc, active, role, deadline, delegating=delegating)
    assignment = Assignment(document_id=doc.id, user_id=user_id, unit_id=unit_id, role=role,
                            deadline=deadline or doc.deadline, note=note,
                            assigned_by_id=actor.id, assigned_at=clock.now())
    session.add(assignment)
    session.flush()
    audit.record(session, "incoming.assigned", actor=actor, obj=doc, role=role,
                 to_user=target_user.full_name if target_user else None,
                 to_unit=target_unit.name if target_unit else None,
                 deadline=deadline.isoformat() if deadline else None, note=assignment.note)
    return assignment


def _assignment_role(role) -> AssignmentRole:
    try:
        return AssignmentRole(role)
    except ValueError:
        raise ValidationFailed("Vai trò xử lý không hợp lệ.", field="role") from None


def _check_assignable(doc: IncomingDocument, user_id, unit_id, deadline) -> None:
    if (user_id is None) == (unit_id is None):
        raise ValidationFailed("Chọn một người hoặc một phòng/ban nhận.", field="user_id")
    if doc.status not in IncomingStatus.OPEN:
        raise Conflict("Văn bản không ở trạng thái có thể chuyển xử lý.", code="invalid_state")
    if deadline is not None and deadline < clock.today():
        raise ValidationFailed("Hạn xử lý không thể trước hôm nay.", field="deadline")


def _hand_over(doc: IncomingDocument, active: list[Assignment], role: AssignmentRole,
               deadline: date | None, *, delegating: bool) -> None:
    """The document's state after a new assignment. A new main handler replaces the
    previous one; a unit head passing it on keeps the unit's own assignment (it replaces
    only a person) and the work is then in progress."""
    if role == AssignmentRole.MAIN:
        for previous in active:
            if previous.role == AssignmentRole.MAIN and (not delegating or previous.user_id):
                previous.active = False
        doc.status = IncomingStatus.IN_PROGRESS if delegating else IncomingStatus.ASSIGNED
        doc.deadline = deadline or doc.deadline
    elif doc.status == IncomingStatus.REGISTERED and role == AssignmentRole.COOPERATE:
        doc.status = IncomingStatus.ASSIGNED


def assignable_targets(session, actor: User) -> tuple[list[User], list[Unit]]:
    """Whom the actor may hand a document to: anyone and any unit of the organisation;
    a unit head only the members of the unit."""
    people = select(User).where(User.org_id == actor.org_id, User.active,
                                User.role != Role.ADMIN)
    if actor.role == Role.HEAD:
        people = people.where(User.unit_id == actor.unit_id)
        units = []
    else:
        units = session.scalars(select(Unit).where(Unit.org_id == actor.org_id)
                                .order_by(Unit.name)).all()
    return session.scalars(people.order_by(User.full_name)).all(), units


def _check_head_may_pass_on(actor: User, active: list[Assignment], target: User | None):
    ours = any(a.unit_id == actor.unit_id or a.user_id == actor.id for a in active)
    if not ours:
        raise Forbidden("Trưởng phòng chỉ chuyển tiếp văn bản đã giao cho phòng mình.")
    if target is None or target.unit_id != actor.unit_id:
        raise Forbidden("Trưởng phòng chỉ giao cho cán bộ trong phòng mình.", field="user_id")


def _require_main_handler(session, actor: User, doc: IncomingDocument) -> None:
    targets = [Assignment.user_id == actor.id]
    if actor.role == Role.HEAD and actor.unit_id is not None:
        targets.append(Assignment.unit_id == actor.unit_id)
    is_main = session.scalar(select(func.count()).where(
        Assignment.document_id == doc.id, Assignment.active,
        Assignment.role == AssignmentRole.MAIN,
        or_(*targets)))
    if not is_main:
        raise Forbidden("Chỉ người xử lý chính mới thực hiện được thao tác này.")


def start(session, actor: User, doc_id: int) -> IncomingDocument:
    """The main handler takes the document up (status in_progress)."""
    doc = get_visible(session, actor, doc_id, for_update=True)
    _require_main_handler(session, actor, doc)
    if doc.status != IncomingStatus.ASSIGNED:
        raise Conflict("Văn bản không ở trạng thái chờ xử lý.", code="invalid_state")
    doc.status = IncomingStatus.IN_PROGRESS
    audit.record(session, "incoming.started", actor=actor, obj=doc)
    return doc


def complete(session, actor: User, doc_id: int, note: str = "") -> IncomingDocument:
    """The main handler marks the document handled (giải quyết xong)."""
    note = text(note, "note", label="Ghi chú kết quả xử lý", max_len=NOTE_MAX)
    doc = get_visible(session, actor, doc_id, for_update=True)
    _require_main_handler(session, actor, doc)
    if doc.status not in IncomingStatus.IN_HAND:
        raise Conflict("Văn bản không ở trạng thái đang xử lý.", code="invalid_state")
    doc.status = IncomingStatus.COMPLETED
    doc.completed_at = clock.now()
    doc.completion_note = note
    audit.record(session, "incoming.completed", actor=actor, obj=doc, note=doc.completion_note)
    return doc


def is_overdue(doc: IncomingDocument, today: date | None = None) -> bool:
    return bool(doc.deadline and doc.status in IncomingStatus.OPEN
                and doc.deadline < (today or clock.today()))


def allowed_actions(session, actor: User, doc: IncomingDocument) -> set[str]:
    """What the actor may do next with the document (drives the buttons on the page)."""
    actions = set()
    if doc.status in IncomingStatus.OPEN and actor.role in DISTRIBUTORS:
        if actor.role != Role.HEAD or any(
                a.active and (a.unit_id == actor.unit_id or a.user_id == actor.id)
                for a in doc.assignments):
            actions.add("assign")
    mains = [a for a in doc.assignments if a.active and a.role == AssignmentRole.MAIN and (
        a.user_id == actor.id or (actor.role == Role.HEAD and a.unit_id == actor.unit_id
                                  and actor.unit_id is not None))]
    if mains and doc.status == IncomingStatus.ASSIGNED:
        actions.add("start")
    if mains and doc.status in IncomingStatus.IN_HAND:
        actions.add("complete")
    return actions


def last_sender(session, actor: User) -> str:
    """The sender of the clerk's previous registration: the default for the next one."""
    return session.scalar(select(IncomingDocument.sender).where(
        IncomingDocument.registered_by_id == actor.id)
        .order_by(IncomingDocument.id.desc()).limit(1)) or ""


def timeline(session, doc: IncomingDocument) -> list[audit.AuditEvent]:
    return session.scalars(select(audit.AuditEvent).where(
        audit.AuditEvent.object_type == IncomingDocument.__tablename__,
        audit.AuditEvent.object_id == str(doc.id)).order_by(audit.AuditEvent.id)).all()


# --- documents dispatched electronically by another organisation on this system ---------

@dataclass(frozen=True)
class Dispatched:
    """What the sending organisation's issue step hands over (edXML-like metadata)."""
    sender: str
    notation: str
    doc_date: date
    doc_type: str
    subject: str
    urgency: str
    due_date: date | None
    sha256: str
    filename: str
    size: int
    page_count: int
    signature_check: dict | None
    warnings: list | None = None  # the sender's stored file's (StoredFile.warnings)


def receive_dispatched(session, org_id: int, sent: Dispatched) -> IncomingDocument:
    """Deliver a document to a recipient organisation's queue: pending, no số đến yet."""
    stored = StoredFile(org_id=org_id, sha256=sent.sha256, filename=sent.filename,
                        size=sent.size, page_count=sent.page_count, has_signatures=True,
                        warnings=sent.warnings)
    session.add(stored)
    session.flush()
    moment = clock.now()
    doc = IncomingDocument(
        org_id=org_id, doc_type=sent.doc_type, subject=sent.subject, notation=sent.notation,
        notation_key=_key(sent.notation), doc_date=sent.doc_date, urgency=sent.urgency,
        secrecy="normal", status=IncomingStatus.PENDING, arrival_year=clock.local(moment).year,
        sender=sent.sender, sender_key=_key(sent.sender), received_via="electronic",
        due_date=sent.due_date, deadline=sent.due_date, page_count=sent.page_count,
        file_id=stored.id, signature_check=sent.signature_check)
    session.add(doc)
    session.flush()
    audit.record(session, "incoming.received", org_id=org_id, obj=doc, sender=sent.sender,
                 notation=sent.notation, sha256=sent.sha256)
    return doc


def accept(session, actor: User, doc_id: int) -> IncomingDocument:
    """Tiếp nhận: a clerk registers a pending electronic document (số đến allocated)."""
    require_role(actor, Role.CLERK)
    doc = get_visible(session, actor, doc_id, for_update=True)
    if doc.status != IncomingStatus.PENDING:
        raise Conflict("Văn bản không ở trạng thái chờ tiếp nhận.", code="invalid_state")
    moment = clock.now()
    arrival = clock.local(moment).date()
    number = numbering.allocate(session, actor.org_id, REGISTER, arrival.year)
    existing = _twin(session, actor.org_id, doc.sender, doc.notation, doc.doc_date)
    if (existing is not None and existing.id != doc.id
            and existing.status != IncomingStatus.PENDING):
        raise _refuse_duplicate(session, actor, existing, f"Văn bản {doc.notation}")
    doc.status, doc.arrival_number = IncomingStatus.REGISTERED, number
    doc.arrival_year = arrival.year
    doc.arrival_date, doc.registered_by_id, doc.registered_at = arrival, actor.id, moment
    audit.record(session, "incoming.registered", actor=actor, obj=doc, arrival_number=number,
                 notation=doc.notation, electronic=True)
    return doc


def reject(session, actor: User, doc_id: int, reason: str) -> IncomingDocument:
    """Return a pending electronic document to its sender with a reason."""
    require_role(actor, Role.CLERK)
    reason = text(reason, "reason", label="Lý do trả lại", max_len=REASON_MAX,
                  required="Vui lòng nêu lý do trả lại.")
    doc = get_visible(session, actor, doc_id, for_update=True)
    if doc.status != IncomingStatus.PENDING:
        raise Conflict("Chỉ trả lại được văn bản đang chờ tiếp nhận.", code="invalid_state")
    doc.status, doc.rejection_reason = IncomingStatus.REJECTED, reason
    audit.record(session, "incoming.rejected", actor=actor, obj=doc, reason=reason)
    return doc


def statuses(session, doc_ids: list[int]) -> dict[int, tuple[IncomingStatus, str]]:
    """Status and rejection reason of incoming documents, for their sender to follow."""
    if not doc_ids:
        return {}
    rows = session.execute(select(IncomingDocument.id, IncomingDocument.status,
                                  IncomingDocument.rejection_reason)
                           .where(IncomingDocument.id.in_(doc_ids)))
    return {row.id: (row.status, row.rejection_reason) for row in rows}
