"""parse_float: the one reader of decimal numbers people or clients send (issue 11: float()
took "nan", "inf" and "1e999")."""
import json

import pytest

from docmgr.core.errors import ValidationFailed
from docmgr.core.values import parse_float


@pytest.mark.parametrize("raw,value", [("120.5", 120.5), (" 36,5 ", 36.5), ("0", 0.0),
                                       ("-3", -3.0), (".5", 0.5), (42, 42.0), (12.25, 12.25)])
def test_decimals_as_people_type_them(raw, value):
    assert parse_float(raw, "x", label="Tọa độ x") == value


@pytest.mark.parametrize("raw", [None, ""])
def test_empty_is_none(raw):
    assert parse_float(raw, "x", label="Tọa độ x") is None


@pytest.mark.parametrize("raw", [
    "nan", "NaN", "inf", "-Infinity", "1e999", "1e3", "0x10", "1_000", "١٢", "12abc", "1.2.3",
    "9" * 40, True, [1], {"x": 1}, float("nan"), float("inf"), 10 ** 400,
    json.loads("NaN"), json.loads("1e999"),
])
def test_anything_else_is_a_400_naming_the_field(raw):
    with pytest.raises(ValidationFailed) as caught:
        parse_float(raw, "diameter_mm", label="Đường kính con dấu")
    assert caught.value.status == 400 and caught.value.field == "diameter_mm"
    assert caught.value.message.startswith("Đường kính con dấu không phải là số hợp lệ: “")
    assert len(caught.value.message) < 120  # a 40-digit value is not echoed whole
