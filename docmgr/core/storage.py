"""Content-addressed blob store: a file is kept once, under its SHA-256.

Writes go to a temporary file in the same directory, are fsynced, then linked
into place, so a crash never leaves a half-written blob under a real name. The
database row that points at a blob is committed after the blob exists, so a row
never points at a missing file.

A blob written by a request that is then refused or fails must not stay on disk
(nothing of a refused request remains). Within a request the store keeps a
``BlobJournal``: the blobs the request created, and a shared ``flock`` on every
blob it wrote or reused, held until the request ends. When the request's
transaction does not commit, the boundary (core/transaction.py) asks the journal
to ``discard``: a blob is removed only if this request created it, no other
request holds it (an exclusive lock is granted), and no committed row names it.
A blob that existed before the request is never touched.

Files are private to the service account: blobs 0400 (owner, read-only: they
never change), directories 0700, whatever the process umask.
"""
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

BLOB_MODE = 0o400
DIR_MODE = 0o700
FILE_MODE = 0o600  # private files that may be rewritten (keys, caches)


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) owner-only; mkdir's mode obeys the umask,
    so the mode is set explicitly on each directory made here."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    path.mkdir(parents=True, exist_ok=True)
    for made in missing:
        os.chmod(made, DIR_MODE)


def write_private(target: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write ``data`` atomically to ``target`` (temporary file, then rename), ``mode``
    set on the file descriptor before the name appears."""
    private_dir(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class BlobJournal:
    """The blobs one request wrote or reused (see the module docstring)."""

    def __init__(self):
        self._held: list[int] = []  # fds with a shared lock, closed at the end
        self._created: list[tuple[Path, int]] = []

    def hold(self, fd: int) -> None:
        self._held.append(fd)

    def created(self, path: Path, fd: int) -> None:
        self._created.append((path, fd))

    def discard(self, referenced: Callable[[str], bool]) -> list[Path]:
        """Remove the blobs this request created that nobody else uses; ``referenced(sha)``
        tells whether a committed row names one (if it cannot tell, it must say True).
        Returns the paths removed. Releases every lock."""
        removed = []
        try:
            for path, fd in self._created:
                if _removable(path, fd, referenced):
                    path.unlink()
                    _fsync_dir(path.parent)
                    removed.append(path)
        finally:
            self.release()
        return removed

    def release(self) -> None:
        """The request ended with its rows stored: keep everything, release the locks."""
        fds, self._held, self._created = self._held, [], []
        for fd in fds:
            os.close(fd)


def _removable(path: Path, fd: int, referenced) -> bool:
    try:
        # Another request that reuses this blob holds a shared lock until it ends.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    if not _same_file(path, fd):
        return False
    # A request that reused the blob and has already committed released its lock: its
    # row is what keeps the file.
    return not referenced(path.name)


def _same_file(path: Path, fd: int) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


class BlobStore:
    def __init__(self, root: str | Path,
                 journal: Callable[[], BlobJournal | None] | None = None):
        """``journal()`` gives the current request's journal (None outside a request:
        commands, restores and tests write without one)."""
        self.root = Path(root)
        private_dir(self.root)
        self._journal = journal

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        journal = self._journal() if self._journal is not None else None
        while True:
            if target.exists():
                if journal is None or self._hold_existing(target, journal):
                    return digest
                continue  # removed by a refused request meanwhile: write it again
            if self._write_new(target, data, journal):
                return digest
            # Another request linked the same content first: use theirs.

    def _hold_existing(self, target: Path, journal: BlobJournal) -> bool:
        try:
            fd = os.open(target, os.O_RDONLY)
        except FileNotFoundError:
            return False
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a refused request decides to remove it
        if not _same_file(target, fd):
            os.close(fd)
            return False
        journal.hold(fd)
        return True

    def _write_new(self, target: Path, data: bytes, journal: BlobJournal | None) -> bool:
        private_dir(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        keep_fd = False
        try:
            os.fchmod(fd, BLOB_MODE)
            with open(fd, "wb", closefd=False) as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if journal is not None:
                fcntl.flock(fd, fcntl.LOCK_SH)  # before the name appears
            try:
                # link, not rename: never replaces a blob another request just created
                # (its lock would then guard a file no longer under this name).
                os.link(tmp, target)
            except FileExistsError:
                return False
            _fsync_dir(target.parent)
            if journal is not None:
                journal.created(target, fd)
                journal.hold(fd)
                keep_fd = True
            return True
        finally:
            Path(tmp).unlink(missing_ok=True)
            if not keep_fd:
                os.close(fd)

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
