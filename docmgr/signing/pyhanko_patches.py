"""Where docmgr reaches into pyHanko beyond its public API, and why — in one place.

Two speed-ups, both measured, both tied to the pyHanko release pinned in setup.cfg, and
one correction:

* ``install()`` swaps pyHanko's hex-string reader for one that reads a whole string at once.
  It replaces a module function, so it is process-wide and explicit: the app factory calls
  it, and so does anything that validates or signs without an app (benchmarks, scripts).
  Without it everything still works, only slower.
* ``LoadedKeySigner`` parses the RSA key once per signing call instead of once per signature.
* ``PdfSignerAt`` writes a given signing time (the office's zone, +07:00) into ``/M``; pyHanko
  takes the server's local zone, so a Vietnamese office on a UTC server showed 09:10 for 16:10.

Upgrading pyHanko: run tests/signing/test_pyhanko_patches.py, re-measure, then move
``PINNED_PYHANKO``. On any other version ``install()`` leaves pyHanko alone and logs a
warning, and ``LoadedKeySigner`` behaves as pyHanko's own ``SimpleSigner``.
"""
import binascii
import functools
import logging
import re
from datetime import datetime
from importlib import metadata

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.pdf_utils import generic
from pyhanko.sign import signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.signers.pdf_signer import PdfSigningSession

log = logging.getLogger(__name__)

PINNED_PYHANKO = "0.38.0"  # the pin in setup.cfg; a test keeps the two equal

# --- the hex-string reader -------------------------------------------------------------------
#
# pyHanko 0.38 reads a hex string one byte per Python call (read_non_whitespace, then a
# membership test, per digit): ≈1.4 µs a digit. A signature's /Contents is one hex string of
# twice the reserved size: 24 KB for ours, 48 KB with a timestamp, up to 256 KB in Công báo
# files. Measured on this project's 2-core machine: reading the 256 KB /Contents of
# chi-thi-21-CT-TTg.pdf took 356 ms with pyHanko's reader and 11 ms with this one; validating
# that file took 511 ms and 138 ms. The replacement reads the string in one go and returns
# what pyHanko would; anything it is not sure about (a comment, a character that is not a
# hex digit or whitespace, no closing '>', a string beyond HEX_MAX_BYTES) goes to pyHanko's
# own reader, so errors and odd cases stay exactly pyHanko's.

HEX_CHUNK_BYTES = 1 << 16
HEX_MAX_BYTES = 1 << 26
_HEX_BODY = re.compile(rb"[0-9A-Fa-f \n\r\t\f\x00]*")  # digits and PDF whitespace, nothing else
_HEX_WHITESPACE = re.compile(rb"[ \n\r\t\f\x00]+")

pyhanko_hex_reader = generic.read_hex_string_from_stream  # pyHanko's own, kept for _defer


def fast_hex_reader(stream):
    """``generic.read_hex_string_from_stream`` without a Python call per digit. ``stream``
    is positioned on the opening '<'; it is left just after the closing '>'."""
    start = stream.tell()
    buf = b""
    end = -1
    while end < 0:
        chunk = stream.read(HEX_CHUNK_BYTES)
        if not chunk or len(buf) > HEX_MAX_BYTES:
            return _defer(stream, start)
        buf += chunk
        end = buf.find(b">", 1)
    body = buf[1:end]
    if _HEX_BODY.fullmatch(body) is None:
        return _defer(stream, start)
    digits = _HEX_WHITESPACE.sub(b"", body)
    if len(digits) % 2:
        digits += b"0"  # as pyHanko (and the PDF specification): a missing last digit is 0
    stream.seek(start + end + 1)
    return generic.pdf_string(binascii.unhexlify(digits))


def _defer(stream, start: int):
    stream.seek(start)
    return pyhanko_hex_reader(stream)


@functools.cache
def pyhanko_is_pinned() -> bool:
    return metadata.version("pyHanko") == PINNED_PYHANKO


def installed() -> bool:
    return generic.read_hex_string_from_stream is fast_hex_reader


def install() -> bool:
    """Use the fast hex-string reader in this process. Idempotent; True when it is in use."""
    if installed():
        return True
    if not pyhanko_is_pinned():
        log.warning("pyHanko %s is installed but docmgr's patches were written for %s; "
                    "pyHanko's own hex-string reader stays (slower validation).",
                    metadata.version("pyHanko"), PINNED_PYHANKO)
        return False
    generic.read_hex_string_from_stream = fast_hex_reader
    return True


# --- the signer ------------------------------------------------------------------------------

class LoadedKeySigner(signers.SimpleSigner):
    """pyHanko re-parses (and re-validates) an RSA key for every signature, ~60 ms; the key
    came out of our authenticated encryption, so it is parsed once per signing call. Only
    ``sign_raw`` is overridden (public API), and only on the pinned pyHanko."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._rsa = None
        if self.signing_key.algorithm == "rsa" and pyhanko_is_pinned():
            self._rsa = serialization.load_der_private_key(
                self.signing_key.dump(), password=None, unsafe_skip_rsa_key_validation=True)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if self._rsa is None or mechanism != "rsassa_pkcs1v15":
            return super().sign_raw(data, digest_algorithm)
        return self._rsa.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


# --- the signing time ------------------------------------------------------------------------

class PdfSignerAt(signers.PdfSigner):
    """A ``PdfSigner`` whose signature dictionary carries ``signing_time`` as ``/M`` (with its
    zone offset, D:20270105161000+07'00') instead of the server's local time.

    pyHanko 0.38 has no parameter for it: a signing session takes ``datetime.now`` in the
    zone of ``tzlocal`` when it is created, and uses that ``system_time`` for ``/M``, the CMS
    signing-time attribute (UTC there, so the same instant) and the stamp text. The session
    is public API (``init_signing_session``); only its attribute is set here."""

    def __init__(self, *args, signing_time: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.signing_time = signing_time

    def init_signing_session(self, pdf_out, existing_fields_only=False) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only)
        session.system_time = self.signing_time
        return session
