"""``make bench``: every benchmark with its own detailed output, then ONE summary table.

    .venv/bin/python -m tests.bench.run [--database-url URL] [--documents N]
        [--sqlite-documents N] [--search-docs N] [--only signing,search,login,incoming,stats]
    .venv/bin/python -m tests.bench.run --smoke      (make bench-smoke; CI)

Runs, in this order: signing (tests.bench.signing), search (tests.bench.search, if that
module is there), the login flood (tests.bench.login_flood: registrations while strangers
post wrong passwords, SQLite behind ``flask run``), then for SQLite — and for PostgreSQL
when ``--database-url`` or ``DOCMGR_BENCH_DATABASE_URL`` names one — the incoming benchmark
(tests.bench.incoming: registration and list pages at scale) and the statistics at scale
(tests.bench.generate: a bench database of N documents, GET /api/v1/stats paired with the
raw SQL aggregates).

The sub-benchmarks are not modified to report back: their ``main`` runs as usual (and
prints as usual) while the module-level function that returns the measurements
(signing.engine_rows / request_rows, incoming.run_measurements, search.run_backend /
run_fts5) is wrapped for the duration of the call and its return value kept. A
``main(argv, collect=list)`` parameter is used instead when a module offers one.

Databases: SQLite files in a temporary directory (removed afterwards); on PostgreSQL the
URL's database (its name must contain "bench") for the incoming benchmark and
``<name>_stats`` for the statistics, both dropped and recreated, both left in place.

``--smoke`` runs every benchmark once at a tiny size (each module's own ``--smoke``), in
about a minute or two: a benchmark that no longer runs fails the run (exit 1); the figures
mean nothing. It works without the corpus. Besides the four above it runs the load test
(tests.bench.load: gunicorn on 127.0.0.1) and tests.reports.bench_stats, which need
PostgreSQL: ``--database-url``, DOCMGR_BENCH_DATABASE_URL or, for a smoke run, the test
database of DOCMGR_TEST_DATABASE_URL (its schema is reset, as the test suite does; the
statistics then use it too instead of ``<name>_stats``). Without PostgreSQL those parts are
skipped, which under CI (CI set) is a failure.
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import os
import shutil
import statistics
import tempfile
import time
import traceback
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.bench import data, generate, incoming, load, login_flood, signing
from tests.reports import bench_stats

try:
    from tests.bench import search
except ImportError:  # being written elsewhere: the summary says "không có"
    search = None

ABSENT = "không có"


def log(message: str = "") -> None:
    print(message, flush=True)


@contextlib.contextmanager
def keep_returns(module, *names):
    """Replace ``module.<name>`` by a wrapper that records each return value."""
    kept = {name: [] for name in names}
    originals = {name: getattr(module, name) for name in names}

    def wrap(name, function):
        def wrapper(*args, **kwargs):
            value = function(*args, **kwargs)
            kept[name].append(value)
            return value
        return wrapper

    for name, function in originals.items():
        setattr(module, name, wrap(name, function))
    try:
        yield kept
    finally:
        for name, function in originals.items():
            setattr(module, name, function)


def _accepts_collect(function) -> bool:
    try:
        return "collect" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _stage(name: str, function):
    """Run one benchmark; a crash is reported and the others still run."""
    log("")
    log("#" * 110)
    log(f"# {name}")
    log("#" * 110)
    started = time.perf_counter()
    try:
        value = function()
    except SystemExit as exc:  # the sub-benchmarks exit on refusals (e.g. database name)
        log(f"!! {name}: exited ({exc.code})")
        value = None
    except Exception:  # noqa: BLE001 — one broken benchmark is reported, the others still run
        log(f"!! {name} FAILED:")
        log(traceback.format_exc())
        value = None
    log(f"# {name}: {time.perf_counter() - started:.0f} s")
    return value, time.perf_counter() - started


# --- one summary row --------------------------------------------------------------------

class Row:
    """One line of the summary: a figure per engine (SQLite / PostgreSQL)."""

    def __init__(self, section: str, name: str, reference: str, unit: str = "ms"):
        self.section, self.name, self.reference, self.unit = section, name, reference, unit
        self.cells: dict[str, dict] = {}

    def set(self, engine: str, p50=None, p95=None, ref=None, note: str = "",
            higher_is_better: bool = False):
        self.cells[engine] = {"p50": p50, "p95": p95, "ref": ref, "note": note,
                              "higher": higher_is_better}


def _ms(seconds):
    return None if seconds is None else seconds * 1000


def _p95(values):
    return incoming.percentile(values, 95) if values else None


def _fmt(value, unit="ms") -> str:
    if value is None:
        return "—"
    if unit == "docs/s":
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value < 10_000 else f"{value:,.0f}"


def summary_table(rows: list[Row], engines: list[str]) -> list[str]:
    name_w = max(58, max((len(r.name) for r in rows), default=0))
    ref_w = max(22, max((len(r.reference) for r in rows), default=0))
    head = f"{'figure':<{name_w}} {'unit':<6} {'reference':<{ref_w}}"
    sub = " " * len(head)
    for engine in engines:
        head += f" | {engine:^36}"
        sub += f" | {'p50':>8} {'p95':>8} {'ref p50':>8} {'ratio':>7}"
    lines = [head, sub, "-" * len(sub)]
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            lines.append(f"[{section}]")
        line = f"{row.name:<{name_w}} {row.unit:<6} {row.reference:<{ref_w}}"
        notes = []
        for engine in engines:
            cell = row.cells.get(engine)
            if cell is None:
                line += f" | {'':>8} {'':>8} {'':>8} {'':>7}"
                continue
            if cell["p50"] is None and cell["ref"] is None and cell["note"]:
                line += f" | {cell['note'][:36]:<36}"
                continue
            ratio = "—"
            if cell["p50"] and cell["ref"]:
                ratio = f"{cell['p50'] / cell['ref']:.2f}×"
            line += (f" | {_fmt(cell['p50'], row.unit):>8} {_fmt(cell['p95'], row.unit):>8} "
                     f"{_fmt(cell['ref'], row.unit):>8} {ratio:>7}")
            if cell["note"]:
                notes.append(f"{engine}: {cell['note']}")
        if notes:
            line += "   (" + "; ".join(notes) + ")"
        lines.append(line)
    return lines


# --- the benchmarks ---------------------------------------------------------------------

def run_signing(args, rows: list[Row]) -> int:
    def call():
        with keep_returns(signing, "engine_rows", "request_rows") as kept:
            status = signing.main(["--smoke"] if args.smoke else
                                  ["--runs", str(args.signing_runs)])
        return status, kept
    value, _ = _stage("signing (tests.bench.signing)", call)
    status, kept = value if value else (1, {"engine_rows": [], "request_rows": []})
    found = {label: (samples, reference)
             for rows_ in kept["engine_rows"] + kept["request_rows"]
             for label, samples, reference in rows_}
    bare_2 = found.get("personal visible signature, 2-page A4", (None, None))[1]
    bare_2 = statistics.median(bare_2) if bare_2 else None
    wanted = [
        ("sign: personal visible signature, 2-page A4", "personal visible signature, 2-page A4",
         "bare pyHanko, same file", True),
        ("sign: personal visible signature, 30-page A4",
         "personal visible signature, 30-page A4", "bare pyHanko, same file", True),
        ("fill-and-seal (number, date, seal)", "fill-and-seal (number, date, seal)",
         "bare pyHanko sign, 2 p.", False),
        ("validate both signatures of an issued document",
         "validate both signatures of an issued document", "bare pyHanko sign, 2 p.", False),
        ("sign request (API, PIN unlock included)", "sign request (API, PIN unlock included)",
         "bare pyHanko sign, 2 p.", False),
        ("issue request (API: number, seal, validate, dispatch)",
         "issue request (API: number, seal, validate, dispatch)", "bare pyHanko sign, 2 p.",
         False),
    ]
    for name, label, reference, own_reference in wanted:
        row = Row("signing (SQLite app, in-process)", name, reference)
        samples, ref = found.get(label, (None, None))
        if samples:
            ref_value = statistics.median(ref) if (own_reference and ref) else \
                (None if own_reference else bare_2)
            row.set("SQLite", statistics.median(samples), _p95(samples), ref_value)
        else:
            row.set("SQLite", note="not measured (see above)")
        row.set("PostgreSQL", note="n/a (no database in the path)" if samples else "")
        rows.append(row)
    return status or 0


def run_search(args, rows: list[Row]) -> int:
    section = "search (SQLite archive, in-process)"
    if search is None:
        row = Row(section, "search (tests.bench.search)", "bare engine / SQLite FTS5")
        row.set("SQLite", note=ABSENT)
        rows.append(row)
        return 0
    argv = ["--docs", str(args.search_docs), "--queries", str(args.search_queries)]
    if args.smoke:
        argv = ["--smoke"]  # its own tiny sizes (--docs would add a size, not replace it)

    def call():
        if _accepts_collect(search.main):
            collected: list = []
            return search.main(argv, collect=collected), collected
        with keep_returns(search, "run_backend", "run_fts5") as kept:
            status = search.main(argv)
        return status, kept["run_backend"] + kept["run_fts5"]
    value, _ = _stage(f"search (tests.bench.search, {args.search_docs:,} documents)", call)
    status, results = value if value else (1, [])
    results = [r for r in results if getattr(r, "series", None) is not None]
    fts = next((r for r in results if r.name == "sqlite-fts5"), None)
    fts_highlight = _series(fts, "highlight")
    for r in results:
        if r.name == "sqlite-fts5" or getattr(r, "skipped", ""):
            continue
        row = Row(section, f"search index build, {r.name} ({r.docs:,} docs)",
                  "SQLite FTS5 INSERT", unit="docs/s")
        row.set("SQLite", r.rate, None, fts.rate if fts else None, higher_is_better=True)
        rows.append(row)
        layer = _series(r, "layer")
        bare = _series(r, "= bare")
        row = Row(section, f"search top 10 + highlights, {r.name} (ops.search)",
                  "bare engine, same request")
        if layer:
            row.set("SQLite", statistics.median(layer.times) * 1000, _p95(layer.times) * 1000,
                    statistics.median(bare.times) * 1000 if bare else None)
        rows.append(row)
        row = Row(section, f"search top 10 + highlights, {r.name} (ops.search)",
                  "FTS5 highlight()+snippet()")
        if layer:
            row.set("SQLite", statistics.median(layer.times) * 1000, _p95(layer.times) * 1000,
                    statistics.median(fts_highlight.times) * 1000 if fts_highlight else None)
        rows.append(row)
    for r in results:
        if getattr(r, "skipped", ""):
            row = Row(section, f"search, {r.name} ({r.docs:,} docs)", "—")
            row.set("SQLite", note="skipped: " + r.skipped[:28])
            rows.append(row)
    if not results:
        row = Row(section, "search (tests.bench.search)", "bare engine / SQLite FTS5")
        row.set("SQLite", note="no figures returned (see above)")
        rows.append(row)
    return status or 0


def _series(result, fragment: str):
    if result is None:
        return None
    return next((s for name, s in result.series.items() if fragment in name and s.times), None)


INCOMING_ROWS = [  # (summary name, incoming.py result name)
    ("registration POST /api/v1/incoming (2-page PDF)",
     "POST /api/v1/incoming (clerk, 2-page PDF)"),
    ("list GET /incoming/ (clerk)", "GET /incoming/ (clerk)"),
    ("list GET /incoming/ (leader)", "GET /incoming/ (leader)"),
    ("list GET /incoming/?q=thu hồi đất (clerk)", "GET /incoming/?q=thu hồi đất (clerk)"),
    ("list GET /incoming/?queue=overdue (clerk)", "GET /incoming/?queue=overdue (clerk)"),
    ("sổ GET /incoming/register (clerk)", "GET /incoming/register (sổ) (clerk)"),
    ("API GET /api/v1/incoming (token)", "GET /api/v1/incoming (clerk, token)"),
    ("dashboard GET / (clerk)", "GET / (dashboard) (clerk)"),
]


def run_incoming(args, engine: str, url: str, documents: int, rows_by_name: dict) -> int:
    argv = ["--database-url", url, "--documents", str(documents)]
    if args.smoke:
        argv.append("--smoke")

    def call():
        with keep_returns(incoming, "run_measurements") as kept:
            status = incoming.main(argv)
        return status, kept["run_measurements"]
    value, _ = _stage(f"incoming on {engine}, {documents:,} documents (tests.bench.incoming)",
                      call)
    status, kept = value if value else (1, [])
    results = {r.name: r for r in (kept[0][0] if kept else [])}
    for name, source in INCOMING_ROWS:
        row = rows_by_name.setdefault(name, Row("registration and lists (incoming bench)",
                                                name, "SQL time inside"))
        r = results.get(source)
        if r is None or not r.times:
            row.set(engine, note=(r.error if r is not None and r.error else "not measured"))
            continue
        row.set(engine, statistics.median(r.times) * 1000, _p95(r.times) * 1000,
                statistics.median(r.sql_times) * 1000,
                note=f"{documents:,} docs" + (f", {r.error}" if r.error else ""))
    return status or 0


STATS_ORDER = ["doc_type", "month", "unit", "kind"]


def run_stats(args, engine: str, url: str, documents: int, data_dir: Path,
              rows_by_name: dict) -> int:
    def call():
        result = generate.build(url, generate.Plan(documents, audit=False), data_dir)
        for line in generate.report_build(result):
            log(line)
        log("== measuring at scale")
        measured = generate.measure_scale(url, data_dir, calls=args.stats_calls,
                                          reads=args.stats_calls)
        for line in generate.report_scale(measured):
            log(line)
        return (1 if result["problems"] else 0), result, measured
    value, _ = _stage(f"statistics on {engine}, {documents:,} documents (tests.bench.generate)",
                      call)
    status, built, measured = value if value else (1, None, [])
    if built:
        name = "bench data: generate + load + indexes + VACUUM"
        row = rows_by_name.setdefault(name, Row("statistics at scale (generate bench)", name,
                                                "—", unit="docs/s"))
        total = built["stats"]["incoming"] + built["stats"]["outgoing"]
        row.set(engine, total / built["timings"]["total"], None, None, higher_is_better=True,
                note=f"{total:,} docs in {built['timings']['total']:.0f} s")
    for m in measured:
        label = m["name"].replace("GET /api/v1/stats ", "stats ")
        is_stats = m["group"] == "stats"
        row = rows_by_name.setdefault(label, Row(
            "statistics at scale (generate bench)", label,
            "raw SQL aggregates" if is_stats else "SQL time inside"))
        ref = m["reference"]["p50"] if is_stats else m.get("sql_seconds")
        row.set(engine, _ms(m.get("p50")), _ms(m.get("p95")), _ms(ref),
                note=m.get("note") or "")
    return status or 0


def run_login_flood(args, rows: list[Row]) -> int:
    section = "login flood (SQLite, flask run; tests.bench.login_flood)"

    def call():
        collected: list = []
        return login_flood.main(["--smoke"] if args.smoke else [], collect=collected), \
            collected
    value, _ = _stage("login flood (tests.bench.login_flood)", call)
    status, measured = value if value else (1, [])
    reference = next((times for name, times, _ in measured if name == "no flood"), None)
    ref_p50 = statistics.median(t for t, _ in reference) * 1000 if reference else None
    for name, times, _flood in measured:
        if name == "no flood":
            continue
        row = Row(section, f"registration during a {name}", "same, no flood")
        ms = [t * 1000 for t, _ in times]
        refused = sum(status != 201 for _, status in times)
        row.set("SQLite", statistics.median(ms), _p95(ms), ref_p50,
                note=f"{refused} not 201" if refused else "")
        rows.append(row)
    if not measured:
        row = Row(section, "registration during a login flood", "same, no flood")
        row.set("SQLite", note="not measured (see above)")
        rows.append(row)
    return status or 0


def run_load(url: str) -> int:
    value, _ = _stage("load test, smoke size (tests.bench.load)",
                      lambda: load.main(["--smoke", "--database-url", url]))
    return 1 if value is None else value


def run_reports_stats(url: str) -> int:
    value, _ = _stage("statistics API on PostgreSQL, smoke size (tests.reports.bench_stats)",
                      lambda: bench_stats.main(["--smoke", url]))
    return 1 if value is None else value


# --- main -------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DOCMGR_BENCH_DATABASE_URL"),
                        help="PostgreSQL bench database (name must contain 'bench'); also "
                             "DOCMGR_BENCH_DATABASE_URL. Without it: SQLite only")
    parser.add_argument("--documents", type=int, default=200_000,
                        help="PostgreSQL: incoming documents of the incoming bench and "
                             "documents of the statistics database (1000000 for the 1M run)")
    parser.add_argument("--sqlite-documents", type=int, default=50_000,
                        help="SQLite: the same two sizes")
    parser.add_argument("--search-docs", type=int, default=10_000)
    parser.add_argument("--search-queries", type=int, default=200)
    parser.add_argument("--signing-runs", type=int, default=20)
    parser.add_argument("--stats-calls", type=int, default=20)
    parser.add_argument("--only", default="signing,search,login,incoming,stats",
                        help="comma-separated subset of signing,search,login,incoming,stats "
                             "(--smoke: and load,reports)")
    args = data.parse(parser, argv, documents=300, sqlite_documents=300, search_docs=200,
                      search_queries=10, signing_runs=1, stats_calls=2,
                      only="signing,search,login,incoming,stats,load,reports")
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    if args.smoke and not args.database_url:
        args.database_url = os.environ.get("DOCMGR_TEST_DATABASE_URL")
    engines = [("SQLite", None, args.sqlite_documents)]
    if args.database_url:
        url = incoming.normalise_url(args.database_url)
        if incoming.is_sqlite(url):
            engines = [("SQLite", url, args.sqlite_documents)]
        else:
            engines.append(("PostgreSQL", url, args.documents))
    started = time.perf_counter()
    temp = Path(tempfile.mkdtemp(prefix="docmgr-bench-run-"))
    statuses, stage_rows, engine_rows = [], [], {}
    try:
        if "signing" in only:
            statuses.append(run_signing(args, stage_rows))
        if "search" in only:
            statuses.append(run_search(args, stage_rows))
        if "login" in only:
            statuses.append(run_login_flood(args, stage_rows))
        for engine, url, documents in engines:
            if "incoming" in only:
                target = url or f"sqlite:///{temp / 'incoming-bench.sqlite3'}"
                statuses.append(run_incoming(args, engine, target, documents, engine_rows))
            if "stats" in only:
                if url is None or incoming.is_sqlite(url):
                    target = f"sqlite:///{temp / 'stats-bench.sqlite3'}" if url is None else url
                elif data.is_test_database(url):
                    target = url  # one disposable database: reset again by generate.build
                else:
                    parsed = make_url(url)
                    target = parsed.set(database=f"{parsed.database}_stats") \
                        .render_as_string(hide_password=False)
                data_dir = temp / f"stats-data-{engine}"
                data_dir.mkdir(parents=True, exist_ok=True)
                statuses.append(run_stats(args, engine, target, documents, data_dir,
                                          engine_rows))
        postgres = next((url for engine, url, _ in engines if engine == "PostgreSQL"), None)
        if args.smoke and {"load", "reports"} & only:
            if postgres:
                if "load" in only:
                    statuses.append(run_load(postgres))
                if "reports" in only:
                    statuses.append(run_reports_stats(postgres))
            else:
                log("")
                log("!! load test and statistics API bench not run: they need PostgreSQL "
                    "(--database-url, DOCMGR_BENCH_DATABASE_URL or DOCMGR_TEST_DATABASE_URL)"
                    + (" — a failure under CI" if os.environ.get("CI") else ""))
                if os.environ.get("CI"):
                    statuses.append(1)
        rows = stage_rows + list(engine_rows.values())
        names = [engine for engine, _, _ in engines]
        if "PostgreSQL" not in names:
            names.append("PostgreSQL")
        log("")
        log("=" * 150)
        log("SUMMARY — docmgr benchmarks (times in ms unless the unit says otherwise; p50 = "
            "median; ratio = p50 / reference p50, so for docs/s a ratio below 1 means slower "
            "than the reference)")
        for line in incoming.machine(f"sqlite:///{temp / 'machine.sqlite3'}")[:1]:
            log(line)
        if len(engines) == 1:
            log("PostgreSQL: not run (give --database-url or DOCMGR_BENCH_DATABASE_URL, "
                "e.g. postgresql://postgres@127.0.0.1:5432/docmgr_bench)")
        log("")
        for line in summary_table(rows, names):
            log(line)
        log("")
        log(f"load average now {'/'.join(f'{v:.2f}' for v in os.getloadavg())}; total "
            f"{time.perf_counter() - started:.0f} s")
        if args.smoke:
            failed = sum(1 for status in statuses if status)
            log(f"SMOKE: {len(statuses)} benchmark runs, "
                + (f"{failed} FAILED (see the '!!' lines and their output above)" if failed
                   else "all ran") + f", in {time.perf_counter() - started:.0f} s")
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return max(statuses or [0])


if __name__ == "__main__":
    raise SystemExit(main())
