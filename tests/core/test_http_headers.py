"""Issue 11: response headers (HSTS behind HTTPS, no-store, CSP) and private files in the
data directory; the blob journal that removes what a refused request wrote."""
import os
import stat
import threading

import pytest

from docmgr import create_app
from docmgr.core.storage import BlobJournal, BlobStore
from tests.conftest import registration_form, upload


@pytest.fixture
def app_config():
    return {"SECURE_COOKIES": True}


def test_pages_carry_hsts_csp_and_no_store(app):
    r = app.test_client().get("/login")
    assert r.status_code == 200
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
    csp = r.headers["Content-Security-Policy"]
    assert "form-action 'self'" in csp and "base-uri 'none'" in csp
    assert r.headers["Cache-Control"] == "no-store"
    assert "Secure" in r.headers["Set-Cookie"]


def test_static_assets_may_be_cached(app):
    r = app.test_client().get("/static/app.css")
    assert r.status_code == 200
    assert r.headers.get("Cache-Control") != "no-store"


def test_exports_files_and_previews(api, pdf_bytes):
    doc = api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                      "file": upload(pdf_bytes)}).json
    export = api("clerk").get("/api/v1/registers/incoming?format=csv")
    assert export.status_code == 200 and export.headers["Cache-Control"] == "no-store"
    assert export.headers["Content-Disposition"].startswith("attachment; filename=")
    listing = api("clerk").get("/api/v1/incoming")
    assert listing.headers["Cache-Control"] == "no-store"
    assert api("clerk").get(f"/api/v1/incoming/{doc['id']}/file").headers[
        "Cache-Control"] == "no-store"


def test_without_https_no_hsts(database_url, tmp_path):
    app = create_app({"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path / "d"),
                      "SECRET_KEY": "x", "TESTING": True, "INDEXER": "worker"})
    r = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in r.headers
    assert r.headers["Cache-Control"] == "no-store"
    app.extensions["docmgr"].db.dispose()


def test_data_dir_and_secret_key_are_private_whatever_the_umask(database_url, tmp_path):
    old = os.umask(0o002)
    try:
        app = create_app({"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path / "d"),
                          "TESTING": True, "INDEXER": "worker"})
        blobs = app.extensions["docmgr"].blobs
        digest = blobs.put(b"%PDF-1.7 x")
    finally:
        os.umask(old)
    data = tmp_path / "d"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE(blobs.path(digest).stat().st_mode) == 0o400
    for directory in (blobs.root, blobs.path(digest).parent, blobs.path(digest).parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    app.extensions["docmgr"].db.dispose()


# --- the journal, without a request --------------------------------------------------------

def _store(tmp_path):
    journals = threading.local()

    def current():
        return getattr(journals, "journal", None)
    return BlobStore(tmp_path / "blobs", journal=current), journals


def test_discard_removes_only_what_the_request_created(tmp_path):
    store, journals = _store(tmp_path)
    kept = store.put(b"already there")  # no journal: written by an earlier request
    journals.journal = BlobJournal()
    new = store.put(b"new content")
    assert store.put(b"already there") == kept
    removed = journals.journal.discard(lambda sha: False)
    assert removed == [store.path(new)]
    assert store.exists(kept) and not store.exists(new)


def test_discard_keeps_a_blob_another_request_uses_or_a_row_names(tmp_path):
    store, journals = _store(tmp_path)
    first, second = BlobJournal(), BlobJournal()
    journals.journal = first
    digest = store.put(b"same scan")
    journals.journal = second
    store.put(b"same scan")  # another request stores the same bytes, not yet committed
    assert first.discard(lambda sha: False) == []
    assert store.exists(digest)
    second.release()  # it committed: its row now names the blob
    journals.journal = third = BlobJournal()
    other = store.put(b"committed elsewhere")
    assert third.discard(lambda sha: sha == other) == []
    assert store.exists(other)


def test_a_blob_removed_meanwhile_is_written_again(tmp_path):
    store, journals = _store(tmp_path)
    journals.journal = first = BlobJournal()
    digest = store.put(b"scan")
    first.discard(lambda sha: False)
    journals.journal = BlobJournal()
    assert store.put(b"scan") == digest and store.get(digest) == b"scan"
