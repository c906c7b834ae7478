"""A JSON object, array or number where a text belongs is a 400 naming the field, not its
Python repr stored as the text (issue 11): the API handlers hand the value as sent to the
operations, whose ``values.text`` judges it."""
import pytest
from sqlalchemy import func, select

from docmgr.inbound.models import Assignment, IncomingDocument
from docmgr.outbound.models import RouteStep
from docmgr.records.models import Dossier
from tests.outbound import conftest as outbound_fixtures

keys = outbound_fixtures.keys
new_draft = outbound_fixtures.new_draft
signed_draft = outbound_fixtures.signed_draft
ORG_PIN = outbound_fixtures.ORG_PIN

NOT_TEXT = [{"text": "ý kiến"}, ["ý kiến"], 12, True]


def count(db, model, *where) -> int:
    with db.transaction(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def assert_not_text(response, field: str, label: str) -> None:
    assert response.status_code == 400, response.data[:300]
    assert response.json["error"] == {"code": "validation_failed", "field": field,
                                      "message": f"{label} phải là một đoạn văn bản."}


@pytest.mark.parametrize("value", NOT_TEXT)
def test_assignment_and_completion_notes(api, db, world, registered, value):
    url = f"/api/v1/incoming/{registered['id']}"
    target = {"role": "main", "user_id": world.users["specialist"].id}
    assert_not_text(api("leader").post(f"{url}/assignments", json={**target, "note": value}),
                    "note", "Ý kiến chỉ đạo")
    assert count(db, Assignment) == 0
    assert api("leader").post(f"{url}/assignments", json=target).status_code == 201
    assert_not_text(api("specialist").post(f"{url}/complete", json={"note": value}),
                    "note", "Ghi chú kết quả xử lý")
    assert api("specialist").get(url).json["status"] == "assigned"


@pytest.mark.parametrize("value", NOT_TEXT)
def test_review_comments(api, db, new_draft, value):
    doc = new_draft()
    url = f"/api/v1/drafts/{doc['id']}"
    assert api("specialist").post(f"{url}/submit").status_code == 200
    assert_not_text(api("head").post(f"{url}/approve", json={"comment": value}),
                    "comment", "Ý kiến")
    assert_not_text(api("head").post(f"{url}/return", json={"comment": value}),
                    "comment", "Ý kiến")
    assert count(db, RouteStep, RouteStep.decision.is_not(None)) == 0
    assert api("head").post(f"{url}/approve", json={}).status_code == 200  # none is fine


def test_rejection_reason(api, db, signed_draft):
    doc = signed_draft()
    api("clerk").post(f"/api/v1/drafts/{doc['id']}/issue", json={"pin": ORG_PIN})
    incoming = api("other_clerk").get("/api/v1/incoming?status=pending").json["items"][0]
    url = f"/api/v1/incoming/{incoming['id']}/reject"
    assert_not_text(api("other_clerk").post(url, json={"reason": {"why": "sai"}}),
                    "reason", "Lý do trả lại")
    assert count(db, IncomingDocument, IncomingDocument.status == "pending") == 1


def test_dossier_code_and_title(api, db):
    body = {"code": "01.VP", "title": "Hồ sơ hội nghị", "retention": "10"}
    assert_not_text(api("clerk").post("/api/v1/records", json={**body, "code": ["01.VP"]}),
                    "code", "Số và ký hiệu hồ sơ")
    assert_not_text(api("clerk").post("/api/v1/records", json={**body, "title": {"a": 1}}),
                    "title", "Tiêu đề hồ sơ")
    assert count(db, Dossier) == 0
    assert api("clerk").post("/api/v1/records", json=body).status_code == 201
