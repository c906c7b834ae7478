"""Issue 11: the duplicate check tells a clerk who may not open a classified twin only that
it is registered, never its id, số đến or link. Registering it again is still refused."""
import html

from tests.conftest import csrf_from, registration_form, upload

SECRET = {"secrecy": "secret", "notation": "88/MẬT-CA", "sender": "Công an tỉnh Quảng Ngãi",
          "doc_date": "2026-11-02"}
ASKED = {"sender": SECRET["sender"], "notation": SECRET["notation"],
         "doc_date": SECRET["doc_date"]}


def _register(api, who, pdf_bytes, **fields):
    return api(who).post("/api/v1/incoming", data={**registration_form(**fields),
                                                   "file": upload(pdf_bytes)})


def test_check_duplicate_reveals_nothing_of_a_secret_twin(api, browser_login, pdf_bytes):
    secret = _register(api, "clerk", pdf_bytes, **SECRET).json
    other = browser_login("clerk2").get("/incoming/check-duplicate", query_string=ASKED)
    assert other.status_code == 200
    assert other.json == {"duplicate": {"message": "Văn bản này đã được vào sổ."}}
    text = other.get_data(as_text=True)
    assert f"/incoming/{secret['id']}" not in text
    # The clerk who registered it may open it, and is told which one it is.
    own = browser_login("clerk").get("/incoming/check-duplicate", query_string=ASKED).json
    assert own["duplicate"]["id"] == secret["id"]
    assert own["duplicate"]["arrival_number"] == secret["arrival_number"]
    assert own["duplicate"]["url"] == f"/incoming/{secret['id']}"


def test_api_refuses_the_twin_without_naming_it(api, pdf_bytes):
    secret = _register(api, "clerk", pdf_bytes, **SECRET).json
    again = _register(api, "clerk2", pdf_bytes, **SECRET)
    assert again.status_code == 409
    error = again.json["error"]
    assert error["code"] == "duplicate" and "id" not in error
    assert error["message"] == "Văn bản này đã được vào sổ."
    assert f"số đến {secret['arrival_number']}" not in again.get_data(as_text=True)
    # Someone who may open it still gets the id and the number.
    mine = _register(api, "clerk", pdf_bytes, **SECRET)
    assert mine.status_code == 409 and mine.json["error"]["id"] == secret["id"]
    assert f"số đến {secret['arrival_number']})" in mine.json["error"]["message"]


def test_registration_page_shows_no_link_to_a_secret_twin(api, browser_login, pdf_bytes):
    secret = _register(api, "clerk", pdf_bytes, **SECRET).json
    client = browser_login("clerk2")
    form = client.get("/incoming/new").get_data(as_text=True)
    r = client.post("/incoming/new", data={
        **registration_form(**SECRET), "csrf_token": csrf_from(form),
        "file": upload(pdf_bytes)}, content_type="multipart/form-data")
    assert r.status_code == 409
    page = html.unescape(r.get_data(as_text=True))
    assert "Văn bản này đã được vào sổ." in page
    assert f"/incoming/{secret['id']}" not in page
    assert "Mở văn bản đã vào sổ" not in page
