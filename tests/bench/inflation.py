"""How far real PDFs' streams inflate: the evidence behind docmgr.core.inflation's limits.

    python -m tests.bench.inflation [CORPUS_DIR]

Measures every stream of every PDF in the shared corpus (raw file and PDFium's rewrite,
as the upload check reads them) plus generated office files: the demo's documents, a
874-page LibreOffice document, scanned pages stored as JPEG and as Flate (one of them
blank). Prints, for streams that are not images, the largest stream and the highest
ratio of decoded to encoded size once past 1 MiB (the only part the ratio rule judges),
and for images the highest ratio (blank scans are why images are judged by size).
"""
import random
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from docmgr.core import inflation, uploads
from docmgr.core.errors import UploadRejected
from docmgr.demo import nd30_draft_pdf, sample_pdf
from tests.bombs import pdf_from_objects, stream_object
from tests.conftest import CORPUS

FOLDERS = ("pdf/normal", "pdf/vn", "pdf/pdfa", "pdf/hostile", "pdf/malformed", "signed")
UNLIMITED = {"max_ratio": float("inf"), "min_judged": 1 << 20, "max_total": float("inf"),
             "max_other": float("inf")}


@dataclass
class Seen:
    name: str
    encoded: int
    inflated: int
    peak: float
    image: bool


class RecordingMeter(inflation.Meter):
    def __init__(self, name: str):
        super().__init__(**UNLIMITED)
        self.name, self.seen = name, []

    def measure(self, stream):
        found = super().measure(stream)
        if found.inflated:
            self.seen.append(Seen(self.name, len(stream.body), found.inflated, found.peak_ratio,
                                  stream.allowance > 0))
        return found


def scan_page_pdf(pixels: bytes, width: int, height: int, filters: bytes) -> bytes:
    image = stream_object(pixels, b"/Type /XObject /Subtype /Image /Width %d /Height %d "
                          b"/ColorSpace /DeviceGray /BitsPerComponent 8 %s"
                          % (width, height, filters))
    content = b"q 595 0 0 842 0 0 cm /Im1 Do Q"
    return pdf_from_objects(
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R "
        b"/Resources << /XObject << /Im1 4 0 R >> >> >>",
        image, stream_object(content, b""))


def generated(corpus: Path) -> dict[str, bytes]:
    from PIL import Image

    files = {"demo-sample": sample_pdf(["UBND TINH QUANG NGAI", "So: 1/UBND"], pages=3),
             "demo-nd30-draft": nd30_draft_pdf(
                 org="UBND", type_title="Quyet dinh", subject="V/v", signer_title="CHU TICH",
                 signer_name="Nguyen Van A", body_pages=20)}
    scan = next((corpus / "ocr/vi-scans").glob("*.jpg"))
    gray = Image.open(scan).convert("L").resize((2480, 3508))  # A4 at 300 dpi
    files["scan-300dpi-flate"] = scan_page_pdf(zlib.compress(gray.tobytes()), 2480, 3508,
                                               b"/Filter /FlateDecode")
    files["scan-300dpi-jpeg"] = scan_page_pdf(scan.read_bytes(), *Image.open(scan).size,
                                              b"/Filter /DCTDecode")
    blank = bytes(2480 * 3508)
    files["blank-scan-300dpi-flate"] = scan_page_pdf(zlib.compress(blank), 2480, 3508,
                                                     b"/Filter /FlateDecode")
    files["libreoffice-874-pages"] = _libreoffice(1000)
    # Content streams past 1 MiB come from drawings, maps and dense tables: one page of
    # 200 000 short random strokes, one of 100 000 evenly spaced table rules (as regular
    # as real content gets, so as compressible).
    strokes = b"".join(b"%d %d m %d %d l S\n" % tuple(random.randrange(600) for _ in range(4))
                       for _ in range(200_000))
    rules = b"".join(b"0.5 w 36 %.2f m 559 %.2f l S\n" % (y / 100, y / 100)
                     for y in range(0, 8_000_000, 80))
    for name, content in (("drawing-200k-strokes", strokes), ("table-100k-rules", rules)):
        files[name] = pdf_from_objects(
            b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            stream_object(zlib.compress(content, 9)))
    return {name: data for name, data in files.items() if data}


def _libreoffice(pages: int) -> bytes:
    """A long plain document exported by LibreOffice (empty if soffice is missing)."""
    law = "Điều {n}. Phạm vi điều chỉnh và đối tượng áp dụng của văn bản quy phạm pháp luật. "
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "luat.txt"
        source.write_text("\n".join(law.format(n=n) * 6 for n in range(pages * 8)),
                          encoding="utf-8")
        try:
            subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", tmp,
                            str(source)], check=True, capture_output=True, timeout=300)
        except (OSError, subprocess.SubprocessError):
            return b""
        return (Path(tmp) / "luat.pdf").read_bytes()


def measure(name: str, data: bytes) -> tuple[list[Seen], int, int, float]:
    started = time.perf_counter()
    meter = RecordingMeter(name=name)
    uploads._scan(data, read_streams=False, meter=meter)
    total, other = meter.total, meter.other
    try:
        rewrite = uploads._open(data)[2]
    except UploadRejected:
        rewrite = None
    if rewrite is not None:
        again = RecordingMeter(name=name)
        again._known = meter._known
        uploads._scan(rewrite, read_streams=True, meter=again)
        meter.seen += again.seen
        total, other = max(total, again.total), max(other, again.other)
    return meter.seen, total, other, time.perf_counter() - started


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    corpus = Path(argv[0]) if argv else CORPUS
    files = {str(p.relative_to(corpus)): p.read_bytes()
             for folder in FOLDERS for p in sorted((corpus / folder).rglob("*.pdf"))}
    files.update(generated(corpus))
    seen, totals, others, slowest = [], [], [], (0.0, "")
    for name, data in files.items():
        found, total, other, took = measure(name, data)
        seen += found
        if not name.endswith(".pdf"):
            print(f"{name}: {len(data) / 2**20:.1f} MiB file, streams decode to "
                  f"{total / 2**20:.1f} MiB")
        totals.append((total, name))
        others.append((other, name))
        slowest = max(slowest, (took, name))
    other = [s for s in seen if not s.image]
    images = [s for s in seen if s.image]
    print(f"{len(files)} files, {len(seen)} decoded streams ({len(images)} images)")
    big = max(other, key=lambda s: s.inflated)
    print(f"largest non-image stream: {big.inflated / 2**20:.2f} MiB ({big.name})")
    judged = [s for s in other if s.inflated > 1 << 20]
    if judged:
        worst = max(judged, key=lambda s: s.inflated / s.encoded)
        peak = max(judged, key=lambda s: s.peak)
        print(f"non-image streams over 1 MiB: {len(judged)}; highest final ratio "
              f"{worst.inflated / worst.encoded:.1f}:1 ({worst.name}), highest running "
              f"ratio past 1 MiB {peak.peak:.1f}:1 ({peak.name})")
    small = max(other, key=lambda s: s.inflated / max(s.encoded, 1))
    print(f"highest ratio of any non-image stream (any size): "
          f"{small.inflated / max(small.encoded, 1):.1f}:1, {small.inflated} bytes "
          f"({small.name})")
    if images:
        image = max(images, key=lambda s: s.inflated / max(s.encoded, 1))
        print(f"highest image ratio: {image.inflated / max(image.encoded, 1):.1f}:1, "
              f"{image.inflated / 2**20:.1f} MiB ({image.name})")
    total, name = max(totals)
    print(f"largest total per file: {total / 2**20:.1f} MiB ({name})")
    other, name = max(others)
    print(f"largest total of streams that are not images: {other / 2**20:.1f} MiB ({name})")
    print(f"slowest measurement: {slowest[0]:.2f} s ({slowest[1]})")


if __name__ == "__main__":
    main()
