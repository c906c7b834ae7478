"""Decompression bombs for tests and benchmarks, generated without ever holding the
inflated data.

A raw deflate segment for 1 MiB of zeros ends with a full flush, after which the
compressor's state is reset: the same segment repeated N times is a valid deflate stream
of N MiB of zeros, so a multi-gigabyte bomb costs a string repetition. The zlib trailer
is the Adler-32 of the zeros, which has a closed form: a = 1, b = length mod 65521.
"""
import zlib

from docmgr.demo import pdf_from_objects

MIB = 1 << 20


def _zero_segment() -> bytes:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return deflater.compress(bytes(MIB)) + deflater.flush(zlib.Z_FULL_FLUSH)


_SEGMENT = _zero_segment()
_FINAL_EMPTY_BLOCK = b"\x03\x00"


def zeros_flate(inflated_mib: int) -> bytes:
    """A zlib stream (as /FlateDecode stores it) of ``inflated_mib`` MiB of zero bytes."""
    length = inflated_mib * MIB
    adler = ((length % 65521) << 16) | 1
    return (b"\x78\xda" + _SEGMENT * inflated_mib + _FINAL_EMPTY_BLOCK
            + adler.to_bytes(4, "big"))


def stream_object(data: bytes, dictionary: bytes = b"/Filter /FlateDecode") -> bytes:
    return (b"<< %s /Length %d >>\nstream\n" % (dictionary, len(data)) + data
            + b"\nendstream")


def content_bomb_pdf(inflated_mib: int, *, dictionary: bytes = b"/Filter /FlateDecode",
                     data: bytes | None = None) -> bytes:
    """A one-page PDF whose content stream inflates to ``inflated_mib`` MiB of zeros (NUL
    is white space in PDF syntax, so every reader parses it all). The file is about
    ``inflated_mib`` KiB."""
    return pdf_from_objects(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        stream_object(zeros_flate(inflated_mib) if data is None else data, dictionary))


def zeros_lzw(cycles: int) -> bytes:
    """LZWDecode data (EarlyChange 1) of about 7 MiB of zeros per cycle: the code for one
    zero, then codes that each stand for the previous string and one more zero, until the
    table is full (LZW's own bomb: about 1300:1); a clear code starts the next cycle."""
    out, state = bytearray(), [0, 0]  # accumulated bits, how many

    def put(code: int, width: int) -> None:
        state[0] = (state[0] << width) | code
        state[1] += width
        while state[1] >= 8:
            state[1] -= 8
            out.append((state[0] >> state[1]) & 0xFF)
            state[0] &= (1 << state[1]) - 1

    width = 9
    for _ in range(cycles):
        put(256, width)  # clear: the table and the code width start again
        width, size = 9, 258
        put(0, width)
        while size < 4096:
            put(size, width)
            size += 1
            if size + 1 >= 1 << width and width < 12:
                width += 1
    put(257, width)
    if state[1]:
        out.append((state[0] << (8 - state[1])) & 0xFF)
    return bytes(out)
