"""/api/v1/signatures/validate: check the signatures of an uploaded PDF (API.md "Signatures")."""
from flask import Blueprint, jsonify

from docmgr.core.api import roles
from docmgr.core.auth import Role
from docmgr.core.errors import UploadRejected, UploadTooLarge
from docmgr.core.web import read_upload_bytes, settings
from docmgr.signing.context import trust_store
from docmgr.signing.validation import validate_upload

bp = Blueprint("signing_api", __name__)

ANY = tuple(Role)


def read_pdf_for_validation(field: str = "file") -> tuple[bytes, str]:
    """The uploaded bytes, limited in size and sniffed for a PDF header — nothing more.

    ``check_pdf`` (used when a document is registered) refuses files with JavaScript,
    encryption or a broken page tree. Checking a signature must still report on such files,
    so here only the size limit (VALIDATE_MAX_MB, at most the upload limit) and the header
    apply; pyHanko decides about the rest, within validate_upload's bounds.
    """
    megabytes = min(settings().validate_max_mb, settings().max_upload_mb)
    max_bytes = megabytes * 1024 * 1024
    data, filename = read_upload_bytes(field, max_bytes)
    if not data:
        raise UploadRejected("Tệp rỗng.", field=field, reason="empty")
    if len(data) > max_bytes:
        raise UploadTooLarge(f"Tệp vượt quá giới hạn {megabytes} MB.", field=field,
                             max_bytes=max_bytes)
    if b"%PDF-" not in data[:1024]:
        raise UploadRejected("Tệp không phải PDF.", field=field, reason="not_pdf")
    return data, filename


@bp.post("/signatures/validate")
@roles(*ANY)
def validate():
    data, _ = read_pdf_for_validation()
    report = validate_upload(data, trust_store())
    return jsonify(report.to_dict())
