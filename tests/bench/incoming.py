"""Benchmark: registering and listing văn bản đến with a realistic volume already in the sổ.

    .venv/bin/python -m tests.bench.incoming [--database-url URL] [--documents 200000]
                                             [--calls 200] [--reads 50] [--read-budget 15]
                                             [--apply-db-fixes] [--verify-audit] [--smoke]

1. (Re)creates a dedicated database and runs the migrations. PostgreSQL (the default,
   ``docmgr_bench`` on 127.0.0.1): dropped and recreated through the ``postgres`` database;
   SQLite (``sqlite:///path/…bench….sqlite3``): the file is deleted. The name must contain
   "bench" so that a real database is never dropped.
2. Generates one organisation (units, 51 users, one API token) and N incoming documents in
   bulk (PostgreSQL ``COPY``; SQLite ``executemany`` in one transaction): five years, gap-free
   số đến per year with its counter, corpus subjects and notations, stored files pointing at
   one real blob, assignments, the registration audit events (a valid hash chain); checks
   every foreign key, then VACUUM ANALYZE and CHECKPOINT.
3. Measures through the Flask test client, in-process and sequentially: the server-side code
   path (routing, authentication, SQL, templates/JSON) without network, WSGI server or
   browser. Registrations via POST /api/v1/incoming with distinct small PDFs, then the list
   pages, API lists and dashboards of a clerk, a leader, a specialist and a unit head.
   Prints median / p95 / max per operation. A page slower than --read-budget seconds in
   total stops after --min-reads calls (``--read-budget 0``: always --reads calls).
4. Checks that the new số đến continue the pre-existing ones exactly (no gap, no duplicate)
   and that every year is gap-free, then runs EXPLAIN (ANALYZE, BUFFERS) (SQLite: EXPLAIN
   QUERY PLAN) on the statements that dominate the slowest pages.

``--apply-db-fixes`` applies the database-side changes the report proposes (jit=off, pg_trgm
indexes) before measuring, to show their effect. The database is left in place afterwards.
``--smoke``: 300 documents, a handful of calls, SQLite in a temporary directory unless
``--database-url`` is given (the test database of DOCMGR_TEST_DATABASE_URL is accepted then:
its schema is reset, as the test suite does).
"""
from __future__ import annotations

import argparse
import io
import itertools
import math
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

import docmgr.models  # noqa: F401  (every table in the metadata)
from docmgr import create_app
from docmgr.core import audit
from docmgr.core import auth as accounts
from docmgr.core.documents import normalise_text
from docmgr.core.storage import BlobStore
from docmgr.core.uploads import check_pdf
from docmgr.db import Base
from docmgr.demo import sample_pdf
from docmgr.migrations import upgrade
from tests.bench import data

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/docmgr_bench"
SUBJECTS = "binhduong-vanban-chidao-dieuhanh.jsonl"  # in the corpus's vn-text/
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "bench-mat-khau-1"
REGISTER = "incoming"
YEARS_BACK = 4  # the current year and four previous ones
TARGET_REGISTER_P95_MS = 100.0
TARGET_LIST_MS = 150.0

# --- the organisation ---------------------------------------------------------------------

ORG = ("000.00.12.H57", "Sở Nội vụ tỉnh Bình Dương", "SNV")
UNITS = [  # (abbr, name, number of specialists)
    ("VP", "Văn phòng Sở", 4),
    ("TCBC", "Phòng Tổ chức - Biên chế và Tổ chức phi chính phủ", 5),
    ("CCHC", "Phòng Cải cách hành chính", 4),
    ("CCVC", "Phòng Công chức, viên chức", 5),
    ("XDCQ", "Phòng Xây dựng chính quyền và Công tác thanh niên", 4),
    ("TTr", "Thanh tra Sở", 3),
    ("BTG", "Ban Tôn giáo", 3),
    ("TĐKT", "Ban Thi đua - Khen thưởng", 4),
    ("VTLT", "Chi cục Văn thư - Lưu trữ", 4),
]
# The accounts the bench logs in as (one per role); more staff are created so that
# assignments spread over a realistic number of people.
MEASURED = {
    "clerk": ("vanthu", "Nguyễn Thị Thu", "VP"),
    "specialist": ("chuyenvien", "Trần Văn Bình", "TCBC"),
    "head": ("truongphong", "Lê Thị Hoa", "TCBC"),
    "leader": ("lanhdao", "Phạm Minh Quang", None),
    "admin": ("quantri", "Quản Trị Hệ Thống", None),
}
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Minh", "Thanh", "Hữu", "Ngọc", "Quốc", "Thu", "Đức", "Kim", "Hoài"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Hương", "Khánh",
         "Lan", "Linh", "Long", "Mai", "Nam", "Ngân", "Phúc", "Phương", "Quân", "Sơn", "Tâm",
         "Thảo", "Trang", "Trung", "Tuấn", "Vy", "Yến"]

# (name, abbr for the notation, weight, departments used in công văn notations)
SENDERS = [
    ("Ủy ban nhân dân tỉnh Bình Dương", "UBND", 30, None),  # notations from the corpus
    ("Văn phòng Ủy ban nhân dân tỉnh Bình Dương", "VP", 7, ["TH", "KT", "VX", "NC", "HCTC"]),
    ("Bộ Nội vụ", "BNV", 8, ["TCBC", "CCHC", "CQĐP", "VP", "TCCB"]),
    ("Văn phòng Chính phủ", "VPCP", 2, ["KSTT", "ĐMDN", "TH"]),
    ("Bộ Tài chính", "BTC", 2, ["HCSN", "NSNN"]),
    ("Bộ Thông tin và Truyền thông", "BTTTT", 1, ["CĐSQG", "THH"]),
    ("Tỉnh ủy Bình Dương", "TU", 4, None),
    ("Hội đồng nhân dân tỉnh Bình Dương", "HĐND", 2, ["VP"]),
    ("Sở Tài chính tỉnh Bình Dương", "STC", 4, ["NS", "HCSN", "TCĐT"]),
    ("Sở Kế hoạch và Đầu tư tỉnh Bình Dương", "SKHĐT", 3, ["TH", "ĐKKD", "KTĐN"]),
    ("Sở Giáo dục và Đào tạo tỉnh Bình Dương", "SGDĐT", 3, ["TCCB", "KHTC", "GDTrH"]),
    ("Sở Y tế tỉnh Bình Dương", "SYT", 2, ["TCCB", "NVY", "KHTC"]),
    ("Sở Tư pháp tỉnh Bình Dương", "STP", 2, ["VP", "XDKTVB", "PBGDPL"]),
    ("Sở Lao động - Thương binh và Xã hội tỉnh Bình Dương", "SLĐTBXH", 2, ["LĐVL", "NCC"]),
    ("Sở Xây dựng tỉnh Bình Dương", "SXD", 1, ["QLXD", "VP"]),
    ("Sở Thông tin và Truyền thông tỉnh Bình Dương", "STTTT", 1, ["CNTT", "BCVT"]),
    ("Công an tỉnh Bình Dương", "CAT", 2, ["PV01", "PC06"]),
    ("Ủy ban nhân dân thành phố Thủ Dầu Một", "UBND", 4, ["NV", "VP"]),
    ("Ủy ban nhân dân thành phố Thuận An", "UBND", 3, ["NV", "VP"]),
    ("Ủy ban nhân dân thành phố Dĩ An", "UBND", 3, ["NV", "VP"]),
    ("Ủy ban nhân dân thành phố Tân Uyên", "UBND", 2, ["NV", "VP"]),
    ("Ủy ban nhân dân thành phố Bến Cát", "UBND", 2, ["NV", "VP"]),
    ("Ủy ban nhân dân huyện Bàu Bàng", "UBND", 1, ["NV"]),
    ("Ủy ban nhân dân huyện Dầu Tiếng", "UBND", 1, ["NV"]),
    ("Ủy ban nhân dân huyện Phú Giáo", "UBND", 1, ["NV"]),
    ("Ủy ban nhân dân huyện Bắc Tân Uyên", "UBND", 1, ["NV"]),
    ("Ban Quản lý các khu công nghiệp Bình Dương", "BQL", 1, ["VP"]),
]
DOC_TYPES = [("CV", 52), ("GM", 10), ("TB", 8), ("KH", 7), ("BC", 7), ("QĐ", 7), ("HD", 3),
             ("TTr", 2), ("CĐ", 1), ("CT", 1), ("NQ", 1), ("CTr", 1)]
CORPUS_TYPES = {"Quyết định": "QĐ", "Công văn": "CV", "Kế hoạch": "KH", "Thông báo": "TB",
                "Chỉ thị": "CT", "Nghị quyết": "NQ", "Chương trình": "CTr", "Giấy mời": "GM",
                "Báo cáo": "BC", "Tờ trình": "TTr", "Phương án": "PA"}
TYPE_PREFIX = {"GM": "Mời dự họp về ", "BC": "Báo cáo ", "KH": "Kế hoạch ", "HD": "Hướng dẫn ",
               "TB": "Thông báo ", "CTr": "Chương trình ", "TTr": "Tờ trình về "}
CASING = [("ủy ban nhân dân", "Ủy ban nhân dân"), ("bình dương", "Bình Dương"),
          ("thủ dầu một", "Thủ Dầu Một"), ("việt nam", "Việt Nam"), ("chính phủ", "Chính phủ"),
          ("thủ tướng", "Thủ tướng"), ("quốc hội", "Quốc hội"), ("thuận an", "Thuận An"),
          ("dĩ an", "Dĩ An"), ("tân uyên", "Tân Uyên"), ("bến cát", "Bến Cát"),
          ("/qđ-", "/QĐ-"), ("/nq-", "/NQ-"), ("-ubnd", "-UBND"), ("-ttg", "-TTg"),
          ("-cp", "-CP"), ("bhyt", "BHYT"), ("covid-19", "COVID-19")]
DIRECTIONS = ["Giao phòng chủ trì, tham mưu trả lời.", "Nghiên cứu, đề xuất.",
              "Tham mưu triển khai thực hiện.", "Theo dõi, báo cáo kết quả.",
              "Phối hợp thực hiện.", "Để biết.", ""]
URGENCY = [("normal", 880), ("urgent", 90), ("very_urgent", 20), ("express", 10)]
# status weights by the document's age in days: (max age, [(status, weight), ...])
STATUS_BY_AGE = [
    (2, [("registered", 45), ("assigned", 35), ("in_progress", 17), ("completed", 3)]),
    (14, [("registered", 8), ("assigned", 22), ("in_progress", 40), ("completed", 30)]),
    (60, [("registered", 1), ("assigned", 5), ("in_progress", 14), ("completed", 80)]),
    (365, [("registered", 1), ("assigned", 5), ("in_progress", 15), ("completed", 979)]),
    (10 ** 6, [("in_progress", 2), ("completed", 998)]),
]


# --- small helpers ------------------------------------------------------------------------

def log(message: str) -> None:
    print(message, flush=True)


def key(value: str) -> str:
    return normalise_text(value).casefold()


_CUMULATIVE = {}


def weighted(rng: random.Random, pairs):
    """rng.choices over (value, weight) pairs, with the cumulative weights computed once."""
    table = _CUMULATIVE.get(id(pairs))
    if table is None:
        values, weights = zip(*pairs, strict=True)
        table = _CUMULATIVE[id(pairs)] = (values, list(itertools.accumulate(weights)), pairs)
    return rng.choices(table[0], cum_weights=table[1])[0]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def normalise_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# --- 1. database --------------------------------------------------------------------------

def recreate_database(url: str) -> None:
    parsed = make_url(url)
    if is_sqlite(url):
        path = Path(parsed.database or "")
        if not parsed.database or "bench" not in path.name:
            sys.exit(f"Refusing to delete {path}: the SQLite file name must contain 'bench'.")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    elif data.is_test_database(url):
        data.reset_schema(url)
    else:
        import psycopg
        name = parsed.database
        if not name or "bench" not in name:
            sys.exit(f"Refusing to drop database {name!r}: its name must contain 'bench'.")
        with psycopg.connect(**_pg_params(parsed, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()


def _pg_params(parsed, dbname: str) -> dict:
    params = {"host": parsed.host or "127.0.0.1", "port": parsed.port or 5432,
              "user": parsed.username or "postgres", "dbname": dbname}
    if parsed.password:
        params["password"] = parsed.password
    return params


# --- 2. bulk data -------------------------------------------------------------------------

@dataclass
class Person:
    id: int
    username: str
    full_name: str
    role: str
    unit_abbr: str | None


@dataclass
class World:
    org_id: int
    units: dict  # abbr -> id
    unit_names: dict  # id -> name
    people: list
    by_username: dict
    staff_by_unit: dict  # unit abbr -> [Person] (specialists)
    head_by_unit: dict  # unit abbr -> Person
    leaders: list
    clerks: list
    sha256: str
    pdf_size: int
    pdf_pages: int
    stats: dict = field(default_factory=dict)
    last_numbers: dict = field(default_factory=dict)  # year -> max số đến


def check_foreign_keys(url: str, tables) -> list[str]:
    """Rows whose foreign keys point nowhere, one anti-join per key of ``tables``."""
    problems = []
    engine = create_engine(url)
    with engine.connect() as conn:
        for table in tables:
            for fk in Base.metadata.tables[table].foreign_keys:
                column, target = fk.parent.name, fk.column
                missing = conn.execute(text(
                    f'SELECT count(*) FROM "{table}" t WHERE t."{column}" IS NOT NULL AND '
                    f'NOT EXISTS (SELECT 1 FROM "{target.table.name}" r '
                    f'WHERE r."{target.name}" = t."{column}")')).scalar()
                if missing:
                    problems.append(f"{table}.{column}: {missing} rows point nowhere")
    engine.dispose()
    return problems


class Writer:
    """Appends rows (dicts) to a table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, url: str):
        self.url = url
        self.sqlite = is_sqlite(url)
        self.columns = {}
        if self.sqlite:
            self.engine = create_engine(url)
            self.conn = self.engine.connect()
            self.conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            self.conn.exec_driver_sql("PRAGMA synchronous=OFF")
        else:
            import psycopg
            self.conn = psycopg.connect(**_pg_params(make_url(url), make_url(url).database))
            # Bulk load without firing the foreign-key triggers row by row (superuser only);
            # integrity is checked in one pass per foreign key by check_integrity() instead.
            try:
                self.conn.execute("SET session_replication_role = replica")
            except Exception:  # noqa: BLE001 — not a superuser: keep the per-row checks
                self.conn.rollback()

    def _columns(self, table: str) -> list[str]:
        if table not in self.columns:
            if self.sqlite:
                rows = self.conn.exec_driver_sql(f'PRAGMA table_info("{table}")').all()
                names = [(r[1], not r[3]) for r in rows]
            else:
                rows = self.conn.execute(
                    "SELECT column_name, is_nullable FROM information_schema.columns "
                    "WHERE table_name = %s AND table_schema = current_schema() "
                    "ORDER BY ordinal_position", (table,)).fetchall()
                names = [(r[0], r[1] == "YES") for r in rows]
            self.columns[table] = names
        return self.columns[table]

    def _complete(self, table: str, rows: list[dict]) -> list[str]:
        """Column list; fills columns the app added since this bench was written with their
        scalar ORM default (or NULL), or leaves them to their server default, so the bench
        keeps running while the schema grows."""
        meta = Base.metadata.tables[table]
        names = []
        for name, nullable in self._columns(table):
            names.append(name)
            if name in rows[0]:
                continue
            column = meta.c.get(name)
            if column is not None and column.server_default is not None:
                names.pop()  # left out: the database fills in its default
                continue
            default = column.default if column is not None else None
            if default is not None and getattr(default, "is_scalar", False):
                value = default.arg
            elif nullable:
                value = None
            else:
                raise RuntimeError(f"bench does not know how to fill {table}.{name}")
            for row in rows:
                row[name] = value
        return names

    def write(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        names = self._complete(table, rows)
        if self.sqlite:
            self.conn.execute(Base.metadata.tables[table].insert(),
                              [{n: r[n] for n in names} for r in rows])
            return
        from psycopg.types.json import Json
        json_cols = {c.name for c in Base.metadata.tables[table].c
                     if c.type.__class__.__name__ == "JSON"}
        cols = ", ".join(f'"{n}"' for n in names)
        with self.conn.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row([Json(r[n]) if n in json_cols and r[n] is not None else r[n]
                                for n in names])

    def finish(self) -> None:
        if self.sqlite:
            self.conn.commit()
            self.conn.exec_driver_sql("ANALYZE")
            self.conn.close()
            self.engine.dispose()
        else:
            for table in ("organizations", "units", "users", "stored_files",
                          "incoming_documents", "incoming_assignments", "audit_events",
                          "counters"):
                self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM \"{table}\"), false)")
            self.conn.execute("SET session_replication_role = DEFAULT")
            self.conn.commit()
            self.conn.autocommit = True
            # VACUUM sets the visibility map (index-only scans) as autovacuum would have in a
            # database that grew over years; CHECKPOINT flushes the load's dirty pages now
            # rather than in the middle of the measurements.
            self.conn.execute("VACUUM ANALYZE")
            self.conn.execute("CHECKPOINT")
            self.conn.close()

    def check_integrity(self) -> list[str]:
        """Every foreign key of the loaded tables, checked with one anti-join each."""
        return check_foreign_keys(self.url, ("stored_files", "incoming_documents",
                                             "incoming_assignments", "audit_events", "users",
                                             "units"))


def load_corpus(rng: random.Random):
    """(number, doc_type, cased subject) of real documents, shuffled: the Bình Dương list
    from the corpus (the committed Công báo sample in a smoke run without the corpus)."""
    records = []
    path = data.vn_text(SUBJECTS)
    for item in data.read_jsonl(path) if path else data.sample_records():
        subject, number = item.get("subject"), (item.get("number") or "").strip()
        if not subject or not number or len(number) > 60:
            continue
        doc_type = CORPUS_TYPES.get((item.get("type") or "").strip())
        if doc_type is None:
            match = re.search(r"/([A-ZĐa-z]+)-", number)
            doc_type = {"QĐ": "QĐ", "KH": "KH", "TB": "TB", "CT": "CT"}.get(
                match.group(1) if match else "", "CV")
        records.append((number, doc_type, _cased(subject)))
    rng.shuffle(records)
    return records


def _cased(subject: str) -> str:
    subject = " ".join(subject.split())
    for old, new in CASING:
        subject = subject.replace(old, new)
    return subject


def _subject_for(doc_type: str, raw: str) -> str:
    body = re.sub(r"^(v/v|về việc)\s+", "", raw, flags=re.I)
    if doc_type == "CV":
        text_ = "V/v " + body
    elif doc_type in TYPE_PREFIX and not body.lower().startswith(
            TYPE_PREFIX[doc_type].split()[0].lower()):
        text_ = TYPE_PREFIX[doc_type] + body
    else:
        text_ = body[:1].upper() + body[1:]
    return text_[:500]


def _person_name(rng: random.Random, used: set) -> str:
    while True:
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        if name not in used:
            used.add(name)
            return name


def create_world(writer: Writer, data_dir: Path, rng: random.Random) -> World:
    """The organisation, units, staff and the one real blob every stored file points at."""
    moment = datetime.now(UTC)
    writer.write("organizations", [{"id": 1, "code": ORG[0], "name": ORG[1], "abbr": ORG[2],
                                    "place": "Bình Dương", "created_at": moment}])
    units = {abbr: index for index, (abbr, _, _) in enumerate(UNITS, start=1)}
    writer.write("units", [{"id": units[abbr], "org_id": 1, "name": name, "abbr": abbr}
                           for abbr, name, _ in UNITS])
    password_hash = accounts.hash_password(PASSWORD)  # scrypt: computed once
    people, used = [], {full_name for _, full_name, _ in MEASURED.values()}

    def add(username, full_name, role, unit):
        people.append(Person(len(people) + 1, username, full_name, role, unit))

    for role, (username, full_name, unit) in MEASURED.items():
        add(username, full_name, role, unit)
    add("vanthu2", _person_name(rng, used), "clerk", "VP")
    for index in (2, 3):
        add(f"phogiamdoc{index}", _person_name(rng, used), "leader", None)
    for abbr, _, specialists in UNITS:
        if abbr != MEASURED["head"][2]:
            add(f"truongphong.{abbr.lower()}", _person_name(rng, used), "head", abbr)
        existing = sum(1 for p in people if p.role == "specialist" and p.unit_abbr == abbr)
        for index in range(specialists - existing):
            add(f"cv.{abbr.lower()}{index + 1}", _person_name(rng, used), "specialist", abbr)
    writer.write("users", [{
        "id": p.id, "org_id": 1, "unit_id": units[p.unit_abbr] if p.unit_abbr else None,
        "username": p.username, "password_hash": password_hash, "full_name": p.full_name,
        "role": p.role, "active": True,
        "created_at": moment} for p in people])

    pdf = sample_pdf(["SO NOI VU TINH BINH DUONG", "Van ban den (du lieu bench)", "",
                      "Noi dung mau"], pages=2)
    checked = check_pdf(pdf, max_bytes=50 * 1024 * 1024)
    sha = BlobStore(data_dir / "blobs").put(pdf)
    return World(
        org_id=1, units=units, unit_names={units[a]: n for a, n, _ in UNITS}, people=people,
        by_username={p.username: p for p in people},
        staff_by_unit={a: [p for p in people if p.role == "specialist" and p.unit_abbr == a]
                       for a in units},
        head_by_unit={p.unit_abbr: p for p in people if p.role == "head"},
        leaders=[p for p in people if p.role == "leader"],
        clerks=[p for p in people if p.role == "clerk"],
        sha256=sha, pdf_size=len(pdf), pdf_pages=checked.page_count)


def _day_counts(total: int, today: date) -> list[tuple[date, int]]:
    """How many documents arrive each day: weekdays busy, Mondays busiest, weekends
    nearly empty, a little more every year."""
    start = date(today.year - YEARS_BACK, 1, 1)
    days, weights = [], []
    day = start
    while day <= today:
        weekday = day.weekday()
        weight = (1.3 if weekday == 0 else 1.0 if weekday < 5 else 0.15 if weekday == 5
                  else 0.03) * (1.08 ** (day.year - start.year))
        if (day.month, day.day) in ((1, 1), (4, 30), (5, 1), (9, 2)):
            weight *= 0.05
        days.append(day)
        weights.append(weight)
        day += timedelta(days=1)
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    for index in sorted(range(len(days)), key=lambda i: exact[i] - counts[i],
                        reverse=True)[:total - sum(counts)]:
        counts[index] += 1
    return list(zip(days, counts, strict=True))


def generate(writer: Writer, world: World, total: int, rng: random.Random) -> None:
    """Write ``total`` registered incoming documents with their files, assignments and
    registration audit events, chronologically, in chunks."""
    corpus = load_corpus(rng)
    ubnd_tinh = SENDERS[0][0]
    senders = [(s, s[2]) for s in SENDERS]
    now_local = datetime.now(ZONE)
    today = now_local.date()
    unit_abbrs = [abbr for abbr, _, _ in UNITS]
    unit_weights = [2, 5, 3, 5, 3, 1, 1, 2, 2]
    clerk, clerk2 = world.clerks[0], world.clerks[1]
    numbers: dict[int, int] = {}
    sender_numbers: dict[tuple, int] = {}
    doc_id = assignment_id = event_id = 0
    head_seq, head_hash = 0, audit.GENESIS
    chunk = {"stored_files": [], "incoming_documents": [], "incoming_assignments": [],
             "audit_events": []}
    stats = {"documents": 0, "assignments": 0, "classified": 0, "status": {}}
    started = time.perf_counter()

    def flush():
        for table in ("stored_files", "incoming_documents", "incoming_assignments",
                      "audit_events"):
            writer.write(table, chunk[table])
            chunk[table] = []

    for day, count in _day_counts(total, today):
        if not count:
            continue
        age = (today - day).days
        latest = now_local - timedelta(minutes=2) if day == today else None
        opening = datetime(day.year, day.month, day.day, 7, 15, tzinfo=ZONE)
        closing = datetime(day.year, day.month, day.day, 17, 15, tzinfo=ZONE)
        if latest is not None:
            closing = max(min(closing, latest), opening.replace(hour=0, minute=0) +
                          timedelta(minutes=1))
            opening = min(opening, closing - timedelta(minutes=1))
        span = (closing - opening).total_seconds()
        moments = sorted(opening + timedelta(seconds=rng.random() * span) for _ in range(count))
        status_weights = next(w for limit, w in STATUS_BY_AGE if age <= limit)
        for registered_local in moments:
            doc_id += 1
            year = day.year
            numbers[year] = numbers.get(year, 0) + 1
            sender, abbr, _, depts = weighted(rng, senders)
            number_str, corpus_type, raw_subject = corpus[doc_id % len(corpus)]
            if sender == ubnd_tinh:
                doc_type, notation = corpus_type, number_str
            else:
                doc_type = weighted(rng, DOC_TYPES)
                seq_key = (sender, year)
                sender_numbers[seq_key] = sender_numbers.get(seq_key, 0) + rng.randint(1, 9)
                n = sender_numbers[seq_key] % 4999 + 1
                if abbr == "TU":
                    notation = f"{n}-{'CV' if doc_type == 'CV' else doc_type}/TU"
                elif doc_type == "CV":
                    notation = f"{n}/{abbr}-{rng.choice(depts)}"
                else:
                    notation = f"{n}/{doc_type}-{abbr}"
            subject = _subject_for(doc_type, raw_subject)
            registered_at = registered_local.astimezone(UTC)
            doc_date = day - timedelta(days=min(int(rng.expovariate(0.5)), 12))
            status = weighted(rng, status_weights)
            secrecy = "confidential" if rng.random() < 0.03 else "normal"
            received_via = "paper" if rng.random() < 0.15 else "electronic"
            due_date = day + timedelta(days=rng.randint(5, 30)) if rng.random() < 0.35 else None
            deadline = due_date
            registrar = clerk if rng.random() < 0.85 else clerk2
            completed_at = None
            assignments = []
            if status != "registered":
                cap = now_local.astimezone(UTC)
                t = min(registered_at + timedelta(hours=rng.uniform(0.5, 30)), cap)
                leader = rng.choice(world.leaders)
                main_unit = rng.choices(unit_abbrs, unit_weights)[0]
                if deadline is None and rng.random() < 0.6:
                    deadline = day + timedelta(days=rng.randint(5, 20))
                if rng.random() < 0.03:  # reassigned: the first main unit was replaced
                    other = rng.choice([a for a in unit_abbrs if a != main_unit])
                    assignments.append((None, world.units[other], "main", leader.id, t, False,
                                        rng.choice(DIRECTIONS)))
                assignments.append((None, world.units[main_unit], "main", leader.id, t, True,
                                    rng.choice(DIRECTIONS)))
                if rng.random() < 0.25:
                    other = rng.choice([a for a in unit_abbrs if a != main_unit])
                    assignments.append((None, world.units[other], "cooperate", leader.id, t,
                                        True, "Phối hợp thực hiện."))
                if rng.random() < 0.10:
                    other = rng.choice([a for a in unit_abbrs if a != main_unit])
                    assignments.append((None, world.units[other], "info", leader.id, t, True,
                                        "Để biết."))
                if status in ("in_progress", "completed") or rng.random() < 0.3:
                    head = world.head_by_unit[main_unit]
                    handler = rng.choice(world.staff_by_unit[main_unit] + [head])
                    t2 = min(t + timedelta(hours=rng.uniform(0.5, 20)), cap)
                    assignments.append((handler.id, None, "main", head.id, t2, True, ""))
                    if status == "assigned":
                        status = "in_progress"
                    if status == "completed":
                        completed_at = min(t2 + timedelta(days=rng.uniform(0.2, 12)), cap)
            updated_at = completed_at or (assignments[-1][4] if assignments else registered_at)
            sender_key, notation_key = key(sender), key(notation)
            chunk["stored_files"].append({
                "id": doc_id, "org_id": world.org_id, "sha256": world.sha256,
                "filename": notation.replace("/", "-") + ".signed.pdf",
                "content_type": "application/pdf", "size": world.pdf_size,
                "page_count": world.pdf_pages, "has_signatures": False,
                "uploaded_by_id": registrar.id, "uploaded_at": registered_at})
            chunk["incoming_documents"].append({
                "id": doc_id, "org_id": world.org_id, "doc_type": doc_type, "subject": subject,
                "notation": notation, "notation_key": notation_key, "doc_date": doc_date,
                "urgency": weighted(rng, URGENCY), "secrecy": secrecy, "status": status,
                "created_at": registered_at, "updated_at": updated_at, "file_id": doc_id,
                "arrival_year": year, "arrival_number": numbers[year], "arrival_date": day,
                "sender": sender, "sender_key": sender_key, "received_via": received_via,
                "due_date": due_date, "deadline": deadline, "page_count": world.pdf_pages,
                "registered_by_id": registrar.id, "registered_at": registered_at,
                "completed_at": completed_at,
                "completion_note": "Đã tham mưu, giải quyết xong." if completed_at else "",
                "rejection_reason": "", "signature_check": None})
            for user_id, unit_id, role, by, at, active, note in assignments:
                assignment_id += 1
                chunk["incoming_assignments"].append({
                    "id": assignment_id, "document_id": doc_id, "user_id": user_id,
                    "unit_id": unit_id, "role": role, "deadline": deadline, "note": note,
                    "assigned_by_id": by, "assigned_at": at, "active": active})
            # incoming.registered, exactly as ops.register records it (valid hash chain)
            event_id += 1
            head_seq += 1
            ev = SimpleNamespace(
                chain=world.org_id, seq=head_seq, at=registered_at, actor_id=registrar.id,
                actor_name=registrar.full_name, action="incoming.registered",
                object_type="incoming_documents", object_id=str(doc_id),
                details={"arrival_number": numbers[year], "notation": notation,
                         "sha256": world.sha256}, prev_hash=head_hash)
            ev.hash = audit._digest(ev)
            head_hash = ev.hash
            chunk["audit_events"].append({**vars(ev), "id": event_id})
            stats["status"][status] = stats["status"].get(status, 0) + 1
            stats["classified"] += secrecy != "normal"
            if len(chunk["incoming_documents"]) >= 20000:
                flush()
                rate = doc_id / (time.perf_counter() - started)
                log(f"  {doc_id:>8,} / {total:,} documents ({rate:,.0f}/s)")
        stats["documents"] = doc_id
    flush()
    stats["assignments"] = assignment_id
    writer.write("audit_heads", [{"chain": world.org_id, "seq": head_seq,
                                  "last_hash": head_hash}])
    writer.write("counters", [{"id": i, "org_id": world.org_id, "register": REGISTER,
                               "year": year, "value": value}
                              for i, (year, value) in enumerate(sorted(numbers.items()), 1)])
    world.last_numbers = dict(numbers)
    world.stats = stats


# --- 3. measuring -------------------------------------------------------------------------

class SqlRecorder:
    """Every statement the app sends, with its duration, while ``capture`` is a list."""

    def __init__(self, engine):
        from sqlalchemy.orm import Session
        self.capture: list | None = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        # COMMIT does not pass through cursor.execute: time it from the session's side.
        event.listen(Session, "before_commit", self._before_commit)
        event.listen(Session, "after_commit", self._after_commit)

    def _before_commit(self, session):
        session.info["bench_commit_t0"] = time.perf_counter()

    def _after_commit(self, session):
        started = session.info.pop("bench_commit_t0", None)
        if started is not None and self.capture is not None:
            self.capture.append(("COMMIT", None, time.perf_counter() - started))

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - conn.info["bench_t0"].pop()
        if self.capture is not None:
            self.capture.append((statement, parameters, elapsed))


@dataclass
class Result:
    name: str
    times: list
    sql_counts: list
    sql_times: list
    statements: dict  # statement -> (durations, last params)
    target: float | None = None
    note: str = ""
    error: str = ""


def measure(name, call, recorder, *, count, warmup, expect, target=None, budget=None,
            minimum=10):
    """Time ``count`` calls; with a budget (seconds), stop early once ``minimum`` calls
    are done and the budget is spent (pages taking seconds would otherwise take hours)."""
    result = Result(name, [], [], [], {}, target)
    for index in range(warmup):
        response = call(-1 - index)
        if response.status_code != expect:
            result.error = f"HTTP {response.status_code} in warm-up"
            log(f"    ERROR {name}: {result.error}: {response.get_data(as_text=True)[:300]}")
            return result
    began = time.perf_counter()
    for index in range(count):
        if budget and index >= minimum and time.perf_counter() - began > budget:
            result.note = f"budget {budget:.0f} s reached after {index} calls"
            break
        recorder.capture = []
        started = time.perf_counter()
        response = call(index)
        elapsed = time.perf_counter() - started
        captured, recorder.capture = recorder.capture, None
        if response.status_code != expect:
            # Others edit the app while benches run: report the page, keep measuring others.
            result.error = f"HTTP {response.status_code} at call {index + 1}"
            log(f"    ERROR {name}: {result.error}: {response.get_data(as_text=True)[:300]}")
            break
        result.times.append(elapsed)
        result.sql_counts.append(len(captured))
        result.sql_times.append(sum(d for _, _, d in captured))
        for statement, params, duration in captured:
            durations, _ = result.statements.get(statement, ([], None))
            durations.append(duration)
            result.statements[statement] = (durations, params)
    return result


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def login(app, username: str):
    client = app.test_client()
    page = client.get("/login")
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def run_measurements(app, world: World, args) -> tuple[list[Result], dict]:
    services = app.extensions["docmgr"]
    recorder = SqlRecorder(services.db.engine)
    year = datetime.now(ZONE).year
    with app.app_context(), services.db.transaction() as session:
        clerk = session.get(accounts.User, world.by_username["vanthu"].id)
        token = accounts.issue_token(session, clerk, 1)
    bearer = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    results, checks = [], {}

    # (a) registration through the API, each with its own small PDF and notation
    total_posts = args.calls + args.warmup_posts
    corpus = load_corpus(random.Random(7))
    today = datetime.now(ZONE).date()
    forms = []
    for index in range(total_posts):
        notation = f"{5001 + index}/STTTT-BCVT"
        subject = _subject_for("CV", corpus[index % len(corpus)][2])
        pdf = sample_pdf(["SO THONG TIN VA TRUYEN THONG TINH BINH DUONG", f"So: {notation}",
                          "", f"Van ban bench so {index}"], pages=2)
        forms.append({"sender": "Sở Thông tin và Truyền thông tỉnh Bình Dương",
                      "notation": notation, "doc_date": today.isoformat(), "doc_type": "CV",
                      "subject": subject, "urgency": "normal", "received_via": "electronic",
                      "_pdf": pdf})
    numbers_seen = []

    def post(index):
        form = dict(forms[index + args.warmup_posts if index >= 0 else -1 - index])
        pdf = form.pop("_pdf")
        form["file"] = (io.BytesIO(pdf), f"{form['notation'].replace('/', '-')}.pdf")
        response = api.post("/api/v1/incoming", data=form, headers=bearer,
                            content_type="multipart/form-data")
        if response.status_code == 201:
            numbers_seen.append(response.get_json()["arrival_number"])
        return response

    log(f"  POST /api/v1/incoming × {args.calls} (after {args.warmup_posts} warm-up) ...")
    results.append(measure("POST /api/v1/incoming (clerk, 2-page PDF)", post, recorder,
                           count=args.calls, warmup=args.warmup_posts, expect=201,
                           target=TARGET_REGISTER_P95_MS))
    checks["numbers_seen"] = numbers_seen

    # (b)/(c) reading
    clients = {role: login(app, MEASURED[role][0])
               for role in ("clerk", "leader", "specialist", "head")}
    recent_id = world.stats["documents"]
    rare = "3637/ubnd-vx"
    reads = [
        ("clerk", "GET /incoming/", "/incoming/", True),
        ("clerk", f"GET /incoming/?year={year}", f"/incoming/?year={year}", True),
        ("clerk", "GET /incoming/?q=thu hồi đất", "/incoming/?q=thu+h%E1%BB%93i+%C4%91%E1%BA%A5t",
         True),
        ("clerk", f"GET /incoming/?q={rare}", f"/incoming/?q={rare}", True),
        ("clerk", "GET /incoming/?queue=to_assign", "/incoming/?queue=to_assign", True),
        ("clerk", "GET /incoming/?queue=overdue", "/incoming/?queue=overdue", True),
        ("clerk", "GET /incoming/?page=100", "/incoming/?page=100", True),
        ("clerk", "GET / (dashboard)", "/", True),
        ("clerk", "GET /incoming/register (sổ)", "/incoming/register", True),
        ("clerk", "GET /incoming/new (form)", "/incoming/new", False),
        ("clerk", "GET /incoming/<id> (detail)", f"/incoming/{recent_id}", False),
        ("api", "GET /api/v1/incoming", "/api/v1/incoming", True),
        ("api", "GET /api/v1/incoming?q=đất", "/api/v1/incoming?q=%C4%91%E1%BA%A5t", True),
        ("api", f"GET /api/v1/incoming?year={year}&status=registered",
         f"/api/v1/incoming?year={year}&status=registered", True),
        ("leader", "GET /incoming/", "/incoming/", True),
        ("leader", "GET / (dashboard)", "/", True),
        ("leader", "GET /incoming/register (sổ)", "/incoming/register", True),
        ("specialist", "GET /incoming/", "/incoming/", True),
        ("specialist", "GET /incoming/?queue=mine", "/incoming/?queue=mine", True),
        ("specialist", "GET / (dashboard)", "/", True),
        ("head", "GET /incoming/", "/incoming/", True),
        ("head", "GET / (dashboard)", "/", True),
    ]
    for who, label, url, is_list in reads:
        if who == "api":
            client, headers, name = api, bearer, f"{label} (clerk, token)"
        else:
            client, headers, name = clients[who], {}, f"{label} ({who})"
        log(f"  {name} × {args.reads} ...")
        results.append(measure(
            name, lambda _i, c=client, u=url, h=headers: c.get(u, headers=h), recorder,
            count=args.reads, warmup=args.warmup_reads, expect=200,
            target=TARGET_LIST_MS if is_list else None, budget=args.read_budget,
            minimum=min(args.reads, args.min_reads)))
    return results, checks


def verify_numbers(url: str, world: World, numbers_seen: list[int], posted: int) -> list[str]:
    """The new số đến follow the pre-existing ones exactly; every year is gap-free."""
    year = datetime.now(ZONE).year
    before = world.last_numbers.get(year, 0)
    lines, ok = [], True
    if len(numbers_seen) != posted:
        ok = False
        lines.append(f"FAIL only {len(numbers_seen)} of {posted} registrations succeeded")
    expected = list(range(before + 1, before + 1 + len(numbers_seen)))
    if numbers_seen == expected:
        lines.append(f"OK   {len(numbers_seen)} registrations got số đến {before + 1}..."
                     f"{before + len(numbers_seen)}, in order, right after the pre-existing "
                     f"{before} of {year}")
    else:
        ok = False
        lines.append(f"FAIL numbers returned {numbers_seen[:5]}...{numbers_seen[-5:]}, "
                     f"expected {before + 1}..{before + len(numbers_seen)}")
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT d.arrival_year, count(*), count(DISTINCT d.arrival_number), "
            "min(d.arrival_number), max(d.arrival_number), max(c.value) "
            "FROM incoming_documents d LEFT JOIN counters c ON c.org_id = d.org_id "
            "AND c.register = :reg AND c.year = d.arrival_year "
            "WHERE d.org_id = :org GROUP BY d.arrival_year ORDER BY d.arrival_year"),
            {"reg": REGISTER, "org": world.org_id}).all()
    engine.dispose()
    for y, n, distinct, low, high, counter in rows:
        good = n == distinct == high == counter and low == 1
        ok &= good
        lines.append(f"{'OK  ' if good else 'FAIL'} {y}: {n} documents, số đến {low}..{high}, "
                     f"{distinct} distinct, counter {counter}")
    lines.insert(0, "ALL CHECKS PASSED" if ok else "SOME CHECKS FAILED")
    return lines


def explain(url: str, results: list[Result], top: int) -> list[str]:
    """EXPLAIN what makes the slowest pages slow: for each of the ``top`` slowest read
    operations, its statements taking at least a quarter of its SQL time (two at most),
    each statement text once."""
    pages = sorted((r for r in results if not r.name.startswith("POST") and r.times),
                   key=lambda r: statistics.median(r.times), reverse=True)[:top]
    chosen, seen = [], set()
    for result in pages:
        sql_time = statistics.median(result.sql_times)
        ranked = sorted(((statistics.median(d), s, p) for s, (d, p) in result.statements.items()
                         if s.lstrip().upper().startswith("SELECT")), reverse=True,
                        key=lambda item: item[0])
        for median, statement, params in ranked[:2]:
            if median >= sql_time / 4 and statement not in seen:
                seen.add(statement)
                chosen.append((statement, median, result, params))
    engine = create_engine(url)
    out = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for rank, (statement, median, result, params) in enumerate(chosen, 1):
            out.append("")
            out.append(f"[{rank}] {result.name}: page median "
                       f"{statistics.median(result.times) * 1000:.0f} ms, this statement "
                       f"median {median * 1000:.1f} ms")
            out.append("    " + short_sql(statement, 2000))
            out.append(f"    params: {params!r}"[:600])
            if is_sqlite(url):
                started = time.perf_counter()
                cursor.execute(statement, params)
                cursor.fetchall()
                elapsed = time.perf_counter() - started
                cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
                plan = [f"{r[3]}" for r in cursor.fetchall()]
                out.append(f"    re-run: {elapsed * 1000:.1f} ms; plan:")
            else:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                plan = [r[0] for r in cursor.fetchall()]
                out.append("    digest: " + plan_digest(plan))
            shown = [line for line in plan if "(never executed)" not in line]
            out.extend("    | " + line for line in shown[:45])
            if len(shown) > 45:
                out.append(f"    | ... ({len(shown) - 45} more lines)")
        raw.rollback()
    finally:
        raw.close()
        engine.dispose()
    return out


def plan_digest(plan: list[str]) -> str:
    """The few numbers that matter in a PostgreSQL plan, on one line."""
    text_ = "\n".join(plan)
    parts = []
    execution = re.search(r"Execution Time: ([\d.]+) ms", text_)
    if execution:
        parts.append(f"execution {float(execution.group(1)):.1f} ms")
    jit = re.search(r"Timing:.*Total ([\d.]+) ms", text_)
    if jit:
        parts.append(f"of which JIT compilation {float(jit.group(1)):.1f} ms")
    for scan in re.finditer(r"Seq Scan on (\w+).*?actual time=[\d.]+\.\.([\d.]+) rows=(\d+)",
                            text_):
        parts.append(f"Seq Scan on {scan.group(1)} ({int(scan.group(3)):,} rows kept, "
                     f"{float(scan.group(2)):.0f} ms)")
    hashed = re.search(r"Bitmap Heap Scan on incoming_assignments.*?actual time=[\d.]+\.\."
                       r"([\d.]+) rows=(\d+)", text_)
    if hashed:
        parts.append(f"visibility subquery reads {int(hashed.group(2)):,} assignments "
                     f"({float(hashed.group(1)):.0f} ms)")
    return "; ".join(parts) or "(see plan)"


def breakdown(data_dir: Path) -> list[str]:
    """What a registration spends outside SQL: checking the PDF and writing the blob."""
    pdfs = [sample_pdf(["BREAKDOWN", f"So {i}"], pages=2) for i in range(30)]
    check = []
    for pdf in pdfs:
        started = time.perf_counter()
        check_pdf(pdf, max_bytes=50 * 1024 * 1024)
        check.append(time.perf_counter() - started)
    store = BlobStore(data_dir / "breakdown-blobs")
    put = []
    for pdf in pdfs:
        started = time.perf_counter()
        store.put(pdf)
        put.append(time.perf_counter() - started)
    return [f"check_pdf (PDFium open + re-save + scans), 2-page PDF: median "
            f"{statistics.median(check) * 1000:.2f} ms, max {max(check) * 1000:.2f} ms",
            f"BlobStore.put (write + fsync file + fsync dir), new blob:  median "
            f"{statistics.median(put) * 1000:.2f} ms, max {max(put) * 1000:.2f} ms"]


# --- report -------------------------------------------------------------------------------

def machine(url: str) -> list[str]:
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) if meminfo else 0
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        found = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1) if found else ""
    lines = [f"machine: {os.cpu_count()} CPUs (usable: {len(os.sched_getaffinity(0))}) {cpu}; "
             f"RAM {total_kb / 1024 / 1024:.1f} GiB; {platform.platform()}; "
             f"Python {platform.python_version()}"]
    engine = create_engine(url)
    with engine.connect() as conn:
        if is_sqlite(url):
            lines.append("database: SQLite " + conn.exec_driver_sql(
                "select sqlite_version()").scalar() + f" ({make_url(url).database})")
        else:
            version = conn.exec_driver_sql("show server_version").scalar()
            settings = {name: conn.exec_driver_sql(f"show {name}").scalar()
                        for name in ("shared_buffers", "work_mem", "effective_cache_size",
                                     "synchronous_commit", "max_parallel_workers_per_gather")}
            lines.append(f"database: PostgreSQL {version} on {make_url(url).host} "
                         + ", ".join(f"{k}={v}" for k, v in settings.items()))
    engine.dispose()
    return lines


def _load(values) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def apply_db_fixes(url: str) -> list[str]:
    """The database-side changes the report proposes, so their effect can be measured."""
    if is_sqlite(url):
        return []
    name = make_url(url).database
    statements = [
        f'ALTER DATABASE "{name}" SET jit = off',
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE INDEX IF NOT EXISTS ix_incoming_subject_trgm ON incoming_documents "
        "USING gin (lower(subject) gin_trgm_ops)",
        "CREATE INDEX IF NOT EXISTS ix_incoming_notation_trgm ON incoming_documents "
        "USING gin (notation_key gin_trgm_ops)",
        "CREATE INDEX IF NOT EXISTS ix_incoming_sender_trgm ON incoming_documents "
        "USING gin (sender_key gin_trgm_ops)",
        "ANALYZE incoming_documents",
    ]
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()
    return statements[:-1]


def table(results: list[Result]) -> list[str]:
    header = (f"{'operation':<60} {'n':>4}  {'median':>7} {'p95':>8} {'max':>8}  "
              f"{'SQL/req':>7} {'SQL ms':>7}  target")
    lines = [header, "-" * len(header)]
    for r in results:
        if not r.times:
            lines.append(f"{r.name[:60]:<60}    0   ERROR {r.error} (see the log above)")
            continue
        median, p95 = statistics.median(r.times), percentile(r.times, 95)
        if r.error:
            verdict = f"ERROR {r.error}"
        elif r.target is None:
            verdict = ""
        else:
            metric = p95
            verdict = f"p95<{r.target:.0f} {'PASS' if metric * 1000 < r.target else 'FAIL'}"
        lines.append(f"{r.name[:60]:<60} {len(r.times):>4}{'*' if r.note else ' '}"
                     f"{ms(median)} {ms(p95)} {ms(max(r.times))}  "
                     f"{statistics.median(r.sql_counts):>7.0f} "
                     f"{statistics.median(r.sql_times) * 1000:>7.1f}  {verdict}")
    lines.append("(times in ms; SQL/req and SQL ms are medians per request: statements sent "
                 "and time inside cursor.execute, plus COMMIT when there is one)")
    if any(r.note for r in results):
        lines.append("* fewer calls than asked: the per-page time budget (--read-budget) was "
                     "spent; use --read-budget 0 to always run --reads calls")
    return lines


def top_statements(result: Result, count: int = 6) -> list[str]:
    ranked = sorted(result.statements.items(), key=lambda kv: statistics.median(kv[1][0]),
                    reverse=True)[:count]
    return [f"  {statistics.median(d) * 1000:7.2f} ms  {short_sql(s, 140)}"
            for s, (d, _) in ranked]


def short_sql(statement: str, limit: int) -> str:
    """One line, long select lists replaced by their column count."""
    def collapse(match):
        columns = match.group(1)
        if len(columns) < 80 or "SELECT" in columns.upper():
            return match.group(0)
        return f"SELECT <{columns.count(',') + 1} columns> FROM"
    flat = " ".join(statement.split())
    flat = re.sub(r"SELECT (.*?) FROM", collapse, flat)
    return flat if len(flat) <= limit else flat[:limit] + " …"


# --- main ---------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="PostgreSQL (database name must contain 'bench'; it is dropped "
                             "and recreated) or sqlite:///path/bench.sqlite3")
    parser.add_argument("--documents", type=int, default=None,
                        help="pre-existing incoming documents (default 200000; 50000 on SQLite)")
    parser.add_argument("--calls", type=int, default=200, help="timed registrations")
    parser.add_argument("--reads", type=int, default=50, help="timed GETs per page")
    parser.add_argument("--read-budget", type=float, default=15.0,
                        help="seconds per page: stop before --reads once --min-reads calls "
                             "are done and this is spent (0: always do --reads)")
    parser.add_argument("--min-reads", type=int, default=10)
    parser.add_argument("--warmup-posts", type=int, default=5)
    parser.add_argument("--warmup-reads", type=int, default=3)
    parser.add_argument("--apply-db-fixes", action="store_true",
                        help="PostgreSQL: before measuring, apply the database-side fixes "
                             "proposed in the report (jit=off, pg_trgm indexes) to show "
                             "their effect")
    parser.add_argument("--verify-audit", action="store_true",
                        help="also verify the whole audit hash chain afterwards (slow)")
    parser.add_argument("--explain", type=int, default=8,
                        help="how many of the slowest pages to EXPLAIN")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--data-dir", default=None,
                        help="DATA_DIR for blobs (default: a temporary directory, removed)")
    args = data.parse(parser, argv, database_url=None, documents=300, calls=3, reads=2,
                      min_reads=1, read_budget=0, warmup_posts=1, warmup_reads=1, explain=1)
    rng = random.Random(args.seed)
    run_started = time.perf_counter()
    temp = None
    if args.data_dir:
        data_dir = Path(args.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
    else:
        temp = tempfile.mkdtemp(prefix="docmgr-bench-")
        data_dir = Path(temp)
    # A smoke run without --database-url stays in its temporary directory.
    url = normalise_url(args.database_url or f"sqlite:///{data_dir / 'smoke-bench.sqlite3'}")
    documents = args.documents or (50_000 if is_sqlite(url) else 200_000)
    try:
        log(f"== docmgr bench: incoming documents — {make_url(url).render_as_string()}")
        log("== 1. database")
        started = time.perf_counter()
        recreate_database(url)
        log(f"  recreated and migrated in {time.perf_counter() - started:.1f} s")

        log(f"== 2. generating {documents:,} incoming documents (bulk)")
        started = time.perf_counter()
        writer = Writer(url)
        world = create_world(writer, data_dir, rng)
        generate(writer, world, documents, rng)
        log("  sequences, VACUUM ANALYZE, CHECKPOINT ...")
        writer.finish()
        seed_seconds = time.perf_counter() - started
        stats = world.stats
        log(f"  done in {seed_seconds:.1f} s: {stats['documents']:,} documents, "
            f"{stats['assignments']:,} assignments, {stats['classified']:,} classified, "
            f"statuses {dict(sorted(stats['status'].items()))}; per year "
            f"{dict(sorted(world.last_numbers.items()))}; {len(world.people)} users")
        problems = writer.check_integrity()
        if problems:
            sys.exit("bulk data breaks foreign keys: " + "; ".join(problems))
        log("  foreign keys checked: every reference resolves")
        fixes = []
        if args.apply_db_fixes:
            fixes = apply_db_fixes(url)
            for line in fixes:
                log("  applied: " + line)
        load_before = os.getloadavg()

        log("== 3. measuring through the Flask test client (in-process)")
        # INDEXER=worker: no background thread indexing the bench archive while we measure.
        app = create_app({"DATABASE_URL": url, "DATA_DIR": str(data_dir),
                          "SECRET_KEY": "bench", "INDEXER": "worker"})
        results, checks = run_measurements(app, world, args)
        app.extensions["docmgr"].db.dispose()
        load_after = os.getloadavg()

        log("== 4. checks, EXPLAIN")
        number_lines = verify_numbers(url, world, checks["numbers_seen"],
                                      args.calls + args.warmup_posts)
        audit_lines = []
        if args.verify_audit:
            from sqlalchemy.orm import Session
            engine = create_engine(url)
            with Session(engine) as session:
                started = time.perf_counter()
                breach = audit.verify(session)
                audit_lines.append(("OK   audit chain intact" if breach is None else
                                    f"FAIL audit chain: {breach}")
                                   + f" (verified in {time.perf_counter() - started:.1f} s)")
            engine.dispose()
        plans = explain(url, results, args.explain)
        costs = breakdown(data_dir)

        log("")
        log("=" * 100)
        log("RESULTS — docmgr incoming documents")
        for line in machine(url):
            log(line)
        log(f"load average (1/5/15 min) before measuring {_load(load_before)}, after "
            f"{_load(load_after)} — other processes on this machine share the CPUs")
        if fixes:
            log("database-side fixes APPLIED before measuring (--apply-db-fixes): "
                + "; ".join(fixes))
        log(f"volume: {stats['documents']:,} pre-existing incoming documents over "
            f"{min(world.last_numbers)}–{max(world.last_numbers)}, "
            f"{stats['assignments']:,} assignments, {stats['classified']:,} classified; "
            f"bulk load took {seed_seconds:.1f} s")
        log("method: Flask test client, in-process, sequential — this measures the server-side "
            "code path (routing, auth, SQL, templates/JSON), not network, WSGI server or "
            "browser. Pages are page 1 (20 rows) unless noted.")
        log("")
        for line in table(results):
            log(line)
        log("")
        log("Registration — where the time goes outside SQL:")
        for line in costs:
            log("  " + line)
        log("Registration — slowest statements (median per call):")
        for line in top_statements(results[0]):
            log(line)
        log("")
        log("Số đến continuity:")
        for line in number_lines + audit_lines:
            log("  " + line)
        log("")
        log("EXPLAIN (ANALYZE, BUFFERS) of the statements that dominate the slowest pages "
            "(re-run once, after the measurements, same parameters):"
            if not is_sqlite(url) else
            "EXPLAIN QUERY PLAN of the statements that dominate the slowest pages:")
        for line in plans:
            log(line)
        log("")
        log(f"total run time {time.perf_counter() - run_started:.0f} s")
        return 0 if number_lines[0] == "ALL CHECKS PASSED" else 1
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
