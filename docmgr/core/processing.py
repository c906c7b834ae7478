"""Stored files that the sandboxed workers could not process within their limits.

A file whose rendering or text extraction crossed a worker's memory or CPU limit, or
crashed it, will do the same next time: it is marked once (``StoredFile.over_limit``)
and previews, text extraction and OCR skip it from then on instead of spending a worker
on it again. The mark is written in its own short transaction, so a read-only request
(a preview) can record it too, and every node sees it.
"""
from sqlalchemy import update

from docmgr.core.documents import StoredFile


def mark_over_limit(db, file_id: int, limit: str) -> None:
    with db.transaction() as session:
        session.execute(update(StoredFile).where(
            StoredFile.id == file_id, StoredFile.over_limit.is_(None)).values(
            over_limit=limit[:20]))
