"""Two independent validators for every signature the engine makes: pyHanko's own
(with its strict difference analysis) and poppler's ``pdfsig``."""
import io
import os
import shutil
import subprocess

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext


def pyhanko_statuses(pdf: bytes, roots) -> list:
    """pyHanko's status of every signature and document timestamp, in file order."""
    context = ValidationContext(trust_roots=list(roots), allow_fetching=False)
    reader = PdfFileReader(io.BytesIO(pdf), strict=True)
    return [validate_pdf_timestamp(sig, validation_context=context)
            if sig.sig_object_type == "/DocTimeStamp" else validate_pdf_signature(sig, context)
            for sig in reader.embedded_signatures]


def poppler(tool: str) -> str:
    binary = shutil.which(tool)
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} (poppler-utils) is required in CI")
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return binary


def pdfsig_report(pdf: bytes, tmp_path) -> list[dict]:
    """One entry per *signed* signature field (pdfsig also lists empty fields)."""
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([poppler("pdfsig"), str(path)], capture_output=True, text=True,
                         timeout=60)
    signatures = []
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.startswith("Signature #"):
            signatures.append({})
        elif line.startswith("- ") and ":" in line and signatures:
            key, _, value = line[2:].partition(":")
            signatures[-1][key.strip()] = value.strip()
    return [s for s in signatures if "Signature Validation" in s]


def words_with_boxes(pdf: bytes, tmp_path, page: int = 1) -> list[tuple[str, float, float]]:
    """Words poppler extracts from a page (appearance streams included), with their
    top-left corner in points from the page's top-left."""
    import html
    import re
    path = tmp_path / "extract.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([poppler("pdftotext"), "-bbox", "-f", str(page), "-l", str(page),
                          str(path), "-"], capture_output=True, text=True, timeout=60).stdout
    return [(html.unescape(m.group(3)), float(m.group(1)), float(m.group(2))) for m in
            re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', out)]


def extracted_text(pdf: bytes, tmp_path, page: int = 1) -> str:
    return " ".join(word for word, _, _ in words_with_boxes(pdf, tmp_path, page))


def assert_both_validators_accept(pdf: bytes, roots, tmp_path, count: int) -> list:
    statuses = pyhanko_statuses(pdf, roots)
    assert len(statuses) == count
    for status in statuses:
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.docmdp_ok in (None, True)
    poppler = pdfsig_report(pdf, tmp_path)
    assert len(poppler) == count
    assert all(s["Signature Validation"] == "Signature is Valid." for s in poppler), poppler
    return statuses
