"""Issue 11: the admin's audit log names no classified document the admin may not open."""
import html

from sqlalchemy import event

from tests.conftest import registration_form, upload
from tests.outbound import conftest as outbound_fixtures
from tests.records import conftest as records_fixtures
from tests.records.conftest import file_into

# Fixtures of other packages, shared rather than copied.
new_draft = outbound_fixtures.new_draft
dossier = records_fixtures.dossier


def _register(api, pdf_bytes, **fields):
    r = api("clerk").post("/api/v1/incoming", data={**registration_form(**fields),
                                                     "file": upload(pdf_bytes)})
    assert r.status_code == 201, r.json
    return r.json


def _secret(api, world, pdf_bytes, number: int):
    doc = _register(api, pdf_bytes, secrecy="secret", notation=f"{number}/MẬT-CA",
                    subject=f"Phương án bảo vệ mục tiêu số {number}")
    r = api("leader").post(f"/api/v1/incoming/{doc['id']}/assignments", json={
        "user_id": world.users["specialist"].id, "role": "main",
        "note": f"Chỉ đạo riêng số {number}"})
    assert r.status_code == 201, r.json
    return doc


def _page(client) -> str:
    return html.unescape(client.get("/admin/audit").get_data(as_text=True))


def test_events_on_a_classified_document_show_only_that_they_happened(
        api, world, pdf_bytes, browser_login, dossier):
    secret = _secret(api, world, pdf_bytes, 77)
    plain = _register(api, pdf_bytes, notation="15/STC-NS", subject="Báo cáo công khai")
    d = dossier()
    assert file_into(api, "specialist", d["id"], "incoming", secret["id"]).status_code == 201
    page = _page(browser_login("admin"))
    for secret_word in ("77/MẬT-CA", "Phương án bảo vệ", "Chỉ đạo riêng"):
        assert secret_word not in page
    assert f"văn bản mật #{secret['id']}" in page
    # Everything else stays as it was: the plain document, the actions, who acted.
    assert plain["notation"] in page
    assert "incoming.assigned" in page and "records.document_filed" in page
    assert "Phạm Minh Quang" in page


def test_a_classified_draft_is_sealed_too(api, world, browser_login, new_draft):
    draft = new_draft(secrecy="secret", subject="Tờ trình nhân sự tuyệt mật")
    page = _page(browser_login("admin"))
    assert "nhân sự tuyệt mật" not in page
    assert f"văn bản mật #{draft['id']}" in page


def test_the_page_decides_visibility_in_a_fixed_number_of_queries(
        app, db, api, world, pdf_bytes, browser_login):
    client = browser_login("admin")

    def queries() -> int:
        statements = []
        record = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            _page(client)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(statements)

    _secret(api, world, pdf_bytes, 1)
    few = queries()
    for number in range(2, 7):
        _secret(api, world, pdf_bytes, number)
    assert queries() == few
