"""Integers no database column can hold: in a path they find nothing (404), in a query
string, a form or a JSON body they are a clear 400 naming the field, never a 500 from an
overflowing database or a page offset beyond 64 bits."""
import re

import pytest

from docmgr.core.errors import ValidationFailed
from docmgr.core.values import INT_MAX, parse_int
from docmgr.core.web import MAX_OFFSET
from tests.conftest import csrf_from, registration_form, upload

HUGE = "10000000000000000000000000"  # beyond 64 bits
ABOVE_INT = str(INT_MAX + 1)  # beyond PostgreSQL's INTEGER
PAGE_BEYOND_64_BITS = "922337203685477580"  # × per_page overflows a 64-bit offset

INT_PART = re.compile(r"<int(\([^)]*\))?:(\w+)>")
OTHER_PART = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


def int_routes(app) -> list[tuple[str, str]]:
    """(method, rule) of every route with an <int:...> part, pages and API alike."""
    found = []
    for rule in app.url_map.iter_rules():
        if INT_PART.search(rule.rule):
            method = min(rule.methods - {"HEAD", "OPTIONS"})
            found.append((method, rule.rule))
    return found


def fill(rule: str, number: str) -> str:
    return OTHER_PART.sub("incoming", INT_PART.sub(number, rule))


def test_every_slice_has_int_routes(app):
    prefixes = {rule.split("/")[1] if not rule.startswith("/api/v1/") else rule.split("/")[3]
                for _, rule in int_routes(app)}
    assert {"incoming", "outgoing", "records", "drafts"} <= prefixes


@pytest.mark.parametrize("number", [HUGE, ABOVE_INT])
def test_ids_beyond_the_column_are_not_found(app, api, browser_login, number):
    page_client = browser_login("leader")
    answers = {}
    for method, rule in int_routes(app):
        url = fill(rule, number)
        if rule.startswith("/api/"):
            response = api("leader").open(url, method=method, json={})
        else:
            response = page_client.open(url, method=method)
        answers[f"{method} {url}"] = response.status_code
    assert answers and set(answers.values()) == {404}, answers


def test_largest_column_value_is_still_a_route(api):
    # The bound sits at the column's range, not below it: the id is looked up, not found.
    r = api("leader").get(f"/api/v1/incoming/{INT_MAX}")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


API_QUERIES = [
    ("/api/v1/incoming?page=" + PAGE_BEYOND_64_BITS, "page"),
    ("/api/v1/incoming?per_page=" + HUGE, "per_page"),
    ("/api/v1/incoming?year=" + HUGE, "year"),
    ("/api/v1/incoming?year=99999", "year"),
    ("/api/v1/drafts?year=" + ABOVE_INT, "year"),
    ("/api/v1/drafts?page=" + HUGE, "page"),
    ("/api/v1/users?unit_id=" + HUGE, "unit_id"),
    ("/api/v1/users?page=" + PAGE_BEYOND_64_BITS, "page"),
    ("/api/v1/registers/incoming?year=" + HUGE, "year"),
    ("/api/v1/registers/outgoing?year=" + HUGE, "year"),
    ("/api/v1/records?year=" + HUGE, "year"),
    ("/api/v1/records?page=" + PAGE_BEYOND_64_BITS, "page"),
    ("/api/v1/search?q=ngân+sách&page=" + PAGE_BEYOND_64_BITS, "page"),
    ("/api/v1/search?q=ngân+sách&page=" + str(MAX_OFFSET), "page"),
    ("/api/v1/search?q=ngân+sách&year=" + HUGE, "year"),
    ("/api/v1/stats?period=year&year=" + HUGE, "year"),
    ("/api/v1/stats?period=month&month=" + HUGE, "month"),
]


@pytest.mark.parametrize("url,field", API_QUERIES)
def test_api_query_integers_out_of_range_are_400(api, url, field):
    r = api("leader").get(url)
    assert r.status_code == 400, (url, r.status_code, r.data[:200])
    assert r.json["error"]["code"] == "validation_failed"
    assert r.json["error"]["field"] == field
    assert HUGE not in r.json["error"]["message"]  # echoed shortened, if at all


PAGE_QUERIES = [
    "/incoming/?page=" + PAGE_BEYOND_64_BITS,
    "/incoming/?year=" + HUGE,
    "/incoming/new?done=" + HUGE,
    "/incoming/register?year=" + HUGE,
    "/incoming/register/export?year=" + HUGE,
    "/outgoing/?year=" + HUGE,
    "/outgoing/?page=" + PAGE_BEYOND_64_BITS,
    "/outgoing/register?year=" + HUGE,
    "/outgoing/register/export?year=" + HUGE,
    "/records/?year=" + HUGE,
    "/records/file?kind=incoming&id=" + HUGE,
    "/search/?q=ngân+sách&page=" + PAGE_BEYOND_64_BITS,
    "/reports/?period=year&year=" + HUGE,
    "/admin/audit?page=" + PAGE_BEYOND_64_BITS,
]


@pytest.mark.parametrize("url", PAGE_QUERIES)
def test_page_query_integers_out_of_range_are_400(browser_login, url):
    who = "admin" if url.startswith("/admin") else "clerk"
    r = browser_login(who).get(url)
    assert r.status_code == 400, (url, r.status_code)


def test_json_and_form_ids_out_of_range_are_400(api, browser_login, pdf_bytes):
    doc = api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                      "file": upload(pdf_bytes)}).json
    r = api("leader").post(f"/api/v1/incoming/{doc['id']}/assignments",
                           json={"role": "main", "user_id": int(HUGE)})
    assert r.status_code == 400 and r.json["error"]["field"] == "user_id"
    r = api("leader").post("/api/v1/records/1/documents", json={"kind": "incoming", "id": HUGE})
    assert r.status_code == 400 and r.json["error"]["field"] == "id"
    r = api("specialist").post("/api/v1/drafts", data={
        "doc_type": "CV", "subject": "Công văn", "signer_id": HUGE, "recipients": "Sở Nội vụ",
        "file": upload(pdf_bytes)})
    assert r.status_code == 400 and r.json["error"]["field"] == "signer_id"
    client = browser_login("leader")
    page = client.get(f"/incoming/{doc['id']}")
    r = client.post(f"/incoming/{doc['id']}/assign", data={
        "csrf_token": csrf_from(page.data), "target": f"user:{HUGE}", "role": "main"})
    assert r.status_code in (302, 400)
    assert api("leader").get(f"/api/v1/incoming/{doc['id']}").json["status"] == "registered"


@pytest.mark.parametrize("raw,expected", [
    ("12", 12), (" 7 ", 7), ("-4", -4), ("0012", 12), (3.0, 3), (str(INT_MAX), INT_MAX)])
def test_parse_int_takes_plain_integers(raw, expected):
    assert parse_int(raw, "id") == expected


@pytest.mark.parametrize("raw", [
    HUGE, ABOVE_INT, "-" + HUGE, "9" * 5000, int(HUGE), float("inf"), float("nan"), True,
    "1_000", "\u0661\u0662", "１２", "abc", [1], {"a": 1}])
def test_parse_int_refuses_what_is_no_bounded_integer(raw):
    with pytest.raises(ValidationFailed) as caught:
        parse_int(raw, "id")
    assert len(caught.value.message) < 100


@pytest.mark.parametrize("raw", ["1899", "2201", HUGE])
def test_years_stay_in_a_sane_range(raw):
    with pytest.raises(ValidationFailed) as caught:
        parse_int(raw, "year")
    assert caught.value.message == "Năm phải từ 1900 đến 2200."
