"""Documents the index has not caught up with, checked against the database at query time.

A change that narrows who may open a document (an assignment withdrawn or handed to
someone else, a route changed) reaches the index only when the indexer drains the outbox
row that the change wrote in its own transaction (see :mod:`docmgr.search.hooks`). Until
then the index still lists the old principals, and a search would count the document for
whoever just lost it. So each search first asks the database which of the documents
queued for re-indexing the caller may not open now, and the index query leaves those
out: totals, facets and pages never count what the database denies.

Why at query time rather than re-indexing in the request that revoked access: the index
has one writer (a thread or a separate worker process, holding a file lock), and a web
request must never wait for it nor write an index beside it. The outbox already is the
exact list of documents whose index entry may be stale: a row is written in the same
transaction as the change and deleted only after the index has committed it.

Order matters: the queue is read before the index is searched. A row deleted in between
was committed to the index first, so every stale entry is covered by one or the other.
Queued documents the caller may open are not added back: the index shows them as soon as
it catches up (a delay, never a leak).

Cost: one index probe when nothing is queued (the usual state), else one query over the
queued rows of the caller's organisation; tests/bench/search.py measures both.
"""
from sqlalchemy import Integer, cast, false, func, literal, not_, select, union_all

from docmgr.core import outbox
from docmgr.core.auth import User
from docmgr.inbound import operations as inbound
from docmgr.inbound.models import IncomingDocument
from docmgr.outbound import operations as outbound
from docmgr.outbound.models import OutgoingDocument
from docmgr.search import projection

_SLICES = (("incoming", IncomingDocument, inbound.visible_clause),
           ("outgoing", OutgoingDocument, outbound.visible_clause))


def _queued_ids(kind: str):
    """The ids of the documents of ``kind`` waiting in the outbox ("in:12" → 12)."""
    prefix = f"{projection.PREFIX[kind]}:"
    key = outbox.OutboxItem.key
    # Rows that failed too often stay in the outbox for an operator: still stale, so kept.
    return select(cast(func.substr(key, len(prefix) + 1), Integer)).where(
        outbox.OutboxItem.topic == outbox.INDEX, key.like(f"{prefix}%"))


def denied_keys(session, actor: User) -> tuple[str, ...]:
    """The index keys of the queued documents of the actor's organisation that the actor
    may not open now, by each slice's own visibility rule."""
    if session.scalar(select(outbox.OutboxItem.id).where(
            outbox.OutboxItem.topic == outbox.INDEX).limit(1)) is None:
        return ()  # the usual state: one probe of the (topic, id) index, nothing to check
    parts = [select(literal(kind).label("kind"), model.id.label("id")).where(
        model.org_id == actor.org_id, model.id.in_(_queued_ids(kind)),
        # "Not visible" must hold when the rule is unknown (NULL) too: deny by default.
        not_(func.coalesce(visible(actor), false())))
        for kind, model, visible in _SLICES]
    rows = session.execute(union_all(*parts)).all()
    return tuple(sorted(projection.key_of(kind, doc_id) for kind, doc_id in rows))
