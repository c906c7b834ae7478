"""Just enough PDF object syntax to read a stream's dictionary from raw bytes.

The upload check must know a stream's ``/Filter``, ``/DecodeParms`` and image size
before any PDF library touches the file, and it must read the dictionary's own
top-level keys: a regular expression would also match a ``/Filter`` nested inside
another value, which a hostile file can use to hide the real filter chain. Values are
returned as plain Python objects: ``Name`` (a ``str``), ``Ref``, ``int``/``float``,
``bytes`` (strings, escapes and hex digits decoded: the string's bytes), ``list``, ``dict``,
``bool`` or ``None``.

``Objects`` finds indirect objects by their headers, and those of object streams once they
are handed over decoded, so that a check can follow references wherever an object hides.
"""
import bisect
import re
from dataclasses import dataclass

# Deeper nesting than this is no real dictionary, and recursion must stay bounded.
MAX_DEPTH = 32


class Name(str):
    """A PDF name, without its slash and with #xx escapes decoded."""


@dataclass(frozen=True)
class Ref:
    number: int
    generation: int


class SyntaxFailure(ValueError):
    """The bytes are not a PDF object this reader can follow."""


_TOKEN = re.compile(rb"""
    (?:[\x00\t\n\x0c\r ]|%[^\r\n]*)*          # whitespace and comments between tokens
    (?:
        (?P<open_dict><<) | (?P<close_dict>>>)
      | (?P<open_array>\[) | (?P<close_array>\])
      | /(?P<name>[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)
      | <(?P<hex>[0-9A-Fa-f\x00\t\n\x0c\r ]*)>
      | (?P<string>\()
      | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+))
      | (?P<word>[A-Za-z]+)
    )""", re.VERBOSE)
_PAREN = re.compile(rb"\\.|[()]", re.DOTALL)
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STRING_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|(\r\n|[\r\n])|(.))", re.DOTALL)
_STRING_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_HEX_JUNK = re.compile(rb"[^0-9A-Fa-f]")
_END = object()


def parse_value(buf, pos: int, end: int):
    """The object starting at ``pos`` (leading whitespace allowed) and where it ends."""
    value, pos = _Parser(buf, end).value(pos, 0)
    if value is _END:
        raise SyntaxFailure("a closing bracket where an object should start")
    return value, pos


def stream_dictionary(buf, start: int, end: int) -> dict | None:
    """The dictionary of the stream whose ``stream`` keyword is at ``end``: the first one
    after ``start`` (its object's header); None if it cannot be read."""
    pos = buf.find(b"<<", start, end)
    if pos < 0:
        return None
    try:
        value, _ = parse_value(buf, pos, end)
    except SyntaxFailure:
        return None
    return value if isinstance(value, dict) else None


class _Parser:
    def __init__(self, buf, end: int):
        self.buf, self.end = buf, end

    def _token(self, pos: int):
        match = _TOKEN.match(self.buf, pos, self.end)
        if match is None:
            raise SyntaxFailure(f"unexpected bytes at {pos}")
        return match

    def value(self, pos: int, depth: int):
        if depth > MAX_DEPTH:
            raise SyntaxFailure("nested too deeply")
        match = self._token(pos)
        kind, pos = match.lastgroup, match.end()
        if kind == "open_dict":
            return self._dictionary(pos, depth)
        if kind == "open_array":
            return self._array(pos, depth)
        if kind == "name":
            return _name(match["name"]), pos
        if kind == "hex":
            digits = _HEX_JUNK.sub(b"", match["hex"])
            return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii")), pos
        if kind == "string":
            return self._string(pos)
        if kind == "number":
            return self._number_or_ref(match["number"], pos)
        if kind == "word":
            word = match["word"]
            if word in (b"true", b"false"):
                return word == b"true", pos
            if word == b"null":
                return None, pos
        if kind in ("close_dict", "close_array"):
            return _END, pos
        raise SyntaxFailure(f"unexpected {kind} at {match.start()}")

    def _dictionary(self, pos: int, depth: int):
        result = {}
        while True:
            key, pos = self.value(pos, depth + 1)
            if key is _END:
                return result, pos
            if not isinstance(key, Name):
                raise SyntaxFailure("dictionary key is not a name")
            value, pos = self.value(pos, depth + 1)
            if value is _END:
                raise SyntaxFailure("dictionary key without a value")
            result[key] = value  # a repeated key: the last one wins, as in PDFium

    def _array(self, pos: int, depth: int):
        result = []
        while True:
            value, pos = self.value(pos, depth + 1)
            if value is _END:
                return result, pos
            result.append(value)

    def _string(self, pos: int):
        depth = 1
        for match in _PAREN.finditer(self.buf, pos, self.end):
            if match[0] == b"(":
                depth += 1
            elif match[0] == b")":
                depth -= 1
                if depth == 0:
                    return unescape(self.buf[pos:match.start()]), match.end()
        raise SyntaxFailure("unterminated string")

    def _number_or_ref(self, text: bytes, pos: int):
        if not text.lstrip(b"+-").isdigit():
            return float(text[:32]), pos
        number = int(text[:15])  # absurd digit strings stay large, not slow
        first = _TOKEN.match(self.buf, pos, self.end)
        if first and first.lastgroup == "number" and first["number"].isdigit():
            second = _TOKEN.match(self.buf, first.end(), self.end)
            if second and second.lastgroup == "word" and second["word"] == b"R":
                return Ref(number, int(first["number"][:15])), second.end()
        return number, pos


def unescape(raw) -> bytes:
    """The bytes of a literal string's body: escapes, octal codes and escaped line ends
    (which continue the line) decoded."""
    def one(match: re.Match) -> bytes:
        octal, line_end, char = match.groups()
        if octal:
            return bytes([int(octal, 8) & 0xFF])
        if line_end:
            return b""
        return _STRING_ESCAPES.get(char, char)
    return _STRING_ESCAPE.sub(one, bytes(raw))


def text_of(data: bytes) -> str:
    """A text string as readers show it: UTF-16 or UTF-8 with their byte order mark,
    otherwise PDFDocEncoding (taken as Latin-1, which it matches for the characters that
    make paths and addresses)."""
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be", "replace")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    return data.decode("latin-1")


def _name(raw: bytes) -> Name:
    decoded = _NAME_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw)
    return Name(decoded.decode("latin-1"))


_OBJECT = re.compile(rb"(?<![0-9])(\d{1,10})[\x00\t\n\x0c\r ]+(\d{1,5})[\x00\t\n\x0c\r ]+obj"
                     rb"(?![A-Za-z])")
# An indirect /Length, /Filter or /DecodeParms value is short.
_RESOLVE_WINDOW = 4096


class Objects:
    """Values of indirect objects, found by their "n g obj" headers in the bytes rather
    than through the cross-reference table, so that damaged files resolve too (the last
    definition wins, as an incremental update's does), and objects of object streams
    handed over with ``add_packed``. The headers are indexed in one pass, on first use."""

    def __init__(self, buf):
        self.buf = buf
        self._offsets: dict[tuple[int, int], int] | None = None
        self._starts: list[int] = []  # where each object's value starts, ascending
        self._packed: dict[tuple[int, int], tuple[bytes, int]] = {}

    def _index(self) -> dict[tuple[int, int], int]:
        if self._offsets is None:
            self._offsets = {(int(m[1]), int(m[2])): m.end()
                             for m in _OBJECT.finditer(self.buf)}
            self._starts = sorted(self._offsets.values())
        return self._offsets

    def resolve(self, value, *, window: int | None = _RESOLVE_WINDOW):
        """``value`` itself, or for a Ref the direct value it names (None if not found;
        a reference to a reference is not followed). ``window`` bounds the bytes read,
        None reads the whole object however long."""
        if not isinstance(value, Ref):
            return value
        key = (value.number, value.generation)
        pos = self._index().get(key)
        buf = self.buf
        if pos is None:
            if key not in self._packed:
                return None
            buf, pos = self._packed[key]
        found = self.parse_at(buf, pos, window=window)
        return None if isinstance(found, Ref) else found

    def value_start(self, ref: Ref) -> int | None:
        """Where the value of an object written with a header starts in the bytes."""
        return self._index().get((ref.number, ref.generation))

    @staticmethod
    def parse_at(buf, pos: int, *, window: int | None = None):
        """The value starting at ``pos``, None if it cannot be read."""
        end = len(buf) if window is None else min(len(buf), pos + window)
        try:
            return parse_value(buf, pos, end)[0]
        except SyntaxFailure:
            return None

    def start_before(self, pos: int) -> int | None:
        """Where the value of the object whose header is the last one before ``pos`` starts."""
        self._index()
        index = bisect.bisect_right(self._starts, pos)
        return self._starts[index - 1] if index else None

    def add_packed(self, buf: bytes, offsets: dict[int, int]) -> None:
        """Objects of a decoded object stream: {number: where its value starts in buf}.
        An object written with a header elsewhere in the file wins over a packed one."""
        for number, pos in offsets.items():
            self._packed.setdefault((number, 0), (buf, pos))
