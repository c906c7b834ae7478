"""Bench data at scale: a provincial People's Committee with N documents over ten years.

    .venv/bin/python -m tests.bench.generate [--database-url URL] [--documents 1000000]
        [--years 10] [--outgoing-share 0.25] [--audit] [--data-dir DIR]
        [--measure] [--measure-only] [--calls 20] [--reads 20] [--smoke]

1. (Re)creates a dedicated database (its name must contain "bench"; PostgreSQL
   ``docmgr_bench_1m`` by default, dropped and recreated through the ``postgres`` database;
   or a SQLite file whose name contains "bench") and runs the migrations — through
   ``tests.bench.incoming.recreate_database``.
2. Loads, in chunks, with PostgreSQL ``COPY`` (SQLite: ``executemany``) and a progress line
   on stderr: one organisation (Ủy ban nhân dân tỉnh Bình Dương, its ten Văn phòng units, 49
   users), N documents split incoming / outgoing (a real office: ~41,000 in and ~13,000 out a
   year), ND30 types in realistic proportions, Vietnamese subjects from the corpus with
   variation, gap-free numbers per year and register with their counters, assignments with
   deadlines and completions (mostly on time, some late, some open, some overdue), issued
   outgoing documents with number, notation, date, signed file and a small signature report
   taken from a real validation; every stored file points at one of four real blobs (an
   incoming PDF, a draft, a signed and an issued PDF, produced with the app's signing
   engine). On PostgreSQL the secondary indexes and unique constraints of the big tables are
   dropped before the load and rebuilt afterwards (which re-checks uniqueness), then every
   foreign key is checked, sequences are set, VACUUM ANALYZE, CHECKPOINT.
   Audit events are NOT generated unless ``--audit``: without them the bench database's
   audit chain is empty and ``flask docmgr audit-verify`` proves nothing about it.
3. ``--measure`` (or ``--measure-only`` on an existing database): GET /api/v1/stats for the
   current year and for the whole period, per group_by, through the Flask test client, each
   paired with the equivalent raw SQL aggregates on the same database; the clerk's incoming
   list and register pages (tests.bench.incoming's measuring code).

Other benchmarks use :func:`build` and :func:`measure_scale`, which return their figures.
``--smoke``: 500 documents into a SQLite file in a temporary directory (removed afterwards)
unless ``--database-url`` is given, measured with two calls per figure.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from bisect import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

import docmgr.models  # noqa: F401  (every table in the metadata)
from docmgr.core import audit
from docmgr.core import auth as accounts
from docmgr.core.storage import BlobStore
from docmgr.core.uploads import check_pdf
from docmgr.db import Base
from docmgr.demo import sample_pdf
from docmgr.outbound.operations import compose_notation, date_line, register_for
from tests.bench import data as bench_data
from tests.bench.incoming import (
    DIRECTIONS,
    MEASURED,
    PASSWORD,
    SENDERS,
    STATUS_BY_AGE,
    ZONE,
    Writer,
    _person_name,
    _subject_for,
    is_sqlite,
    key,
    load_corpus,
    login,
    machine,
    measure,
    normalise_url,
    percentile,
    recreate_database,
)
from tests.bench.incoming import DOC_TYPES as INCOMING_TYPES
from tests.bench.incoming import SqlRecorder as _SqlRecorder
from tests.bench.incoming import check_foreign_keys as _check_foreign_keys

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/docmgr_bench_1m"
TARGET_STATS_S = 1.0

ORG = ("000.00.00.H57", "Ủy ban nhân dân tỉnh Bình Dương", "UBND", "Bình Dương")
# Văn phòng UBND tỉnh: (abbr, name, specialists, share of the handling) — the abbreviations
# are those of the corpus notations (3637/UBND-VX, …/UBND-NC, …/UBND-KTN).
UNITS = [
    ("VX", "Phòng Văn hóa - Xã hội", 5, 30),
    ("NC", "Phòng Nội chính", 4, 12),
    ("KT", "Phòng Kinh tế", 3, 10),
    ("KTN", "Phòng Kinh tế ngành", 3, 8),
    ("KTTH", "Phòng Kinh tế tổng hợp", 3, 7),
    ("TH", "Phòng Tổng hợp", 4, 10),
    ("KSTT", "Phòng Kiểm soát thủ tục hành chính", 2, 4),
    ("HCC", "Trung tâm Phục vụ hành chính công", 2, 3),
    ("BTCD", "Ban Tiếp công dân", 2, 3),
    ("HCTC", "Phòng Hành chính - Tổ chức", 3, 5),
]
# the measured accounts keep tests.bench.incoming's usernames (and its PASSWORD)
ROLES_UNITS = {"clerk": "HCTC", "specialist": "VX", "head": "VX", "leader": None, "admin": None}
# who writes to the province: the incoming senders without the office itself
IN_SENDERS = [s for s in SENDERS if s[0] != ORG[1]] + [
    ("Sở Nội vụ tỉnh Bình Dương", "SNV", 6, ["TCBC", "CCHC", "VP", "CCVC"])]
OUT_TYPES = [("CV", 560), ("QĐ", 170), ("TB", 60), ("KH", 50), ("BC", 50), ("TTr", 30),
             ("GM", 30), ("CT", 10), ("CTr", 10), ("HD", 10), ("CĐ", 10), ("PA", 5)]
LEGAL = {"QĐ": 0.04, "CT": 0.10}  # share issued as văn bản quy phạm pháp luật
URGENCY = [("normal", 950), ("urgent", 35), ("very_urgent", 10), ("express", 5)]
SECRECY = [("normal", 985), ("confidential", 14), ("secret", 1)]
OUT_STATUS_BY_AGE = [  # (max age in days, [(status, weight)])
    (2, [("draft", 25), ("in_review", 20), ("returned", 5), ("awaiting_signature", 15),
         ("signed", 10), ("issued", 25)]),
    (10, [("draft", 8), ("in_review", 8), ("returned", 3), ("awaiting_signature", 5),
          ("signed", 3), ("issued", 73)]),
    (30, [("draft", 3), ("in_review", 2), ("returned", 1), ("awaiting_signature", 1),
          ("signed", 1), ("issued", 92)]),
    (10 ** 6, [("draft", 3), ("issued", 997)]),  # abandoned drafts
]
DISTRICTS = ["thành phố Thủ Dầu Một", "thành phố Thuận An", "thành phố Dĩ An",
             "thành phố Tân Uyên", "thành phố Bến Cát", "huyện Bàu Bàng", "huyện Dầu Tiếng",
             "huyện Phú Giáo", "huyện Bắc Tân Uyên"]
QUARTERS = ["I", "II", "III", "IV"]
YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")
BIG_TABLES = ("stored_files", "incoming_documents", "incoming_assignments",
              "outgoing_documents", "outgoing_versions", "outgoing_route",
              "outgoing_recipients", "audit_events")
SEQUENCE_TABLES = ("organizations", "units", "users", "counters") + BIG_TABLES
CHUNK = 20_000


def log(message: str = "") -> None:
    print(message, flush=True)


class Picker:
    """Weighted choice with the cumulative weights computed once (bisect on random())."""

    def __init__(self, pairs):
        self.values = [v for v, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random):
        return self.values[bisect(self.cum, rng.random() * self.total)]


# --- rows: COPY of tuples ---------------------------------------------------------------

class Table:
    """Rows of one table as tuples in a fixed column order; columns the app added since
    this file was written get their scalar ORM default (Writer._complete)."""

    def __init__(self, writer: Writer, name: str, columns: list[str]):
        self.writer, self.name, self.columns = writer, name, list(columns)
        sample = dict.fromkeys(columns)
        names = writer._complete(name, [sample])
        self.extra = tuple(sample[n] for n in names if n not in columns)
        self.all_columns = self.columns + [n for n in names if n not in columns]
        self.json = {i for i, n in enumerate(self.all_columns)
                     if Base.metadata.tables[name].c[n].type.__class__.__name__ == "JSON"}
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, *values) -> None:
        self.rows.append(values + self.extra if self.extra else values)

    def flush(self) -> None:
        rows, self.rows = self.rows, []
        if not rows:
            return
        self.count += len(rows)
        if self.writer.sqlite:
            self.writer.conn.execute(Base.metadata.tables[self.name].insert(),
                                     [dict(zip(self.all_columns, r, strict=True)) for r in rows])
            return
        from psycopg.types.json import Json
        cols = ", ".join(f'"{c}"' for c in self.all_columns)
        json_at = sorted(self.json)
        with self.writer.conn.cursor() as cur, \
                cur.copy(f'COPY "{self.name}" ({cols}) FROM STDIN') as copy:
            if json_at:
                for r in rows:
                    r = list(r)
                    for i in json_at:
                        if r[i] is not None:
                            r[i] = Json(r[i])
                    copy.write_row(r)
            else:
                for r in rows:
                    copy.write_row(r)


class Progress:
    """One line on stderr, rewritten: percentage, documents, rate, ETA."""

    def __init__(self, total: int, label: str = "documents"):
        self.total, self.label, self.started = max(total, 1), label, time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.last_line = 0.0

    def update(self, done: int, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and not self.tty and now - self.last_line < 5:
            return
        self.last_line = now
        elapsed = now - self.started
        rate = done / elapsed if elapsed else 0.0
        eta = (self.total - done) / rate if rate else 0.0
        share = done / self.total
        bar = "#" * int(share * 30)
        line = (f"  [{bar:<30}] {share:6.1%}  {done:>10,} / {self.total:,} {self.label}  "
                f"{rate:>8,.0f}/s  {elapsed:5.0f} s  ETA {eta:4.0f} s")
        if self.tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def done(self, done: int) -> None:
        self.update(done, force=True)
        if self.tty:
            print(file=sys.stderr, flush=True)


# --- PostgreSQL: indexes off during the load -------------------------------------------

def drop_secondary_indexes(conn) -> list[str]:
    """Drop the non-primary-key indexes and unique constraints of the big tables; return
    the statements that recreate them."""
    restore = []
    rows = conn.execute(
        "SELECT c.conname, t.relname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'u' "
        "AND t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace",
        (list(BIG_TABLES),)).fetchall()
    for name, table, definition in rows:
        conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        restore.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    rows = conn.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
        "AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))",
        (list(BIG_TABLES),)).fetchall()
    for name, definition in rows:
        conn.execute(f'DROP INDEX "{name}"')
        restore.append(definition)
    conn.commit()
    return restore


# --- the organisation -------------------------------------------------------------------

@dataclass
class Office:
    units: dict  # abbr -> id
    people: list
    by_username: dict
    staff: dict  # unit abbr -> [Person]
    heads: dict  # unit abbr -> Person
    leaders: list
    clerks: list
    blobs: dict  # kind -> (sha256, size, pages)
    signature_box: dict
    report: dict
    stats: dict = field(default_factory=dict)


def _real_blobs(data_dir: Path) -> tuple[dict, dict, dict]:
    """An incoming PDF, and an ND30 draft signed then issued by the app's signing engine
    (the issued one validated as issue() does; its report, trimmed, is reused)."""
    from docmgr.signing import appearance, engine, placement, pyhanko_patches
    from docmgr.signing.pki import BuiltinCA
    from docmgr.signing.trust import TrustStore
    from docmgr.signing.validation import validate_pdf
    from tests.bench.signing import NAME, credential, draft

    pyhanko_patches.install()  # no app here; validate as the server does
    store = BlobStore(data_dir / "blobs")
    incoming_pdf = sample_pdf(["UY BAN NHAN DAN TINH BINH DUONG", "Van ban den (du lieu bench)",
                               "", "Noi dung mau"], pages=2)
    pages = check_pdf(incoming_pdf, max_bytes=50 * 1024 * 1024).page_count
    blobs = {"incoming": (store.put(incoming_pdf), len(incoming_pdf), pages)}
    ca = BuiltinCA(data_dir)  # the directory TrustStore.for_app(…, data_dir) trusts
    leader, org = credential(ca, NAME), credential(ca, "Ủy ban nhân dân tỉnh Bình Dương")
    pdf = draft(2)
    layout = placement.find_layout(pdf, NAME)
    diameter = 36 * appearance.MM
    personal, _ = engine.place_block(layout.personal, diameter)
    prepared = engine.prepare(pdf, layout.personal, seal_diameter_pt=diameter,
                              number=layout.number, date=layout.date)
    signed = engine.sign_personal(prepared, leader, appearance.generated_signature(NAME))
    issued = engine.fill_and_seal(
        signed, org, appearance.generated_seal(ORG[1], 420),
        {engine.FIELD_NUMBER: "1234/UBND-VX",
         engine.FIELD_DATE: date_line(ORG[3], datetime.now(ZONE).date())})
    for kind, data in (("draft", pdf), ("signed", signed), ("issued", issued)):
        blobs[kind] = (store.put(data), len(data), 2)
    full = validate_pdf(issued, TrustStore.for_app({}, data_dir)).to_dict()
    keep = ("field", "signer", "signed_at", "intact", "valid", "trusted", "timestamped",
            "modification_level", "coverage", "kind", "verdict", "verdict_label")
    report = {"signatures": [{k: s.get(k) for k in keep} for s in full["signatures"]],
              "summary": full["summary"], "verdict": full["verdict"]}
    return blobs, personal.as_dict(), report


def create_office(writer: Writer, data_dir: Path, rng: random.Random) -> Office:
    moment = datetime.now(UTC)
    writer.write("organizations", [{"id": 1, "code": ORG[0], "name": ORG[1], "abbr": ORG[2],
                                    "place": ORG[3], "created_at": moment}])
    units = {abbr: i for i, (abbr, _, _, _) in enumerate(UNITS, start=1)}
    writer.write("units", [{"id": units[a], "org_id": 1, "name": n, "abbr": a}
                           for a, n, _, _ in UNITS])
    people, used = [], {full_name for _, full_name, _ in MEASURED.values()}

    def add(username, full_name, role, unit):
        people.append(SimpleNamespace(id=len(people) + 1, username=username,
                                      full_name=full_name, role=role, unit_abbr=unit))

    for role, (username, full_name, _) in MEASURED.items():
        add(username, full_name, role, ROLES_UNITS[role])
    for index in (2, 3):
        add(f"vanthu{index}", _person_name(rng, used), "clerk", "HCTC")
    for index in (2, 3, 4):
        add(f"phochutich{index}", _person_name(rng, used), "leader", None)
    for abbr, _, specialists, _ in UNITS:
        if abbr != ROLES_UNITS["head"]:
            add(f"truongphong.{abbr.lower()}", _person_name(rng, used), "head", abbr)
        existing = sum(1 for p in people if p.role == "specialist" and p.unit_abbr == abbr)
        for index in range(specialists - existing):
            add(f"cv.{abbr.lower()}{index + 1}", _person_name(rng, used), "specialist", abbr)
    password_hash = accounts.hash_password(PASSWORD)
    writer.write("users", [{
        "id": p.id, "org_id": 1, "unit_id": units[p.unit_abbr] if p.unit_abbr else None,
        "username": p.username, "password_hash": password_hash, "full_name": p.full_name,
        "role": p.role, "active": True,
        # The chủ tịch (the measured leader, added first) heads; phó chủ tịch are deputies.
        "leader_position": None if p.role != "leader" else
        "head" if p.username == MEASURED["leader"][0] else "deputy",
        "created_at": moment} for p in people])
    blobs, box, report = _real_blobs(data_dir)
    return Office(
        units=units, people=people, by_username={p.username: p for p in people},
        staff={a: [p for p in people if p.role == "specialist" and p.unit_abbr == a]
               for a in units},
        heads={p.unit_abbr: p for p in people if p.role == "head"},
        leaders=[p for p in people if p.role == "leader"],
        clerks=[p for p in people if p.role == "clerk"],
        blobs=blobs, signature_box=box, report=report)


# --- documents ------------------------------------------------------------------------

def day_counts(total: int, start: date, today: date, growth: float) -> list[int]:
    """Documents per day from ``start`` to ``today``: weekdays busy, Mondays busiest,
    weekends nearly empty, holidays quiet, ``growth`` more every year; sums to ``total``."""
    weights, day = [], start
    while day <= today:
        weekday = day.weekday()
        weight = (1.3 if weekday == 0 else 1.0 if weekday < 5 else 0.15 if weekday == 5
                  else 0.03) * (growth ** (day.year - start.year))
        if (day.month, day.day) in ((1, 1), (4, 30), (5, 1), (9, 2)):
            weight *= 0.05
        weights.append(weight)
        day += timedelta(days=1)
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    for index in sorted(range(len(counts)), key=lambda i: exact[i] - counts[i],
                        reverse=True)[:total - sum(counts)]:
        counts[index] += 1
    return counts


class Subjects:
    """Corpus subjects (3,620) with variation: years moved to the document's year, a
    district, a period or a round added — so that a million rows are not 3,620 strings."""

    def __init__(self, rng: random.Random):
        self.records = load_corpus(rng)  # (notation, doc_type, cased subject)
        self.by_type: dict[str, list[str]] = {}
        for _, doc_type, subject in self.records:
            self.by_type.setdefault(doc_type, []).append(subject)
        self.all = [s for _, _, s in self.records]

    def pick(self, rng: random.Random, doc_type: str, year: int, own_type: bool) -> str:
        pool = self.by_type.get(doc_type) if own_type else None
        if not pool or len(pool) < 20:
            pool = self.all
        raw = pool[int(rng.random() * len(pool))]
        years = [int(y) for y in YEAR_RE.findall(raw)]
        if years:  # move every year by the same offset: "giai đoạn 2021 - 2025" stays a range
            shift = year - (rng.random() < 0.3) - max(years)
            raw = YEAR_RE.sub(lambda m: str(int(m.group(0)) + shift), raw)
        roll = rng.random()
        if roll < 0.10 and "địa bàn" not in raw:
            raw += f" trên địa bàn {DISTRICTS[int(rng.random() * len(DISTRICTS))]}"
        elif roll < 0.18 and doc_type in ("BC", "KH", "GM", "TB", "CV"):
            raw += f" quý {QUARTERS[int(rng.random() * 4)]} năm {year}"
        elif roll < 0.26 and doc_type in ("BC", "KH", "GM", "TB", "CV"):
            raw += f" tháng {1 + int(rng.random() * 12)}/{year}"
        elif roll < 0.30:
            raw += f" (đợt {2 + int(rng.random() * 4)})"
        elif roll < 0.40 and not YEAR_RE.search(raw):
            raw += f" năm {year}"
        return _subject_for(doc_type, raw)


def _moments(rng: random.Random, day: date, count: int, now_local: datetime) -> list[datetime]:
    opening = datetime(day.year, day.month, day.day, 7, 15, tzinfo=ZONE)
    closing = datetime(day.year, day.month, day.day, 17, 15, tzinfo=ZONE)
    if day == now_local.date():
        closing = max(min(closing, now_local - timedelta(minutes=2)),
                      opening.replace(hour=0, minute=1))
        opening = min(opening, closing - timedelta(minutes=1))
    span = (closing - opening).total_seconds()
    return sorted((opening + timedelta(seconds=rng.random() * span)).astimezone(UTC)
                  for _ in range(count))


@dataclass
class Plan:
    documents: int
    years: int = 10
    outgoing_share: float = 0.25
    audit: bool = False
    seed: int = 20261129


def generate(writer: Writer, office: Office, plan: Plan) -> dict:
    """Write the documents day by day, chronologically, in chunks of ~CHUNK documents."""
    rng = random.Random(plan.seed)
    subjects = Subjects(random.Random(plan.seed + 1))
    now_utc = datetime.now(UTC)
    now_local = now_utc.astimezone(ZONE)
    today = now_local.date()
    start = date(today.year - plan.years + 1, 1, 1)
    n_out = round(plan.documents * plan.outgoing_share)
    n_in = plan.documents - n_out
    in_days = day_counts(n_in, start, today, 1.06)
    out_days = day_counts(n_out, start, today, 1.06)

    T = {  # noqa: N806
        "stored_files": Table(writer, "stored_files", [
            "id", "org_id", "sha256", "filename", "content_type", "size", "page_count",
            "has_signatures", "uploaded_by_id", "uploaded_at"]),
        "incoming_documents": Table(writer, "incoming_documents", [
            "id", "org_id", "doc_type", "subject", "notation", "notation_key", "doc_date",
            "urgency", "secrecy", "status", "created_at", "updated_at", "file_id",
            "arrival_year", "arrival_number", "arrival_date", "sender", "sender_key",
            "received_via", "due_date", "deadline", "page_count", "registered_by_id",
            "registered_at", "completed_at", "completion_note", "rejection_reason",
            "signature_check"]),
        "incoming_assignments": Table(writer, "incoming_assignments", [
            "id", "document_id", "user_id", "unit_id", "role", "deadline", "note",
            "assigned_by_id", "assigned_at", "active"]),
        "outgoing_documents": Table(writer, "outgoing_documents", [
            "id", "org_id", "doc_type", "subject", "notation", "doc_date", "urgency",
            "secrecy", "status", "created_at", "updated_at", "file_id", "author_id",
            "unit_id", "signer_id", "legal_normative", "reply_deadline", "current_step",
            "returned_from", "signature_box", "signed_file_id", "signed_at", "register",
            "year", "number", "issued_at", "issued_by_id", "signature_report", "copies"]),
        "outgoing_versions": Table(writer, "outgoing_versions", [
            "id", "document_id", "number", "file_id", "uploaded_by_id", "uploaded_at",
            "note"]),
        "outgoing_route": Table(writer, "outgoing_route", [
            "id", "document_id", "position", "reviewer_id", "decision", "decided_at",
            "version_no", "comment"]),
        "outgoing_recipients": Table(writer, "outgoing_recipients", [
            "id", "document_id", "org_id", "name", "incoming_id", "sent_at"]),
        "audit_events": Table(writer, "audit_events", [
            "id", "chain", "seq", "at", "actor_id", "actor_name", "action", "object_type",
            "object_id", "details", "prev_hash", "hash"]),
    }
    files, assigns, versions, route, recips = (T["stored_files"], T["incoming_assignments"],
                                               T["outgoing_versions"], T["outgoing_route"],
                                               T["outgoing_recipients"])
    incoming_rows, outgoing_rows = T["incoming_documents"], T["outgoing_documents"]
    sender_pick = Picker([(s, s[2]) for s in IN_SENDERS])
    in_type = Picker(INCOMING_TYPES)
    out_type = Picker(OUT_TYPES)
    urgency = Picker(URGENCY)
    secrecy_pick = Picker(SECRECY)
    unit_abbrs = [u[0] for u in UNITS]
    unit_pick = Picker([(u[0], u[3]) for u in UNITS])
    direction = Picker([(d, 1) for d in DIRECTIONS])
    in_status = [(limit, Picker(w)) for limit, w in STATUS_BY_AGE]
    out_status = [(limit, Picker(w)) for limit, w in OUT_STATUS_BY_AGE]
    recipient_names = [s[0] for s in IN_SENDERS if s[2] >= 2] + [
        "Bộ Nội vụ", "Văn phòng Chính phủ", "Thường trực Tỉnh ủy", "Thường trực HĐND tỉnh"]
    org_ns = SimpleNamespace(abbr=ORG[2])
    in_blob, draft_blob = office.blobs["incoming"], office.blobs["draft"]
    signed_blob, issued_blob = office.blobs["signed"], office.blobs["issued"]
    clerk, clerks = office.clerks[0], office.clerks
    reviewer_extra = office.heads["HCTC"]  # Chánh Văn phòng's stand-in, second reviewer
    chairman = office.leaders[0]

    in_numbers: dict[int, int] = {}
    out_numbers: dict[tuple, int] = {}
    sender_numbers: dict[tuple, int] = {}
    ids = dict.fromkeys(("in", "out", "file", "assign", "version", "route", "recip",
                         "event"), 0)
    stats = {"status_in": {}, "status_out": {}, "classified": 0, "late": 0, "overdue_open": 0,
             "legal": 0}
    head = {"seq": 0, "hash": audit.GENESIS}
    progress = Progress(plan.documents)
    pending = 0

    def new_file(sha_size_pages, name, by, at, signed=False) -> int:
        ids["file"] += 1
        sha, size, pages = sha_size_pages
        files.add(ids["file"], 1, sha, name, "application/pdf", size, pages, signed, by, at)
        return ids["file"]

    def flush():
        for table in T.values():
            table.flush()
        if not writer.sqlite:
            writer.conn.commit()

    day = start
    for day_index in range(len(in_days)):
        age = (today - day).days
        year = day.year
        events = []  # (at, actor, action, object_type, object_id, details)
        status_picker = next(p for limit, p in in_status if age <= limit)

        # --- incoming: registered in arrival order, gap-free số đến ---
        for registered_at in _moments(rng, day, in_days[day_index], now_local):
            ids["in"] += 1
            doc_id = ids["in"]
            in_numbers[year] = number = in_numbers.get(year, 0) + 1
            sender, abbr, _, depts = sender_pick(rng)
            doc_type = in_type(rng)
            seq_key = (sender, year)
            sender_numbers[seq_key] = sender_numbers.get(seq_key, 0) + 1 + int(rng.random() * 9)
            n = sender_numbers[seq_key] % 9999 + 1
            if abbr == "TU":
                notation = f"{n}-{doc_type}/TU"
            elif doc_type == "CV":
                notation = f"{n}/{abbr}-{depts[int(rng.random() * len(depts))]}"
            else:
                notation = f"{n}/{doc_type}-{abbr}"
            subject = subjects.pick(rng, doc_type, year, own_type=False)
            doc_date = day - timedelta(days=min(int(rng.expovariate(0.5)), 12))
            status = status_picker(rng)
            secrecy = secrecy_pick(rng)
            registrar = clerk if rng.random() < 0.8 else clerks[1 + (rng.random() < 0.5)]
            due_date = day + timedelta(days=5 + int(rng.random() * 26)) \
                if rng.random() < 0.35 else None
            deadline = due_date
            completed_at, updated_at = None, registered_at
            if status != "registered":
                t = min(registered_at + timedelta(hours=0.5 + rng.random() * 30), now_utc)
                leader = office.leaders[int(rng.random() * len(office.leaders))]
                main_unit = unit_pick(rng)
                if deadline is None and rng.random() < 0.6:
                    deadline = day + timedelta(days=5 + int(rng.random() * 16))
                if rng.random() < 0.03:  # reassigned: the first main unit was replaced
                    other = unit_abbrs[int(rng.random() * len(unit_abbrs))]
                    ids["assign"] += 1
                    assigns.add(ids["assign"], doc_id, None, office.units[other], "main",
                                deadline, direction(rng), leader.id, t, False)
                ids["assign"] += 1
                assigns.add(ids["assign"], doc_id, None, office.units[main_unit], "main",
                            deadline, direction(rng), leader.id, t, True)
                if rng.random() < 0.25:
                    other = unit_abbrs[int(rng.random() * len(unit_abbrs))]
                    if other != main_unit:
                        ids["assign"] += 1
                        assigns.add(ids["assign"], doc_id, None, office.units[other],
                                    "cooperate", deadline, "Phối hợp thực hiện.", leader.id,
                                    t, True)
                updated_at = t
                if status in ("in_progress", "completed") or rng.random() < 0.3:
                    unit_head = office.heads[main_unit]
                    staff = office.staff[main_unit]
                    handler = staff[int(rng.random() * len(staff))] \
                        if rng.random() < 0.9 else unit_head
                    t2 = min(t + timedelta(hours=0.5 + rng.random() * 20), now_utc)
                    ids["assign"] += 1
                    assigns.add(ids["assign"], doc_id, handler.id, None, "main", deadline, "",
                                unit_head.id, t2, True)
                    updated_at = t2
                    if status == "assigned":
                        status = "in_progress"
                    if status == "completed":
                        if deadline is not None and rng.random() < 0.12:  # late
                            done = datetime(deadline.year, deadline.month, deadline.day, 9,
                                            tzinfo=ZONE) + timedelta(
                                days=1 + rng.expovariate(0.2))
                            stats["late"] += 1
                        elif deadline is not None:  # on time
                            limit = datetime(deadline.year, deadline.month, deadline.day, 16,
                                             tzinfo=ZONE)
                            done = t2 + (limit - t2) * rng.random() if limit > t2 else t2
                        else:
                            done = t2 + timedelta(days=0.2 + rng.random() * 12)
                        completed_at = min(done.astimezone(UTC), now_utc)
                        updated_at = completed_at
            if deadline is not None and completed_at is None and deadline < today:
                stats["overdue_open"] += 1
            stats["status_in"][status] = stats["status_in"].get(status, 0) + 1
            stats["classified"] += secrecy != "normal"
            file_id = new_file(in_blob, notation.replace("/", "-") + ".signed.pdf",
                               registrar.id, registered_at)
            incoming_rows.add(
                doc_id, 1, doc_type, subject, notation, key(notation), doc_date,
                urgency(rng), secrecy, status, registered_at, updated_at, file_id, year, number,
                day, sender, key(sender), "paper" if rng.random() < 0.12 else "electronic",
                due_date, deadline, in_blob[2], registrar.id, registered_at, completed_at,
                "Đã tham mưu, giải quyết xong." if completed_at else "", "", None)
            if plan.audit:
                events.append((registered_at, registrar, "incoming.registered",
                               "incoming_documents", doc_id,
                               {"arrival_number": number, "notation": notation,
                                "sha256": in_blob[0]}))

        # --- outgoing: the day's moment is the issue time (or the draft's last change) ---
        status_picker = next(p for limit, p in out_status if age <= limit)
        for moment in _moments(rng, day, out_days[day_index], now_local):
            ids["out"] += 1
            doc_id = ids["out"]
            doc_type = out_type(rng)
            status = status_picker(rng)
            secrecy = secrecy_pick(rng)
            legal = rng.random() < LEGAL.get(doc_type, 0.0) and secrecy == "normal"
            unit = unit_pick(rng)
            staff = office.staff[unit]
            author = staff[int(rng.random() * len(staff))]
            signer = chairman if (legal or rng.random() < 0.3) else \
                office.leaders[1 + int(rng.random() * (len(office.leaders) - 1))]
            subject = subjects.pick(rng, doc_type, year, own_type=True)
            created_at = moment - timedelta(days=rng.expovariate(1 / 3.0)) \
                if status == "issued" else moment - timedelta(hours=rng.random() * 20)
            two_steps = rng.random() < 0.4
            steps = [office.heads[unit]] + ([reviewer_extra] if two_steps and unit != "HCTC"
                                            else [])
            # versions and their files
            version_count = 2 if rng.random() < 0.15 else 1
            file_id = 0
            for v in range(1, version_count + 1):
                at = created_at + (moment - created_at) * (0.3 * (v - 1))
                file_id = new_file(draft_blob, f"du-thao-v{v}.pdf", author.id, at)
                ids["version"] += 1
                versions.add(ids["version"], doc_id, v, file_id, author.id, at,
                             "" if v == 1 else "Chỉnh sửa theo ý kiến góp ý.")
            current_step = returned_from = None
            if status in ("draft",):
                decided = 0
            elif status == "in_review":
                decided = int(rng.random() * len(steps))
                current_step = decided
            elif status == "returned":
                decided = int(rng.random() * len(steps))
                returned_from = decided
            else:
                decided = len(steps)
            for position, reviewer in enumerate(steps):
                ids["route"] += 1
                if position < decided:
                    decision, decided_at = "approved", created_at + (moment - created_at) * (
                        0.4 + 0.2 * position)
                elif status == "returned" and position == decided:
                    decision, decided_at = "returned", moment
                else:
                    decision, decided_at = None, None
                # Every decision came after the last version was uploaded.
                route.add(ids["route"], doc_id, position, reviewer.id, decision, decided_at,
                          version_count if decision else None,
                          "Đề nghị chỉnh sửa lại trích yếu." if decision == "returned" else "")
            signed_file_id = signed_at = box = report = None
            register = number = doc_year = issued_at = issued_by = doc_date = None
            notation = ""
            if status in ("signed", "issued"):
                signed_at = created_at + (moment - created_at) * 0.8 \
                    if status == "issued" else moment
                signed_file_id = new_file(signed_blob, f"van-ban-{doc_id}-da-ky.pdf",
                                          signer.id, signed_at, True)
                box = office.signature_box
                report = _report(office.report, signed_at, moment if status == "issued"
                                 else None)
            if status == "issued":
                ns = SimpleNamespace(doc_type=doc_type, secrecy=secrecy, legal_normative=legal)
                register = register_for(ns)
                out_numbers[(register, year)] = number = out_numbers.get((register, year),
                                                                         0) + 1
                doc_year, issued_at, doc_date = year, moment, day
                notation = compose_notation(ns, org_ns, unit, number, year)
                issued_by = clerks[0 if rng.random() < 0.8 else 1]
                signed_file_id = new_file(issued_blob, f"van-ban-{doc_id}-phat-hanh.pdf",
                                          issued_by.id, moment, True)
                stats["legal"] += legal
                if plan.audit:
                    events.append((moment, issued_by, "outgoing.issued", "outgoing_documents",
                                   doc_id, {"number": number, "notation": notation,
                                            "register": register, "sha256": issued_blob[0]}))
            for _ in range(1 + int(rng.random() * 3)):
                ids["recip"] += 1
                recips.add(ids["recip"], doc_id, None,
                           recipient_names[int(rng.random() * len(recipient_names))], None,
                           issued_at)
            stats["status_out"][status] = stats["status_out"].get(status, 0) + 1
            stats["classified"] += secrecy != "normal"
            outgoing_rows.add(
                doc_id, 1, doc_type, subject, notation, doc_date, urgency(rng), secrecy,
                status, created_at, moment, file_id, author.id, office.units[unit], signer.id,
                legal, day + timedelta(days=10) if doc_type == "CV" and rng.random() < 0.1
                else None, current_step, returned_from, box, signed_file_id, signed_at,
                register, doc_year, number, issued_at, issued_by.id if issued_by else None,
                report, 1 + int(rng.random() * 3) if rng.random() < 0.2 else 1)

        if events:  # one chain, in time order, hashed exactly as audit.record does
            events.sort(key=lambda e: e[0])
            table = T["audit_events"]
            for at, actor, action, object_type, object_id, details in events:
                ids["event"] += 1
                head["seq"] += 1
                ev = SimpleNamespace(chain=1, seq=head["seq"], at=at, actor_id=actor.id,
                                     actor_name=actor.full_name, action=action,
                                     object_type=object_type, object_id=str(object_id),
                                     details=details, prev_hash=head["hash"])
                ev.hash = head["hash"] = audit._digest(ev)
                table.add(ids["event"], 1, ev.seq, at, actor.id, actor.full_name, action,
                          object_type, ev.object_id, details, ev.prev_hash, ev.hash)
        pending += in_days[day_index] + out_days[day_index]
        if pending >= CHUNK:
            pending = 0
            flush()
            progress.update(ids["in"] + ids["out"])
        day += timedelta(days=1)
    flush()
    progress.done(ids["in"] + ids["out"])

    if plan.audit:
        writer.write("audit_heads", [{"chain": 1, "seq": head["seq"],
                                      "last_hash": head["hash"]}])
    counters = [("incoming", y, v) for y, v in sorted(in_numbers.items())] + \
        [(r, y, v) for (r, y), v in sorted(out_numbers.items())]
    writer.write("counters", [{"id": i, "org_id": 1, "register": r, "year": y, "value": v}
                              for i, (r, y, v) in enumerate(counters, 1)])
    if not writer.sqlite:
        writer.conn.commit()
    stats.update(incoming=ids["in"], outgoing=ids["out"], start=start, today=today,
                 in_per_year=dict(sorted(in_numbers.items())),
                 out_per_year={y: sum(v for (r, yy), v in out_numbers.items() if yy == y)
                               for y in sorted(in_numbers)},
                 audit_events=ids["event"])
    return stats


def _report(template: dict, signed_at: datetime, sealed_at: datetime | None) -> dict:
    """The trimmed real report with this document's signing times (the seal's entry only
    once issued)."""
    times = [signed_at, sealed_at]
    signatures = [{**s, "signed_at": times[i].astimezone(ZONE).isoformat(timespec="seconds")}
                  for i, s in enumerate(template["signatures"][:2 if sealed_at else 1])]
    return {"signatures": signatures, "summary": template["summary"] if sealed_at else
            "Các chữ ký số trên văn bản hợp lệ. Văn bản có 1 chữ ký số (1 hợp lệ).",
            "verdict": template["verdict"]}


# --- checks, counts ---------------------------------------------------------------------

def check_foreign_keys(url: str, tables=BIG_TABLES + ("users", "units")) -> list[str]:
    return _check_foreign_keys(url, tables)


def check_numbers(url: str) -> list[str]:
    """Every (register, year) gap-free from 1 and equal to its counter."""
    engine = create_engine(url)
    problems = []
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT 'incoming', arrival_year, count(*), count(DISTINCT arrival_number), "
            "min(arrival_number), max(arrival_number) FROM incoming_documents "
            "GROUP BY arrival_year UNION ALL "
            "SELECT register, year, count(*), count(DISTINCT number), min(number), max(number) "
            "FROM outgoing_documents WHERE number IS NOT NULL GROUP BY register, year")).all()
        counters = {(r, y): v for r, y, v in conn.execute(text(
            "SELECT register, year, value FROM counters"))}
    engine.dispose()
    for register, year, n, distinct, low, high in rows:
        if not (n == distinct == high == counters.get((register, year)) and low == 1):
            problems.append(f"{register} {year}: {n} rows, {distinct} distinct, {low}..{high}, "
                            f"counter {counters.get((register, year))}")
    return problems


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar()
                  for t in ("organizations", "units", "users", "counters") + BIG_TABLES}
    engine.dispose()
    return counts


def db_size(url: str) -> str:
    if is_sqlite(url):
        path = Path(make_url(url).database)
        return f"{path.stat().st_size / 1e6:,.0f} MB"
    engine = create_engine(url)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))"
                                 )).scalar()
    engine.dispose()
    return size


# --- the whole build --------------------------------------------------------------------

def build(url: str, plan: Plan, data_dir: Path) -> dict:
    """Recreate ``url`` and fill it; return timings and counts."""
    url = normalise_url(url)
    timings = {}
    started = time.perf_counter()
    recreate_database(url)
    timings["recreate + migrations"] = time.perf_counter() - started
    writer = Writer(url)
    restore = [] if writer.sqlite else drop_secondary_indexes(writer.conn)
    t = time.perf_counter()
    office = create_office(writer, data_dir, random.Random(plan.seed))
    timings["organisation, users, real blobs"] = time.perf_counter() - t
    t = time.perf_counter()
    stats = generate(writer, office, plan)
    timings["documents (generate + load)"] = time.perf_counter() - t
    if restore:
        t = time.perf_counter()
        writer.conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in restore:
            writer.conn.execute(statement)
        writer.conn.commit()
        timings[f"rebuild {len(restore)} indexes/unique constraints"] = time.perf_counter() - t
    t = time.perf_counter()
    if not writer.sqlite:
        for table in SEQUENCE_TABLES:
            writer.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM \"{table}\"), false)")
    writer.finish()  # incoming's sequences, replication role back, VACUUM ANALYZE, CHECKPOINT
    timings["sequences, VACUUM ANALYZE, CHECKPOINT"] = time.perf_counter() - t
    t = time.perf_counter()
    problems = check_foreign_keys(url) + check_numbers(url)
    timings["checks (foreign keys, gap-free numbers)"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    return {"url": url, "timings": timings, "stats": stats, "problems": problems,
            "counts": row_counts(url), "size": db_size(url), "office": office,
            "blobs": office.blobs}


def report_build(result: dict) -> list[str]:
    stats, timings = result["stats"], result["timings"]
    lines = [f"database {make_url(result['url']).render_as_string()} ({result['size']})"]
    lines += [f"  {name:<44} {seconds:8.1f} s" for name, seconds in timings.items()]
    documents = stats["incoming"] + stats["outgoing"]
    lines.append(f"  => {documents:,} documents in {timings['total']:.0f} s "
                 f"({documents / timings['total']:,.0f} documents/s overall)")
    lines.append("rows per table:")
    lines += [f"  {table:<24} {count:>12,}" for table, count in result["counts"].items()]
    lines.append(f"period {stats['start']} – {stats['today']}; incoming per year "
                 f"{stats['in_per_year']}; issued outgoing per year {stats['out_per_year']}")
    lines.append(f"incoming statuses {dict(sorted(stats['status_in'].items()))}; completed "
                 f"late {stats['late']:,}; open past deadline {stats['overdue_open']:,}")
    lines.append(f"outgoing statuses {dict(sorted(stats['status_out'].items()))}; legal "
                 f"normative {stats['legal']:,}; classified (both) {stats['classified']:,}")
    lines.append(f"audit events: {stats['audit_events']:,}" + (
        "" if stats["audit_events"] else " — SKIPPED (--audit to generate them): the bench "
        "database's audit chain is empty, so audit-verify on it is meaningless"))
    lines.append("checks: " + ("every foreign key resolves; every register is gap-free and "
                               "equals its counter" if not result["problems"] else
                               "FAILED: " + "; ".join(result["problems"])))
    return lines


# --- 3. measuring at scale --------------------------------------------------------------

def _dialect_sql(sqlite: bool):
    if sqlite:
        return (lambda col: f"date({col}, '+7 hours')",
                lambda col: f"strftime('%Y-%m', {col})")
    return (lambda col: f"({col} AT TIME ZONE 'Asia/Ho_Chi_Minh')::date",
            lambda col: f"to_char({col}, 'YYYY-MM')")


def stats_sql(group_by: str, sqlite: bool) -> list[str]:
    """The raw aggregates a /api/v1/stats answer needs: per group, incoming counts with
    on-time / overdue, issued outgoing counts with how many are e-signed."""
    local, month = _dialect_sql(sqlite)
    in_key = {"doc_type": "d.doc_type", "month": month("d.arrival_date"), "unit": "u.abbr",
              "kind": "'incoming'"}[group_by]
    out_key = {"doc_type": "d.doc_type", "month": month("d.doc_date"), "unit": "u.abbr",
               "kind": "'outgoing'"}[group_by]
    in_join = ("JOIN incoming_assignments a ON a.document_id = d.id AND a.active "
               "AND a.role = 'main' AND a.unit_id IS NOT NULL JOIN units u ON u.id = a.unit_id"
               if group_by == "unit" else "")
    out_join = "LEFT JOIN units u ON u.id = d.unit_id" if group_by == "unit" else ""
    done = local("d.completed_at")
    return [
        f"SELECT {in_key} AS k, count(*) AS incoming, "
        f"sum(CASE WHEN d.completed_at IS NOT NULL AND (d.deadline IS NULL OR {done} <= "
        f"d.deadline) THEN 1 ELSE 0 END) AS on_time, "
        f"sum(CASE WHEN d.deadline IS NOT NULL AND ((d.completed_at IS NULL AND d.status IN "
        f"('registered', 'assigned', 'in_progress') AND d.deadline < :today) OR {done} > "
        f"d.deadline) THEN 1 ELSE 0 END) AS overdue "
        f"FROM incoming_documents d {in_join} WHERE d.org_id = :org AND d.arrival_date "
        f"BETWEEN :a AND :b GROUP BY 1 ORDER BY 1",
        f"SELECT {out_key} AS k, count(*) AS outgoing, count(d.signature_report) AS signed "
        f"FROM outgoing_documents d {out_join} WHERE d.org_id = :org AND d.status = 'issued' "
        f"AND d.doc_date BETWEEN :a AND :b GROUP BY 1 ORDER BY 1",
    ]


def _summary(times: list[float]) -> dict:
    if not times:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    return {"n": len(times), "p50": statistics.median(times), "p95": percentile(times, 95),
            "max": max(times)}


def measure_scale(url: str, data_dir: Path, *, calls: int = 20, reads: int = 20,
                  budget: float = 40.0) -> list[dict]:
    """Stats API (paired with raw SQL) for this year and the whole period per group_by,
    then the clerk's incoming list and register pages. Rows: dicts with ``name``, ``p50``,
    ``p95``, ``max``, ``n`` (seconds), ``reference`` (same keys, raw SQL) and ``note``."""
    from docmgr import create_app
    url = normalise_url(url)
    sqlite = is_sqlite(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        first, last = conn.execute(text(
            "SELECT min(arrival_date), max(arrival_date) FROM incoming_documents")).one()
        total = conn.execute(text("SELECT (SELECT count(*) FROM incoming_documents) + "
                                  "(SELECT count(*) FROM outgoing_documents)")).scalar()
    if isinstance(first, str):
        first, last = date.fromisoformat(first), date.fromisoformat(last)
    today = datetime.now(ZONE).date()
    periods = [("1 year", date(today.year, 1, 1), today), (f"{today.year - first.year + 1} years",
                                                            first, today)]
    # INDEXER=worker: no background (re)indexing of the whole archive while measuring
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(data_dir), "SECRET_KEY": "bench",
                      "INDEXER": "worker"})
    services = app.extensions["docmgr"]
    recorder = _SqlRecorder(services.db.engine)
    rows = []
    try:
        with app.app_context(), services.db.transaction() as session:
            tokens = {}
            for username in ("lanhdao", "vanthu"):
                user = session.scalar(select(accounts.User).where(
                    accounts.User.username == username))
                tokens[username] = accounts.issue_token(session, user, 1)
        api = app.test_client()
        has_stats = "/api/v1/stats" in {r.rule for r in app.url_map.iter_rules()}
        who = "lanhdao"
        if has_stats:
            probe = api.get(f"/api/v1/stats?group_by=kind&from={today}&to={today}",
                            headers={"Authorization": f"Bearer {tokens[who]}"})
            if probe.status_code == 403:
                who = "vanthu"
        bearer = {"Authorization": f"Bearer {tokens[who]}"}
        log(f"  /api/v1/stats {'present' if has_stats else 'ABSENT (docmgr/reports not there)'}"
            f"; {total:,} documents; calls as {who}")
        for label, low, high in periods:
            for group_by in ("doc_type", "month", "unit", "kind"):
                params = {"a": low, "b": high, "today": today, "org": 1}
                statements = [text(s) for s in stats_sql(group_by, sqlite)]
                ref_times = []
                with engine.connect() as conn:
                    for index in range(calls + 2):
                        t0 = time.perf_counter()
                        for statement in statements:
                            conn.execute(statement, params).all()
                        if index >= 2:
                            ref_times.append(time.perf_counter() - t0)
                        if index >= 7 and sum(ref_times) > budget:
                            break
                name = f"GET /api/v1/stats {label} group_by={group_by}"
                row = {"name": name, "group": "stats", "period": label, "group_by": group_by,
                       "reference": _summary(ref_times), "reference_label": "raw SQL",
                       "note": ""}
                if has_stats:
                    query = f"/api/v1/stats?from={low}&to={high}&group_by={group_by}"
                    log(f"  {name} × {calls} ...")
                    result = measure(name, lambda _i, q=query: api.get(q, headers=bearer),
                                     recorder, count=calls, warmup=2, expect=200,
                                     target=TARGET_STATS_S * 1000, budget=budget,
                                     minimum=min(calls, 5))
                    row.update(_summary(result.times))
                    row["note"] = result.error or result.note
                    row["sql_per_request"] = (statistics.median(result.sql_counts)
                                              if result.sql_counts else None)
                else:
                    row.update(_summary([]))
                    row["note"] = "API absent: raw SQL only"
                rows.append(row)
        client = login(app, "vanthu")
        year = today.year
        for label, page in (("GET /incoming/ (clerk)", "/incoming/"),
                            (f"GET /incoming/?year={year} (clerk)", f"/incoming/?year={year}"),
                            ("GET /incoming/register (sổ, clerk)", "/incoming/register"),
                            ("GET /outgoing/ (clerk)", "/outgoing/"),
                            ("GET /outgoing/register (sổ đi, clerk)", "/outgoing/register")):
            log(f"  {label} × {reads} ...")
            result = measure(label, lambda _i, p=page: client.get(p), recorder, count=reads,
                             warmup=2, expect=200, target=150.0, budget=budget,
                             minimum=min(reads, 5))
            row = {"name": label, "group": "pages", "reference": None, "note":
                   result.error or result.note, **_summary(result.times),
                   "sql_per_request": (statistics.median(result.sql_counts)
                                       if result.sql_counts else None),
                   "sql_seconds": (statistics.median(result.sql_times)
                                   if result.sql_times else None)}
            rows.append(row)
    finally:
        services.db.dispose()
        engine.dispose()
    return rows


def _ms(value) -> str:
    return f"{value * 1000:9.1f}" if value is not None else f"{'—':>9}"


def report_scale(rows: list[dict]) -> list[str]:
    header = (f"{'operation':<52} {'n':>3} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}  "
              f"{'raw SQL p50':>11} {'p95':>9} {'ratio':>6}  verdict")
    lines = [header, "-" * len(header)]
    for r in rows:
        ref = r.get("reference") or {}
        ratio = (f"{r['p50'] / ref['p50']:6.1f}" if r.get("p50") and ref.get("p50")
                 else f"{'—':>6}")
        target = TARGET_STATS_S if r["group"] == "stats" else 0.150
        verdict = ""
        if r.get("p95") is not None:
            verdict = f"p95<{target * 1000:.0f} {'PASS' if r['p95'] < target else 'FAIL'}"
        elif ref.get("p95") is not None:
            verdict = f"(raw SQL p95<{target * 1000:.0f} " \
                      f"{'PASS' if ref['p95'] < target else 'FAIL'})"
        lines.append(f"{r['name'][:52]:<52} {r['n']:>3} {_ms(r.get('p50'))} {_ms(r.get('p95'))} "
                     f"{_ms(r.get('max'))}  {_ms(ref.get('p50')):>11} {_ms(ref.get('p95'))} "
                     f"{ratio}  {verdict} {r.get('note') or ''}")
    return lines


# --- main -------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DOCMGR_BENCH_1M_URL",
                                                                 DEFAULT_URL))
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--outgoing-share", type=float, default=0.25)
    parser.add_argument("--audit", action="store_true",
                        help="also write the hash-chained audit events (incoming.registered, "
                             "outgoing.issued): slower; without them audit-verify on the "
                             "bench database proves nothing")
    parser.add_argument("--verify-audit", action="store_true",
                        help="after generating with --audit, walk the whole chain with "
                             "docmgr.core.audit.verify and time it")
    parser.add_argument("--data-dir", default=None,
                        help="DATA_DIR holding the few real blobs (default: a directory "
                             "next to the database, kept: the database points at it)")
    parser.add_argument("--measure", action="store_true",
                        help="after generating, time /api/v1/stats and the clerk's pages")
    parser.add_argument("--measure-only", action="store_true",
                        help="measure an existing bench database (no generation)")
    parser.add_argument("--calls", type=int, default=20, help="timed calls per stats query")
    parser.add_argument("--reads", type=int, default=20, help="timed GETs per page")
    parser.add_argument("--seed", type=int, default=20261129)
    smoke_dir = None
    if bench_data.parse(parser, argv).smoke:  # a throwaway SQLite database and data dir
        smoke_dir = Path(tempfile.mkdtemp(prefix="docmgr-bench-smoke-"))
        parser.set_defaults(database_url=f"sqlite:///{smoke_dir / 'smoke-bench.sqlite3'}",
                            data_dir=str(smoke_dir / "data"), documents=500, measure=True,
                            calls=2, reads=2)
    args = parser.parse_args(argv)
    try:
        return _run(args)
    finally:
        if smoke_dir:
            shutil.rmtree(smoke_dir, ignore_errors=True)


def _run(args) -> int:
    url = normalise_url(args.database_url)
    name = make_url(url).database or ""
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.gettempdir()) / (
        "docmgr-" + Path(name).stem.replace("/", "-") + "-data")
    data_dir.mkdir(parents=True, exist_ok=True)
    status = 0
    if not args.measure_only:
        log(f"== generating {args.documents:,} documents over {args.years} years "
            f"({args.outgoing_share:.0%} outgoing) into {make_url(url).render_as_string()}; "
            f"blobs in {data_dir}")
        result = build(url, Plan(args.documents, args.years, args.outgoing_share, args.audit,
                                 args.seed), data_dir)
        for line in report_build(result):
            log(line)
        status = 1 if result["problems"] else 0
        if args.verify_audit:
            from sqlalchemy.orm import Session
            engine = create_engine(url)
            with Session(engine) as session:
                started = time.perf_counter()
                breach = audit.verify(session)
            engine.dispose()
            log(("audit chain intact" if breach is None else f"AUDIT CHAIN BROKEN: {breach}")
                + f" (audit.verify over the whole chain: {time.perf_counter() - started:.1f} s)")
            status = status or (breach is not None)
    if args.measure or args.measure_only:
        log("== measuring at scale (Flask test client, in-process, sequential)")
        rows = measure_scale(url, data_dir, calls=args.calls, reads=args.reads)
        log("")
        for line in machine(url):
            log(line)
        for line in report_scale(rows):
            log(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
