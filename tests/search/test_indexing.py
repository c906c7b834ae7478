"""The index is derived: rebuilt from scratch it answers the same; a crash, a damaged or
missing index, or a scan without text loses nothing."""
import os

import pytest
from sqlalchemy import func, select

from docmgr.core import outbox
from docmgr.search import text
from docmgr.search.models import FileText
from tests.conftest import registration_form, upload
from tests.generated import scan_pdf

QUERIES = ("ke hoach", "bao cao", '"an ninh"', "876/BC-VP", "ngân sách", "y te", "")


def register(api, pdf, **fields):
    r = api("clerk").post("/api/v1/incoming", data={**registration_form(**fields),
                                                      "file": upload(pdf)})
    assert r.status_code == 201, r.json
    return r.json


def answers(api, user="leader"):
    found = {}
    for q in QUERIES:
        r = api(user).get("/api/v1/search", query_string={"q": q, "per_page": 100,
                                                          "sort": "date"})
        assert r.status_code == 200, r.json
        found[q] = (r.json["total"], [hit["id"] for hit in r.json["hits"]], r.json["facets"])
    return found


@pytest.fixture
def archive(api, pdf_bytes, drain, search):
    subjects = ["Kế hoạch phòng chống thiên tai", "Báo cáo an ninh trật tự quý III",
                "Báo cáo quyết toán ngân sách", "Kế hoạch y tế học đường",
                "Công văn về việc góp ý dự thảo"]
    made = [register(api, pdf_bytes, notation=f"{n}/BC-VP" if n else "876/BC-VP",
                     subject=subject, secrecy="confidential" if n == 3 else "normal")
            for n, subject in enumerate(subjects)]
    drain()
    return made


def test_a_rebuilt_index_answers_exactly_the_same(api, archive, search):
    before = {user: answers(api, user) for user in ("leader", "specialist", "clerk")}
    assert before["leader"]["ke hoach"][0] == 2
    assert search.indexer.reindex() == len(archive)
    assert {user: answers(api, user) for user in before} == before


def test_crash_while_writing_the_index_loses_nothing(api, pdf_bytes, search, monkeypatch, db):
    backend_class = type(search.store.reader())

    def crash(self, docs, delete_keys):
        raise OSError("disk died mid-write")
    monkeypatch.setattr(backend_class, "write", crash)
    doc = register(api, pdf_bytes, subject="Kế hoạch chuyển đổi số")
    stats = search.indexer.drain(with_ocr=False)
    assert stats.failed == 1 and "disk died" in stats.errors[0]
    monkeypatch.undo()
    with db.transaction(readonly=True) as s:
        row = s.scalar(select(outbox.OutboxItem).where(outbox.OutboxItem.topic == outbox.INDEX))
        assert row.key == f"in:{doc['id']}" and row.attempts == 1
    assert search.indexer.drain(with_ocr=False).indexed == 1
    r = api("clerk").get("/api/v1/search", query_string={"q": "chuyen doi so"})
    assert [hit["id"] for hit in r.json["hits"]] == [doc["id"]]


def test_crash_after_the_index_committed_indexes_again_without_duplicates(
        api, pdf_bytes, search, monkeypatch, db):
    doc = register(api, pdf_bytes, subject="Kế hoạch chuyển đổi số")

    def crash(session, ids):
        raise KeyboardInterrupt  # the process dies before the rows are deleted
    monkeypatch.setattr(outbox, "done", crash)
    with pytest.raises(KeyboardInterrupt):
        search.indexer.drain(with_ocr=False)
    monkeypatch.undo()
    with db.transaction(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(outbox.OutboxItem)) == 1
    search.indexer.drain(with_ocr=False)
    r = api("clerk").get("/api/v1/search", query_string={"q": "chuyen doi so"})
    assert r.json["total"] == 1 and r.json["hits"][0]["id"] == doc["id"]
    assert search.store.reader().count() == 1


def test_a_damaged_index_is_detected_and_rebuilt(api, archive, search, drain):
    before = answers(api)
    search.store.forget_reader()
    for name in os.listdir(search.store.path):
        path = search.store.path / name
        if path.is_file() and name != "docmgr-index.json":
            path.write_bytes(b"\0garbage")
    r = api("leader").get("/api/v1/search", query_string={"q": "ke hoach"})
    assert r.status_code == 503 and r.json["error"]["code"] == "search_unavailable"
    assert drain().rebuilt
    assert answers(api) == before


def test_a_missing_index_is_rebuilt_by_the_next_drain(api, archive, search, drain):
    before = answers(api)
    search.store.forget_reader()
    import shutil
    shutil.rmtree(search.store.path)
    assert api("leader").get("/api/v1/search?q=a").status_code == 503
    assert drain().rebuilt
    assert answers(api) == before


def test_reindex_switches_the_archive_to_the_other_backend(app, api, archive, search):
    from docmgr.search.indexer import Indexer
    from docmgr.search.store import IndexStore
    before = answers(api)
    other = "tantivy" if search.backend_name == "whoosh" else "whoosh"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["docmgr", "reindex", "--backend", other])
    assert result.exit_code == 0, result.output
    assert f"{len(archive)} văn bản" in result.output
    services = app.extensions["docmgr"]
    search.store = IndexStore(services.data_dir, other)
    search.indexer = Indexer(services.db, services.blobs, search.store)
    assert answers(api) == before


@pytest.mark.skipif(not os.environ.get("CI") and not text.ocr_available(),
                    reason="Tesseract with Vietnamese is not installed")
def test_a_scan_is_read_by_ocr_in_the_worker_and_then_found(api, search, drain, db):
    doc = register(api, scan_pdf(), notation="28/2021/NĐ-CP", sender="Chính phủ",
                   subject="Nghị định (bản chụp)")
    assert drain().indexed == 1  # indexed at once, by its metadata
    assert api("clerk").get("/api/v1/search?q=doi+tac+cong+tu").json["total"] == 0
    with db.transaction(readonly=True) as s:
        assert s.scalar(select(FileText)).missing_pages == [0]
    stats = drain(with_ocr=True)
    assert stats.ocr_files == 1 and stats.indexed == 1
    r = api("clerk").get("/api/v1/search", query_string={"q": "doi tac cong tu"})
    assert [hit["id"] for hit in r.json["hits"]] == [doc["id"]]
    with db.transaction(readonly=True) as s:
        kept = s.scalar(select(FileText))
        assert kept.ocr_pages == [0] and kept.missing_pages == []

