"""docmgr.signing.pyhanko_patches: the fast hex-string reader reads every hex string exactly as
pyHanko's own reader does — same value, same string type and encoding, same stream position
after it, or the same exception type — on generated edge cases (always) and at every '<' of
every PDF in the shared corpus (when it is there). install() is idempotent, done by the app
factory, and refused on another pyHanko version; LoadedKeySigner signs as pyHanko does."""
import io
import logging
import random
import re
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.sign.signers import SimpleSigner

from docmgr import create_app
from docmgr.signing import pyhanko_patches
from docmgr.signing.pyhanko_patches import fast_hex_reader, pyhanko_hex_reader
from tests import corpus


def outcome(reader, data: bytes, start: int = 0):
    stream = io.BytesIO(data)
    stream.seek(start)
    try:
        value = reader(stream)
    except Exception as exc:  # noqa: BLE001 — the exception's type is what is compared
        return "raised", type(exc)
    return ("read", type(value), value, getattr(value, "autodetected_encoding", None),
            stream.tell())


def assert_reads_alike(data: bytes, start: int = 0) -> tuple:
    ours, theirs = outcome(fast_hex_reader, data, start), outcome(pyhanko_hex_reader, data, start)
    assert ours == theirs, (data[start:start + 60], start)
    return ours


# --- generated edge cases ------------------------------------------------------------------

LONG = bytes(range(256)).hex().encode() * 64  # 32 KB of digits, as a signature's /Contents
EDGE_CASES = {
    "empty": b"<>",
    "lowercase": b"<48656c6c6f>",
    "uppercase": b"<48656C6C6F>",
    "mixed case": b"<48656C6c6F>",
    "odd number of digits": b"<48656>",
    "one digit": b"<4>",
    **{f"whitespace {ws!r}": b"<48" + ws + b"65>" for ws in
       (b" ", b"\n", b"\r", b"\t", b"\f", b"\x00")},
    "newlines and indentation": b"<\r\n  48 65\n\t6c 6c\r\n6f\n>",
    "whitespace only": b"< \n\t>",
    "invalid letter": b"<48G5>",
    "invalid punctuation": b"<48-65>",
    "literal string inside": b"<48(65)>",
    "high byte": b"<48\x8065>",
    "nested <": b"<48<65>",
    "comment inside": b"<48 % a comment > with a bracket\n65>",
    "comment swallowing the end": b"<48%>",
    "unterminated at EOF": b"<4865",
    "only the opening bracket": b"<",
    "unterminated after whitespace": b"<48 \n",
    "followed by more objects": b"<4865> /Next 12 0 R >>",
    "UTF-16 text": b"<FEFF00480069>",
    "UTF-16, one byte short": b"<FEFF004800>",
    "UTF-16 with a lone surrogate": b"<FEFFD800>",
    "UTF-8 text": b"<EFBBBF48C3A9>",
    "PDFDocEncoding bytes": b"<80818283>",
    "zero padding, as /Contents": b"<3082" + b"0" * 4000 + b">",
    "long": b"<" + LONG + b">",
    "long with a line break every 64 digits": b"<" + b"\n".join(
        LONG[i:i + 64] for i in range(0, len(LONG), 64)) + b">",
    "long, odd": b"<" + LONG + b"A>",
    "long, invalid character at the end": b"<" + LONG + b"Z>",
    "long, unterminated": b"<" + LONG,
    "closing bracket at the chunk boundary": b"<" + b"a" * (pyhanko_patches.HEX_CHUNK_BYTES - 2)
                                             + b">",
    "closing bracket just past the chunk boundary": b"<" + b"a" * (
        pyhanko_patches.HEX_CHUNK_BYTES - 1) + b">",
}


@pytest.fixture(params=["as configured", "tiny chunks and limit"])
def chunking(request, monkeypatch):
    """Also read with 8-byte chunks and a 16-byte limit, so that multi-chunk reads and the
    hand-over to pyHanko's reader for over-long strings are exercised on every case."""
    if request.param != "as configured":
        monkeypatch.setattr(pyhanko_patches, "HEX_CHUNK_BYTES", 8)
        monkeypatch.setattr(pyhanko_patches, "HEX_MAX_BYTES", 16)
    return request.param


@pytest.mark.parametrize("data", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases_read_alike(data, chunking):
    assert_reads_alike(data)
    assert_reads_alike(b"/Contents " + data, start=len(b"/Contents "))


def test_the_edge_cases_cover_values_and_errors():
    results = {name: assert_reads_alike(data)[:2] for name, data in EDGE_CASES.items()}
    assert results["empty"] == ("read", generic.TextStringObject)
    assert results["long"] == ("read", generic.ByteStringObject)
    assert results["UTF-16 text"] == ("read", generic.TextStringObject)
    assert results["invalid letter"][0] == "raised"
    assert results["unterminated at EOF"][0] == "raised"


def test_random_strings_read_alike(chunking):
    rng = random.Random(20261201)
    alphabet = b"0123456789abcdefABCDEF \n\r\t\f\x00%<>()gZ\x80"
    for _ in range(2000):
        body = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        assert_reads_alike(b"<" + body + rng.choice([b">", b"", b"> >>"]))


# --- every '<' of the corpus ---------------------------------------------------------------

HEX_START = re.compile(rb"(?<!<)<(?!<)")  # not part of a dictionary's << or >>


@pytest.mark.parametrize("path", corpus.files("signed", "pdf"))
def test_every_hex_string_of_the_corpus_reads_alike(path):
    """Binary stream data is included on purpose: any byte after a '<' must read alike."""
    data = path.read_bytes()
    for match in HEX_START.finditer(data):
        assert_reads_alike(data, match.start())


# --- install -----------------------------------------------------------------------------

@pytest.fixture
def unpatched(monkeypatch):
    monkeypatch.setattr(generic, "read_hex_string_from_stream", pyhanko_hex_reader)


def test_install_is_idempotent(unpatched):
    assert not pyhanko_patches.installed()
    assert pyhanko_patches.install() and pyhanko_patches.install()
    assert generic.read_hex_string_from_stream is fast_hex_reader


def test_the_app_factory_installs_it(unpatched, tmp_path):
    create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                "DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "test", "TESTING": True,
                "INDEXER": "worker"})
    assert pyhanko_patches.installed()


def test_another_pyhanko_version_is_left_alone(unpatched, monkeypatch, caplog):
    monkeypatch.setattr(pyhanko_patches, "pyhanko_is_pinned", lambda: False)
    with caplog.at_level(logging.WARNING, logger=pyhanko_patches.__name__):
        assert pyhanko_patches.install() is False
    assert generic.read_hex_string_from_stream is pyhanko_hex_reader
    assert "written for " + pyhanko_patches.PINNED_PYHANKO in caplog.text


def test_the_pin_is_the_one_in_setup_cfg():
    setup_cfg = (Path(__file__).resolve().parents[2] / "setup.cfg").read_text()
    pinned = re.search(r"^\s*pyHanko\[[^\]]*\]==(\S+)", setup_cfg, re.MULTILINE)[1]
    assert pinned == pyhanko_patches.PINNED_PYHANKO
    assert pyhanko_patches.pyhanko_is_pinned()  # the environment runs what setup.cfg pins


# --- the signer ----------------------------------------------------------------------------

@pytest.mark.parametrize("pinned", [True, False], ids=["pinned pyHanko", "other pyHanko"])
def test_loaded_key_signer_signs_as_pyhanko_does(leader_credential, monkeypatch, pinned):
    monkeypatch.setattr(pyhanko_patches, "pyhanko_is_pinned", lambda: pinned)
    ours = leader_credential.signer()
    assert isinstance(ours, pyhanko_patches.LoadedKeySigner)
    theirs = SimpleSigner(signing_cert=ours.signing_cert, signing_key=ours.signing_key,
                          cert_registry=ours.cert_registry)
    data = "Quyết định số 15/QĐ-UBND".encode()
    # RSA PKCS#1 v1.5 is deterministic: the same key gives the same bytes.
    assert ours.sign_raw(data, "sha256") == theirs.sign_raw(data, "sha256")
