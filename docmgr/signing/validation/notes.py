"""Every sentence a validation report says, in Vietnamese, for a clerk to act on.

Which sentence applies is decided in policy.py — and, for signatures that could not be
checked at all, by the exception's type (failures.py), never by its message.
"""
from __future__ import annotations

from datetime import datetime

from pyhanko.pdf_utils.misc import PdfReadError

from docmgr.core import clock
from docmgr.signing.validation import failures

# --- refusals (the whole file) ---------------------------------------------------------------

EMPTY_FILE = "Tệp rỗng."
NOT_A_PDF = "Tệp không phải PDF."
ENCRYPTED_FOR_RECIPIENT = "Tệp PDF được mã hóa bằng chứng thư số của người nhận"
ENCRYPTED_WITH_PASSWORD = "Tệp PDF được mã hóa bằng mật khẩu"


MALFORMED_BYTE_RANGE = ("Tệp PDF có chữ ký với phạm vi ký (/ByteRange) không hợp lệ: phải gồm "
                        "đúng 4 số nguyên không âm. Tệp không được kiểm tra tiếp.")
OVER_LIMIT = ("Tệp PDF cần quá nhiều bộ nhớ hoặc thời gian để kiểm tra chữ ký, vượt quá giới hạn "
              "xử lý, nên không kiểm tra được.")
BUSY = "Máy chủ đang bận nên chưa kiểm tra được chữ ký; vui lòng gửi lại sau ít phút."


def too_many_signatures(limit: int) -> str:
    return (f"Tệp PDF có hơn {limit} chữ ký hoặc trường chữ ký, vượt quá giới hạn kiểm tra, "
            "nên không kiểm tra được.")


def refused_encrypted(what: str) -> str:
    return f"{what} nên không kiểm tra được chữ ký; hãy gửi bản không mã hóa."


def refused_corrupt(reason: str) -> str:
    return ("Tệp PDF bị hỏng hoặc không đọc được nên không kiểm tra được chữ ký ("
            + reason + ").")


def structure_reason(exc: Exception | None) -> str:
    """Why pyHanko could not read the file, as the end of a Vietnamese sentence."""
    if isinstance(exc, failures.Encrypted):
        return exc.message
    if isinstance(exc, failures.EncryptionUnreadable):
        return "tệp được mã hóa hoặc thông tin mã hóa bị hỏng"
    if exc is None:
        return "cấu trúc tệp bị hỏng"
    return "cấu trúc tệp bị hỏng: " + f"{type(exc).__name__}: {exc}"[:160]


# --- signatures that could not be checked ----------------------------------------------------

UNCHECKED_GENERIC = "Không kiểm tra được chữ ký do dữ liệu bất thường."
_UNCHECKED = (
    (failures.EmptyPlaceholder,
     "Trường chữ ký chỉ có vùng giữ chỗ trống: văn bản chưa được ký hoàn chỉnh."),
    (failures.UnreadableCms, "Dữ liệu chữ ký (CMS) bị hỏng hoặc trống, không đọc được."),
    (failures.EncapsulatedContent,
     "Cấu trúc chữ ký (CMS) không đúng chuẩn: chữ ký tách rời nhưng lại chứa dữ liệu nhúng."),
    (failures.UnsupportedSubFilter, "Định dạng chữ ký (SubFilter) không được hỗ trợ."),
    (PdfReadError, "Cấu trúc PDF quanh chữ ký bị hỏng nên không kiểm tra được chữ ký."),
)


def unchecked(exc: Exception) -> str:
    return next((note for kind, note in _UNCHECKED if isinstance(exc, kind)), UNCHECKED_GENERIC)


def structure_unreadable(reason: str) -> str:
    return ("Không đọc được cấu trúc tệp PDF (" + reason + "); chỉ kiểm tra được phần mật mã "
            "trên các byte đã ký, không đánh giá được các thay đổi sau khi ký.")


ORPHAN = ("Từ điển chữ ký này không thuộc trường chữ ký nào của văn bản (có thể được sao chép "
          "từ tệp khác); chữ ký không gắn với văn bản này.")
BEYOND_EOF = ("Phạm vi ký (/ByteRange) vượt quá độ dài tệp: phần đã ký không còn nằm trong tệp "
              "này.")

# --- integrity and changes after signing -----------------------------------------------------

HASH_MISMATCH = "Nội dung đã ký bị thay đổi: giá trị băm không khớp với chữ ký."
SIGNATURE_MISMATCH = ("Giá trị chữ ký không khớp với chứng thư số (chữ ký hỏng hoặc mã hóa theo "
                      "cách không được hỗ trợ).")
PARTIAL_COVERAGE = ("Phạm vi ký (/ByteRange) bất thường: chữ ký không bao trùm trọn vẹn văn bản "
                    "tại thời điểm ký.")
FORBIDDEN_CHANGES = ("Sau khi ký, văn bản có thay đổi không được phép (ví dụ thêm trang, sửa "
                     "nội dung hoặc hình hiển thị, thay đổi cấu trúc tệp).")
LTA_UPDATES_ONLY = ("Sau khi ký chỉ bổ sung dữ liệu xác thực dài hạn (DSS) hoặc dấu thời gian.")


def later_signatures(fields: list[str]) -> str:
    return ("Sau chữ ký này có thêm chữ ký hoặc dấu thời gian ở trường: " + ", ".join(fields)
            + ".")


def filled_fields(changes: list) -> str:
    """The form fields filled or changed after a signature, each from what to what."""
    return ("Sau khi ký, các trường biểu mẫu sau đã được điền hoặc đổi giá trị (kiểm tra nội "
            "dung hiển thị): " + _listed(field_change(change) for change in changes) + ".")


def _listed(sentences) -> str:
    """Sentences joined into one, each starting in lower case."""
    return "; ".join(item[:1].lower() + item[1:] for item in sentences)


def field_change(change) -> str:
    """One field changed after signing, from what to what: "Trường SoKyHieu: '02/TB-VP' →
    '99/TB-VP'"."""
    if change.what == "other":
        return f"Trường {change.field}: được thêm hoặc thay đổi"
    if change.what == "appearance":
        return (f"Trường {change.field}: giá trị {_shown(change.old)} giữ nguyên nhưng hình "
                "hiển thị đã bị thay")
    return f"Trường {change.field}: {_shown(change.old)} → {_shown(change.new)}"


def _shown(value: str | None) -> str:
    return "(trống)" if value is None else f"'{value}'"


def locked_fields(lock: dict) -> str:
    """What a signature's field lock covers, for the report page."""
    names = ", ".join(lock["fields"])
    if lock["action"] == "all":
        return "Mọi trường biểu mẫu"
    if lock["action"] == "exclude":
        return "Mọi trường biểu mẫu trừ: " + names
    return names


ANNOTATIONS_ADDED = "thêm hoặc sửa ghi chú, chú thích (annotation) trên trang"


def unsigned_changes(what: list[str]) -> str:
    """Changes after the last signature that nobody signed: the document is not what its
    signatures vouch for."""
    return ("Văn bản đã bị thay đổi sau chữ ký cuối cùng (không phải dữ liệu xác thực, dấu thời "
            "gian hay một chữ ký tiếp theo): " + _listed(what) + ".")


def beyond_docmdp(permission_label: str) -> str:
    return ("Thay đổi sau khi ký vượt quá mức chữ ký chứng nhận cho phép ("
            + permission_label.lower() + ").")


# --- time ------------------------------------------------------------------------------------

TIMESTAMP_BROKEN = ("Dấu thời gian đi kèm chữ ký bị hỏng hoặc không khớp với chữ ký; không dùng "
                    "được làm bằng chứng thời điểm ký.")
SIGNER_CLOCK = "Thời điểm ký lấy từ đồng hồ máy người ký (không có dấu thời gian)."
NO_SIGNING_TIME = "Chữ ký không ghi thời điểm ký và không có dấu thời gian."


def timestamp_authority_untrusted(authority: str | None) -> str:
    return ("Dấu thời gian hợp lệ về mật mã nhưng đơn vị cấp dấu thời gian "
            f"({authority}) chưa được xác thực.")


def expired_since_signing(not_valid_after: datetime) -> str:
    return (f"Chứng thư số đã hết hạn ngày {_day(not_valid_after)} nhưng còn hiệu lực tại thời "
            "điểm ký.")


# --- trust and revocation --------------------------------------------------------------------

SELF_SIGNED = ("Chứng thư số tự ký (self-signed), không do tổ chức chứng thực nào đã cấu hình "
               "cấp.")
WEAK_ALGORITHM = ("Chữ ký dùng thuật toán mật mã yếu hoặc không còn được chấp nhận (ví dụ SHA-1) "
                  "nên không xác thực được.")
EXPIRED_WITHOUT_SIGNING_TIME = ("Chứng thư số không còn hiệu lực (hết hạn) và không có thời điểm "
                                "ký đáng tin cậy để xác nhận nó còn hiệu lực khi ký.")
REVOKED = "Chứng thư số đã bị thu hồi."
REVOCATION_NOT_CHECKED = ("Chưa kiểm tra được tình trạng thu hồi của chứng thư (hệ thống không "
                          "tra cứu CRL/OCSP trực tuyến).")


def expired_before_signing(not_valid_after: datetime) -> str:
    return f"Chứng thư số đã hết hạn ngày {_day(not_valid_after)}, trước thời điểm ký."


def not_yet_valid_at_signing(not_valid_before: datetime) -> str:
    return ("Chứng thư số chưa có hiệu lực tại thời điểm ký (hiệu lực từ ngày "
            f"{_day(not_valid_before)}).")


def chain_constraints_failed(issuer: str) -> str:
    return ("Chứng thư số không đáp ứng ràng buộc của chuỗi chứng thực hoặc mục đích sử dụng khóa "
            f"(tổ chức cấp: {issuer}).")


def no_path_to_a_root(issuer: str) -> str:
    return ("Không xây dựng được chuỗi chứng thư tới chứng thư gốc tin cậy đã cấu hình (tổ chức "
            f"cấp: {issuer}); cần cấu hình chứng thư gốc của tổ chức chứng thực này.")


def _day(moment: datetime) -> str:
    return f"{clock.local(moment):%d/%m/%Y}"


# --- the file as a whole ---------------------------------------------------------------------

NO_SIGNATURE = "Văn bản không có chữ ký số."
HEADLINES = {
    "valid": "Các chữ ký số trên văn bản hợp lệ.",
    "untrusted": ("Chữ ký số còn toàn vẹn nhưng chưa xác thực được nguồn gốc chứng thư (chưa "
                  "chuỗi tới chứng thư gốc tin cậy đã cấu hình)."),
    "altered": "Cảnh báo: văn bản đã bị sửa đổi sau khi ký hoặc phạm vi ký bất thường.",
    "invalid": "Văn bản có chữ ký số không hợp lệ.",
}
COUNT_WORDS = {"valid": "hợp lệ", "untrusted": "chưa xác thực được nguồn gốc",
               "altered": "bị sửa đổi sau khi ký", "invalid": "không hợp lệ"}
KIND_NOUNS = {"signature": "chữ ký số", "timestamp": "dấu thời gian tài liệu"}
ONLY_CRYPTOGRAPHY_CHECKED = (" Cấu trúc tệp PDF không đọc được đầy đủ nên chỉ kiểm tra được phần "
                             "mật mã của chữ ký.")


def counted(total: int, kind: str, by_verdict: list[tuple[str, int]]) -> str:
    """For example: 2 chữ ký số (1 hợp lệ, 1 không hợp lệ)."""
    parts = ", ".join(f"{count} {COUNT_WORDS[verdict]}" for verdict, count in by_verdict)
    return f"{total} {KIND_NOUNS[kind]} ({parts})"


def summary(verdict: str, counts: list[str], structure_readable: bool) -> str:
    text = f"{HEADLINES[verdict]} Văn bản có {' và '.join(counts)}."
    return text if structure_readable else text + ONLY_CRYPTOGRAPHY_CHECKED
