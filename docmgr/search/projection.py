"""What the index holds for a document, read from the database in a few batched queries."""
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from docmgr.core.auth import Organization
from docmgr.inbound.models import Assignment, AssignmentRole, IncomingDocument, IncomingStatus
from docmgr.outbound.models import OutgoingDocument, OutgoingStatus
from docmgr.search import access, analysis
from docmgr.search.backend import IndexedDoc
from docmgr.search.models import FileText

# Documents are searchable once they are in their register.
INCOMING_INDEXED = IncomingStatus.IN_REGISTER
OUTGOING_INDEXED = OutgoingStatus.IN_REGISTER
KINDS = {"in": "incoming", "out": "outgoing"}
PREFIX = {kind: prefix for prefix, kind in KINDS.items()}


def key_of(kind: str, doc_id: int) -> str:
    return f"{PREFIX[kind]}:{doc_id}"


def parse_key(key: str) -> tuple[str, int]:
    prefix, _, number = key.partition(":")
    return KINDS[prefix], int(number)


@dataclass
class Source:
    """A document as the indexer sees it: its row, its file and the principals."""
    key: str
    doc: object
    file_id: int | None
    principals: list[str]
    sender: str
    signer: str
    unit: str


def load(session, keys: list[str]) -> tuple[list[Source], list[str]]:
    """The indexable documents among ``keys``, and the keys to remove from the index
    (documents that no longer exist or are not, or no longer, searchable)."""
    wanted = {"incoming": set(), "outgoing": set()}
    for key in keys:
        kind, doc_id = parse_key(key)
        wanted[kind].add(doc_id)
    sources = _incoming(session, wanted["incoming"]) + _outgoing(session, wanted["outgoing"])
    found = {source.key for source in sources}
    return sources, sorted(set(keys) - found)


def _incoming(session, ids: set[int]) -> list[Source]:
    if not ids:
        return []
    docs = session.scalars(
        select(IncomingDocument)
        .where(IncomingDocument.id.in_(ids), IncomingDocument.status.in_(INCOMING_INDEXED))
        .options(selectinload(IncomingDocument.assignments).joinedload(Assignment.unit))).all()
    sources = []
    for doc in docs:
        active = [a for a in doc.assignments if a.active]
        main_units = [a.unit.abbr for a in active
                      if a.unit_id is not None and a.role == AssignmentRole.MAIN]
        sources.append(Source(key_of("incoming", doc.id), doc, doc.file_id,
                              access.of_incoming(doc, active), doc.sender, "",
                              main_units[0] if main_units else ""))
    return sources


def _outgoing(session, ids: set[int]) -> list[Source]:
    if not ids:
        return []
    docs = session.scalars(
        select(OutgoingDocument)
        .where(OutgoingDocument.id.in_(ids), OutgoingDocument.status.in_(OUTGOING_INDEXED))
        .options(joinedload(OutgoingDocument.signer), joinedload(OutgoingDocument.unit),
                 selectinload(OutgoingDocument.route))).all()
    orgs = dict(session.execute(select(Organization.id, Organization.name).where(
        Organization.id.in_({doc.org_id for doc in docs}))).all()) if docs else {}
    return [Source(key_of("outgoing", doc.id), doc, doc.signed_file_id or doc.file_id,
                   access.of_outgoing(doc, [step.reviewer_id for step in doc.route]),
                   orgs.get(doc.org_id, ""), doc.signer.full_name if doc.signer else "",
                   doc.unit.abbr if doc.unit else "")
            for doc in docs]


def texts(session, file_ids, *, limit: int | None = None) -> dict[int, str]:
    """The kept text of each file; with ``limit``, only its first ``limit`` characters
    (snippets come from the start of a long law, not from all 200 pages)."""
    ids = {file_id for file_id in file_ids if file_id}
    if not ids:
        return {}
    column = func.substr(FileText.text, 1, limit) if limit else FileText.text
    return dict(session.execute(
        select(FileText.file_id, column).where(FileText.file_id.in_(ids))).all())


def to_indexed(source: Source, body: str) -> IndexedDoc:
    doc = source.doc
    year = doc.arrival_year if source.key.startswith("in:") else (doc.year or 0)
    everything = " ".join((doc.notation or "", source.sender, doc.subject or "", source.signer,
                           body))
    subject, exact = analysis.normalise(doc.subject), analysis.normalise(everything)
    return IndexedDoc(
        key=source.key, kind=parse_key(source.key)[0], org_id=doc.org_id,
        principals=source.principals, doc_type=doc.doc_type, year=year or 0,
        doc_date=doc.doc_date, notation_key=analysis.notation_key(doc.notation or ""),
        sender=source.sender, secrecy=doc.secrecy, unit=source.unit,
        subject_f=analysis.fold_normalised(subject), subject_x=subject,
        text_x=exact, text_f=None,  # the longest text: folded by the engine, in Rust for Tantivy
        signer_f=analysis.fold(source.signer))


