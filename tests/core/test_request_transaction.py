"""One transaction per request (docmgr/core/transaction.py): a write request is committed
only when it succeeds, a refused or failing one keeps nothing, a GET never writes; refusals
are answered on the page they came from (pages) or as JSON (API).

The operations are real; where a failure is needed after something was written, the real
operation runs, flushes, and then the failure is raised."""
import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from docmgr.core.audit import AuditEvent
from docmgr.core.auth import Unit
from docmgr.core.errors import Conflict
from docmgr.core.throttle import LoginThrottle
from docmgr.records import operations as records
from docmgr.records.models import Dossier
from tests.conftest import csrf_from

REFUSAL = "Hồ sơ đang được người khác sửa; thử lại sau."
NEW_DOSSIER = {"code": "02.VP", "title": "Hồ sơ hội nghị", "retention": 5}


@pytest.fixture
def dossier(api, world):
    """A hồ sơ (kept 10 years) created by the clerk through the API."""
    r = api("clerk").post("/api/v1/records", json={
        "code": "01.TCCB", "title": "Hồ sơ tuyển dụng công chức", "retention": 10,
        "owner_id": world.users["head"].id})
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def clerk_page(browser_login):
    client = browser_login("clerk")
    return client, csrf_from(client.get("/records/").data)


def _written_then(real, failure):
    """``real`` writes and flushes, then ``failure`` is raised, as if a later step failed."""
    def operation(session, *args, **kwargs):
        real(session, *args, **kwargs)
        session.flush()
        raise failure
    return operation


def _stored(db):
    """What a request could have left behind: hồ sơ, their retention, audit events."""
    with db.transaction(readonly=True) as s:
        return {"dossiers": s.scalars(select(Dossier.code).order_by(Dossier.code)).all(),
                "retention": s.scalars(select(Dossier.retention_years)).all(),
                "events": s.scalar(select(func.count()).select_from(AuditEvent)),
                "units": s.scalar(select(func.count()).select_from(Unit))}


def _retention(client, token, dossier, value="Vĩnh viễn"):
    return client.post(f"/records/{dossier['id']}/retention",
                       data={"csrf_token": token, "retention": value})


# --- write requests that succeed -----------------------------------------------------------

def test_a_successful_api_post_is_committed(api, db):
    before = _stored(db)
    r = api("clerk").post("/api/v1/records", json=NEW_DOSSIER)
    assert r.status_code == 201 and r.json["code"] == "02.VP"
    after = _stored(db)  # read by another session: committed
    assert after["dossiers"] == ["02.VP"] and after["events"] == before["events"] + 1


def test_a_successful_form_post_is_committed_then_announced(clerk_page, dossier, db):
    client, token = clerk_page
    r = _retention(client, token, dossier)
    assert r.status_code == 302 and r.location.endswith(f"/records/{dossier['id']}")
    assert _stored(db)["retention"] == [None]  # vĩnh viễn
    assert "Thời hạn bảo quản của hồ sơ 01.TCCB: Vĩnh viễn." in client.get(r.location).text


# --- refusals ------------------------------------------------------------------------------

def test_a_refused_form_post_returns_to_the_page_with_nothing_kept(clerk_page, dossier, db,
                                                                   monkeypatch):
    client, token = clerk_page
    before = _stored(db)
    monkeypatch.setattr(records, "extend_retention",
                        _written_then(records.extend_retention, Conflict(REFUSAL)))
    r = _retention(client, token, dossier)
    assert r.status_code == 302 and r.location.endswith(f"/records/{dossier['id']}")
    assert _stored(db) == before  # neither the new retention nor its audit event
    page = client.get(r.location).text
    assert REFUSAL in page and "Thời hạn bảo quản của hồ sơ" not in page


def test_a_refused_form_that_shows_itself_again_keeps_nothing(clerk_page, db, monkeypatch):
    client, token = clerk_page
    before = _stored(db)
    monkeypatch.setattr(records, "create", _written_then(records.create, Conflict(REFUSAL)))
    r = client.post("/records/", data={"csrf_token": token, "code": "03.VP",
                                       "title": "Hồ sơ đã gõ", "retention": "10"})
    assert r.status_code == 409 and REFUSAL in r.text
    assert 'value="Hồ sơ đã gõ"' in r.text  # the form again, with what was typed
    assert _stored(db) == before


def test_a_refusal_with_no_page_to_return_to_is_the_error_page(clerk_page, db):
    client, token = clerk_page
    before = _stored(db)
    r = client.post("/records/file", data={"csrf_token": token, "kind": "thư", "id": "1",
                                           "dossier_id": "1"})
    assert r.status_code == 400 and r.location is None
    assert "Loại văn bản phải là incoming (đến) hoặc outgoing (đi)." in r.text
    assert _stored(db) == before


def test_a_refused_api_call_answers_its_json_with_nothing_kept(api, db, monkeypatch):
    before = _stored(db)
    monkeypatch.setattr(records, "create", _written_then(records.create, Conflict(REFUSAL)))
    r = api("clerk").post("/api/v1/records", json=NEW_DOSSIER)
    assert r.status_code == 409
    assert r.json == {"error": {"code": "conflict", "message": REFUSAL}}
    assert _stored(db) == before


def _failed_logins(db, username="clerk") -> int:
    with db.transaction(readonly=True) as s:
        return s.scalar(select(LoginThrottle.failures).where(
            LoginThrottle.key == f"u:{username}"))


def test_a_refusal_that_counts_towards_a_lockout_is_kept(app, api, db, world):
    page = app.test_client()
    token = csrf_from(page.get("/login").data)
    r = page.post("/login", data={"username": "clerk", "password": "sai-mat-khau",
                                  "csrf_token": token})
    assert r.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng." in r.text
    assert _failed_logins(db) == 1
    r = app.test_client().post("/api/v1/auth/token", json={"username": "clerk",
                                                           "password": "sai-mat-khau"})
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_credentials"
    assert _failed_logins(db) == 2


# --- failures ------------------------------------------------------------------------------

def test_an_unexpected_error_is_a_500_with_nothing_kept(app, api, clerk_page, dossier, db,
                                                        monkeypatch):
    client, token = clerk_page
    before = _stored(db)
    monkeypatch.setattr(records, "create",
                        _written_then(records.create, RuntimeError("lỗi lập trình")))
    r = api("clerk").post("/api/v1/records", json=NEW_DOSSIER)
    assert r.status_code == 500 and r.json["error"]["code"] == "internal_error"

    app.config["PROPAGATE_EXCEPTIONS"] = False  # the page a user sees, not the test's traceback
    monkeypatch.setattr(records, "extend_retention",
                        _written_then(records.extend_retention, RuntimeError("lỗi lập trình")))
    assert _retention(client, token, dossier).status_code == 500
    assert _stored(db) == before


def test_a_failed_commit_is_answered_and_never_announced(clerk_page, dossier, db):
    client, token = clerk_page
    before = _stored(db)

    def disk_full(_session):
        raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Session, "commit", disk_full)
        r = _retention(client, token, dossier)
    assert r.status_code == 507 and "hết dung lượng" in r.text
    assert _stored(db) == before
    page = client.get(f"/records/{dossier['id']}").text
    assert "Thời hạn bảo quản của hồ sơ 01.TCCB: Vĩnh viễn." not in page


# --- reads ---------------------------------------------------------------------------------

def test_a_get_never_writes(api, clerk_page, world, db, monkeypatch):
    client, _ = clerk_page
    before = _stored(db)
    real = records.list_dossiers

    def listing_that_writes(session, *args, **kwargs):
        session.add(Unit(org_id=world.org.id, name="Phòng viết lén", abbr="VL"))
        session.flush()
        return real(session, *args, **kwargs)
    monkeypatch.setattr(records, "list_dossiers", listing_that_writes)
    assert api("clerk").get("/api/v1/records").status_code == 200
    assert client.get("/records/").status_code == 200
    assert _stored(db) == before
