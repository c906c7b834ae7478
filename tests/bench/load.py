"""Load test: many people at once against a real gunicorn + PostgreSQL + indexing worker.

    .venv/bin/python -m tests.bench.load [--users 50] [--seconds 60] [--workers 4]
        [--threads 2] [--documents 5000] [--database-url URL] [--keep-alive]
        [--search-backend whoosh|tantivy] [--data-dir DIR] [--smoke]

1. (Re)creates a dedicated PostgreSQL database (its name must contain "bench"; dropped and
   recreated through the ``postgres`` database) and a temporary data dir, runs
   ``flask docmgr init``, then bulk-loads (COPY, the generator of tests/bench/incoming.py)
   one organisation — units, clerks, specialists, unit heads, leaders — and a few thousand
   incoming documents over five years (gap-free số đến, assignments, audit chain), and
   builds the search index with ``flask docmgr reindex``.
2. Starts ``gunicorn wsgi:app`` (``--workers``, ``--threads``, 127.0.0.1, a free port) with
   ``DOCMGR_INDEXER=worker`` and one ``flask docmgr worker``; waits for readiness.
3. Simulated users (threads, stdlib ``http.client``, zero think time) each get a token
   (``POST /api/v1/auth/token``), warm up, then for ``--seconds``:
   clerks register (multipart POST, a distinct 2-page PDF and notation each), leaders take
   the to_assign queue and assign documents to units, unit heads pass their unit's documents
   on to a specialist, specialists list their queue and the register, open documents and
   download their files (sha256 checked), and everyone searches (Vietnamese 1–3 word queries,
   half without diacritics). By default every request opens a new connection, as nginx
   does towards gunicorn; ``--keep-alive`` reuses one connection per user.
4. Reports requests, throughput, p50/p95/max per operation, errors by status code, the CPU
   split between the load generator, gunicorn, the worker and the rest (PostgreSQL), and
   the peak PostgreSQL connections and lock waits. Then waits for the worker to drain the
   outbox, looks every registered notation up through the search API, stops the servers
   and checks the database: số đến per year exactly 1..N, every 201 registration present
   with its blob (sha256 matches), no refused registration present, audit chain intact.
   Prints PASS/FAIL per check; exits 1 if any check fails.

The load generator runs on the same machine as the servers and PostgreSQL: its CPU share is
printed so the figures can be read for what they are.

``--smoke``: 4 users for 3 seconds against one gunicorn worker (2 threads) and 200 seeded
documents, on 127.0.0.1 as always; the database is ``--database-url``, else the test
database of DOCMGR_TEST_DATABASE_URL (its schema is reset, as the test suite does), else
the usual default. Every check still applies.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from sqlalchemy.engine import make_url

from docmgr.core import auth as accounts
from docmgr.db import Database
from docmgr.demo import sample_pdf
from tests.bench import data
from tests.bench import incoming as seed

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/docmgr_bench_load"
LOAD_SENDER = "Sở Thông tin và Truyền thông tỉnh Bình Dương"
LOAD_NOTATION = "{n}/STTTT-BCVT"  # seeded notations of other senders stay below 5000
FIRST_NUMBER = 5001
ZONE = seed.ZONE
PASSWORD = seed.PASSWORD

# Share of the simulated users per role (the rest are specialists).
ROLE_SHARE = {"clerk": 0.12, "leader": 0.06, "head": 0.18}


def log(message: str = "") -> None:
    print(message, flush=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def is_load_notation(notation: str) -> bool:
    """The load test's notations (the seeded ones of the same sender stay below 5000)."""
    match = re.fullmatch(LOAD_NOTATION.format(n=r"(\d+)"), notation)
    return bool(match) and int(match.group(1)) >= FIRST_NUMBER


def fold(text: str) -> str:
    """Without diacritics, đ as d: how people often type on a keyboard without Unikey."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in unicodedata.normalize("NFD", text)
                       if unicodedata.category(ch) != "Mn"))


# --- 1. database, data dir, seed -----------------------------------------------------------

def flask_env(url: str, data_dir: Path, backend: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DOCMGR_")}
    env.update({"DOCMGR_DATABASE_URL": url, "DOCMGR_DATA_DIR": str(data_dir),
                "DOCMGR_SECRET_KEY": "bench-load-secret", "DOCMGR_INDEXER": "worker",
                "DOCMGR_SEARCH_BACKEND": backend, "FLASK_APP": "wsgi",
                "PYTHONUNBUFFERED": "1"})
    return env


def flask_cli(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "docmgr", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"flask docmgr {' '.join(args)} failed ({done.returncode}):\n"
                 f"{done.stdout}\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def recreate_database(url: str) -> None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        sys.exit("The load test needs PostgreSQL (several gunicorn processes write at once).")
    if data.is_test_database(url):
        data.reset_schema(url)
        return
    name = parsed.database
    if not name or "bench" not in name:
        sys.exit(f"Refusing to drop database {name!r}: its name must contain 'bench'.")
    with psycopg.connect(**seed._pg_params(parsed, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_connect(url: str, autocommit: bool = True):
    parsed = make_url(url)
    return psycopg.connect(**seed._pg_params(parsed, parsed.database), autocommit=autocommit)


def add_clerks(writer, world, wanted: int) -> None:
    """create_world makes two clerks; a busy văn thư office has a few more."""
    rows = []
    password_hash = accounts.hash_password(PASSWORD)
    moment = datetime.now(ZONE)
    used = {p.full_name for p in world.people}
    rng = random.Random(99)
    for index in range(len(world.clerks), wanted):
        person = seed.Person(max(p.id for p in world.people) + 1, f"vanthu{index + 1}",
                             seed._person_name(rng, used), "clerk", "VP")
        world.people.append(person)
        world.clerks.append(person)
        world.by_username[person.username] = person
        rows.append({"id": person.id, "org_id": world.org_id, "unit_id": world.units["VP"],
                     "username": person.username, "password_hash": password_hash,
                     "full_name": person.full_name, "role": "clerk", "active": True,
                     "created_at": moment})
    writer.write("users", rows)


def setup(url: str, data_dir: Path, env: dict, documents: int, clerks: int, seed_value: int):
    started = time.perf_counter()
    recreate_database(url)
    flask_cli(env, "init")
    log(f"  database recreated, `flask docmgr init` done ({time.perf_counter() - started:.1f} s)")
    started = time.perf_counter()
    rng = random.Random(seed_value)
    writer = seed.Writer(url)
    world = seed.create_world(writer, data_dir, rng)
    add_clerks(writer, world, clerks)
    seed.generate(writer, world, documents, rng)
    writer.finish()
    problems = writer.check_integrity()
    if problems:
        sys.exit("bulk data breaks foreign keys: " + "; ".join(problems))
    log(f"  seeded {world.stats['documents']:,} documents, {world.stats['assignments']:,} "
        f"assignments, {len(world.people)} users; per year "
        f"{dict(sorted(world.last_numbers.items()))} ({time.perf_counter() - started:.1f} s)")
    started = time.perf_counter()
    line = flask_cli(env, "reindex")
    log(f"  `flask docmgr reindex`: {line} ({time.perf_counter() - started:.1f} s)")
    return world


# --- 2. servers ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Servers:
    gunicorn: subprocess.Popen
    worker: subprocess.Popen
    port: int
    gunicorn_log: Path
    worker_log: Path

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        for proc in (self.gunicorn, self.worker):
            if proc.poll() is None:
                proc.terminate()  # gunicorn: graceful shutdown; worker: finishes its batch
        for proc in (self.gunicorn, self.worker):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start_servers(env: dict, logs: Path, workers: int, threads: int, keep_alive: bool) -> Servers:
    port = free_port()
    gunicorn_log, worker_log = logs / "gunicorn.log", logs / "worker.log"
    command = [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--threads", str(threads),
               "--keep-alive", "30" if keep_alive else "2", "--log-level", "info",
               "--error-logfile", str(gunicorn_log)]
    with open(gunicorn_log, "ab") as out:
        gunicorn = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
    with open(worker_log, "ab") as out:
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "docmgr",
                                   "worker"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    servers = Servers(gunicorn, worker, port, gunicorn_log, worker_log)
    deadline = time.monotonic() + 90
    while True:
        if gunicorn.poll() is not None or worker.poll() is not None:
            servers.stop()
            sys.exit(f"a server exited during start-up; see {gunicorn_log} / {worker_log}:\n"
                     + gunicorn_log.read_text()[-3000:] + worker_log.read_text()[-2000:])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/me")  # 401 without a token, no database work
            status = conn.getresponse().status
            conn.close()
            if status == 401 and len(servers.children()) >= workers:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            servers.stop()
            sys.exit("gunicorn did not answer within 90 s:\n" + gunicorn_log.read_text()[-3000:])
        time.sleep(0.25)
    return servers


# --- 3. HTTP client and the simulated people -----------------------------------------------

class Transport:
    """One simulated user's HTTP: a new connection per request (as nginx → gunicorn), or
    one kept-alive connection with ``keep_alive``."""

    def __init__(self, port: int, timeout: float, keep_alive: bool):
        self.port, self.timeout, self.keep_alive = port, timeout, keep_alive
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes, dict]:
        headers = dict(headers or {})
        if not self.keep_alive:
            headers["Connection"] = "close"
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
            result = response.status, data, dict(response.getheaders())
            if not self.keep_alive or response.will_close:
                self.close()
            return result
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Sample:
    op: str
    seconds: float
    status: int  # 0: no HTTP answer (timeout, connection error)
    in_window: bool
    detail: str = ""


@dataclass
class Registration:
    notation: str
    sha256: str
    status: int
    doc_id: int | None = None
    arrival_number: int | None = None
    arrival_year: int | None = None
    detail: str = ""


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.registrations: list[Registration] = []
        self.download_mismatches: list[str] = []
        self.downloads_checked = 0
        self.window_open = False

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


class World:
    """What the simulated people share: the organisation, the queries, claims on work."""

    def __init__(self, seeded, queries: list[str], recorder: Recorder, port: int,
                 timeout: float, keep_alive: bool, stop: threading.Event):
        self.seeded, self.queries, self.recorder = seeded, queries, recorder
        self.port, self.timeout, self.keep_alive, self.stop = port, timeout, keep_alive, stop
        self.claims: set = set()
        self.claims_lock = threading.Lock()
        self.numbers = iter(range(FIRST_NUMBER, 10 ** 9))
        self.numbers_lock = threading.Lock()
        self.unit_ids = dict(seeded.units)
        self.unit_weights = dict(zip(
            [a for a, _, _ in seed.UNITS], [2, 5, 3, 5, 3, 1, 1, 2, 2], strict=True))
        self.abbr_by_unit_id = {unit_id: abbr for abbr, unit_id in self.unit_ids.items()}
        self.corpus = seed.load_corpus(random.Random(7))

    def claim(self, key) -> bool:
        with self.claims_lock:
            if key in self.claims:
                return False
            self.claims.add(key)
            return True

    def next_notation(self) -> str:
        with self.numbers_lock:
            return LOAD_NOTATION.format(n=next(self.numbers))


class Person:
    def __init__(self, index: int, role: str, account, world: World):
        self.index, self.role, self.account, self.world = index, role, account, world
        self.rng = random.Random(1000 + index)
        self.http = Transport(world.port, world.timeout, world.keep_alive)
        self.token: str | None = None

    # --- plumbing -----------------------------------------------------------------------

    def call(self, op: str, method: str, path: str, *, json_body=None, body=None,
             content_type=None, expect=(200,)) -> tuple[int, object]:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        try:
            status, data, response_headers = self.http.request(method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            elapsed = time.perf_counter() - started
            self.world.recorder.add(Sample(op, elapsed, 0, self.world.recorder.window_open,
                                           f"{type(exc).__name__}: {exc}"))
            return 0, None
        elapsed = time.perf_counter() - started
        detail = "" if status in expect else data[:300].decode("utf-8", "replace")
        self.world.recorder.add(Sample(op, elapsed, status, self.world.recorder.window_open,
                                       detail))
        if response_headers.get("Content-Type", "").startswith("application/json"):
            try:
                return status, json.loads(data)
            except ValueError:
                return status, None
        return status, data

    def login(self) -> bool:
        status, body = self.call("POST /auth/token", "POST", "/api/v1/auth/token",
                                 json_body={"username": self.account.username,
                                            "password": PASSWORD})
        if status == 200:
            self.token = body["token"]
        return status == 200

    def run(self) -> None:
        action = getattr(self, f"act_{self.role}")
        while not self.world.stop.is_set():
            action()

    def query(self) -> str:
        return self.rng.choice(self.world.queries)

    def search(self) -> None:
        self.call("GET /search", "GET", "/api/v1/search?" + urlencode(
            {"q": self.query(), "kind": "incoming"} if self.rng.random() < 0.5
            else {"q": self.query()}))

    def listing(self, op: str, **params) -> list[dict]:
        status, body = self.call(op, "GET", "/api/v1/incoming?" + urlencode(params))
        return body["items"] if status == 200 and isinstance(body, dict) else []

    # --- roles ----------------------------------------------------------------------------

    def act_clerk(self) -> None:
        draw = self.rng.random()
        if draw < 0.8:
            self.register()
        elif draw < 0.9:
            self.listing("GET /incoming (register)", year=datetime.now(ZONE).year,
                         page=self.rng.randint(1, 3))
        else:
            self.search()

    def register(self) -> None:
        notation = self.world.next_notation()
        subject = seed._subject_for("CV", self.rng.choice(self.world.corpus)[2])
        pdf = sample_pdf(["SO THONG TIN VA TRUYEN THONG TINH BINH DUONG", f"So: {notation}",
                          "", f"Van ban tai thu nghiem, van thu {self.account.username}",
                          f"Ma kiem tra {uuid.uuid4().hex}"], pages=2)
        fields = {"sender": LOAD_SENDER, "notation": notation,
                  "doc_date": datetime.now(ZONE).date().isoformat(), "doc_type": "CV",
                  "subject": subject, "urgency": self.rng.choice(
                      ["normal"] * 8 + ["urgent", "very_urgent"]),
                  "received_via": self.rng.choice(["electronic"] * 5 + ["paper"])}
        body, content_type = multipart(fields, "file", notation.replace("/", "-") + ".pdf", pdf)
        status, answer = self.call("POST /incoming (register)", "POST", "/api/v1/incoming",
                                   body=body, content_type=content_type, expect=(201,))
        record = Registration(notation, hashlib.sha256(pdf).hexdigest(), status)
        if status == 201 and isinstance(answer, dict):
            record.doc_id, record.arrival_number = answer["id"], answer["arrival_number"]
            record.arrival_year = int(answer["arrival_date"][:4])
        elif status:
            record.detail = json.dumps(answer, ensure_ascii=False)[:200] if answer else ""
        with self.world.recorder.lock:
            self.world.recorder.registrations.append(record)

    def act_leader(self) -> None:
        items = self.listing("GET /incoming?queue=to_assign", queue="to_assign",
                             page=self.rng.choice([1, 1, 1, 2]))
        candidates = [d for d in items if d["status"] == "registered"]
        self.rng.shuffle(candidates)
        for doc in candidates:
            if not self.world.claim(("lead", doc["id"])):
                continue
            units = list(self.world.unit_weights)
            main = self.rng.choices(units, [self.world.unit_weights[u] for u in units])[0]
            deadline = (datetime.now(ZONE).date()
                        + timedelta(days=self.rng.randint(5, 20))).isoformat()
            status, _ = self.call("POST /incoming/<id>/assignments (leader)", "POST",
                                  f"/api/v1/incoming/{doc['id']}/assignments",
                                  json_body={"unit_id": self.world.unit_ids[main],
                                             "role": "main", "deadline": deadline,
                                             "note": self.rng.choice(seed.DIRECTIONS)},
                                  expect=(201,))
            if status == 201 and self.rng.random() < 0.25:
                other = self.rng.choice([u for u in units if u != main])
                self.call("POST /incoming/<id>/assignments (leader)", "POST",
                          f"/api/v1/incoming/{doc['id']}/assignments",
                          json_body={"unit_id": self.world.unit_ids[other],
                                     "role": "cooperate", "note": "Phối hợp thực hiện."},
                          expect=(201,))
            break
        if self.rng.random() < 0.4:
            self.search()

    def act_head(self) -> None:
        unit_abbr = self.account.unit_abbr
        unit_id = self.world.unit_ids[unit_abbr]
        items = self.listing("GET /incoming?queue=mine", queue="mine", status="assigned")
        self.rng.shuffle(items)
        for doc in items:
            if not self.world.claim(("head", doc["id"], unit_id)):
                continue
            status, detail = self.call("GET /incoming/<id>", "GET",
                                       f"/api/v1/incoming/{doc['id']}")
            if status != 200:
                break
            active = [a for a in detail["assignments"] if a["active"]]
            ours = [a for a in active if a["unit_id"] == unit_id and a["role"] != "info"]
            if not ours or any(a["user_id"] for a in active if a["role"] == "main"):
                continue  # already passed on, or only for information
            staff = self.world.seeded.staff_by_unit[unit_abbr]
            self.call("POST /incoming/<id>/assignments (head)", "POST",
                      f"/api/v1/incoming/{doc['id']}/assignments",
                      json_body={"user_id": self.rng.choice(staff).id,
                                 "role": "main" if ours[0]["role"] == "main" else "cooperate",
                                 "note": "Đề nghị đồng chí nghiên cứu, tham mưu."},
                      expect=(201,))
            break
        if self.rng.random() < 0.4:
            self.search()

    def act_specialist(self) -> None:
        draw = self.rng.random()
        if draw < 0.4:
            items = self.listing("GET /incoming?queue=mine", queue="mine")
        elif draw < 0.6:
            items = self.listing("GET /incoming (register)", page=self.rng.randint(1, 10))
        else:
            self.search()
            return
        if not items:
            return
        doc = self.rng.choice(items)
        status, detail = self.call("GET /incoming/<id>", "GET", f"/api/v1/incoming/{doc['id']}")
        if status != 200:
            return
        status, data = self.call("GET /incoming/<id>/file", "GET",
                                 f"/api/v1/incoming/{doc['id']}/file")
        if status == 200:
            recorder = self.world.recorder
            with recorder.lock:
                recorder.downloads_checked += 1
                if hashlib.sha256(data).hexdigest() != detail["file"]["sha256"]:
                    recorder.download_mismatches.append(str(doc["id"]))


def multipart(fields: dict, file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "----docmgr-load-" + uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             .encode() for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                 f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                 + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def build_queries(rng: random.Random, count: int = 600) -> list[str]:
    """1–3 consecutive words of real subjects; half typed without diacritics."""
    words_re = re.compile(r"[^\W\d_]{2,}")
    subjects = [s for _, _, s in seed.load_corpus(random.Random(3))]
    queries = []
    while len(queries) < count:
        words = words_re.findall(rng.choice(subjects).lower())
        if len(words) < 3:
            continue
        size = rng.choice([1, 2, 2, 3])
        start = rng.randrange(len(words) - size + 1)
        query = " ".join(words[start:start + size])
        queries.append(fold(query) if rng.random() < 0.5 else query)
    return queries


def assign_roles(seeded, users: int) -> list[tuple[str, object]]:
    counts = {role: max(1, round(users * share)) for role, share in ROLE_SHARE.items()}
    counts["specialist"] = max(0, users - sum(counts.values()))
    pools = {"clerk": seeded.clerks, "leader": seeded.leaders,
             "head": sorted(seeded.head_by_unit.values(), key=lambda p: p.id),
             "specialist": [p for p in seeded.people if p.role == "specialist"]}
    people = []
    for role in ("clerk", "leader", "head", "specialist"):
        for index in range(counts[role]):
            people.append((role, pools[role][index % len(pools[role])]))
    return people


# --- 4. measuring the machine while it runs ---------------------------------------------------

def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def cpu_snapshot(servers: Servers, database: str) -> dict[int, tuple[str, int]]:
    """CPU ticks of every process, grouped: this run's gunicorn, worker, load generator and
    PostgreSQL backends, other PostgreSQL work, and everything else on the machine."""
    ours = {servers.gunicorn.pid, *servers.children()}
    snapshot = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                "utf-8", "replace")
        except OSError:
            continue
        if pid in ours:
            group = "gunicorn"
        elif pid == servers.worker.pid:
            group = "indexing worker"
        elif pid == os.getpid():
            group = "load generator"
        elif cmdline.startswith("postgres:") and f" {database} " in cmdline:
            group = "PostgreSQL (this database)"
        elif cmdline.startswith(("postgres", "/usr/lib/postgresql")):
            group = "PostgreSQL (other)"
        else:
            group = "other processes"
        ticks = cpu_ticks(pid)
        if ticks or group != "other processes":
            snapshot[pid] = (group, ticks)
    return snapshot


def cpu_split(before: dict, after: dict) -> Counter:
    tick = os.sysconf("SC_CLK_TCK")
    split = Counter()
    for pid, (group, ticks) in after.items():
        previous = before.get(pid)
        base = previous[1] if previous and previous[0] == group else 0
        split[group] += (ticks - base) / tick
    return split


def system_busy() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Sampler(threading.Thread):
    """Once a second: PostgreSQL connections of the database (and those waiting on a lock)
    and the outbox backlog."""

    def __init__(self, url: str, servers: Servers):
        super().__init__(daemon=True, name="sampler")
        self.url, self.servers = url, servers
        self.stop = threading.Event()
        self.max_connections = self.max_active = self.max_lock_waits = 0
        self.max_backlog = 0
        self.backlog_series: list[int] = []
        self.lock_examples: Counter = Counter()

    def run(self) -> None:
        name = make_url(self.url).database
        with pg_connect(self.url) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT state, wait_event_type, left(query, 90) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchall()
                self.max_connections = max(self.max_connections, len(rows))
                self.max_active = max(self.max_active, sum(r[0] == "active" for r in rows))
                waits = [r for r in rows if r[1] == "Lock"]
                self.max_lock_waits = max(self.max_lock_waits, len(waits))
                for row in waits:
                    self.lock_examples[" ".join(row[2].split())] += 1
                backlog = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
                self.max_backlog = max(self.max_backlog, backlog)
                self.backlog_series.append(backlog)
                self.stop.wait(1.0)


# --- 5. report and checks ------------------------------------------------------------------

def table(samples: list[Sample], seconds: float) -> list[str]:
    by_op = defaultdict(list)
    for s in samples:
        by_op[s.op].append(s)
    header = (f"{'operation':<42} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'max ms':>8} {'errors':>6}")
    lines = [header, "-" * len(header)]
    order = sorted(by_op, key=lambda op: -len(by_op[op]))
    for op in order + ["ALL"]:
        rows = samples if op == "ALL" else by_op[op]
        if op == "ALL":
            lines.append("-" * len(header))
        times = [s.seconds * 1000 for s in rows]
        errors = sum(1 for s in rows if s.detail or s.status == 0)
        lines.append(f"{op:<42} {len(rows):>8} {len(rows) / seconds:>7.1f} "
                     f"{statistics.median(times):>8.1f} {percentile(times, 95):>8.1f} "
                     f"{max(times):>8.1f} {errors:>6}")
    return lines


def error_lines(samples: list[Sample]) -> list[str]:
    bad = [s for s in samples if s.detail or s.status == 0]
    if not bad:
        return ["errors: none (0 non-expected answers, 0 timeouts/connection errors)"]
    by_status = Counter(s.status for s in bad)
    lines = ["errors by status code: " + ", ".join(
        f"{'no answer' if k == 0 else k}: {v}" for k, v in sorted(by_status.items()))]
    by_kind = Counter((s.op, s.status) for s in bad)
    examples = {}
    for s in bad:
        examples.setdefault((s.op, s.status), s.detail)
    for (op, status), count in by_kind.most_common():
        lines.append(f"  {count:>5} × {status or 'no answer'} {op}: "
                     f"{' '.join(examples[(op, status)].split())[:220]}")
    return lines


def wait_drained(url: str, timeout: float) -> tuple[bool, float, int]:
    started = time.monotonic()
    with pg_connect(url) as conn:
        while True:
            left = conn.execute("SELECT count(*) FROM outbox WHERE topic = 'index' "
                                "AND attempts < 5").fetchone()[0]
            if left == 0 or time.monotonic() - started > timeout:
                failed = conn.execute("SELECT count(*) FROM outbox WHERE attempts > 0"
                                      ).fetchone()[0]
                return left == 0, time.monotonic() - started, failed
            time.sleep(0.25)


def check_search(port: int, token: str, registered: list[Registration]) -> tuple[int, list[str]]:
    """Look every registered notation up through the search API (4 threads)."""
    missing, lock = [], threading.Lock()
    work = iter(list(registered))

    def run():
        transport = Transport(port, 60, keep_alive=True)
        while True:
            with lock:
                reg = next(work, None)
            if reg is None:
                break
            path = "/api/v1/search?" + urlencode({"q": reg.notation, "kind": "incoming"})
            status, data, _ = transport.request("GET", path,
                                                headers={"Authorization": f"Bearer {token}"})
            ids = [hit["id"] for hit in json.loads(data)["hits"]] if status == 200 else []
            if reg.doc_id not in ids:
                with lock:
                    missing.append(f"{reg.notation} (id {reg.doc_id}, HTTP {status}, "
                                   f"{len(ids)} hits)")
        transport.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(registered) - len(missing), missing


def check_database(url: str, org_id: int, registrations: list[Registration],
                   blobs_root: Path) -> list[tuple[bool, str]]:
    checks = []
    with pg_connect(url) as conn:
        rows = conn.execute(
            "SELECT d.arrival_year, count(*), count(DISTINCT d.arrival_number), "
            "min(d.arrival_number), max(d.arrival_number), max(c.value) "
            "FROM incoming_documents d LEFT JOIN counters c ON c.org_id = d.org_id "
            "AND c.register = 'incoming' AND c.year = d.arrival_year "
            "WHERE d.org_id = %s AND d.arrival_number IS NOT NULL "
            "GROUP BY d.arrival_year ORDER BY d.arrival_year", (org_id,)).fetchall()
        years_ok = all(n == distinct == high == counter and low == 1
                       for _, n, distinct, low, high, counter in rows)
        checks.append((years_ok, "số đến per year exactly 1..N, no gap, no duplicate, counter = N: "
                       + "; ".join(f"{y}: {n} docs, {low}..{high}, {distinct} distinct, "
                                   f"counter {counter}" for y, n, distinct, low, high, counter
                                   in rows)))

        stored = {row[0]: row[1:] for row in conn.execute(
            "SELECT d.notation, d.id, d.arrival_year, d.arrival_number, f.sha256, f.size "
            "FROM incoming_documents d JOIN stored_files f ON f.id = d.file_id "
            "WHERE d.org_id = %s AND d.sender = %s", (org_id, LOAD_SENDER)).fetchall()
            if is_load_notation(row[0])}
    ok = [r for r in registrations if r.status == 201]
    numbers = [(r.arrival_year, r.arrival_number) for r in ok]
    checks.append((len(set(numbers)) == len(numbers),
                   f"the {len(ok)} answers 201 carry {len(set(numbers))} distinct số đến"))
    problems = []
    for reg in ok:
        row = stored.get(reg.notation)
        if row is None:
            problems.append(f"{reg.notation}: answered 201 (id {reg.doc_id}) but not stored")
            continue
        doc_id, year, number, sha, size = row
        if (doc_id, year, number) != (reg.doc_id, reg.arrival_year, reg.arrival_number):
            problems.append(f"{reg.notation}: stored as id {doc_id} số {number}/{year}, "
                            f"answered id {reg.doc_id} số {reg.arrival_number}")
        if sha != reg.sha256:
            problems.append(f"{reg.notation}: stored file sha256 {sha[:12]}… ≠ sent "
                            f"{reg.sha256[:12]}…")
            continue
        path = blobs_root / sha[:2] / sha[2:4] / sha
        if not path.exists():
            problems.append(f"{reg.notation}: blob {sha[:12]}… missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != sha:
            problems.append(f"{reg.notation}: blob {sha[:12]}… content does not match")
    checks.append((not problems, f"every registration answered 201 ({len(ok)}) is in the "
                   f"database with the same id and số đến, its blob present and its sha256 "
                   f"matching the PDF sent" + ("; " + "; ".join(problems[:5]) if problems
                                              else "")))
    refused = [r for r in registrations if r.status and r.status != 201]
    present = [r.notation for r in refused if r.notation in stored]
    checks.append((not present, f"no registration answered non-2xx ({len(refused)}) is stored"
                   + (f"; present: {present[:5]}" if present else "")))
    unanswered = [r for r in registrations if r.status == 0]
    if unanswered:
        stored_unanswered = sum(r.notation in stored for r in unanswered)
        checks.append((True, f"(info) {len(unanswered)} registrations got no HTTP answer; "
                       f"{stored_unanswered} of them were nevertheless committed"))
    unexpected = set(stored) - {r.notation for r in registrations}
    checks.append((not unexpected, f"no load-test document in the database that the load "
                   f"test did not send ({len(unexpected)} found)"))
    return checks


def machine_lines(url: str) -> list[str]:
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
    found = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    lines = [f"machine: nproc {len(os.sched_getaffinity(0))} ({found.group(1) if found else '?'}"
             f"), RAM {total_kb / 1024 / 1024:.1f} GiB, {platform.platform()}, "
             f"Python {platform.python_version()}"]
    with pg_connect(url) as conn:
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                    for name in ("server_version", "max_connections", "shared_buffers",
                                 "synchronous_commit", "work_mem")}
    lines.append("PostgreSQL " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    return lines


def pool_facts(url: str) -> tuple[int, int]:
    db = Database(url)  # no connection is made
    size, overflow = db.engine.pool.size(), db.engine.pool._max_overflow
    db.dispose()
    return size, overflow


def log_summary(path: Path) -> list[str]:
    text = path.read_text(errors="replace") if path.exists() else ""
    tracebacks = text.count("Traceback (most recent call last)")
    errors = Counter()
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            for following in lines[index + 1:index + 200]:
                if following and not following.startswith((" ", "Traceback", "The above",
                                                           "During handling")):
                    errors[following[:200]] += 1
                    break
    summary = [f"{path.name}: {tracebacks} tracebacks, "
               f"{text.count('WORKER TIMEOUT')} worker timeouts, "
               f"{len(re.findall(r'Booting worker', text))} worker boots"]
    summary += [f"    {count} × {message}" for message, count in errors.most_common(6)]
    return summary


# --- main ------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--documents", type=int, default=5000, help="seeded documents")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--search-backend", default="whoosh", choices=("whoosh", "tantivy"))
    parser.add_argument("--keep-alive", action="store_true",
                        help="one persistent connection per user (default: one per request)")
    parser.add_argument("--timeout", type=float, default=120, help="client timeout, seconds")
    parser.add_argument("--drain-timeout", type=float, default=180)
    parser.add_argument("--data-dir", default=None, help="kept afterwards (default: a "
                        "temporary directory, removed)")
    parser.add_argument("--seed", type=int, default=20261129)
    args = data.parse(parser, argv, users=4, seconds=3, workers=1, threads=2, documents=200,
                      timeout=30, drain_timeout=60,
                      database_url=os.environ.get("DOCMGR_TEST_DATABASE_URL") or DEFAULT_URL)
    url = seed.normalise_url(args.database_url)
    temp = None
    if args.data_dir:
        data_dir = Path(args.data_dir).resolve()
        if data_dir.exists() and any(data_dir.iterdir()):
            sys.exit(f"--data-dir {data_dir} is not empty")
        data_dir.mkdir(parents=True, exist_ok=True)
    else:
        temp = tempfile.mkdtemp(prefix="docmgr-bench-load-")
        data_dir = Path(temp)
    env = flask_env(url, data_dir, args.search_backend)
    run_started = time.perf_counter()
    servers = None
    checks: list[tuple[bool, str]] = []
    try:
        log(f"== docmgr load test — {make_url(url).render_as_string()}, data dir {data_dir}")
        log("== 1. database and seed")
        clerks_wanted = max(1, round(args.users * ROLE_SHARE["clerk"]))
        seeded = setup(url, data_dir, env, args.documents, max(2, clerks_wanted), args.seed)

        log(f"== 2. gunicorn --workers {args.workers} --threads {args.threads} + one "
            f"`flask docmgr worker` (DOCMGR_INDEXER=worker, {args.search_backend})")
        started = time.perf_counter()
        servers = start_servers(env, data_dir, args.workers, args.threads, args.keep_alive)
        log(f"  ready on 127.0.0.1:{servers.port} in {time.perf_counter() - started:.1f} s "
            f"(gunicorn pid {servers.gunicorn.pid}, workers {servers.children()}, "
            f"indexing worker pid {servers.worker.pid})")

        recorder = Recorder()
        stop = threading.Event()
        world = World(seeded, build_queries(random.Random(args.seed)), recorder, servers.port,
                      args.timeout, args.keep_alive, stop)
        roles = assign_roles(seeded, args.users)
        people = [Person(i, role, account, world) for i, (role, account) in enumerate(roles)]
        log(f"== 3. {len(people)} simulated users: "
            + ", ".join(f"{n} {r}s" for r, n in Counter(r for r, _ in roles).items())
            + f"; {'keep-alive' if args.keep_alive else 'a new connection per request'}")

        # Tokens and a warm-up request each, concurrently, outside the measured window.
        def warm(person):
            if person.login():
                person.search()
                person.listing("GET /incoming (register)")
        threads = [threading.Thread(target=warm, args=(p,)) for p in people]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        warm_samples = list(recorder.samples)
        logged_in = sum(p.token is not None for p in people)
        log(f"  {logged_in}/{len(people)} tokens issued and warm-up done in "
            f"{time.perf_counter() - started:.1f} s")
        if logged_in < len(people):
            for line in error_lines(warm_samples):
                log("  " + line)
            people = [p for p in people if p.token]
        with recorder.lock:
            recorder.samples.clear()

        with pg_connect(url) as conn:
            db_before = conn.execute(
                "SELECT deadlocks, xact_rollback, xact_commit FROM pg_stat_database "
                "WHERE datname = %s", (make_url(url).database,)).fetchone()
        sampler = Sampler(url, servers)
        sampler.start()
        time.sleep(1.2)  # first sample = the CPU baseline of the gunicorn workers
        database = make_url(url).database
        busy0, total0 = system_busy()
        cpu0 = cpu_snapshot(servers, database)
        load_before = os.getloadavg()
        recorder.window_open = True
        log(f"  measuring for {args.seconds:.0f} s ...")
        started = time.perf_counter()
        threads = [threading.Thread(target=p.run, name=f"user-{p.index}") for p in people]
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        recorder.window_open = False
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        time.sleep(1.1)
        busy1, total1 = system_busy()
        cpu1 = cpu_snapshot(servers, database)
        load_after = os.getloadavg()
        backlog_at_end = sampler.backlog_series[-1] if sampler.backlog_series else 0
        with pg_connect(url) as conn:
            db_after = conn.execute(
                "SELECT deadlocks, xact_rollback, xact_commit FROM pg_stat_database "
                "WHERE datname = %s", (make_url(url).database,)).fetchone()
        log(f"  done: {len(recorder.samples)} requests in {elapsed:.1f} s "
            "(in-flight requests finished after the window are included)")

        log("== 4. waiting for the worker to drain the outbox, then searching every notation")
        drained, drain_seconds, failed_rows = wait_drained(url, args.drain_timeout)
        log(f"  outbox {'drained' if drained else 'NOT drained'} {drain_seconds:.1f} s after "
            f"the load stopped (backlog then: {backlog_at_end}); rows with failed attempts: "
            f"{failed_rows}")
        leader = next(p for p in people if p.role == "leader")
        registered = [r for r in recorder.registrations if r.status == 201]
        started = time.perf_counter()
        found, missing = check_search(servers.port, leader.token, registered)
        search_seconds = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        servers.stop()
        servers_stopped = servers
        servers = None

        log("== 5. servers stopped; checking the database")
        checks.append((drained and failed_rows == 0,
                       f"outbox drained by the worker ({drain_seconds:.1f} s after the load; "
                       f"{failed_rows} rows with failed attempts)"))
        checks.append((not missing, f"every registered document findable by its notation "
                       f"through /api/v1/search: {found}/{len(registered)} "
                       f"(looked up in {search_seconds:.1f} s)"
                       + ("; missing: " + ", ".join(missing[:5]) if missing else "")))
        checks += check_database(url, seeded.org_id, recorder.registrations,
                                 data_dir / "blobs")
        audit_line = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "docmgr", "audit-verify"],
            cwd=ROOT, env=env, capture_output=True, text=True)
        checks.append((audit_line.returncode == 0, "audit hash chain: "
                       + (audit_line.stdout + audit_line.stderr).strip()[:300]))
        checks.append((not recorder.download_mismatches,
                       f"downloaded files match their sha256: {recorder.downloads_checked} "
                       f"checked, {len(recorder.download_mismatches)} mismatches"))
        errors = [s for s in recorder.samples if s.detail or s.status == 0]
        checks.insert(0, (not errors, f"zero errors under load: {len(errors)} unexpected "
                          f"answers / timeouts out of {len(recorder.samples)} requests"))

        # --- the report -----------------------------------------------------------------
        tick = os.sysconf("SC_CLK_TCK")
        cpus = len(os.sched_getaffinity(0))
        busy = (busy1 - busy0) / tick
        window = (total1 - total0) / tick / cpus if total1 > total0 else elapsed
        split = cpu_split(cpu0, cpu1)
        size, overflow = pool_facts(url)
        registrations = recorder.registrations
        ok = sum(r.status == 201 for r in registrations)
        log("")
        log("=" * 100)
        log(f"RESULTS — docmgr load test, {len(people)} users, {elapsed:.1f} s, zero think time")
        for line in machine_lines(url):
            log(line)
        log(f"servers: gunicorn {args.workers} workers × {args.threads} threads (gthread), "
            f"{'keep-alive' if args.keep_alive else 'new connection per request'}; one "
            f"`flask docmgr worker`; search backend {args.search_backend}; SQLAlchemy pool "
            f"per process {size} + overflow {overflow} (docmgr/db.py) → at most "
            f"{(size + overflow) * args.workers} connections from gunicorn")
        log(f"seed: {seeded.stats['documents']:,} documents, {len(seeded.people)} users "
            f"(clerks {len(seeded.clerks)}, leaders {len(seeded.leaders)}, heads "
            f"{len(seeded.head_by_unit)}, specialists "
            f"{sum(p.role == 'specialist' for p in seeded.people)})")
        log(f"load average before {'/'.join(f'{v:.2f}' for v in load_before)}, after "
            f"{'/'.join(f'{v:.2f}' for v in load_after)}")
        log("")
        for line in table(recorder.samples, elapsed):
            log(line)
        log(f"registrations: {len(registrations)} sent, {ok} answered 201 "
            f"({ok / elapsed:.1f}/s); token issuing (before the window): "
            + (lambda t: f"{len(t)} requests, p50 {statistics.median(t):.0f} ms, max "
               f"{max(t):.0f} ms")([s.seconds * 1000 for s in warm_samples
                                   if s.op == "POST /auth/token"] or [0]))
        log("")
        for line in error_lines(recorder.samples):
            log(line)
        log("")
        log(f"CPU during the window ({cpus} cores × {window:.0f} s = {cpus * window:.0f} "
            f"CPU-s): busy {busy:.1f} CPU-s ({busy / (cpus * window) * 100:.0f} %), of which "
            + ", ".join(f"{group} {seconds:.1f}" for group, seconds in split.most_common()))
        log(f"PostgreSQL: at most {sampler.max_connections} connections to the database "
            f"({sampler.max_active} active at once), at most {sampler.max_lock_waits} waiting "
            f"on a lock; deadlocks {db_after[0] - db_before[0]}; transactions committed "
            f"{db_after[2] - db_before[2]}, rolled back {db_after[1] - db_before[1]} (read-only "
            f"requests end with a ROLLBACK)")
        for statement, count in sampler.lock_examples.most_common(3):
            log(f"  lock waits seen {count} × in: {statement}")
        log(f"outbox backlog: at most {sampler.max_backlog} rows; {backlog_at_end} when the "
            f"load stopped; drained {drain_seconds:.1f} s later")
        for line in log_summary(servers_stopped.gunicorn_log) + log_summary(
                servers_stopped.worker_log):
            log(line)
        log("")
        log("CHECKS")
        for good, text_ in checks:
            log(f"  {'PASS' if good else 'FAIL'}  {text_}")
        verdict = all(good for good, _ in checks)
        log(f"VERDICT: {'PASS' if verdict else 'FAIL'} "
            f"(total run time {time.perf_counter() - run_started:.0f} s)")
        return 0 if verdict else 1
    finally:
        if servers is not None:
            servers.stop()
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
