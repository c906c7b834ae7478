"""Every answer under /api/ is JSON, whatever went wrong: an unknown route, a wrong method,
a body too large, an internal error (which must not show its traceback)."""
import json

import pytest

from docmgr.core import api as core_api
from docmgr.core.limits import JSON_MAX_BYTES
from tests.conftest import registration_form, upload

SECRET = "traceback-detail-that-must-not-leak"


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "application/json", response.data[:300]
    error = response.get_json()["error"]
    assert error["message"] and (code is None or error["code"] == code)
    return error


@pytest.mark.parametrize("url", [
    "/api/v1/nothing-here", "/api/v1/incoming/1/nothing", "/api/v1/", "/api/v1",
    "/api/v2/incoming", "/api/v1/incoming/abc"])
def test_unknown_api_route_is_json_404(api, url):
    assert_json_error(api("clerk").get(url), 404, "not_found")


def test_unknown_api_route_is_json_404_without_a_token(app):
    assert_json_error(app.test_client().get("/api/v1/nothing-here"), 404, "not_found")


def test_unknown_page_is_still_an_html_page(browser_login):
    r = browser_login("clerk").get("/nothing-here")
    assert r.status_code == 404 and r.mimetype == "text/html"


def test_wrong_method_is_json_405_with_allow(api):
    r = api("clerk").put("/api/v1/incoming")
    assert_json_error(r, 405, "method_not_allowed")
    assert {"GET", "POST"} <= {m.strip() for m in r.headers["Allow"].split(",")}
    assert_json_error(api("clerk").delete("/api/v1/catalogue"), 405)


def test_json_body_over_the_limit_is_json_413_and_nothing_done(api, world, pdf_bytes):
    doc = api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                      "file": upload(pdf_bytes)}).json
    body = json.dumps({"role": "main", "user_id": world.users["specialist"].id,
                       "padding": "x" * JSON_MAX_BYTES})
    r = api("leader").post(f"/api/v1/incoming/{doc['id']}/assignments", data=body,
                           content_type="application/json")
    assert_json_error(r, 413)
    assert api("clerk").get(f"/api/v1/incoming/{doc['id']}").json["status"] == "registered"


def test_json_body_under_the_limit_is_read(api):
    # The token endpoint reads its JSON body: a large but allowed one is parsed (and the
    # login refused), not rejected for its size.
    r = api("clerk").post("/api/v1/auth/token", json={
        "username": "clerk", "password": "x", "padding": "y" * (JSON_MAX_BYTES // 2)})
    assert_json_error(r, 401)


def test_upload_over_the_request_limit_is_json_413(app, api, pdf_bytes):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    r = api("clerk").post("/api/v1/incoming", data={
        **registration_form(), "file": upload(pdf_bytes + b"0" * 8192)})
    assert_json_error(r, 413)


def test_internal_error_in_a_view_is_json_500_without_traceback(app, api, monkeypatch):
    def broken():
        raise RuntimeError(SECRET)
    monkeypatch.setattr(core_api.catalogue, "as_list", broken)
    r = api("clerk").get("/api/v1/catalogue")
    error = assert_json_error(r, 500, "internal_error")
    assert SECRET not in r.get_data(as_text=True) and "Traceback" not in r.get_data(as_text=True)
    assert error["message"] == "Lỗi hệ thống; thao tác chưa được thực hiện."


def test_internal_error_outside_the_view_is_json_500_without_traceback(app, api):
    # An after_request hook failing is handled by the application, not by the API's
    # blueprint: the answer is still JSON, in Vietnamese, with nothing of the exception.
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.after_request
    def broken(response):
        if response.status_code == 200:
            raise RuntimeError(SECRET)
        return response
    r = api("clerk").get("/api/v1/catalogue")
    error = assert_json_error(r, 500)
    assert SECRET not in r.get_data(as_text=True)
    assert error["message"] == "Lỗi hệ thống; thao tác chưa được thực hiện."


def test_internal_error_on_a_page_stays_an_html_page(app, browser_login):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    failing = []

    @app.after_request
    def broken(response):
        if failing and response.status_code == 200:
            raise RuntimeError(SECRET)
        return response
    client = browser_login("clerk")  # logging in is a request: the hook comes first
    failing.append(True)
    r = client.get("/incoming/")
    assert r.status_code == 500 and r.mimetype == "text/html"
    assert SECRET not in r.get_data(as_text=True)
