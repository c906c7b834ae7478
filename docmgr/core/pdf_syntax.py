"""Just enough PDF object syntax to read a stream's dictionary from raw bytes.

The upload check must know a stream's ``/Filter``, ``/DecodeParms`` and image size
before any PDF library touches the file, and it must read the dictionary's own
top-level keys: a regular expression would also match a ``/Filter`` nested inside
another value, which a hostile file can use to hide the real filter chain. Values are
returned as plain Python objects: ``Name`` (a ``str``), ``Ref``, ``int``/``float``,
``bytes`` (strings, undecoded), ``list``, ``dict``, ``bool`` or ``None``.
"""
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
            return bytes(match["hex"]), pos
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
                    return bytes(self.buf[pos:match.start()]), match.end()
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
    definition wins, as an incremental update's does). The headers are indexed in one
    pass, on the first reference that needs it."""

    def __init__(self, buf):
        self.buf = buf
        self._offsets: dict[tuple[int, int], int] | None = None

    def resolve(self, value):
        """``value`` itself, or for a Ref the direct value it names (None if not found;
        a reference to a reference is not followed)."""
        if not isinstance(value, Ref):
            return value
        if self._offsets is None:
            self._offsets = {(int(m[1]), int(m[2])): m.end()
                             for m in _OBJECT.finditer(self.buf)}
        pos = self._offsets.get((value.number, value.generation))
        if pos is None:
            return None
        try:
            found, _ = parse_value(self.buf, pos, min(len(self.buf), pos + _RESOLVE_WINDOW))
        except SyntaxFailure:
            return None
        return None if isinstance(found, Ref) else found
