"""Page images for the in-browser preview, rendered once with PDFium and cached on disk.

The cache is derived data (under DATA_DIR/cache) keyed by the blob's hash, so it
can be deleted at any time. Rendering is bounded in pixels so that a hostile
page size cannot exhaust memory.
"""
import os
import tempfile
from pathlib import Path

import pypdfium2 as pdfium

from docmgr.core.errors import NotFound
from docmgr.core.pdfium import LOCK
from docmgr.core.storage import BlobStore

MAX_PIXELS = 12_000_000


def page_png(blobs: BlobStore, cache_dir: Path, sha256: str, page_number: int,
             width: int) -> Path:
    """Path to a PNG of page ``page_number`` (from 1) of the blob, rendering it if needed."""
    target = cache_dir / sha256[:2] / f"{sha256}-{page_number}-{width}-f.png"
    if target.exists():
        return target
    with LOCK:
        pdf = pdfium.PdfDocument(blobs.path(sha256))
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
            page.close()
        finally:
            pdf.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".png")
    with os.fdopen(fd, "wb") as handle:
        image.save(handle, format="PNG", optimize=False)
    os.replace(tmp, target)
    return target
