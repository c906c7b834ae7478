"""Checks an uploaded PDF before it is stored.

The bytes are never changed: signed originals must stay byte-identical, so
everything here only reads. Rejections are ``UploadRejected`` (or
``UploadTooLarge``) with a Vietnamese message for the uploader and a short
machine-readable ``reason``.
"""
import hashlib
import re
from dataclasses import dataclass

import magic
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from docmgr.core.errors import UploadRejected, UploadTooLarge
from docmgr.core.pdfium import LOCK as PDFIUM_LOCK

# A0 at about 400 dpi. The JBIG2 "bomb" declares 100 000 x 100 000 pixels; a
# real scan is far below this, while decoding above it costs gigabytes.
MAX_IMAGE_PIXELS = 1 << 28

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


@dataclass(frozen=True)
class CheckedPdf:
    data: bytes
    page_count: int
    sha256: str
    has_signatures: bool


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

    page_count, doc_js, normalised = _open(data)
    if page_count < 1:
        raise _no_pages()

    # The raw bytes show objects other readers may recover but PDFium ignores;
    # PDFium's own re-serialisation shows what object streams and encryption
    # hide from a byte scan.
    names, pixels = _scan(data, read_streams=False)
    more_names, more_pixels = _scan(normalised, read_streams=True)
    names |= more_names
    pixels = max(pixels, more_pixels)

    found = {_ACTIVE_CONTENT[name] for name in names if name in _ACTIVE_CONTENT}
    if doc_js > 0 or "javascript" in found:
        raise _rejected("Tệp PDF chứa mã JavaScript nên không được chấp nhận.", "javascript")
    if "launch" in found:
        raise _rejected("Tệp PDF chứa lệnh mở chương trình bên ngoài (Launch) nên không được "
                        "chấp nhận.", "launch")
    if pixels > MAX_IMAGE_PIXELS:
        raise _rejected("Tệp PDF chứa hình ảnh có kích thước bất thường, có thể gây quá tải "
                        "nên không được chấp nhận.", "oversized_image")

    return CheckedPdf(data=data, page_count=page_count,
                      sha256=hashlib.sha256(data).hexdigest(),
                      has_signatures=b"ByteRange" in names)


class _Sink(bytearray):
    """A write() target that keeps the copy in one buffer (BytesIO.getvalue
    would hold it twice)."""

    def write(self, chunk) -> int:
        self.extend(chunk)
        return len(chunk)


def _open(data: bytes) -> tuple[int, int, bytearray]:
    """Page count, document-level JavaScript count and PDFium's rewrite of the
    file: decrypted, object streams expanded, names in canonical form."""
    with PDFIUM_LOCK:
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
            copy = _Sink()
            # Without this copy the content scan would be blind to encrypted and
            # compressed objects, so a file PDFium cannot write is refused.
            doc.save(copy, flags=pdfium_c.FPDF_REMOVE_SECURITY)
        except Exception as exc:
            raise _corrupt() from exc
        finally:
            doc.close()
    return page_count, doc_js, copy


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


def _scan(buf: bytes | bytearray, *, read_streams: bool) -> tuple[set[bytes], int]:
    """Names used outside stream data, and the largest declared image size.

    Stream data is skipped because compressed bytes often spell "/JS" by
    chance. Stream bodies are only read when ``buf`` is PDFium's decrypted
    copy; in the raw file they may be encrypted noise. Offsets instead of
    slices keep memory flat on large files.
    """
    names: set[bytes] = set()
    pixels = 0
    view = memoryview(buf)
    for text_start, dict_start, text_end, body_start, body_end in _split_streams(buf):
        names.update(_NAMES.findall(buf, text_start, text_end))
        if body_start == body_end:
            continue
        if _IMAGE.search(buf, dict_start, text_end):
            width = _WIDTH.search(buf, dict_start, text_end)
            height = _HEIGHT.search(buf, dict_start, text_end)
            if width and height:
                pixels = max(pixels, _number(width) * _number(height))
        if read_streams and buf.find(b"/JBIG2Decode", dict_start, text_end) >= 0:
            pixels = max(pixels, _jbig2_page_pixels(view[body_start:body_end]))
    return names, pixels


def _split_streams(buf: bytes | bytearray):
    """Yields offsets (text start, stream dictionary start, text end, body
    start, body end); the text after the last stream comes with an empty body."""
    pos = 0
    while match := _STREAM.search(buf, pos):
        dict_start = max(pos, buf.rfind(b"obj", pos, match.start()))
        start, end = match.end(), -1
        length = _LENGTH.search(buf, dict_start, match.start())
        if length and not length[2]:
            end = start + _number(length)
            if not buf[end:end + 20].lstrip().startswith(b"endstream"):
                end = -1
        if end < 0:
            end = buf.find(b"endstream", start)
            if end < 0:
                end = len(buf)
        yield pos, dict_start, match.start(), start, end
        pos = end
    yield pos, pos, len(buf), len(buf), len(buf)


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
    except Exception:
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
