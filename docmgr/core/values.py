"""Parsing of plain values typed by people or sent by API clients."""
import re
from datetime import date

from docmgr.core.errors import ValidationFailed

# Ids and counts are INTEGER columns (32-bit on PostgreSQL): a larger number in a query
# overflows in the database (a 500) instead of simply finding nothing.
INT_MAX = 2**31 - 1
# Fields whose name fixes a narrower range wherever they are read (query strings, forms,
# JSON): a year filter of 99999 is a typing mistake, not a register to look for. Checks of
# their own (a hồ sơ's year, a report's period) may be stricter still.
YEAR_MIN, YEAR_MAX = 1900, 2200
FIELD_RANGES = {"year": (YEAR_MIN, YEAR_MAX, "Năm")}
# ASCII digits only: int() would also take "1_000" or Arabic-Indic digits.
_INTEGER = re.compile(r"[+-]?[0-9]+")
SHOWN_CHARS = 20  # of a refused value echoed in a message: never 9 MB of it


def _shown(raw) -> str:
    text = str(raw)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def parse_date(raw, field: str, *, required: bool = False) -> date | None:
    if raw in (None, ""):
        if required:
            raise ValidationFailed("Vui lòng nhập ngày.", field=field)
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValidationFailed(f"Ngày “{_shown(raw)}” không đúng dạng YYYY-MM-DD.",
                               field=field) from None


def parse_int(raw, field: str) -> int | None:
    """An integer from a query string, a form or JSON; None when empty. Out of range (see
    INT_MAX, FIELD_RANGES) is a clear 400, never a database overflow."""
    if raw in (None, ""):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # JSON 3.0
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        # Converted only when short: a 10,000-digit number is out of range, not worth parsing.
        digits = raw.strip().lstrip("+-").lstrip("0")
        value = int(raw.strip()) if len(digits) <= 12 else None
    else:
        raise ValidationFailed(f"Giá trị “{_shown(raw)}” không phải là số.", field=field)
    low, high, label = FIELD_RANGES.get(field, (-INT_MAX, INT_MAX, None))
    if value is None or not low <= value <= high:
        raise ValidationFailed(f"{label} phải từ {low} đến {high}." if label else
                               f"Giá trị “{_shown(raw)}” vượt quá giới hạn cho phép.",
                               field=field)
    return value


def choice(raw, options: dict, field: str, default: str) -> str:
    value = str(raw or default).strip()
    if value not in options:
        raise ValidationFailed(f"Giá trị “{_shown(value)}” không hợp lệ.", field=field)
    return value
