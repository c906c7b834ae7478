"""check_pdf refuses decompression bombs, whichever stream, filter chain or trick carries
them, without decoding them (the check's worker would die first); files that merely
compress well are accepted."""
import base64
import zlib

import pytest

from docmgr.core import sandbox, uploads
from docmgr.core.errors import UploadRejected
from docmgr.core.uploads import check_pdf
from tests.bombs import content_bomb_pdf, pdf_from_objects, stream_object, zeros_flate, zeros_lzw

MAX = 50 * 1024 * 1024
MSG_BOMB = ("Tệp PDF chứa dữ liệu nén bất thường: khi giải nén sẽ vượt quá giới hạn xử lý "
            "(có thể là “bom giải nén”), nên không được chấp nhận.")
CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"


def reason(data: bytes) -> str:
    with pytest.raises(UploadRejected) as caught:
        check_pdf(data, max_bytes=MAX)
    assert caught.value.field == "file"
    return caught.value.extra["reason"]


def page_with(*objects: bytes, resources: bytes = b"") -> bytes:
    """One page whose content is object 4; more objects follow from 5."""
    return pdf_from_objects(
        CATALOG, PAGES, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Contents 4 0 R " + resources + b">>", *objects)


def test_a_3_mb_bomb_is_refused_with_a_clear_message():
    with pytest.raises(UploadRejected) as caught:
        check_pdf(content_bomb_pdf(3000), max_bytes=MAX)  # 3 GiB of zeros
    assert caught.value.message == MSG_BOMB
    assert caught.value.to_dict() == {"code": "upload_rejected", "message": MSG_BOMB,
                                      "field": "file", "reason": "decompression_bomb"}


def test_a_50_mb_bomb_is_refused_without_being_decoded():
    # 47 GiB of zeros: decoding it would take the worker past its 1 GiB address space
    # and the answer would be processing_limit.
    data = content_bomb_pdf(48_000)
    assert len(data) < MAX
    assert reason(data) == "decompression_bomb"


@pytest.mark.parametrize("dictionary,data", [
    (b"/Filter /Fl", zeros_flate(600)),
    (b"/Filter [/ASCII85Decode /FlateDecode]", base64.a85encode(zeros_flate(600)) + b"~>"),
    (b"/Filter [/AHx /Fl]", zeros_flate(600).hex().encode() + b">"),
    (b"/Filter /LZWDecode", zeros_lzw(80)),
    # A nested /Filter first, for a reader that takes the first one it sees.
    (b"/Decoy << /Filter /ASCIIHexDecode >> /Filter /FlateDecode", zeros_flate(600)),
    # The filter as an indirect object.
    (b"/Filter 5 0 R", zeros_flate(600)),
], ids=["abbreviated", "ascii85-flate", "hex-flate", "lzw", "decoy-filter", "indirect-filter"])
def test_bombs_behind_any_filter_chain_are_refused(dictionary, data):
    body = stream_object(data, dictionary)
    assert reason(page_with(body, b"/FlateDecode")) == "decompression_bomb"


def test_a_bomb_with_a_lying_length_is_refused():
    data = zeros_flate(600)
    body = b"<< /Filter /FlateDecode /Length 10 >>\nstream\n" + data + b"\nendstream"
    assert reason(page_with(body)) == "decompression_bomb"


def test_an_object_stream_bomb_is_refused_before_pdfium_parses_it():
    objects = stream_object(zeros_flate(600), b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode")
    assert reason(page_with(stream_object(b"q Q", b""), objects)) == "decompression_bomb"


def test_an_image_too_small_for_its_data_is_a_bomb():
    image = stream_object(zeros_flate(600), b"/Type /XObject /Subtype /Image /Width 100 "
                          b"/Height 100 /ColorSpace /DeviceGray /BitsPerComponent 8 "
                          b"/Filter /FlateDecode")
    data = page_with(stream_object(b"q 100 0 0 100 0 0 cm /Im1 Do Q", b""), image,
                     resources=b"/Resources << /XObject << /Im1 5 0 R >> >> ")
    assert reason(data) == "decompression_bomb"


def test_a_blank_scanned_page_compressing_1000_to_1_is_accepted():
    width, height = 2480, 3508  # A4 at 300 dpi, grey
    image = stream_object(zlib.compress(bytes(width * height), 9),
                          b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace "
                          b"/DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"
                          % (width, height))
    data = page_with(stream_object(b"q 595 0 0 842 0 0 cm /Im1 Do Q", b""), image,
                     resources=b"/Resources << /XObject << /Im1 5 0 R >> >> ")
    assert len(data) < 20_000
    assert check_pdf(data, max_bytes=MAX).page_count == 1
    # The same zeros as a content stream are a bomb: only images get that allowance.
    assert reason(content_bomb_pdf(0, data=zlib.compress(bytes(width * height), 9))) \
        == "decompression_bomb"


def test_a_file_that_exhausts_the_check_is_refused(monkeypatch):
    # A check that cannot finish within its worker's memory is refused, not retried.
    # Here an ordinary file meets an address space too small for PDFium to start, in a
    # fresh worker (one that has run jobs may have enough free heap left).
    lane = sandbox.Lane("checks-starved", 1)
    monkeypatch.setattr(sandbox, "CHECKS", lane)
    monkeypatch.setattr(uploads, "CHECK_LIMITS", sandbox.Limits(memory=40 << 20, cpu=20,
                                                                wall=60))
    try:
        with pytest.raises(UploadRejected) as caught:
            check_pdf(content_bomb_pdf(1), max_bytes=MAX)
    finally:
        lane.shutdown()
    assert caught.value.extra["reason"] == "processing_limit"
    assert "vượt quá giới hạn xử lý" in caught.value.message
