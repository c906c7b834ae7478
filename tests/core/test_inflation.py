"""Stream decoders give back what the encoders put in, piece by piece; the meter stops a
bomb after a few megabytes of decoding and lets compressible but ordinary data through."""
import base64
import zlib

import pytest

from docmgr.core import stream_filters
from docmgr.core.inflation import MAX_TOTAL, MIN_JUDGED, DecompressionBomb, Meter, Stream
from docmgr.core.pdf_syntax import Name, Objects, Ref, stream_dictionary
from tests.bombs import zeros_flate, zeros_lzw

TEXT = ("Điều 1. Phạm vi điều chỉnh: Quyết định này quy định về công tác văn thư.\n"
        * 400).encode()


def decode(filters: list[str], data: bytes, parameters=(), chunk: int = 997) -> bytes:
    chain = stream_filters.decoders(filters, list(parameters))
    chunks = (data[i:i + chunk] for i in range(0, len(data), chunk))
    pieces = list(stream_filters.pipeline(chain, chunks))
    assert all(len(piece) <= stream_filters.PIECE for piece in pieces)
    return b"".join(pieces)


def run_length(data: bytes) -> bytes:
    out = bytearray()
    for start in range(0, len(data), 100):  # literal runs only, then one repeat run
        part = data[start:start + 100]
        out += bytes([len(part) - 1]) + part
    return bytes(out + bytes([257 - 50]) + b"x" + b"\x80")


@pytest.mark.parametrize("filters,encoded", [
    (["FlateDecode"], zlib.compress(TEXT)),
    (["Fl"], zlib.compress(TEXT)),
    (["ASCIIHexDecode"], TEXT.hex().encode() + b">"),
    (["AHx"], b" ".join(TEXT.hex()[i:i + 60].encode() for i in range(0, len(TEXT) * 2, 60))
     + b">"),
    (["ASCII85Decode"], base64.a85encode(TEXT, wrapcol=75) + b"~>"),
    (["ASCII85Decode", "FlateDecode"], base64.a85encode(zlib.compress(TEXT)) + b"~>"),
    (["ASCIIHexDecode", "FlateDecode"], zlib.compress(TEXT).hex().encode() + b">"),
])
def test_decoders_give_back_the_data(filters, encoded):
    assert decode(filters, encoded) == TEXT


def test_ascii85_zero_groups_and_short_last_group():
    encoded = b"z" + base64.a85encode(b"abcdefg") + b"~>"
    assert decode(["A85"], encoded, chunk=3) == bytes(4) + b"abcdefg"


def test_run_length_stops_at_its_end_marker():
    assert decode(["RunLengthDecode"], run_length(TEXT) + b"ignored") == TEXT + b"x" * 50


def test_lzw_decodes_its_own_bomb_in_pieces():
    assert decode(["LZWDecode"], zeros_lzw(1)) == bytes(len(decode(["LZW"], zeros_lzw(1))))
    assert len(decode(["LZWDecode"], zeros_lzw(1))) > 7_000_000


def test_flate_without_zlib_header_is_decoded_as_raw_deflate():
    raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert decode(["FlateDecode"], raw.compress(TEXT) + raw.flush()) == TEXT


def test_damaged_data_ends_decoding_quietly():
    damaged = zlib.compress(TEXT)[:200] + b"\xff" * 100
    decoded = decode(["FlateDecode"], damaged)
    assert decoded[:1000] == TEXT[:1000] and len(decoded) < len(TEXT)


def test_image_codecs_and_unknown_filters_end_the_chain():
    assert stream_filters.decoders(["DCTDecode"], []) == []
    assert [type(d).__name__ for d in stream_filters.decoders(
        ["FlateDecode", "JBIG2Decode", "FlateDecode"], [])] == ["FlateDecoder"]
    assert stream_filters.decoders(["Crypt", "FlateDecode"], [{"Name": "Identity"}])
    assert stream_filters.decoders(["Crypt", "FlateDecode"], [{"Name": "StdCF"}]) == []


def measure(data: bytes, filters=("FlateDecode",), meter=None, **stream) -> int:
    return (meter or Meter()).measure(
        Stream(memoryview(data), list(filters), **stream)).inflated


def test_a_bomb_is_stopped_after_a_few_megabytes_of_decoding():
    bomb = zeros_flate(48_000)  # 47 GiB of zeros in 48 MB
    with pytest.raises(DecompressionBomb) as caught:
        measure(bomb)
    assert caught.value.why == "ratio"
    assert caught.value.inflated < 2 * MIN_JUDGED
    assert caught.value.encoded < 64 * 1024


@pytest.mark.parametrize("filters,data", [
    (["LZWDecode"], zeros_lzw(20)),
    (["ASCII85Decode", "FlateDecode"], base64.a85encode(zeros_flate(500)) + b"~>"),
    (["ASCIIHexDecode", "Fl"], zeros_flate(500).hex().encode() + b">"),
])
def test_bombs_behind_other_filters_are_stopped(filters, data):
    with pytest.raises(DecompressionBomb):
        measure(data, filters)


def test_small_streams_are_not_judged_by_ratio_but_add_up():
    meter = Meter(max_total=16 * MIN_JUDGED)
    small = zeros_flate(MIN_JUDGED >> 20)  # about 1000:1, but no larger than MIN_JUDGED
    with pytest.raises(DecompressionBomb) as caught:
        for copy in range(17):
            assert measure(small + b" " * copy, meter=meter, exact=True) == MIN_JUDGED
    assert caught.value.why == "total" and copy == 16
    assert MAX_TOTAL >= 1 << 30  # Flate-compressed scans at the 50 MB upload limit fit


def test_streams_that_are_not_images_have_a_smaller_budget():
    meter = Meter(max_other=3 * MIN_JUDGED)
    small = zeros_flate(MIN_JUDGED >> 20)
    image = MIN_JUDGED + 4096
    for copy in range(4):  # images do not count against it
        measure(small + b" " * copy, meter=meter, allowance=image)
    for copy in range(3):
        measure(small + b"  " * copy, meter=meter)
    with pytest.raises(DecompressionBomb):
        measure(small, meter=meter)
    assert meter.total == 7 * MIN_JUDGED


def test_an_image_may_decode_to_its_declared_size_not_beyond():
    blank_page = zeros_flate(8)  # a blank A4 page scanned at 300 dpi in grey: 1000:1
    declared = (2480 + 1) * 3508  # width x height, one predictor byte per row
    assert measure(blank_page, allowance=declared) == 8 << 20
    with pytest.raises(DecompressionBomb):
        measure(blank_page)  # the same data as anything but an image is a bomb
    with pytest.raises(DecompressionBomb):
        measure(zeros_flate(100), allowance=declared)


def test_ordinary_text_is_measured_in_full():
    assert measure(zlib.compress(TEXT * 50)) == len(TEXT) * 50


def test_identical_streams_are_decoded_once_across_passes():
    meter = Meter()
    data = zlib.compress(TEXT * 50)
    assert measure(data, meter=meter, exact=True) == len(TEXT) * 50
    again = meter.next_pass()
    assert again.total == 0
    assert measure(data, meter=again, exact=True) == len(TEXT) * 50
    assert again.total == len(TEXT) * 50


def test_stream_dictionary_reads_top_level_keys_only():
    raw = (b"4 0 obj\n<< /Decoy << /Filter /ASCIIHexDecode >> /Filter [/A#38#35 /Fl] "
           b"/Note (a \\) paren (nested) and /Filter /RunLengthDecode) /DecodeParms [null "
           b"<< /Predictor 12 >>] /Length 5 0 R >>\nstream\n")
    info = stream_dictionary(raw, 0, raw.index(b"stream\n"))
    assert info["Filter"] == ["A85", "Fl"] and isinstance(info["Filter"][0], Name)
    assert info["DecodeParms"] == [None, {"Predictor": 12}]
    assert info["Length"] == Ref(5, 0)


def test_indirect_values_resolve_to_the_last_definition():
    raw = b"5 0 obj 10 endobj 6 0 obj /FlateDecode endobj 5 0 obj 12 endobj"
    objects = Objects(raw)
    assert objects.resolve(Ref(5, 0)) == 12
    assert objects.resolve(Ref(6, 0)) == "FlateDecode"
    assert objects.resolve(Ref(7, 0)) is None
    assert objects.resolve(3) == 3
