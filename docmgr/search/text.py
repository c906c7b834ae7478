"""The text of stored PDFs, for full-text search.

``extract`` reads the text layer of every page with PDFium (fast, safe to call anywhere).
Pages whose text layer is empty or too thin to be real are reported in
``ExtractedText.missing``; the worker OCRs them with ``ocr_pages`` (the ``tesseract``
binary, Vietnamese model ``tesseract-ocr-vie``) and fills them in with ``merge``. OCR is
slow (about a second per page) and must never run in a web request.

Nothing here writes to the PDF: it is only opened for reading, the text goes to the
database. PDFium and tesseract run in sandboxed workers of the background lane
(``docmgr.core.sandbox``), never in the calling process: a file that needs more memory
or CPU time than the limits below raises ``TextOverLimit`` (it will do so every time:
mark the file), a busy machine ``TextDeferred`` (try again later). Each worker is
single-threaded, so PDFium needs no lock there, and previews never wait for the indexer.

Debian packages needed for OCR: ``tesseract-ocr`` and ``tesseract-ocr-vie``.
"""
import functools
import io
import os
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from docmgr.core import sandbox
from docmgr.core.catalogue import fix_lookalikes

# The tesseract executable: a name looked up on PATH, or a path (tests replace it).
TESSERACT = "tesseract"
# A page with fewer letters than this has no real text layer (a scan, perhaps with a
# page number or a stamp's text): it is an OCR candidate.
MIN_LETTERS = 20
# Largest image handed to tesseract (A3 at 300 dpi is 17.4 million pixels).
MAX_OCR_PIXELS = 40_000_000
# Fully automatic page segmentation without orientation detection: suits whole pages.
PSM = "3"
LANG = re.compile(r"^[A-Za-z0-9_]+(?:\+[A-Za-z0-9_]+)*$")

# Reading the text layer of an 874-page LibreOffice document took 2.7 s of CPU and
# 111 MiB of address space; a bomb's content stream fills the address space in seconds.
EXTRACT_LIMITS = sandbox.Limits(memory=1 << 30, cpu=60, wall=240)
# One page for OCR: rendering it (at most MAX_OCR_PIXELS in grey, 40 MB) and tesseract,
# which inherits the address-space limit (its Vietnamese model needs about 300 MiB) but
# keeps its own CPU clock; its own ``timeout`` bounds it, the wall time adds a margin.
OCR_MEMORY = 2 << 30
OCR_CPU = 30
OCR_WALL_MARGIN = 60


class TextUnreadable(Exception):
    """The PDF cannot be opened at all (corrupt, not a PDF, password-protected)."""


class TextOverLimit(TextUnreadable):
    """Reading the file crossed a worker's memory or CPU limit, or crashed it: it will do
    so again, so the file should be marked and left alone. ``limit`` says which."""

    def __init__(self, message: str, limit: str):
        super().__init__(message)
        self.limit = limit


class TextDeferred(Exception):
    """Not done now: every worker was busy, or the machine too slow for the wall-time
    limit. The same call may succeed later."""


class OcrFailed(Exception):
    """OCR could not be done: tesseract or the language is missing, it failed or timed out."""


@dataclass
class ExtractedText:
    pages: list[str] = field(default_factory=list)   # one tidied NFC string per page
    missing: list[int] = field(default_factory=list)  # 0-based pages to OCR


# PDFium marks a hyphen it found at the end of a line as U+0002 (bounded text) or
# U+FFFE (range text) and drops the line break: "26/2016/TT-" + "BLĐTBXH".
_HYPHEN_MARKS = str.maketrans({"\x02": "-", "\ufffe": "-"})
_LINE_BREAKS = re.compile(r"\r\n?|[\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")  # soft hyphen, zero widths
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\ufffd\uffff]")
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace but a line break


def tidy(text: str) -> str:
    """NFC, look-alike Ð fixed, line breaks as single ``\\n``, runs of spaces as one
    space, no blank lines, no leading or trailing spaces on a line."""
    text = _LINE_BREAKS.sub("\n", (text or "").translate(_HYPHEN_MARKS))
    text = _OTHER_CONTROLS.sub(" ", _INVISIBLE.sub("", text))
    text = fix_lookalikes(unicodedata.normalize("NFC", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _letters(text: str) -> int:
    return sum(1 for char in text if char.isalpha())


def _isolated(limits: sandbox.Limits, function, *args, **kwargs):
    try:
        return sandbox.BACKGROUND.run(limits, function, *args, **kwargs)
    except sandbox.LimitExceeded as exc:
        raise TextOverLimit(f"The PDF exceeds the processing limits ({exc}).",
                            exc.limit) from exc
    except (sandbox.TimedOut, sandbox.Unavailable) as exc:
        raise TextDeferred(str(exc)) from exc


def _source(pdf: bytes | str | os.PathLike) -> bytes | str:
    """What a worker opens: the bytes, or better the path of a stored blob (not copied
    through a pipe)."""
    return bytes(pdf) if isinstance(pdf, (bytes, bytearray, memoryview)) else os.fspath(pdf)


def _open(pdf: bytes | str) -> pdfium.PdfDocument:
    """TextUnreadable if PDFium refuses the file."""
    try:
        return pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise TextUnreadable("The PDF is encrypted; its text cannot be read.") from exc
        raise TextUnreadable(f"The PDF cannot be opened: {exc}") from exc
    except Exception as exc:  # anything else from the binding: still an unreadable file
        raise TextUnreadable(f"The PDF cannot be opened: {exc}") from exc


def _page_text(document: pdfium.PdfDocument, index: int) -> str | None:
    """The raw text layer of one page, or None if PDFium cannot read the page."""
    try:
        page = document[index]
    except MemoryError:
        raise  # the worker's memory limit: the file is over it, not the page unreadable
    except Exception:  # noqa: BLE001 - a page PDFium cannot load is a missing page
        return None
    try:
        textpage = page.get_textpage()
        try:
            return textpage.get_text_range()
        finally:
            textpage.close()
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - nor is one whose text it cannot read
        return None
    finally:
        page.close()


def extract(pdf: bytes | str | os.PathLike) -> ExtractedText:
    """The text layer of every page, tidied; pages with no real text are ``missing``.
    ``pdf`` is the file's bytes or its path.

    Raises TextUnreadable if the file cannot be opened (TextOverLimit if it needs more
    than EXTRACT_LIMITS), TextDeferred if it cannot be read now; a page that cannot be
    read counts as missing (its text is "")."""
    return _isolated(EXTRACT_LIMITS, extract_here, _source(pdf))


def extract_here(pdf: bytes | str) -> ExtractedText:
    """``extract`` in the calling process: for sandbox workers only."""
    document = _open(pdf)
    try:
        result = ExtractedText()
        for index in range(len(document)):
            raw = _page_text(document, index)
            text = tidy(raw) if raw else ""
            result.pages.append(text)
            if raw is None or _letters(text) < MIN_LETTERS:
                result.missing.append(index)
        return result
    finally:
        document.close()


@functools.lru_cache(maxsize=16)
def _languages(executable: str) -> frozenset[str]:
    """What ``tesseract --list-langs`` lists (empty if it cannot be run)."""
    try:
        done = subprocess.run([executable, "--list-langs"], capture_output=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    if done.returncode != 0:
        return frozenset()
    output = (done.stdout + b"\n" + done.stderr).decode("utf-8", "replace")
    # The first line is a heading ("List of available languages in ... (3):").
    return frozenset(line.strip() for line in output.splitlines()
                     if line.strip() and not line.lower().startswith("list of"))


def _executable() -> str | None:
    return shutil.which(TESSERACT)


def ocr_available(lang: str = "vie") -> bool:
    """Whether the tesseract binary is on PATH with every language of ``lang``
    ("vie", "vie+eng") installed. The answer is cached per binary."""
    executable = _executable()
    if not executable or not LANG.match(lang or ""):
        return False
    return set(lang.split("+")) <= _languages(executable)


def _render(document: pdfium.PdfDocument, index: int, dpi: int) -> bytes:
    """Page ``index`` as a grayscale PGM image at ``dpi`` (capped at MAX_OCR_PIXELS)."""
    page = document[index]
    try:
        width, height = page.get_size()
        scale = dpi / 72
        area = max(width * height, 1)
        if area * scale * scale > MAX_OCR_PIXELS:
            scale = (MAX_OCR_PIXELS / area) ** 0.5
        bitmap = page.render(scale=scale, grayscale=True, may_draw_forms=True)
        try:
            image = bitmap.to_pil()  # shares the bitmap's memory: encode before close
            buffer = io.BytesIO()
            image.save(buffer, format="PPM")  # an "L" image is written as binary PGM
            return buffer.getvalue()
        finally:
            bitmap.close()
    finally:
        page.close()


def _tesseract(executable: str, image: bytes, *, lang: str, dpi: int, timeout: float,
               page: int) -> str:
    # One thread per tesseract: OpenMP's default (all cores) is ~4x slower on a busy box.
    env = {**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")}
    command = [executable, "stdin", "stdout", "-l", lang, "--psm", PSM, "--dpi", str(dpi)]
    try:
        done = subprocess.run(command, input=image, capture_output=True, timeout=timeout,
                              env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OcrFailed(f"tesseract timed out after {timeout:g} s on page {page + 1}.") from exc
    except OSError as exc:
        raise OcrFailed(f"tesseract could not be started ({executable}): {exc}") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()[-500:]
        raise OcrFailed(f"tesseract failed on page {page + 1} (exit {done.returncode}): "
                        f"{detail or 'no message'}")
    return tidy(done.stdout.decode("utf-8", "replace"))


def ocr_pages(pdf: bytes | str | os.PathLike, pages: list[int], *, lang: str = "vie",
              dpi: int = 300, timeout: float = 120) -> dict[int, str]:
    """OCR the given 0-based pages: {page: tidied NFC text}. For the worker only.

    Each page is rendered in grayscale at ``dpi`` and read by ``tesseract -l lang``;
    ``timeout`` is in seconds per page. Raises OcrFailed if tesseract or the language is
    missing, a page cannot be rendered, or tesseract fails or times out; TextUnreadable if
    the PDF cannot be opened (TextOverLimit past the limits), TextDeferred if not now."""
    if not LANG.match(lang or ""):
        raise OcrFailed(f"Invalid OCR language {lang!r} (expected e.g. 'vie' or 'vie+eng').")
    if dpi <= 0:
        raise OcrFailed(f"Invalid OCR resolution {dpi} dpi.")
    executable = _executable()
    if not executable:
        raise OcrFailed(f"tesseract ({TESSERACT}) is not installed or not on PATH; "
                        "install the tesseract-ocr package.")
    if not ocr_available(lang):
        raise OcrFailed(f"tesseract has no {lang!r} language data; install "
                        + ", ".join(f"tesseract-ocr-{code.lower()}" for code in lang.split("+"))
                        + ".")
    if not pages:
        return {}
    source = _source(pdf)
    limits = sandbox.Limits(memory=OCR_MEMORY, cpu=OCR_CPU, wall=timeout + OCR_WALL_MARGIN)
    # One job per page: the wall-time limit stays per page, as tesseract's timeout is.
    return {index: _isolated(limits, ocr_page_here, source, index, executable=executable,
                             lang=lang, dpi=dpi, timeout=timeout)
            for index in pages}


def ocr_page_here(pdf: bytes | str, index: int, *, executable: str, lang: str, dpi: int,
                  timeout: float) -> str:
    """One page of ``ocr_pages`` in the calling process: for sandbox workers only."""
    document = _open(pdf)
    try:
        count = len(document)
        if not 0 <= index < count:
            raise OcrFailed(f"Page {index + 1} does not exist (the PDF has {count}).")
        try:
            document.init_forms()  # so a signature's appearance (number, seal) is drawn
        except Exception:  # noqa: BLE001, S110 - without form fields the page still renders
            pass
        try:
            image = _render(document, index, dpi)
        except MemoryError:
            raise
        except Exception as exc:
            raise OcrFailed(f"Page {index + 1} cannot be rendered for OCR: {exc}") from exc
    finally:
        document.close()
    return _tesseract(executable, image, lang=lang, dpi=dpi, timeout=timeout, page=index)


def merge(pages: list[str], ocr: dict[int, str]) -> list[str]:
    """A new list: ``pages`` with each page that OCR read replaced by its OCR text (an
    empty OCR result keeps the page's own text; pages out of range are ignored)."""
    return [ocr.get(index) or text for index, text in enumerate(pages)]
