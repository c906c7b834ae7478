"""Parsing of plain values typed by people or sent by API clients."""
import math
import re
from datetime import date

from docmgr.core.documents import normalise_text
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
# A decimal as people type it, with a point or the Vietnamese comma. float() would also take
# "nan", "inf", "1e999" (infinity), "1_0" and other digits; none of them is a place or size.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,15}(?:[.,][0-9]{0,15})?|[.,][0-9]{1,15})")
SHOWN_CHARS = 20  # of a refused value echoed in a message: never 9 MB of it

# Bounds of the texts people type, in characters after normalise_text. Each is stated
# once here and used by every operation storing such a text (see ``text``).
SUBJECT_MAX = 500  # trích yếu: ND30 Phụ lục VI (Subject ≤ 500), so it can be exchanged
NAME_MAX = 255  # an organisation's name (tác giả, nơi nhận): its column
NOTATION_MAX = 100  # số, ký hiệu: its key column
NOTE_MAX = 2000  # ý kiến chỉ đạo, ghi chú, ý kiến góp ý: a paragraph or two
REASON_MAX = 1000  # lý do trả lại: read by the sending organisation in a status message
# Raw input this many times over its bound is refused before it is even normalised: no
# collapsing of spaces brings 9 MB down to a paragraph a person typed.
RAW_FACTOR = 4


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


def text(raw, field: str, *, label: str, max_len: int, required: str | None = None) -> str:
    """Typed text as it is kept (normalise_text), at most ``max_len`` characters;
    ``required`` is the message when it is empty. Refused before anything is stored, with
    a message naming the field, so no operation keeps (and shows other organisations)
    megabytes nobody typed."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):  # a JSON number, list or object where text belongs
        raise ValidationFailed(f"{label} phải là một đoạn văn bản.", field=field)
    value = normalise_text(raw) if len(raw) <= max_len * RAW_FACTOR else None
    if value == "" and required:
        raise ValidationFailed(required, field=field)
    if value is None or len(value) > max_len:
        raise ValidationFailed(f"{label} tối đa {max_len:,} ký tự.".replace(",", "."),
                               field=field)
    return value


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


def parse_float(raw, field: str, *, label: str) -> float | None:
    """A finite decimal number from a form, a query string or JSON; None when empty.
    Anything else — NaN, infinity, an exponent, a list — is a 400 naming the field by
    ``label``. Ranges are the caller's (a place on a page depends on the page)."""
    if raw in (None, ""):
        return None
    value = None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        try:
            value = float(raw)  # JSON: Python's parser reads NaN and Infinity too
        except OverflowError:  # an integer beyond any float
            value = None
    elif isinstance(raw, str) and _DECIMAL.fullmatch(raw.strip()):
        value = float(raw.strip().replace(",", "."))
    if value is None or not math.isfinite(value):
        raise ValidationFailed(f"{label} không phải là số hợp lệ: “{_shown(raw)}”.",
                               field=field)
    return value


def choice(raw, options: dict, field: str, default: str) -> str:
    value = str(raw or default).strip()
    if value not in options:
        raise ValidationFailed(f"Giá trị “{_shown(value)}” không hợp lệ.", field=field)
    return value
