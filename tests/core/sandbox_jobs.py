"""Jobs for the sandbox tests: module-level functions, so that a worker can import them."""
import os
import socket

from docmgr.core.errors import UploadRejected


def worker_pid() -> int:
    return os.getpid()


def refuse() -> None:
    raise UploadRejected("Tệp bị từ chối.", field="file", reason="test")


def allocate(size: int) -> int:
    return len(bytearray(size))


def spin() -> None:
    while True:
        pass


def hold(address: str) -> int:
    """Tells the test at ``address`` (a Unix socket) that it runs, then waits until the
    test answers or goes away: a long job whose end the test decides, without sleeping."""
    with socket.socket(socket.AF_UNIX) as channel:
        channel.connect(address)
        channel.sendall(b"started")
        channel.recv(1)
    return os.getpid()
