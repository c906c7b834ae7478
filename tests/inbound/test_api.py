"""The incoming part of API.md, tried as an integrator would, error paths included."""
import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from docmgr.core import clock
from docmgr.core.documents import StoredFile
from docmgr.inbound.models import IncomingDocument
from docmgr.inbound.register import COLUMNS
from tests import corpus
from tests.conftest import registration_form, upload
from tests.generated import scan_jpeg


def register(api, pdf, who="clerk", **fields):
    return api(who).post("/api/v1/incoming", data={**registration_form(**fields),
                                                   "file": upload(pdf)})


def test_register_answers_the_document(api, pdf_bytes):
    due = (clock.today() + timedelta(days=30)).isoformat()
    r = register(api, pdf_bytes, urgency="urgent", due_date=due, received_via="paper")
    assert r.status_code == 201, r.json
    doc = r.json
    assert doc["arrival_number"] == 1 and doc["status"] == "registered"
    assert doc["sender"] == "Sở Tài chính tỉnh Quảng Ngãi" and doc["doc_type"] == "BC"
    assert doc["urgency"] == "urgent" and doc["received_via"] == "paper"
    assert doc["arrival_date"] == clock.today().isoformat()  # the office's (UTC+7) date
    assert doc["deadline"] == due and doc["overdue"] is False
    second = register(api, pdf_bytes, notation="413/STC-NS")
    assert second.json["arrival_number"] == 2
    got = api("clerk").get(f"/api/v1/incoming/{doc['id']}")
    assert got.status_code == 200 and got.json["file"]["page_count"] == 2


def test_stored_file_is_byte_identical(api, pdf_bytes):
    doc = register(api, pdf_bytes).json
    r = api("specialist").get(f"/api/v1/incoming/{doc['id']}/file")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data == pdf_bytes


def test_signed_pdf_is_kept_untouched_and_its_signatures_checked(api):
    signed = corpus.data("signed/vn-congbao/valid/thong-tu-02-2026-TT-BTC.pdf").read_bytes()
    doc = api("clerk").post("/api/v1/incoming", data={
        **registration_form(notation="02/2026/TT-BTC", sender="Bộ Tài chính"),
        "file": upload(signed, "tt-02.pdf")}).json
    assert api("clerk").get(f"/api/v1/incoming/{doc['id']}/file").data == signed
    check = doc["signature_check"]
    assert check["verdict"] == "untrusted"  # intact, but the Ban Cơ yếu root is not configured
    assert [s["intact"] for s in check["signatures"]] == [True]


def test_duplicate_is_409_with_existing_id(api, pdf_bytes, db):
    first = register(api, pdf_bytes).json
    # Same sender, notation and date, typed a little differently, by another clerk.
    again = register(api, pdf_bytes, "clerk2", sender="  sở tài chính tỉnh Quảng Ngãi ",
                     notation="412/STC-NS")
    assert again.status_code == 409
    assert again.json["error"]["id"] == first["id"]
    assert again.json["error"]["code"] == "duplicate"
    other_date = register(api, pdf_bytes, doc_date="2026-11-03")
    assert other_date.status_code == 201 and other_date.json["arrival_number"] == 2


@pytest.mark.parametrize("field,value", [
    ("sender", ""), ("notation", ""), ("subject", ""), ("subject", "x" * 501),
    ("doc_type", "XYZ"), ("doc_date", "29/11/2026"), ("doc_date", "2999-01-01"),
    ("urgency", "rat-gap"), ("secrecy", "mat-lam"), ("received_via", "pigeon"),
    ("due_date", "2020-01-01"),
])
def test_bad_fields_are_refused_and_nothing_is_stored(api, pdf_bytes, db, field, value):
    r = register(api, pdf_bytes, **{field: value})
    assert r.status_code == 400
    assert r.json["error"]["field"] == field
    assert r.json["error"]["message"]
    _assert_nothing_stored(db)


def _assert_nothing_stored(db, blobs=None):
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(IncomingDocument)) == 0
        assert s.scalar(select(func.count()).select_from(StoredFile)) == 0


@pytest.mark.parametrize("name,payload", [
    ("anh.pdf", scan_jpeg()),
    ("ghi-chu.pdf", "Đây không phải PDF".encode()),
    ("rong.pdf", b""),
    ("mat-khau.pdf", corpus.data("pdf/normal/pypdf-005-libreoffice-writer-password.pdf")
     .read_bytes()),
    ("js.pdf", corpus.data("pdf/hostile/pdfjs-evaljs.pdf").read_bytes()),
    ("cut.pdf",
     corpus.data("pdf/vn/unsigned/thong-tu-12-2022-TT-BLDTBXH.pdf").read_bytes()[:20000]),
    ("junk.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40),
])
def test_hostile_uploads_are_refused_and_nothing_is_stored(api, db, blobs, name, payload):
    r = api("clerk").post("/api/v1/incoming",
                          data={**registration_form(), "file": upload(payload, name)})
    assert 400 <= r.status_code < 500
    assert r.json["error"]["field"] == "file"
    assert r.json["error"]["message"]
    _assert_nothing_stored(db)
    assert not [p for p in blobs.root.rglob("*") if p.is_file()]


def test_missing_file_is_refused(api, db):
    r = api("clerk").post("/api/v1/incoming", data=registration_form())
    assert r.status_code == 400 and r.json["error"]["field"] == "file"


@pytest.mark.parametrize("app_config", [{"MAX_UPLOAD_MB": 1}])
def test_oversize_upload_is_refused(api, db, pdf_bytes):
    big = pdf_bytes + b"%" + b"0" * (1024 * 1024 + 10)
    r = register(api, big)
    assert r.status_code == 413
    assert "1 MB" in r.json["error"]["message"]
    _assert_nothing_stored(db)


def test_request_over_the_hard_limit_is_413_json(app, api, pdf_bytes):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    r = register(api, pdf_bytes)
    assert r.status_code == 413 and "error" in r.json


def test_list_paginates_and_filters(api, pdf_bytes):
    for n in range(5):
        register(api, pdf_bytes, notation=f"{n}/STC-NS",
                 subject=f"Báo cáo số {n} về ngân sách" if n % 2 else f"Kế hoạch {n} y tế")
    page = api("clerk").get("/api/v1/incoming?per_page=2&page=2").json
    assert page["total"] == 5 and page["page"] == 2 and page["per_page"] == 2
    assert [d["arrival_number"] for d in page["items"]] == [3, 2]
    found = api("clerk").get("/api/v1/incoming?q=y tế").json
    assert found["total"] == 3
    assert api("clerk").get("/api/v1/incoming?status=completed").json["total"] == 0
    assert api("clerk").get("/api/v1/incoming?per_page=101").status_code == 400
    assert api("clerk").get("/api/v1/incoming?page=0").status_code == 400
    assert api("clerk").get("/api/v1/incoming?year=abc").status_code == 400


def test_assign_start_complete(api, pdf_bytes, world):
    doc = register(api, pdf_bytes).json
    deadline = (clock.today() + timedelta(days=5)).isoformat()
    r = api("leader").post(f"/api/v1/incoming/{doc['id']}/assignments", json={
        "unit_id": world.units["KT"].id, "role": "main", "deadline": deadline,
        "note": "Phòng Kinh tế chủ trì"})
    assert r.status_code == 201, r.json
    assert r.json["status"] == "assigned" and r.json["deadline"] == deadline
    # The head passes it on to a specialist of the unit.
    r = api("head").post(f"/api/v1/incoming/{doc['id']}/assignments", json={
        "user_id": world.users["specialist"].id, "role": "main", "deadline": deadline})
    assert r.status_code == 201 and r.json["status"] == "in_progress"
    mine = api("specialist").get("/api/v1/incoming?queue=mine").json
    assert [d["id"] for d in mine["items"]] == [doc["id"]]
    done = api("specialist").post(f"/api/v1/incoming/{doc['id']}/complete",
                                  json={"note": "Đã trả lời bằng công văn 99/VP-KT"})
    assert done.status_code == 200 and done.json["status"] == "completed"
    assert done.json["completion_note"] == "Đã trả lời bằng công văn 99/VP-KT"
    again = api("specialist").post(f"/api/v1/incoming/{doc['id']}/complete", json={})
    assert again.status_code == 409


def test_assignment_refusals(api, pdf_bytes, world):
    doc = register(api, pdf_bytes).json
    url = f"/api/v1/incoming/{doc['id']}/assignments"
    ok_user = world.users["specialist"].id
    assert api("specialist").post(url, json={"user_id": ok_user}).status_code == 403
    assert api("leader").post(url, json={}).status_code == 400
    assert api("leader").post(url, json={"user_id": ok_user, "unit_id": 1}).status_code == 400
    assert api("leader").post(url, json={"user_id": ok_user, "role": "boss"}).status_code == 400
    assert api("leader").post(url, json={"user_id": ok_user,
                                         "deadline": "2001-01-01"}).status_code == 400
    foreign = api("leader").post(url, json={"user_id": world.users["other_clerk"].id})
    assert foreign.status_code == 404
    # A head may only pass on what was given to the unit, and only to its members.
    assert api("head").post(url, json={"user_id": ok_user}).status_code == 403
    api("leader").post(url, json={"unit_id": world.units["KT"].id})
    outsider = api("head").post(url, json={"user_id": world.users["specialist_vx"].id})
    assert outsider.status_code == 403
    twice = api("leader").post(url, json={"unit_id": world.units["KT"].id})
    assert twice.status_code == 409
    # Only the main handler completes.
    assert api("specialist_vx").post(f"/api/v1/incoming/{doc['id']}/complete",
                                     json={}).status_code == 403


def test_reassign_replaces_the_main_handler(api, pdf_bytes, world):
    doc = register(api, pdf_bytes).json
    url = f"/api/v1/incoming/{doc['id']}/assignments"
    api("leader").post(url, json={"unit_id": world.units["KT"].id})
    r = api("leader").post(url, json={"unit_id": world.units["VX"].id})
    active = [a for a in r.json["assignments"] if a["active"] and a["role"] == "main"]
    assert [a["unit_id"] for a in active] == [world.units["VX"].id]
    assert api("head").post(f"/api/v1/incoming/{doc['id']}/complete",
                            json={}).status_code == 403
    assert api("head_vx").post(f"/api/v1/incoming/{doc['id']}/complete",
                               json={}).status_code == 200


def test_overdue_is_computed(api, pdf_bytes, db):
    doc = register(api, pdf_bytes, due_date="2026-11-05").json
    assert doc["overdue"] is (date.fromisoformat("2026-11-05") < clock.today())
    with db.transaction() as s:
        s.get(IncomingDocument, doc["id"]).deadline = clock.today() - timedelta(days=1)
    got = api("leader").get(f"/api/v1/incoming/{doc['id']}").json
    assert got["overdue"] is True
    assert api("leader").get("/api/v1/incoming?queue=overdue").json["total"] == 1


def test_confidential_documents_are_hidden(api, pdf_bytes, world):
    secret = register(api, pdf_bytes, secrecy="confidential", notation="1/M-CA").json
    register(api, pdf_bytes, notation="2/STC")
    for who, sees in (("clerk", 2), ("leader", 2), ("clerk2", 1), ("specialist", 1),
                      ("head", 1), ("admin", 1)):
        listing = api(who).get("/api/v1/incoming").json
        assert listing["total"] == sees, who
        status = api(who).get(f"/api/v1/incoming/{secret['id']}").status_code
        assert status == (200 if sees == 2 else 404), who
        file_status = api(who).get(f"/api/v1/incoming/{secret['id']}/file").status_code
        assert file_status == (200 if sees == 2 else 404), who
    api("leader").post(f"/api/v1/incoming/{secret['id']}/assignments",
                       json={"user_id": world.users["specialist"].id})
    assert api("specialist").get(f"/api/v1/incoming/{secret['id']}").status_code == 200
    assert api("specialist").get("/api/v1/incoming").json["total"] == 2
    assert api("head_vx").get(f"/api/v1/incoming/{secret['id']}").status_code == 404
    exported = api("clerk2").get(f"/api/v1/registers/incoming?year={clock.today().year}"
                                 "&format=csv").data.decode("utf-8-sig")
    assert "1/M-CA" not in exported and "2/STC" in exported


def test_other_organisations_documents_are_404(api, pdf_bytes):
    doc = register(api, pdf_bytes).json
    for path in ("", "/file"):
        assert api("other_leader").get(f"/api/v1/incoming/{doc['id']}{path}").status_code == 404
    assert api("other_leader").post(f"/api/v1/incoming/{doc['id']}/assignments",
                                    json={"user_id": 1}).status_code == 404
    assert api("other_clerk").get("/api/v1/incoming").json["total"] == 0
    assert api("other_clerk").get("/api/v1/incoming/999999").status_code == 404


def test_register_export_csv_and_xlsx(api, pdf_bytes, world):
    doc = register(api, pdf_bytes, urgency="express").json
    api("leader").post(f"/api/v1/incoming/{doc['id']}/assignments",
                       json={"unit_id": world.units["KT"].id})
    year = clock.today().year
    r = api("clerk").get(f"/api/v1/registers/incoming?year={year}&format=csv")
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    assert rows[1][1] == "1" and rows[1][3] == "412/STC-NS"
    assert rows[1][5].startswith("Báo cáo: ") and rows[1][6] == "Phòng Kinh tế"
    assert "Hỏa tốc" in rows[1][9]
    x = api("clerk").get(f"/api/v1/registers/incoming?year={year}&format=xlsx")
    sheet = load_workbook(io.BytesIO(x.data)).active
    assert sheet["A1"].value == "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"
    assert tuple(c.value for c in sheet[3]) == COLUMNS
    assert sheet["D4"].value == "412/STC-NS"
    assert api("clerk").get("/api/v1/registers/incoming?format=pdf").status_code == 400
    assert api("specialist").get("/api/v1/registers/incoming").status_code == 403


def test_reference_endpoints(api, world):
    me = api("head").get("/api/v1/me").json
    assert me["role"] == "head" and me["unit_id"] == world.units["KT"].id
    users = api("clerk").get("/api/v1/users?role=specialist").json
    assert {u["username"] for u in users["items"]} == {"specialist", "specialist_vx"}
    assert api("clerk").get("/api/v1/users?username=other_clerk").json["total"] == 0
    assert {u["abbr"] for u in api("clerk").get("/api/v1/units").json["items"]} == {
        "HC", "KT", "VX"}
    assert len(api("clerk").get("/api/v1/orgs").json["items"]) == 2
    types = {t["code"]: t for t in api("clerk").get("/api/v1/catalogue").json["doc_types"]}
    assert types["QĐ"]["name"] == "Quyết định" and types["CV"]["abbr"] is None
    assert types["QyĐ"]["abbr"] == "QyĐ"


def test_lookalike_eth_is_normalised(api, pdf_bytes):
    r = register(api, pdf_bytes, notation="12/QÐ-UBND", doc_type="QÐ")
    assert r.status_code == 201
    assert r.json["notation"] == "12/QĐ-UBND" and r.json["doc_type"] == "QĐ"
