"""Page images for the in-browser preview, rendered once and cached on disk.

The cache is derived data (under DATA_DIR/cache) keyed by the blob's hash, so it
can be deleted at any time. Rendering runs in a sandboxed worker
(``docmgr.core.sandbox``): a page that needs more memory or CPU time than
``PREVIEW_LIMITS`` ends the worker, not the web process, and the request answers
at once with ``PreviewUnavailable`` (its file is then marked, see
``guard_limits``). The image is also bounded in pixels, so that a hostile page
size cannot exhaust the worker before that.
"""
import io
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageDraw

from docmgr.core import processing, sandbox
from docmgr.core.documents import OVER_LIMIT_NOTICE
from docmgr.core.errors import DomainError, NotFound, ServiceBusy
from docmgr.core.storage import BlobStore, write_private

MAX_PIXELS = 12_000_000

# Measured (first page, 1000 px wide): every corpus PDF and generated office files
# (300 dpi scans, a 1000-page document) render in at most 0.15 s of CPU and 160 MiB
# of address space; the costliest page seen, a drawing of 200 000 random full-page
# strokes, took 10.6 s. A bomb's content stream fills the address space in seconds.
PREVIEW_LIMITS = sandbox.Limits(memory=1 << 30, cpu=20, wall=60)

MSG_BUSY = "Máy chủ đang bận nên chưa tạo được bản xem trước; vui lòng tải lại sau ít phút."


class PreviewUnavailable(DomainError):
    """The page cannot be shown: its file exceeds the processing limits."""
    status = 422
    code = "preview_unavailable"


Marks = Callable[[str], list[tuple[int, int]]]  # the page's text -> spans to highlight


def page_png(blobs: BlobStore, cache_dir: Path, sha256: str, page_number: int,
             width: int) -> Path:
    """Path to a PNG of page ``page_number`` (from 1) of the blob, rendering it if needed."""
    target = cache_dir / sha256[:2] / f"{sha256}-{page_number}-{width}-f.png"
    if target.exists():
        return target
    png = _render_isolated(blobs, sha256, page_number, width, None)
    write_private(target, png)  # 0600 in 0700 directories, like every file of DATA_DIR
    return target


def marked_page_png(blobs: BlobStore, sha256: str, page_number: int, width: int,
                    marks: Marks) -> bytes:
    """The page with the words that ``marks`` finds in its text layer highlighted, as PNG
    bytes (not cached: it depends on the search that led here). ``marks`` is called in
    the worker, so it must be picklable (a module-level function or a partial of one)."""
    return _render_isolated(blobs, sha256, page_number, width, marks)


@contextmanager
def guard_limits(db, stored):
    """Around a preview of ``stored`` (a StoredFile): refuses at once a file already
    marked over the limits, and marks one whose rendering crosses them now."""
    if stored.over_limit:
        raise PreviewUnavailable(OVER_LIMIT_NOTICE)
    try:
        yield
    except PreviewUnavailable as exc:
        processing.mark_over_limit(db, stored.id, exc.extra.get("limit", "crash"))
        raise


def _render_isolated(blobs: BlobStore, sha256: str, page_number: int, width: int,
                     marks: Marks | None) -> bytes:
    try:
        return sandbox.PREVIEWS.run(PREVIEW_LIMITS, render_png, str(blobs.path(sha256)),
                                    page_number, width, marks)
    except sandbox.LimitExceeded as exc:
        raise PreviewUnavailable(OVER_LIMIT_NOTICE, limit=exc.limit) from exc
    except (sandbox.TimedOut, sandbox.Unavailable) as exc:
        raise ServiceBusy(MSG_BUSY) from exc


def render_png(path: str, page_number: int, width: int, marks: Marks | None) -> bytes:
    """Runs in a sandbox worker: the page as PNG bytes."""
    out = io.BytesIO()
    _render(path, page_number, width, marks).save(out, format="PNG", optimize=False)
    return out.getvalue()


def _render(path: str, page_number: int, width: int, marks: Marks | None) -> Image.Image:
    pdf = pdfium.PdfDocument(path)
    try:
        pdf.init_forms()  # draw form fields and signature appearances (number, seal)
        if not 1 <= page_number <= len(pdf):
            raise NotFound("Trang không tồn tại.")
        page = pdf[page_number - 1]
        page_width, page_height = page.get_size()
        scale = width / max(page_width, 1)
        if page_width * page_height * scale * scale > MAX_PIXELS:
            scale = (MAX_PIXELS / max(page_width * page_height, 1)) ** 0.5
        image = page.render(scale=scale, may_draw_forms=True).to_pil()
        boxes = _marked_boxes(page, marks) if marks else []
        page.close()
    finally:
        pdf.close()
    if boxes:
        image = _highlight(image, boxes, scale, page_height)
    return image


def _marked_boxes(page, marks: Marks) -> list[tuple[float, float, float, float]]:
    """PDF-space boxes (left, bottom, right, top) of the marked words. The page's text is
    read one character at a time so that offsets match PDFium's character indices."""
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i) or 32)
                       for i in range(count))
        boxes = []
        for start, end in marks(text):
            chars = [textpage.get_charbox(i) for i in range(start, end)]
            boxes.append((min(c[0] for c in chars), min(c[1] for c in chars),
                          max(c[2] for c in chars), max(c[3] for c in chars)))
        return boxes
    finally:
        textpage.close()


def _highlight(image: Image.Image, boxes, scale: float, page_height: float) -> Image.Image:
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for left, bottom, right, top in boxes:
        draw.rectangle([left * scale - 1, (page_height - top) * scale - 1,
                        right * scale + 1, (page_height - bottom) * scale + 1],
                       fill=(250, 204, 21, 110))
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
