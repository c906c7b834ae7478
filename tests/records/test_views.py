"""The hồ sơ pages: login and roles, CSRF on forms, the filing box, visibility, warnings."""
from datetime import timedelta

import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import func, select

from docmgr.core import clock
from docmgr.core.auth import User
from docmgr.inbound.models import IncomingDocument
from docmgr.records.models import Dossier, FiledDocument
from tests.conftest import csrf_from
from tests.records.conftest import file_into

ROLES = ("clerk", "leader", "head", "specialist", "admin")


def _count(db, model) -> int:
    with db.transaction(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_pages_need_login(app):
    client = app.test_client()
    for url in ("/records/", "/records/1", "/records/1/export", "/records/file?kind=incoming&id=1"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.location, url


def test_everyone_reads_the_catalogue_creators_see_the_form(browser_login, dossier):
    d = dossier()
    for who in ROLES:
        client = browser_login(who)
        page = client.get("/records/")
        html = page.data.decode()
        assert page.status_code == 200 and "Danh mục hồ sơ" in html and "01.TCCB" in html
        assert ('id="create-form"' in html) == (who != "specialist"), who
        assert client.get(f"/records/{d['id']}").status_code == 200
    assert browser_login("other_clerk").get(f"/records/{d['id']}").status_code == 404


def test_create_through_the_form_needs_csrf(browser_login, world, db):
    client = browser_login("clerk")
    form = {"year": str(clock.today().year), "code": "01.VP", "title": "Hồ sơ hội nghị",
            "retention": "Vĩnh viễn", "owner_id": str(world.users["head"].id),
            "unit_id": str(world.units["KT"].id), "rights": "public"}
    refused = client.post("/records/", data=form)
    assert refused.status_code == 400 and _count(db, Dossier) == 0
    token = csrf_from(client.get("/records/").data)
    r = client.post("/records/", data={**form, "csrf_token": token})
    assert r.status_code == 302, r.data.decode()[:500]
    page = client.get(r.location).data.decode()
    assert "Đã tạo hồ sơ 01.VP" in page and "Vĩnh viễn" in page
    again = client.post("/records/", data={**form, "csrf_token": token, "title": "Gõ lại"})
    html = again.data.decode()
    assert again.status_code == 409 and "đã có hồ sơ 01.VP" in html
    assert 'value="Gõ lại"' in html  # what was typed is kept
    assert browser_login("specialist").post("/records/", data={
        **form, "csrf_token": token, "code": "02.VP"}).status_code in (400, 403)
    assert _count(db, Dossier) == 1


def test_filing_form_and_page(browser_login, api, dossier, incoming, db):
    d = dossier()
    doc = incoming()
    client = browser_login("specialist")
    page = client.get(f"/records/file?kind=incoming&id={doc['id']}")
    html = page.data.decode()
    assert page.status_code == 200 and "01.TCCB" in html and "Lưu vào hồ sơ" in html
    token = csrf_from(html)
    form = {"kind": "incoming", "id": str(doc["id"]), "dossier_id": str(d["id"])}
    assert client.post("/records/file", data=form).status_code == 400  # no CSRF token
    r = client.post("/records/file", data={**form, "csrf_token": token})
    assert r.status_code == 302 and r.location.endswith(f"/incoming/{doc['id']}")
    r = client.post("/records/file", data={**form, "csrf_token": token, "back": "page"},
                    follow_redirects=True)
    assert "Văn bản đã có trong hồ sơ 01.TCCB." in r.data.decode()
    assert _count(db, FiledDocument) == 1
    shown = client.get(f"/records/{d['id']}").data.decode()
    assert doc["notation"] in shown and doc["subject"] in shown
    # The hồ sơ page offers to take it out again (the specialist filed it).
    assert f"/records/{d['id']}/documents/incoming/{doc['id']}/remove" in shown
    r = client.post(f"/records/{d['id']}/documents/incoming/{doc['id']}/remove",
                    data={"csrf_token": token}, follow_redirects=True)
    assert "Đã bỏ văn bản khỏi hồ sơ." in r.data.decode() and _count(db, FiledDocument) == 0


def test_include_box_for_document_pages(app, world, dossier, incoming):
    d = dossier()
    doc = incoming()
    with app.test_request_context("/incoming/1"):
        from docmgr.core.web import session
        user = session().get(User, world.users["specialist"].id)
        login_user(user)
        document = session().get(IncomingDocument, doc["id"])
        html = render_template_string('{% include "records/_file_into.html" %}', doc=document)
        assert 'data-testid="file-into"' in html and "01.TCCB" in html
        assert 'name="csrf_token"' in html and 'name="kind" value="incoming"' in html
        assert "Văn bản chưa được lưu vào hồ sơ nào." in html
        # Without a document (or for something else) the include renders nothing.
        assert render_template_string('{% include "records/_file_into.html" %}',
                                      doc=user).strip() == ""
    assert d["id"]


def test_confidential_title_never_on_the_dossier_page(browser_login, api, world, dossier,
                                                      incoming):
    secret = incoming(secrecy="confidential", subject="Danh sách cán bộ diện quy hoạch")
    api("leader").post(f"/api/v1/incoming/{secret['id']}/assignments", json={
        "user_id": world.users["specialist"].id, "role": "main"})
    plain = incoming(subject="Thông báo lịch họp giao ban")
    d = dossier()
    file_into(api, "specialist", d["id"], "incoming", secret["id"])
    file_into(api, "specialist", d["id"], "incoming", plain["id"])
    html = browser_login("specialist_vx").get(f"/records/{d['id']}").data.decode()
    assert "Thông báo lịch họp giao ban" in html
    assert "diện quy hoạch" not in html and secret["notation"] not in html
    assert "Ngoài ra còn 1 văn bản bạn không có quyền xem." in html
    assert "Xuất hồ sơ" not in html  # the export would be refused
    owner_view = browser_login("specialist").get(f"/records/{d['id']}").data.decode()
    assert "diện quy hoạch" in owner_view and "Xuất hồ sơ" in owner_view


def test_close_and_extend_through_the_page(browser_login, api, dossier, incoming):
    d = dossier(retention=10)
    file_into(api, "clerk", d["id"], "incoming", incoming()["id"])
    client = browser_login("head")  # the owner
    page = client.get(f"/records/{d['id']}").data.decode()
    token = csrf_from(page)
    assert 'id="close-form"' in page and 'id="retention-form"' in page
    r = client.post(f"/records/{d['id']}/retention", data={"csrf_token": token,
                                                            "retention": "5"},
                    follow_redirects=True)
    assert "chỉ được kéo dài, không được rút ngắn" in r.data.decode()
    r = client.post(f"/records/{d['id']}/close", data={"csrf_token": token},
                    follow_redirects=True)
    html = r.data.decode()
    assert "Đã đóng hồ sơ 01.TCCB." in html and 'id="close-form"' not in html
    assert "Hạn nộp lưu" in html
    r = client.post(f"/records/{d['id']}/retention", data={"csrf_token": token,
                                                            "retention": "Vĩnh viễn"},
                    follow_redirects=True)
    assert "Thời hạn bảo quản của hồ sơ 01.TCCB: Vĩnh viễn." in r.data.decode()
    assert client.post(f"/records/{d['id']}/close", data={}).status_code == 400  # CSRF


@pytest.fixture
def overdue_dossier(api, monkeypatch, dossier, incoming):
    """A hồ sơ closed 400 days ago (the clock moved back while closing): overdue."""
    d = dossier(code="03.TH")
    file_into(api, "clerk", d["id"], "incoming", incoming()["id"])
    real_now = clock.now
    moment = real_now() - timedelta(days=400)
    monkeypatch.setattr(clock, "now", lambda: moment)
    try:
        assert api("clerk").post(f"/api/v1/records/{d['id']}/close").status_code == 200
    finally:
        monkeypatch.setattr(clock, "now", real_now)
    return d


def test_warning_on_dashboard_and_list(browser_login, overdue_dossier):
    for who in ("clerk", "leader"):
        client = browser_login(who)
        home = client.get("/").data.decode()
        assert 'data-testid="records-due"' in home and "Hồ sơ đến hạn nộp lưu" in home
        listing = client.get("/records/?year=").data.decode()
        assert 'data-testid="due-warning"' in listing
        assert 'data-testid="archive-overdue"' in listing
    for who in ("specialist", "head", "admin"):
        assert 'data-testid="records-due"' not in browser_login(who).get("/").data.decode()
    clerk = browser_login("clerk")
    page = clerk.get(f"/records/{overdue_dossier['id']}").data.decode()
    assert 'data-testid="archive-overdue"' in page and 'id="submit-form"' in page
    r = clerk.post(f"/records/{overdue_dossier['id']}/submit",
                   data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "nộp lưu cơ quan" in r.data.decode()
    assert 'data-testid="records-due"' not in clerk.get("/").data.decode()
