"""Real inputs that make signing fail, for the tests of the signing error boundary: a draft
encrypted with an empty user password (PDFium opens it, so the upload is accepted; pyHanko
cannot add an update to it) and a timestamp authority that refuses connections."""
import io
import socket
from contextlib import contextmanager

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer


def encrypted_copy(pdf: bytes) -> bytes:
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf)))
    writer.encrypt("mat-khau-chu-so-huu", "")  # anyone may open it, nobody may change it
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@contextmanager
def unreachable_tsa():
    """A loopback URL whose port is bound but not listening: connections are refused at
    once, and no other process can take the port meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/tsa"
