"""The statistics page, its exports and the printable report, as a signed-in browser."""
import io
import re

from openpyxl import load_workbook

from docmgr.core import clock


def test_page_shows_tables_svg_charts_and_the_sentences(browser_login, dataset):
    client = browser_login("leader")
    r = client.get("/reports/", query_string=dataset.period)
    assert r.status_code == 200
    html = r.data.decode()
    assert "Thống kê văn bản" in html
    assert html.count("<svg") >= 7 and "<polyline" in html  # bars, and lines by month
    assert "<script" not in html.split("<main", 1)[1]  # charts need no JavaScript
    assert "Ký số 2/3 văn bản, đạt 66,67%" in html
    assert "tỷ lệ giải quyết đúng hạn 33,33%" in html
    for heading in ("Theo loại văn bản", "Theo tháng", "Theo đơn vị", "Theo độ khẩn",
                    "Tình hình giải quyết văn bản đến theo đơn vị",
                    "Tình hình giải quyết văn bản đến theo người xử lý chính"):
        assert heading in html
    assert "Trần Văn Bình" in html and "Phòng Kinh tế" in html and "Hỏa tốc" in html
    for doc in dataset.incoming.values():  # numbers only: no document is named
        assert doc["subject"] not in html and doc["notation"] not in html
    assert re.search(r'href="/reports/export\?group_by=doc_type&amp;format=xlsx&amp;', html)
    assert "/reports/print?" in html
    assert 'href="/reports/"' in html  # the "Thống kê" link in the menu


def test_period_picker_offers_every_period(browser_login, world):
    html = browser_login("clerk").get("/reports/?period=quarter&year=2026&quarter=2").data.decode()
    for label in ("Tháng", "Quý", "6 tháng", "9 tháng đầu năm", "Năm", "Từ ngày"):
        assert label in html
    assert "Quý II năm 2026" in html and 'value="quarter" selected' in html


def test_a_wrong_period_is_explained(browser_login, world):
    r = browser_login("head").get("/reports/?from=2026-05-01&to=2026-04-01")
    assert r.status_code == 400
    html = r.data.decode()
    assert "Ngày bắt đầu phải trước hoặc bằng ngày kết thúc." in html
    assert f"Năm {clock.today().year}" in html  # this year's figures meanwhile


def test_exports_from_the_page(browser_login, world, dataset):
    client = browser_login("clerk")
    csv = client.get("/reports/export", query_string={**dataset.period, "group_by": "urgency",
                                                      "format": "csv"})
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
    assert csv.data.decode("utf-8-sig").splitlines()[0].startswith("Mã,Độ khẩn,Văn bản đến")
    xlsx = client.get("/reports/export", query_string={**dataset.period, "group_by": "handler",
                                                       "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert world.org.name in sheet["A1"].value and "người xử lý chính" in sheet["A1"].value
    assert client.get("/reports/export?format=pdf").status_code == 400


def test_printable_report_has_the_national_header(browser_login, world, dataset):
    r = browser_login("leader").get("/reports/print", query_string=dataset.period)
    assert r.status_code == 200
    html = r.data.decode()
    assert "VĂN PHÒNG UBND TỈNH QUẢNG NGÃI" in html
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html and "Độc lập - Tự do - Hạnh phúc" in html
    today = clock.today()
    month = f"{today.month:02d}" if today.month < 3 else str(today.month)
    assert f"Quảng Ngãi, ngày {today.day:02d} tháng {month} năm {today.year}" in html
    assert "BÁO CÁO" in html and "Ký số 2/3 văn bản, đạt 66,67%" in html
    assert "<svg" in html and "/reports/export" not in html  # no buttons on paper


def test_roles_on_the_pages(browser_login, world):
    for who in ("leader", "clerk", "head", "admin"):
        assert browser_login(who).get("/reports/").status_code == 200, who
    specialist = browser_login("specialist")
    assert specialist.get("/reports/").status_code == 403
    assert specialist.get("/reports/print").status_code == 403
    assert specialist.get("/reports/export?format=csv").status_code == 403
    assert 'href="/reports/"' not in specialist.get("/").data.decode()


def test_anonymous_visitors_are_sent_to_log_in(app, world):
    r = app.test_client().get("/reports/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
