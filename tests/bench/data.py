"""The Vietnamese text the benchmarks are built from, and the smoke switch.

Real runs read the shared corpus (``$DOCMGR_CORPUS`` or ``../shared/corpus``, folder
``vn-text``): thousands of real subjects and numbers, the law texts. Without it a real run
stops with a message — figures from a 40-record sample would mislead. A smoke run
(``--smoke``: tiny sizes, proves the benchmark still works) takes the committed sample
``tests/data/vn-text/congbao-legal-sample.jsonl.gz`` instead when the corpus is absent.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from tests import corpus

SAMPLE = corpus.DATA / "vn-text" / "congbao-legal-sample.jsonl.gz"

# Set by each benchmark's --smoke: the committed sample may stand in for the corpus.
smoke = False


def enable_smoke() -> None:
    global smoke
    smoke = True


def vn_text(name: str) -> Path | None:
    """corpus/vn-text/<name>, or None if the corpus is absent and this is a smoke run."""
    path = corpus.location() / "vn-text" / name
    if path.is_file():
        return path
    if smoke:
        return None
    sys.exit(f"{path} not found: the benchmarks need the shared corpus (set DOCMGR_CORPUS, or "
             "put it at ../shared/corpus); `--smoke` runs without it on a committed sample.")


def read_jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def sample_records() -> list[dict]:
    return list(read_jsonl(SAMPLE))


def sample_articles() -> list[tuple[str, str]]:
    """(title, text) of each "Điều" of the sample's texts: short law articles."""
    articles = []
    for record in sample_records():
        for part in re.split(r"\n\s*(?=Điều \d+\.)", record.get("text") or ""):
            head, _, body = part.strip().partition("\n")
            match = re.match(r"Điều \d+\.\s*(.+)", head)
            if match and body.strip():
                articles.append((match.group(1).strip(), " ".join(body.split())))
    return articles


def parse(parser: argparse.ArgumentParser, argv, **smoke_defaults) -> argparse.Namespace:
    """``parser.parse_args(argv)`` plus ``--smoke``, which turns the defaults into
    ``smoke_defaults`` (options given explicitly still win) and allows the sample."""
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, seconds: proves the benchmark still runs (CI); "
                             "works without the corpus")
    if parser.parse_known_args(argv)[0].smoke:
        parser.set_defaults(**smoke_defaults)
        enable_smoke()
    return parser.parse_args(argv)


def is_test_database(url: str) -> bool:
    """Whether ``url`` is the test suite's database, which the suite already empties at will
    (its schema is dropped at every run): smoke runs may reset it too."""
    from sqlalchemy.engine import make_url
    test_url = os.environ.get("DOCMGR_TEST_DATABASE_URL")
    if not test_url or url.startswith("sqlite"):
        return False
    a, b = make_url(url), make_url(test_url)
    return (a.host, a.port or 5432, a.database) == (b.host, b.port or 5432, b.database)


def reset_schema(url: str) -> None:
    """Empty the test database the way the suite does (DROP SCHEMA public CASCADE)."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
