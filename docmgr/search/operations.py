"""Searching the archive: the caller's principals and filters go into the index query,
less the queued documents the database denies the caller (so totals and facets count only
what the caller may open, even before the index catches up with a change of access); the
page's documents are then read from the database (checked again against each slice's
visibility) and highlighted from the text kept there."""
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from docmgr.core import catalogue
from docmgr.core.auth import User
from docmgr.core.errors import DomainError, ValidationFailed
from docmgr.core.values import parse_date, parse_int
from docmgr.inbound import operations as inbound
from docmgr.inbound.models import IncomingDocument
from docmgr.outbound import operations as outbound
from docmgr.outbound.models import OutgoingDocument
from docmgr.search import access, analysis, highlight, pending, projection
from docmgr.search.backend import IndexUnavailable, SearchRequest, SearchResult

SORTS = {"relevance": "Liên quan nhất", "date": "Mới nhất"}
KIND_LABELS = {"incoming": "Văn bản đến", "outgoing": "Văn bản đi"}
MAX_QUERY = 500
SNIPPET_SOURCE_CHARS = 100_000  # snippets are looked for in the first ~30 pages


class SearchUnavailable(DomainError):
    status = 503
    code = "search_unavailable"


@dataclass
class SearchParams:
    q: str = ""
    notation: str = ""
    subject: str = ""
    signer: str = ""
    kind: str | None = None
    doc_type: str | None = None
    year: int | None = None
    sender: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"

    @property
    def asked(self) -> bool:
        """Anything to search for or filter on (an empty form shows no results)."""
        return any((self.q.strip(), self.notation.strip(), self.subject.strip(),
                    self.signer.strip(), self.kind, self.doc_type, self.year, self.sender,
                    self.date_from, self.date_to))


def parse_params(raw) -> SearchParams:
    def text(name):
        value = (raw.get(name) or "").strip()
        if len(value) > MAX_QUERY:
            raise ValidationFailed("Nội dung tìm kiếm quá dài.", field=name)
        return value

    kind = raw.get("kind") or None
    if kind not in (None, *KIND_LABELS):
        raise ValidationFailed("Loại văn bản phải là “incoming” hoặc “outgoing”.", field="kind")
    doc_type = raw.get("doc_type") or None
    if doc_type is not None and catalogue.canonical_type(doc_type) is None:
        raise ValidationFailed(f"Không có loại văn bản “{doc_type}”.", field="doc_type")
    sort = raw.get("sort") or "relevance"
    if sort not in SORTS:
        raise ValidationFailed("Cách sắp xếp phải là “relevance” hoặc “date”.", field="sort")
    params = SearchParams(
        q=text("q"), notation=text("notation"), subject=text("subject"), signer=text("signer"),
        kind=kind, doc_type=doc_type and catalogue.canonical_type(doc_type),
        year=parse_int(raw.get("year"), "year"), sender=(raw.get("sender") or "").strip() or None,
        date_from=parse_date(raw.get("from"), "from"), date_to=parse_date(raw.get("to"), "to"),
        sort=sort)
    if params.date_from and params.date_to and params.date_from > params.date_to:
        raise ValidationFailed("“Từ ngày” phải trước “đến ngày”.", field="from")
    return params


def clauses(params: SearchParams) -> tuple:
    found = list(analysis.parse(params.q).clauses)
    found += analysis.parse(params.subject, "subject").clauses
    found += analysis.parse(params.signer, "signer").clauses
    if params.notation:
        phrase = analysis.parse(f'"{params.notation}"').clauses
        if phrase:
            found.append(analysis.Clause(phrase[0].folded, phrase[0].exact,
                                         analysis.notation_key(params.notation)))
    return tuple(found)


@dataclass
class Hit:
    kind: str
    doc: object
    score: float
    subject: Markup
    highlights: list[Markup]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def sender(self) -> str:
        return self.doc.sender if self.kind == "incoming" else ""


@dataclass
class SearchPage:
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def run_query(store, actor: User, params: SearchParams, *, offset: int, limit: int,
              facets: bool = True, exclude_keys: tuple[str, ...] = ()) -> SearchResult:
    request = SearchRequest(
        clauses=clauses(params), org_id=actor.org_id, principals=access.of_user(actor),
        exclude_keys=exclude_keys, kind=params.kind, doc_type=params.doc_type,
        year=params.year, sender=params.sender, date_from=params.date_from,
        date_to=params.date_to, sort=params.sort, offset=offset, limit=limit, facets=facets)
    try:
        return store.reader().search(request)
    except IndexUnavailable:
        store.forget_reader()
        raise SearchUnavailable("Chỉ mục tìm kiếm đang được xây dựng lại. "
                                "Vui lòng thử lại sau ít phút.") from None


def search(session, service, actor: User, params: SearchParams, *, page: int = 1,
           per_page: int = 20) -> SearchPage:
    # Read before the index is searched (docmgr.search.pending says why the order matters).
    denied = pending.denied_keys(session, actor)
    try:
        result = run_query(service.store, actor, params, offset=(page - 1) * per_page,
                           limit=per_page, exclude_keys=denied)
    except SearchUnavailable:
        service.changed()  # wakes the indexer, which rebuilds what it cannot open
        raise
    docs = _load(session, actor, [key for key, _ in result.hits])
    terms = analysis.ParsedQuery(clauses(params)).folded_terms()
    bodies = projection.texts(session, [_file_id(doc) for doc in docs.values()],
                              limit=SNIPPET_SOURCE_CHARS)
    hits = []
    for key, score in result.hits:
        doc = docs.get(key)
        if doc is None:
            continue
        body = bodies.get(_file_id(doc), "")
        hits.append(Hit(projection.parse_key(key)[0], doc, score,
                        highlight.whole(doc.subject, terms), highlight.snippets(body, terms)))
    return SearchPage(result.total, page, per_page, hits, result.facets)


def _file_id(doc) -> int | None:
    return getattr(doc, "signed_file_id", None) or doc.file_id


def _load(session, actor: User, keys: list[str]) -> dict[str, object]:
    """The page's documents in two queries, each filtered by its slice's visibility rule
    again: what the index was told may lag the database by a moment (pending.denied_keys
    covers that already; this is the last word, for the rows actually shown)."""
    wanted = {"incoming": [], "outgoing": []}
    for key in keys:
        kind, doc_id = projection.parse_key(key)
        wanted[kind].append(doc_id)
    found = {}
    if wanted["incoming"]:
        for doc in session.scalars(select(IncomingDocument).where(
                IncomingDocument.id.in_(wanted["incoming"]), inbound.visible_clause(actor))):
            found[projection.key_of("incoming", doc.id)] = doc
    if wanted["outgoing"]:
        for doc in session.scalars(select(OutgoingDocument).where(
                OutgoingDocument.id.in_(wanted["outgoing"]), outbound.visible_clause(actor))
                .options(joinedload(OutgoingDocument.signer))):
            found[projection.key_of("outgoing", doc.id)] = doc
    return found

