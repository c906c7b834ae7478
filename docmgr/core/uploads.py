"""Checks an uploaded PDF before it is stored.

The bytes are never changed: signed originals must stay byte-identical, so
everything here only reads. Rejections are ``UploadRejected`` (or
``UploadTooLarge``) with a Vietnamese message for the uploader and a short
machine-readable ``reason``.

Reading a PDF's structure means parsing hostile input with PDFium and decoding
its streams, so ``inspect`` runs in a sandboxed worker (``docmgr.core.sandbox``)
with memory, CPU and wall-time limits: a file that defeats the checks below can
cost the worker its life, never the web process. Every stream is measured
(``docmgr.core.inflation``) before PDFium parses anything, because PDFium
decodes object streams while it loads a file.
"""
import hashlib
import re
from dataclasses import dataclass

import magic
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from docmgr.core import inflation, pdf_risks, sandbox, stream_filters
from docmgr.core.errors import ServiceBusy, UploadRejected, UploadTooLarge
from docmgr.core.pdf_syntax import Name, Objects, stream_dictionary

# A0 at about 400 dpi. The JBIG2 "bomb" declares 100 000 x 100 000 pixels; a
# real scan is far below this, while decoding above it costs gigabytes.
MAX_IMAGE_PIXELS = 1 << 28

# The check of a 50 MB upload (the largest allowed: 44 Flate-compressed scanned
# pages) took 1.2 s of CPU and 280 MiB of address space; a file whose streams decode
# to the whole 1 GiB inflation budget took 2.3 s. Wall time is many times the CPU
# time so that a busy machine alone does not refuse files (on 2 shared cores at a
# load of 6, the 50 MB check took 7.4 s).
CHECK_LIMITS = sandbox.Limits(memory=1 << 30, cpu=20, wall=60)

_ACTIVE_CONTENT = {b"JavaScript": "javascript", b"JS": "javascript", b"Launch": "launch"}

# Only the names we act on are matched: collecting every name of a file padded
# with millions of them would cost gigabytes. Escaped spellings such as /J#53
# are caught in PDFium's copy, which writes names in canonical form.
_NAMES = re.compile(rb"/(JavaScript|JS|Launch|ByteRange)(?![^\x00\t\n\x0c\r /<>\[\]()%{}])")
_STREAM = re.compile(rb"(?<![A-Za-z])stream(?:\r\n|\n|\r)")
_LENGTH = re.compile(rb"/Length\s+(\d+)(\s+\d+\s+R)?")
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_WIDTH = re.compile(rb"/Width\s+(\d+)")
_HEIGHT = re.compile(rb"/Height\s+(\d+)")
# Filters named in a stream dictionary too damaged to parse, in the order written.
_FILTER_NAMES = re.compile(rb"/(FlateDecode|Fl|LZWDecode|LZW|ASCII85Decode|A85|ASCIIHexDecode"
                           rb"|AHx|RunLengthDecode|RL)(?![A-Za-z0-9])")
# Colour components per pixel by colour space (at most 4 for anything else we meet,
# DeviceN counted by its colourants).
_COMPONENTS = {"DeviceGray": 1, "G": 1, "CalGray": 1, "Indexed": 1, "I": 1,
               "Separation": 1, "DeviceRGB": 3, "RGB": 3, "CalRGB": 3, "Lab": 3,
               "DeviceCMYK": 4, "CMYK": 4}

MSG_BOMB = ("Tệp PDF chứa dữ liệu nén bất thường: khi giải nén sẽ vượt quá giới hạn xử lý "
            "(có thể là “bom giải nén”), nên không được chấp nhận.")
MSG_OVER_LIMIT = ("Tệp PDF cần quá nhiều bộ nhớ hoặc thời gian để kiểm tra, vượt quá giới hạn "
                  "xử lý, nên không được chấp nhận.")
MSG_BUSY = "Máy chủ đang bận nên chưa kiểm tra được tệp; vui lòng gửi lại sau ít phút."


# Decoded bytes of one object stream read for the names and objects it packs. Real ones
# hold a few hundred objects (the largest in the shared corpus: see tests/core/
# test_pdf_risks.py); past this a stream could hide what the check looks for, so the file
# is refused as beyond the processing limits rather than half read.
MAX_OBJECT_STREAM = 16 << 20


@dataclass(frozen=True)
class CheckedPdf:
    data: bytes
    page_count: int
    sha256: str
    has_signatures: bool
    # Encrypted, yet opened without a password (an owner password restricts printing,
    # copying or changes): readable, but pyHanko cannot add a signature to it.
    encrypted: bool = False
    # What the document page says about the file ({"code": …}; pdf_risks.warning_message).
    warnings: tuple = ()


@dataclass(frozen=True)
class Inspection:
    """What the sandboxed check found in a file it did not refuse."""
    page_count: int
    has_signatures: bool
    encrypted: bool
    warnings: tuple


def check_pdf(data: bytes, *, max_bytes: int) -> CheckedPdf:
    if not data:
        raise _rejected("Tệp rỗng.", "empty")
    if len(data) > max_bytes:
        raise UploadTooLarge(f"Tệp vượt quá giới hạn {_format_size(max_bytes)}.", field="file",
                             max_bytes=max_bytes)

    mime = _sniff(data)
    # libmagic only recognises "%PDF-" at offset 0, yet readers accept a header
    # anywhere in the first 1024 bytes and some producers emit leading junk.
    # Such files come back as octet-stream; whether PDFium opens them decides.
    if mime != "application/pdf" and not (mime == "application/octet-stream"
                                          and b"%PDF-" in data[:1024]):
        raise _rejected(f"Tệp không phải PDF (nhận diện được: {mime}).", "not_pdf")

    try:
        found = sandbox.CHECKS.run(CHECK_LIMITS, inspect, data)
    except sandbox.LimitExceeded as exc:
        raise _rejected(MSG_OVER_LIMIT, "processing_limit") from exc
    except (sandbox.TimedOut, sandbox.Unavailable) as exc:
        raise ServiceBusy(MSG_BUSY, field="file") from exc
    return CheckedPdf(data=data, page_count=found.page_count,
                      sha256=hashlib.sha256(data).hexdigest(),
                      has_signatures=found.has_signatures, encrypted=found.encrypted,
                      warnings=found.warnings)


MSG_NOT_SIGNABLE = ("Tệp PDF được đặt mật khẩu giới hạn quyền (mật khẩu chủ sở hữu) nên không "
                    "ký số lên được. Hãy gỡ mật khẩu trong phần mềm soạn thảo, xuất lại tệp PDF "
                    "rồi tải lên.")


def require_signable(checked: CheckedPdf, field: str = "file") -> None:
    """Refuse a file the office must sign but cannot: pyHanko writes no signature into an
    encrypted file it was not given the password of (signing.errors.EncryptedDocument),
    and a draft should not wait through its whole review to learn that."""
    if checked.encrypted:
        raise UploadRejected(MSG_NOT_SIGNABLE, field=field, reason="encrypted")


def inspect(data: bytes) -> Inspection:
    """What the file is, UploadRejected if it must be refused. Runs in a sandbox worker
    (PDFium is used without a lock there)."""
    meter = inflation.Meter()
    try:
        # The raw bytes show objects other readers may recover but PDFium ignores;
        # PDFium's own re-serialisation shows what object streams and encryption
        # hide from a byte scan. Streams identical in both are decoded once.
        names, pixels, raw_finder = _scan(data, read_streams=False, meter=meter)
        page_count, doc_js, encrypted, normalised = _open(data)
        if page_count < 1:
            raise _no_pages()
        more_names, more_pixels, finder = _scan(normalised, read_streams=True,
                                                meter=meter.next_pass())
        risks = raw_finder.findings(encrypted=encrypted).merge(finder.findings())
    except inflation.DecompressionBomb as exc:
        raise _rejected(MSG_BOMB, "decompression_bomb") from exc
    except _ObjectStreamTooLarge as exc:
        raise _rejected(MSG_OVER_LIMIT, "processing_limit") from exc
    names |= more_names
    pixels = max(pixels, more_pixels)

    found = {_ACTIVE_CONTENT[name] for name in names if name in _ACTIVE_CONTENT}
    if doc_js > 0 or "javascript" in found:
        raise _rejected("Tệp PDF chứa mã JavaScript nên không được chấp nhận.", "javascript")
    if "launch" in found:
        raise _rejected("Tệp PDF chứa lệnh mở chương trình bên ngoài (Launch) nên không được "
                        "chấp nhận.", "launch")
    refusal = risks.refusal()
    if refusal is not None:
        raise _rejected(pdf_risks.refusal_message(*refusal), refusal[0])
    if pixels > MAX_IMAGE_PIXELS:
        raise _rejected("Tệp PDF chứa hình ảnh có kích thước bất thường, có thể gây quá tải "
                        "nên không được chấp nhận.", "oversized_image")
    warnings = risks.warnings() + ([{"code": "owner_password"}] if encrypted else [])
    return Inspection(page_count, b"ByteRange" in names, encrypted, tuple(warnings))


class _ObjectStreamTooLarge(Exception):
    """An object stream decodes past MAX_OBJECT_STREAM."""


class _Sink(bytearray):
    """A write() target that keeps the copy in one buffer (BytesIO.getvalue
    would hold it twice)."""

    def write(self, chunk) -> int:
        self.extend(chunk)
        return len(chunk)


def _open(data: bytes) -> tuple[int, int, bool, bytearray]:
    """Page count, document-level JavaScript count, whether the file is encrypted (it
    opened, so without a password) and PDFium's rewrite of the file: decrypted, object
    streams expanded, names in canonical form."""
    # PDFium keeps its last error across calls and does not set one when it
    # refuses a document for lacking a page tree. Opening a file that does
    # not exist leaves FPDF_ERR_FILE, which a load from memory never sets,
    # so that code after a failed load means "no page tree".
    pdfium_c.FPDF_LoadDocument(b"", None)
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise _open_error(exc) from exc
    except Exception as exc:
        raise _corrupt() from exc
    try:
        page_count = len(doc)
        doc_js = pdfium_c.FPDFDoc_GetJavaScriptActionCount(doc.raw)
        encrypted = pdfium_c.FPDF_GetSecurityHandlerRevision(doc.raw) != -1
        copy = _Sink()
        # Without this copy the content scan would be blind to encrypted and
        # compressed objects, so a file PDFium cannot write is refused.
        doc.save(copy, flags=pdfium_c.FPDF_REMOVE_SECURITY)
    except MemoryError:
        raise
    except Exception as exc:
        raise _corrupt() from exc
    finally:
        doc.close()
    return page_count, doc_js, encrypted, copy


def _open_error(exc: pdfium.PdfiumError) -> UploadRejected:
    if exc.err_code == pdfium_c.FPDF_ERR_FILE:
        return _no_pages()
    if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
        return _rejected("Tệp PDF được mã hóa bằng mật khẩu; hãy gửi bản không mật khẩu.",
                         "encrypted")
    if exc.err_code == pdfium_c.FPDF_ERR_SECURITY:
        return _rejected("Tệp PDF được mã hóa theo cách không hỗ trợ (ví dụ mã hóa bằng "
                         "chứng thư số); hãy gửi bản không mã hóa.", "encrypted")
    return _corrupt()


def _scan(buf: bytes | bytearray, *, read_streams: bool,
          meter: inflation.Meter) -> tuple[set[bytes], int, pdf_risks.Finder]:
    """Names used outside stream data, the largest declared image size and the objects
    naming a risky feature (a pdf_risks.Finder, to judge once encryption is known); every
    stream is measured by ``meter`` (DecompressionBomb past its limits).

    Stream data is skipped when looking for names because compressed bytes
    often spell "/JS" by chance; object streams are the exception: measured
    first, they are decoded and read like the rest of the file. Other stream
    bodies are only read for JBIG2 headers when ``buf`` is PDFium's decrypted
    copy; in the raw file they may be encrypted noise (which simply does not
    decode). Offsets instead of slices keep memory flat on large files.
    """
    names: set[bytes] = set()
    pixels = 0
    view = memoryview(buf)
    objects = Objects(buf)
    finder = pdf_risks.Finder(objects)
    for span in _split_streams(buf, objects):
        names.update(_NAMES.findall(buf, span.text_start, span.text_end))
        finder.look(buf, span.text_start, span.text_end)
        if span.body_start == span.body_end:
            continue
        width, height, allowance = _image_size(buf, span, objects)
        pixels = max(pixels, width * height)
        body = view[span.body_start:span.body_end]
        if read_streams and buf.find(b"/JBIG2Decode", span.dict_start, span.text_end) >= 0:
            pixels = max(pixels, _jbig2_page_pixels(body))
        filters, parameters = _filters(buf, span, objects)
        meter.measure(inflation.Stream(body, filters, parameters, allowance=allowance,
                                       exact=span.exact))
        if buf[span.dict_start:span.dict_start + 3] == b"obj":
            finder.stream(span.dict_start + 3, body, filters, parameters, span.info)
        if span.info is not None and span.info.get("Type") == "ObjStm":
            packed = _object_stream(body, filters, parameters)
            names.update(_NAMES.findall(packed))
            finder.object_stream(packed, span.info)
    return names, pixels, finder


def _object_stream(body: memoryview, filters: list, parameters: list) -> bytes:
    """The decoded objects of an object stream (nothing if it cannot be decoded here)."""
    packed = stream_filters.decode(body, filters, parameters, limit=MAX_OBJECT_STREAM + 1)
    if packed is not None and len(packed) > MAX_OBJECT_STREAM:
        raise _ObjectStreamTooLarge()
    return packed or b""


@dataclass(frozen=True)
class _Span:
    """Where one stream lies: the text before it (from the end of the previous
    stream), its dictionary (parsed when possible) and its body."""
    text_start: int
    dict_start: int
    text_end: int
    body_start: int
    body_end: int
    exact: bool = False  # the body is exactly /Length long, followed by endstream
    info: dict | None = None


def _split_streams(buf: bytes | bytearray, objects: Objects):
    """Every stream, then the text after the last one (with an empty body)."""
    pos = 0
    while match := _STREAM.search(buf, pos):
        dict_start = max(pos, buf.rfind(b"obj", pos, match.start()))
        info = stream_dictionary(buf, dict_start, match.start())
        start, end, exact = match.end(), -1, False
        length = _length(buf, dict_start, match.start(), info, objects)
        if length is not None:
            end = start + length
            exact = buf[end:end + 20].lstrip().startswith(b"endstream")
            if not exact:
                end = -1
        if end < 0:
            # Like PDFium, take the first "endstream" when /Length cannot be trusted.
            end = buf.find(b"endstream", start)
            if end < 0:
                end = len(buf)
        yield _Span(pos, dict_start, match.start(), start, end, exact, info)
        pos = end
    yield _Span(pos, pos, len(buf), len(buf), len(buf))


def _length(buf, dict_start: int, dict_end: int, info: dict | None,
            objects: Objects) -> int | None:
    if info is not None:
        length = objects.resolve(info.get("Length"))
        return length if isinstance(length, int) and length >= 0 else None
    match = _LENGTH.search(buf, dict_start, dict_end)
    return _number(match) if match and not match[2] else None


def _filters(buf, span: _Span, objects: Objects) -> tuple[list[str], list]:
    """The stream's filter names and their /DecodeParms, in decoding order."""
    if span.info is None:
        return [m[1].decode() for m in _FILTER_NAMES.finditer(
            buf, span.dict_start, span.text_end)], []
    filters = objects.resolve(span.info.get("Filter"))
    filters = filters if isinstance(filters, list) else [filters] if filters else []
    filters = [objects.resolve(name) for name in filters]
    # A name that is no name stops decoding where a reader would stop too.
    filters = [name if isinstance(name, Name) else "?" for name in filters]
    parameters = objects.resolve(span.info.get("DecodeParms", span.info.get("DP")))
    parameters = parameters if isinstance(parameters, list) else [parameters]
    return filters, [objects.resolve(entry) for entry in parameters]


def _image_size(buf, span: _Span, objects: Objects) -> tuple[int, int, int]:
    """Declared width and height of an image stream and the most its data can decode
    to (0, 0, 0 for any other stream)."""
    info = span.info
    if info is None:
        if not _IMAGE.search(buf, span.dict_start, span.text_end):
            return 0, 0, 0
        width = _WIDTH.search(buf, span.dict_start, span.text_end)
        height = _HEIGHT.search(buf, span.dict_start, span.text_end)
        if not (width and height):
            return 0, 0, 0
        width, height = _number(width), _number(height)
        return width, height, _image_bytes(width, height, 4, 16)
    if info.get("Subtype") != "Image":
        return 0, 0, 0
    width, height = objects.resolve(info.get("Width")), objects.resolve(info.get("Height"))
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        return 0, 0, 0
    if info.get("ImageMask") is True:
        return width, height, _image_bytes(width, height, 1, 1)
    bits = objects.resolve(info.get("BitsPerComponent"))
    bits = bits if isinstance(bits, int) and 1 <= bits <= 16 else 16
    return width, height, _image_bytes(width, height, _components(info, objects), bits)


def _components(info: dict, objects: Objects) -> int:
    space = objects.resolve(info.get("ColorSpace"))
    if isinstance(space, list) and space:
        family = objects.resolve(space[0])
        if family == "DeviceN" and len(space) > 1:
            colourants = objects.resolve(space[1])
            return len(colourants) if isinstance(colourants, list) and colourants else 4
        space = family
    return _COMPONENTS.get(space, 4) if isinstance(space, str) else 4


def _image_bytes(width: int, height: int, components: int, bits: int) -> int:
    # One more byte per row: the tag byte of PNG predictors.
    return ((width * components * bits + 7) // 8 + 1) * height


def _number(match: re.Match) -> int:
    # Absurdly long digit strings stay absurdly large without tripping
    # Python's limit on int() of huge strings.
    return int(match[1][:15])


def _jbig2_page_pixels(stream: memoryview) -> int:
    """Width x height from the page information segment of an embedded JBIG2
    stream (ITU-T T.88, 7.2 and 7.4.8), 0 if none is found early on."""
    pos = 0
    for _ in range(16):
        if pos + 6 > len(stream):
            return 0
        number = int.from_bytes(stream[pos:pos + 4], "big")
        flags = stream[pos + 4]
        refs = stream[pos + 5] >> 5
        pos += 6
        if refs == 7:  # long form: 29-bit count plus retention bits
            refs = int.from_bytes(stream[pos - 1:pos + 3], "big") & 0x1FFFFFFF
            pos += 3 + (refs + 8) // 8
        pos += refs * (1 if number <= 256 else 2 if number <= 65536 else 4)
        pos += 4 if flags & 0x40 else 1
        size = int.from_bytes(stream[pos:pos + 4], "big")
        pos += 4
        if flags & 0x3F == 48 and pos + 8 <= len(stream):
            return int.from_bytes(stream[pos:pos + 4], "big") * int.from_bytes(
                stream[pos + 4:pos + 8], "big")
        if size == 0xFFFFFFFF:
            return 0
        pos += size
    return 0


def _sniff(data: bytes) -> str:
    try:
        return magic.from_buffer(data[:8192], mime=True) or "application/octet-stream"
    except Exception:  # noqa: BLE001 — libmagic's failures vary by build; PDFium decides next
        return "application/octet-stream"


def _format_size(n: int) -> str:
    for unit, factor in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= factor:
            value = n / factor
            text = f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")
            return f"{text} {unit}"
    return f"{n} byte"


def _no_pages() -> UploadRejected:
    return _rejected("Tệp PDF không có trang nào.", "no_pages")


def _corrupt() -> UploadRejected:
    return _rejected("Tệp PDF bị hỏng hoặc không đọc được.", "corrupt")


def _rejected(message: str, reason: str) -> UploadRejected:
    return UploadRejected(message, field="file", reason=reason)
