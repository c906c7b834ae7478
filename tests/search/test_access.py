"""The index's access rules agree with each slice's own visibility rule, for every user and
every document, and issued outgoing documents are searchable too."""
from sqlalchemy import select

from docmgr.core.auth import User
from docmgr.inbound import operations as inbound
from docmgr.inbound.models import IncomingDocument
from docmgr.outbound import operations as outbound
from docmgr.outbound.models import OutgoingDocument
from tests.conftest import registration_form, upload
from tests.outbound.conftest import ORG_PIN


def register(api, pdf, user="clerk", **fields):
    r = api(user).post("/api/v1/incoming", data={**registration_form(**fields),
                                                   "file": upload(pdf)})
    assert r.status_code == 201, r.json
    return r.json


def test_issued_outgoing_documents_are_found_and_drafts_are_not(api, signed_draft, drain,
                                                                 world):
    draft = signed_draft(subject="Quyết định ban hành Quy chế văn thư lưu trữ")
    drain()
    assert api("leader").get("/api/v1/search?q=quy+che+van+thu").json["total"] == 0
    issued = api("clerk").post(f"/api/v1/drafts/{draft['id']}/issue", json={"pin": ORG_PIN})
    assert issued.status_code == 200, issued.json
    drain()
    r = api("specialist_vx").get("/api/v1/search", query_string={"q": "quy chế văn thư"})
    hits = [hit for hit in r.json["hits"] if hit["kind"] == "outgoing"]
    assert [hit["id"] for hit in hits] == [draft["id"]]
    assert hits[0]["notation"] == issued.json["notation"]
    by_notation = api("leader").get("/api/v1/search", query_string={
        "q": issued.json["notation"], "kind": "outgoing"}).json
    assert [hit["id"] for hit in by_notation["hits"]] == [draft["id"]]
    signer = api("leader").get("/api/v1/search", query_string={"signer": "pham minh quang"})
    assert draft["id"] in [hit["id"] for hit in signer.json["hits"]]
    # The recipient organisation receives it as its own incoming document, once accepted.
    other = api("other_clerk").get("/api/v1/search?q=quy+che").json
    assert other["total"] == 0


def _visible_keys(db, user) -> set[str]:
    with db.transaction(readonly=True) as s:
        actor = s.get(User, user.id)
        expected = {f"in:{i}" for i in s.scalars(select(IncomingDocument.id).where(
            inbound.visible_clause(actor), IncomingDocument.status != "pending"))}
        expected |= {f"out:{i}" for i in s.scalars(select(OutgoingDocument.id).where(
            outbound.visible_clause(actor), OutgoingDocument.status == "issued"))}
    return expected


def _searched_keys(api, username) -> tuple[set[str], int]:
    r = api(username).get("/api/v1/search", query_string={"per_page": 100, "kind": ""})
    got = {f"{'in' if hit['kind'] == 'incoming' else 'out'}:{hit['id']}"
           for hit in r.json["hits"]}
    return got, r.json["total"]


def test_index_access_equals_database_visibility(api, pdf_bytes, drain, db, world,
                                                 signed_draft, password_hash):
    with db.transaction() as s:  # a Phó trưởng phòng of Phòng Kinh tế
        deputy = User(org_id=world.org.id, unit_id=world.units["KT"].id, username="deputy",
                      password_hash=password_hash, full_name="Đặng Văn Phúc",
                      role="specialist", is_deputy=True)
        s.add(deputy)
        s.flush()
        s.refresh(deputy)
        s.expunge(deputy)
    world.users["deputy"] = deputy
    register(api, pdf_bytes, notation="1/X", subject="Công văn thường")
    secret = register(api, pdf_bytes, notation="2/X", subject="Công văn mật",
                      secrecy="confidential")
    register(api, pdf_bytes, user="clerk2", notation="3/X", subject="Công văn tối mật",
             secrecy="top_secret")
    api("leader").post(f"/api/v1/incoming/{secret['id']}/assignments",
                       json={"user_id": world.users["specialist_vx"].id, "role": "cooperate"})
    # Assigned to a unit: its head and deputy, not its specialist.
    unit_secret = register(api, pdf_bytes, notation="4/X", subject="Công văn mật giao phòng",
                           secrecy="secret")
    api("leader").post(f"/api/v1/incoming/{unit_secret['id']}/assignments",
                       json={"unit_id": world.units["KT"].id, "role": "main"})
    # And one the unit's head has passed on to a member of the unit.
    passed_on = register(api, pdf_bytes, notation="5/X", subject="Công văn mật chuyển tiếp",
                         secrecy="confidential")
    api("leader").post(f"/api/v1/incoming/{passed_on['id']}/assignments",
                       json={"unit_id": world.units["VX"].id, "role": "main"})
    r = api("head_vx").post(f"/api/v1/incoming/{passed_on['id']}/assignments",
                            json={"user_id": world.users["specialist_vx"].id, "role": "main"})
    assert r.status_code == 201, r.json
    confidential = signed_draft(subject="Công văn đi mật", secrecy="confidential",
                                doc_type="CV")
    api("clerk").post(f"/api/v1/drafts/{confidential['id']}/issue", json={"pin": ORG_PIN})
    drain()
    for username, user in world.users.items():
        expected = _visible_keys(db, user)
        got, total = _searched_keys(api, username)
        assert got == expected, username
        assert total == len(expected), username
    assert f"in:{unit_secret['id']}" in _visible_keys(db, world.users["deputy"])
    assert f"in:{unit_secret['id']}" not in _visible_keys(db, world.users["specialist"])
    # Access narrowed and not yet indexed: the search still shows nothing the database
    # denies, and counts exactly what it shows.
    api("leader").post(f"/api/v1/incoming/{passed_on['id']}/assignments",
                       json={"user_id": world.users["head"].id, "role": "main"})
    for username, user in world.users.items():
        got, total = _searched_keys(api, username)
        assert got <= _visible_keys(db, user), username
        assert total == len(got), username
