"""Word drafts: converted with LibreOffice where installed, refused clearly where not."""
import io
import zipfile

import pytest

from docmgr.core import convert
from tests.conftest import upload
from tests.outbound.conftest import draft_form

DOCUMENT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            '<w:body><w:p><w:r><w:t>QUYẾT ĐỊNH về việc ban hành Quy chế</w:t></w:r></w:p>'
            '<w:p><w:r><w:t>Phạm Minh Quang</w:t></w:r></w:p></w:body></w:document>')
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>')


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("word/document.xml", DOCUMENT)
    return out.getvalue()


def test_docx_is_recognised_whatever_its_name():
    assert convert.is_docx(docx_bytes())
    assert not convert.is_docx(b"PK\x03\x04 not really a zip")
    assert not convert.is_docx(b"%PDF-1.7")


def test_without_libreoffice_the_refusal_says_so(api, world, monkeypatch):
    monkeypatch.setattr(convert, "office_binary", lambda: None)
    r = api("specialist").post("/api/v1/drafts", data={
        **draft_form(world), "file": upload(docx_bytes(), "du-thao.docx")})
    assert r.status_code == 400
    assert "LibreOffice" in r.json["error"]["message"] and r.json["error"]["field"] == "file"


@pytest.mark.skipif(convert.office_binary() is None, reason="LibreOffice is not installed")
def test_docx_draft_is_converted_to_pdf(api, world):
    r = api("specialist").post("/api/v1/drafts", data={
        **draft_form(world), "file": upload(docx_bytes(), "du-thao.docx")})
    assert r.status_code == 201, r.json
    assert r.json["versions"][0]["filename"] == "du-thao.pdf"
    pdf = api("specialist").get(f"/api/v1/drafts/{r.json['id']}/file").data
    assert pdf.startswith(b"%PDF-")
