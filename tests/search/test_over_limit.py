"""A stored file that exceeds the processing limits is read once, marked and indexed by
its metadata; the next drains neither read it again nor queue it for OCR."""
import hashlib
from datetime import date

from sqlalchemy import select

from docmgr.core import auth as accounts
from docmgr.core import outbox
from docmgr.core.documents import StoredFile
from docmgr.core.uploads import CheckedPdf
from docmgr.inbound import operations as inbound
from docmgr.search import projection, text
from docmgr.search.models import FileText
from tests.bombs import content_bomb_pdf


def store_past_the_check(db, blobs, world, pdf: bytes, subject: str) -> int:
    checked = CheckedPdf(data=pdf, page_count=1, sha256=hashlib.sha256(pdf).hexdigest(),
                         has_signatures=False)
    with db.transaction() as s:
        clerk = s.get(accounts.User, world.users["clerk"].id)
        data = inbound.Registration(sender="Không rõ", notation="1/BOM",
                                    doc_date=date(2026, 11, 2), doc_type="CV", subject=subject)
        return inbound.register(s, blobs, clerk, data, checked, "bom.pdf").id


def test_the_indexer_marks_a_file_over_the_limits_and_moves_on(
        api, db, blobs, world, search, drain, monkeypatch):
    doc_id = store_past_the_check(db, blobs, world, content_bomb_pdf(3000),
                                  "Kế hoạch kiểm tra tệp quá giới hạn")
    stats = drain(with_ocr=True)
    assert stats.indexed == 1 and stats.ocr_files == 0
    with db.transaction(readonly=True) as s:
        assert s.scalar(select(StoredFile.over_limit)) in ("memory", "crash")
        kept = s.scalar(select(FileText))
        assert (kept.text, kept.missing_pages) == ("", [])
        assert not outbox.pending(s, outbox.OCR, 10)
    hits = api("clerk").get("/api/v1/search", query_string={"q": "kiem tra tep"}).json
    assert [hit["id"] for hit in hits["hits"]] == [doc_id]  # found by its metadata

    # Re-indexing the document (an edit, a rebuild) never opens the file again.
    def must_not_read(*args, **kwargs):
        raise AssertionError("a file over the limits was read again")
    monkeypatch.setattr(text, "extract", must_not_read)
    with db.transaction() as s:
        s.execute(FileText.__table__.delete())
        outbox.enqueue(s, outbox.INDEX, projection.key_of("incoming", doc_id))
    assert drain(with_ocr=True).indexed == 1
    search.indexer.reindex()
