"""Where an index lives on disk, who may write it, and how a rebuilt one replaces it.

``DATA_DIR/index/<backend>/`` holds the index with a marker naming its backend and schema;
``<backend>.lock`` is the one-writer lock (an OS lock, so it is released when a process
dies); ``<backend>.generation`` changes whenever a rebuilt index is swapped in, which tells
every reading process to reopen.
"""
import fcntl
import json
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

from docmgr.core.storage import private_dir
from docmgr.search.backend import Backend, IndexUnavailable
from docmgr.search.engines import open_backend

SCHEMA_VERSION = 3  # 2: Tantivy folds in Rust; 3: recency orders equals
MARKER = "docmgr-index.json"


class IndexStore:
    def __init__(self, data_dir: Path, backend: str):
        self.backend = backend
        self.root = Path(data_dir) / "index"
        self.path = self.root / backend
        self._reader: Backend | None = None
        self._reader_generation: str | None = None
        self._reader_lock = threading.Lock()

    # --- reading ------------------------------------------------------------------------

    def generation(self) -> str:
        try:
            return (self.root / f"{self.backend}.generation").read_text()
        except FileNotFoundError:
            return ""

    def reader(self) -> Backend:
        """The index for searching, reopened after a rebuild. Raises IndexUnavailable."""
        generation = self.generation()
        with self._reader_lock:
            if self._reader is None or generation != self._reader_generation:
                if self._reader is not None:
                    self._reader.close()
                    self._reader = None
                self._reader = self.open(self.path)
                self._reader_generation = generation
            return self._reader

    def forget_reader(self) -> None:
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
            self._reader = None

    def open(self, path: Path, *, create: bool = False) -> Backend:
        marker = path / MARKER
        if not create or marker.exists():
            try:
                found = json.loads(marker.read_text())
            except (OSError, ValueError):
                raise IndexUnavailable(f"no usable index in {path}") from None
            if found != {"backend": self.backend, "schema": SCHEMA_VERSION}:
                raise IndexUnavailable(f"the index in {path} is of another kind: {found}")
        backend = open_backend(self.backend, path, create=create)
        if create and not marker.exists():
            marker.write_text(json.dumps({"backend": self.backend, "schema": SCHEMA_VERSION}))
        return backend

    # --- writing ------------------------------------------------------------------------

    @contextmanager
    def writer_lock(self, *, wait: bool = True):
        """The single-writer lock; with ``wait=False`` yields False when someone else
        holds it."""
        private_dir(self.root)
        with open(self.root / f"{self.backend}.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def fresh(self) -> tuple[Path, Backend]:
        """An empty index beside the live one, to be filled and then swapped in."""
        path = self.root / f"{self.backend}.new"
        _remove(path)
        return path, self.open(path, create=True)

    def swap(self, new_path: Path) -> None:
        """Replace the live index with the one at ``new_path``: two renames, then a new
        generation so readers reopen. A crash in between leaves either index usable or,
        at worst, none — which the indexer detects and rebuilds."""
        old = self.root / f"{self.backend}.old"
        _remove(old)
        if self.path.exists():
            os.replace(self.path, old)
        os.replace(new_path, self.path)
        generation = self.root / f"{self.backend}.generation"
        tmp = generation.with_suffix(".tmp")
        tmp.write_text(os.urandom(8).hex())
        os.replace(tmp, generation)
        _remove(old)


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
