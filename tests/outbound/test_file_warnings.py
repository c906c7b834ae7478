"""Risky PDF features on the outgoing side (issue 11): an owner-password draft is refused at
upload — it could never be signed — and an embedded file's warning follows the draft through
signing and issuing to the recipient organisation."""
import pytest
from sqlalchemy import func, select

from docmgr.core.documents import StoredFile
from docmgr.demo import sample_pdf
from docmgr.signing import appearance, engine, placement
from docmgr.signing.errors import EncryptedDocument
from tests.conftest import upload
from tests.outbound.conftest import ORG_PIN, PIN, draft_form, draft_pdf
from tests.risky_pdfs import owner_password_only, protected_draft_pdf, with_embedded_file

NOT_SIGNABLE = ("Tệp PDF được đặt mật khẩu giới hạn quyền (mật khẩu chủ sở hữu) nên không ký số "
                "lên được. Hãy gỡ mật khẩu trong phần mềm soạn thảo, xuất lại tệp PDF rồi tải "
                "lên.")
EMBEDDED = ("Tệp PDF có 1 tệp đính kèm nhúng bên trong (so-lieu.xlsx). Hệ thống không kiểm tra "
            "nội dung các tệp này; chỉ mở khi tin cậy nơi gửi.")


def stored_files(db) -> int:
    with db.transaction() as s:
        return s.scalar(select(func.count()).select_from(StoredFile))


def test_signing_an_owner_password_draft_cannot_work():
    """Why such drafts are refused: pyHanko writes nothing into a file encrypted under a
    password it was not given, so the signer would learn it only at the very end."""
    protected = protected_draft_pdf()
    layout = placement.find_layout(protected, "Pham Minh Quang")
    with pytest.raises(EncryptedDocument):
        engine.prepare(protected, layout.personal, seal_diameter_pt=36 * appearance.MM,
                       number=layout.number, date=layout.date)


def test_an_owner_password_draft_is_refused_at_upload(api, world, new_draft, db):
    r = api("specialist").post("/api/v1/drafts", data={
        **draft_form(world), "file": upload(protected_draft_pdf(), "du-thao.pdf")})
    assert r.status_code == 400, r.json
    assert r.json["error"] == {"code": "upload_rejected", "field": "file",
                               "message": NOT_SIGNABLE, "reason": "encrypted"}
    annex = owner_password_only(sample_pdf(["PHU LUC"]))
    r = api("specialist").post("/api/v1/drafts", data={
        **draft_form(world), "file": upload(draft_pdf()),
        "attachments": [upload(annex, "phu-luc.pdf")]})
    assert r.status_code == 400 and r.json["error"]["field"] == "attachments"
    assert stored_files(db) == 0
    doc = new_draft()
    r = api("specialist").post(f"/api/v1/drafts/{doc['id']}/versions",
                               data={"file": upload(protected_draft_pdf())})
    assert r.status_code == 400 and r.json["error"]["message"] == NOT_SIGNABLE
    assert stored_files(db) == 1


def test_an_embedded_file_is_said_from_draft_to_recipient(api, world, keys, browser_login):
    pdf = with_embedded_file(draft_pdf(), "so-lieu.xlsx", b"PK\x03\x04 so lieu")
    r = api("specialist").post("/api/v1/drafts", data={
        **draft_form(world, reviewer_ids=""), "file": upload(pdf, "du-thao.pdf")})
    assert r.status_code == 201, r.json
    doc, said = r.json, [{"code": "embedded_files", "message": EMBEDDED}]
    assert doc["warnings"] == said and doc["versions"][0]["warnings"] == said
    url = f"/api/v1/drafts/{doc['id']}"
    assert api("specialist").post(f"{url}/submit").status_code == 200
    signed = api("leader").post(f"{url}/sign", json={"pin": PIN})
    assert signed.status_code == 200, signed.json
    page = browser_login("leader").get(f"/outgoing/{doc['id']}").get_data(as_text=True)
    assert f'data-testid="file-warning">{EMBEDDED}</div>' in page  # the signed file shown
    issued = api("clerk").post(f"{url}/issue", json={"pin": ORG_PIN})
    assert issued.status_code == 200 and issued.json["warnings"] == said
    incoming = api("other_clerk").get("/api/v1/incoming?status=pending").json["items"][0]
    received = api("other_clerk").get(f"/api/v1/incoming/{incoming['id']}").json
    assert received["file"]["warnings"] == said


def test_an_attachment_warns_on_its_own(api, world, browser_login):
    annex = with_embedded_file(sample_pdf(["PHU LUC"]), "so-lieu.xlsx", b"so lieu")
    r = api("specialist").post("/api/v1/drafts", data={
        **draft_form(world), "file": upload(draft_pdf()),
        "attachments": [upload(annex, "phu-luc.pdf")]})
    assert r.status_code == 201, r.json
    assert r.json["warnings"] == []
    assert r.json["attachments"][0]["warnings"] == [{"code": "embedded_files",
                                                     "message": EMBEDDED}]
    page = browser_login("specialist").get(f"/outgoing/{r.json['id']}").get_data(as_text=True)
    assert page.count('data-testid="file-warning"') == 1 and EMBEDDED in page
