"""Periods (kỳ báo cáo) and the Vietnamese way of writing numbers, without a database."""
from datetime import date

import pytest

from docmgr.core.errors import ValidationFailed
from docmgr.reports import charts, formatting, periods

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize("part, whole, text", [
    (2119, 2128, "99,58%"), (986, 1000, "98,6%"), (5, 5, "100%"), (0, 7, "0%"),
    (1, 3, "33,33%"), (2, 3, "66,67%"), (1, 8, "12,5%"), (1, 200, "0,5%")])
def test_ratio_written_the_vietnamese_way(part, whole, text):
    assert formatting.percent(formatting.ratio(part, whole)) == text


def test_ratio_rounds_half_up_and_none_without_documents():
    assert str(formatting.ratio(199_150, 200_000)) == "99.58"  # 99.575 → 99.58, not 99.57
    assert formatting.ratio(0, 0) is None and formatting.percent(None) == "—"


def test_numbers_and_the_sentence():
    assert formatting.number(2119) == "2.119" and formatting.number(1234567) == "1.234.567"
    assert formatting.number(0) == "0"
    assert formatting.signed_sentence(2119, 2128) == "Ký số 2.119/2.128 văn bản, đạt 99,58%"
    assert formatting.on_time_sentence(986, 1000) == "tỷ lệ giải quyết đúng hạn 98,6%"


@pytest.mark.parametrize("args, start, end, label", [
    ({"period": "month", "year": "2026", "month": "2"}, date(2026, 2, 1), date(2026, 2, 28),
     "Tháng 2 năm 2026"),
    ({"period": "month", "year": "2024", "month": "2"}, date(2024, 2, 1), date(2024, 2, 29),
     "Tháng 2 năm 2024"),
    ({"period": "month", "year": "2025", "month": "12"}, date(2025, 12, 1),
     date(2025, 12, 31), "Tháng 12 năm 2025"),
    ({"period": "quarter", "year": "2026", "quarter": "1"}, date(2026, 1, 1),
     date(2026, 3, 31), "Quý I năm 2026"),
    ({"period": "quarter", "year": "2026", "quarter": "4"}, date(2026, 10, 1),
     date(2026, 12, 31), "Quý IV năm 2026"),
    ({"period": "half", "year": "2026"}, date(2026, 1, 1), date(2026, 6, 30),
     "6 tháng đầu năm 2026"),
    ({"period": "half", "year": "2026", "half": "2"}, date(2026, 7, 1), date(2026, 12, 31),
     "6 tháng cuối năm 2026"),
    ({"period": "nine_months", "year": "2026"}, date(2026, 1, 1), date(2026, 9, 30),
     "9 tháng đầu năm 2026"),
    ({"period": "year", "year": "2025"}, date(2025, 1, 1), date(2025, 12, 31), "Năm 2025"),
    ({}, date(2026, 1, 1), date(2026, 12, 31), "Năm 2026"),
    ({"period": "quarter"}, date(2026, 10, 1), date(2026, 12, 31), "Quý IV năm 2026"),
    ({"from": "2026-02-03", "to": "2026-03-04"}, date(2026, 2, 3), date(2026, 3, 4),
     "Từ ngày 03/02/2026 đến ngày 04/03/2026"),
    ({"to": "2026-03-04"}, date(2026, 1, 1), date(2026, 3, 4),
     "Từ ngày 01/01/2026 đến ngày 04/03/2026"),
    ({"from": "2026-11-01"}, date(2026, 11, 1), TODAY,
     "Từ ngày 01/11/2026 đến ngày 29/11/2026"),
    ({"period": "custom", "from": "2026-11-01", "to": "2026-11-01"}, date(2026, 11, 1),
     date(2026, 11, 1), "Từ ngày 01/11/2026 đến ngày 01/11/2026"),
])
def test_periods(args, start, end, label):
    period = periods.parse(args, today=TODAY)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert periods.parse(period.query, today=TODAY) == period  # links name it again


@pytest.mark.parametrize("args, field, message", [
    ({"from": "2026-03-02", "to": "2026-03-01"}, "from",
     "Ngày bắt đầu phải trước hoặc bằng ngày kết thúc."),
    ({"from": "2016-03-01", "to": "2026-03-01"}, "to", "Khoảng thời gian thống kê tối đa 10 năm."),
    ({"from": "2026-13-01"}, "from", "Ngày “2026-13-01” không đúng dạng YYYY-MM-DD."),
    ({"period": "month", "month": "0"}, "month", "Tháng phải từ 1 đến 12."),
    ({"period": "quarter", "quarter": "5"}, "quarter", "Quý phải từ 1 đến 4."),
    ({"period": "year", "year": "2028"}, "year", "Năm phải từ 1945 đến 2027."),
    ({"period": "year", "year": "năm"}, "year", "Giá trị “năm” không phải là số."),
    ({"period": "fortnight"}, "period", None),
])
def test_period_errors(args, field, message):
    with pytest.raises(ValidationFailed) as caught:
        periods.parse(args, today=TODAY)
    assert caught.value.field == field
    if message:
        assert caught.value.message == message


def test_ten_years_less_a_day_is_the_longest_range():
    period = periods.parse({"from": "2016-03-02", "to": "2026-03-01"}, today=TODAY)
    assert (period.end - period.start).days == 3651


def test_months_of_a_period():
    period = periods.parse({"from": "2025-11-15", "to": "2026-02-01"}, today=TODAY)
    assert periods.months(period) == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]


def test_charts_are_self_contained_svg_readable_in_black_and_white():
    series = [charts.Series("Văn bản đến", [2119, 0, 35]),
              charts.Series("Văn bản đi", [2128, 4, 0])]
    bars = str(charts.bar_chart("Theo loại <văn bản>", ["Công văn", "Quyết định", "Tờ trình"],
                                series))
    assert bars.startswith("<svg") and bars.endswith("</svg>")
    assert "Theo loại &lt;văn bản&gt;" in bars  # labels escaped
    assert "2.119" in bars and "2.128" in bars  # every bar carries its number
    assert "<pattern" in bars and "url(#" in bars  # the second series is hatched
    assert "style=" not in bars and "<script" not in bars and "http://www.w3.org/2000/svg" in bars
    assert "href" not in bars  # nothing fetched
    line = str(charts.line_chart("Theo tháng", ["01/26", "02/26"], series[:2]))
    assert "<polyline" in line and 'stroke-dasharray="7 4"' in line  # dashed second line
    assert "<rect" in line  # square markers for the second series, round for the first

