"""Where signatures and the issuing fields go, found from the PDF's text layer.

ND30's signature block ("ô 7") is the signer's title, a blank space, then the signer's
full name: the personal signature goes in the space just above the name on the last
page that carries it. The number goes after "Số:" on page 1, the date over the date
line ("…, ngày … tháng … năm …").
"""
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache

import pypdfium2 as pdfium

from docmgr.core.pdfium import LOCK

SIGNATURE_W, SIGNATURE_H = 150.0, 62.0  # points, about 53 × 22 mm
NUMBER_W = 150.0
FIELD_H = 22.0  # fits a 12-13 pt line of the filled number or date
WORD_GAP = 14.0  # a wider horizontal gap separates the date line from the column beside it


@dataclass(frozen=True)
class Box:
    page: int  # from 0
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Layout:
    """Where the issuing process writes: personal signature, number, date; and whether
    the signature block was found (False: a default place the signer should check)."""
    personal: Box
    number: Box | None
    date: Box | None
    found: bool
    page_sizes: list[tuple[float, float]]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def _folded_with_positions(text: str) -> tuple[str, list[int]]:
    """The text folded (no case, no diacritics) and, per folded character, the index of
    the character it came from — so a match maps back to PDFium's character boxes even
    when the PDF stores letters and accents as separate characters."""
    chars, positions = [], []
    for index, char in enumerate(text):
        for folded in _fold(char):
            chars.append(folded)
            positions.append(index)
    return "".join(chars), positions


def _union(textpage, indices) -> tuple | None:
    boxes = [textpage.get_charbox(i) for i in indices]
    boxes = [b for b in boxes if b[2] > b[0]]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _find(textpage, needle: str):
    """Bounding box (x0, y0, x1, y1) of the first match, ignoring case and diacritics."""
    folded, positions = _folded_with_positions(textpage.get_text_range() or "")
    start = folded.find(_fold(needle))
    if start < 0:
        return None
    end = start + len(_fold(needle)) - 1
    return _union(textpage, range(positions[start], positions[end] + 1))


def _place_name_start(textpage, index: int) -> int:
    """Walk left from "ngày" over the place name ("Quảng Ngãi, ") to where the line or
    the column starts: a line break or a gap wider than a word space."""
    left = textpage.get_charbox(index)
    while index > 0:
        char = textpage.get_text_range(index - 1, 1)
        if char in "\r\n":
            break
        box = textpage.get_charbox(index - 1)
        if char.strip():
            if left[0] - box[2] > WORD_GAP or box[2] > left[0] + 1:
                break
            left = box
        index -= 1
    return index


def find_layout(pdf: bytes, signer_name: str) -> Layout:
    with LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            sizes = [document.get_page_size(i) for i in range(len(document))]
            personal = _signature_box(document, signer_name, sizes)
            number, date = _header_boxes(document, sizes[0])
        finally:
            document.close()
    found = personal is not None
    if personal is None:
        last = len(sizes) - 1
        width, _ = sizes[last]
        personal = Box(last, width - 72 - SIGNATURE_W - 40, 150, width - 72 - 40,
                       150 + SIGNATURE_H)
    return Layout(personal=personal, number=number, date=date, found=found, page_sizes=sizes)


def _signature_box(document, signer_name: str, sizes) -> Box | None:
    name = " ".join(signer_name.split())
    if not name:
        return None
    for index in range(len(document) - 1, -1, -1):
        page = document[index]
        textpage = page.get_textpage()
        try:
            hit = _find(textpage, name)
        finally:
            textpage.close()
            page.close()
        if hit:
            x0, _, x1, y1 = hit
            centre = (x0 + x1) / 2
            width, height = sizes[index]
            left = min(max(centre - SIGNATURE_W / 2, 10), width - SIGNATURE_W - 10)
            bottom = min(y1 + 4, height - SIGNATURE_H - 10)
            return Box(index, left, bottom, left + SIGNATURE_W, bottom + SIGNATURE_H)
    return None


_DATE_LINE = re.compile(r"ngay\s*[\d.…_ ]*\s*thang\s*[\d.…_ ]*\s*nam\s*[\d.…_ ]*")


def _header_boxes(document, size) -> tuple[Box | None, Box | None]:
    page = document[0]
    textpage = page.get_textpage()
    try:
        width, height = size
        number = None
        label = _find(textpage, "Số:")
        if label and label[1] > height / 2:
            x0, y0, x1, y1 = label
            middle = (y0 + y1) / 2
            number = Box(0, x1 + 2, middle - FIELD_H / 2, x1 + 2 + NUMBER_W,
                         middle + FIELD_H / 2)
        date = None
        folded, positions = _folded_with_positions(textpage.get_text_range() or "")
        match = _DATE_LINE.search(folded)
        if match:
            first = _place_name_start(textpage, positions[match.start()])
            hit = _union(textpage, range(first, positions[match.end() - 1] + 1))
            if hit and hit[1] > height / 2:
                x0, y0, x1, y1 = hit
                middle = (y0 + y1) / 2
                date = Box(0, x0 - 2, middle - FIELD_H / 2, min(max(x1 + 60, x0 + 250),
                                                                  width - 10),
                           middle + FIELD_H / 2)
        return number, date
    finally:
        textpage.close()
        page.close()


@lru_cache(maxsize=512)
def layout_of_blob(path: str, signer_name: str) -> Layout:
    """find_layout for a file of the blob store. Blobs never change (content-addressed),
    so the answer the signing page computed is reused when the signer signs."""
    with open(path, "rb") as handle:
        return find_layout(handle.read(), signer_name)
