"""The one writer of the index: drains the outbox in batches, extracts text, runs OCR, and
rebuilds the whole index on demand or when it is found missing or damaged.

Every step is idempotent and outbox rows are deleted only after the index has committed,
so a crash at any point loses nothing: the rows are simply processed again.
"""
import logging
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from docmgr.core import outbox, processing
from docmgr.core.documents import StoredFile
from docmgr.core.storage import BlobStore
from docmgr.db import Database
from docmgr.inbound.models import IncomingDocument
from docmgr.outbound.models import OutgoingDocument
from docmgr.search import projection, text
from docmgr.search.backend import Backend, IndexUnavailable
from docmgr.search.models import FileText
from docmgr.search.store import IndexStore

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class DrainStats:
    indexed: int = 0
    removed: int = 0
    ocr_files: int = 0
    failed: int = 0
    rebuilt: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def work_done(self) -> int:
        return self.indexed + self.removed + self.ocr_files + self.failed


class Indexer:
    def __init__(self, db: Database, blobs: BlobStore, store: IndexStore, *,
                 ocr_lang: str = "vie"):
        self.db, self.blobs, self.store, self.ocr_lang = db, blobs, store, ocr_lang

    # --- draining the outbox --------------------------------------------------------------

    def drain(self, *, with_ocr: bool = True, wait: bool = True) -> DrainStats:
        """Process every pending row; OCR only when ``with_ocr`` (the worker, never a web
        request). Returns at once, doing nothing, if another writer is busy and not
        ``wait``."""
        stats = DrainStats()
        with self.store.writer_lock(wait=wait) as locked:
            if not locked:
                return stats
            backend = self._writable(stats)
            try:
                while True:
                    batch = self._index_batch(backend, stats)
                    if not batch and not (with_ocr and self._ocr_one(stats)):
                        break
                if stats.work_done:
                    backend.maintain()
            finally:
                backend.close()
        return stats

    def _writable(self, stats: DrainStats) -> Backend:
        try:
            return self.store.open(self.store.path)
        except IndexUnavailable as exc:
            log.warning("search index unavailable (%s): rebuilding it", exc)
            stats.indexed += self._rebuild()
            stats.rebuilt = True
            return self.store.open(self.store.path)

    def _index_batch(self, backend: Backend, stats: DrainStats) -> int:
        """One batch: read in a short read-only transaction, extract text and write the
        index outside any transaction (so clerks are never kept waiting on the database),
        then delete the rows in a short write transaction once the index has committed."""
        with self.db.transaction(readonly=True) as session:
            rows = [(row.id, row.key) for row in outbox.pending(session, outbox.INDEX, BATCH)]
            if not rows:
                return 0
            sources, gone = projection.load(session, sorted({key for _, key in rows}))
            bodies, unread = self._known_texts(session, sources)
        ids = [row_id for row_id, _ in rows]
        try:
            extracted = self._extract(unread)
            docs = self._records(sources, bodies, extracted)
            backend.write(docs, gone)
        except Exception as exc:  # one bad batch must not stop the queue forever
            log.exception("indexing batch failed")
            with self.db.transaction() as session:
                outbox.failed(session, ids, str(exc))
            stats.failed += len(ids)
            stats.errors.append(str(exc))
            return 0
        with self.db.transaction() as session:
            self._keep_texts(session, extracted)
            outbox.done(session, ids)
        stats.indexed += len(docs)
        stats.removed += len(gone)
        return len(rows)

    def _documents(self, session, keys: list[str]):
        """The index records for ``keys`` and the keys to remove, in one transaction (for
        the rebuild, which nobody waits on)."""
        sources, gone = projection.load(session, keys)
        bodies, unread = self._known_texts(session, sources)
        extracted = self._extract(unread)
        self._keep_texts(session, extracted)
        return self._records(sources, bodies, extracted), gone

    @staticmethod
    def _records(sources, bodies: dict[int, str], extracted: dict) -> list:
        bodies = {**bodies, **{file_id: "\f".join(found.pages)
                               for file_id, found in extracted.items()}}
        return [projection.to_indexed(source, bodies.get(source.file_id, ""))
                for source in sources]

    # --- text -----------------------------------------------------------------------------

    @staticmethod
    def _known_texts(session, sources) -> tuple[dict[int, str], dict[int, tuple]]:
        """Texts already kept, and {file id: (sha256, over_limit)} of the files never
        read."""
        file_ids = {source.file_id for source in sources if source.file_id}
        bodies = projection.texts(session, file_ids)
        unread_ids = file_ids - set(bodies)
        unread = {row.id: (row.sha256, row.over_limit) for row in session.execute(
            select(StoredFile.id, StoredFile.sha256, StoredFile.over_limit).where(
                StoredFile.id.in_(unread_ids)))} if unread_ids else {}
        return bodies, unread

    def _extract(self, unread: dict[int, tuple]) -> dict:
        """The text of each file, read in a sandboxed worker. A file over the limits is
        marked and kept with no text (its documents are indexed by their metadata and it
        is never read again); one that cannot be read now is left for a later run."""
        found = {}
        for file_id, (sha256, over_limit) in unread.items():
            if over_limit:
                found[file_id] = text.ExtractedText(pages=[], missing=[])
                continue
            try:
                found[file_id] = text.extract(self.blobs.path(sha256))
            except text.TextOverLimit as exc:
                log.warning("file %s exceeds the processing limits: %s", file_id, exc)
                processing.mark_over_limit(self.db, file_id, exc.limit)
                found[file_id] = text.ExtractedText(pages=[], missing=[])
            except (text.TextUnreadable, FileNotFoundError) as exc:
                log.warning("no text for file %s: %s", file_id, exc)
                found[file_id] = text.ExtractedText(pages=[], missing=[])
            except text.TextDeferred as exc:
                log.warning("text of file %s not read now: %s", file_id, exc)
        return found

    @staticmethod
    def _keep_texts(session, extracted: dict) -> None:
        """Keep what was read; pages without a text layer are queued for OCR."""
        for file_id, found in extracted.items():
            if session.get(FileText, file_id) is not None:
                continue  # kept meanwhile by another batch
            session.add(FileText(file_id=file_id, text="\f".join(found.pages),
                                 pages=len(found.pages), missing_pages=list(found.missing)))
            if found.missing:
                outbox.enqueue(session, outbox.OCR, str(file_id))
        session.flush()

    def _ocr_one(self, stats: DrainStats) -> bool:
        """OCR one file's missing pages (outside any transaction: it takes seconds), keep
        the text, and queue its documents for re-indexing. False when there is nothing to
        do, or when Tesseract is not installed (the rows wait for it)."""
        with self.db.transaction(readonly=True) as session:
            rows = outbox.pending(session, outbox.OCR, 1)
            if not rows:
                return False
            row_id, file_id = rows[0].id, int(rows[0].key)
            stored = session.get(StoredFile, file_id)
            kept = session.get(FileText, file_id)
            missing = list(kept.missing_pages) if kept is not None else []
            sha256 = stored.sha256 if stored is not None and not stored.over_limit else None
        if not missing or sha256 is None:
            with self.db.transaction() as session:
                outbox.done(session, [row_id])
            return True
        if not text.ocr_available(self.ocr_lang):
            return False
        try:
            found = text.ocr_pages(self.blobs.path(sha256), missing, lang=self.ocr_lang)
        except text.TextOverLimit as exc:
            log.warning("file %s exceeds the processing limits: %s", file_id, exc)
            processing.mark_over_limit(self.db, file_id, exc.limit)
            with self.db.transaction() as session:
                session.get(FileText, file_id).missing_pages = []
                outbox.done(session, [row_id])
            stats.failed += 1
            stats.errors.append(str(exc))
            return True
        except (text.OcrFailed, text.TextUnreadable, text.TextDeferred, OSError) as exc:
            with self.db.transaction() as session:
                outbox.failed(session, [row_id], str(exc))
            stats.failed += 1
            stats.errors.append(str(exc))
            return True
        with self.db.transaction() as session:
            kept = session.get(FileText, file_id)
            kept.text = "\f".join(text.merge(kept.page_texts, found))
            kept.ocr_pages = sorted(set(kept.ocr_pages) | set(found))
            kept.missing_pages = sorted(set(kept.missing_pages) - set(found))
            for key in self._keys_using_file(session, file_id):
                outbox.enqueue(session, outbox.INDEX, key)
            outbox.done(session, [row_id])
        stats.ocr_files += 1
        return True

    @staticmethod
    def _keys_using_file(session, file_id: int) -> list[str]:
        incoming = session.scalars(select(IncomingDocument.id).where(
            IncomingDocument.file_id == file_id))
        outgoing = session.scalars(select(OutgoingDocument.id).where(or_(
            OutgoingDocument.signed_file_id == file_id, OutgoingDocument.file_id == file_id)))
        return ([projection.key_of("incoming", i) for i in incoming]
                + [projection.key_of("outgoing", i) for i in outgoing])

    def ensure_index(self) -> bool:
        """Build the index if it is missing or unreadable; True if it had to be built."""
        with self.store.writer_lock():
            try:
                self.store.open(self.store.path).close()
                return False
            except IndexUnavailable:
                self._rebuild()
                return True

    # --- rebuilding -----------------------------------------------------------------------

    def reindex(self, progress=None) -> int:
        """Rebuild the whole index from the database into a fresh directory and swap it in.
        ``progress(done, total)`` is called after each batch. Returns the documents indexed."""
        with self.store.writer_lock():
            return self._rebuild(progress)

    def _rebuild(self, progress=None) -> int:
        with self.db.transaction(readonly=True) as session:
            # Rows up to here are covered by the rebuild; later ones are drained after it.
            covered = session.scalar(select(func.max(outbox.OutboxItem.id)).where(
                outbox.OutboxItem.topic == outbox.INDEX)) or 0
            keys = self._all_keys(session)
        path, backend = self.store.fresh()
        done = 0
        try:
            for start in range(0, len(keys), BATCH):
                chunk = keys[start:start + BATCH]
                with self.db.transaction() as session:
                    docs, _ = self._documents(session, chunk)
                backend.write(docs, [], commit=False)
                done += len(docs)
                if progress:
                    progress(start + len(chunk), len(keys))
            backend.write([], [], commit=True)
        finally:
            backend.close()
        self.store.swap(path)
        with self.db.transaction() as session:
            session.execute(outbox.OutboxItem.__table__.delete().where(
                outbox.OutboxItem.topic == outbox.INDEX, outbox.OutboxItem.id <= covered))
        return done

    @staticmethod
    def _all_keys(session) -> list[str]:
        incoming = session.scalars(select(IncomingDocument.id).where(
            IncomingDocument.status.in_(projection.INCOMING_INDEXED)).order_by(
            IncomingDocument.id))
        outgoing = session.scalars(select(OutgoingDocument.id).where(
            OutgoingDocument.status.in_(projection.OUTGOING_INDEXED)).order_by(
            OutgoingDocument.id))
        return ([projection.key_of("incoming", i) for i in incoming]
                + [projection.key_of("outgoing", i) for i in outgoing])
