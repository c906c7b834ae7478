"""How far a PDF's streams inflate, measured without ever holding the inflated data.

Readers decode a stream whole before using it, so a few megabytes of Flate data that
decode to gigabytes ("decompression bomb") exhaust whoever renders or indexes the file.
``Meter`` decodes each stream piece by piece (``stream_filters``), counts the output and
stops as soon as a limit is crossed: measuring a bomb costs a few megabytes of decoding,
never the bomb itself.

The limits, and why (``python -m tests.bench.inflation``: every stream of the 131 PDFs
of the shared corpus — LaTeX, LibreOffice, Word, Google Docs, ReportLab, scans, signed
Công báo gazettes, PDF/A, hostile and damaged files — plus generated office files: a
874-page LibreOffice document, a drawing of 200 000 strokes, a table of 100 000 rules,
scanned A4 pages at 300 dpi, one of them blank):

* ``MAX_RATIO``, 200:1. No real stream that is not an image reached 1 MiB decoded (the
  largest: 0.27 MiB); the generated ones past 1 MiB decode at most 7.5 times their
  encoded size (the table, as regular as content gets; text content is 3-10:1, fonts
  2-3:1). Flate's own ceiling is 1032:1 and every bomb sits near it. 200:1 is 25 times
  the largest ratio seen and stops a bomb after about 4 MiB of its output.
* ``MIN_JUDGED``, 4 MiB: below it a stream is not judged by its ratio. Small streams do
  reach high ratios (a 128 KiB run of zeros in a signed test file: 649:1) and cost
  nothing; 4 MiB is also the largest generated content stream (the drawing).
* Images are the exception to the ratio: a blank scanned page decodes 1026 times its
  size and is legitimate, so an image stream may always decode to its declared size
  (width x height x colour components x bits), which the upload check bounds separately
  (``uploads.MAX_IMAGE_PIXELS``). Calling a content stream an image gains a bomb nothing
  beyond that declared size.
* ``MAX_TOTAL``, 1 GiB for the whole file, which is what many small streams each under
  ``MIN_JUDGED`` (the only way past the ratio rule) run into. The largest total seen was
  19 MiB (the 874-page document), 8.3 MiB for one Flate scan; an upload at the 50 MB
  limit made of Flate-compressed scans (bilevel pages compress 10-20:1) could approach
  750 MiB. Image codecs (JPEG, JBIG2, CCITT, JPEG 2000), in which most scans are
  stored, are not decoded and not counted.
* ``MAX_OTHER``, 256 MiB for the streams that are not images (content, fonts, object
  streams): readers decode those whole, pyHanko's pure-Python parser in the web process
  included, where images are decoded row by row within their declared size. The most
  seen was 19 MiB (the 874-page document); a whole embedded CJK font is about 20 MiB.

Measuring costs constant memory (a few pieces of ``stream_filters.PIECE``) and at most
``MAX_TOTAL`` of decoding per reading of the file.
"""
import hashlib
from dataclasses import dataclass, field

from docmgr.core import stream_filters

MAX_RATIO = 200
MIN_JUDGED = 4 << 20
MAX_TOTAL = 1 << 30
MAX_OTHER = 256 << 20

# Encoded bytes handed to the decoders at a time: the ratio is judged per piece of output
# against all input handed over so far, so smaller chunks judge a bomb sooner.
FEED = 1 << 14


class DecompressionBomb(Exception):
    """A stream, or the file as a whole, decodes past a limit."""

    def __init__(self, why: str, *, encoded: int, inflated: int):
        super().__init__(f"{why}: {encoded} encoded bytes decode to more than {inflated}")
        self.why, self.encoded, self.inflated = why, encoded, inflated


@dataclass
class Stream:
    """One stream as found in the file. ``body`` may run past the real end of the data
    (when its /Length cannot be trusted): the decoders stop at their own end marker.
    ``exact`` says the body is exactly the stream's data, so the measurement can be
    remembered and reused for a byte-identical stream."""
    body: memoryview
    filters: list[str]
    parameters: list = field(default_factory=list)
    allowance: int = 0  # what it may decode to whatever its ratio: an image's declared size
    exact: bool = False


@dataclass(frozen=True)
class Measured:
    inflated: int
    peak_ratio: float  # highest output/input seen while the output was above MIN_JUDGED


class Meter:
    """Measures the streams of one file, one after the other, against the limits."""

    def __init__(self, *, max_ratio: float = MAX_RATIO, min_judged: int = MIN_JUDGED,
                 max_total: int = MAX_TOTAL, max_other: int = MAX_OTHER):
        self.max_ratio, self.min_judged = max_ratio, min_judged
        self.max_total, self.max_other = max_total, max_other
        self.total = self.other = 0  # decoded so far: all streams, streams not images
        self._known: dict[bytes, Measured] = {}

    def measure(self, stream: Stream) -> Measured:
        """What ``stream`` decodes to; DecompressionBomb as soon as it crosses a limit."""
        chain = stream_filters.decoders(stream.filters, stream.parameters)
        if not chain:
            return Measured(0, 0.0)
        image = stream.allowance > 0
        key = self._key(stream) if stream.exact else None
        if key in self._known:
            found = self._known[key]
            self._check_totals(found.inflated, image, len(stream.body))
            self._count(found.inflated, image)
            return found
        floor = max(self.min_judged, stream.allowance)
        fed, inflated, peak = _Counter(stream.body), 0, 0.0
        for piece in stream_filters.pipeline(chain, fed):
            inflated += len(piece)
            if inflated > self.min_judged:
                ratio = inflated / max(fed.count, 1)
                peak = max(peak, ratio)
                if inflated > floor and ratio > self.max_ratio:
                    raise DecompressionBomb("ratio", encoded=fed.count, inflated=inflated)
            self._check_totals(inflated, image, fed.count)
        self._count(inflated, image)
        found = Measured(inflated, peak)
        if key is not None:
            self._known[key] = found
        return found

    def next_pass(self) -> "Meter":
        """A meter for another reading of the same file (PDFium's rewrite of it): totals
        start again, streams already measured are not decoded again."""
        meter = Meter(max_ratio=self.max_ratio, min_judged=self.min_judged,
                      max_total=self.max_total, max_other=self.max_other)
        meter._known = self._known
        return meter

    def _check_totals(self, inflated: int, image: bool, encoded: int) -> None:
        if self.total + inflated > self.max_total:
            raise DecompressionBomb("total", encoded=encoded, inflated=self.total + inflated)
        if not image and self.other + inflated > self.max_other:
            raise DecompressionBomb("total", encoded=encoded, inflated=self.other + inflated)

    def _count(self, inflated: int, image: bool) -> None:
        self.total += inflated
        if not image:
            self.other += inflated

    @staticmethod
    def _key(stream: Stream) -> bytes:
        digest = hashlib.blake2b(repr((stream.filters, stream.parameters, stream.allowance))
                                 .encode(), digest_size=20)
        digest.update(stream.body)
        return digest.digest()


class _Counter:
    """The encoded bytes in FEED-sized chunks, counting how many were handed out."""

    def __init__(self, body: memoryview):
        self.body, self.count = body, 0

    def __iter__(self):
        for start in range(0, len(self.body), FEED):
            chunk = bytes(self.body[start:start + FEED])
            self.count += len(chunk)
            yield chunk
