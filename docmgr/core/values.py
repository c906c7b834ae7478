"""Parsing of plain values typed by people or sent by API clients."""
from datetime import date

from docmgr.core.errors import ValidationFailed


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
        raise ValidationFailed(f"Ngày “{raw}” không đúng dạng YYYY-MM-DD.", field=field) from None


def parse_int(raw, field: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed(f"Giá trị “{raw}” không phải là số.", field=field) from None


def choice(raw, options: dict, field: str, default: str) -> str:
    value = (raw or default).strip()
    if value not in options:
        raise ValidationFailed(f"Giá trị “{value}” không hợp lệ.", field=field)
    return value
