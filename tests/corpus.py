"""Where test files come from: ``tests/data`` (committed, always there) or the shared corpus
(optional, for the ``corpus`` tests).

``tests/data`` holds a small, redistributable slice of the corpus, mirrored at the same
relative paths (``signed/eu-dss/pdf-signed-original.pdf`` …) and listed with origin,
licence and SHA-256 in ``tests/data/SOURCES.md``. Every test can rely on it.

The whole corpus (~23 MB, not every file redistributable) lives outside the repository:
``$DOCMGR_CORPUS``, or else ``../shared/corpus`` beside the clone. Tests that need it carry
``@pytest.mark.corpus``; ``tests/conftest.py`` skips them when the corpus is absent (fails
them under ``CI``) and prints one summary line. Nothing here touches the disk at import
beyond listing directories, so a bare clone collects cleanly.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"

MARK = pytest.mark.corpus

# Set by tests/conftest.py around each test: whether the running test is a corpus test.
# A file missing from tests/data is only handed to corpus tests, so a test that forgot its
# marker fails everywhere instead of passing in CI (which has the corpus) and failing on
# a bare clone.
_corpus_test_running = False


def location() -> Path:
    """Where the corpus is expected (it may not exist)."""
    configured = os.environ.get("DOCMGR_CORPUS")
    return Path(configured) if configured else REPO.parent / "shared" / "corpus"


def configured_explicitly() -> bool:
    return bool(os.environ.get("DOCMGR_CORPUS"))


def available() -> bool:
    return location().is_dir()


def data(relative: str) -> Path:
    """A committed test file (tests/data/<relative>)."""
    path = DATA / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not committed: add it to tests/data and "
                                "tests/data/SOURCES.md, or make the test a corpus test")
    return path


def path(relative: str) -> Path:
    """tests/data/<relative> when committed, else the corpus file (corpus tests only)."""
    committed = DATA / relative
    if committed.is_file():
        return committed
    if not _corpus_test_running:
        raise FileNotFoundError(
            f"{relative} is not in tests/data: mark the test @pytest.mark.corpus "
            "(it then needs the corpus) or commit the file to tests/data")
    return location() / relative


def marks(relative: str) -> tuple:
    """Marks for a parameter that reads ``relative``: none if committed, else ``corpus``."""
    return () if (DATA / relative).is_file() else (MARK,)


def param(relative: str, value=None, **kwargs):
    """A parameter reading one file (``value``, default: its path): a committed file runs
    everywhere, any other makes that case a corpus test."""
    kwargs.setdefault("id", relative)
    committed = (DATA / relative).is_file()
    if value is None:
        value = (DATA if committed else location()) / relative
    return pytest.param(value, marks=marks(relative), **kwargs)


def files(*folders: str, pattern: str = "*.pdf", committed: bool = True):
    """Parameters for a test over whole folders (recursively).

    The committed files (tests/data/<folder>, unless ``committed=False``) run everywhere;
    every corpus file runs as a corpus test. Without the corpus, one placeholder stands
    for them, so the corpus tests are counted (and skipped, or failed under CI) instead of
    vanishing from the run.
    """
    params = []
    if committed:
        for folder in folders:
            for file in sorted((DATA / folder).rglob(pattern)):
                params.append(pytest.param(file, id=f"data/{file.relative_to(DATA)}"))
    root = location()
    if root.is_dir():
        for folder in folders:
            if not (root / folder).is_dir():  # a partial corpus: fail, do not shrink
                params.append(pytest.param(root / folder, id=f"{folder}-missing", marks=MARK))
            for file in sorted((root / folder).rglob(pattern)):
                relative = file.relative_to(root)
                if committed and (DATA / relative).is_file():
                    continue  # the same bytes, already a parameter above
                params.append(pytest.param(file, id=str(relative), marks=MARK))
    else:
        params.append(pytest.param(None, id="corpus-absent", marks=MARK))
    return params
