"""The worker side of ``docmgr.core.sandbox``: a fresh interpreter that runs one job at a
time under the job's memory and CPU-time limits.

Run as ``python -m docmgr.core.sandbox_worker PROTOCOL``. Jobs arrive on stdin and answers leave
on a private copy of stdout, each as an 8-byte length and a pickle (an answer is
preceded by one byte, ``TAKEN``, sent when the job has been read); anything a library
prints goes to stderr instead, so it can never corrupt an answer. The worker ends when
stdin closes, which is also what happens when its parent dies.
"""
import math
import os
import pickle
import resource
import struct
import sys

# Changes whenever the messages below change. A web process still running old code after
# a deploy would otherwise start workers from the new files and misread their answers;
# a worker started for another protocol exits at once instead.
PROTOCOL = "2"
HEADER = struct.Struct("!Q")
# Written as soon as a job has been read: a worker that dies before it did not die of
# the job.
TAKEN = b"\x01"
# Answers: ("ok", result), ("error", exception), ("memory", message).
OK, ERROR, MEMORY = "ok", "error", "memory"


def read_exactly(fd: int, size: int) -> bytes:
    """``size`` bytes from ``fd``, or EOFError if it closes first."""
    chunks, missing = [], size
    while missing:
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            raise EOFError("closed")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def write_message(fd: int, payload: bytes) -> None:
    # Header and payload written apart: joining them would copy an upload once more.
    for part in (HEADER.pack(len(payload)), payload):
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view):]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _soft(kind: int, value: int) -> None:
    """Sets only the soft limit, never above the hard one: the hard limits stay as the
    process got them (unlimited, or what systemd or ulimit set) so that the soft ones can
    be raised again for the next job; an unprivileged process can never raise a hard
    limit."""
    hard = resource.getrlimit(kind)[1]
    if hard != resource.RLIM_INFINITY and (value == resource.RLIM_INFINITY or value > hard):
        value = hard
    resource.setrlimit(kind, (value, hard))


def _limit(memory: int, cpu: float) -> None:
    """Limits for the next job. RLIMIT_CPU counts the process's whole life, hence the
    offset; crossing it sends SIGXCPU, whose default action ends the process."""
    _soft(resource.RLIMIT_AS, memory)
    _soft(resource.RLIMIT_CPU, math.ceil(_cpu_seconds() + cpu))


def _unlimit() -> None:
    _soft(resource.RLIMIT_AS, resource.RLIM_INFINITY)
    _soft(resource.RLIMIT_CPU, resource.RLIM_INFINITY)


def _answer(job: bytes) -> tuple[bytes, bool]:
    """The pickled answer to one job, and whether this worker must retire after it."""
    try:
        function, args, kwargs, memory, cpu = pickle.loads(job)
        _limit(memory, cpu)
        try:
            result = function(*args, **kwargs)
        finally:
            _unlimit()
        return pickle.dumps((OK, result)), False
    except MemoryError:
        _unlimit()
        # The heap may be fragmented or half-updated: a fresh worker takes the next job.
        return pickle.dumps((MEMORY, "out of memory")), True
    except Exception as exc:  # noqa: BLE001 - the caller decides what a job's error means
        _unlimit()
        try:
            return pickle.dumps((ERROR, exc)), False
        except Exception:  # noqa: BLE001 - an exception that cannot travel travels as text
            return pickle.dumps((ERROR, RuntimeError(f"{type(exc).__name__}: {exc}"))), False


def main() -> None:
    if sys.argv[1:] != [PROTOCOL]:
        sys.exit(f"sandbox worker protocol {PROTOCOL}, asked for {sys.argv[1:]}")
    # Library output (PDFium warnings, prints) must not land in the answer channel.
    answers = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed job leaves no core file
    while True:
        try:
            size = HEADER.unpack(read_exactly(0, HEADER.size))[0]
            job = read_exactly(0, size)
        except EOFError:
            return
        os.write(answers, TAKEN)
        answer, retire = _answer(job)
        del job
        write_message(answers, answer)
        if retire:
            return


if __name__ == "__main__":
    main()
