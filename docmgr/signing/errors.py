"""What can go wrong while signing, as domain errors: a Vietnamese message for the person, a
code and an HTTP status — so pages and the JSON API say what happened, and the request's
transaction is rolled back (nothing is signed, numbered or stored).

The engine raises these and nothing else (engine.py's public functions are the boundary).
pyHanko's own errors are translated by type, per layer:

    pyHanko error (layer)                        domain error             status
    PdfKeyNotAvailableError (reading, encrypted)  EncryptedDocument        422
    PdfReadError (reading the draft)              UnreadableDocument       422
    PdfWriteError (writing the update)            DocumentNotSignable      422
    UnacceptableSignerError (the field's seed     CertificateNotAccepted   422
        values refuse this certificate)
    SigningError, FormFillingError (the PDF's     DocumentNotSignable      422
        fields refuse the signature)
    TimestampRequestError (the TSA)               TimestampUnavailable     503
    anything else (a fault of ours or pyHanko's)  SigningError             500
"""
from __future__ import annotations

from pyhanko.pdf_utils.crypt import PdfKeyNotAvailableError
from pyhanko.pdf_utils.misc import FormFillingError, PdfReadError, PdfWriteError
from pyhanko.sign.general import UnacceptableSignerError
from pyhanko.sign.timestamps import TimestampRequestError

from docmgr.core.errors import DomainError

NOT_SIGNED = "văn bản chưa được ký và không có gì được lưu"


class SigningError(DomainError):
    """The signature could not be made. As such (not a subclass): a fault on our side."""
    status = 500
    code = "signing_failed"
    default_message = (f"Lỗi khi tạo chữ ký số; {NOT_SIGNED}. Hãy thử lại; nếu vẫn lỗi, báo "
                       "quản trị hệ thống.")

    def __init__(self, message: str | None = None, **kwargs):
        super().__init__(message or self.default_message, **kwargs)


class DocumentNotSignable(SigningError):
    """The document cannot take this signature: a missing or already signed field, a form
    or file that refuses the update."""
    status = 422
    code = "document_not_signable"
    default_message = (f"Tệp PDF của văn bản không nhận thêm chữ ký số; {NOT_SIGNED}. Hãy tải "
                       "lên bản PDF khác (ví dụ xuất lại từ phần mềm soạn thảo).")


class EncryptedDocument(DocumentNotSignable):
    code = "document_encrypted"
    default_message = (f"Tệp PDF của văn bản được mã hóa (đặt mật khẩu) nên không ký số được; "
                       f"{NOT_SIGNED}. Hãy tải lên bản không mã hóa.")


class UnreadableDocument(DocumentNotSignable):
    code = "document_unreadable"
    default_message = (f"Không đọc được cấu trúc tệp PDF của văn bản nên không ký số được; "
                       f"{NOT_SIGNED}. Hãy tải lên bản PDF khác (ví dụ xuất lại từ phần mềm "
                       "soạn thảo).")


class CertificateNotAccepted(SigningError):
    status = 422
    code = "certificate_not_accepted"
    default_message = (f"Ô chữ ký trong tệp PDF không chấp nhận chứng thư số này (ràng buộc về "
                       f"người ký do tệp đặt ra); {NOT_SIGNED}.")


class TimestampUnavailable(SigningError):
    status = 503
    code = "timestamp_unavailable"
    default_message = (f"Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian (TSA); "
                       f"{NOT_SIGNED}. Hãy thử lại sau ít phút; nếu vẫn lỗi, báo quản trị hệ "
                       "thống.")


# Most specific first: PdfKeyNotAvailableError is a PdfReadError, UnacceptableSignerError
# a pyHanko SigningError, which is a FormFillingError.
_BY_TYPE = (
    (PdfKeyNotAvailableError, EncryptedDocument),
    (PdfReadError, UnreadableDocument),
    (PdfWriteError, DocumentNotSignable),
    (UnacceptableSignerError, CertificateNotAccepted),
    (FormFillingError, DocumentNotSignable),
    (TimestampRequestError, TimestampUnavailable),
)


def from_exception(exc: Exception) -> SigningError:
    """The domain error for an exception raised while signing."""
    if isinstance(exc, SigningError):
        return exc
    error = next((kind for raised, kind in _BY_TYPE if isinstance(exc, raised)), SigningError)
    return error()
