"""``make bench``: every benchmark, one after the other, each printing its own table.

    .venv/bin/python -m tests.bench.run [--database-url URL] [--documents N]

Signing runs in a temporary data directory; the incoming benchmark builds its volume in a
dedicated database (PostgreSQL ``docmgr_bench`` or a SQLite file whose name says bench).
"""
import argparse

from tests.bench import incoming, signing


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--documents", type=int, default=None)
    args = parser.parse_args(argv)
    status = signing.main([])
    incoming_args = []
    if args.database_url:
        incoming_args += ["--database-url", args.database_url]
    if args.documents:
        incoming_args += ["--documents", str(args.documents)]
    return status or incoming.main(incoming_args)


if __name__ == "__main__":
    raise SystemExit(main())
