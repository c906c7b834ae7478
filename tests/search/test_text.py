"""Text extraction and OCR (docmgr.search.text) on real Công báo PDFs, a scan-like page of a
Government decree (generated; the real scans are in the corpus tests), damaged files.

Tests that run tesseract skip when it (or its Vietnamese data) is missing, except in CI
(the ``CI`` environment variable set), where a missing tesseract fails them."""
import io
import os
import unicodedata
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from docmgr.core.pdfium import LOCK
from docmgr.search import text
from docmgr.search.analysis import fold
from docmgr.search.text import ExtractedText, OcrFailed, TextUnreadable
from tests import corpus, generated

THONG_TU = corpus.data("pdf/vn/unsigned/thong-tu-12-2022-TT-BLDTBXH.pdf")
NGHI_QUYET = "pdf/vn/unsigned/nghi-quyet-78-2025-UBTVQH15.pdf"  # corpus only
REAL_SCAN = "ocr/vi-scans/nghi-dinh-28-2021-ND-CP-p1.jpg"  # corpus only (no licence)


def corpus_file(relative: str) -> bytes:
    return corpus.path(relative).read_bytes()


def scan_pdf(jpeg: Path, resolution: int = 200) -> bytes:
    """A one-page PDF holding only the scanned image: no text layer, like a scanner's."""
    assert jpeg.is_file(), f"test corpus file missing: {jpeg}"
    buffer = io.BytesIO()
    with Image.open(jpeg) as image:
        image.save(buffer, "PDF", resolution=resolution)
    return buffer.getvalue()


def combine(*parts: tuple[bytes, list[int] | None]) -> bytes:
    """A new PDF made of pages of other PDFs (pypdfium2 page import)."""
    buffer = io.BytesIO()
    with LOCK:
        target = pdfium.PdfDocument.new()
        sources = [pdfium.PdfDocument(data) for data, _ in parts]
        try:
            for source, (_, pages) in zip(sources, parts, strict=True):
                target.import_pages(source, pages)
            target.save(buffer)
        finally:
            for source in sources:
                source.close()
            target.close()
    return buffer.getvalue()


@pytest.fixture
def tesseract():
    if text.ocr_available("vie"):
        return
    message = "tesseract with Vietnamese data is not installed (tesseract-ocr, tesseract-ocr-vie)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def scan() -> bytes:
    """A scan-like page of Nghị định 28/2021/NĐ-CP (tests/generated.py)."""
    return generated.scan_pdf()


@pytest.fixture
def real_scan(corpus_dir) -> bytes:
    """The real scan of the same page, with an incoming stamp and handwriting."""
    return scan_pdf(corpus_dir / REAL_SCAN)


@pytest.fixture(scope="module")
def mixed(scan) -> bytes:
    """Page 1: the first page of a real Thông tư (text layer); page 2: a scan."""
    return combine((THONG_TU.read_bytes(), [0]), (scan, None))


def assert_tidy(page: str) -> None:
    assert unicodedata.is_normalized("NFC", page)
    assert "\r" not in page and "\n\n" not in page
    assert not any(char in page for char in "\x02\ufffe\x0c\u00d0")
    assert all(line == line.strip() and "  " not in line for line in page.split("\n"))


# --- text layer ----------------------------------------------------------------------

def test_extract_vietnamese_pdf():
    result = text.extract(THONG_TU.read_bytes())
    assert isinstance(result, ExtractedText)
    assert len(result.pages) == 6
    assert result.missing == []
    for page in result.pages:
        assert_tidy(page)
    first = result.pages[0]
    assert "Số: 12/2022/TT-BLĐTBXH Hà Nội, ngày 30 tháng 6 năm 2022" in first
    assert "THÔNG TƯ" in first.split("\n")
    assert "Quỹ Đổi mới công nghệ quốc gia" in first
    assert "Căn cứ Nghị định số 14/2017/NĐ-CP ngày 17 tháng 02 năm 2017 của Chính phủ" in first
    # PDFium's end-of-line hyphen mark becomes the hyphen of the notation again.
    assert "Thông tư số 26/2016/TT-BLĐTBXH." in result.pages[1]
    assert "23/2005/TTLT-BLĐTBXH-BTC" in result.pages[3]


@pytest.mark.corpus
def test_extract_second_vietnamese_pdf():
    result = text.extract(corpus_file(NGHI_QUYET))
    assert len(result.pages) == 2 and result.missing == []
    assert "Nghị quyết số: 78/2025/UBTVQH15" in result.pages[0]
    assert "Ủy ban Văn hóa và Xã hội;" in result.pages[0]
    assert "Điều 2. Tổ chức thực hiện" in result.pages[1]


def test_tidy():
    raw = "  Quyết\u00a0định   số 55/2021/Q\u00d0-UBND  \r\n\r\n\tNghi\u0323 \u0111i\u0323nh\x0c\n"
    assert text.tidy(raw) == "Quyết định số 55/2021/QĐ-UBND\nNghị định"
    assert text.tidy("") == "" and text.tidy("\n \n") == ""


def test_scan_page_is_missing(scan):
    result = text.extract(scan)
    assert result.pages == [""]
    assert result.missing == [0]


def test_mixed_pdf_only_scan_page_missing(mixed):
    result = text.extract(mixed)
    assert len(result.pages) == 2
    assert result.missing == [1]
    assert "Quỹ Đổi mới công nghệ quốc gia" in result.pages[0]


def test_thin_text_layer_is_missing():
    # A real PDF whose only text is a few characters (pdf.js test "Hello World"-like).
    result = text.extract(corpus_file("pdf/malformed/pdfjs-helloworld-bad.pdf"))
    assert len(result.pages) == 1 and result.missing == [0]
    assert result.pages[0]  # thin text is kept, the page is only flagged for OCR


@pytest.mark.parametrize("name", ["pdf/malformed/dss-EmptyPage-corrupted.pdf",
                                  "pdf/malformed/qpdf-bad1.pdf"])
def test_corrupt_pdf_raises(name):
    with pytest.raises(TextUnreadable, match="cannot be opened"):
        text.extract(corpus_file(name))


def test_not_a_pdf_raises():
    with pytest.raises(TextUnreadable):
        text.extract(b"%PDF-1.7\nnot really a pdf")
    with pytest.raises(TextUnreadable):
        text.extract(THONG_TU.read_bytes()[:5000])  # truncated: no xref, no pages


def test_password_protected_pdf_raises():
    with pytest.raises(TextUnreadable, match="encrypted"):
        text.extract(corpus_file("pdf/normal/pypdf-005-libreoffice-writer-password.pdf"))


def test_unreadable_pages_count_as_missing():
    # The page tree loops back on itself: PDFium opens the file, 2 of 3 pages fail to load.
    result = text.extract(corpus_file("pdf/malformed/pyhanko-circular-page-tree.pdf"))
    assert len(result.pages) == 3
    assert result.missing == [0, 1, 2]
    assert result.pages[1:] == ["", ""]


@pytest.mark.parametrize("path", corpus.files("pdf/malformed", "pdf/hostile"))
def test_odd_pdf_yields_text_or_refuses(path):
    try:
        result = text.extract(path.read_bytes())
    except TextUnreadable:
        return
    assert set(result.missing) <= set(range(len(result.pages)))


@pytest.mark.corpus
def test_openable_odd_pdfs_do_not_raise(corpus_dir):
    """Every damaged or hostile corpus file either yields text or raises TextUnreadable."""
    files = sorted((corpus_dir / "pdf/malformed").glob("*.pdf")) + sorted(
        (corpus_dir / "pdf/hostile").glob("*.pdf"))
    assert len(files) > 40, "test corpus missing"
    opened = 0
    for path in files:
        try:
            result = text.extract(path.read_bytes())
        except TextUnreadable:
            continue
        opened += 1
        assert set(result.missing) <= set(range(len(result.pages)))
    assert opened >= 25


def test_extract_does_not_change_input():
    data = bytearray(THONG_TU.read_bytes())
    before = bytes(data)
    text.extract(data)
    assert bytes(data) == before


# --- OCR -----------------------------------------------------------------------------

def test_ocr_scan_page(tesseract, scan):
    result = text.ocr_pages(scan, [0])
    assert list(result) == [0]
    page = result[0]
    assert_tidy(page)
    folded = fold(page)
    assert "28/2021" in page
    assert "nghi dinh" in folded
    assert "chinh phu" in folded
    assert "doi tac cong tu" in folded
    assert "bo tai chinh" in folded


@pytest.mark.corpus
def test_ocr_real_scan_with_stamp_and_handwriting(tesseract, real_scan):
    page = text.ocr_pages(real_scan, [0])[0]
    assert_tidy(page)
    folded = fold(page)
    assert "28/2021" in page
    for words in ("nghi dinh", "chinh phu", "doi tac cong tu", "bo tai chinh"):
        assert words in folded


def test_ocr_fills_in_mixed_pdf(tesseract, mixed):
    extracted = text.extract(mixed)
    ocr = text.ocr_pages(mixed, extracted.missing, dpi=200)
    assert list(ocr) == [1]
    merged = text.merge(extracted.pages, ocr)
    assert merged[0] == extracted.pages[0]
    assert "28/2021" in merged[1] and "nghi dinh" in fold(merged[1])
    assert extracted.pages[1] == ""  # merge returns a new list


def test_merge():
    assert text.merge(["a", "", "c"], {1: "b"}) == ["a", "b", "c"]
    assert text.merge(["a", "header"], {1: ""}) == ["a", "header"]  # empty OCR keeps text
    assert text.merge(["a"], {}) == ["a"]


def test_ocr_unknown_language(tesseract, scan):
    assert not text.ocr_available("xyz")
    with pytest.raises(OcrFailed, match="'xyz'"):
        text.ocr_pages(scan, [0], lang="xyz")


def test_ocr_rejects_odd_language_string(scan):
    with pytest.raises(OcrFailed, match="Invalid OCR language"):
        text.ocr_pages(scan, [0], lang="vie --tessdata-dir /tmp")


def test_ocr_missing_binary(monkeypatch, scan):
    monkeypatch.setattr(text, "TESSERACT", "tesseract-not-installed-here")
    assert not text.ocr_available()
    with pytest.raises(OcrFailed, match="not installed"):
        text.ocr_pages(scan, [0])


def test_ocr_empty_path(monkeypatch, tmp_path, scan):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not text.ocr_available()
    with pytest.raises(OcrFailed, match="not installed"):
        text.ocr_pages(scan, [0])


def fake_tesseract(directory: Path, body: str) -> Path:
    """A stand-in tesseract that lists 'vie' and then does ``body``."""
    script = directory / "tesseract"
    script.write_text('#!/bin/sh\nif [ "$1" = "--list-langs" ]; then\n'
                      '  echo "List of available languages (1):"; echo vie; exit 0\nfi\n'
                      f"cat > /dev/null\n{body}\n")
    script.chmod(0o755)
    return script


def test_ocr_tesseract_fails(monkeypatch, tmp_path, scan):
    monkeypatch.setattr(text, "TESSERACT", str(fake_tesseract(
        tmp_path, 'echo "Error in pixReadMem: Unknown format" >&2; exit 1')))
    with pytest.raises(OcrFailed, match="failed on page 1 .*Unknown format"):
        text.ocr_pages(scan, [0], dpi=72)


def test_ocr_tesseract_times_out(monkeypatch, tmp_path, scan):
    monkeypatch.setattr(text, "TESSERACT", str(fake_tesseract(tmp_path, "exec sleep 30")))
    with pytest.raises(OcrFailed, match="timed out"):
        text.ocr_pages(scan, [0], dpi=72, timeout=0.5)


def test_ocr_page_out_of_range(monkeypatch, tmp_path, scan):
    monkeypatch.setattr(text, "TESSERACT", str(fake_tesseract(tmp_path, "echo text")))
    with pytest.raises(OcrFailed, match="Page 3 does not exist"):
        text.ocr_pages(scan, [2], dpi=72)
    assert text.ocr_pages(scan, [0], dpi=72) == {0: "text"}
