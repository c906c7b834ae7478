"""Incremental decoders for the PDF stream filters that can inflate data.

Each decoder takes the encoded bytes in chunks and gives its output in pieces of at
most ``PIECE`` bytes, so a chain of them (``pipeline``) never holds more than a few
pieces whatever the stream decodes to: the caller counts the pieces and stops pulling
as soon as it has seen enough. Every filter here marks its own end of data, so a
decoder stops by itself where a reader would, even when the stream's ``/Length`` lies.

Image codecs (DCT, JPX, JBIG2, CCITT) are not decoded: their output is bounded by the
image's declared width and height instead. Damaged data ends decoding quietly, as in
PDF readers, which keep what they decoded before the damage.
"""
import base64
import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator

PIECE = 1 << 18

IMAGE_CODECS = frozenset({"DCTDecode", "DCT", "JPXDecode", "JBIG2Decode", "CCITTFaxDecode",
                          "CCF"})

_WHITESPACE = re.compile(rb"[\x00\t\n\x0c\r ]+")
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]")
_NOT_A85 = re.compile(rb"[^!-u]")


class _Decoder(ABC):
    finished = False  # its end-of-data marker (or damage) was seen: later input is ignored

    @abstractmethod
    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes ``data`` gives, piece by piece."""

    def finish(self) -> Iterator[bytes]:
        return iter(())


class FlateDecoder(_Decoder):
    def __init__(self):
        self._inflater = zlib.decompressobj()
        self._produced = False
        self._raw_tried = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while not self.finished:
            try:
                out = self._inflater.decompress(data, PIECE)
            except zlib.error:
                if self._produced or self._raw_tried:
                    self.finished = True
                    return
                # Some producers omit the zlib header; readers then fall back to raw
                # deflate, so a bomb written that way must be measured the same way.
                self._raw_tried = True
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            data = self._inflater.unconsumed_tail
            if out:
                self._produced = True
                yield out
            if self._inflater.eof:
                self.finished = True
            if not data and len(out) < PIECE:
                return


class LZWDecoder(_Decoder):
    """LZW as PDF writes it: codes of 9 to 12 bits, most significant bit first, 256
    clears the table, 257 ends the data; ``early_change`` as /EarlyChange."""

    def __init__(self, early_change: int = 1):
        self._early = 1 if early_change else 0
        self._bits = self._count = 0
        self._reset()

    def _reset(self):
        self._table = [bytes([i]) for i in range(256)] + [b"", b""]
        self._width = 9
        self._previous = None

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = bytearray()
        for byte in data:
            self._bits = (self._bits << 8) | byte
            self._count += 8
            while self._count >= self._width:
                self._count -= self._width
                code = self._bits >> self._count
                self._bits &= (1 << self._count) - 1
                if not self._code(code, out):
                    self.finished = True
                    while len(out) > PIECE:
                        yield _cut(out)
                    yield bytes(out)
                    return
            if len(out) >= PIECE:
                yield _cut(out)
        if out:
            yield bytes(out)

    def _code(self, code: int, out: bytearray) -> bool:
        """Appends what ``code`` stands for to ``out``; False at the end of data."""
        table, previous = self._table, self._previous
        if code == 256:
            self._reset()
            return True
        if code == 257:
            return False
        if code < len(table):
            entry = table[code]
            if previous is not None:
                self._add(previous + entry[:1])
        elif code == len(table) and previous is not None:
            entry = previous + previous[:1]
            self._add(entry)
        else:
            return False  # a code the table does not hold yet: damaged data
        out += entry
        self._previous = entry
        return True

    def _add(self, entry: bytes):
        if len(self._table) < 4096:
            self._table.append(entry)
            if len(self._table) + self._early >= 1 << self._width and self._width < 12:
                self._width += 1


class RunLengthDecoder(_Decoder):
    def __init__(self):
        self._carry = b""

    def feed(self, data: bytes) -> Iterator[bytes]:
        data = self._carry + data
        out, pos, size = bytearray(), 0, len(data)
        while pos < size:
            length = data[pos]
            if length == 128:
                self.finished = True
                break
            if length < 128:
                if pos + length + 2 > size:
                    break
                out += data[pos + 1:pos + length + 2]
                pos += length + 2
            else:
                if pos + 2 > size:
                    break
                out += data[pos + 1:pos + 2] * (257 - length)
                pos += 2
            if len(out) >= PIECE:
                yield _cut(out)
        self._carry = b"" if self.finished else data[pos:]
        if out:
            yield bytes(out)


class ASCIIHexDecoder(_Decoder):
    def __init__(self):
        self._carry = b""

    def feed(self, data: bytes) -> Iterator[bytes]:
        data, self.finished = _until(data, b">")
        data = self._carry + _WHITESPACE.sub(b"", data)
        bad = _NOT_HEX.search(data)
        if bad:
            data, self.finished = data[:bad.start()], True
        if self.finished and len(data) % 2:
            data += b"0"
        cut = len(data) - len(data) % 2
        self._carry = data[cut:]
        if cut:
            yield bytes.fromhex(data[:cut].decode("ascii"))


class ASCII85Decoder(_Decoder):
    def __init__(self):
        self._carry = b""

    def feed(self, data: bytes) -> Iterator[bytes]:
        data, self.finished = _until(data, b"~")
        # "z" stands for a group of four zero bytes; spelt out, groups stay five long.
        data = self._carry + _WHITESPACE.sub(b"", data).replace(b"z", b"!!!!!")
        bad = _NOT_A85.search(data)
        if bad:
            data, self.finished = data[:bad.start()], True
        cut = len(data) - len(data) % 5
        self._carry, tail = data[cut:], b""
        if self.finished and len(self._carry) > 1:
            padded = self._carry + b"u" * (5 - len(self._carry))
            tail = _a85(padded)[:len(self._carry) - 1]
        for start in range(0, cut, PIECE):
            yield _a85(data[start:min(cut, start + PIECE)])
        if tail:
            yield tail


def _cut(out: bytearray) -> bytes:
    """The first PIECE bytes of ``out``, removed from it."""
    piece = bytes(out[:PIECE])
    del out[:PIECE]
    return piece


def _a85(data: bytes) -> bytes:
    try:
        return base64.a85decode(data)
    except ValueError:
        return b""  # a group out of range: damaged data decodes to nothing more


def _until(data: bytes, marker: bytes) -> tuple[bytes, bool]:
    end = data.find(marker)
    return (data, False) if end < 0 else (data[:end], True)


_DECODERS = {
    "FlateDecode": FlateDecoder, "Fl": FlateDecoder,
    "LZWDecode": LZWDecoder, "LZW": LZWDecoder,
    "RunLengthDecode": RunLengthDecoder, "RL": RunLengthDecoder,
    "ASCIIHexDecode": ASCIIHexDecoder, "AHx": ASCIIHexDecoder,
    "ASCII85Decode": ASCII85Decoder, "A85": ASCII85Decoder,
}


def decoders(filters: list[str], parameters: list) -> list[_Decoder]:
    """Decoders for the filters, in order, up to the first one that cannot be decoded here
    (an image codec, an unknown name, a real crypt filter). ``parameters`` are the
    /DecodeParms dictionaries, one per filter (None where absent)."""
    return _chain(filters, parameters)[0]


def _chain(filters: list[str], parameters: list) -> tuple[list[_Decoder], bool]:
    """The decoders, and whether they are the whole chain."""
    chain = []
    for index, name in enumerate(filters):
        params = parameters[index] if index < len(parameters) else None
        params = params if isinstance(params, dict) else {}
        if name == "Crypt" and params.get("Name", "Identity") == "Identity":
            continue
        factory = _DECODERS.get(name)
        if factory is None:
            return chain, False
        if factory is LZWDecoder:
            early = params.get("EarlyChange", 1)
            chain.append(LZWDecoder(early if isinstance(early, int) else 1))
        else:
            chain.append(factory())
    return chain, True


def decode(body, filters: list[str], parameters: list, *, limit: int,
           chunk: int = 1 << 14) -> bytes | None:
    """At most ``limit`` bytes of what the stream decodes to (its data itself without
    filters); None when a filter cannot be decoded here. Decoding stops once ``limit``
    bytes are out, so a bomb costs no more than that."""
    chain, whole = _chain(filters, parameters)
    if not whole:
        return None
    pieces = (bytes(body[start:start + chunk]) for start in range(0, len(body), chunk))
    out = bytearray()
    for piece in pipeline(chain, pieces):
        out += piece[:limit - len(out)]
        if len(out) >= limit:
            break
    return bytes(out)


def pipeline(chain: list[_Decoder], chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The output of the whole chain, piece by piece, pulled through lazily."""
    pieces = iter(chunks)
    for decoder in chain:
        pieces = _stage(decoder, pieces)
    return pieces


def _stage(decoder: _Decoder, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from decoder.feed(piece)
        if decoder.finished:
            return
    yield from decoder.finish()
