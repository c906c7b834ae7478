"""Features of a PDF that reach beyond the document: actions that open addresses or send
data, links to network shares, embedded files.

A document an office registers is opened by many people on office computers, so what it
can do when opened or clicked matters as much as what it shows. Per feature:

* an action run without a click — the document's /OpenAction or any /AA (page opened,
  mouse over an annotation, document closed or printed …) — that opens an address, sends
  form data, opens or imports another file (URI, SubmitForm, GoToR, GoToE, ImportData,
  Launch): **refused**. Such a document reports to a stranger whenever it is read;
* form submission (SubmitForm with a target) anywhere: **refused** — an official document
  has no reason to send what a reader types anywhere;
* a link or file reference to a network share or local file (``\\\\host\\share``,
  ``//host/share``, ``file:``, ``smb:`` …) anywhere, clicked or not: **refused** — opening
  one makes Windows send the reader's NTLM password hash to that host;
* a link (URI action) with a scheme other than http, https or mailto (``javascript:``,
  ``ms-msdt:``, ``data:`` …): **refused**;
* an ordinary http(s) or mailto link, clicked by the reader: accepted (laws cite addresses);
* an embedded file that is a program — by any of its names' extensions, its declared MIME
  type or its first bytes (MZ, ELF, Mach-O, #!, Windows shortcut): **refused**;
* any other embedded file: accepted, with a warning kept with the file and shown on the
  document's page and in its JSON (the system does not look inside it).

Encryption is judged in ``uploads`` (PDFium knows it): a user password is refused there; a
file that opens without one but is encrypted (an owner password restricting printing,
copying or changes) is accepted with a warning, except where the office must sign it.

``Finder`` looks at the objects of one reading of a file (the raw bytes, PDFium's
decrypted rewrite) that name one of these features, parses them with ``pdf_syntax`` and
follows references only where an action leads. Stream data is never searched for names
(compressed bytes spell anything by chance); object streams are decoded first, bounded.
"""
from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field

from docmgr.core import stream_filters
from docmgr.core.pdf_syntax import Name, Objects, Ref, text_of

# The names that make an object worth parsing; a file-name key only when a string follows.
CANDIDATE = re.compile(
    rb"/(?:OpenAction|AA|URI|SubmitForm|GoToR|GoToE|ImportData|Launch|EF)"
    rb"(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
    rb"|/(?:F|UF|DOS|Unix|Mac|Base)[\x00\t\n\x0c\r ]*(?:\(|<(?!<))")

# Actions that leave the document: what must never run without a click.
LEAVING = frozenset({"URI", "SubmitForm", "GoToR", "GoToE", "ImportData", "Launch"})
WEB_SCHEMES = frozenset({"http", "https", "mailto"})
# Schemes whose target is a file on the reader's machine or a share on the network.
NETWORK_SCHEMES = frozenset({"file", "smb", "cifs", "nfs", "afp", "webdav", "dav", "ftp",
                             "sftp"})
# Keys whose string value is a file name or address wherever they appear (file
# specifications, actions, external stream data, the catalog's /URI /Base).
PATH_KEYS = ("F", "UF", "DOS", "Unix", "Mac", "URI", "Base")
FILE_NAME_KEYS = ("UF", "F", "DOS", "Unix", "Mac")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_CONTROL = re.compile("[\x00-\x1f\x7f]")

EXECUTABLE_EXTENSIONS = frozenset("""
    exe dll com scr pif cpl sys drv ocx msi msp msc mst bat cmd ps1 psm1 psd1 vbs vbe js jse
    wsf wsh wsc hta jar lnk url reg inf scf application appref-ms gadget iso img vhd vhdx
    sh apk dmg elf
    """.split())
EXECUTABLE_TYPES = frozenset({
    "application/x-msdownload", "application/x-dosexec", "application/x-executable",
    "application/x-msdos-program", "application/x-msi", "application/x-ms-installer",
    "application/vnd.microsoft.portable-executable", "application/java-archive",
    "application/x-sh", "application/x-bat", "application/hta", "application/x-ms-shortcut",
    "application/x-elf", "application/x-mach-binary"})
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",
                    b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!",
                    b"L\x00\x00\x00\x01\x14\x02\x00")
MAGIC_BYTES = 8
# Invisible characters a name can hide its real ending behind.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

# Bounds of what a hostile file can make the walk do.
MAX_DEPTH = 32  # nesting of direct values walked inside one object
# Objects read from one object stream in the raw bytes (real ones hold a few hundred; what
# PDFium loads of a larger one is read in its rewrite all the same).
MAX_PACKED = 100_000
_NUMBER = re.compile(rb"\d+")
SHOWN = 120  # characters of an address or name repeated in a message
MAX_NAMES = 20  # embedded file names kept for the warning


# --- what is said ------------------------------------------------------------------------

REFUSALS = {
    "open_url": "Tệp PDF tự động mở địa chỉ hoặc tệp bên ngoài khi được mở hoặc xem ({}), "
                "nên không được chấp nhận. Hãy gửi bản PDF không có thao tác tự động này.",
    "submit_form": "Tệp PDF chứa biểu mẫu gửi dữ liệu ra địa chỉ bên ngoài ({}), nên không "
                   "được chấp nhận.",
    "network_path": "Tệp PDF chứa liên kết tới thư mục mạng hoặc tệp trên máy ({}); mở liên "
                    "kết này có thể làm lộ thông tin đăng nhập, nên tệp không được chấp nhận.",
    "unsafe_link": "Tệp PDF chứa liên kết không phải địa chỉ web ({}), có thể mở chương trình "
                   "trên máy người đọc, nên không được chấp nhận.",
    "executable": "Tệp PDF có tệp chương trình nhúng bên trong ({}), nên không được chấp "
                  "nhận.",
}
# In the order a refusal is chosen when a file has several.
_REFUSAL_ORDER = tuple(REFUSALS)

WARNINGS = {
    "embedded_files": "Tệp PDF có {count} tệp đính kèm nhúng bên trong ({names}). Hệ thống "
                      "không kiểm tra nội dung các tệp này; chỉ mở khi tin cậy nơi gửi.",
    "owner_password": "Tệp PDF được đặt mật khẩu giới hạn quyền (in, sao chép hoặc sửa nội "
                      "dung). Văn bản vẫn xem được, nhưng không ký số lên tệp này được.",
}


def shown(text: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def refusal_message(code: str, detail: str) -> str:
    return REFUSALS[code].format(shown(detail))


def warning_message(warning: dict) -> str:
    """The Vietnamese sentence of a stored warning (see ``Findings.warnings``)."""
    code = warning.get("code")
    if code == "embedded_files":
        names = list(warning.get("names") or [])
        count = max(int(warning.get("count") or 0), len(names))
        listed = ", ".join(names) + (f" và {count - len(names)} tệp khác"
                                     if count > len(names) else "")
        return WARNINGS[code].format(count=count, names=listed or "không rõ tên")
    return WARNINGS.get(code, f"Tệp PDF có đặc điểm cần lưu ý ({code}).")


def warning_messages(warnings) -> list[str]:
    return [warning_message(w) for w in warnings or () if isinstance(w, dict)]


# --- what was found ----------------------------------------------------------------------

@dataclass
class Findings:
    """Features found in a file: refusals as (code, detail), embedded file names."""
    refusals: list[tuple[str, str]] = field(default_factory=list)
    embedded: list[str] = field(default_factory=list)

    def refuse(self, code: str, detail: str) -> None:
        if (code, detail) not in self.refusals:
            self.refusals.append((code, detail))

    def embed(self, name: str) -> None:
        if name not in self.embedded:
            self.embedded.append(name)

    def merge(self, other: Findings) -> Findings:
        for code, detail in other.refusals:
            self.refuse(code, detail)
        for name in other.embedded:
            self.embed(name)
        return self

    def refusal(self) -> tuple[str, str] | None:
        """The refusal to report, the most serious kind first."""
        if not self.refusals:
            return None
        return min(self.refusals, key=lambda item: _REFUSAL_ORDER.index(item[0]))

    def warnings(self) -> list[dict]:
        if not self.embedded:
            return []
        return [{"code": "embedded_files", "count": len(self.embedded),
                 "names": [shown(name) for name in self.embedded[:MAX_NAMES]]}]


@dataclass(frozen=True)
class _Stream:
    body: memoryview
    filters: list
    parameters: list
    info: dict | None


class Finder:
    """Collects the objects of one reading of a file that name a risky feature, then
    judges them (``findings``)."""

    def __init__(self, objects: Objects):
        self.objects = objects
        self._candidates: set[tuple[int, int]] = set()  # (id of buffer, value start)
        self._buffers: dict[int, bytes] = {}
        self._streams: dict[int, _Stream] = {}  # by where their object's value starts
        self._walked: set[int] = set()
        self._plain = True  # strings and stream data are readable (see findings)

    # -- collecting ---------------------------------------------------------------------

    def look(self, buf, start: int, end: int, starts=None) -> None:
        """Note the objects of ``buf[start:end]`` (text outside stream data) that name a
        risky feature. ``starts`` locates an object's value from a position (the file's
        object headers by default)."""
        locate = starts or self.objects.start_before
        for match in CANDIDATE.finditer(buf, start, end):
            pos = locate(match.start())
            if pos is not None:
                self._buffers[id(buf)] = buf
                self._candidates.add((id(buf), pos))

    def stream(self, value_start: int, body: memoryview, filters: list, parameters: list,
               info: dict | None) -> None:
        """A stream of the file, so an embedded file's first bytes can be read."""
        self._streams[value_start] = _Stream(body, filters, parameters, info)

    def object_stream(self, decoded: bytes, info: dict) -> None:
        """The objects packed in a decoded object stream: made resolvable, and looked at."""
        first = self.objects.resolve(info.get("First"))
        count = self.objects.resolve(info.get("N"))
        if not (isinstance(first, int) and isinstance(count, int) and 0 <= first <= len(decoded)):
            return
        pairs = min(count, MAX_PACKED)
        numbers = [m[0] for m in itertools.islice(_NUMBER.finditer(decoded, 0, first),
                                                  2 * pairs)]
        offsets = {}
        for index in range(0, len(numbers) - 1, 2):
            pos = first + int(numbers[index + 1][:15])
            if pos < len(decoded):
                offsets[int(numbers[index][:15])] = pos
        self.objects.add_packed(decoded, offsets)
        starts = sorted(offsets.values())

        def locate(pos: int) -> int | None:
            index = bisect.bisect_right(starts, pos)
            return starts[index - 1] if index else None
        self.look(decoded, first, len(decoded), starts=locate)

    # -- judging ------------------------------------------------------------------------

    def findings(self, *, encrypted: bool = False) -> Findings:
        """What the collected objects do. In the raw bytes of an ``encrypted`` file strings
        and stream data are ciphertext, which spells a scheme or "MZ" by chance: only the
        structure is judged there (PDFium's decrypted rewrite shows the rest)."""
        self._plain = not encrypted
        found = Findings()
        for buffer_id, pos in sorted(self._candidates):
            value = self.objects.parse_at(self._buffers[buffer_id], pos)
            self._walk(value, found, 0)
        for start, stream in self._streams.items():
            info = stream.info or {}
            if info.get("Type") == "EmbeddedFile" and start not in self._walked:
                # A file no file specification names still counts if it is a program.
                if self._program_stream(stream):
                    found.refuse("executable", "(tệp không tên)")
        return found

    def _walk(self, value, found: Findings, depth: int) -> None:
        """Every direct dictionary inside ``value``, judged (references are not followed:
        the objects they name are candidates of their own when they matter)."""
        if depth > MAX_DEPTH:
            return
        if isinstance(value, list):
            for item in value:
                self._walk(item, found, depth + 1)
            return
        if not isinstance(value, dict):
            return
        self._judge(value, found)
        for item in value.values():
            self._walk(item, found, depth + 1)

    def _judge(self, entry: dict, found: Findings) -> None:
        if "OpenAction" in entry:
            self._automatic(entry["OpenAction"], found)
        triggers = self.objects.resolve(entry.get("AA"), window=None)
        if isinstance(triggers, dict):
            for action in triggers.values():
                self._automatic(action, found)
        kind = entry.get("S")
        if kind == "URI":
            self._link(entry.get("URI"), found)
        elif kind == "SubmitForm" and entry.get("F") is not None:
            found.refuse("submit_form", self._target(entry.get("F")) or "?")
        for key in PATH_KEYS:
            if key in entry:
                target = self._text(entry[key])
                if target is not None and is_network_path(target):
                    found.refuse("network_path", target)
        if "EF" in entry:
            self._embedded(entry, found)

    def _automatic(self, value, found: Findings) -> None:
        """An action run without a click, and every action chained after it."""
        # Every action of the chain runs, however long: references are followed once each
        # (a loop ends there), direct values are bounded by the object already read.
        pending, seen = [value], set()
        while pending:
            value = pending.pop()
            if isinstance(value, Ref):
                if value in seen:
                    continue
                seen.add(value)
                value = self.objects.resolve(value, window=None)
            if isinstance(value, list):
                pending.extend(value)
                continue
            if not isinstance(value, dict):
                continue
            kind = value.get("S")
            if kind in LEAVING:
                target = (self._text(value.get("URI")) if kind == "URI"
                          else self._target(value.get("F")))
                found.refuse("open_url", target or str(kind))
            if value.get("Next") is not None:
                pending.append(value["Next"])

    def _link(self, value, found: Findings) -> None:
        target = self._text(value)
        if target is None:
            return
        if is_network_path(target):
            found.refuse("network_path", target)
            return
        scheme = _SCHEME.match(_bare(target))
        if scheme and scheme[1].lower() not in WEB_SCHEMES:
            found.refuse("unsafe_link", target)

    def _embedded(self, spec: dict, found: Findings) -> None:
        names = [name for name in (self._text(spec.get(key)) for key in FILE_NAME_KEYS)
                 if name]
        program = any(is_program_name(name) for name in names)
        files = self.objects.resolve(spec.get("EF"), window=None)
        for ref in (files.values() if isinstance(files, dict) else ()):
            start = self._start_of(ref)
            stream = self._streams.get(start) if start is not None else None
            if stream is None:
                continue
            self._walked.add(start)
            program = program or self._program_stream(stream)
        shown_name = names[0] if names else "(tệp không tên)"
        if program:
            found.refuse("executable", shown_name)
        else:
            found.embed(shown_name)

    def _start_of(self, ref) -> int | None:
        return self.objects.value_start(ref) if isinstance(ref, Ref) else None

    def _program_stream(self, stream: _Stream) -> bool:
        if not self._plain:
            return False
        subtype = (stream.info or {}).get("Subtype")
        if isinstance(subtype, Name) and subtype.lower() in EXECUTABLE_TYPES:
            return True
        head = stream_filters.decode(stream.body, stream.filters, stream.parameters,
                                     limit=MAGIC_BYTES)
        return bool(head) and head.startswith(EXECUTABLE_MAGIC)

    def _text(self, value) -> str | None:
        if not self._plain:
            return None
        value = self.objects.resolve(value, window=None)
        return text_of(value) if isinstance(value, bytes) else None

    def _target(self, value) -> str | None:
        """The file or address a file specification names (a string or a dictionary)."""
        value = self.objects.resolve(value, window=None)
        if isinstance(value, dict):
            return next((name for name in (self._text(value.get(key))
                                           for key in FILE_NAME_KEYS) if name), None)
        return self._text(value)


def _bare(text: str) -> str:
    """What a reader acts on: without surrounding blanks and control characters."""
    return _CONTROL.sub("", text).strip()


def is_network_path(text: str) -> bool:
    """A UNC path (``\\\\host\\share``, ``//host/share``, ``\\\\?\\UNC\\…``) or an address
    whose scheme reaches files (file:, smb: …)."""
    target = _bare(text).replace("\\", "/")
    if target.startswith("//"):
        return True
    scheme = _SCHEME.match(target)
    return bool(scheme) and scheme[1].lower() in NETWORK_SCHEMES


def is_program_name(name: str) -> bool:
    """A file name Windows (or another system) would run: by its extension, after what
    Windows ignores (trailing dots and spaces) and what hides it (a NUL, invisible marks)."""
    name = _INVISIBLE.sub("", name)
    for part in name.split("\x00"):
        part = part.strip().rstrip(". ").lower()
        if "." in part and part.rsplit(".", 1)[1] in EXECUTABLE_EXTENSIONS:
            return True
    return False
