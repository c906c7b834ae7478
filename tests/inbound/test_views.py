"""The web pages: who may open them, CSRF on every form, registration through the form."""
import pytest
from sqlalchemy import func, select

from docmgr.inbound.models import IncomingDocument
from tests.conftest import csrf_from, registration_form, upload


def test_pages_need_login(app):
    client = app.test_client()
    for url in ("/", "/incoming/", "/incoming/new", "/incoming/1", "/incoming/register",
                "/admin/audit"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.location, url


@pytest.mark.parametrize("url,allowed", [
    ("/", {"clerk", "leader", "head", "specialist", "admin"}),
    ("/incoming/", {"clerk", "leader", "head", "specialist", "admin"}),
    ("/incoming/new", {"clerk"}),
    ("/incoming/register", {"clerk", "leader", "head", "admin"}),
    ("/incoming/register/export?format=csv", {"clerk", "leader", "head", "admin"}),
    ("/admin/audit", {"admin"}),
])
def test_role_matrix_for_pages(browser_login, url, allowed):
    for username in ("clerk", "leader", "head", "specialist", "admin"):
        r = browser_login(username).get(url)
        assert r.status_code == (200 if username in allowed else 403), (url, username)


def _register_via_form(client, pdf, **fields):
    page = client.get("/incoming/new")
    data = {**registration_form(**fields), "csrf_token": csrf_from(page.data),
            "file": upload(pdf)}
    return client.post("/incoming/new", data=data, content_type="multipart/form-data")


def test_clerk_registers_through_the_form(browser_login, pdf_bytes, db):
    client = browser_login("clerk")
    r = _register_via_form(client, pdf_bytes)
    assert r.status_code == 302
    page = client.get(r.location)
    html = page.data.decode()
    assert "Đã vào sổ văn bản đến số 1" in html
    # The next form remembers the sender and proposes today's date.
    assert 'value="Sở Tài chính tỉnh Quảng Ngãi"' in html
    with db.transaction() as s:
        doc = s.scalar(select(IncomingDocument))
    show = client.get(f"/incoming/{doc.id}")
    assert show.status_code == 200 and "412/STC-NS" in show.data.decode()
    png = client.get(f"/incoming/{doc.id}/pages/1.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert client.get(f"/incoming/{doc.id}/pages/3.png").status_code == 404


def test_form_errors_keep_what_was_typed(browser_login, pdf_bytes, db):
    client = browser_login("clerk")
    r = _register_via_form(client, b"not a pdf", subject="Trích yếu đã gõ")
    html = r.data.decode()
    assert r.status_code == 400
    assert "Tệp không phải PDF" in html and "Trích yếu đã gõ" in html
    duplicate = _register_via_form(client, pdf_bytes)
    assert duplicate.status_code == 302
    again = _register_via_form(client, pdf_bytes)
    assert again.status_code == 409 and "đã được vào sổ" in again.data.decode()
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(IncomingDocument)) == 1


def test_forged_posts_without_csrf_token_are_refused(browser_login, pdf_bytes, db):
    client = browser_login("clerk")
    data = {**registration_form(), "file": upload(pdf_bytes)}
    r = client.post("/incoming/new", data=data, content_type="multipart/form-data")
    assert r.status_code == 400
    forged = {**registration_form(), "file": upload(pdf_bytes), "csrf_token": "gia-mao"}
    assert client.post("/incoming/new", data=forged,
                       content_type="multipart/form-data").status_code == 400
    assert client.post("/logout").status_code == 400
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(IncomingDocument)) == 0


def test_login_page(app, world):
    client = app.test_client()
    page = client.get("/login")
    token = csrf_from(page.data)
    wrong = client.post("/login", data={"username": "clerk", "password": "sai",
                                        "csrf_token": token})
    assert wrong.status_code == 401 and "không đúng" in wrong.data.decode()
    no_token = client.post("/login", data={"username": "clerk", "password": "sai"})
    assert no_token.status_code == 400
    ok = client.post("/login?next=//evil.example/x", data={
        "username": "clerk", "password": "mat-khau-dung-1", "csrf_token": token})
    assert ok.status_code == 302 and ok.location == "/"
    session_cookie = [c for c in ok.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert session_cookie and "HttpOnly" in session_cookie[0]
    assert "SameSite=Lax" in session_cookie[0]


def test_assign_and_complete_through_pages(browser_login, api, pdf_bytes, world, db):
    doc = api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                      "file": upload(pdf_bytes)}).json
    leader = browser_login("leader")
    show = leader.get(f"/incoming/{doc['id']}")
    assert 'id="assign-form"' in show.data.decode()
    r = leader.post(f"/incoming/{doc['id']}/assign", data={
        "target": f"user:{world.users['specialist'].id}", "role": "main",
        "deadline": "", "note": "Khẩn trương xử lý", "csrf_token": csrf_from(show.data)})
    assert r.status_code == 302
    specialist = browser_login("specialist")
    page = specialist.get(f"/incoming/{doc['id']}").data.decode()
    assert "Khẩn trương xử lý" in page and 'id="complete-form"' in page
    assert 'id="assign-form"' not in page
    r = specialist.post(f"/incoming/{doc['id']}/complete",
                        data={"note": "Xong", "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    with db.transaction() as s:
        assert s.get(IncomingDocument, doc["id"]).status == "completed"
    # Someone who is not the handler gets a refusal message, not a change.
    other = browser_login("specialist_vx")
    other_page = other.get(f"/incoming/{doc['id']}").data.decode()
    r = other.post(f"/incoming/{doc['id']}/complete",
                   data={"note": "x", "csrf_token": csrf_from(other_page)},
                   follow_redirects=True)
    assert "Chỉ người xử lý chính" in r.data.decode()


def test_duplicate_check_endpoint(browser_login, api, pdf_bytes):
    doc = api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                      "file": upload(pdf_bytes)}).json
    client = browser_login("clerk")
    hit = client.get("/incoming/check-duplicate", query_string={
        "sender": "Sở Tài chính tỉnh Quảng Ngãi", "notation": "412/STC-NS",
        "doc_date": "2026-11-02"}).json
    assert hit["duplicate"]["id"] == doc["id"]
    miss = client.get("/incoming/check-duplicate", query_string={
        "sender": "Sở Tài chính tỉnh Quảng Ngãi", "notation": "999/STC-NS",
        "doc_date": "bad"}).json
    assert miss["duplicate"] is None


def test_admin_sees_the_audit_log(browser_login, api, pdf_bytes):
    api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                "file": upload(pdf_bytes)})
    html = browser_login("admin").get("/admin/audit").data.decode()
    assert "incoming.registered" in html and "Nguyễn Thị Văn Thư" in html
