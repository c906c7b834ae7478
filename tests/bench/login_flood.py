"""Login flood: do strangers posting wrong passwords slow down the office's registrations?

    .venv/bin/python -m tests.bench.login_flood [--flooders 80] [--registrations 30]
        [--seconds 20] [--logins 5] [--server flask|gunicorn] [--workers 4] [--threads 2]
        [--database-url URL] [--app-path DIR] [--smoke]

Reproduces the outside probe of issue 11 against a real server on 127.0.0.1: ``--flooders``
threads post wrong passwords for random usernames as fast as they are answered (half to
``POST /api/v1/auth/token``, half to the ``/login`` form with its CSRF token; a new
connection per request), while one clerk registers incoming documents one after the other
(``POST /api/v1/incoming``, a distinct 2-page PDF each, with a token obtained before the
flood; at least ``--registrations`` of them, for at least ``--seconds``). The clerk's
registration latency (p50/p95/max) is printed for:

1. no flood (the reference);
2. a flood from one address (the probe: every flooder on 127.0.0.1);
3. a flood from rotating addresses (a botnet behind a trusted proxy: each attempt carries
   its own ``X-Forwarded-For``, so no address is ever throttled; the server runs with
   ``DOCMGR_TRUSTED_PROXIES=1``). Code without that setting ignores the header, and this
   scenario is then the same as 2.

together with what the flood got back (401/429/... per second), and then how long the
clerk's own login takes meanwhile (from an address of their own, through the same
``X-Forwarded-For``). The server is ``flask run`` (threaded: as ``make run``) on SQLite by
default — the database whose single write lock the probe found held during the password
hash — or ``gunicorn`` with ``--server``.
``--app-path`` serves another checkout (e.g. ``/work/main``: the "before" figures) with the
same client; the demo office (``flask docmgr demo``) is the data. ``--database-url`` takes a
PostgreSQL database whose name contains "bench" (dropped and recreated).

``--smoke``: 6 flooders, 3 registrations and 1 login per scenario.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

from docmgr.demo import PASSWORD as DEMO_PASSWORD
from docmgr.demo import sample_pdf
from tests.bench import data
from tests.bench.load import free_port, log, multipart, percentile, recreate_database

ROOT = Path(__file__).resolve().parents[2]
CLERK = "vanthu"  # the demo office's văn thư
CLERK_ADDRESS = "192.0.2.10"  # X-Forwarded-For of the clerk's own logins
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def flask_env(app_path: Path, url: str, data_dir: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DOCMGR_")}
    env.update({"DOCMGR_DATABASE_URL": url, "DOCMGR_DATA_DIR": str(data_dir),
                "DOCMGR_SECRET_KEY": "bench-login-flood", "DOCMGR_INDEXER": "worker",
                "DOCMGR_TRUSTED_PROXIES": "1", "PYTHONPATH": str(app_path),
                "FLASK_APP": "wsgi", "PYTHONUNBUFFERED": "1"})
    return env


def prepare(app_path: Path, env: dict) -> None:
    for args in (["init"], ["demo"]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "docmgr", *args],
                              cwd=app_path, env=env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"flask docmgr {args[0]} failed:\n{done.stdout}\n{done.stderr}")


def start_server(args, app_path: Path, env: dict, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    if args.server == "gunicorn":
        command = [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
                   "--workers", str(args.workers), "--threads", str(args.threads),
                   "--keep-alive", "2"]
    else:  # `make run`: Werkzeug's server, a thread per connection
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host",
                   "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"]
    with open(log_path, "ab") as out:
        server = subprocess.Popen(command, cwd=app_path, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited during start-up:\n{log_path.read_text()[-3000:]}")
        try:
            if request(port, "GET", "/api/v1/me")[0] == 401:
                return server, port
        except OSError:
            time.sleep(0.2)
    stop(server)
    sys.exit(f"the server did not answer within 90 s:\n{log_path.read_text()[-3000:]}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None, timeout: float = 120) -> tuple[int, bytes, dict]:
    """One request on a connection of its own (as nginx talks to the application)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


# --- the flood -------------------------------------------------------------------------------

class Flood:
    """``size`` threads posting wrong logins until stopped; half on the API, half on the form."""

    def __init__(self, port: int, size: int, rotate_addresses: bool):
        self.port, self.size, self.rotate = port, size, rotate_addresses
        self.stop = threading.Event()
        self.statuses: Counter = Counter()
        self.lock = threading.Lock()
        self.started = self.stopped = 0.0
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(size)]

    def __enter__(self):
        self.started = time.perf_counter()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()
        self.stopped = time.perf_counter()

    def _headers(self, rng: random.Random) -> dict:
        if not self.rotate:
            return {}
        return {"X-Forwarded-For": f"10.{rng.randrange(256)}.{rng.randrange(256)}."
                                   f"{rng.randrange(1, 255)}"}

    def _run(self, index: int) -> None:
        rng = random.Random(index)
        form = index % 2 == 1
        cookie = token = None
        while not self.stop.is_set():
            username = "".join(rng.choices(string.ascii_lowercase, k=8))
            password = "".join(rng.choices(string.ascii_letters + string.digits, k=12))
            try:
                if form and token is None:
                    _, page, headers = request(self.port, "GET", "/login")
                    cookie = headers.get("Set-Cookie", "").split(";")[0]
                    token = CSRF_RE.search(page.decode()).group(1)
                if form:
                    body = (f"csrf_token={token}&username={username}&password={password}"
                            .encode())
                    status = request(self.port, "POST", "/login", body, {
                        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                        **self._headers(rng)})[0]
                else:
                    status = request(self.port, "POST", "/api/v1/auth/token", json.dumps(
                        {"username": username, "password": password}).encode(),
                        {"Content-Type": "application/json", **self._headers(rng)})[0]
            except (OSError, http.client.HTTPException, AttributeError):
                status = 0  # no answer (or no login page): counted, the flood goes on
            with self.lock:
                self.statuses[status] += 1

    def summary(self) -> str:
        seconds = max(self.stopped - self.started, 1e-9)
        total = sum(self.statuses.values())
        return (f"{total} attempts, {total / seconds:.0f}/s: "
                + ", ".join(f"{status or 'no answer'} × {count}"
                            for status, count in sorted(self.statuses.items())))


# --- the clerk -------------------------------------------------------------------------------

class Clerk:
    def __init__(self, port: int):
        self.port = port
        status, body, _ = request(port, "POST", "/api/v1/auth/token", json.dumps(
            {"username": CLERK, "password": DEMO_PASSWORD}).encode(),
            {"Content-Type": "application/json"})
        if status != 200:
            sys.exit(f"the clerk could not log in ({status}): {body[:300]!r}")
        self.token = json.loads(body)["token"]
        self.number = 7000

    def register(self) -> tuple[float, int]:
        self.number += 1
        notation = f"{self.number}/STTTT-BCVT"
        pdf = sample_pdf(["SO THONG TIN VA TRUYEN THONG", f"So: {notation}",
                          f"Ma kiem tra {uuid.uuid4().hex}"], pages=2)
        fields = {"sender": "Sở Thông tin và Truyền thông tỉnh Bình Dương",
                  "notation": notation, "doc_date": date.today().isoformat(), "doc_type": "CV",
                  "subject": "Về việc kiểm tra tải đăng nhập"}
        body, content_type = multipart(fields, "file", f"{self.number}.pdf", pdf)
        started = time.perf_counter()
        try:
            status, answer, _ = request(self.port, "POST", "/api/v1/incoming", body, {
                "Authorization": f"Bearer {self.token}", "Content-Type": content_type})
        except (OSError, http.client.HTTPException) as exc:
            status, answer = 0, f"{type(exc).__name__}: {exc}".encode()
        elapsed = time.perf_counter() - started
        if status != 201:
            log(f"  registration answered {status}: "
                f"{answer[:200].decode('utf-8', 'replace')}")
        return elapsed, status

    def measure(self, count: int, seconds: float = 0) -> list[tuple[float, int]]:
        """At least ``count`` registrations, and for at least ``seconds``: a flood's effect
        comes in waves (each delay that ends lets a crowd in)."""
        measured, started = [], time.perf_counter()
        while len(measured) < count or time.perf_counter() - started < seconds:
            measured.append(self.register())
        return measured

    def logins(self, count: int) -> list[tuple[float, int]]:
        """The clerk logging in again, from an address of their own (the flood's is not
        theirs): how long a real person waits for a token meanwhile."""
        measured = []
        for _ in range(count):
            started = time.perf_counter()
            try:
                status = request(self.port, "POST", "/api/v1/auth/token", json.dumps(
                    {"username": CLERK, "password": DEMO_PASSWORD}).encode(),
                    {"Content-Type": "application/json", "X-Forwarded-For": CLERK_ADDRESS})[0]
            except (OSError, http.client.HTTPException):
                status = 0
            measured.append((time.perf_counter() - started, status))
        return measured


def figures(measured: list[tuple[float, int]]) -> str:
    ms = [seconds * 1000 for seconds, _ in measured]
    refused = Counter(status for _, status in measured if status != 201)
    return (f"p50 {statistics.median(ms):7.0f} ms   p95 {percentile(ms, 95):7.0f} ms   "
            f"max {max(ms):7.0f} ms   (n={len(ms)}"
            + "".join(f", {count} × {status or 'no answer'}"
                      for status, count in sorted(refused.items())) + ")")


def main(argv=None, collect: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flooders", type=int, default=80)
    parser.add_argument("--registrations", type=int, default=30,
                        help="at least this many per scenario ...")
    parser.add_argument("--seconds", type=float, default=20,
                        help="... and during at least this long under each flood")
    parser.add_argument("--logins", type=int, default=5, help="the clerk's, per scenario")
    parser.add_argument("--server", choices=("flask", "gunicorn"), default="flask")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--database-url", default=None,
                        help="default: a SQLite file in a temporary data dir")
    parser.add_argument("--app-path", default=str(ROOT),
                        help="the checkout to serve (default: this one)")
    parser.add_argument("--warm-up", type=float, default=2.0,
                        help="seconds of flood before the first measured registration")
    args = data.parse(parser, argv, flooders=6, registrations=3, seconds=0, logins=1,
                      warm_up=0.5)
    app_path = Path(args.app_path).resolve()
    temp = Path(tempfile.mkdtemp(prefix="docmgr-bench-login-flood-"))
    url = args.database_url or f"sqlite:///{temp / 'docmgr.sqlite3'}"
    if not url.startswith("sqlite"):
        recreate_database(url)
    env = flask_env(app_path, url, temp / "data")
    server = None
    try:
        commit = subprocess.run(["git", "-C", str(app_path), "log", "-1", "--format=%h %s"],
                                capture_output=True, text=True).stdout.strip()
        log(f"== login flood — serving {app_path} ({commit[:70]}), "
            f"{'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}, "
            + (f"gunicorn {args.workers}×{args.threads}" if args.server == "gunicorn"
               else "flask run (threaded)") + f", {len(os.sched_getaffinity(0))} cores")
        prepare(app_path, env)
        server, port = start_server(args, app_path, env, temp / "server.log")
        clerk = Clerk(port)
        clerk.measure(2)  # warm-up: first-request imports and caches
        rows = [("no flood", clerk.measure(args.registrations), "")]
        logins = [("no flood", clerk.logins(args.logins))]
        for name, rotate in (("flood from one address", False),
                             ("flood from rotating addresses", True)):
            with Flood(port, args.flooders, rotate) as flood:
                time.sleep(args.warm_up)
                times = clerk.measure(args.registrations, args.seconds)
                logins.append((name, clerk.logins(args.logins)))
            rows.append((f"{name} ({args.flooders} threads)", times, flood.summary()))
        log("")
        log("RESULTS — registration POST /api/v1/incoming while strangers flood the login")
        for name, measured, flood_line in rows:
            log(f"  {name:<44} {figures(measured)}")
            if flood_line:
                log(f"  {'':<44} flood: {flood_line}")
        log("the clerk's own login POST /api/v1/auth/token meanwhile (after the registrations)")
        for name, measured in logins:
            log(f"  {name:<44} {figures(measured)}")
        if collect is not None:
            collect.extend(rows)
        return 0
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
