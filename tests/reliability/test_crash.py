"""kill -9 under load: a real gunicorn (2 workers) and a real `flask docmgr worker`, clerks
registering and issuing from threads, both processes killed mid-way and restarted.

What must hold afterwards: every registration answered 201 is in the database with its
number and its file (SHA-256 intact); numbers per register and year are exactly 1..N
(one that died before its commit gave its number back); nothing half-written is visible;
the index catches up with the database by itself."""
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from docmgr.core import auth as accounts
from docmgr.core.documents import StoredFile
from docmgr.core.outbox import INDEX, OutboxItem
from docmgr.demo import sample_pdf
from docmgr.inbound.models import IncomingDocument
from docmgr.migrations import upgrade
from docmgr.outbound.models import OutgoingDocument
from docmgr.search import projection
from docmgr.signing import appearance
from docmgr.signing import operations as signing
from docmgr.signing.pki import BuiltinCA
from tests.conftest import PG_URL, ApiClient, upload
from tests.outbound.conftest import ORG_PIN, PIN, draft_pdf
from tests.reliability.conftest import free_port, scratch_pg_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DRAFTS = 6


# --- a tiny HTTP client (no third-party one in the venv) --------------------------------------

def _request(port, method, path, token, *, body=b"", content_type=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if content_type:
            headers["Content-Type"] = content_type
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, data
    finally:
        conn.close()


def _multipart(fields: dict, file_bytes: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="van-ban.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                 + file_bytes + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _word() -> str:
    """A unique made-up word (letters only: every analyzer keeps it whole)."""
    return "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:12])


# --- the deployment under test ----------------------------------------------------------------

@dataclass
class Deployment:
    env: dict
    port: int
    logs: Path
    server: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    starts: int = 0

    def _spawn(self, args, name):
        self.starts += 1
        log = open(self.logs / f"{name}-{self.starts}.log", "wb")
        # A session of its own: kill -9 reaches gunicorn's master and workers, nothing else.
        return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=log,
                                start_new_session=True)

    def start_server(self):
        self.server = self._spawn([str(BIN / "gunicorn"), "-w", "2", "-b",
                                   f"127.0.0.1:{self.port}", "--timeout", "60", "wsgi:app"],
                                  "gunicorn")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.server.poll() is None, "gunicorn exited"
            try:
                if _request(self.port, "GET", "/login", None, timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("gunicorn did not start")

    def start_worker(self):
        self.worker = self._spawn([str(BIN / "flask"), "--app", "wsgi", "docmgr", "worker",
                                   "--poll", "0.2"], "worker")

    @staticmethod
    def kill(process):
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self):
        for process in (self.server, self.worker):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.kill(process)


@dataclass
class Outcomes:
    lock: threading.Lock = field(default_factory=threading.Lock)
    registered: dict = field(default_factory=dict)  # word -> (id, number, sha256)
    unanswered: list = field(default_factory=list)  # died with the server: either way is fine
    refused: list = field(default_factory=list)  # any other answer: must not happen
    issued: dict = field(default_factory=dict)  # draft id -> number
    issues_cut_off: int = 0
    successes: threading.Condition = None

    def __post_init__(self):
        self.successes = threading.Condition(self.lock)

    def wait_for(self, count, timeout, issued=0):
        with self.successes:
            assert self.successes.wait_for(
                lambda: len(self.registered) >= count and len(self.issued) >= issued,
                timeout), (f"{len(self.registered)} registrations, {len(self.issued)} issued "
                           f"after {timeout} s")


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'docmgr.sqlite3'}"
    else:
        with scratch_pg_database("docmgr_crash_test") as url:
            yield url


@pytest.fixture
def office(make_app, database, tmp_path, password_hash):
    """A data dir with an organisation, a clerk, a leader with keys, signed drafts."""
    app = make_app(tmp_path / "data", database)
    services = app.extensions["docmgr"]
    db = services.db
    upgrade(db.engine)
    app.extensions["docmgr_search"].indexer.ensure_index()
    with db.transaction() as s:
        org = accounts.Organization(code="000.00.01.H55", name="Văn phòng UBND tỉnh",
                                    abbr="VP", place="Quảng Ngãi")
        s.add(org)
        s.flush()
        users = {name: accounts.User(org_id=org.id, username=name, password_hash=password_hash,
                                     full_name=full, role=role,
                                     leader_position="head" if role == "leader" else None)
                 for name, role, full in (("clerk", "clerk", "Nguyễn Thị Văn Thư"),
                                          ("leader", "leader", "Phạm Minh Quang"),
                                          ("specialist", "specialist", "Trần Văn Bình"),
                                          ("admin", "admin", "Quản Trị"))}
        s.add_all(users.values())
        s.flush()
        ca = BuiltinCA(services.data_dir)
        signing.issue_user_certificate(s, ca, users["leader"], PIN)
        signing.issue_org_certificate(s, ca, org, ORG_PIN)
        signing.set_org_seal(s, services.blobs, users["admin"], appearance.png_bytes(
            appearance.generated_seal(org.name, 300)), 36)
        token = accounts.issue_token(s, users["clerk"], 1)
        for user in users.values():
            s.refresh(user)
        s.expunge_all()
    drafts = []
    author, leader = ApiClient(app, db, users["specialist"]), ApiClient(app, db, users["leader"])
    for n in range(DRAFTS):
        r = author.post("/api/v1/drafts", data={
            "doc_type": "QĐ", "subject": f"Quyết định số {n} về công tác văn thư",
            "signer_id": str(users["leader"].id), "reviewer_ids": "",
            "recipients": '["Sở Nội vụ tỉnh Quảng Ngãi"]',
            "file": upload(draft_pdf(), "du-thao.pdf")})
        assert r.status_code == 201, r.json
        assert author.post(f"/api/v1/drafts/{r.json['id']}/submit").status_code == 200
        assert leader.post(f"/api/v1/drafts/{r.json['id']}/sign",
                           json={"pin": PIN}).status_code == 200
        drafts.append(r.json["id"])
    return app, org, token, drafts


def _register_until(stop, port_of, token, outcomes, thread_no):
    n = 0
    while not stop.is_set():
        n += 1
        word = _word()
        pdf = sample_pdf([f"CONG VAN {word}", f"So {thread_no}-{n}"])
        body, content_type = _multipart({
            "sender": "Sở Tài chính tỉnh Quảng Ngãi", "notation": f"{thread_no}-{n}/{word}",
            "doc_date": "2026-11-02", "doc_type": "CV",
            "subject": f"Báo cáo kiểm tra {word}"}, pdf)
        try:
            status, data = _request(port_of(), "POST", "/api/v1/incoming", token, body=body,
                                    content_type=content_type)
        except OSError:  # the server died under this request
            with outcomes.lock:
                outcomes.unanswered.append(word)
            stop.wait(0.05)
            continue
        with outcomes.successes:
            if status == 201:
                doc = json.loads(data)
                outcomes.registered[word] = (doc["id"], doc["arrival_number"],
                                             hashlib.sha256(pdf).hexdigest())
                outcomes.successes.notify_all()
            else:
                outcomes.refused.append((status, data[:300]))


def _issue(port, token, draft_id, outcomes):
    try:
        status, data = _request(port, "POST", f"/api/v1/drafts/{draft_id}/issue", token,
                                body=json.dumps({"pin": ORG_PIN}).encode(),
                                content_type="application/json")
    except OSError:
        with outcomes.lock:
            outcomes.issues_cut_off += 1
        return
    if status == 200:
        with outcomes.successes:
            outcomes.issued[draft_id] = json.loads(data)["number"]
            outcomes.successes.notify_all()
    elif status != 409:  # 409: issued already by the first attempt that was cut off
        with outcomes.lock:
            outcomes.refused.append((status, data[:300]))


def test_kill_minus_nine_loses_nothing_and_leaves_no_gap(office, database, tmp_path):
    started = time.monotonic()
    app, org, token, drafts = office
    services = app.extensions["docmgr"]
    env = {**os.environ, "DOCMGR_DATA_DIR": str(services.data_dir),
           "DOCMGR_DATABASE_URL": database, "DOCMGR_INDEXER": "worker",
           "DOCMGR_SECRET_KEY": "crash-test", "PYTHONUNBUFFERED": "1"}
    deployment = Deployment(env=env, port=free_port(), logs=tmp_path)
    outcomes, stop = Outcomes(), threading.Event()
    threads = [threading.Thread(target=_register_until,
                                args=(stop, lambda: deployment.port, token, outcomes, t))
               for t in range(4)]
    try:
        deployment.start_server()
        deployment.start_worker()
        for thread in threads:
            thread.start()
        outcomes.wait_for(10, timeout=30)
        deployment.kill(deployment.worker)  # while it indexes what keeps arriving
        with services.db.transaction(readonly=True) as s:
            queued_at_kill = s.scalar(select(func.count()).select_from(OutboxItem))
        issuers = [threading.Thread(target=_issue, args=(deployment.port, token, d, outcomes))
                   for d in drafts[:DRAFTS // 2]]
        for issuer in issuers:
            issuer.start()
        # One issue done, the others queued behind it on the number: kill them in flight.
        outcomes.wait_for(12, timeout=30, issued=1)
        deployment.kill(deployment.server)
        for issuer in issuers:
            issuer.join(timeout=30)
        before_restart = len(outcomes.registered)

        deployment.start_server()
        deployment.start_worker()
        outcomes.wait_for(before_restart + 10, timeout=30)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        with services.db.transaction(readonly=True) as s:
            not_issued = list(s.scalars(select(OutgoingDocument.id).where(
                OutgoingDocument.id.in_(drafts), OutgoingDocument.status == "signed")))
        for draft_id in not_issued:
            _issue(deployment.port, token, draft_id, outcomes)

        assert not outcomes.refused, outcomes.refused
        _check_database(services, org, outcomes, drafts)
        _check_index_catches_up(app, deployment, token, outcomes)
    finally:
        stop.set()
        deployment.stop()
    print(f"{len(outcomes.registered)} registered, {len(outcomes.unanswered)} cut off, "
          f"{len(outcomes.issued)} issued ({outcomes.issues_cut_off} cut off), worker killed with "
          f"{queued_at_kill} rows queued, {time.monotonic() - started:.1f} s")


def _check_database(services, org, outcomes, drafts):
    blobs = services.blobs
    with services.db.transaction(readonly=True) as s:
        docs = {d.id: d for d in s.scalars(select(IncomingDocument).where(
            IncomingDocument.org_id == org.id))}
        files = {f.id: f for f in s.scalars(select(StoredFile))}
        issued = list(s.scalars(select(OutgoingDocument).where(
            OutgoingDocument.id.in_(drafts))))

    # Every 201 is there, with its number and its file.
    for word, (doc_id, number, sha) in outcomes.registered.items():
        doc = docs.get(doc_id)
        assert doc is not None and doc.arrival_number == number, word
        assert files[doc.file_id].sha256 == sha
    # Numbers 1..N per year: no gap, no duplicate.
    by_year = {}
    for doc in docs.values():
        by_year.setdefault(doc.arrival_year, []).append(doc.arrival_number)
    for numbers in by_year.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    # Nothing half-written: no document without its file, no file row without its blob.
    assert all(doc.file_id in files for doc in docs.values())
    for stored in files.values():
        assert hashlib.sha256(blobs.get(stored.sha256)).hexdigest() == stored.sha256
    # Issuing: every draft issued exactly once, outgoing numbers 1..M.
    assert all(doc.status == "issued" for doc in issued)
    assert sorted(doc.number for doc in issued) == list(range(1, len(issued) + 1))
    for draft_id, number in outcomes.issued.items():
        assert next(d.number for d in issued if d.id == draft_id) == number
    assert all(doc.signed_file_id in files for doc in issued)


def _check_index_catches_up(app, deployment, token, outcomes):
    services = app.extensions["docmgr"]
    store = app.extensions["docmgr_search"].store
    with services.db.transaction(readonly=True) as s:
        indexable = (s.scalar(select(func.count()).select_from(IncomingDocument).where(
            IncomingDocument.status.in_(projection.INCOMING_INDEXED)))
            + s.scalar(select(func.count()).select_from(OutgoingDocument).where(
                OutgoingDocument.status.in_(projection.OUTGOING_INDEXED))))
    deadline = time.monotonic() + 30
    while True:
        with services.db.transaction(readonly=True) as s:
            queued = s.scalar(select(func.count()).select_from(OutboxItem).where(
                OutboxItem.topic == INDEX))
        count = store.reader().count() if not queued else -1
        if count == indexable:
            break
        assert time.monotonic() < deadline, f"index: {count} of {indexable}, {queued} queued"
        time.sleep(0.2)
    for word, (doc_id, _, _) in outcomes.registered.items():
        status, data = _request(deployment.port, "GET", f"/api/v1/search?q={word}", token)
        assert status == 200, data
        assert doc_id in [hit["id"] for hit in json.loads(data)["hits"]], word
