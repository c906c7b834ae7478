"""Announce every change to a searchable document in the outbox, in the same transaction.

A listener on the writing sessions sees each flushed incoming or outgoing document (and
each assignment, which changes who may read a classified document) and queues its key, so
no operation can forget to re-index what it changed. After the commit the in-process
drainer, if any, is woken.
"""
from sqlalchemy import event, inspect

from docmgr.core import outbox
from docmgr.inbound.models import Assignment, IncomingDocument
from docmgr.outbound.models import OutgoingDocument
from docmgr.search import projection

_QUEUED = "search_keys"


def _was_or_is(obj, statuses) -> bool:
    history = inspect(obj).attrs.status.history
    return any(value in statuses for value in (obj.status, *history.deleted))


def _key(obj) -> str | None:
    if isinstance(obj, IncomingDocument) and _was_or_is(obj, projection.INCOMING_INDEXED):
        return projection.key_of("incoming", obj.id)
    if isinstance(obj, OutgoingDocument) and _was_or_is(obj, projection.OUTGOING_INDEXED):
        return projection.key_of("outgoing", obj.id)
    if isinstance(obj, Assignment) and obj.document_id is not None:
        return projection.key_of("incoming", obj.document_id)
    return None


def _after_flush(session, _context) -> None:
    """Runs when ids exist and the flushed changes are still known; the queued rows are
    written by the commit's next flush, in the same transaction."""
    queued = session.info.setdefault(_QUEUED, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        key = _key(obj)
        if key and key not in queued:
            queued.add(key)
            outbox.enqueue(session, outbox.INDEX, key)


def install(sessionmaker, on_commit) -> None:
    """Watch the sessions made by ``sessionmaker``; ``on_commit()`` runs after a commit
    that queued something."""
    event.listen(sessionmaker, "after_flush", _after_flush)

    @event.listens_for(sessionmaker, "after_commit")
    def _committed(session):
        if session.info.pop(_QUEUED, None):
            on_commit()

    @event.listens_for(sessionmaker, "after_rollback")
    def _rolled_back(session):
        session.info.pop(_QUEUED, None)
