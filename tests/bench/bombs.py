"""Decompression bombs against a running server: what they cost the web process, and
what they cost a clerk registering a normal document at the same time.

    python -m tests.bench.bombs --url http://127.0.0.1:5077 --pid SERVER_PID \\
        [--data-dir DIR] [--bomb-mib 3000,48000] [--rounds 10]

The server is one started with ``flask docmgr init && flask docmgr demo`` (user vanthu,
docmgr.demo.PASSWORD). ``--pid`` is the web process: its resident memory is sampled every 20 ms
(VmRSS; the peak of the samples is reported, and VmHWM, the kernel's own peak). With
``--data-dir`` (the server's DATA_DIR) a bomb that upload checks refuse is also put in
directly, bypassing the check, to measure its preview and its indexing.
"""
import argparse
import hashlib
import http.cookiejar
import json
import re
import statistics
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import date
from pathlib import Path

from docmgr.demo import PASSWORD, sample_pdf
from tests.bombs import content_bomb_pdf

USER = "vanthu"
TIMEOUT = 300


class Client:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = None

    def request(self, method, path, *, body=None, headers=None):
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers={**(headers or {})})
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        started = time.perf_counter()
        try:
            with self.opener.open(req, timeout=TIMEOUT) as resp:
                data, status = resp.read(), resp.status
        except urllib.error.HTTPError as exc:
            data, status = exc.read(), exc.code
        return status, data, time.perf_counter() - started

    def api_login(self):
        status, data, _ = self.request("POST", "/api/v1/auth/token",
                                       body=json.dumps({"username": USER,
                                                        "password": PASSWORD}).encode(),
                                       headers={"Content-Type": "application/json"})
        assert status == 200, data
        self.token = json.loads(data)["token"]

    def web_login(self):
        _, page, _ = self.request("GET", "/login")
        csrf = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)[1].decode()
        body = urllib.parse.urlencode({"username": USER, "password": PASSWORD,
                                       "csrf_token": csrf}).encode()
        status, _, _ = self.request("POST", "/login", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        assert status in (200, 302), status

    def register(self, pdf: bytes, notation: str):
        fields = {"sender": "Sở Tài chính tỉnh Quảng Ngãi", "notation": notation,
                  "doc_date": "2026-11-02", "doc_type": "BC",
                  "subject": "Báo cáo tình hình thực hiện dự toán ngân sách"}
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                 .encode() for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="van-ban.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                     + pdf + f"\r\n--{boundary}--\r\n".encode())
        return self.request("POST", "/api/v1/incoming", body=b"".join(parts), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"})


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self._done = pid, 0, threading.Event()

    def run(self):
        while not self._done.wait(0.02):
            self.peak = max(self.peak, _status_kb(self.pid, "VmRSS"))

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def _status_kb(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match[1]) if match else 0


def normal_pdf() -> bytes:
    return sample_pdf(["UBND TINH QUANG NGAI", f"So: {uuid.uuid4().hex[:8]}/UBND-KT",
                       "V/v kiem tra"], pages=2)


def summary(times: list[float]) -> str:
    if not times:
        return "không có"
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"n={len(ms)} median {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, " \
           f"max {ms[-1]:.0f} ms"


def baseline(client: Client, rounds: int) -> dict:
    registrations, previews, cached = [], [], []
    for _ in range(rounds):
        status, data, took = client.register(normal_pdf(), f"{uuid.uuid4().hex[:6]}/STC")
        assert status == 201, data
        registrations.append(took)
        doc_id = json.loads(data)["id"]
        status, _, took = client.request("GET", f"/incoming/{doc_id}/pages/1.png")
        assert status == 200, status
        previews.append(took)
        cached.append(client.request("GET", f"/incoming/{doc_id}/pages/1.png")[2])
    return {"registration": registrations, "preview": previews, "preview_cached": cached}


def while_running(client: Client, job) -> tuple[object, list[float]]:
    """Runs ``job`` in a thread and registers normal documents until it ends."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", job()))
    thread.start()
    latencies = []
    while thread.is_alive():
        status, data, took = client.register(normal_pdf(), f"{uuid.uuid4().hex[:6]}/STC")
        latencies.append(took)
        if status != 201:
            print("  registration failed:", status, data[:200])
    thread.join()
    return result["value"], latencies


def bypass_register(data_dir: str, pdf: bytes) -> int:
    """Stores ``pdf`` as an incoming document without the upload check (as if the check
    had let it through), through the server's own database and blob store."""
    from sqlalchemy import select

    from docmgr import create_app
    from docmgr.core import auth as accounts
    from docmgr.core.uploads import CheckedPdf
    from docmgr.inbound import operations as inbound

    app = create_app({"DATA_DIR": data_dir, "INDEXER": "worker"})
    services = app.extensions["docmgr"]
    checked = CheckedPdf(data=pdf, page_count=1, sha256=hashlib.sha256(pdf).hexdigest(),
                         has_signatures=False)
    with services.db.transaction() as session:
        clerk = session.scalar(select(accounts.User).where(accounts.User.username == USER))
        data = inbound.Registration(
            sender="Bom giải nén", notation=f"{uuid.uuid4().hex[:6]}/BOM",
            doc_date=date(2026, 11, 2), doc_type="BC", subject="Tệp bom giải nén (đo đạc)",
            urgency="normal", secrecy="normal", received_via="paper", due_date=None)
        doc = inbound.register(session, services.blobs, clerk, data, checked, "bom.pdf")
        doc_id = doc.id
    services.db.dispose()
    return doc_id


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--data-dir")
    parser.add_argument("--bomb-mib", default="3000,48000")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)

    client = Client(args.url)
    client.api_login()
    client.web_login()
    print(f"web process RSS at start: {_status_kb(args.pid, 'VmRSS') / 1024:.0f} MB")
    baseline(client, 2)  # warm-up: workers, caches, connections
    base = baseline(client, args.rounds)
    for name, times in base.items():
        print(f"normal 2-page PDF, {name}: {summary(times)}")

    for mib in (int(x) for x in args.bomb_mib.split(",") if x):
        pdf = content_bomb_pdf(mib) + b"%" + uuid.uuid4().hex.encode()  # never cached
        print(f"\nbomb: {len(pdf) / 1e6:.1f} MB file, content stream of {mib} MiB of zeros")
        sampler = RssSampler(args.pid)
        sampler.start()
        (status, data, took), during = while_running(
            client, lambda pdf=pdf: client.register(pdf, f"{uuid.uuid4().hex[:6]}/BOM"))
        print(f"  upload: HTTP {status} in {took:.2f} s: {data[:160].decode(errors='replace')}")
        print(f"  registrations meanwhile: {summary(during)}")
        doc_id = json.loads(data)["id"] if status == 201 else None
        if doc_id is None and args.data_dir:
            doc_id = bypass_register(args.data_dir, pdf)
            print(f"  stored directly, bypassing the check: incoming {doc_id}")
        if doc_id is not None:
            (status, body, took), during = while_running(
                client, lambda doc_id=doc_id: client.request("GET",
                                                             f"/incoming/{doc_id}/pages/1.png"))
            print(f"  preview: HTTP {status} in {took:.2f} s ({len(body)} bytes)")
            print(f"  registrations meanwhile: {summary(during)}")
            status, body, took = client.request("GET", f"/incoming/{doc_id}")
            shown = "vượt giới hạn xử lý" in body.decode(errors="replace")
            print(f"  document page: HTTP {status} in {took:.2f} s, limit notice shown: {shown}")
        print(f"  web process RSS: peak {sampler.stop() / 1024:.0f} MB (sampled), "
              f"VmHWM {_status_kb(args.pid, 'VmHWM') / 1024:.0f} MB, "
              f"now {_status_kb(args.pid, 'VmRSS') / 1024:.0f} MB")


if __name__ == "__main__":
    main()
