"""Heavy PDF work in worker processes with memory, CPU-time and wall-time limits.

PDFium decodes whatever a file asks it to: a hostile file can make it take gigabytes of
memory or minutes of CPU. Rendering, text extraction, OCR and the upload check therefore
never run in the web process. ``run`` hands a job (a module-level function and its
arguments) to a warm worker of a *lane*; inside, the worker sets the job's address-space
(RLIMIT_AS) and CPU-time (RLIMIT_CPU) limits, and the caller kills it when the wall-time
limit passes. A worker that dies is replaced for the next job; the web process never
holds a file's decoded data, so its memory stays flat whatever the file.

Lanes keep kinds of work from queueing behind each other: a slow preview or a long
OCR never delays the check of a clerk's upload.

Workers are fresh interpreters started with ``subprocess`` (like multiprocessing's
"spawn"), never ``fork()``ed from the web process: that process is threaded and has
PDFium loaded, and a fork copies whatever lock another thread holds at that moment,
PDFium's state mid-call included. A forkserver would avoid that too, but multiprocessing's
bookkeeping (daemonic children terminated at exit, the resource tracker) misbehaves
across gunicorn's own fork of the application. Starting a worker costs about 0.3 s,
once: workers are kept for ``MAX_JOBS`` jobs. Pools belong to one process and start on
first use; a forked child (a gunicorn worker) forgets its parent's pool and starts its
own. Each worker is single-threaded, so PDFium needs no lock there.
"""
import atexit
import logging
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass

from docmgr.core.sandbox_worker import (
    ERROR,
    HEADER,
    MEMORY,
    PROTOCOL,
    TAKEN,
    write_message,
)

log = logging.getLogger(__name__)

# A worker retires after this many jobs, so that slow leaks (caches PDFium keeps, heap
# fragmentation) cannot pile up; a fresh one costs one interpreter start.
MAX_JOBS = 200
# The largest answer accepted from a worker (page images and texts are far smaller).
MAX_ANSWER = 256 << 20


@dataclass(frozen=True)
class Limits:
    memory: int  # bytes of address space for the worker during the job
    cpu: float  # seconds of CPU time
    wall: float  # seconds from the moment a worker takes the job


class SandboxError(Exception):
    """A job did not give an answer."""


class LimitExceeded(SandboxError):
    """The job crossed its memory or CPU limit, or killed its worker: it will do the same
    next time, so the file it worked on should be marked rather than tried again.
    ``limit`` is "memory", "cpu" or "crash"."""

    def __init__(self, limit: str, detail: str = ""):
        why = _WHY.get(limit, limit)
        super().__init__(f"the job {why}{': ' + detail if detail else ''}")
        self.limit = limit


_WHY = {"memory": "ran out of its memory limit", "cpu": "ran out of its CPU-time limit",
        "crash": "killed its worker (PDFium aborts when an allocation fails under the "
                 "memory limit)"}


class TimedOut(SandboxError):
    """The wall-time limit passed first. With wall time well above CPU time this means a
    busy machine more than a costly file: worth trying again later."""


class Unavailable(SandboxError):
    """No worker could be started, or none became free in time."""


class _NotStarted(Exception):
    """The worker was gone before it read the job."""


class _Worker:
    def __init__(self):
        # The worker imports what the parent can import, whatever the current directory.
        path = [entry or os.getcwd() for entry in sys.path]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path),
               # tesseract (run by OCR jobs) otherwise starts a thread per core.
               "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "docmgr.core.sandbox_worker", PROTOCOL],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)
        self.jobs = 0

    def call(self, function, args, kwargs, limits: Limits) -> tuple[str, object]:
        """(OK, result) or (ERROR, the exception the job raised)."""
        payload = pickle.dumps((function, args, kwargs, limits.memory, limits.cpu))
        deadline = time.monotonic() + limits.wall
        try:
            write_message(self.process.stdin.fileno(), payload)
        except OSError as exc:
            raise _NotStarted(str(exc)) from exc
        del payload
        self.jobs += 1
        try:
            if self._read(1, deadline) != TAKEN:
                raise EOFError
        except EOFError:
            raise _NotStarted("the worker ended before it read the job") from None
        try:
            size = HEADER.unpack(self._read(HEADER.size, deadline))[0]
            if size > MAX_ANSWER:
                raise LimitExceeded("memory", f"answer of {size} bytes")
            kind, value = pickle.loads(self._read(size, deadline))
        except EOFError:
            raise self._death("no answer") from None
        if kind == MEMORY:
            raise LimitExceeded("memory", value)
        return kind, value

    def _read(self, size: int, deadline: float) -> bytes:
        fd, chunks, missing = self.process.stdout.fileno(), [], size
        poller = select.poll()  # not select(): a busy server may hold fds above 1024
        poller.register(fd, select.POLLIN)
        while missing:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                self.kill()
                raise TimedOut("the job ran past its wall-time limit")
            chunk = os.read(fd, min(missing, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def _death(self, what: str) -> SandboxError:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        if code == -signal.SIGXCPU:
            return LimitExceeded("cpu")
        if code == -signal.SIGKILL:  # during a job, not ours: the kernel's OOM killer
            return LimitExceeded("memory", "killed")
        # PDFium aborts (SIGTRAP, SIGABRT, SIGSEGV) when an allocation fails under
        # RLIMIT_AS; a plain crash on a broken file would recur just the same.
        return LimitExceeded("crash", f"{what}, exit status {code}")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._close()

    def stop(self) -> None:
        """Ends an idle worker: closing stdin tells it to exit."""
        self._close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()

    def _close(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass

    def forget(self) -> None:
        """In a forked child: drop this parent's worker without touching the process."""
        self._close()
        self.process.returncode = 0  # so that Popen never waits for another's child


class Lane:
    """Up to ``size`` workers for one kind of work, started on demand and kept warm."""

    def __init__(self, name: str, size: int):
        self.name, self.size = name, size
        self._reset()
        _ALL_LANES.add(self)

    def _reset(self):
        self._pid = os.getpid()
        self._free = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()  # idle and busy, so a forked child can drop them
        self._count = 0

    def run(self, limits: Limits, function, *args, **kwargs):
        """``function(*args, **kwargs)`` in a worker of this lane; its own exceptions are
        raised here, LimitExceeded / TimedOut / Unavailable when it gives no answer.
        Waits at most ``limits.wall`` for a free worker, then as long again for the job."""
        for attempt in (1, 2):
            worker = self._acquire(limits.wall)
            try:
                kind, value = worker.call(function, args, kwargs, limits)
                break
            except _NotStarted as exc:
                # An idle worker died (killed from outside, say): the job never ran, so
                # it says nothing about the job; one fresh worker is tried.
                self._discard(worker)
                if attempt == 2:
                    raise Unavailable(f"no {self.name} worker took the job: {exc}") from exc
            except BaseException:
                # Interrupted mid-job (or dead): its next answer could be this job's.
                self._discard(worker)
                raise
        self._release(worker)
        if kind == ERROR:
            raise value
        return value

    def _acquire(self, wait: float) -> _Worker:
        if self._pid != os.getpid():
            self._after_fork()  # done at fork already (register_at_fork); cheap to check
        deadline = time.monotonic() + wait
        with self._free:
            while True:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive:
                        return worker
                    worker.kill()
                    self._all.discard(worker)
                    self._count -= 1
                if self._count < self.size:
                    self._count += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._free.wait(remaining):
                    raise Unavailable(f"no {self.name} worker became free in {wait:g} s")
        try:
            worker = _Worker()
        except OSError as exc:
            with self._free:
                self._count -= 1
                self._free.notify()
            raise Unavailable(f"a {self.name} worker could not be started: {exc}") from exc
        self._all.add(worker)
        return worker

    def _release(self, worker: _Worker) -> None:
        if worker.jobs >= MAX_JOBS:
            self._discard(worker, stop=True)
            return
        with self._free:
            self._idle.append(worker)
            self._free.notify()

    def _discard(self, worker: _Worker, *, stop: bool = False) -> None:
        worker.stop() if stop else worker.kill()
        with self._free:
            self._all.discard(worker)
            self._count -= 1
            self._free.notify()

    def shutdown(self) -> None:
        with self._free:
            idle, self._idle = self._idle, []
            self._all.difference_update(idle)
            self._count -= len(idle)
        for worker in idle:
            worker.stop()

    def _after_fork(self) -> None:
        for worker in self._all:
            worker.forget()
        self._reset()


_ALL_LANES: "weakref.WeakSet[Lane]" = weakref.WeakSet()

# Upload checks: what a clerk waits for when registering.
CHECKS = Lane("checks", 2)
# Page images for the browser.
PREVIEWS = Lane("previews", 2)
# The indexer's text extraction and OCR: nobody waits on it.
BACKGROUND = Lane("background", 1)


def shutdown() -> None:
    for lane in list(_ALL_LANES):
        lane.shutdown()


def _after_fork_in_child() -> None:
    for lane in list(_ALL_LANES):
        lane._after_fork()


atexit.register(shutdown)
os.register_at_fork(after_in_child=_after_fork_in_child)
