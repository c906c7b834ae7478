"""Numbers a signer sends are numbers on the page (issue 11): the signature's place refuses
NaN, infinity and 1e999 with a 400 naming the field and must lie on the page; a batch of
documents to sign is bounded (SIGN_BATCH_MAX), refused before the PIN is tried."""
import json

import pytest
from sqlalchemy import select

from docmgr.outbound.models import OutgoingDocument
from docmgr.signing.models import SigningKey
from tests.conftest import csrf_from
from tests.outbound.conftest import PIN

BATCH = "/api/v1/drafts/sign-batch"


def status_of(db, doc_id) -> str:
    with db.transaction(readonly=True) as s:
        return s.get(OutgoingDocument, doc_id).status


def failed_pins(db, world) -> int:
    with db.transaction(readonly=True) as s:
        return s.scalar(select(SigningKey.failed_pins).where(
            SigningKey.user_id == world.users["leader"].id))


def sign(api, doc_id, body):
    """POST the body as JSON text, so that NaN and 1e999 reach the server as written."""
    return api("leader").post(f"/api/v1/drafts/{doc_id}/sign", data=body,
                              content_type="application/json")


@pytest.mark.parametrize("x,message", [
    ('"nan"', "Tọa độ x của chữ ký không phải là số hợp lệ: “nan”."),
    ('"inf"', "Tọa độ x của chữ ký không phải là số hợp lệ: “inf”."),
    ('"1e999"', "Tọa độ x của chữ ký không phải là số hợp lệ: “1e999”."),
    ("NaN", "Tọa độ x của chữ ký không phải là số hợp lệ: “nan”."),
    ("1e999", "Tọa độ x của chữ ký không phải là số hợp lệ: “inf”."),
    ("[10]", "Tọa độ x của chữ ký không phải là số hợp lệ: “[10]”."),
    ("true", "Tọa độ x của chữ ký không phải là số hợp lệ: “True”."),
    ("-1", "Tọa độ x của chữ ký phải từ 0 đến 595 (chiều ngang của trang)."),
    ("1e300", "Tọa độ x của chữ ký phải từ 0 đến 595 (chiều ngang của trang)."),
])
def test_a_place_that_is_no_number_on_the_page_is_a_400_naming_the_field(
        api, awaiting, db, x, message):
    doc = awaiting()
    r = sign(api, doc["id"], f'{{"pin": "{PIN}", "page": 1, "x": {x}, "y": 100}}')
    assert r.status_code == 400
    assert r.json["error"] == {"code": "validation_failed", "field": "x", "message": message}
    assert status_of(db, doc["id"]) == "awaiting_signature"


def test_y_and_page_are_checked_too(api, awaiting, db):
    doc = awaiting()
    r = sign(api, doc["id"], f'{{"pin": "{PIN}", "page": 1, "x": 100, "y": 900}}')
    assert (r.status_code, r.json["error"]["field"]) == (400, "y")
    assert r.json["error"]["message"] == "Tọa độ y của chữ ký phải từ 0 đến 842 (chiều dọc " \
                                         "của trang)."
    for page in ('"abc"', "true", "1.5", "99999999999999"):
        r = sign(api, doc["id"], f'{{"pin": "{PIN}", "page": {page}, "x": 1, "y": 1}}')
        assert (r.status_code, r.json["error"]["field"]) == (400, "page"), page
    assert status_of(db, doc["id"]) == "awaiting_signature"


def test_a_place_on_the_page_is_signed_there(api, awaiting, db):
    doc = awaiting()
    r = sign(api, doc["id"], json.dumps({"pin": PIN, "page": 1, "x": "400,5", "y": 650}))
    assert r.status_code == 200, r.json
    with db.transaction(readonly=True) as s:
        box = s.get(OutgoingDocument, doc["id"]).signature_box
    # The corner was on the page; the box was moved back so that it fits inside.
    assert box["page"] == 0 and 0 < box["x0"] <= 400.5 and box["x1"] <= 595


def test_the_signing_page_names_the_field_too(browser_login, awaiting, db):
    doc = awaiting()
    leader = browser_login("leader")
    page = leader.get(f"/outgoing/{doc['id']}/sign").data.decode()
    r = leader.post(f"/outgoing/{doc['id']}/sign", data={
        "pin": PIN, "page": "1", "x": "20", "y": "1e999", "csrf_token": csrf_from(page)})
    html = r.data.decode()
    assert r.status_code == 400
    assert "Tọa độ y của chữ ký không phải là số hợp lệ: “1e999”." in html
    assert 'name="page" value=""' in html  # back to the proposed place
    assert status_of(db, doc["id"]) == "awaiting_signature"


# --- batches -----------------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{"SIGN_BATCH_MAX": 2}])
def test_a_batch_over_the_limit_is_refused_before_the_pin(api, awaiting, db, world):
    docs = [awaiting()["id"] for _ in range(3)]
    r = api("leader").post(BATCH, json={"ids": docs, "pin": "000000"})
    assert r.status_code == 400
    assert r.json["error"] == {"code": "validation_failed", "field": "ids", "message":
                               "Mỗi lần ký tối đa 2 văn bản (đã chọn 3); hãy chọn bớt."}
    assert failed_pins(db, world) == 0  # the wrong PIN was never tried
    r = api("leader").post(BATCH, json={"ids": list(range(1, 1001)), "pin": PIN})
    assert r.status_code == 400 and r.json["error"]["field"] == "ids"
    assert [status_of(db, d) for d in docs] == ["awaiting_signature"] * 3
    r = api("leader").post(BATCH, json={"ids": docs[:2], "pin": PIN})
    assert r.status_code == 200 and r.json["signed"] == 2


@pytest.mark.parametrize("ids", ['"12"', '{"12": 1}', "12"])
def test_ids_must_be_a_list(api, awaiting, db, ids):
    # A string would otherwise be signed digit by digit: "12" as documents 1 and 2.
    docs = [awaiting()["id"] for _ in range(2)]
    r = api("leader").post(BATCH, data=f'{{"ids": {ids}, "pin": "{PIN}"}}',
                           content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["field"] == "ids"
    assert [status_of(db, d) for d in docs] == ["awaiting_signature"] * 2


@pytest.mark.parametrize("app_config", [{"SIGN_BATCH_MAX": 1}])
def test_the_batch_page_lists_and_takes_at_most_the_limit(browser_login, awaiting, db):
    docs = [awaiting()["id"] for _ in range(2)]
    leader = browser_login("leader")
    html = leader.get("/outgoing/sign-batch").data.decode()
    assert html.count('name="ids"') == 1
    r = leader.post("/outgoing/sign-batch", data={
        "ids": [str(d) for d in docs], "pin": PIN, "csrf_token": csrf_from(html)})
    assert r.status_code == 400
    assert "Mỗi lần ký tối đa 1 văn bản (đã chọn 2); hãy chọn bớt." in r.data.decode()
    assert [status_of(db, d) for d in docs] == ["awaiting_signature"] * 2
