"""check_pdf against the shared corpus (real PDFs from many producers, damaged
and hostile files, signed originals) plus a few hand-made files."""
import hashlib
import os
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from docmgr.core.errors import UploadRejected, UploadTooLarge
from docmgr.core.uploads import CheckedPdf, check_pdf
from tests.conftest import CORPUS

MAX = 50 * 1024 * 1024

MSG_NOT_PDF = "Tệp không phải PDF (nhận diện được: {})."
MSG_CORRUPT = "Tệp PDF bị hỏng hoặc không đọc được."
MSG_PASSWORD = "Tệp PDF được mã hóa bằng mật khẩu; hãy gửi bản không mật khẩu."
MSG_JS = "Tệp PDF chứa mã JavaScript nên không được chấp nhận."
MSG_NO_PAGES = "Tệp PDF không có trang nào."

# Password-protected originals, with the passwords their sources document.
# PDFium tries the empty password itself, so these really need one.
PASSWORD_PROTECTED = {
    "pypdf-005-libreoffice-writer-password.pdf": "openpassword",
    "pyhanko-minimal-rc4-encrypted.pdf": "usersecret",
}

# Damaged files PDFium repairs (what PDFium 159 / pypdfium2 5.x does; a PDFium
# upgrade may move names in or out of this set: check and update it).
MALFORMED_REPAIRED = {
    "pdfjs-helloworld-bad.pdf", "pdfjs-issue1586.pdf", "pdfjs-scan-bad.pdf",
    "pdfjs-xref-command-missing.pdf", "pyhanko-circular-page-tree.pdf",
    "pyhanko-form-tree-circular-ref.pdf", "pyhanko-minimal-badxref.pdf",
    "pyhanko-minimal-illegal-header.pdf", "pyhanko-minimal-startxref-hopeless.pdf",
    "pyhanko-nonexistent-refs.pdf", "pyhanko-struct-tree-circular-ref.pdf",
    "qpdf-append-xref-loop.pdf", "qpdf-bad-token-startxref.pdf", "qpdf-bad-xref.pdf",
    "qpdf-broken-lzw.pdf", "qpdf-damaged-stream.pdf", "qpdf-dangling-bad-xref.pdf",
    "qpdf-global-damaged.pdf", "qpdf-issue-117.pdf", "qpdf-issue-149.pdf",
    "qpdf-outlines-with-loop.pdf", "qpdf-pages-loop.pdf",
}


def corpus_files(folder: str, pattern: str = "*.pdf") -> list[Path]:
    # Runs at collection: a missing corpus must fail the run, not turn every
    # parametrised test into a silent "empty parameter set" skip.
    directory = CORPUS / folder
    files = sorted(directory.rglob(pattern))
    assert files, f"test corpus missing or empty: {directory}"
    return files


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(CORPUS)) for p in paths]


ACCEPTED = [p for p in corpus_files("pdf/normal") if p.name not in PASSWORD_PROTECTED]
ACCEPTED += corpus_files("pdf/pdfa") + corpus_files("pdf/vn/unsigned")
ACCEPTED += corpus_files("signed/vn-congbao/valid")
MALFORMED = corpus_files("pdf/malformed")
SIGNED = corpus_files("signed")


def rejection(data: bytes, max_bytes: int = MAX) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        check_pdf(data, max_bytes=max_bytes)
    assert caught.value.field == "file"
    return caught.value


def make_pdf(*objects: bytes) -> bytes:
    """A PDF with a correct xref table; object 1 must be the catalog."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def one_page_pdf(catalog_extra: bytes = b"", page_extra: bytes = b"") -> bytes:
    return make_pdf(b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
                    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + page_extra
                    + b" >>")


@pytest.mark.parametrize("path", ACCEPTED, ids=ids(ACCEPTED))
def test_ordinary_pdfs_are_accepted_untouched(path):
    data = path.read_bytes()
    checked = check_pdf(data, max_bytes=MAX)
    assert checked.page_count >= 1
    assert checked.data is data
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


def test_page_counts_and_signature_flags():
    def check(folder, name):
        return check_pdf((CORPUS / folder / name).read_bytes(), max_bytes=MAX)

    assert check("pdf/normal", "pypdf-006-pdflatex-outline.pdf").page_count == 4
    assert check("pdf/vn/unsigned", "thong-tu-12-2022-TT-BLDTBXH.pdf").page_count == 6
    unsigned = check("pdf/vn/unsigned", "nghi-quyet-78-2025-UBTVQH15.pdf")
    assert (unsigned.page_count, unsigned.has_signatures) == (2, False)
    signed = check("signed/vn-congbao/valid", "van-ban-hop-nhat-40-VBHN-BCT.pdf")
    assert (signed.page_count, signed.has_signatures) == (10, True)


def test_leading_junk_before_header_is_accepted():
    # libmagic calls this one application/octet-stream (a space precedes %PDF).
    data = (CORPUS / "pdf/pdfa/verapdf-A1b-6-1-2-t01-fail-a.pdf").read_bytes()
    assert data.index(b"%PDF-") == 1
    assert check_pdf(data, max_bytes=MAX).page_count == 1


@pytest.mark.parametrize("name", ["pdfjs-attachment.pdf", "pdfjs-encrypted-attachment.pdf"])
def test_attachments_are_allowed(name):
    # The second is encrypted with an empty user password: it opens, so it is fine.
    assert check_pdf((CORPUS / "pdf/hostile" / name).read_bytes(), max_bytes=MAX).page_count == 1


@pytest.mark.parametrize("name,password", sorted(PASSWORD_PROTECTED.items()))
def test_password_protected_pdfs_are_rejected(name, password):
    data = (CORPUS / "pdf/normal" / name).read_bytes()
    assert rejection(data).message == MSG_PASSWORD
    # Proof that the file is sound and only the password is missing.
    with pdfium.PdfDocument(data, password=password) as doc:
        assert len(doc) == 1


def test_certificate_encrypted_pdf_is_rejected_as_encrypted():
    error = rejection((CORPUS / "signed/pyhanko/signed-encrypted-pubkey.pdf").read_bytes())
    assert error.extra["reason"] == "encrypted"
    assert "mã hóa" in error.message


@pytest.mark.parametrize("name", ["pdfjs-doc-actions.pdf", "pdfjs-evaljs.pdf",
                                  "pdfjs-js-buttons.pdf"])
def test_javascript_is_rejected(name):
    error = rejection((CORPUS / "pdf/hostile" / name).read_bytes())
    assert error.message == MSG_JS
    assert error.to_dict() == {"code": "upload_rejected", "message": MSG_JS, "field": "file",
                               "reason": "javascript"}


def test_javascript_with_escaped_names_is_rejected():
    # /JavaScri#70t and /J#53 are /JavaScript and /JS spelled with escapes.
    data = one_page_pdf(b"/OpenAction << /S /JavaScri#70t /J#53 (app.alert(1)) >>")
    assert rejection(data).message == MSG_JS


def test_launch_action_is_rejected():
    data = one_page_pdf(b"/OpenAction << /S /Launch /F (cmd.exe) >>")
    assert rejection(data).extra["reason"] == "launch"


def test_js_bytes_inside_compressed_streams_are_not_javascript():
    # This signed Công báo excerpt has "/JS" by chance inside Flate data.
    data = (CORPUS / "signed/vn-congbao/broken-byterange/nghi-quyet-17-2022-UBTVQH15.pdf"
            ).read_bytes()
    assert b"/JS" in data
    assert check_pdf(data, max_bytes=MAX).page_count == 3


def test_giant_jbig2_bomb_is_rejected():
    # Declares three 100 000 x 100 000 pixel JBIG2 pages.
    error = rejection((CORPUS / "pdf/hostile/pdfjs-bomb-giant.pdf").read_bytes())
    assert error.extra["reason"] == "oversized_image"


def test_absurd_image_dimensions_are_rejected():
    image = (b"<< /Type /XObject /Subtype /Image /Width 200000 /Height 200000 "
             b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length 1 >>\nstream\n\x00\nendstream")
    data = make_pdf(b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                    b"/Resources << /XObject << /Im1 4 0 R >> >> >>",
                    image)
    assert rejection(data).extra["reason"] == "oversized_image"


def test_jpeg_named_pdf_is_rejected():
    data = corpus_files("ocr/vi-scans", "*.jpg")[0].read_bytes()
    assert rejection(data).message == MSG_NOT_PDF.format("image/jpeg")


def test_jpeg_with_pdf_marker_is_still_not_pdf():
    jpeg = corpus_files("ocr/vi-scans", "*.jpg")[0].read_bytes()
    data = jpeg[:100] + (CORPUS / "pdf/normal/pypdf-002-libreoffice-writer.pdf").read_bytes()
    assert rejection(data).message == MSG_NOT_PDF.format("image/jpeg")


def test_text_file_is_rejected():
    data = "Kính gửi: Ủy ban nhân dân tỉnh.\nĐề nghị xem xét.\n".encode()
    assert rejection(data).message == MSG_NOT_PDF.format("text/plain")


def test_empty_file_is_rejected():
    assert rejection(b"").message == "Tệp rỗng."


def test_truncated_pdf_is_rejected():
    data = (CORPUS / "pdf/normal/pypdf-011-google-doc.pdf").read_bytes()
    assert rejection(data[: len(data) // 2]).message == MSG_CORRUPT


def test_random_bytes_with_pdf_header_are_rejected():
    data = b"%PDF-1.7\n" + os.urandom(64 * 1024)
    assert rejection(data).message == MSG_CORRUPT


def test_pdf_without_pages_is_rejected():
    data = make_pdf(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>")
    assert rejection(data).message == MSG_NO_PAGES


def test_rejection_reason_does_not_depend_on_the_previous_file():
    # PDFium's last-error code is sticky: a corrupt upload must not make the
    # next one look corrupt, nor a password-protected one the next encrypted.
    broken = b"%PDF-1.7\n" + b"\x00" * 100
    zero_pages = make_pdf(b"<< /Type /Catalog /Pages 2 0 R >>",
                          b"<< /Type /Pages /Kids [] /Count 0 >>")
    protected = (CORPUS / "pdf/normal/pypdf-005-libreoffice-writer-password.pdf").read_bytes()
    for before in (broken, protected, zero_pages):
        rejection(before)
        assert rejection(zero_pages).message == MSG_NO_PAGES
        rejection(before)
        assert rejection(broken).message == MSG_CORRUPT
        rejection(before)
        assert rejection(protected).message == MSG_PASSWORD


def test_too_large_is_413_and_names_the_limit():
    data = (CORPUS / "pdf/normal/pypdf-001-minimal-document.pdf").read_bytes()
    with pytest.raises(UploadTooLarge) as caught:
        check_pdf(data, max_bytes=len(data) - 1)
    assert caught.value.status == 413
    assert caught.value.field == "file"
    check_pdf(data, max_bytes=len(data))  # exactly at the limit is fine

    with pytest.raises(UploadTooLarge) as caught:
        check_pdf(b"\0" * (MAX + 1), max_bytes=MAX)
    assert caught.value.message == "Tệp vượt quá giới hạn 50 MB."
    assert caught.value.to_dict()["code"] == "upload_too_large"


def _outcome(path: Path):
    try:
        return check_pdf(path.read_bytes(), max_bytes=MAX)
    except UploadRejected as error:
        return error


@pytest.mark.parametrize("path", MALFORMED, ids=ids(MALFORMED))
def test_malformed_pdfs_are_accepted_or_rejected_cleanly(path, record_property):
    result = _outcome(path)
    assert isinstance(result, (CheckedPdf, UploadRejected))
    record_property("accepted", isinstance(result, CheckedPdf))
    if isinstance(result, CheckedPdf):
        assert result.page_count >= 1
        assert path.name in MALFORMED_REPAIRED, "newly repaired: update MALFORMED_REPAIRED"
    else:
        assert path.name not in MALFORMED_REPAIRED, f"no longer repaired: {result.message}"


@pytest.mark.parametrize("path", SIGNED, ids=ids(SIGNED))
def test_signed_pdfs_are_kept_byte_for_byte(path):
    data = path.read_bytes()
    result = _outcome(path)
    if path.name == "signed-encrypted-pubkey.pdf":
        assert isinstance(result, UploadRejected)
        return
    # Tampered or broken signatures are the validator's business, not the upload's.
    assert isinstance(result, CheckedPdf)
    assert result.data == data
    assert result.has_signatures
