"""check_pdf against real PDFs from many producers, damaged and hostile files and signed
originals (tests/data; every file of the shared corpus in the corpus tests) plus a few
hand-made files."""
import hashlib
import os
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from docmgr.core.errors import UploadRejected, UploadTooLarge
from docmgr.core.uploads import CheckedPdf, check_pdf
from docmgr.demo import pdf_from_objects
from tests import corpus
from tests.generated import scan_jpeg

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


# Refused for what they may do (test_pdf_risks.py): a LaTeX form demo submitting to a URL.
RISKY = {"pypdf-010-pdflatex-forms.pdf"}

ACCEPTED = [p for p in corpus.files("pdf/normal", "pdf/pdfa", "pdf/vn/unsigned",
                                     "signed/vn-congbao/valid")
            if p.values[0] is None or p.values[0].name not in PASSWORD_PROTECTED.keys() | RISKY]
MALFORMED = corpus.files("pdf/malformed")
SIGNED = corpus.files("signed")


def data(relative: str) -> bytes:
    return corpus.data(relative).read_bytes()


def rejection(data: bytes, max_bytes: int = MAX) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        check_pdf(data, max_bytes=max_bytes)
    assert caught.value.field == "file"
    return caught.value


def one_page_pdf(catalog_extra: bytes = b"", page_extra: bytes = b"") -> bytes:
    return pdf_from_objects(b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
                    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + page_extra
                    + b" >>")


@pytest.mark.parametrize("path", ACCEPTED)
def test_ordinary_pdfs_are_accepted_untouched(path):
    data = path.read_bytes()
    checked = check_pdf(data, max_bytes=MAX)
    assert checked.page_count >= 1
    assert checked.data is data
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


def test_page_counts_and_signature_flags():
    def check(relative):
        return check_pdf(data(relative), max_bytes=MAX)

    assert check("pdf/normal/pypdf-006-pdflatex-outline.pdf").page_count == 4
    unsigned = check("pdf/vn/unsigned/thong-tu-12-2022-TT-BLDTBXH.pdf")
    assert (unsigned.page_count, unsigned.has_signatures) == (6, False)
    signed = check("signed/vn-congbao/valid/thong-tu-02-2026-TT-BTC.pdf")
    assert (signed.page_count, signed.has_signatures) == (2, True)


@pytest.mark.corpus
def test_page_counts_and_signature_flags_of_more_gazette_files(corpus_dir):
    def check(relative):
        return check_pdf((corpus_dir / relative).read_bytes(), max_bytes=MAX)

    unsigned = check("pdf/vn/unsigned/nghi-quyet-78-2025-UBTVQH15.pdf")
    assert (unsigned.page_count, unsigned.has_signatures) == (2, False)
    signed = check("signed/vn-congbao/valid/van-ban-hop-nhat-40-VBHN-BCT.pdf")
    assert (signed.page_count, signed.has_signatures) == (10, True)


def test_leading_junk_before_header_is_accepted():
    # libmagic calls this one application/octet-stream (a space precedes %PDF).
    junk = data("pdf/pdfa/verapdf-A1b-6-1-2-t01-fail-a.pdf")
    assert junk.index(b"%PDF-") == 1
    assert check_pdf(junk, max_bytes=MAX).page_count == 1


@pytest.mark.parametrize("name", ["pdfjs-attachment.pdf", "pdfjs-encrypted-attachment.pdf"])
def test_attachments_are_allowed(name):
    # The second is encrypted with an empty user password: it opens, so it is fine.
    assert check_pdf(data(f"pdf/hostile/{name}"), max_bytes=MAX).page_count == 1


@pytest.mark.parametrize("name,password", sorted(PASSWORD_PROTECTED.items()))
def test_password_protected_pdfs_are_rejected(name, password):
    protected = data(f"pdf/normal/{name}")
    assert rejection(protected).message == MSG_PASSWORD
    # Proof that the file is sound and only the password is missing.
    with pdfium.PdfDocument(protected, password=password) as doc:
        assert len(doc) == 1


def test_certificate_encrypted_pdf_is_rejected_as_encrypted():
    error = rejection(data("signed/pyhanko/signed-encrypted-pubkey.pdf"))
    assert error.extra["reason"] == "encrypted"
    assert "mã hóa" in error.message


@pytest.mark.parametrize("name", ["pdfjs-doc-actions.pdf", "pdfjs-evaljs.pdf",
                                  "pdfjs-js-buttons.pdf"])
def test_javascript_is_rejected(name):
    error = rejection(data(f"pdf/hostile/{name}"))
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
    gazette = data("signed/vn-congbao/broken-byterange/nghi-quyet-17-2022-UBTVQH15.pdf")
    assert b"/JS" in gazette
    assert check_pdf(gazette, max_bytes=MAX).page_count == 3


def test_giant_jbig2_bomb_is_rejected():
    # Declares three 100 000 x 100 000 pixel JBIG2 pages.
    error = rejection(data("pdf/hostile/pdfjs-bomb-giant.pdf"))
    assert error.extra["reason"] == "oversized_image"


def test_absurd_image_dimensions_are_rejected():
    image = (b"<< /Type /XObject /Subtype /Image /Width 200000 /Height 200000 "
             b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length 1 >>\nstream\n\x00\nendstream")
    data = pdf_from_objects(b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                    b"/Resources << /XObject << /Im1 4 0 R >> >> >>",
                    image)
    assert rejection(data).extra["reason"] == "oversized_image"


def test_jpeg_named_pdf_is_rejected():
    assert rejection(scan_jpeg()).message == MSG_NOT_PDF.format("image/jpeg")


def test_jpeg_with_pdf_marker_is_still_not_pdf():
    mixed = scan_jpeg()[:100] + data("pdf/normal/pypdf-002-libreoffice-writer.pdf")
    assert rejection(mixed).message == MSG_NOT_PDF.format("image/jpeg")


def test_text_file_is_rejected():
    data = "Kính gửi: Ủy ban nhân dân tỉnh.\nĐề nghị xem xét.\n".encode()
    assert rejection(data).message == MSG_NOT_PDF.format("text/plain")


def test_empty_file_is_rejected():
    assert rejection(b"").message == "Tệp rỗng."


def test_truncated_pdf_is_rejected():
    whole = data("pdf/normal/pypdf-011-google-doc.pdf")
    assert rejection(whole[: len(whole) // 2]).message == MSG_CORRUPT


def test_random_bytes_with_pdf_header_are_rejected():
    data = b"%PDF-1.7\n" + os.urandom(64 * 1024)
    assert rejection(data).message == MSG_CORRUPT


def test_pdf_without_pages_is_rejected():
    data = pdf_from_objects(b"<< /Type /Catalog /Pages 2 0 R >>",
                            b"<< /Type /Pages /Kids [] /Count 0 >>")
    assert rejection(data).message == MSG_NO_PAGES


def test_rejection_reason_does_not_depend_on_the_previous_file():
    # PDFium's last-error code is sticky: a corrupt upload must not make the
    # next one look corrupt, nor a password-protected one the next encrypted.
    broken = b"%PDF-1.7\n" + b"\x00" * 100
    zero_pages = pdf_from_objects(b"<< /Type /Catalog /Pages 2 0 R >>",
                          b"<< /Type /Pages /Kids [] /Count 0 >>")
    protected = data("pdf/normal/pypdf-005-libreoffice-writer-password.pdf")
    for before in (broken, protected, zero_pages):
        rejection(before)
        assert rejection(zero_pages).message == MSG_NO_PAGES
        rejection(before)
        assert rejection(broken).message == MSG_CORRUPT
        rejection(before)
        assert rejection(protected).message == MSG_PASSWORD


def test_too_large_is_413_and_names_the_limit():
    pdf = data("pdf/normal/pypdf-001-minimal-document.pdf")
    with pytest.raises(UploadTooLarge) as caught:
        check_pdf(pdf, max_bytes=len(pdf) - 1)
    assert caught.value.status == 413
    assert caught.value.field == "file"
    check_pdf(pdf, max_bytes=len(pdf))  # exactly at the limit is fine

    with pytest.raises(UploadTooLarge) as caught:
        check_pdf(b"\0" * (MAX + 1), max_bytes=MAX)
    assert caught.value.message == "Tệp vượt quá giới hạn 50 MB."
    assert caught.value.to_dict()["code"] == "upload_too_large"


def _outcome(path: Path):
    try:
        return check_pdf(path.read_bytes(), max_bytes=MAX)
    except UploadRejected as error:
        return error


@pytest.mark.parametrize("path", MALFORMED)
def test_malformed_pdfs_are_accepted_or_rejected_cleanly(path, record_property):
    result = _outcome(path)
    assert isinstance(result, (CheckedPdf, UploadRejected))
    record_property("accepted", isinstance(result, CheckedPdf))
    if isinstance(result, CheckedPdf):
        assert result.page_count >= 1
        assert path.name in MALFORMED_REPAIRED, "newly repaired: update MALFORMED_REPAIRED"
    else:
        assert path.name not in MALFORMED_REPAIRED, f"no longer repaired: {result.message}"


@pytest.mark.parametrize("path", SIGNED)
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
