"""/api/v1/records: the danh mục hồ sơ, who may do what, filing and its visibility,
closing and retention."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from docmgr.core import clock
from docmgr.core.audit import AuditEvent
from docmgr.records.models import Dossier, FiledDocument
from tests.records.conftest import file_into


def _count(db, model) -> int:
    with db.transaction(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(model))


def _actions(db, prefix="records.") -> list[str]:
    with db.transaction(readonly=True) as s:
        return list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)))


def test_create_and_read(api, world, dossier, db):
    made = dossier(unit_id=world.units["KT"].id, retention="Vĩnh viễn")
    assert made["code"] == "01.TCCB" and made["year"] == clock.today().year
    assert made["retention"] == "permanent" and made["retention_label"] == "Vĩnh viễn"
    assert made["owner"] == "Lê Thị Hoa" and made["unit"] == "Phòng Kinh tế"
    assert made["status"] == "open" and made["documents"] == [] and made["doc_total"] == 0
    listed = api("specialist").get("/api/v1/records").json  # everyone reads the catalogue
    assert listed["total"] == 1 and listed["page"] == 1 and listed["per_page"] == 20
    assert listed["items"][0]["id"] == made["id"]
    assert api("admin").get(f"/api/v1/records/{made['id']}").status_code == 200
    assert _actions(db) == ["records.created"]


def test_code_is_unique_per_organisation_and_year(api, world, dossier, db):
    first = dossier(code="01.TCCB")
    again = api("head").post("/api/v1/records", json={
        "code": " 01.tccb ", "title": "Trùng", "retention": 5})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "duplicate" and again.json["error"]["id"] == first["id"]
    next_year = clock.today().year + 1
    assert dossier(code="01.TCCB", year=next_year)["year"] == next_year
    other = api("other_clerk").post("/api/v1/records", json={
        "code": "01.TCCB", "title": "Sở Xây dựng", "retention": 5})
    assert other.status_code == 201
    assert _count(db, Dossier) == 3


@pytest.mark.parametrize("field,value", [
    ("code", ""), ("code", "01 TCCB!"), ("code", "x" * 31), ("title", ""),
    ("title", "x" * 501), ("retention", ""), ("retention", 0), ("retention", "mãi mãi"),
    ("retention", 101), ("year", 1900), ("owner_id", 99999), ("unit_id", 99999),
    ("rights", "secret"),
])
def test_bad_fields_are_refused(api, world, db, field, value):
    body = {"code": "02.VP", "title": "Hồ sơ", "retention": 10, field: value}
    r = api("clerk").post("/api/v1/records", json=body)
    assert r.status_code in (400, 404), r.json
    assert r.json["error"]["field"] == field and r.json["error"]["message"]
    assert _count(db, Dossier) == 0


def test_permissions(app, api, world, dossier, incoming):
    client = app.test_client()
    assert client.get("/api/v1/records").status_code == 401
    assert client.post("/api/v1/records", json={}).status_code == 401
    r = api("specialist").post("/api/v1/records", json={
        "code": "03.KT", "title": "Hồ sơ", "retention": 10})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    for who in ("clerk", "head", "leader", "admin"):
        r = api(who).post("/api/v1/records", json={
            "code": f"{who}.01", "title": "Hồ sơ", "retention": 10,
            "owner_id": world.users["specialist"].id})
        assert r.status_code == 201, (who, r.json)
    # An admin is not staff: naming no owner makes the admin the owner, which is refused.
    r = api("admin").post("/api/v1/records", json={"code": "A.02", "title": "Hồ sơ",
                                                   "retention": 10})
    assert r.status_code == 400 and r.json["error"]["field"] == "owner_id"
    mine = dossier(code="09.X")
    doc = incoming()
    # Another organisation's hồ sơ does not exist for this one, whatever the call.
    for call in (lambda c: c.get(f"/api/v1/records/{mine['id']}"),
                 lambda c: c.post(f"/api/v1/records/{mine['id']}/close"),
                 lambda c: c.post(f"/api/v1/records/{mine['id']}/retention",
                                  json={"retention": 20}),
                 lambda c: c.get(f"/api/v1/records/{mine['id']}/export"),
                 lambda c: c.post(f"/api/v1/records/{mine['id']}/documents",
                                  json={"kind": "incoming", "id": doc["id"]})):
        r = call(api("other_clerk"))
        assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    assert api("clerk").get("/api/v1/records/99999").status_code == 404
    assert api("other_leader").get("/api/v1/records").json["total"] == 0
    # Only the owner or a clerk, head or leader closes; a specialist may not.
    file_into(api, "clerk", mine["id"], "incoming", doc["id"])
    assert api("specialist").post(f"/api/v1/records/{mine['id']}/close").status_code == 403
    assert api("specialist").post(f"/api/v1/records/{mine['id']}/retention",
                                  json={"retention": 20}).status_code == 403
    assert api("specialist").post(f"/api/v1/records/{mine['id']}/submit").status_code == 403


def test_filing_is_idempotent_and_dates_follow_documents(api, dossier, incoming, db):
    d = dossier()
    older, newer = incoming(days_ago=20), incoming(days_ago=2)
    r = file_into(api, "specialist", d["id"], "incoming", newer["id"])
    assert r.status_code == 201 and r.json["doc_total"] == 1
    again = file_into(api, "specialist", d["id"], "incoming", newer["id"])
    assert again.status_code == 200 and again.json["doc_total"] == 1
    assert _count(db, FiledDocument) == 1
    r = file_into(api, "clerk", d["id"], "incoming", older["id"])
    body = r.json
    assert [x["id"] for x in body["documents"]] == [older["id"], newer["id"]]
    assert body["start_date"] == older["doc_date"] and body["end_date"] == newer["doc_date"]
    assert _actions(db) == ["records.created", "records.document_filed",
                            "records.document_filed"]  # the repeat wrote nothing
    # One document may belong to several hồ sơ.
    second = dossier(code="02.KT")
    assert file_into(api, "clerk", second["id"], "incoming", older["id"]).status_code == 201


def test_filing_refusals(api, world, dossier, incoming, new_draft, db):
    d = dossier()
    doc = incoming()
    assert file_into(api, "clerk", d["id"], "memo", doc["id"]).status_code == 400
    assert api("clerk").post(f"/api/v1/records/{d['id']}/documents",
                             json={"kind": "incoming"}).status_code == 400
    assert file_into(api, "clerk", d["id"], "incoming", 99999).status_code == 404
    # Another organisation's document is not found; a draft is not yet a document to file.
    other = api("other_clerk").post("/api/v1/records", json={
        "code": "01.SXD", "title": "Hồ sơ", "retention": 5}).json
    assert file_into(api, "other_clerk", other["id"], "incoming", doc["id"]).status_code == 404
    draft = new_draft()
    r = file_into(api, "specialist", d["id"], "outgoing", draft["id"])
    assert r.status_code == 409 and r.json["error"]["code"] == "invalid_state"
    assert _count(db, FiledDocument) == 0


def test_confidential_document_is_not_shown_to_who_may_not_open_it(api, world, dossier,
                                                                     incoming):
    secret = incoming(secrecy="confidential", subject="Kế hoạch nhân sự tuyệt đối riêng")
    plain = incoming(subject="Báo cáo công khai")
    r = api("leader").post(f"/api/v1/incoming/{secret['id']}/assignments", json={
        "user_id": world.users["specialist"].id, "role": "main"})
    assert r.status_code == 201
    d = dossier()
    assert file_into(api, "specialist", d["id"], "incoming", secret["id"]).status_code == 201
    # Someone who may not open it cannot file it either (it does not exist for them).
    assert file_into(api, "specialist_vx", d["id"], "incoming", secret["id"]).status_code == 404
    assert file_into(api, "specialist_vx", d["id"], "incoming", plain["id"]).status_code == 201
    seen = api("specialist_vx").get(f"/api/v1/records/{d['id']}")
    assert seen.status_code == 200
    assert [x["id"] for x in seen.json["documents"]] == [plain["id"]]
    assert seen.json["hidden_documents"] == 1 and seen.json["doc_total"] == 2
    assert "tuyệt đối riêng" not in seen.get_data(as_text=True)
    assert secret["notation"] not in seen.get_data(as_text=True)
    # Nor may they export it (a package without it would be a wrong archive).
    r = api("specialist_vx").get(f"/api/v1/records/{d['id']}/export")
    assert r.status_code == 403 and "tuyệt đối riêng" not in r.get_data(as_text=True)
    for who in ("specialist", "leader"):
        shown = api(who).get(f"/api/v1/records/{d['id']}").json
        assert {x["id"] for x in shown["documents"]} == {secret["id"], plain["id"]}
        assert shown["hidden_documents"] == 0


def test_close_and_what_a_closed_dossier_refuses(api, dossier, incoming, db):
    d = dossier()
    empty = api("clerk").post(f"/api/v1/records/{d['id']}/close")
    assert empty.status_code == 409 and empty.json["error"]["code"] == "empty_dossier"
    first, second = incoming(days_ago=9), incoming(days_ago=4)
    file_into(api, "specialist", d["id"], "incoming", first["id"])
    file_into(api, "specialist", d["id"], "incoming", second["id"])
    # The owner (a head here) closes it.
    closed = api("head").post(f"/api/v1/records/{d['id']}/close")
    assert closed.status_code == 200, closed.json
    body = closed.json
    today = clock.today()
    assert body["status"] == "closed" and body["closed_at"]
    assert body["start_date"] == first["doc_date"] and body["end_date"] == second["doc_date"]
    assert body["archive_due"] == today.replace(year=today.year + 1).isoformat() \
        or (today.month, today.day) == (2, 29)
    assert body["archive_warning"] is None  # a year away
    events = len(_actions(db))
    third = incoming()
    r = file_into(api, "specialist", d["id"], "incoming", third["id"])
    assert r.status_code == 409 and r.json["error"]["code"] == "dossier_closed"
    r = api("clerk").delete(f"/api/v1/records/{d['id']}/documents/incoming/{first['id']}")
    assert r.status_code == 409 and r.json["error"]["code"] == "dossier_closed"
    assert api("clerk").post(f"/api/v1/records/{d['id']}/close").status_code == 409
    assert len(_actions(db)) == events and _count(db, FiledDocument) == 2


def test_retention_is_only_extended(api, dossier, incoming, db):
    d = dossier(retention=10)
    url = f"/api/v1/records/{d['id']}/retention"
    shorter = api("clerk").post(url, json={"retention": 5})
    assert shorter.status_code == 400
    assert shorter.json["error"]["code"] == "retention_shortened"
    assert shorter.json["error"]["field"] == "retention"
    assert "chỉ được kéo dài" in shorter.json["error"]["message"]
    assert api("clerk").post(url, json={"retention": 10}).json["retention"] == 10
    assert api("clerk").post(url, json={"retention": "20"}).json["retention"] == 20
    doc = incoming()
    file_into(api, "clerk", d["id"], "incoming", doc["id"])
    assert api("clerk").post(f"/api/v1/records/{d['id']}/close").status_code == 200
    # Closed: still only extended, and permanence is the longest of all.
    assert api("leader").post(url, json={"retention": 15}).status_code == 400
    r = api("leader").post(url, json={"retention": "Vĩnh viễn"})
    assert r.status_code == 200 and r.json["retention"] == "permanent"
    assert api("leader").post(url, json={"retention": 100}).status_code == 400
    with db.transaction(readonly=True) as s:
        assert s.get(Dossier, d["id"]).retention_years is None
    assert _actions(db).count("records.retention_extended") == 2


def test_unfiling_while_open(api, world, dossier, incoming, db):
    d = dossier(owner_id=world.users["specialist_vx"].id)
    doc = incoming()
    file_into(api, "specialist", d["id"], "incoming", doc["id"])
    url = f"/api/v1/records/{d['id']}/documents/incoming/{doc['id']}"
    # Neither the one who filed it, nor the owner, nor a clerk, head or leader.
    r = api("head_vx").delete(url)
    assert r.status_code == 200  # a head is a manager
    file_into(api, "specialist", d["id"], "incoming", doc["id"])
    r = api("specialist").delete(url)  # the one who filed it
    assert r.status_code == 200 and r.json["doc_total"] == 0
    assert r.json["start_date"] is None
    assert api("specialist").delete(url).status_code == 404
    file_into(api, "specialist", d["id"], "incoming", doc["id"])
    assert api("clerk").delete(url).status_code == 200


def test_short_retention_has_no_archive_due_date(api, dossier, incoming):
    d = dossier(retention=3)
    doc = incoming()
    file_into(api, "clerk", d["id"], "incoming", doc["id"])
    body = api("clerk").post(f"/api/v1/records/{d['id']}/close").json
    assert body["archive_due"] is None and body["archive_warning"] is None
    r = api("clerk").post(f"/api/v1/records/{d['id']}/submit")
    assert r.status_code == 409
    # Extending it to 5 years puts it on the archive's list, due a year after closing.
    body = api("clerk").post(f"/api/v1/records/{d['id']}/retention",
                             json={"retention": 5}).json
    assert body["archive_due"] is not None


def _close_in_the_past(api, monkeypatch, dossier_id, days_ago: int):
    """Close the hồ sơ as if it were ``days_ago`` days ago (the clock is moved back)."""
    real_now = clock.now
    moment = real_now() - timedelta(days=days_ago)
    monkeypatch.setattr(clock, "now", lambda: moment)
    try:
        r = api("clerk").post(f"/api/v1/records/{dossier_id}/close")
    finally:
        monkeypatch.setattr(clock, "now", real_now)
    assert r.status_code == 200, r.json
    return r.json


@pytest.mark.parametrize("days_ago,warning", [(300, None), (340, "due_soon"),
                                               (400, "overdue")])
def test_thirty_day_warning(api, monkeypatch, dossier, incoming, days_ago, warning):
    d = dossier()
    doc = incoming(days_ago=1)
    file_into(api, "clerk", d["id"], "incoming", doc["id"])
    _close_in_the_past(api, monkeypatch, d["id"], days_ago)
    body = api("clerk").get(f"/api/v1/records/{d['id']}").json
    assert body["archive_warning"] == warning
    due = api("clerk").get("/api/v1/records?due=1").json
    assert due["total"] == (0 if warning is None else 1)
    if warning:
        r = api("clerk").post(f"/api/v1/records/{d['id']}/submit")
        assert r.status_code == 200 and r.json["archive_warning"] is None
        assert api("clerk").get("/api/v1/records?due=1").json["total"] == 0


def test_warning_boundaries():
    from docmgr.records.models import Dossier as Model
    today = clock.today()
    state = [Model(archive_due=today + timedelta(days=n)).archive_state(today)
             for n in (31, 30, 0, -1)]
    assert state == [None, "due_soon", "due_soon", "overdue"]
