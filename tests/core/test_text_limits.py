"""Free text people type is bounded where the operations read it: too long is a 400 naming
the field, in Vietnamese, and nothing is stored — through the API and through the pages."""
import pytest
from sqlalchemy import func, select

from docmgr.core import values
from docmgr.core.errors import ValidationFailed
from docmgr.inbound.models import Assignment, IncomingDocument
from docmgr.outbound.models import DraftVersion, OutgoingDocument, RouteStep
from docmgr.records.models import Dossier
from tests.conftest import csrf_from, registration_form, upload
from tests.outbound import conftest as outbound_fixtures

keys = outbound_fixtures.keys
new_draft = outbound_fixtures.new_draft
signed_draft = outbound_fixtures.signed_draft
draft_pdf = outbound_fixtures.draft_pdf
draft_form = outbound_fixtures.draft_form
ORG_PIN = outbound_fixtures.ORG_PIN

NINE_MB = "Ghi chú rất dài. " * (9 * 1024 * 1024 // 17)


def count(db, model, *where) -> int:
    with db.transaction(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def assert_refused(response, field: str, limit: int) -> None:
    assert response.status_code == 400, response.data[:300]
    error = response.json["error"]
    assert error["code"] == "validation_failed" and error["field"] == field
    assert f"tối đa {limit:,} ký tự".replace(",", ".") in error["message"]


# --- the helper ------------------------------------------------------------------------------

def test_text_is_normalised_and_bounded():
    # Bounded after spaces are collapsed: what is kept is what is counted.
    assert values.text("  Sở   Tài chính ", "sender", label="Tác giả", max_len=12) == \
        "Sở Tài chính"
    with pytest.raises(ValidationFailed) as caught:
        values.text("x" * 2001, "sender", label="Tác giả", max_len=2000)
    assert caught.value.field == "sender" and caught.value.message == "Tác giả tối đa 2.000 ký tự."
    with pytest.raises(ValidationFailed) as caught:
        values.text(" ", "reason", label="Lý do", max_len=10, required="Vui lòng nêu lý do.")
    assert caught.value.message == "Vui lòng nêu lý do."
    assert values.text(None, "note", label="Ghi chú", max_len=10) == ""


@pytest.mark.parametrize("raw", [5, ["a"], {"a": 1}, True])
def test_text_refuses_what_is_not_text(raw):
    with pytest.raises(ValidationFailed) as caught:
        values.text(raw, "note", label="Ghi chú", max_len=10)
    assert caught.value.field == "note"


def test_text_refuses_megabytes_without_normalising_them():
    with pytest.raises(ValidationFailed):
        values.text(NINE_MB, "note", label="Ghi chú", max_len=values.NOTE_MAX)


def test_limits_are_the_documented_ones():
    assert values.SUBJECT_MAX == 500  # ND30 Phụ lục VI: Subject ≤ 500
    assert (values.NOTE_MAX, values.REASON_MAX, values.NAME_MAX,
            values.NOTATION_MAX) == (2000, 1000, 255, 100)


# --- văn bản đến -----------------------------------------------------------------------------

@pytest.mark.parametrize("field,limit", [("sender", values.NAME_MAX),
                                         ("notation", values.NOTATION_MAX),
                                         ("subject", values.SUBJECT_MAX)])
def test_registration_fields_are_bounded(api, db, pdf_bytes, field, limit):
    at_limit = api("clerk").post("/api/v1/incoming", data={
        **registration_form(**{field: "a" * limit}), "file": upload(pdf_bytes)})
    assert at_limit.status_code == 201, at_limit.json
    over = api("clerk").post("/api/v1/incoming", data={
        **registration_form(**{"notation": "2/X", field: "b" * (limit + 1)}),
        "file": upload(pdf_bytes)})
    assert_refused(over, field, limit)
    assert count(db, IncomingDocument) == 1


def test_assignment_note_is_bounded(api, db, world, registered):
    url = f"/api/v1/incoming/{registered['id']}/assignments"
    target = {"role": "main", "user_id": world.users["specialist"].id}
    assert_refused(api("leader").post(url, json={**target, "note": "x" * 2001}), "note", 2000)
    assert count(db, Assignment) == 0
    assert api("leader").get(f"/api/v1/incoming/{registered['id']}").json["status"] == \
        "registered"
    assert api("leader").post(url, json={**target, "note": "x" * 2000}).status_code == 201


def test_completion_note_is_bounded(api, world, registered):
    api("leader").post(f"/api/v1/incoming/{registered['id']}/assignments",
                       json={"role": "main", "user_id": world.users["specialist"].id})
    url = f"/api/v1/incoming/{registered['id']}/complete"
    assert_refused(api("specialist").post(url, json={"note": "x" * 2001}), "note", 2000)
    assert api("specialist").get(f"/api/v1/incoming/{registered['id']}").json["status"] == \
        "assigned"


def test_assignment_note_from_the_page_is_bounded(browser_login, db, world, registered):
    client = browser_login("leader")
    page = client.get(f"/incoming/{registered['id']}")
    r = client.post(f"/incoming/{registered['id']}/assign", data={
        "csrf_token": csrf_from(page.data), "role": "main", "note": NINE_MB,
        "target": f"user:{world.users['specialist'].id}"})
    assert r.status_code == 302
    assert "Ý kiến chỉ đạo tối đa 2.000 ký tự." in client.get(r.location).data.decode()
    assert count(db, Assignment) == 0


def test_rejection_reason_is_bounded_and_never_reaches_the_sender(api, browser_login,
                                                                    signed_draft):
    doc = signed_draft()
    api("clerk").post(f"/api/v1/drafts/{doc['id']}/issue", json={"pin": ORG_PIN})
    incoming = api("other_clerk").get("/api/v1/incoming?status=pending").json["items"][0]
    url = f"/api/v1/incoming/{incoming['id']}/reject"
    assert_refused(api("other_clerk").post(url, json={"reason": "x" * 1001}), "reason", 1000)
    # The case that was reported: megabytes typed into the page, then shown to the sender.
    client = browser_login("other_clerk")
    page = client.get(f"/incoming/{incoming['id']}")
    client.post(f"/incoming/{incoming['id']}/reject",
                data={"csrf_token": csrf_from(page.data), "reason": NINE_MB})
    assert api("other_clerk").get(f"/api/v1/incoming/{incoming['id']}").json["status"] == \
        "pending"
    dispatch = api("clerk").get(f"/api/v1/outgoing/{doc['id']}").json["dispatch"]
    assert all(d["reason"] == "" for d in dispatch)
    assert api("other_clerk").post(url, json={"reason": "x" * 1000}).status_code == 200


# --- văn bản đi ------------------------------------------------------------------------------

def post_draft(api, world, pdf, **fields):
    return api("specialist").post("/api/v1/drafts", data={**draft_form(world, **fields),
                                                           "file": upload(pdf)})


@pytest.mark.parametrize("fields,field,limit", [
    ({"subject": "x" * 501}, "subject", 500),
    ({"recipients": '["' + "S" * 256 + '"]'}, "recipients", 255),
    ({"recipients": "\n".join(f"Sở {n}" for n in range(301))}, "recipients", None),
])
def test_draft_fields_are_bounded(api, db, world, fields, field, limit):
    r = post_draft(api, world, draft_pdf(), **fields)
    if limit is None:
        assert r.status_code == 400 and r.json["error"]["field"] == field
        assert r.json["error"]["message"] == "Tối đa 300 nơi nhận."
    else:
        assert_refused(r, field, limit)
    assert count(db, OutgoingDocument) == 0


def test_review_comments_and_version_notes_are_bounded(api, db, world, new_draft):
    doc = new_draft()
    url = f"/api/v1/drafts/{doc['id']}"
    r = api("specialist").post(f"{url}/versions", data={"file": upload(draft_pdf()),
                                                        "note": "x" * 2001})
    assert_refused(r, "note", 2000)
    assert count(db, DraftVersion) == 1
    assert api("specialist").post(f"{url}/submit").status_code == 200
    assert_refused(api("head").post(f"{url}/approve", json={"comment": "x" * 2001}),
                   "comment", 2000)
    assert_refused(api("head").post(f"{url}/return", json={"comment": "x" * 2001}),
                   "comment", 2000)
    assert count(db, RouteStep, RouteStep.decision.is_not(None)) == 0
    assert api("head").get(url).json["status"] == "in_review"


def test_return_comment_from_the_page_is_bounded(browser_login, api, db, new_draft):
    doc = new_draft()
    api("specialist").post(f"/api/v1/drafts/{doc['id']}/submit")
    client = browser_login("head")
    page = client.get(f"/outgoing/{doc['id']}")
    r = client.post(f"/outgoing/{doc['id']}/return",
                    data={"csrf_token": csrf_from(page.data), "comment": NINE_MB})
    assert r.status_code in (302, 400)
    assert count(db, RouteStep, RouteStep.decision.is_not(None)) == 0


# --- hồ sơ -----------------------------------------------------------------------------------

def test_dossier_title_is_bounded_via_api_and_page(api, browser_login, db):
    body = {"code": "01.VP", "title": "x" * 501, "retention": "10"}
    assert_refused(api("clerk").post("/api/v1/records", json=body), "title", 500)
    client = browser_login("clerk")
    page = client.get("/records/")
    r = client.post("/records/", data={**body, "csrf_token": csrf_from(page.data)})
    assert r.status_code == 400
    assert "Tiêu đề hồ sơ tối đa 500 ký tự." in r.data.decode()
    assert count(db, Dossier) == 0
