"""Who may call what: every incoming endpoint × every role (401 / 403 / 404 / success)."""
import pytest

from tests.conftest import registration_form, upload

ROLES = ("clerk", "leader", "head", "specialist", "admin", "other_clerk")


def _doc(api, pdf_bytes):
    return api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                       "file": upload(pdf_bytes)}).json


# endpoint -> roles that succeed; everyone else in the organisation gets 403 (or 404 for
# things they may not see); the other organisation's clerk always gets 403/404.
MATRIX = [
    ("get", "/api/v1/incoming", None, set(ROLES)),
    ("get", "/api/v1/incoming/{id}", None, {"clerk", "leader", "head", "specialist", "admin"}),
    ("get", "/api/v1/incoming/{id}/file", None,
     {"clerk", "leader", "head", "specialist", "admin"}),
    ("post", "/api/v1/incoming/{id}/assignments", {"unit_id": "{unit}"}, {"leader", "clerk"}),
    ("get", "/api/v1/registers/incoming?format=csv", None,
     {"clerk", "leader", "head", "admin", "other_clerk"}),
    ("get", "/api/v1/me", None, set(ROLES)),
    ("get", "/api/v1/catalogue", None, set(ROLES)),
]


@pytest.mark.parametrize("method,path,body,allowed", MATRIX)
def test_api_matrix(app, api, world, pdf_bytes, method, path, body, allowed):
    doc = _doc(api, pdf_bytes)
    url = path.format(id=doc["id"])
    payload = {k: (world.units["KT"].id if v == "{unit}" else v) for k, v in (body or {}).items()}
    anonymous = getattr(app.test_client(), method)(url, json=payload or None)
    assert anonymous.status_code == 401
    for role in ROLES:
        response = getattr(api(role), method)(url, json=payload or None)
        if role in allowed:
            assert response.status_code in (200, 201), (role, url, response.json)
            if method == "post":  # undo so the next role starts from the same state
                _reset_assignments(app, doc["id"])
        elif role == "other_clerk":
            assert response.status_code in (403, 404), (role, url)
        else:
            assert response.status_code == 403, (role, url, response.status_code)


def _reset_assignments(app, doc_id):
    from sqlalchemy import delete, update

    from docmgr.inbound.models import Assignment, IncomingDocument
    with app.extensions["docmgr"].db.transaction() as s:
        s.execute(delete(Assignment).where(Assignment.document_id == doc_id))
        s.execute(update(IncomingDocument).where(IncomingDocument.id == doc_id)
                  .values(status="registered"))


def test_registration_is_for_clerks_only(api, pdf_bytes, world):
    for role in ("leader", "head", "specialist", "admin"):
        r = api(role).post("/api/v1/incoming", data={**registration_form(),
                                                     "file": upload(pdf_bytes)})
        assert r.status_code == 403, role
        assert r.json["error"]["code"] == "forbidden"


def test_other_organisation_cannot_touch_documents(api, pdf_bytes, world):
    doc = _doc(api, pdf_bytes)
    for path in ("/assignments", "/complete", "/start"):
        r = api("other_leader").post(f"/api/v1/incoming/{doc['id']}{path}", json={})
        assert r.status_code == 404, path
