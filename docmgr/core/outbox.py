"""The durable side-effect queue: rows written in the same transaction as the change they
announce (index this document, OCR this file), drained later by one worker. A crash after
the commit loses nothing: the row is still there and is processed again; every job is
idempotent."""
from sqlalchemy import Index, Integer, String, Text, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from docmgr.db import Base, UTCDateTime, utcnow

INDEX = "index"  # key: a document key such as "in:12"
OCR = "ocr"  # key: a stored file id


class OutboxItem(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_topic_id", "topic", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(40))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


def enqueue(session, topic: str, key: str) -> None:
    session.add(OutboxItem(topic=topic, key=key))


def pending(session, topic: str, limit: int, *, max_attempts: int = 5) -> list[OutboxItem]:
    return list(session.scalars(
        select(OutboxItem).where(OutboxItem.topic == topic, OutboxItem.attempts < max_attempts)
        .order_by(OutboxItem.id).limit(limit)))


def done(session, ids: list[int]) -> None:
    if ids:
        session.execute(delete(OutboxItem).where(OutboxItem.id.in_(ids)))


def failed(session, ids: list[int], error: str) -> None:
    """Count a failed attempt; after ``max_attempts`` a row stays for an operator to see."""
    if ids:
        session.execute(update(OutboxItem).where(OutboxItem.id.in_(ids)).values(
            attempts=OutboxItem.attempts + 1, last_error=error[:2000]))


def backlog(session) -> dict[str, int]:
    return dict(session.execute(
        select(OutboxItem.topic, func.count()).group_by(OutboxItem.topic)).all())
