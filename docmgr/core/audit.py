"""Append-only, hash-chained audit log.

Each organisation has its own chain (chain 0 holds system events). A row's hash
covers its content and the previous row's hash, so editing or deleting any row
breaks every later link; the head row remembers the last sequence number so
that removing the newest rows is detected too. Appending locks the chain head,
which also orders events of concurrent transactions.
"""
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from docmgr.db import Base, UTCDateTime, insert_ignoring_conflict, utcnow

GENESIS = "0" * 64
SYSTEM_CHAIN = 0


class AuditHead(Base):
    __tablename__ = "audit_heads"
    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain", "seq"),
                      Index("ix_audit_object", "object_type", "object_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    at = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(255), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(40), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


def _digest(event: AuditEvent) -> str:
    payload = [event.chain, event.seq, event.at.isoformat(timespec="microseconds"),
               event.actor_id, event.actor_name, event.action, event.object_type,
               event.object_id, event.details, event.prev_hash]
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _locked_head(session, chain: int) -> AuditHead:
    query = select(AuditHead).where(AuditHead.chain == chain).with_for_update()
    head = session.scalar(query)
    if head is None:
        insert_ignoring_conflict(session, AuditHead, chain=chain, seq=0, last_hash=GENESIS)
        head = session.scalar(query.execution_options(populate_existing=True))
    return head


def record(session, action: str, *, actor=None, org_id: int | None = None, obj=None,
           object_type: str = "", object_id="", actor_name: str = "hệ thống",
           **details) -> AuditEvent:
    """Append an event in the caller's transaction. Call it last: it locks the chain.

    ``actor_name`` names who acted when no user did (the system, someone not logged in)."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id or obj.id
    if org_id is None and actor is not None:
        org_id = actor.org_id
    chain = org_id or SYSTEM_CHAIN
    head = _locked_head(session, chain)
    event = AuditEvent(chain=chain, seq=head.seq + 1, at=utcnow(),
                       actor_id=actor.id if actor else None,
                       actor_name=actor.full_name if actor else actor_name,
                       action=action, object_type=object_type, object_id=str(object_id),
                       details=details, prev_hash=head.last_hash)
    event.hash = _digest(event)
    head.seq, head.last_hash = event.seq, event.hash
    session.add(event)
    session.flush()
    return event


@dataclass
class Breach:
    chain: int
    seq: int
    event_id: int | None
    reason: str


def verify(session) -> Breach | None:
    """Walk every chain; return the first inconsistency or None when all is intact."""
    heads = {h.chain: h for h in session.scalars(select(AuditHead))}
    chains = set(heads) | set(session.scalars(select(AuditEvent.chain).distinct()))
    for chain in sorted(chains):
        expected_prev, expected_seq = GENESIS, 1
        rows = session.execute(select(AuditEvent).where(AuditEvent.chain == chain)
                               .order_by(AuditEvent.seq).execution_options(yield_per=2000))
        for event in rows.scalars():
            if event.seq != expected_seq:
                return Breach(chain, expected_seq, event.id, "missing row (sequence gap)")
            if event.prev_hash != expected_prev:
                return Breach(chain, event.seq, event.id, "broken link to previous row")
            if _digest(event) != event.hash:
                return Breach(chain, event.seq, event.id, "row content altered")
            expected_prev, expected_seq = event.hash, expected_seq + 1
        head = heads.get(chain)
        if head is None or head.seq != expected_seq - 1 or head.last_hash != expected_prev:
            return Breach(chain, expected_seq, None, "newest rows missing or head altered")
    return None


# --- what a reader of the log may learn -------------------------------------------------------
#
# Core knows no document table; each slice that keeps classified documents registers, under
# its table name, a function answering "which of these ids are classified documents this
# user may not open", built on the slice's own visibility rule. Events about such a document
# are shown to that user only as an event on "văn bản mật #id".

SealedIds = Callable[..., set[int]]  # (session, user, ids) -> the ids to seal
_SEALERS: dict[str, SealedIds] = {}
_KINDS: dict[str, str] = {}  # the "kind" a detail names ("incoming") -> its table name


def seal_documents(model, kind: str, visible_clause) -> None:
    """Register a slice's documents: the log seals events about those that are classified
    and that the reader may not open by the slice's own ``visible_clause(user)``. ``kind``
    is the word other slices' events use in their details for them (records: "incoming")."""
    def sealed_ids(session, user, ids: set[int]) -> set[int]:
        may_open = select(model.id).where(model.id.in_(ids), visible_clause(user))
        return set(session.scalars(select(model.id).where(
            model.id.in_(ids), model.secrecy != "normal", model.id.not_in(may_open))))
    _SEALERS[model.__tablename__] = sealed_ids
    _KINDS[kind] = model.__tablename__


SEALED_LABEL = "văn bản mật #{id}"


def _document_refs(event: AuditEvent) -> Iterable[tuple[str, int]]:
    """The documents an event is about: its object, and a document its details name (a
    hồ sơ's filing events name the filed document)."""
    if event.object_type in _SEALERS and str(event.object_id).isdigit():
        yield event.object_type, int(event.object_id)
    details = event.details or {}
    named, kind = details.get("document_id"), _KINDS.get(details.get("kind"))
    if kind is not None and isinstance(named, int):
        yield kind, named


@dataclass(frozen=True)
class Sealed:
    """All the log shows of an event about a classified document its reader may not open."""
    object: str
    details: str


def sealed(session, user, events: list[AuditEvent]) -> dict[int, Sealed]:
    """For the events of a page, those about a classified document ``user`` may not open:
    event id -> the only words to show. One query per document table, whatever the
    number of events."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        for object_type, doc_id in _document_refs(event):
            wanted.setdefault(object_type, set()).add(doc_id)
    hidden = {object_type: _SEALERS[object_type](session, user, ids)
              for object_type, ids in wanted.items()}
    answer = {}
    for event in events:
        for object_type, doc_id in _document_refs(event):
            if doc_id not in hidden[object_type]:
                continue
            label = SEALED_LABEL.format(id=doc_id)
            if event.object_type == object_type:  # the event is about the document itself
                answer[event.id] = Sealed(label, "")
            else:  # about something else (a hồ sơ) naming the document in its details
                answer[event.id] = Sealed(f"{event.object_type} {event.object_id}", label)
    return answer
