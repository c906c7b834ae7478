"""Numbers written the Vietnamese way: "." groups thousands, "," marks decimals
(2.119; 99,58%)."""
from decimal import ROUND_HALF_UP, Decimal


def ratio(part: int, whole: int) -> Decimal | None:
    """part/whole as a percentage rounded half-up to two decimals (None when whole is 0:
    "no document" is not "0 %"). Decimal, so 99.575 never rounds down as a float would."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def number(value: int | None) -> str:
    return f"{value or 0:,}".replace(",", ".")


def percent(value: Decimal | float | None) -> str:
    """99.58 → "99,58%"; 98.60 → "98,6%"; 100.00 → "100%"; None → "—"."""
    if value is None:
        return "—"
    text = f"{Decimal(value).quantize(Decimal('0.01'), ROUND_HALF_UP):,.2f}"
    whole, _, decimals = text.partition(".")
    decimals = decimals.rstrip("0")
    whole = whole.replace(",", ".")
    return f"{whole},{decimals}%" if decimals else f"{whole}%"


def signed_sentence(signed: int, issued: int) -> str:
    """"Ký số 2.119/2.128 văn bản, đạt 99,58%" — the sentence a báo cáo quotes."""
    if not issued:
        return "Chưa có văn bản đi được phát hành trong kỳ."
    return (f"Ký số {number(signed)}/{number(issued)} văn bản, "
            f"đạt {percent(ratio(signed, issued))}")


def on_time_sentence(on_time: int, due: int) -> str:
    if not due:
        return "Chưa có văn bản đến hạn giải quyết trong kỳ."
    return f"tỷ lệ giải quyết đúng hạn {percent(ratio(on_time, due))}"
