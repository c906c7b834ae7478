"""The capacity lines of a draft's signer block (ND30 Phụ lục I, ô 7a "quyền hạn, chức vụ
của người ký"): the text above the signer's name — "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH",
"TL. GIÁM ĐỐC / CHÁNH VĂN PHÒNG" — read from the text layer around the place
``placement`` found for the personal signature. What the lines must say is the outgoing
slice's rule; this module only reads them."""
from functools import lru_cache

import pypdfium2 as pdfium

from docmgr.core.pdfium import LOCK
from docmgr.signing import placement

# The title lines sit above the space left for the signature (about 20-30 mm) and may be
# wider than the signature box ("TM. ỦY BAN NHÂN DÂN" in 13 pt bold is ~160 pt).
REACH_UP = 110.0
REACH_SIDE = 60.0


def lines_above_name(pdf: bytes, layout: placement.Layout) -> tuple[str, ...] | None:
    """The non-empty text lines of the signer block above the name, top first as the
    PDF stores them; None when the block was not found (nothing to read)."""
    if not layout.found:
        return None
    box = layout.personal
    with LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            width, height = document.get_page_size(box.page)
            page = document[box.page]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_bounded(
                    left=max(0.0, box.x0 - REACH_SIDE), bottom=box.y0,
                    right=min(width, box.x1 + REACH_SIDE), top=min(height, box.y1 + REACH_UP))
            finally:
                textpage.close()
                page.close()
        finally:
            document.close()
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


@lru_cache(maxsize=512)
def lines_of_blob(path: str, signer_name: str) -> tuple[str, ...] | None:
    """lines_above_name for a file of the blob store (content-addressed, so never stale):
    the signing page and the signature itself read it once."""
    layout = placement.layout_of_blob(path, signer_name)
    with open(path, "rb") as handle:
        return lines_above_name(handle.read(), layout)
