"""Risky PDF features on the incoming side (issue 11): refused uploads store nothing,
accepted ones keep their warnings, shown on the document page and in its JSON."""
from sqlalchemy import func, select

from docmgr.core.documents import StoredFile
from docmgr.demo import sample_pdf
from tests.conftest import registration_form, upload
from tests.risky_pdfs import PROGRAM, document, link, owner_password_only, with_embedded_file

EMBEDDED = ("Tệp PDF có 1 tệp đính kèm nhúng bên trong (bang-ke.xlsx). Hệ thống không kiểm tra "
            "nội dung các tệp này; chỉ mở khi tin cậy nơi gửi.")
OWNER_PASSWORD = ("Tệp PDF được đặt mật khẩu giới hạn quyền (in, sao chép hoặc sửa nội dung). "
                  "Văn bản vẫn xem được, nhưng không ký số lên tệp này được.")


def report() -> bytes:
    return sample_pdf(["SO TAI CHINH", "So: 412/STC-NS", "Bao cao quy III"])


def register(api, pdf):
    return api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                       "file": upload(pdf)})


def stored_files(db) -> int:
    with db.transaction() as s:
        return s.scalar(select(func.count()).select_from(StoredFile))


def test_an_embedded_file_is_accepted_and_its_warning_shown(api, browser_login, db):
    r = register(api, with_embedded_file(report(), "bang-ke.xlsx", b"PK\x03\x04 bang ke"))
    assert r.status_code == 201, r.json
    details = api("specialist").get(f"/api/v1/incoming/{r.json['id']}").json
    assert details["file"]["warnings"] == [{"code": "embedded_files", "message": EMBEDDED}]
    page = browser_login("clerk").get(f"/incoming/{r.json['id']}").get_data(as_text=True)
    assert f'data-testid="file-warning">{EMBEDDED}</div>' in page
    with db.transaction() as s:
        kept = s.scalar(select(StoredFile))
        assert kept.warnings == [{"code": "embedded_files", "count": 1,
                                  "names": ["bang-ke.xlsx"]}]


def test_an_owner_password_is_accepted_and_said(api, browser_login):
    r = register(api, owner_password_only(report()))
    assert r.status_code == 201, r.json
    assert r.json["page_count"] == 1
    details = api("clerk").get(f"/api/v1/incoming/{r.json['id']}").json
    assert details["file"]["warnings"] == [{"code": "owner_password",
                                            "message": OWNER_PASSWORD}]
    page = browser_login("clerk").get(f"/incoming/{r.json['id']}").get_data(as_text=True)
    assert OWNER_PASSWORD in page


def test_an_ordinary_file_has_no_warning(api, browser_login):
    r = register(api, report())
    assert api("clerk").get(f"/api/v1/incoming/{r.json['id']}").json["file"]["warnings"] == []
    assert 'data-testid="file-warning"' not in browser_login("clerk").get(
        f"/incoming/{r.json['id']}").get_data(as_text=True)


def test_risky_files_are_refused_with_nothing_stored(api, db, blobs):
    for pdf, why in [
        (with_embedded_file(report(), "cap-nhat.exe", PROGRAM), "executable"),
        (document(link(b"<< /S /URI /URI (\\\\\\\\10.1.2.3\\\\chia-se) >>"),
                  page=b"/Annots [4 0 R]"), "network_path"),
        (document(catalog=b"/OpenAction << /S /URI /URI (http://theo-doi.example/) >>"),
         "open_url"),
    ]:
        r = register(api, pdf)
        error = r.json["error"]
        assert r.status_code == 400 and error["reason"] == why, error
        assert error["field"] == "file" and error["message"].startswith("Tệp PDF ")
    assert stored_files(db) == 0
    assert not any(p.is_file() for p in blobs.root.rglob("*"))
