"""ND30 catalogue: document types with their abbreviations, urgency and secrecy levels."""

# code (as used in the API) -> (Vietnamese name, abbreviation in the notation or None)
DOC_TYPES = {
    "NQ": ("Nghị quyết", "NQ"),
    "QĐ": ("Quyết định", "QĐ"),
    "CT": ("Chỉ thị", "CT"),
    "QC": ("Quy chế", "QC"),
    "QyĐ": ("Quy định", "QyĐ"),
    "TC": ("Thông cáo", "TC"),
    "TB": ("Thông báo", "TB"),
    "HD": ("Hướng dẫn", "HD"),
    "CTr": ("Chương trình", "CTr"),
    "KH": ("Kế hoạch", "KH"),
    "PA": ("Phương án", "PA"),
    "ĐA": ("Đề án", "ĐA"),
    "DA": ("Dự án", "DA"),
    "BC": ("Báo cáo", "BC"),
    "BB": ("Biên bản", "BB"),
    "TTr": ("Tờ trình", "TTr"),
    "HĐ": ("Hợp đồng", "HĐ"),
    "CV": ("Công văn", None),
    "CĐ": ("Công điện", "CĐ"),
    "BGN": ("Bản ghi nhớ", "BGN"),
    "BTT": ("Bản thỏa thuận", "BTT"),
    "GUQ": ("Giấy ủy quyền", "GUQ"),
    "GM": ("Giấy mời", "GM"),
    "GGT": ("Giấy giới thiệu", "GGT"),
    "GNP": ("Giấy nghỉ phép", "GNP"),
    "PG": ("Phiếu gửi", "PG"),
    "PC": ("Phiếu chuyển", "PC"),
    "PB": ("Phiếu báo", "PB"),
    "ThC": ("Thư công", None),
    "SY": ("Bản sao y", "SY"),
    "SL": ("Bản sao lục", "SL"),
    "TrS": ("Bản trích sao", "TrS"),
}

URGENCY = {
    "normal": "Thường",
    "urgent": "Khẩn",
    "very_urgent": "Thượng khẩn",
    "express": "Hỏa tốc",
}

SECRECY = {
    "normal": "Thường",
    "confidential": "Mật",
    "secret": "Tối mật",
    "top_secret": "Tuyệt mật",
}

RECEIVED_VIA = {"paper": "Bản giấy", "electronic": "Điện tử"}

# Some sources spell Đ with the look-alike Icelandic eth (U+00D0).
_LOOKALIKES = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})


def canonical_type(code: str) -> str | None:
    """The catalogue code for what a user typed, tolerating the Ð look-alike; None if unknown."""
    code = (code or "").strip().translate(_LOOKALIKES)
    return code if code in DOC_TYPES else None


def type_name(code: str) -> str:
    return DOC_TYPES.get(code, (code, None))[0]


def as_list() -> list[dict]:
    return [{"code": code, "name": name, "abbr": abbr} for code, (name, abbr) in DOC_TYPES.items()]


def fix_lookalikes(text: str) -> str:
    # Two substring tests are ~50x cheaper than translate() on a long text without them.
    if "\u00d0" in text or "\u00f0" in text:
        return text.translate(_LOOKALIKES)
    return text
