"""Faults: a full disk and an unreachable database give a clear Vietnamese answer with a
status a client can retry on, and store nothing. (A damaged or missing search index is
covered by tests/search/test_indexing.py: 503, then rebuilt by the next drain.)"""
import contextlib
import errno
import os
import socket
import sqlite3
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from docmgr.core.documents import StoredFile
from docmgr.demo import sample_pdf
from docmgr.inbound.models import IncomingDocument
from docmgr.maintenance.faults import classify_db_error
from docmgr.outbound.models import OutgoingDocument
from tests.conftest import PG_URL, csrf_from, registration_form, upload
from tests.outbound.conftest import ORG_PIN
from tests.reliability.conftest import free_port


def _disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _blob_files(blobs) -> list:
    return [p for p in blobs.root.rglob("*") if p.is_file()]


def test_disk_full_while_registering_stores_nothing(api, db, blobs, monkeypatch):
    before = _blob_files(blobs)
    with monkeypatch.context() as patch:
        # The blob store's fsync is where a full disk shows itself for a buffered write.
        patch.setattr("docmgr.core.storage.os.fsync", _disk_full)
        r = api("clerk").post("/api/v1/incoming", data={
            **registration_form(), "file": upload(sample_pdf(["HET DUNG LUONG"]))})
    assert r.status_code == 507
    assert r.json["error"]["code"] == "storage_full"
    assert "hết dung lượng" in r.json["error"]["message"]
    assert _blob_files(blobs) == before  # no temporary file left behind either
    with db.transaction(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(IncomingDocument)) == 0
        assert s.scalar(select(func.count()).select_from(StoredFile)) == 0

    # Space is back: the number the failed registration would have taken is given out.
    r = api("clerk").post("/api/v1/incoming", data={
        **registration_form(), "file": upload(sample_pdf(["HET DUNG LUONG"]))})
    assert r.status_code == 201, r.json
    assert r.json["arrival_number"] == 1


def test_disk_full_while_issuing_keeps_the_number(api, db, signed_draft, monkeypatch):
    doc = signed_draft()
    with monkeypatch.context() as patch:
        patch.setattr("docmgr.core.storage.os.fsync", _disk_full)
        r = api("clerk").post(f"/api/v1/drafts/{doc['id']}/issue", json={"pin": ORG_PIN})
    assert r.status_code == 507, r.json
    assert r.json["error"]["code"] == "storage_full"
    with db.transaction(readonly=True) as s:
        kept = s.get(OutgoingDocument, doc["id"])
        assert (kept.status, kept.number) == ("signed", None)
    r = api("clerk").post(f"/api/v1/drafts/{doc['id']}/issue", json={"pin": ORG_PIN})
    assert r.status_code == 200, r.json
    assert r.json["number"] == 1


def test_a_read_only_file_system_is_a_503(api, blobs, monkeypatch):
    def read_only(*_args, **_kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))
    monkeypatch.setattr(type(blobs), "put", read_only)
    r = api("clerk").post("/api/v1/incoming", data={
        **registration_form(), "file": upload(sample_pdf(["CHI DOC"]))})
    assert r.status_code == 503
    assert r.json["error"]["code"] == "storage_unavailable"


def test_disk_full_in_the_database_is_named_as_such():
    sqlite_full = OperationalError("INSERT …", {}, sqlite3.OperationalError(
        "database or disk is full"))
    assert classify_db_error(sqlite_full)[:2] == (507, "storage_full")
    refused = OperationalError("SELECT 1", {}, Exception("connection refused"))
    assert classify_db_error(refused)[:2] == (503, "database_unavailable")


def _unreachable_urls(tmp_path):
    return {"postgresql": f"postgresql+psycopg://docmgr@127.0.0.1:{free_port()}/docmgr",
            "sqlite": f"sqlite:///{tmp_path / 'no-such-dir' / 'docmgr.sqlite3'}"}


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_an_unreachable_database_is_a_503_not_a_traceback(make_app, tmp_path, kind):
    app = make_app(tmp_path / "data", _unreachable_urls(tmp_path)[kind])
    client = app.test_client()

    r = client.get("/api/v1/me", headers={"Authorization": "Bearer some-token"})
    assert r.status_code == 503
    assert r.json["error"]["code"] == "database_unavailable"
    assert "Không kết nối được cơ sở dữ liệu" in r.json["error"]["message"]
    assert r.headers["Retry-After"]

    r = client.post("/api/v1/auth/token", json={"username": "clerk", "password": "x"})
    assert r.status_code == 503 and r.is_json

    page = client.get("/login")  # needs no database
    assert page.status_code == 200
    r = client.post("/login", data={"username": "clerk", "password": "x",
                                    "csrf_token": csrf_from(page.data)})
    assert r.status_code == 503
    assert r.mimetype == "text/html"
    assert "Không kết nối được cơ sở dữ liệu" in r.get_data(as_text=True)


def test_a_blob_missing_from_the_store_is_an_error_not_an_empty_file(api, blobs):
    r = api("clerk").post("/api/v1/incoming", data={
        **registration_form(), "file": upload(sample_pdf(["MAT TEP"]))})
    assert r.status_code == 201
    doc = api("clerk").get(f"/api/v1/incoming/{r.json['id']}").json
    blobs.path(doc["file"]["sha256"]).unlink()
    r = api("clerk").get(f"/api/v1/incoming/{doc['id']}/file")
    assert r.status_code == 500
    assert r.json["error"]["code"] == "internal_error"


class _Proxy:
    """A TCP relay to PostgreSQL that can be cut and restored: the database "goes away"."""

    def __init__(self, upstream_port: int):
        self.upstream, self.port = upstream_port, free_port()
        self.sockets, self.listener = [], None

    def up(self):
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self):
        for sock in [self.listener, *self.sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets = []

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


@pytest.mark.skipif(not PG_URL, reason="needs DOCMGR_TEST_DATABASE_URL (PostgreSQL)")
def test_the_app_recovers_by_itself_when_the_database_comes_back(
        app, api, world, make_app, tmp_path, database_url):
    url = make_url(database_url)
    proxy = _Proxy(url.port or 5432)
    proxy.up()
    try:
        relayed = make_app(app.config["DATA_DIR"], url.set(host="127.0.0.1", port=proxy.port)
                           .render_as_string(hide_password=False))
        token = api("clerk").headers["Authorization"]
        client = relayed.test_client()
        assert client.get("/api/v1/me", headers={"Authorization": token}).status_code == 200
        proxy.down()
        r = client.get("/api/v1/me", headers={"Authorization": token})
        assert r.status_code == 503, r.data
        assert r.json["error"]["code"] == "database_unavailable"
        proxy.up()
        r = client.get("/api/v1/me", headers={"Authorization": token})  # no restart
        assert r.status_code == 200, r.data
    finally:
        proxy.down()
