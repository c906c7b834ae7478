"""Test files made on the fly instead of committed: a scan-like image of a Vietnamese
decree's first page.

The real scans in the corpus (ocr/vi-scans) carry no licence, so they stay corpus-only.
This page is rendered with the Noto Serif subset the application ships
(docmgr/signing/fonts, OFL) from the public text of Nghị định 28/2021/NĐ-CP, then made to
look scanned (grey paper, a slight tilt, blur, noise, JPEG) so that OCR has real work to
do. Deterministic: the same bytes every run.
"""
from __future__ import annotations

import io
import random
from functools import cache

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from docmgr.signing import fonts

FONT = fonts.__path__[0] + "/NotoSerif-Regular-vi.ttf"
DPI = 200
A4 = (1654, 2339)  # pixels at 200 dpi

# (text, size in points, centred)
DECREE_PAGE = [
    ("CHÍNH PHỦ", 13, False),
    ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 13, False),
    ("Độc lập - Tự do - Hạnh phúc", 13, False),
    ("Số: 28/2021/NĐ-CP", 13, False),
    ("Hà Nội, ngày 26 tháng 3 năm 2021", 13, False),
    ("", 13, False),
    ("NGHỊ ĐỊNH", 15, True),
    ("Quy định cơ chế quản lý tài chính dự án đầu tư", 13, True),
    ("theo phương thức đối tác công tư", 13, True),
    ("", 13, False),
    ("Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;", 13, False),
    ("Căn cứ Luật Đầu tư theo phương thức đối tác công tư", 13, False),
    ("ngày 18 tháng 6 năm 2020;", 13, False),
    ("Căn cứ Luật Ngân sách nhà nước ngày 25 tháng 6 năm 2015;", 13, False),
    ("Theo đề nghị của Bộ trưởng Bộ Tài chính;", 13, False),
    ("Chính phủ ban hành Nghị định quy định cơ chế quản lý tài chính", 13, False),
    ("dự án đầu tư theo phương thức đối tác công tư.", 13, False),
    ("", 13, False),
    ("Chương I", 13, True),
    ("QUY ĐỊNH CHUNG", 13, True),
    ("Điều 1. Phạm vi điều chỉnh", 13, False),
    ("Nghị định này quy định cơ chế quản lý tài chính đối với dự án", 13, False),
    ("đầu tư theo phương thức đối tác công tư.", 13, False),
]
# What OCR must find on that page (folded: without diacritics, as search folds them).
DECREE_WORDS = ["28/2021", "nghi dinh", "chinh phu", "doi tac cong tu", "bo tai chinh"]


@cache
def scan_image() -> Image.Image:
    """The decree page as a grey 200-dpi A4 scan (a copy: callers may change it)."""
    rng = random.Random(28_2021)
    page = Image.new("L", A4, 236)  # recycled paper is not white
    draw = ImageDraw.Draw(page)
    y = 170
    for text, points, centred in DECREE_PAGE:
        size = round(points * DPI / 72)
        if text:
            font = ImageFont.truetype(FONT, size)
            width = draw.textlength(text, font=font)
            x = (A4[0] - width) / 2 if centred else 190
            draw.text((x, y), text, fill=rng.randint(20, 45), font=font)
        y += round(size * 1.55)
    # A page fed a little crooked, slightly out of focus, with sensor noise.
    page = page.rotate(0.6, resample=Image.Resampling.BICUBIC, fillcolor=236)
    page = page.filter(ImageFilter.GaussianBlur(0.8))
    # Grain from a seeded tile (Pillow's own noise is not seeded); odd sizes hide the seams.
    tile = Image.frombytes("L", (257, 263), bytes(rng.randint(128 - 14, 128 + 14)
                                                  for _ in range(257 * 263)))
    grain = Image.new("L", A4)
    for left in range(0, A4[0], 257):
        for top in range(0, A4[1], 263):
            grain.paste(tile, (left, top))
    return ImageChops.add(page, grain, 1.0, -128)


@cache
def scan_jpeg() -> bytes:
    """The scan as a scanner's JPEG file."""
    out = io.BytesIO()
    scan_image().save(out, "JPEG", quality=80, dpi=(DPI, DPI))
    return out.getvalue()


@cache
def scan_pdf() -> bytes:
    """A one-page PDF holding only the scan: no text layer, like a scanner's."""
    out = io.BytesIO()
    with Image.open(io.BytesIO(scan_jpeg())) as image:
        image.save(out, "PDF", resolution=DPI)
    return out.getvalue()
