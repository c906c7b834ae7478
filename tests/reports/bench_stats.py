"""Timing of GET /api/v1/stats on PostgreSQL with a million documents (not a test).

    .venv/bin/python -m tests.reports.bench_stats \
        postgresql+psycopg://postgres@127.0.0.1:5432/docmgr_stats_scratch
    .venv/bin/python -m tests.reports.bench_stats --smoke [URL]

Point it at a scratch database (never `test`, which the suite recreates): it migrates the
schema, fills it once (700,000 incoming in four organisations over ten years, their
assignments, 300,000 outgoing of which 90 % issued with a realistic 2 KB signature
report, 0.5 % of them unconfirmed) with INSERT … SELECT generate_series, then times each
grouping over a quarter, a year and ten years, three times each. Drop the database after.

``--smoke``: 7,000 + 3,000 documents, each figure once. It empties the database first, so
it only takes the test database (DOCMGR_TEST_DATABASE_URL, also the default) or one whose
name contains "bench".
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from docmgr import create_app
from docmgr.core import auth
from docmgr.migrations import upgrade
from tests.bench import data

_SIGNATURE = {
    "field": "Signature1", "signer": "Phạm Minh Quang", "signed_at": "2026-03-02T09:12:33+07:00",
    "intact": True, "valid": True, "trusted": True, "timestamped": False,
    "modification_level": "form_filling", "coverage": "entire_revision", "kind": "signature",
    "verdict": "valid", "verdict_label": "Hợp lệ", "signed_at_source": "signer",
    "timestamp_time": None, "timestamp_trusted": False, "timestamp_authority": None,
    "revocation": "unknown", "docmdp": {"permission": "fill_forms", "ok": True},
    "changed_fields": ["SoVanBan", "NgayVanBan", "ChuKyCoQuan"],
    "issuer": "CN=docmgr Test CA, O=docmgr", "serial": "5f3a9c0d4e2b1a77c6d8e9f001122334455",
    "not_valid_after": "2028-03-02T09:12:33+07:00", "error": None,
    "notes": ["Chưa kiểm tra được tình trạng thu hồi của chứng thư (hệ thống không tra cứu "
              "CRL/OCSP trực tuyến).", "Thời điểm ký lấy theo đồng hồ của người ký."]}
REPORT = {"signatures": [_SIGNATURE, {**_SIGNATURE, "field": "ChuKyCoQuan",
                                      "signer": "Văn phòng UBND tỉnh Quảng Ngãi"}],
          "summary": "Các chữ ký số trên văn bản hợp lệ. Văn bản có 2 chữ ký số (2 hợp lệ).",
          "verdict": "valid"}

FILL = """
INSERT INTO organizations (id, code, name, abbr, place)
  SELECT g, '000.00.0'||g||'.H55', 'Cơ quan '||g, 'CQ'||g, 'Quảng Ngãi' FROM generate_series(1,4) g;
INSERT INTO units (id, org_id, name, abbr)
  SELECT g, 1 + (g-1)/8, 'Phòng '||g, 'P'||g FROM generate_series(1,32) g;
INSERT INTO users (id, org_id, unit_id, username, password_hash, full_name, role, active)
  SELECT g, 1 + (g-1)/40, 1 + (g-1)/5, 'u'||g, 'x', 'Người dùng '||g,
         CASE WHEN g%40=1 THEN 'leader' WHEN g%40=2 THEN 'clerk' ELSE 'specialist' END, true
  FROM generate_series(1,160) g;
INSERT INTO stored_files (id, org_id, sha256, filename, content_type, size, page_count,
                          has_signatures)
  VALUES (1, 1, repeat('a',64), 'a.pdf', 'application/pdf', 1, 1, true);
INSERT INTO incoming_documents (id, doc_type, subject, notation, doc_date, urgency, secrecy,
   status, org_id, arrival_year, arrival_number, arrival_date, sender, sender_key, notation_key,
   received_via, due_date, deadline, page_count, completion_note, rejection_reason,
   completed_at, created_at, updated_at)
SELECT g, (ARRAY['CV','QĐ','BC','TB','KH','TTr','GM','CT'])[1 + g%8], 'Trích yếu '||g,
   g||'/ABC', d, (ARRAY['normal','normal','normal','normal','urgent','very_urgent','express',
   'normal'])[1 + (g/7)%8], CASE WHEN g%50=0 THEN 'confidential' ELSE 'normal' END,
   CASE WHEN d > CURRENT_DATE - 60 AND g%3=0 THEN 'in_progress' WHEN g%20=0 THEN 'assigned'
        WHEN g%33=0 THEN 'registered' ELSE 'completed' END,
   o, extract(year from d)::int, g, d, 'Sở '||(g%50), 'sở '||(g%50), g||'/abc', 'electronic',
   CASE WHEN g%5<3 THEN d + 10 END, CASE WHEN g%5<3 THEN d + 10 END, 1, '', '',
   (d + (g%15))::timestamp + interval '2 hours', now(), now()
FROM (SELECT g, CASE WHEN g%10<7 THEN 1 ELSE 2 + g%3 END AS o,
             CURRENT_DATE - 3650 + ((g::bigint*7919) % 3650)::int AS d
      FROM generate_series(1,{incoming}) g) s;
UPDATE incoming_documents SET completed_at = NULL WHERE status <> 'completed';
INSERT INTO outgoing_documents (id, doc_type, subject, notation, doc_date, urgency, secrecy,
   status, org_id, author_id, unit_id, signer_id, legal_normative, copies, register, year,
   number, issued_at, signed_file_id, signature_report, created_at, updated_at)
SELECT g, (ARRAY['CV','QĐ','BC','TB','KH','TTr','GM','CT'])[1 + g%8], 'Trích yếu đi '||g,
   g||'/QĐ-VP', CASE WHEN g%10<9 THEN d END, 'normal', 'normal',
   CASE WHEN g%10<9 THEN 'issued' ELSE 'draft' END, o, (o-1)*40 + 3 + g%30,
   (o-1)*8 + 1 + g%8, (o-1)*40 + 1, false, 1, CASE WHEN g%10<9 THEN 'main' END,
   CASE WHEN g%10<9 THEN extract(year from d)::int END, CASE WHEN g%10<9 THEN g END,
   CASE WHEN g%10<9 THEN d::timestamp + interval '3 hours' END, CASE WHEN g%10<9 THEN 1 END,
   CASE WHEN g%10<9 THEN (CASE WHEN g%200=0 THEN :untrusted ELSE :valid END)::json END,
   now(), now()
FROM (SELECT g, CASE WHEN g%10<7 THEN 1 ELSE 2 + g%3 END AS o,
             CURRENT_DATE - 3650 + ((g::bigint*104729) % 3650)::int AS d
      FROM generate_series(1,{outgoing}) g) s;
INSERT INTO incoming_assignments (document_id, user_id, unit_id, role, note, assigned_by_id,
                                  active)
SELECT i.id, CASE WHEN i.id%2=0 THEN (i.org_id-1)*40 + 3 + i.id%35 END,
       CASE WHEN i.id%2=1 THEN (i.org_id-1)*8 + 1 + i.id%8 END, 'main', '',
       (i.org_id-1)*40 + 1, true
FROM incoming_documents i WHERE i.status <> 'registered';
INSERT INTO incoming_assignments (document_id, user_id, role, note, assigned_by_id, active)
SELECT i.id, (i.org_id-1)*40 + 3 + i.id%35, 'main', '', (i.org_id-1)*40 + 1, true
FROM incoming_documents i WHERE i.status <> 'registered' AND i.id%10=1;
INSERT INTO incoming_assignments (document_id, user_id, role, note, assigned_by_id, active)
SELECT i.id, (i.org_id-1)*40 + 4 + i.id%30, 'main', '', (i.org_id-1)*40 + 1, false
FROM incoming_documents i WHERE i.id%7=0;
INSERT INTO incoming_assignments (document_id, unit_id, role, note, assigned_by_id, active)
SELECT i.id, (i.org_id-1)*8 + 1 + (i.id+3)%8, 'cooperate', '', (i.org_id-1)*40 + 1, true
FROM incoming_documents i WHERE i.id%9=0;
SELECT setval(pg_get_serial_sequence('incoming_documents','id'), {incoming} + 1);
SELECT setval(pg_get_serial_sequence('outgoing_documents','id'), {outgoing} + 1);
"""


def fill(url: str, incoming: int = 700_000, outgoing: int = 300_000) -> None:
    engine = create_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        if conn.execute(text("SELECT count(*) FROM incoming_documents")).scalar():
            return
        valid = json.dumps(REPORT, ensure_ascii=False)
        untrusted = json.dumps({**REPORT, "verdict": "untrusted"}, ensure_ascii=False)
        sql = FILL.format(incoming=incoming, outgoing=outgoing)
        for statement in filter(str.strip, sql.split(";")):
            conn.execute(text(statement), {"valid": valid, "untrusted": untrusted}
                         if ":valid" in statement else {})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="the scratch PostgreSQL database")
    args = data.parse(parser, argv)
    url = args.url or (os.environ.get("DOCMGR_TEST_DATABASE_URL") if args.smoke else None)
    if not url:
        parser.error("give the database URL (--smoke: or set DOCMGR_TEST_DATABASE_URL)")
    if not args.smoke:
        run(url)
        return 0
    if not (data.is_test_database(url) or "bench" in (make_url(url).database or "")):
        sys.exit(f"--smoke empties {url}: give the test database or one named *bench*")
    data.reset_schema(url)
    data_dir = tempfile.mkdtemp(prefix="docmgr-bench-stats-")
    try:
        run(url, incoming=7_000, outgoing=3_000, repeats=1, data_dir=data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def run(url: str, incoming: int = 700_000, outgoing: int = 300_000, repeats: int = 3,
        data_dir: str = "/tmp/docmgr-bench-stats") -> None:
    started = time.perf_counter()
    fill(url, incoming, outgoing)
    print(f"data ready in {time.perf_counter() - started:.0f} s")
    app = create_app({"DATABASE_URL": url, "DATA_DIR": data_dir,
                      "SECRET_KEY": "bench", "INDEXER": "worker"})
    db = app.extensions["docmgr"].db
    with db.transaction() as s:
        token = auth.issue_token(s, s.get(auth.User, 1), 1)
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    year = time.localtime().tm_year
    for name, query in (("quarter", f"period=quarter&year={year}&quarter=1"),
                        ("year", f"period=year&year={year}"),
                        ("ten years", "")):
        if not query:
            start = db.engine.connect().execute(text("SELECT CURRENT_DATE - 3649")).scalar()
            query = f"from={start.isoformat()}"
        for group in ("kind", "doc_type", "month", "unit", "urgency", "handler"):
            for fmt in ("json", "xlsx"):
                times = []
                for _ in range(repeats):
                    moment = time.perf_counter()
                    r = client.get(f"/api/v1/stats?{query}&group_by={group}&format={fmt}",
                                   headers=headers)
                    times.append(time.perf_counter() - moment)
                    assert r.status_code == 200, r.data[:300]
                print(f"{name:9s} {group:9s} {fmt:5s} median "
                      f"{statistics.median(times) * 1000:5.0f} ms, max {max(times) * 1000:5.0f} ms")


if __name__ == "__main__":
    sys.exit(main())
