"""The rules of hồ sơ. Functions take a session and plain values, never ``request``.

Who may do what:
- everyone in the organisation reads its danh mục hồ sơ; the documents inside are listed
  only when the reader may open them (the inbound and outbound slices' own visibility);
- clerks, unit heads, leaders and admins create hồ sơ (CREATORS);
- anyone files a document they may open into an open hồ sơ of their organisation;
- the hồ sơ's owner, or any clerk, head or leader of the organisation closes it and
  extends its retention (MANAGERS); retention is never shortened, even while open;
- unfiling is allowed while the hồ sơ is open, to whoever filed the document, the owner
  or a manager;
- clerks and leaders record that a closed hồ sơ was submitted to the archive.
"""
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from docmgr.core import audit, clock
from docmgr.core.auth import Role, User, require_role, unit_in_org
from docmgr.core.documents import StoredFile, normalise_text
from docmgr.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from docmgr.core.values import choice, parse_int, text
from docmgr.inbound import operations as inbound
from docmgr.inbound.models import IncomingDocument, IncomingStatus
from docmgr.outbound import operations as outbound
from docmgr.outbound.models import OutgoingDocument, OutgoingStatus
from docmgr.records.models import (
    ARCHIVE_MIN_YEARS,
    RIGHTS_LABELS,
    Dossier,
    DossierStatus,
    FiledDocument,
)

CREATORS = (Role.CLERK, Role.HEAD, Role.LEADER, Role.ADMIN)
MANAGERS = (Role.CLERK, Role.HEAD, Role.LEADER)
SUBMITTERS = (Role.CLERK, Role.LEADER)
KINDS = {"incoming": "Văn bản đến", "outgoing": "Văn bản đi"}
# Documents are filed once in their register: an incoming one registered (a pending one is
# not yet the office's), an outgoing one issued (a draft has no number, date or final file).
FILEABLE = {"incoming": IncomingStatus.IN_REGISTER, "outgoing": OutgoingStatus.IN_REGISTER}
PERMANENT_WORDS = {"permanent", "vĩnh viễn", "vinh vien", "vinh-vien"}
MAX_RETENTION_YEARS = 100
CODE_MAX, TITLE_MAX = 30, 500
CODE_RE = re.compile(r"^[\w.\-/]+$")
WARNING_DAYS = 30


# --- input ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DossierInput:
    year: int
    code: str
    title: str
    retention_years: int | None  # None: Vĩnh viễn
    owner_id: int
    unit_id: int | None = None
    rights: str = "public"


def parse_retention(raw, field: str = "retention") -> int | None:
    """A number of years (1–100) or "Vĩnh viễn" / "permanent" (returned as None)."""
    if raw is None or isinstance(raw, bool) or not normalise_text(str(raw)):
        raise ValidationFailed("Vui lòng nhập thời hạn bảo quản (số năm hoặc Vĩnh viễn).",
                               field=field)
    typed = normalise_text(str(raw)).casefold()
    if typed in PERMANENT_WORDS:
        return None
    years = typed.removesuffix("năm").strip()
    if not years.isdigit() or not 1 <= int(years) <= MAX_RETENTION_YEARS:
        raise ValidationFailed(f"Thời hạn bảo quản phải là số năm (1–{MAX_RETENTION_YEARS}) "
                               "hoặc Vĩnh viễn.", field=field)
    return int(years)


def parse_dossier(raw, actor: User) -> DossierInput:
    """Check what was typed; raise ValidationFailed naming the first wrong field. The year
    defaults to the current one and the owner to the person creating the hồ sơ."""
    this_year = clock.today().year
    year = parse_int(raw.get("year"), "year") or this_year
    # Next year's danh mục is drawn up in December, hence this_year + 1.
    if not 1945 <= year <= this_year + 1:
        raise ValidationFailed(f"Năm phải từ 1945 đến {this_year + 1}.", field="year")
    code = "".join(text(raw.get("code"), "code", label="Số và ký hiệu hồ sơ",
                        max_len=CODE_MAX).split()).upper()
    if not code:
        raise ValidationFailed("Vui lòng nhập số và ký hiệu hồ sơ (vd. 01.TCCB).", field="code")
    if len(code) > CODE_MAX or not CODE_RE.match(code):
        raise ValidationFailed(f"Ký hiệu hồ sơ chỉ gồm chữ, số và các dấu . - / (tối đa "
                               f"{CODE_MAX} ký tự).", field="code")
    title = text(raw.get("title"), "title", label="Tiêu đề hồ sơ", max_len=TITLE_MAX,
                 required="Vui lòng nhập tiêu đề hồ sơ.")
    return DossierInput(
        year=year, code=code, title=title,
        retention_years=parse_retention(raw.get("retention")),
        owner_id=parse_int(raw.get("owner_id"), "owner_id") or actor.id,
        unit_id=parse_int(raw.get("unit_id"), "unit_id"),
        rights=choice(raw.get("rights"), RIGHTS_LABELS, "rights", "public"))


def parse_kind(raw) -> str:
    kind = str(raw or "").strip()
    if kind not in KINDS:
        raise ValidationFailed("Loại văn bản phải là incoming (đến) hoặc outgoing (đi).",
                               field="kind")
    return kind


# --- the catalogue -------------------------------------------------------------------------

def create(session, actor: User, data: DossierInput) -> Dossier:
    require_role(actor, *CREATORS)
    owner = session.get(User, data.owner_id)
    if owner is None or owner.org_id != actor.org_id or not owner.active:
        raise NotFound("Không tìm thấy người lập hồ sơ trong cơ quan.", field="owner_id")
    if owner.role == Role.ADMIN:
        raise ValidationFailed("Người lập hồ sơ phải là cán bộ nghiệp vụ, không phải quản "
                               "trị hệ thống.", field="owner_id")
    if data.unit_id is not None:
        unit_in_org(session, actor.org_id, data.unit_id)
    _refuse_duplicate(session, actor.org_id, data.year, data.code)
    dossier = Dossier(org_id=actor.org_id, year=data.year, code=data.code, title=data.title,
                      retention_years=data.retention_years, rights=data.rights,
                      owner_id=owner.id, unit_id=data.unit_id, status=DossierStatus.OPEN,
                      created_by_id=actor.id, created_at=clock.now())
    try:
        with session.begin_nested():  # a concurrent twin loses here, not with a 500
            session.add(dossier)
            session.flush()
    except IntegrityError:
        _refuse_duplicate(session, actor.org_id, data.year, data.code)
        raise
    audit.record(session, "records.created", actor=actor, obj=dossier, code=dossier.code,
                 year=dossier.year, title=dossier.title, retention=dossier.maintenance,
                 owner=owner.full_name)
    return dossier


def _refuse_duplicate(session, org_id: int, year: int, code: str) -> None:
    existing = session.scalar(select(Dossier.id).where(
        Dossier.org_id == org_id, Dossier.year == year, Dossier.code == code))
    if existing is not None:
        raise Conflict(f"Danh mục hồ sơ năm {year} đã có hồ sơ {code}.", code="duplicate",
                       field="code", id=existing)


def get_in_org(session, actor: User, dossier_id: int, *, for_update: bool = False) -> Dossier:
    """A hồ sơ of the actor's organisation; another organisation's is simply not found."""
    stmt = select(Dossier).where(Dossier.id == dossier_id, Dossier.org_id == actor.org_id)
    if for_update:
        stmt = stmt.with_for_update(of=Dossier)
    else:
        stmt = stmt.options(joinedload(Dossier.owner), joinedload(Dossier.unit),
                            joinedload(Dossier.closed_by))
    dossier = session.scalar(stmt)
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ.")
    return dossier


def _due_clause(org_id: int, today: date):
    return (Dossier.org_id == org_id, Dossier.status == DossierStatus.CLOSED,
            Dossier.submitted_at.is_(None), Dossier.archive_due.is_not(None),
            Dossier.archive_due <= date.fromordinal(today.toordinal() + WARNING_DAYS))


def list_dossiers(session, actor: User, *, year: int | None = None, status: str | None = None,
                  due: bool = False, offset: int = 0, limit: int = 20
                  ) -> tuple[int, list[Dossier]]:
    """The organisation's danh mục: one year (or every year), optionally only the hồ sơ
    due for submission to the archive within 30 days or overdue."""
    criteria = [Dossier.org_id == actor.org_id]
    if due:
        criteria = list(_due_clause(actor.org_id, clock.today()))
    elif year:
        criteria.append(Dossier.year == year)
    if status:
        criteria.append(Dossier.status == status)
    total = session.scalar(select(func.count()).select_from(Dossier).where(*criteria))
    order = ((Dossier.archive_due, Dossier.id) if due
             else (Dossier.year.desc(), Dossier.code, Dossier.id))
    items = session.scalars(select(Dossier).where(*criteria)
                            .options(joinedload(Dossier.owner), joinedload(Dossier.unit))
                            .order_by(*order).offset(offset).limit(limit)).all()
    return total, list(items)


def due_count(session, actor: User) -> int:
    """Closed hồ sơ due for submission within 30 days, or overdue (dashboard and list)."""
    return session.scalar(select(func.count()).select_from(Dossier).where(
        *_due_clause(actor.org_id, clock.today())))


def document_counts(session, dossier_ids: list[int]) -> dict[int, int]:
    """How many documents each hồ sơ holds (all of them: a count names no document)."""
    if not dossier_ids:
        return {}
    rows = session.execute(select(FiledDocument.dossier_id, func.count())
                           .where(FiledDocument.dossier_id.in_(dossier_ids))
                           .group_by(FiledDocument.dossier_id))
    return dict(rows.all())


# --- the documents of a hồ sơ ----------------------------------------------------------------

_LAST = datetime.max.replace(tzinfo=UTC)


@dataclass
class Entry:
    """A filed document with the file that represents it in the hồ sơ: the registered
    file of an incoming document, the final signed and issued file of an outgoing one."""
    kind: str
    doc: IncomingDocument | OutgoingDocument
    file: StoredFile | None
    filed: FiledDocument

    @property
    def registered_at(self):
        moment = (self.doc.registered_at if self.kind == "incoming" else self.doc.issued_at)
        return moment or _LAST

    @property
    def sort_key(self):
        """Chronological: by the document's date, then by when it was registered (vào sổ
        or issued), then by id so that the order never depends on the database."""
        return (self.doc.doc_date or date.max, self.registered_at, self.kind, self.doc.id)


def entries(session, dossier: Dossier, actor: User | None) -> list[Entry]:
    """The hồ sơ's documents in chronological order; with ``actor``, only those the actor
    may open, filtered inside the query by the owning slice's rule."""
    incoming = (select(IncomingDocument, FiledDocument)
                .join(FiledDocument, FiledDocument.incoming_id == IncomingDocument.id)
                .where(FiledDocument.dossier_id == dossier.id)
                .options(joinedload(IncomingDocument.file)))
    outgoing = (select(OutgoingDocument, FiledDocument)
                .join(FiledDocument, FiledDocument.outgoing_id == OutgoingDocument.id)
                .where(FiledDocument.dossier_id == dossier.id))
    if actor is not None:
        incoming = incoming.where(inbound.visible_clause(actor))
        outgoing = outgoing.where(outbound.visible_clause(actor))
    rows = [Entry("incoming", doc, doc.file, filed)
            for doc, filed in session.execute(incoming).all()]
    sent = session.execute(outgoing).all()
    file_ids = [doc.signed_file_id or doc.file_id for doc, _ in sent]
    files = ({f.id: f for f in session.scalars(select(StoredFile).where(
        StoredFile.id.in_(file_ids)))} if file_ids else {})
    rows += [Entry("outgoing", doc, files.get(doc.signed_file_id or doc.file_id), filed)
             for doc, filed in sent]
    return sorted(rows, key=lambda entry: entry.sort_key)


@dataclass
class Contents:
    """A hồ sơ as one reader sees it. The dates span only the documents shown: the stored
    start and end dates may come from a classified document, and its date is as much the
    reader's business as its subject. How many are hidden may be told; which, not."""
    entries: list[Entry]
    hidden: int

    @property
    def total(self) -> int:
        return len(self.entries) + self.hidden

    @property
    def start_date(self) -> date | None:
        return min((e.doc.doc_date for e in self.entries if e.doc.doc_date), default=None)

    @property
    def end_date(self) -> date | None:
        return max((e.doc.doc_date for e in self.entries if e.doc.doc_date), default=None)


def contents(session, actor: User, dossier: Dossier) -> Contents:
    """What the actor may see of the hồ sơ, and how many filed documents are hidden."""
    shown = entries(session, dossier, actor)
    total = document_counts(session, [dossier.id]).get(dossier.id, 0)
    return Contents(shown, total - len(shown))


def visible_spans(session, actor: User, dossier_ids: list[int]
                  ) -> dict[int, tuple[date | None, date | None]]:
    """The earliest and latest dates of the documents of each hồ sơ that the actor may
    open (the catalogue's "Thời gian"), one grouped query per register. For a reader who
    may open everything it equals the stored start and end dates."""
    spans: dict[int, tuple[date | None, date | None]] = {}
    if not dossier_ids:
        return spans
    for model, column, rule in ((IncomingDocument, FiledDocument.incoming_id, inbound),
                                (OutgoingDocument, FiledDocument.outgoing_id, outbound)):
        rows = session.execute(
            select(FiledDocument.dossier_id, func.min(model.doc_date), func.max(model.doc_date))
            .join(model, column == model.id)
            .where(FiledDocument.dossier_id.in_(dossier_ids), rule.visible_clause(actor))
            .group_by(FiledDocument.dossier_id))
        for dossier_id, start, end in rows:
            known = spans.get(dossier_id, (None, None))
            spans[dossier_id] = (min(filter(None, (known[0], start)), default=None),
                                 max(filter(None, (known[1], end)), default=None))
    return spans


def _document(session, actor: User, kind: str, doc_id: int):
    """The document as its own slice shows it to the actor (404 when the actor may not)."""
    ops = inbound if kind == "incoming" else outbound
    return ops.get_visible(session, actor, doc_id)


def _link_clause(kind: str, doc_id: int):
    column = FiledDocument.incoming_id if kind == "incoming" else FiledDocument.outgoing_id
    return column == doc_id


def _refresh_dates(session, dossier: Dossier) -> None:
    """Start and end dates follow the earliest and latest dates of the filed documents."""
    bounds = []
    for model, column in ((IncomingDocument, FiledDocument.incoming_id),
                          (OutgoingDocument, FiledDocument.outgoing_id)):
        bounds.append(session.execute(
            select(func.min(model.doc_date), func.max(model.doc_date))
            .join(FiledDocument, column == model.id)
            .where(FiledDocument.dossier_id == dossier.id)).one())
    starts = [b[0] for b in bounds if b[0] is not None]
    ends = [b[1] for b in bounds if b[1] is not None]
    dossier.start_date = min(starts) if starts else None
    dossier.end_date = max(ends) if ends else None


def _require_open(dossier: Dossier) -> None:
    if not dossier.is_open:
        raise Conflict(f"Hồ sơ {dossier.code} đã đóng; không thể thay đổi.",
                       code="dossier_closed")


def file_document(session, actor: User, dossier_id: int, kind: str,
                  doc_id: int) -> tuple[FiledDocument, bool]:
    """Lưu vào hồ sơ. Filing a document already in the hồ sơ changes nothing and answers
    the existing link (second value False): a double click is harmless."""
    kind = parse_kind(kind)
    dossier = get_in_org(session, actor, dossier_id, for_update=True)  # serialises filers
    doc = _document(session, actor, kind, doc_id)
    _require_open(dossier)
    if doc.status not in FILEABLE[kind]:
        raise Conflict("Chỉ lưu vào hồ sơ văn bản đến đã vào sổ hoặc văn bản đi đã phát hành.",
                       code="invalid_state")
    existing = session.scalar(select(FiledDocument).where(
        FiledDocument.dossier_id == dossier.id, _link_clause(kind, doc.id)))
    if existing is not None:
        return existing, False
    link = FiledDocument(dossier_id=dossier.id, filed_by_id=actor.id, filed_at=clock.now(),
                         incoming_id=doc.id if kind == "incoming" else None,
                         outgoing_id=doc.id if kind == "outgoing" else None)
    session.add(link)
    session.flush()
    _refresh_dates(session, dossier)
    audit.record(session, "records.document_filed", actor=actor, obj=dossier, kind=kind,
                 document_id=doc.id, notation=doc.notation)
    return link, True


def _is_manager(actor: User, dossier: Dossier) -> bool:
    return dossier.owner_id == actor.id or actor.role in MANAGERS


def unfile_document(session, actor: User, dossier_id: int, kind: str, doc_id: int) -> Dossier:
    """Take a document out of an open hồ sơ (filed by mistake)."""
    kind = parse_kind(kind)
    dossier = get_in_org(session, actor, dossier_id, for_update=True)
    doc = _document(session, actor, kind, doc_id)
    link = session.scalar(select(FiledDocument).where(
        FiledDocument.dossier_id == dossier.id, _link_clause(kind, doc.id)))
    if link is None:
        raise NotFound("Văn bản không có trong hồ sơ này.")
    _require_open(dossier)
    if link.filed_by_id != actor.id and not _is_manager(actor, dossier):
        raise Forbidden("Chỉ người đã lưu văn bản, người lập hồ sơ, văn thư hoặc lãnh đạo "
                        "mới bỏ được văn bản khỏi hồ sơ.")
    session.delete(link)
    session.flush()
    _refresh_dates(session, dossier)
    audit.record(session, "records.document_unfiled", actor=actor, obj=dossier, kind=kind,
                 document_id=doc.id, notation=doc.notation)
    return dossier


def archive_due_date(closed_on: date, retention_years: int | None) -> date | None:
    """Hạn nộp lưu. DOMAIN.md §10: a closed hồ sơ kept 5 years or more (or permanently)
    is submitted to the organisation's archive within a year. The rule chosen here: the
    due date is the local closing date plus one calendar year (29 February gives
    28 February). Hồ sơ kept less than 5 years stay with the unit: no due date."""
    if retention_years is not None and retention_years < ARCHIVE_MIN_YEARS:
        return None
    try:
        return closed_on.replace(year=closed_on.year + 1)
    except ValueError:
        return closed_on.replace(year=closed_on.year + 1, day=28)


def close(session, actor: User, dossier_id: int) -> Dossier:
    """Đóng hồ sơ (kết thúc hồ sơ): its end date and the closing time are recorded, its
    content can no longer change, and its archive due date starts to run."""
    dossier = get_in_org(session, actor, dossier_id, for_update=True)
    if not _is_manager(actor, dossier):
        raise Forbidden("Chỉ người lập hồ sơ, văn thư, trưởng phòng hoặc lãnh đạo mới đóng "
                        "được hồ sơ.")
    _require_open(dossier)
    if not document_counts(session, [dossier.id]):
        raise Conflict("Hồ sơ chưa có văn bản nào; không thể đóng.", code="empty_dossier")
    _refresh_dates(session, dossier)
    moment = clock.now()
    dossier.status, dossier.closed_at, dossier.closed_by_id = DossierStatus.CLOSED, moment, actor.id
    dossier.archive_due = archive_due_date(clock.local(moment).date(), dossier.retention_years)
    audit.record(session, "records.closed", actor=actor, obj=dossier,
                 start_date=_iso(dossier.start_date), end_date=_iso(dossier.end_date),
                 archive_due=_iso(dossier.archive_due))
    return dossier


def _rank(years: int | None) -> float:
    return float("inf") if years is None else years


def extend_retention(session, actor: User, dossier_id: int, retention) -> Dossier:
    """Retention may only grow (also once closed: archived records are otherwise
    immutable). The same value again changes nothing."""
    years = parse_retention(retention)
    dossier = get_in_org(session, actor, dossier_id, for_update=True)
    if not _is_manager(actor, dossier):
        raise Forbidden("Chỉ người lập hồ sơ, văn thư, trưởng phòng hoặc lãnh đạo mới thay "
                        "đổi được thời hạn bảo quản.")
    if _rank(years) < _rank(dossier.retention_years):
        raise ValidationFailed(f"Thời hạn bảo quản chỉ được kéo dài, không được rút ngắn "
                               f"(hiện là {dossier.retention_label}).", field="retention",
                               code="retention_shortened")
    if years == dossier.retention_years:
        return dossier
    before = dossier.maintenance
    dossier.retention_years = years
    if dossier.closed_at is not None:
        dossier.archive_due = archive_due_date(clock.local(dossier.closed_at).date(), years)
    audit.record(session, "records.retention_extended", actor=actor, obj=dossier,
                 before=before, after=dossier.maintenance)
    return dossier


def mark_submitted(session, actor: User, dossier_id: int) -> Dossier:
    """Nộp lưu: the hồ sơ was handed to the organisation's archive; the warning stops."""
    require_role(actor, *SUBMITTERS)
    dossier = get_in_org(session, actor, dossier_id, for_update=True)
    if dossier.archive_due is None:
        raise Conflict("Chỉ nộp lưu hồ sơ đã đóng có thời hạn bảo quản từ 5 năm trở lên.",
                       code="invalid_state")
    if dossier.submitted_at is None:
        dossier.submitted_at = clock.now()
        audit.record(session, "records.submitted", actor=actor, obj=dossier)
    return dossier


def allowed_actions(actor: User, dossier: Dossier) -> set[str]:
    """What the actor may do with the hồ sơ (drives the buttons on its page)."""
    actions = set()
    manager = _is_manager(actor, dossier)
    if dossier.is_open and manager:
        actions.add("close")
    if manager and not dossier.permanent:
        actions.add("extend")
    if (actor.role in SUBMITTERS and dossier.archive_due is not None
            and dossier.submitted_at is None):
        actions.add("submit")
    return actions


def may_unfile(actor: User, dossier: Dossier, entry: Entry) -> bool:
    return dossier.is_open and (entry.filed.filed_by_id == actor.id
                                or _is_manager(actor, dossier))


# --- filing from a document's page -----------------------------------------------------------

@dataclass
class FilingOptions:
    kind: str
    doc_id: int
    fileable: bool
    filed_in: list[Dossier]
    open: list[Dossier]


def filing_options(session, actor: User, kind: str, doc_id: int) -> FilingOptions:
    """For the "Lưu vào hồ sơ" box: the hồ sơ already holding the document and the open
    hồ sơ it may still go into. The document must be visible to the actor."""
    kind = parse_kind(kind)
    doc = _document(session, actor, kind, doc_id)
    holding = select(FiledDocument.dossier_id).where(_link_clause(kind, doc.id))
    filed_in = session.scalars(select(Dossier).where(
        Dossier.org_id == actor.org_id, Dossier.id.in_(holding))
        .order_by(Dossier.year.desc(), Dossier.code)).all()
    open_ = session.scalars(select(Dossier).where(
        Dossier.org_id == actor.org_id, Dossier.status == DossierStatus.OPEN,
        Dossier.id.not_in(holding))
        .order_by(Dossier.year.desc(), Dossier.code).limit(500)).all()
    return FilingOptions(kind, doc.id, doc.status in FILEABLE[kind], list(filed_in),
                         list(open_))


def timeline(session, dossier: Dossier) -> list[audit.AuditEvent]:
    return session.scalars(select(audit.AuditEvent).where(
        audit.AuditEvent.object_type == Dossier.__tablename__,
        audit.AuditEvent.object_id == str(dossier.id)).order_by(audit.AuditEvent.id)).all()


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def owner_choices(session, actor: User) -> list[User]:
    """Who may be named responsible for a hồ sơ: the organisation's active staff."""
    return list(session.scalars(select(User).where(
        User.org_id == actor.org_id, User.active, User.role != Role.ADMIN)
        .order_by(User.full_name)))
