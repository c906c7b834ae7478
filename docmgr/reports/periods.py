"""Reporting periods (kỳ báo cáo): a month, a quarter, the first or last six months, the
first nine months or a whole calendar year, or any two dates.

Boundaries are local calendar dates in the organisation's time zone, both ends included:
"Quý I năm 2026" is 01/01/2026–31/03/2026. Calendar periods are what a clerk means by
"6 tháng đầu năm"; an office that closes its figures on another day (Nghị định 09/2019
closes periodic reports on the 14th) picks the two dates itself.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from docmgr.core import clock
from docmgr.core.errors import ValidationFailed
from docmgr.core.values import parse_date, parse_int

PERIOD_LABELS = {
    "month": "Tháng",
    "quarter": "Quý",
    "half": "6 tháng",
    "nine_months": "9 tháng đầu năm",
    "year": "Năm",
    "custom": "Từ ngày … đến ngày …",
}
HALF_LABELS = {1: "6 tháng đầu năm", 2: "6 tháng cuối năm"}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
MAX_YEARS = 10
FIRST_YEAR = 1945


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str  # "Quý I năm 2026"
    kind: str = "custom"
    params: tuple = ()  # the query arguments that name this period again (links, exports)

    @property
    def range_text(self) -> str:
        return f"từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"

    @property
    def query(self) -> dict:
        return dict(self.params)


def _year(raw, today: date) -> int:
    year = parse_int(raw, "year")
    if year is None:
        return today.year
    if not FIRST_YEAR <= year <= today.year + 1:
        raise ValidationFailed(f"Năm phải từ {FIRST_YEAR} đến {today.year + 1}.", field="year")
    return year


def _number(raw, field: str, low: int, high: int, default: int, what: str) -> int:
    value = parse_int(raw, field)
    if value is None:
        return default
    if not low <= value <= high:
        raise ValidationFailed(f"{what} phải từ {low} đến {high}.", field=field)
    return value


def _month_end(year: int, month: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def custom(start: date, end: date, params: tuple = ()) -> Period:
    """Any two dates, both included; at most MAX_YEARS years apart."""
    if start > end:
        raise ValidationFailed("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.", field="from")
    if end >= _add_years(start, MAX_YEARS):
        raise ValidationFailed(f"Khoảng thời gian thống kê tối đa {MAX_YEARS} năm.", field="to")
    if start.year < FIRST_YEAR:
        raise ValidationFailed(f"Ngày bắt đầu phải từ năm {FIRST_YEAR}.", field="from")
    label = f"Từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"
    return Period(start, end, label, "custom",
                  params or (("from", start.isoformat()), ("to", end.isoformat())))


def parse(args, today: date | None = None) -> Period:
    """The period named by request arguments.

    ``from``/``to`` (YYYY-MM-DD, as API.md names them) win when either is given: a missing
    ``to`` is today, a missing ``from`` the first of January of ``to``'s year. Otherwise
    ``period`` (month, quarter, half, nine_months, year; default year) with ``year``
    (default this year) and ``month``, ``quarter`` or ``half``.
    """
    today = today or clock.today()
    raw_from, raw_to = args.get("from") or "", args.get("to") or ""
    kind = (args.get("period") or "").strip()
    if kind == "custom" or (not kind and (raw_from or raw_to)):
        end = parse_date(raw_to, "to") or today
        start = parse_date(raw_from, "from") or date(end.year, 1, 1)
        return custom(start, end, (("period", "custom"), ("from", start.isoformat()),
                                   ("to", end.isoformat())))
    kind = kind or "year"
    if kind not in PERIOD_LABELS:
        raise ValidationFailed("Kỳ thống kê phải là tháng, quý, 6 tháng, 9 tháng, năm hoặc "
                               "khoảng ngày tùy chọn.", field="period")
    year = _year(args.get("year"), today)
    params = [("period", kind), ("year", str(year))]
    if kind == "month":
        month = _number(args.get("month"), "month", 1, 12,
                        today.month if year == today.year else 1, "Tháng")
        params.append(("month", str(month)))
        return Period(date(year, month, 1), _month_end(year, month),
                      f"Tháng {month} năm {year}", kind, tuple(params))
    if kind == "quarter":
        quarter = _number(args.get("quarter"), "quarter", 1, 4,
                          (today.month - 1) // 3 + 1 if year == today.year else 1, "Quý")
        params.append(("quarter", str(quarter)))
        first = 3 * quarter - 2
        return Period(date(year, first, 1), _month_end(year, first + 2),
                      f"Quý {ROMAN[quarter]} năm {year}", kind, tuple(params))
    if kind == "half":
        half = _number(args.get("half"), "half", 1, 2, 1, "Nửa năm")
        params.append(("half", str(half)))
        first = 1 if half == 1 else 7
        return Period(date(year, first, 1), _month_end(year, first + 5),
                      f"{HALF_LABELS[half]} {year}", kind, tuple(params))
    if kind == "nine_months":
        return Period(date(year, 1, 1), date(year, 9, 30), f"9 tháng đầu năm {year}", kind,
                      tuple(params))
    return Period(date(year, 1, 1), date(year, 12, 31), f"Năm {year}", kind, tuple(params))


def months(period: Period) -> list[tuple[int, int]]:
    """Every (year, month) the period touches, in order."""
    out, year, month = [], period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
