"""Signature dictionaries found in the raw bytes, for files pyHanko cannot read and for
signatures no field of the document points to.

Signature dictionaries are never inside compressed object streams (their /Contents must sit
in the file for /ByteRange to skip it), so a scan of the bytes sees them all. What changed
after such a signature cannot be analysed without the file's structure; ``coverage`` only
tells whether the signed ranges are the whole file or end exactly at an %%EOF.
"""
from __future__ import annotations

import binascii
import itertools
import re
from dataclasses import dataclass
from datetime import datetime

from pyhanko.pdf_utils import generic

from docmgr.core.errors import ValidationFailed
from docmgr.core.pdf_syntax import unescape
from docmgr.signing.validation import notes

# A /ByteRange is four integers: even with ten-digit offsets and generous spacing they fit in
# far less than this. A longer array is no signature anyone made, and pyHanko's pure-Python
# parser reads it at about 2 µs a byte (a 3 MB array: 7 s of CPU here, 13 s on the probe's
# machine), so such a file is refused before pyHanko sees it.
MAX_BYTE_RANGE_TEXT = 256
# Signature dictionaries or signature fields in one file (the shared corpus has at most 6).
MAX_SIGNATURES = 50
_BYTERANGE_START = re.compile(rb"/ByteRange\s*\[")
_SIGNATURE_FIELD = re.compile(rb"/FT\s*/Sig(?![A-Za-z0-9])")

_BYTERANGE = re.compile(rb"/ByteRange\s*\[([0-9\s+-]{0,200})\]")
_CONTENTS = re.compile(rb"/Contents\s*<([0-9A-Fa-f\s]*)>")
_TYPE = re.compile(rb"/Type\s*/([A-Za-z]+)")
_SIGNING_TIME = re.compile(rb"/M\s*\(([^)]{0,64})\)")
_OBJ_HEADER = re.compile(rb"(\d+)\s+(\d+)\s+$")
_FIELD_NAME = re.compile(rb"/T\s*\(((?:\\.|[^\\)]){0,256})\)")
_EOF_TAIL = re.compile(rb"%%EOF\s*$")
_WS = re.compile(rb"\s+")


@dataclass
class RawSignature:
    byte_range: tuple
    contents: bytes  # the DER value, padding removed
    contents_hex: bytes
    type: str  # "Sig" or "DocTimeStamp"
    obj: tuple[int, int] | None  # (number, generation) of its indirect object
    dict_text: bytes  # the dictionary's bytes, /Contents emptied

    def pairs(self) -> list[tuple[int, int]]:
        br = self.byte_range
        return [(br[i], br[i + 1]) for i in range(0, len(br) - 1, 2)]

    def ranges_within(self, size: int) -> bool:
        return (len(self.byte_range) % 2 == 0 and bool(self.byte_range)
                and all(s >= 0 and n >= 0 and s + n <= size for s, n in self.pairs()))

    def coverage(self, data: bytes) -> str:
        br = self.byte_range
        if len(br) != 4 or br[0] != 0 or not self.ranges_within(len(data)):
            return "partial"
        _, len1, start2, len2 = br
        gap = data[len1:start2]
        if not (gap.startswith(b"<") and gap.endswith(b">")
                and _WS.sub(b"", gap[1:-1]).lower() == self.contents_hex.lower()):
            return "partial"  # the unsigned gap must be exactly this signature's /Contents
        end = start2 + len2
        if end == len(data):
            return "entire_file"
        return "entire_revision" if _EOF_TAIL.search(data[max(0, end - 64):end]) else "partial"

    def signing_time(self) -> datetime | None:
        match = _SIGNING_TIME.search(self.dict_text)
        if not match:
            return None
        try:
            return generic.parse_pdf_date(match[1].decode("latin-1"), strict=False)
        except Exception:
            return None

    def field_name(self, data: bytes) -> str:
        """The /T of the field whose /V is this dictionary, or where the dictionary is."""
        if self.obj is None:
            return "(không rõ tên trường)"
        match = re.compile(rb"/V\s+%d\s+%d\s+R" % self.obj).search(data)
        if match:
            start, end = object_bounds(data, match.start())
            name = _FIELD_NAME.search(data, start, end)
            if name:
                return decode_pdf_literal(name[1])
        return f"(đối tượng {self.obj[0]} {self.obj[1]})"


def check_bounds(data: bytes) -> None:
    """ValidationFailed at once for a file whose signatures cannot be checked in bounded
    time: more than MAX_SIGNATURES of them, or a /ByteRange that is not a short array.
    Arrays of the wrong length or values outside the file are cheap: they are reported as
    invalid signatures instead."""
    starts = list(itertools.islice(_BYTERANGE_START.finditer(data), MAX_SIGNATURES + 1))
    fields = sum(1 for _ in itertools.islice(_SIGNATURE_FIELD.finditer(data), MAX_SIGNATURES + 1))
    if max(len(starts), fields) > MAX_SIGNATURES:
        raise ValidationFailed(notes.too_many_signatures(MAX_SIGNATURES), field="file",
                               reason="too_many_signatures")
    for match in starts:
        if data.find(b"]", match.end(), match.end() + MAX_BYTE_RANGE_TEXT) < 0:
            raise ValidationFailed(notes.MALFORMED_BYTE_RANGE, field="file",
                                   reason="malformed_signature")


def scan(data: bytes) -> list[RawSignature]:
    """Every distinct signature dictionary in ``data``, in the order they were signed."""
    found, seen = [], set()
    for match in _BYTERANGE.finditer(data):
        raw = _signature_at(data, match)
        if raw is None:
            continue
        key = (raw.byte_range, raw.contents_hex[:64])
        if key not in seen:
            seen.add(key)
            found.append(raw)
    found.sort(key=lambda r: sum(r.byte_range[-2:]) if len(r.byte_range) >= 2 else 0)
    return found


def _signature_at(data: bytes, match: re.Match) -> RawSignature | None:
    try:
        byte_range = tuple(int(v) for v in match[1].split())
    except ValueError:
        return None
    start, end = object_bounds(data, match.start())
    text = data[start:end]
    contents = _CONTENTS.search(text)
    if contents is None:
        return None
    hex_digits = _WS.sub(b"", contents[1])
    try:
        der = binascii.unhexlify(hex_digits + (b"0" if len(hex_digits) % 2 else b""))
    except binascii.Error:
        der = b""
    kind = _TYPE.search(text)
    return RawSignature(
        byte_range=byte_range, contents=strip_padding(der), contents_hex=hex_digits,
        type=kind[1].decode("latin-1") if kind else "Sig",
        obj=_object_number(data, start) if start else None,
        dict_text=_CONTENTS.sub(b"/Contents <>", text)[:8192])


def object_bounds(data: bytes, pos: int) -> tuple[int, int]:
    """Start of the body of the indirect object around ``pos`` and its ``endobj``."""
    start, cursor = 0, pos
    while True:
        i = data.rfind(b"obj", 0, cursor)
        if i < 0:
            break
        if data[i - 3:i] == b"end":  # the previous object's end: we are not inside one
            start = i + 3
            break
        if _OBJ_HEADER.search(data[max(0, i - 24):i]):
            start = i + 3
            break
        cursor = i
    end = data.find(b"endobj", pos)
    return start, len(data) if end < 0 else end


def _object_number(data: bytes, body_start: int) -> tuple[int, int] | None:
    match = _OBJ_HEADER.search(data[max(0, body_start - 27):body_start - 3])
    return (int(match[1]), int(match[2])) if match else None


def strip_padding(der: bytes) -> bytes:
    """/Contents is zero-padded after the DER value; asn1crypto wants the value alone."""
    if len(der) < 2 or der[0] != 0x30:
        return der
    length = der[1]
    if length < 0x80:
        total = 2 + length
    else:
        count = length & 0x7F
        if count == 0 or len(der) < 2 + count:  # indefinite length: leave it to the parser
            return der
        total = 2 + count + int.from_bytes(der[2:2 + count], "big")
    return der[:total] if total <= len(der) else der


def decode_pdf_literal(raw: bytes) -> str:
    """The text of a PDF literal string's body (escapes, octal codes, UTF-16 with a BOM)."""
    return _decode_text(unescape(raw))


def _decode_text(data: bytes) -> str:
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
