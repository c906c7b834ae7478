"""Archiving: a completed incoming or an issued outgoing document is a record. Every
operation of the inbound and outbound slices that could change it must refuse, with a
clear message, and store nothing."""
import pytest
from sqlalchemy import func, select

from docmgr.core.audit import AuditEvent
from docmgr.core.documents import StoredFile
from docmgr.inbound.models import Assignment, IncomingDocument
from docmgr.outbound.models import DraftVersion, OutgoingDocument
from tests.conftest import upload
from tests.outbound.conftest import PIN, draft_pdf
from tests.records.conftest import ORG_PIN


def _snapshot(db, model, doc_id):
    """Everything a refused request could have touched: the document row, the audit
    log, stored files, assignments and versions."""
    with db.transaction(readonly=True) as s:
        doc = s.get(model, doc_id)
        row = {c.name: getattr(doc, c.name) for c in model.__table__.columns}
        return {"row": row,
                "audit": s.scalar(select(func.count()).select_from(AuditEvent)),
                "files": s.scalar(select(func.count()).select_from(StoredFile)),
                "assignments": s.scalar(select(func.count()).select_from(Assignment)),
                "versions": s.scalar(select(func.count()).select_from(DraftVersion))}


def _assert_refused(response, status=409):
    assert response.status_code == status, response.json
    error = response.json["error"]
    assert error["message"] and error["code"]
    return error


def test_completed_incoming_refuses_every_change(api, world, db, completed):
    doc = completed()
    url = f"/api/v1/incoming/{doc['id']}"
    before = _snapshot(db, IncomingDocument, doc["id"])
    for who in ("leader", "clerk"):
        for role in ("main", "cooperate", "info"):
            r = api(who).post(f"{url}/assignments", json={
                "user_id": world.users["specialist_vx"].id, "role": role})
            error = _assert_refused(r)
            assert error["code"] == "invalid_state"
            assert "không ở trạng thái có thể chuyển xử lý" in error["message"]
    r = api("leader").post(f"{url}/assignments", json={"unit_id": world.units["VX"].id})
    _assert_refused(r)
    _assert_refused(api("specialist").post(f"{url}/start"))
    _assert_refused(api("specialist").post(f"{url}/complete", json={"note": "lần nữa"}))
    _assert_refused(api("clerk").post(f"{url}/accept"))
    _assert_refused(api("clerk").post(f"{url}/reject", json={"reason": "Sai nơi nhận"}))
    assert _snapshot(db, IncomingDocument, doc["id"]) == before
    assert api("clerk").get(url).json["status"] == "completed"


def test_completed_incoming_through_the_pages_is_refused_too(browser_login, world, db,
                                                             completed):
    from tests.conftest import csrf_from
    doc = completed()
    client = browser_login("leader")
    before = _snapshot(db, IncomingDocument, doc["id"])  # after the login's own audit event
    page = client.get(f"/incoming/{doc['id']}")
    assert 'id="assign-form"' not in page.data.decode()  # no button for it either
    token = csrf_from(page.data)
    r = client.post(f"/incoming/{doc['id']}/assign", data={
        "csrf_token": token, "target": f"user:{world.users['specialist_vx'].id}",
        "role": "main"}, follow_redirects=True)
    assert "Văn bản không ở trạng thái có thể chuyển xử lý." in r.data.decode()
    assert _snapshot(db, IncomingDocument, doc["id"]) == before


def test_issued_outgoing_refuses_every_change(api, world, db, issued):
    doc = issued()
    drafts = f"/api/v1/drafts/{doc['id']}"
    before = _snapshot(db, OutgoingDocument, doc["id"])
    r = api("specialist").post(f"{drafts}/versions", data={"file": upload(draft_pdf(),
                                                                          "v2.pdf")})
    error = _assert_refused(r)
    assert error["code"] == "invalid_state"
    assert error["message"] == "Chỉ sửa được dự thảo chưa trình hoặc bị trả lại."
    _assert_refused(api("specialist").post(f"{drafts}/submit"))
    _assert_refused(api("leader").post(f"{drafts}/approve", json={"comment": "Đồng ý"}))
    _assert_refused(api("leader").post(f"{drafts}/return", json={"comment": "Sửa lại"}))
    _assert_refused(api("head").post(f"{drafts}/return", json={"comment": "Sửa lại"}))
    _assert_refused(api("leader").post(f"{drafts}/sign", json={"pin": PIN}))
    _assert_refused(api("clerk").post(f"{drafts}/issue", json={"pin": ORG_PIN}))
    after = _snapshot(db, OutgoingDocument, doc["id"])
    assert after == before
    final = api("clerk").get(f"/api/v1/outgoing/{doc['id']}/file")
    assert final.status_code == 200 and final.data.startswith(b"%PDF")


@pytest.mark.parametrize("who", ["leader", "clerk", "head"])
def test_issued_outgoing_new_version_refused_for_anyone(api, issued, who):
    doc = issued()
    r = api(who).post(f"/api/v1/drafts/{doc['id']}/versions",
                      data={"file": upload(draft_pdf(), "v2.pdf")})
    assert r.status_code in (403, 404, 409), r.json
