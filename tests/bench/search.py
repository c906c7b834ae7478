"""Benchmark: full-text search through our own code path, per backend and archive size.

    .venv/bin/python -m tests.bench.search --docs 10000 [--docs 100000]
        [--backends whoosh,tantivy] [--queries 200] [--data-dir DIR]
        [--whoosh-max-docs 100000] [--no-fts5] [--profile] [--reuse-db] [--smoke]

For every size N (each in its own sub-directory of the data dir, default a temporary
directory under /tmp that is removed afterwards):

1. Builds a realistic archive in a fresh SQLite bench database (schema from the
   migrations, rows inserted in bulk): one organisation, units, a leader, a specialist, a
   clerk and a few other staff; N registered incoming documents over ten years, ND30 types
   in realistic proportions, subjects from the Bình Dương list and the law corpus,
   notations built from the corpus numbers, varied senders, ~3 % confidential with an
   assignee, each with a StoredFile row and a FileText row holding its body (1–10 KB for
   most, some 10–50 KB, a few 50 KB+), cut from the law articles and Công báo full texts.
   The indexer reads FileText, so no PDF is ever extracted.
2. Indexes it with ``Indexer(...).reindex()`` per backend (the real rebuild path: DB rows,
   projection, analysis, backend writes in batches) and measures docs/s and size on disk.
3. Runs the same queries (1–3 words from real subjects, half typed without diacritics,
   some quoted phrases, some notations) in these variants:
   engine: words           — backend.search, the specialist's principals, top 10, no facets
   engine: words + 1 year  — the same with a one-year date_from/date_to window
   engine: as layer asks   — backend.search with exactly the request ops.search sends
                             (same clauses and principals, top 10, facets on): "bare"
   layer: ops.search       — the full path: the queued documents the DB denies the caller,
                             index query with ACL and facets, the page's rows from the DB
                             with visibility, highlights from the DB text
   overhead: layer − bare  — paired per query
   pending.denied_keys     — alone: the database check of the queued documents that every
                             ops.search makes first (empty queue, then N queued)
   layer, N docs queued    — the layer again with N documents waiting in the outbox (a
                             burst of changes the indexer has not drained yet)
4. Reference: SQLite FTS5 (unicode61 remove_diacritics 2) over the same documents.
5. Prints one table per size, machine facts and a verdict per target of the search issue.

All timings are single-threaded, in-process, sequential, on a possibly shared machine: the
load average before and after is printed with the results. ``--smoke``: 200 documents, 10
queries, the committed text sample when the corpus is absent (tests/bench/data.py).
"""
from __future__ import annotations

import argparse
import bisect
import cProfile
import io
import json
import math
import os
import platform
import pstats
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import delete, select

import docmgr.models  # noqa: F401  (every table in the metadata)
from docmgr.core import catalogue, outbox
from docmgr.core.auth import User
from docmgr.core.storage import BlobStore
from docmgr.db import Database
from docmgr.inbound.models import IncomingDocument
from docmgr.search import access, analysis, pending
from docmgr.search import operations as ops
from docmgr.search.backend import SearchRequest
from docmgr.search.indexer import Indexer
from docmgr.search.store import IndexStore
from tests.bench import data
from tests.bench.incoming import (
    DOC_TYPES,
    SENDERS,
    Writer,
    _subject_for,
    key,
    load_corpus,
    recreate_database,
    weighted,
)

YEARS = 10
PER_PAGE = 10
FOLD_DD = str.maketrans({"đ": "d", "Đ": "D"})  # what unicode61 remove_diacritics misses

BACKLOGS = (100, 10_000)  # documents queued for indexing while searching
TARGETS = {
    "whoosh_p95": 150.0,  # ms at 10,000 documents
    "tantivy_p95": 20.0,  # ms at 100,000 documents, with highlights
    "tantivy_rate": 2000.0,  # docs/s
    "overhead": 10.0,  # ms, layer over bare engine
}

UNITS = [("VP", "Văn phòng Sở"), ("TCBC", "Phòng Tổ chức - Biên chế"),
         ("CCHC", "Phòng Cải cách hành chính"), ("CCVC", "Phòng Công chức, viên chức"),
         ("TTr", "Thanh tra Sở")]
# (id, username, full name, role, unit abbr)
PEOPLE = [(1, "lanhdao", "Phạm Minh Quang", "leader", None),
          (2, "chuyenvien", "Trần Văn Bình", "specialist", "TCBC"),
          (3, "vanthu", "Nguyễn Thị Thu", "clerk", "VP"),
          (4, "cv.cchc", "Lê Thị Hoa", "specialist", "CCHC"),
          (5, "cv.ccvc", "Võ Quốc Tuấn", "specialist", "CCVC"),
          (6, "truongphong", "Đặng Hữu Long", "head", "TCBC")]
LEADER, SPECIALIST, CLERK = 1, 2, 3
SIGNERS = ["Nguyễn Văn Lộc", "Trần Thanh Liêm", "Mai Hùng Dũng", "Đặng Minh Hưng",
           "Võ Văn Minh", "Nguyễn Lộc Hà", "Bùi Minh Thạnh", "Lê Thị Kim Hoa"]
STATUSES = [("completed", 86), ("in_progress", 8), ("assigned", 3), ("registered", 3)]
FUNCTION_WORDS = set("và của các về cho trong với tại theo những một việc v được để từ đến "
                     "trên là có đối số năm thứ ngày tháng lần này đã sẽ khi do bị hoặc "
                     "mà như thì vào ra".split())


def log(message: str = "") -> None:
    print(message, flush=True)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)] if ordered else float("nan")


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


# --- corpus -------------------------------------------------------------------------------

@dataclass
class Corpus:
    subjects: list  # (number, doc_type, cased subject) from the Bình Dương list
    law_subjects: list[str]  # titles of law articles and Công báo texts
    articles: list[str]  # law article texts (short)
    long_texts: list[str]  # full texts, longest last
    long_lengths: list[int]


def load_vn_corpus(rng: random.Random) -> Corpus:
    subjects = load_corpus(rng)
    law_subjects, articles, long_texts = [], [], []
    codes = data.vn_text("bo-luat-full-and-articles.jsonl.gz")
    for row in data.read_jsonl(codes) if codes else ():
        body = (row.get("text") or "").strip()
        if row.get("type") == "Bộ luật (Điều)":
            title = (row.get("subject") or "").split(". ", 1)[-1].strip()
            if title:
                law_subjects.append(title)
            if body:
                articles.append(body)
        elif body:
            long_texts.append(body)
    if codes is None:  # smoke run without the corpus: the sample's own articles
        for title, body in data.sample_articles():
            law_subjects.append(title)
            articles.append(body)
    gazette = data.vn_text("congbao-legal-fulltext.jsonl.gz")
    for row in data.read_jsonl(gazette) if gazette else data.sample_records():
        if row.get("subject"):
            law_subjects.append(" ".join(row["subject"].split()))
        if row.get("text") and len(row["text"]) > 2000:
            long_texts.append(row["text"])
    long_texts.sort(key=len)
    return Corpus(subjects, law_subjects, articles, long_texts, [len(t) for t in long_texts])


def body_length(rng: random.Random) -> int:
    """Most 1–10 KB (one to four pages), some annexes 10–50 KB, a few 50–150 KB."""
    r = rng.random()
    if r < 0.02:
        return rng.randint(50_000, 150_000)
    if r < 0.07:
        return rng.randint(10_000, 50_000)
    return max(800, min(10_000, int(rng.lognormvariate(math.log(3200), 0.6))))


def _paged(text_: str, page_chars: int = 3000) -> tuple[str, int]:
    """Form feeds between pages of about ``page_chars``, cut at a space (like FileText)."""
    pages, start = [], 0
    while start < len(text_):
        end = text_.find(" ", start + page_chars)
        end = len(text_) if end < 0 else end
        pages.append(text_[start:end])
        start = end + 1
    return "\f".join(pages), len(pages)


def make_body(rng: random.Random, corpus: Corpus, length: int, head: str, signer: str) -> str:
    if length <= 4000 and rng.random() < 0.5:
        parts, size = [], 0
        while size < length:
            part = rng.choice(corpus.articles)
            parts.append(part)
            size += len(part) + 1
        core = "\n".join(parts)[:length]
    else:
        first = bisect.bisect_left(corpus.long_lengths, length)
        source = corpus.long_texts[rng.randrange(min(first, len(corpus.long_texts) - 1),
                                                 len(corpus.long_texts))]
        start = rng.randint(0, max(0, len(source) - length))
        core = source[start:start + length]
    tail = (f"\nNơi nhận:\n- Như trên;\n- Lưu: VT.\nTM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\n"
            f"PHÓ CHỦ TỊCH\n{signer}")
    return head + core + tail


# --- 1. the archive -----------------------------------------------------------------------

@dataclass
class Archive:
    url: str
    data_dir: Path
    docs: int
    seconds: float = 0.0
    body_lengths: list[int] = field(default_factory=list)
    confidential: int = 0
    visible_confidential: int = 0
    notations: list[str] = field(default_factory=list)
    first_day: date | None = None
    last_day: date | None = None
    reused: bool = False


def _dates(rng: random.Random, count: int, today: date) -> list[date]:
    """Working days over ten years, a little busier every year, in order."""
    start = today - timedelta(days=round(365.25 * YEARS) - 1)
    span = (today - start).days
    found = []
    while len(found) < count:
        # growth: later days more likely (density rising ~7 %/year)
        offset = int(span * math.log1p(rng.random() * (math.e ** 0.7 - 1)) / 0.7)
        day = start + timedelta(days=min(span, offset))
        if day.weekday() >= 5 and rng.random() < 0.9:
            continue
        found.append(day)
    found.sort()
    return found


def build_archive(archive: Archive, corpus: Corpus, rng: random.Random) -> None:
    started = time.perf_counter()
    recreate_database(archive.url)
    writer = Writer(archive.url)
    moment = datetime.now(UTC)
    writer.write("organizations", [{"id": 1, "code": "000.00.12.H57",
                                    "name": "Sở Nội vụ tỉnh Bình Dương", "abbr": "SNV",
                                    "place": "Bình Dương", "created_at": moment}])
    unit_ids = {abbr: i for i, (abbr, _) in enumerate(UNITS, start=1)}
    writer.write("units", [{"id": unit_ids[abbr], "org_id": 1, "name": name, "abbr": abbr}
                           for abbr, name in UNITS])
    writer.write("users", [{
        "id": uid, "org_id": 1, "unit_id": unit_ids[unit] if unit else None,
        "username": username, "password_hash": "bench-no-login", "full_name": name,
        "role": role, "active": True,
        "created_at": moment} for uid, username, name, role, unit in PEOPLE])

    today = date.today()
    days = _dates(rng, archive.docs, today)
    archive.first_day, archive.last_day = days[0], days[-1]
    ubnd_tinh = SENDERS[0][0]
    senders = [(s, s[2]) for s in SENDERS]
    other_units = [u for u in unit_ids if u != "TCBC"]
    numbers: dict[int, int] = {}
    sender_numbers: dict[tuple, int] = {}
    chunk = {"stored_files": [], "incoming_documents": [], "incoming_assignments": [],
             "file_texts": []}
    assignment_id = 0
    last_report = time.perf_counter()

    def flush():
        for table in ("stored_files", "incoming_documents", "incoming_assignments",
                      "file_texts"):
            writer.write(table, chunk[table])
            chunk[table] = []

    for doc_id, doc_date in enumerate(days, start=1):
        arrival = min(today, doc_date + timedelta(days=min(int(rng.expovariate(0.6)), 10)))
        year = arrival.year
        numbers[year] = numbers.get(year, 0) + 1
        sender, abbr, _, depts = weighted(rng, senders)
        number_str, corpus_type, raw_subject = corpus.subjects[doc_id % len(corpus.subjects)]
        seq_key = (sender, doc_date.year)
        sender_numbers[seq_key] = sender_numbers.get(seq_key, 0) + rng.randint(1, 6)
        n = sender_numbers[seq_key] % 9999 + 1
        if sender == ubnd_tinh:
            # the corpus numbers' notation part (UBND-VX, QĐ-UBND, …), renumbered per year
            doc_type = corpus_type
            notation = f"{n}/{number_str.split('/', 1)[-1]}" if "/" in number_str \
                else number_str
        else:
            doc_type = weighted(rng, DOC_TYPES)
            if abbr == "TU":
                notation = f"{n}-{'CV' if doc_type == 'CV' else doc_type}/TU"
            elif doc_type == "CV":
                notation = f"{n}/{abbr}-{rng.choice(depts)}"
            else:
                notation = f"{n}/{doc_type}-{abbr}"
            if rng.random() < 0.12:  # a law-corpus subject (quy định, hướng dẫn thi hành …)
                raw_subject = rng.choice(corpus.law_subjects)
        subject = _subject_for(doc_type, raw_subject)
        signer = rng.choice(SIGNERS)
        head = (f"{sender.upper()}\nSố: {notation}\nBình Dương, ngày {doc_date.day} tháng "
                f"{doc_date.month} năm {doc_date.year}\n{catalogue.type_name(doc_type).upper()}"
                f"\n{subject}\n")
        body = make_body(rng, corpus, body_length(rng), head, signer)
        paged, pages = _paged(body)
        archive.body_lengths.append(len(body.encode("utf-8")))
        status = weighted(rng, STATUSES)
        secrecy = "confidential" if rng.random() < 0.03 else "normal"
        registered_at = datetime(arrival.year, arrival.month, arrival.day, 2,
                                 rng.randint(0, 59), tzinfo=UTC)
        assignments = []
        if secrecy != "normal":
            archive.confidential += 1
            # a third handled by "our" specialist (visible to them), the rest elsewhere
            mine = rng.random() < 0.34
            archive.visible_confidential += mine
            assignments.append((SPECIALIST if mine else rng.choice([4, 5]), None, "main"))
            status = "in_progress" if status == "registered" else status
        elif status != "registered":
            assignments.append((None, unit_ids[rng.choice(["TCBC"] + other_units * 2)],
                                "main"))
        chunk["stored_files"].append({
            "id": doc_id, "org_id": 1, "sha256": "0" * 64,
            "filename": notation.replace("/", "-") + ".pdf", "content_type": "application/pdf",
            "size": len(paged) * 3, "page_count": pages, "has_signatures": False,
            "uploaded_by_id": CLERK, "uploaded_at": registered_at})
        chunk["incoming_documents"].append({
            "id": doc_id, "org_id": 1, "doc_type": doc_type, "subject": subject,
            "notation": notation, "notation_key": key(notation), "doc_date": doc_date,
            "urgency": "normal", "secrecy": secrecy, "status": status,
            "created_at": registered_at, "updated_at": registered_at, "file_id": doc_id,
            "arrival_year": year, "arrival_number": numbers[year], "arrival_date": arrival,
            "sender": sender, "sender_key": key(sender), "received_via": "electronic",
            "due_date": None, "deadline": None, "page_count": pages,
            "registered_by_id": CLERK, "registered_at": registered_at,
            "completed_at": registered_at if status == "completed" else None,
            "completion_note": "", "rejection_reason": "", "signature_check": None})
        for user_id, unit_id, role in assignments:
            assignment_id += 1
            chunk["incoming_assignments"].append({
                "id": assignment_id, "document_id": doc_id, "user_id": user_id,
                "unit_id": unit_id, "role": role, "deadline": None, "note": "",
                "assigned_by_id": LEADER, "assigned_at": registered_at, "active": True})
        chunk["file_texts"].append({"file_id": doc_id, "text": paged, "pages": pages,
                                    "ocr_pages": [], "missing_pages": [],
                                    "extracted_at": registered_at})
        if doc_id % 1000 == 0 or len(archive.notations) < 2000 and rng.random() < 0.05:
            archive.notations.append(notation)
        if len(chunk["incoming_documents"]) >= 2000:
            flush()
            if time.perf_counter() - last_report > 5:
                last_report = time.perf_counter()
                log(f"    {doc_id:>9,} / {archive.docs:,} documents "
                    f"({doc_id / (last_report - started):,.0f}/s)")
    flush()
    writer.write("counters", [{"id": i, "org_id": 1, "register": "incoming", "year": y,
                               "value": v} for i, (y, v) in enumerate(sorted(numbers.items()),
                                                                      1)])
    writer.finish()
    archive.seconds = time.perf_counter() - started
    (archive.data_dir / "archive.json").write_text(json.dumps({
        "docs": archive.docs, "body_lengths": archive.body_lengths,
        "confidential": archive.confidential,
        "visible_confidential": archive.visible_confidential, "notations": archive.notations,
        "first_day": archive.first_day.isoformat(), "last_day": archive.last_day.isoformat(),
        "seconds": archive.seconds}))


def reuse_archive(archive: Archive) -> bool:
    marker = archive.data_dir / "archive.json"
    db_path = Path(archive.url.split("///", 1)[1])
    if not marker.exists() or not db_path.exists():
        return False
    found = json.loads(marker.read_text())
    if found["docs"] != archive.docs:
        return False
    archive.body_lengths = found["body_lengths"]
    archive.confidential = found["confidential"]
    archive.visible_confidential = found["visible_confidential"]
    archive.notations = found["notations"]
    archive.first_day = date.fromisoformat(found["first_day"])
    archive.last_day = date.fromisoformat(found["last_day"])
    archive.seconds = found["seconds"]
    archive.reused = True
    return True


# --- queries ------------------------------------------------------------------------------

@dataclass
class BenchQuery:
    text: str
    kind: str  # word | words | phrase | notation, + " (no diacritics)"
    date_from: date
    date_to: date


def _subject_segments(subject: str) -> list[list[str]]:
    parts = re.split(r"[,;:.()\"“”'/–—]|\s-\s", analysis.normalise(subject))
    return [analysis.words(part) for part in parts]


def make_queries(count: int, corpus: Corpus, archive: Archive,
                 rng: random.Random) -> list[BenchQuery]:
    """1–3 word queries from the real subjects' vocabulary: distinct subject frequency
    between a rare and a stop-word-like level; half typed without diacritics, about one
    in eight quoted, one in twelve a notation of a generated document."""
    freq: dict[tuple, int] = {}
    subjects = [s for _, _, s in corpus.subjects] + corpus.law_subjects
    for subject in subjects:
        seen = set()
        for seg in _subject_segments(subject):
            for n in (1, 2, 3):
                for i in range(len(seg) - n + 1):
                    gram = tuple(seg[i:i + n])
                    if gram in seen or any(t.isdigit() or len(t) < 2 for t in gram):
                        continue
                    if gram[0] in FUNCTION_WORDS or gram[-1] in FUNCTION_WORDS:
                        continue
                    seen.add(gram)
                    freq[gram] = freq.get(gram, 0) + 1
    total = len(subjects)
    pools = {
        1: sorted(g for g, c in freq.items() if len(g) == 1 and 15 <= c <= total * 0.06),
        2: sorted(g for g, c in freq.items() if len(g) == 2 and 8 <= c <= total * 0.08),
        3: sorted(g for g, c in freq.items() if len(g) == 3 and 6 <= c),
    }
    fixed = ["đất đai", "bảo hiểm xã hội", "phong chong dich", '"bảo hiểm y tế"',
             "cải cách hành chính", "quyet dinh"]
    texts: list[tuple[str, str]] = [(q, "fixed") for q in fixed]
    used = set(fixed)
    notations = list(archive.notations)
    # a separate generator, so every size gets the same word and phrase queries
    random.Random(len(notations)).shuffle(notations)
    while len(texts) < count:
        r = rng.random()
        if r < 0.08 and notations:
            notation = notations.pop()
            folded = rng.random() < 0.5
            texts.append((notation.translate(FOLD_DD) if folded else notation,
                          "notation" + (" (no diacritics)" if folded else "")))
            continue
        if r < 0.20:
            n, kind = rng.choice((2, 3)), "phrase"
        else:
            n = rng.choices((1, 2, 3), (25, 45, 30))[0]
            kind = "word" if n == 1 else "words"
        gram = " ".join(rng.choice(pools[n]))
        folded = rng.random() < 0.5
        if folded:
            gram = analysis.fold(gram)
            kind += " (no diacritics)"
        query = f'"{gram}"' if kind.startswith("phrase") else gram
        if query in used:
            continue
        used.add(query)
        texts.append((query, kind))
    first, last = archive.first_day, archive.last_day
    found = []
    for query, kind in texts[:count]:
        start = first + timedelta(days=rng.randint(0, max(0, (last - first).days - 365)))
        found.append(BenchQuery(query, kind, start, start + timedelta(days=364)))
    return found


# --- 2.–3. a backend ----------------------------------------------------------------------

@dataclass
class Series:
    name: str
    times: list[float] = field(default_factory=list)  # seconds
    totals: list[int] = field(default_factory=list)

    def row(self) -> tuple[float, float, float]:
        return (statistics.median(self.times) * 1000, percentile(self.times, 95) * 1000,
                max(self.times) * 1000)


@dataclass
class BackendResult:
    name: str
    docs: int
    skipped: str = ""
    rate: float = 0.0
    index_seconds: float = 0.0
    size_mb: float = 0.0
    series: dict[str, Series] = field(default_factory=dict)
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # layer times per kind
    profile: str = ""


def _progress(label: str):
    state = {"last": 0.0, "t0": time.perf_counter()}

    def report(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - state["last"] > 10 or done == total:
            state["last"] = now
            log(f"    {label}: {done:>9,} / {total:,} ({done / (now - state['t0']):,.0f} "
                f"docs/s)")
    return report


def _queue_backlog(db: Database, count: int) -> int:
    """Queue the first ``count`` documents for re-indexing, as a burst of changes would
    (the bench runs no indexer, so they stay queued while the queries run)."""
    with db.transaction() as session:
        ids = session.scalars(select(IncomingDocument.id).order_by(IncomingDocument.id)
                              .limit(count)).all()
        for doc_id in ids:
            outbox.enqueue(session, outbox.INDEX, f"in:{doc_id}")
    return len(ids)


def _clear_backlog(db: Database) -> None:
    with db.transaction() as session:
        session.execute(delete(outbox.OutboxItem))


def _users(db: Database) -> dict[int, User]:
    with db.transaction(readonly=True) as session:
        return {uid: session.get(User, uid) for uid in (LEADER, SPECIALIST)}


def run_backend(name: str, archive: Archive, queries: list[BenchQuery], *,
                profile: bool) -> BackendResult:
    result = BackendResult(name, archive.docs)
    db = Database(archive.url)
    store = IndexStore(archive.data_dir, name)
    indexer = Indexer(db, BlobStore(archive.data_dir / "blobs"), store)
    try:
        log(f"  -- {name}: Indexer.reindex() of {archive.docs:,} documents")
        started = time.perf_counter()
        indexed = indexer.reindex(progress=_progress(name))
        result.index_seconds = time.perf_counter() - started
        result.rate = indexed / result.index_seconds
        result.size_mb = dir_size(store.path) / 1e6
        log(f"    indexed {indexed:,} in {result.index_seconds:.1f} s "
            f"({result.rate:,.0f} docs/s), {result.size_mb:,.1f} MB on disk")
        if indexed != archive.docs:
            log(f"    WARNING: {archive.docs - indexed} documents not indexed")

        users = _users(db)
        actor = users[SPECIALIST]
        principals = access.of_user(actor)
        service = SimpleNamespace(store=store, changed=lambda: None)
        backend = store.reader()

        def engine(q: BenchQuery, *, dated=False, facets=False):
            params = ops.SearchParams(q=q.text)
            request = SearchRequest(
                clauses=ops.clauses(params), org_id=actor.org_id, principals=principals,
                date_from=q.date_from if dated else None,
                date_to=q.date_to if dated else None, offset=0, limit=PER_PAGE,
                facets=facets)
            return backend.search(request).total

        def layer(q: BenchQuery):
            with db.transaction(readonly=True) as session:
                page = ops.search(session, service, actor, ops.SearchParams(q=q.text),
                                  page=1, per_page=PER_PAGE)
                # The index filters access itself: a first page shorter than the index's
                # total allows means the database hid hits the index showed this user.
                hidden = min(page.total, PER_PAGE) - len(page.hits)
                if hidden:
                    raise AssertionError(f"{hidden} hits hidden by the DB for {q.text!r}")
                return page.total

        def measure(label, call, *, by_kind=False):
            for q in queries[:5]:  # warm-up: open segments, fill caches
                call(q)
            series = Series(label)
            t_report = time.perf_counter()
            for i, q in enumerate(queries):
                t0 = time.perf_counter()
                total = call(q)
                elapsed = time.perf_counter() - t0
                series.times.append(elapsed)
                series.totals.append(total)
                if by_kind:
                    result.by_kind.setdefault(q.kind.split(" (")[0], []).append(elapsed)
                if time.perf_counter() - t_report > 15:
                    t_report = time.perf_counter()
                    log(f"    {label}: {i + 1}/{len(queries)}")
            result.series[label] = series
            p50, p95, top = series.row()
            log(f"    {label:<46} p50 {p50:8.1f}  p95 {p95:8.1f}  max {top:8.1f} ms")

        measure("engine: words (ACL, top 10)", lambda q: engine(q))
        measure("engine: words + 1-year date filter", lambda q: engine(q, dated=True))
        measure("engine: as ops.search asks (+facets) = bare", lambda q: engine(q, facets=True))
        measure("layer: ops.search top 10 + highlights", layer, by_kind=True)
        # Documents waiting in the outbox are checked against the database on every search
        # (docmgr.search.pending): the cost of a backlog the indexer has not drained yet.
        def denied(_q):
            with db.transaction(readonly=True) as session:
                return len(pending.denied_keys(session, actor))

        measure("pending.denied_keys alone, empty queue", denied)
        for backlog in BACKLOGS:
            queued = _queue_backlog(db, min(backlog, archive.docs))
            try:
                measure(f"pending.denied_keys alone, {queued:,} queued", denied)
                measure(f"layer, {queued:,} docs queued for indexing", layer)
            finally:
                _clear_backlog(db)
        bare = result.series["engine: as ops.search asks (+facets) = bare"]
        full = result.series["layer: ops.search top 10 + highlights"]
        diff = Series("overhead: layer − bare (paired)",
                      [max(0.0, f - b) for f, b in zip(full.times, bare.times, strict=True)])
        result.series[diff.name] = diff
        if profile:
            result.profile = _profile(lambda: [layer(q) for q in queries])
        backend.close()
        store.forget_reader()
    finally:
        db.dispose()
    return result


def _profile(work) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(18)
    stats.sort_stats("cumulative").print_stats(
        r"docmgr/search|whoosh/(searching|collectors|sorting)|tantivy|sqlalchemy/orm/session",
        22)
    keep = [line for line in out.getvalue().splitlines()
            if line.strip() and not line.startswith(("   Ordered by", "   List reduced"))]
    return "\n".join(keep)


# --- 4. SQLite FTS5 -----------------------------------------------------------------------

def _fts_match(clauses) -> str:
    parts = []
    for clause in clauses:
        tokens = [t.translate(FOLD_DD) for t in clause.folded]
        parts.append('"' + " ".join(tokens) + '"')
    return " ".join(parts)


def run_fts5(archive: Archive, queries: list[BenchQuery]) -> BackendResult:
    result = BackendResult("sqlite-fts5", archive.docs)
    path = archive.data_dir / "fts5-bench.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    source = sqlite3.connect(archive.url.split("///", 1)[1])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE meta (id INTEGER PRIMARY KEY, doc_date INTEGER)")
    conn.execute("CREATE INDEX meta_date ON meta (doc_date)")
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5(subject, body, "
                 "tokenize = \"unicode61 remove_diacritics 2\")")
    log(f"  -- sqlite-fts5: indexing {archive.docs:,} documents (read from the bench DB, "
        "batches of 500)")
    report = _progress("sqlite-fts5")
    started = time.perf_counter()
    cursor = source.execute(
        "SELECT d.id, d.doc_date, d.notation, d.sender, d.subject, t.text "
        "FROM incoming_documents d LEFT JOIN file_texts t ON t.file_id = d.file_id "
        "ORDER BY d.id")
    done = 0
    while True:
        rows = cursor.fetchmany(500)
        if not rows:
            break
        conn.executemany("INSERT INTO meta (id, doc_date) VALUES (?, ?)",
                         [(r[0], int((r[1] or "0").replace("-", ""))) for r in rows])
        conn.executemany(
            "INSERT INTO fts (rowid, subject, body) VALUES (?, ?, ?)",
            [(r[0], (r[4] or "").translate(FOLD_DD),
              f"{r[2]} {r[3]} {r[5] or ''}".translate(FOLD_DD)) for r in rows])
        conn.commit()
        done += len(rows)
        report(done, archive.docs)
    result.index_seconds = time.perf_counter() - started
    result.rate = done / result.index_seconds
    index_bytes = conn.execute("SELECT sum(length(block)) FROM fts_data").fetchone()[0] or 0
    index_bytes += conn.execute("SELECT sum(length(sz)) FROM fts_docsize").fetchone()[0] or 0
    result.size_mb = index_bytes / 1e6
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    file_mb = path.stat().st_size / 1e6
    log(f"    indexed {done:,} in {result.index_seconds:.1f} s ({result.rate:,.0f} docs/s); "
        f"index {result.size_mb:,.1f} MB (file with stored content {file_mb:,.1f} MB)")
    source.close()

    def plain(match, q):
        conn.execute("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ?",
                     (match, PER_PAGE)).fetchall()
        return conn.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (match,)).fetchone()[0]

    def dated(match, q):
        low, high = (int(d.strftime("%Y%m%d")) for d in (q.date_from, q.date_to))
        conn.execute("SELECT f.rowid FROM fts f JOIN meta m ON m.id = f.rowid "
                     "WHERE fts MATCH ? AND m.doc_date BETWEEN ? AND ? ORDER BY f.rank LIMIT ?",
                     (match, low, high, PER_PAGE)).fetchall()
        return conn.execute("SELECT count(*) FROM fts f JOIN meta m ON m.id = f.rowid "
                            "WHERE fts MATCH ? AND m.doc_date BETWEEN ? AND ?",
                            (match, low, high)).fetchone()[0]

    def highlighted(match, q):
        rows = conn.execute(
            "SELECT rowid, highlight(fts, 0, '<mark>', '</mark>'), "
            "snippet(fts, 1, '<mark>', '</mark>', '…', 32) FROM fts WHERE fts MATCH ? "
            "ORDER BY rank LIMIT ?", (match, PER_PAGE)).fetchall()
        return len(rows)

    for label, call in (("fts5: words (top 10 + count)", plain),
                        ("fts5: words + 1-year date (join)", dated),
                        ("fts5: top 10 + highlight() + snippet()", highlighted)):
        series = Series(label)
        for q in queries[:5]:
            call(_fts_match(analysis.parse(q.text).clauses), q)
        for q in queries:
            match = _fts_match(analysis.parse(q.text).clauses)
            t0 = time.perf_counter()
            total = call(match, q)
            series.times.append(time.perf_counter() - t0)
            series.totals.append(total)
        result.series[label] = series
        p50, p95, top = series.row()
        log(f"    {label:<46} p50 {p50:8.1f}  p95 {p95:8.1f}  max {top:8.1f} ms")
    conn.close()
    return result


# --- 5. report ----------------------------------------------------------------------------

def machine_lines() -> list[str]:
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        found = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1) if found else ""

    def version(*names):
        for name in names:
            try:
                return f"{name} {metadata.version(name)}"
            except metadata.PackageNotFoundError:
                continue
        return f"{names[0]} (not installed)"

    return [f"machine: {os.cpu_count()} CPUs (usable {len(os.sched_getaffinity(0))}) {cpu}; "
            f"{platform.platform()}",
            f"python {platform.python_version()}; {version('whoosh-reloaded', 'whoosh')}; "
            f"{version('tantivy')}; SQLite {sqlite3.sqlite_version}; "
            f"{version('SQLAlchemy')}"]


def size_table(archive: Archive, results: list[BackendResult]) -> list[str]:
    lengths = archive.body_lengths
    lines = [f"== {archive.docs:,} documents: bodies mean {statistics.mean(lengths) / 1024:.1f}"
             f" KB, median {statistics.median(lengths) / 1024:.1f} KB, p95 "
             f"{percentile(lengths, 95) / 1024:.1f} KB, max {max(lengths) / 1024:.0f} KB "
             f"(UTF-8); {archive.confidential:,} confidential "
             f"({archive.confidential / archive.docs:.1%}, {archive.visible_confidential:,} "
             f"of them assigned to the measured specialist); dates "
             f"{archive.first_day}–{archive.last_day}; archive "
             + ("reused" if archive.reused else f"generated in {archive.seconds:.0f} s")]
    header = (f"{'backend':<12} {'variant':<46} {'docs/s':>8} {'size MB':>8} {'p50 ms':>8} "
              f"{'p95 ms':>8} {'max ms':>8} {'mean hits':>9}")
    lines += [header, "-" * len(header)]
    for r in results:
        if r.skipped:
            lines.append(f"{r.name:<12} SKIPPED: {r.skipped}")
            continue
        label = "index: Indexer.reindex()" if r.name != "sqlite-fts5" else \
            "index: INSERT from the bench DB"
        lines.append(f"{r.name:<12} {label:<46} {r.rate:>8,.0f} {r.size_mb:>8,.1f}")
        for s in r.series.values():
            p50, p95, top = s.row()
            hits = f"{statistics.mean(s.totals):>9,.0f}" if s.totals else ""
            lines.append(f"{r.name:<12} {s.name:<46} {'':>8} {'':>8} {p50:>8.1f} {p95:>8.1f} "
                         f"{top:>8.1f} {hits}")
    return lines


def kind_table(results: list[BackendResult]) -> list[str]:
    lines = []
    for r in results:
        if r.skipped or not r.by_kind:
            continue
        parts = [f"{kind} n={len(t)} p50 {statistics.median(t) * 1000:.1f} / p95 "
                 f"{percentile(t, 95) * 1000:.1f}" for kind, t in sorted(r.by_kind.items())]
        lines.append(f"  {r.name} layer by query kind (ms): " + "; ".join(parts))
    return lines


def verdicts(all_results: dict[int, list[BackendResult]]) -> list[str]:
    def find(backend: str, docs: int) -> BackendResult | None:
        for r in all_results.get(docs, []):
            if r.name == backend and not r.skipped:
                return r
        return None

    def p95(r: BackendResult, label: str) -> float:
        return percentile(r.series[label].times, 95) * 1000

    layer = "layer: ops.search top 10 + highlights"
    bare = "engine: as ops.search asks (+facets) = bare"
    overhead = "overhead: layer − bare (paired)"
    lines = []
    w = find("whoosh", 10_000)
    if w:
        ok = p95(w, layer) <= TARGETS["whoosh_p95"]
        lines.append(f"{'PASS' if ok else 'FAIL'}  Whoosh p95 ≤ 150 ms at 10,000 documents: "
                     f"layer p95 {p95(w, layer):.1f} ms (bare engine {p95(w, bare):.1f} ms, "
                     f"words only {p95(w, 'engine: words (ACL, top 10)'):.1f} ms)")
    else:
        lines.append("N/A   Whoosh p95 ≤ 150 ms at 10,000 documents: not measured "
                     "(run with --docs 10000 --backends whoosh)")
    t = find("tantivy", 100_000)
    if t:
        ok = p95(t, layer) <= TARGETS["tantivy_p95"]
        lines.append(f"{'PASS' if ok else 'FAIL'}  Tantivy p95 ≤ 20 ms at 100,000 documents "
                     f"with highlights: layer p95 {p95(t, layer):.1f} ms (bare engine "
                     f"{p95(t, bare):.1f} ms)")
    else:
        lines.append("N/A   Tantivy p95 ≤ 20 ms at 100,000 documents with highlights: not "
                     "measured (run with --docs 100000 --backends tantivy)")
    rates = [(docs, r.rate) for docs, rs in sorted(all_results.items()) for r in rs
             if r.name == "tantivy" and not r.skipped]
    if rates:
        ok = all(rate >= TARGETS["tantivy_rate"] for _, rate in rates)
        lines.append(f"{'PASS' if ok else 'FAIL'}  Tantivy indexing ≥ 2,000 docs/s: "
                     + ", ".join(f"{rate:,.0f} docs/s at {docs:,}" for docs, rate in rates)
                     + " (Indexer.reindex: DB + projection + analysis + engine)")
    else:
        lines.append("N/A   Tantivy indexing ≥ 2,000 docs/s: not measured")
    found = [(docs, r) for docs, rs in sorted(all_results.items()) for r in rs
             if r.name in ("whoosh", "tantivy") and not r.skipped]
    if found:
        worst = max(p95(r, overhead) for _, r in found)
        ok = worst <= TARGETS["overhead"]
        lines.append(f"{'PASS' if ok else 'FAIL'}  layer overhead ≤ 10 ms over the bare "
                     "engine (p95 of the paired per-query difference): "
                     + ", ".join(f"{r.name} {docs:,}: p50 "
                                 f"{statistics.median(r.series[overhead].times) * 1000:.1f} / "
                                 f"p95 {p95(r, overhead):.1f} ms" for docs, r in found))
    return lines


def extrapolations(all_results: dict[int, list[BackendResult]], sizes: list[int]) -> list[str]:
    lines = []
    for docs in sizes:
        for r in all_results.get(docs, []):
            if r.name != "whoosh" or not r.skipped:
                continue
            measured = [(d, x) for d, rs in all_results.items() for x in rs
                        if x.name == "whoosh" and not x.skipped and d < docs]
            if not measured:
                continue
            base_docs, base = max(measured, key=lambda item: item[0])
            factor = docs / base_docs
            layer = base.series["layer: ops.search top 10 + highlights"]
            lines.append(
                f"EXTRAPOLATION (not measured) whoosh at {docs:,} from {base_docs:,}: indexing "
                f"≈ {docs / base.rate / 60:.0f} min at the measured {base.rate:,.0f} docs/s "
                f"(Whoosh merges slow it further as it grows); index ≈ "
                f"{base.size_mb * factor:,.0f} MB; query time grows about linearly with posting "
                f"list length, so layer p50 ≈ {statistics.median(layer.times) * 1000 * factor:,.0f}"
                f" ms, p95 ≈ {percentile(layer.times, 95) * 1000 * factor:,.0f} ms (×{factor:.0f})")
    return lines


# --- main ---------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, action="append",
                        help="archive size; repeat for several (default 10000)")
    parser.add_argument("--backends", default="whoosh,tantivy")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data-dir", default=None,
                        help="where the bench DBs and indexes go (default: a temporary "
                             "directory under /tmp, removed afterwards)")
    parser.add_argument("--whoosh-max-docs", type=int, default=100_000,
                        help="skip Whoosh above this size (it indexes ~100 docs/s)")
    parser.add_argument("--no-fts5", action="store_true", help="skip the SQLite FTS5 reference")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the layer variant of every backend and size")
    parser.add_argument("--reuse-db", action="store_true",
                        help="keep a bench DB of the same size found in --data-dir")
    parser.add_argument("--seed", type=int, default=20261129)
    args = data.parse(parser, argv, docs=[200], queries=10)
    sizes = args.docs or [10_000]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    temp = None
    if args.data_dir:
        root = Path(args.data_dir)
        root.mkdir(parents=True, exist_ok=True)
    else:
        temp = tempfile.mkdtemp(prefix="docmgr-search-bench-")
        root = Path(temp)
    run_started = time.perf_counter()
    load_before = os.getloadavg()
    all_results: dict[int, list[BackendResult]] = {}
    archives: dict[int, Archive] = {}
    try:
        log(f"== docmgr bench: search — sizes {sizes}, backends {backends}, "
            f"{args.queries} queries, data in {root}")
        corpus = load_vn_corpus(random.Random(args.seed))
        for docs in sizes:
            rng = random.Random(args.seed + docs)
            data_dir = root / f"n{docs}"
            data_dir.mkdir(parents=True, exist_ok=True)
            archive = Archive(f"sqlite:///{data_dir / 'search-bench.sqlite3'}", data_dir, docs)
            archives[docs] = archive
            if args.reuse_db and reuse_archive(archive):
                log(f"== {docs:,} documents: reusing {archive.url}")
            else:
                log(f"== {docs:,} documents: generating the archive in {archive.url}")
                build_archive(archive, corpus, rng)
                log(f"    done in {archive.seconds:.1f} s")
            queries = make_queries(args.queries, corpus, archive, random.Random(args.seed))
            log(f"  {len(queries)} queries, e.g. "
                + ", ".join(repr(q.text) for q in queries[6:14]))
            results = all_results[docs] = []
            for name in backends:
                if name == "whoosh" and docs > args.whoosh_max_docs:
                    results.append(BackendResult(
                        name, docs, skipped=f"{docs:,} > --whoosh-max-docs "
                        f"{args.whoosh_max_docs:,} (see the extrapolation below)"))
                    log(f"  -- whoosh: SKIPPED at {docs:,} documents (--whoosh-max-docs "
                        f"{args.whoosh_max_docs:,})")
                    continue
                results.append(run_backend(name, archive, queries, profile=args.profile))
                shutil.rmtree(archive.data_dir / "index", ignore_errors=True)
            if not args.no_fts5:
                results.append(run_fts5(archive, queries))
                (archive.data_dir / "fts5-bench.sqlite3").unlink(missing_ok=True)
        load_after = os.getloadavg()

        log("")
        log("=" * 110)
        log("RESULTS — docmgr full-text search")
        for line in machine_lines():
            log(line)
        log("load average (1/5/15 min) before "
            + "/".join(f"{v:.2f}" for v in load_before) + ", after "
            + "/".join(f"{v:.2f}" for v in load_after)
            + " — other work may share the CPUs; single-threaded, in-process, sequential")
        log(f"queries: {args.queries} per variant, 1–3 words from real subjects (half without "
            f"diacritics, ~12 % quoted phrases, ~8 % notations); top {PER_PAGE}; ACL as a "
            "non-leader specialist; times in ms")
        for docs in sizes:
            log("")
            for line in size_table(archives[docs], all_results[docs]):
                log(line)
            for line in kind_table(all_results[docs]):
                log(line)
        extra = extrapolations(all_results, sizes)
        if extra:
            log("")
            for line in extra:
                log(line)
        log("")
        log("Targets of the search issue:")
        for line in verdicts(all_results):
            log("  " + line)
        if args.profile:
            for docs in sizes:
                for r in all_results[docs]:
                    if r.profile:
                        log("")
                        log(f"cProfile — {r.name} at {docs:,}: ops.search over all queries")
                        log(r.profile)
        log("")
        log(f"total run time {time.perf_counter() - run_started:.0f} s")
        return 0
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
