"""GET /api/v1/stats on a constructed dataset (see conftest.dataset): exact counts for each
grouping, the e-signed ratio, period validation, roles and organisation isolation."""
import io
from datetime import date
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook

from docmgr.core import clock


def stats(api, who="leader", **args):
    return api(who).get(f"/api/v1/stats?{urlencode(args)}")


def by_key(body) -> dict:
    return {row["key"]: row for row in body["rows"]}


def test_totals_and_kind(api, dataset):
    r = stats(api, group_by="kind", **dataset.period)
    assert r.status_code == 200, r.json
    body = r.json
    totals = body["totals"]
    assert {k: totals[k] for k in ("incoming", "outgoing", "signed", "on_time", "late", "open",
                                   "overdue")} == {
        "incoming": 6, "outgoing": 3, "signed": 2, "on_time": 1, "late": 1, "open": 3,
        "overdue": 1}
    assert totals["signed_ratio"] == 66.67 and totals["signed_ratio_text"] == "66,67%"
    assert totals["signed_sentence"] == "Ký số 2/3 văn bản, đạt 66,67%"
    assert totals["on_time_ratio"] == 33.33
    assert totals["on_time_sentence"] == "tỷ lệ giải quyết đúng hạn 33,33%"
    rows = by_key(body)
    assert list(rows) == ["incoming", "outgoing"]
    assert rows["incoming"]["label"] == "Văn bản đến" and rows["incoming"]["incoming"] == 6
    assert rows["incoming"]["outgoing"] == 0
    assert rows["outgoing"]["label"] == "Văn bản đi"
    assert (rows["outgoing"]["outgoing"], rows["outgoing"]["signed"]) == (3, 2)
    start = date.fromisoformat(dataset.period["from"])
    assert body["period"] == {
        "from": dataset.period["from"], "to": dataset.period["to"],
        "label": f"Từ ngày {start:%d/%m/%Y} đến ngày {dataset.today:%d/%m/%Y}"}
    for row in body["rows"]:  # API.md: each row carries at least these
        assert {"key", "label", "incoming", "outgoing", "signed", "on_time",
                "overdue"} <= set(row)


def test_by_doc_type(api, dataset):
    rows = by_key(stats(api, group_by="doc_type", **dataset.period).json)
    assert set(rows) == {"CV", "QĐ", "BC", "TB"}
    assert (rows["CV"]["label"], rows["CV"]["incoming"], rows["CV"]["outgoing"]) == (
        "Công văn", 2, 1)
    assert (rows["QĐ"]["label"], rows["QĐ"]["incoming"], rows["QĐ"]["outgoing"],
            rows["QĐ"]["signed"]) == ("Quyết định", 1, 2, 1)
    assert rows["QĐ"]["signed_ratio_text"] == "50%" and rows["QĐ"]["overdue"] == 1
    assert (rows["BC"]["incoming"], rows["BC"]["open"]) == (2, 2)
    assert (rows["TB"]["label"], rows["TB"]["incoming"]) == ("Thông báo", 1)
    assert (rows["CV"]["on_time"], rows["CV"]["late"]) == (1, 1)


def test_by_month_lists_every_month_of_the_period(api, dataset):
    body = stats(api, group_by="month", **dataset.period).json
    rows = by_key(body)
    this, earlier = f"{dataset.today:%Y-%m}", f"{dataset.earlier:%Y-%m}"
    assert list(rows)[-1] == this and list(rows) == sorted(rows)
    assert len(rows) in (3, 4)  # 60 days touch three months, or four
    assert (rows[this]["incoming"], rows[this]["outgoing"]) == (5, 2)
    assert (rows[earlier]["incoming"], rows[earlier]["outgoing"], rows[earlier]["signed"]) == (
        1, 1, 0)
    assert rows[this]["label"] == f"Tháng {dataset.today.month}/{dataset.today.year}"
    assert sum(r["incoming"] for r in body["rows"]) == body["totals"]["incoming"] == 6


def test_by_unit(api, world, dataset):
    body = stats(api, group_by="unit", **dataset.period).json
    rows = by_key(body)
    assert list(rows) == ["HC", "KT", "VX", ""]  # the units by name, then "no unit"
    assert rows["KT"]["label"] == "Phòng Kinh tế"
    assert {k: rows["KT"][k] for k in ("incoming", "on_time", "late", "open", "overdue",
                                       "outgoing", "signed")} == {
        "incoming": 3, "on_time": 1, "late": 1, "open": 1, "overdue": 0, "outgoing": 3,
        "signed": 2}
    assert (rows["VX"]["incoming"], rows["VX"]["overdue"], rows["VX"]["on_time_ratio"]) == (
        1, 1, 0.0)
    assert rows["HC"]["incoming"] == rows["HC"]["outgoing"] == 0
    assert (rows[""]["label"], rows[""]["incoming"], rows[""]["open"]) == (
        "Chưa xác định đơn vị", 2, 2)
    assert rows["KT"]["on_time_ratio_text"] == "50%"


def test_by_urgency(api, dataset):
    rows = by_key(stats(api, group_by="urgency", **dataset.period).json)
    assert list(rows) == ["normal", "urgent", "very_urgent", "express"]
    assert [rows[k]["label"] for k in rows] == ["Thường", "Khẩn", "Thượng khẩn", "Hỏa tốc"]
    assert [rows[k]["incoming"] for k in rows] == [4, 1, 0, 1]
    assert rows["normal"]["outgoing"] == 3


def test_by_handler_gives_numbers_per_person_only(api, world, dataset):
    body = stats(api, who="clerk2", group_by="handler", **dataset.period).json
    rows = by_key(body)
    assert list(rows) == ["specialist", ""]
    assert rows["specialist"]["label"] == "Trần Văn Bình" and rows["specialist"]["unit"] == "KT"
    assert {k: rows["specialist"][k] for k in ("incoming", "on_time", "late", "open")} == {
        "incoming": 3, "on_time": 1, "late": 1, "open": 1}
    assert rows[""]["incoming"] == 3 and rows[""]["label"] == "Chưa giao người xử lý chính"
    assert body["totals"]["incoming"] == 6 and body["totals"]["outgoing"] == 3
    text = str(body)
    for doc in dataset.incoming.values():  # no notation, subject or id of any document
        assert doc["notation"] not in text and doc["subject"] not in text


def test_classified_documents_are_counted_for_every_reader(api, dataset):
    """E is Mật and clerk2 may not open it; the count still includes it (numbers only)."""
    assert api("clerk2").get(f"/api/v1/incoming/{dataset.incoming['E']['id']}").status_code \
        == 404
    for who in ("clerk2", "head", "admin", "leader"):
        body = stats(api, who=who, group_by="kind", **dataset.period).json
        assert body["totals"]["incoming"] == 6, who


def test_another_organisation_counts_only_its_own(api, dataset):
    mine = stats(api, group_by="doc_type", **dataset.period).json
    assert mine["totals"]["incoming"] == 6  # H (other organisation) left out
    theirs = stats(api, who="other_leader", group_by="doc_type", **dataset.period).json
    assert theirs["totals"]["incoming"] == 1 and theirs["totals"]["outgoing"] == 0
    assert [r["key"] for r in theirs["rows"]] == ["CV"]
    units = stats(api, who="other_leader", group_by="unit", **dataset.period).json
    assert [r["key"] for r in units["rows"]] == [""]  # none of the first one's units


def test_outside_period_and_named_periods(api, dataset):
    today = dataset.today
    year = stats(api, period="year", year=today.year, group_by="kind").json
    assert year["period"]["label"] == f"Năm {today.year}"
    assert year["period"]["from"] == f"{today.year}-01-01"
    assert year["period"]["to"] == f"{today.year}-12-31"
    month = stats(api, period="month", year=today.year, month=today.month, group_by="kind").json
    assert month["totals"]["incoming"] == 5 and month["totals"]["outgoing"] == 2
    wide = stats(api, group_by="kind", **{"from": f"{today.year - 5}-01-01",
                                          "to": today.isoformat()}).json
    assert wide["totals"]["incoming"] == 7  # now G (500 days ago) too
    empty = stats(api, group_by="doc_type", **{"from": "2001-01-01", "to": "2001-12-31"}).json
    assert empty["rows"] == [] and empty["totals"]["incoming"] == 0
    assert empty["totals"]["signed_ratio"] is None and empty["totals"]["signed_ratio_text"] == "—"


@pytest.mark.parametrize("args, field", [
    ({"from": "2026-03-01", "to": "2026-02-01"}, "from"),
    ({"from": "2010-01-01", "to": "2020-01-01"}, "to"),
    ({"from": "01/02/2026"}, "from"),
    ({"period": "week"}, "period"),
    ({"period": "month", "month": "13"}, "month"),
    ({"period": "quarter", "quarter": "5"}, "quarter"),
    ({"period": "year", "year": "1800"}, "year"),
    ({"group_by": "secrecy"}, "group_by"),
    ({"format": "pdf"}, "format"),
])
def test_invalid_requests_are_400_with_the_field(api, world, args, field):
    r = stats(api, **args)
    assert r.status_code == 400, r.json
    assert r.json["error"]["field"] == field
    assert r.json["error"]["message"]  # Vietnamese, for the person


def test_period_errors_speak_vietnamese(api, world):
    r = stats(api, **{"from": "2026-03-01", "to": "2026-02-01"})
    assert r.json["error"]["message"] == "Ngày bắt đầu phải trước hoặc bằng ngày kết thúc."
    r = stats(api, **{"from": "2010-01-01", "to": "2020-01-01"})
    assert r.json["error"]["message"] == "Khoảng thời gian thống kê tối đa 10 năm."
    ok = stats(api, **{"from": "2010-01-02", "to": "2020-01-01"})
    assert ok.status_code == 200  # exactly ten years is allowed


@pytest.mark.parametrize("who, status", [
    ("leader", 200), ("clerk", 200), ("head", 200), ("admin", 200), ("specialist", 403),
    ("specialist_vx", 403)])
def test_roles(api, world, who, status):
    assert stats(api, who=who).status_code == status


def test_no_token_is_401(app, world):
    r = app.test_client().get("/api/v1/stats")
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"


def test_csv_has_bom_and_vietnamese_header(api, dataset):
    r = stats(api, group_by="doc_type", format="csv", **dataset.period)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in r.headers["Content-Disposition"]
    lines = r.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Mã,Loại văn bản,Văn bản đến,Văn bản đi,Văn bản đi đã ký số,"
                               "Tỷ lệ ký số")
    assert any(line.startswith("QĐ,Quyết định,1,2,1,50%") for line in lines)
    assert lines[-1].startswith(",Tổng cộng,6,3,2,\"66,67%\"")


def test_xlsx_title_headers_numbers_and_formats(api, world, dataset):
    r = stats(api, group_by="unit", format="xlsx", **dataset.period)
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(r.data)).active
    title = sheet["A1"].value
    assert world.org.name in title and "theo đơn vị" in title
    assert "Từ ngày" in title and f"{dataset.today:%d/%m/%Y}" in title
    assert "số liệu tình trạng giải quyết tính đến ngày" in sheet["A2"].value
    headers = [c.value for c in sheet[3]]
    assert headers[:6] == ["Mã", "Đơn vị", "Văn bản đến", "Văn bản đi", "Văn bản đi đã ký số",
                           "Tỷ lệ ký số"]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=4)}
    kt = rows["KT"]
    assert (kt[1].value, kt[2].value, kt[3].value, kt[4].value) == ("Phòng Kinh tế", 3, 3, 2)
    assert kt[2].number_format == "#,##0"
    assert kt[5].value == pytest.approx(2 / 3, abs=1e-4) and kt[5].number_format == "0.00%"
    total = [c.value for c in list(sheet.iter_rows(min_row=sheet.max_row))[0]]
    assert total[1] == "Tổng cộng" and total[2] == 6 and total[3] == 3
    assert sheet.column_dimensions["B"].width == 34


def test_year_defaults_to_this_year(api, world):
    body = stats(api).json
    year = clock.today().year
    assert body["group_by"] == "doc_type" and body["period"]["label"] == f"Năm {year}"


def test_delegated_and_reassigned_documents_count_once(api, world, register, assign):
    """A unit head passing the unit's document to a specialist keeps the unit's main
    assignment and adds the person's; a leader's reassignment retires the first handler.
    Either way each document is in exactly one unit row and one handler row."""
    delegated = register(doc_type="CV")
    assign(delegated, unit_id=world.units["KT"].id)
    assign(delegated, by="head", user_id=world.users["specialist"].id)
    reassigned = register(doc_type="CV")
    assign(reassigned, user_id=world.users["specialist"].id)
    assign(reassigned, user_id=world.users["head_vx"].id)
    today = clock.today().isoformat()
    period = {"from": today, "to": today}
    units = stats(api, group_by="unit", **period).json
    assert {r["key"]: r["incoming"] for r in units["rows"]} == {"HC": 0, "KT": 1, "VX": 1}
    handlers = stats(api, group_by="handler", **period).json
    assert {r["key"]: r["incoming"] for r in handlers["rows"]} == {"specialist": 1,
                                                                  "head_vx": 1}
    assert units["totals"]["incoming"] == handlers["totals"]["incoming"] == 2
