"""tests/data is part of the project: every file there is listed in tests/data/SOURCES.md
with its size, SHA-256 and licence, and nothing without a redistribution licence is copied."""
import hashlib
import re

from tests.corpus import DATA

ROW = re.compile(r"^\| `(?P<file>[^`]+)` \| (?P<size>\d+) \| (?P<src>S\d+) \| (?P<licence>[^|]+) "
                 r"\| `(?P<sha256>[0-9a-f]{64})` \|")
LICENCES = {"MIT", "Apache-2.0", "LGPL-2.1", "CC-BY-4.0", "CC-BY-SA-4.0", "public legal text",
            "AGPL-3.0-or-later"}  # the last: files this project made itself
NOT_REDISTRIBUTABLE = ("edxml/", "ocr/", "vn-text/binhduong")
MAX_BYTES = 4 * 1024 * 1024  # "a few MB": grow it only for a good reason


def listed() -> dict[str, dict]:
    rows = {}
    for line in (DATA / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows[match["file"]] = match.groupdict()
    return rows


def committed() -> dict[str, bytes]:
    return {p.relative_to(DATA).as_posix(): p.read_bytes() for p in DATA.rglob("*")
            if p.is_file() and p.name != "SOURCES.md" and "__pycache__" not in p.parts}


def test_every_file_is_listed_with_its_checksum_and_licence():
    rows, files = listed(), committed()
    assert sorted(files) == sorted(rows)
    for name, data in files.items():
        row = rows[name]
        assert int(row["size"]) == len(data), name
        assert row["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert row["licence"].strip() in LICENCES, name


def test_nothing_without_a_redistribution_licence():
    assert not [name for name in committed() if name.startswith(NOT_REDISTRIBUTABLE)]


def test_the_committed_set_stays_small():
    assert sum(len(data) for data in committed().values()) < MAX_BYTES
