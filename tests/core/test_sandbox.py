"""Sandboxed workers: answers and errors come back, a job past its memory, CPU or wall-time
limit ends its worker (and only it), the next job gets a fresh one, lanes do not wait for
each other, and a forked process (a gunicorn worker) starts its own workers."""
import os
import signal
import socket
import threading
from contextlib import contextmanager

import pytest

from docmgr.core import sandbox, uploads
from docmgr.core.errors import UploadRejected
from tests.conftest import registration_form, upload
from tests.core import sandbox_jobs as jobs

LIMITS = sandbox.Limits(memory=512 << 20, cpu=5, wall=60)


@pytest.fixture
def lane():
    lane = sandbox.Lane("test", 2)
    yield lane
    lane.shutdown()


def test_answers_and_domain_errors_come_back(lane):
    assert lane.run(LIMITS, jobs.worker_pid) != os.getpid()
    with pytest.raises(UploadRejected) as caught:
        lane.run(LIMITS, jobs.refuse)
    assert caught.value.to_dict() == {"code": "upload_rejected", "message": "Tệp bị từ chối.",
                                      "field": "file", "reason": "test"}


def test_workers_stay_warm(lane):
    first = lane.run(LIMITS, jobs.worker_pid)
    assert lane.run(LIMITS, jobs.worker_pid) == first


def test_a_job_over_its_memory_limit_ends_and_the_next_job_runs(lane):
    before = lane.run(LIMITS, jobs.worker_pid)
    with pytest.raises(sandbox.LimitExceeded) as caught:
        lane.run(LIMITS, jobs.allocate, 1 << 30)
    assert caught.value.limit == "memory"
    after = lane.run(LIMITS, jobs.worker_pid)
    assert after != before  # a worker that ran out of memory is not trusted again
    assert lane.run(LIMITS, jobs.allocate, 100 << 20) == 100 << 20


def test_a_job_over_its_cpu_limit_is_killed_and_replaced(lane):
    before = lane.run(LIMITS, jobs.worker_pid)
    with pytest.raises(sandbox.LimitExceeded) as caught:
        lane.run(sandbox.Limits(memory=512 << 20, cpu=1, wall=120), jobs.spin)
    assert caught.value.limit == "cpu"
    assert lane.run(LIMITS, jobs.worker_pid) != before


def test_a_job_past_its_wall_time_is_killed(lane, tmp_path):
    with listening(tmp_path) as (address, _), pytest.raises(sandbox.TimedOut):
        lane.run(sandbox.Limits(memory=512 << 20, cpu=5, wall=0.5), jobs.hold, address)
    assert lane.run(LIMITS, jobs.allocate, 10) == 10


def test_a_busy_lane_answers_unavailable_instead_of_waiting_forever(tmp_path):
    lane = sandbox.Lane("single", 1)
    with listening(tmp_path) as (address, server), running(lane, jobs.hold, address):
        channel = started(server)  # the job ends when this closes
        with pytest.raises(sandbox.Unavailable):
            lane.run(sandbox.Limits(memory=512 << 20, cpu=5, wall=0.3), jobs.worker_pid)
        channel.close()
    lane.shutdown()


def test_a_forked_process_starts_its_own_workers(lane):
    parent_worker = lane.run(LIMITS, jobs.worker_pid)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # as a gunicorn worker forked from a master that ran jobs
        try:
            os.close(read_end)
            pid = lane.run(LIMITS, jobs.worker_pid)
            os.write(write_end, str(pid).encode())
            lane.shutdown()
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as answer:
        child_worker = int(answer.read() or 0)
    assert os.waitpid(child, 0)[1] == 0
    assert child_worker not in (0, parent_worker)
    assert lane.run(LIMITS, jobs.worker_pid) == parent_worker  # untouched by the child


def test_registration_is_not_held_up_by_long_jobs(api, pdf_bytes, tmp_path):
    """Every preview worker and one upload-check worker are busy with jobs that end only
    when the test says so; a clerk's registration still goes through meanwhile."""
    holders = [sandbox.PREVIEWS, sandbox.PREVIEWS, sandbox.CHECKS, sandbox.BACKGROUND]
    with listening(tmp_path) as (address, server), running_all(
            [(lane, jobs.hold, address) for lane in holders]) as threads:
        channels = [started(server) for _ in holders]
        r = api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                        "file": upload(pdf_bytes)})
        assert r.status_code == 201, r.json
        assert all(thread.is_alive() for thread in threads)  # still running
        for channel in channels:
            channel.sendall(b"g")


def test_a_check_that_finds_no_free_worker_answers_503(api, pdf_bytes, tmp_path, monkeypatch):
    lane = sandbox.Lane("checks-busy", 1)
    monkeypatch.setattr(sandbox, "CHECKS", lane)
    monkeypatch.setattr(uploads, "CHECK_LIMITS", sandbox.Limits(memory=1 << 30, cpu=20,
                                                                wall=0.5))
    with listening(tmp_path) as (address, server), running(lane, jobs.hold, address):
        channel = started(server)
        r = api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                        "file": upload(pdf_bytes)})
        channel.close()
    lane.shutdown()
    assert r.status_code == 503
    assert r.json["error"] == {"code": "busy", "message": uploads.MSG_BUSY, "field": "file"}


@contextmanager
def listening(tmp_path):
    address = str(tmp_path / "jobs.sock")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(address)
        server.listen()
        server.settimeout(60)
        yield address, server


def started(server) -> socket.socket:
    """The channel of the next job that reports it has started."""
    channel, _ = server.accept()
    assert channel.recv(7) == b"started"
    return channel


@contextmanager
def running(lane, function, *args):
    with running_all([(lane, function, *args)]) as threads:
        yield threads[0]


@contextmanager
def running_all(calls):
    threads = [threading.Thread(target=_run_quietly, args=call, daemon=True)
               for call in calls]
    for thread in threads:
        thread.start()
    try:
        yield threads
    finally:
        for thread in threads:
            thread.join(timeout=60)


def _run_quietly(lane, function, *args):
    try:
        lane.run(sandbox.Limits(memory=512 << 20, cpu=30, wall=60), function, *args)
    except sandbox.SandboxError:
        pass


def test_an_idle_worker_killed_from_outside_is_replaced_without_failing_the_job(lane):
    pid = lane.run(LIMITS, jobs.worker_pid)
    os.kill(pid, signal.SIGKILL)
    assert lane.run(LIMITS, jobs.worker_pid) not in (pid, os.getpid())
