"""Request plumbing shared by every slice's views and API: the request's session (opened
and ended by core/transaction.py — views never commit), the blob store, pagination, and
parsing helpers."""
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from flask import Response, current_app, request, send_file

from docmgr.core import auth, convert, throttle
from docmgr.core.errors import ValidationFailed
from docmgr.core.previews import guard_limits, marked_page_png, page_png
from docmgr.core.transaction import close_session, session  # noqa: F401  (for the slices)
from docmgr.core.uploads import CheckedPdf, check_pdf
from docmgr.core.values import parse_int


def services():
    return current_app.extensions["docmgr"]


def settings():
    """The typed settings of the application serving this request."""
    return services().settings


def blobs():
    return services().blobs


def authenticate(username: str, password: str) -> auth.User:
    """Check a login posted by this request's client: throttled per address and account,
    the hash computed outside any transaction (core/auth.py ``authenticate``). Behind a
    reverse proxy the address is the client's only if TRUSTED_PROXIES says so."""
    return auth.authenticate(session(), services().db.reader, username, password,
                             address=request.remote_addr or "",
                             policy=throttle.Policy.from_settings(settings()))


# The deepest row a list may be paged to. Search engines size their top-k heap by
# offset + limit (tantivy asks for 16 bytes a row up front: a page number of a few billion
# aborts the whole process), and a database skips every row before the offset.
MAX_OFFSET = 1_000_000


@dataclass
class Page:
    number: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page


def page_args(args, *, default_per_page: int = 20, max_per_page: int = 100) -> Page:
    number = int_arg(args, "page", 1)
    per_page = int_arg(args, "per_page", default_per_page)
    if number < 1:
        raise ValidationFailed("Số trang phải từ 1 trở lên.", field="page")
    if not 1 <= per_page <= max_per_page:
        raise ValidationFailed(f"Số dòng mỗi trang phải từ 1 đến {max_per_page}.", field="per_page")
    if (number - 1) * per_page > MAX_OFFSET:
        raise ValidationFailed(f"Số trang tối đa là {MAX_OFFSET // per_page + 1}.", field="page")
    return Page(number, per_page)


def int_arg(args, name: str, default: int | None = None) -> int | None:
    value = parse_int(args.get(name), name)
    return default if value is None else value


def upload_limit() -> int:
    return settings().max_upload_mb * 1024 * 1024


def read_upload_bytes(field: str = "file", max_bytes: int | None = None) -> tuple[bytes, str]:
    """The uploaded bytes (at most one byte over ``max_bytes``, the upload limit by
    default, so the caller can tell) and the original file name; a missing file is a
    clear error."""
    upload = request.files.get(field)
    if upload is None or not upload.filename and not upload.content_length:
        raise ValidationFailed("Vui lòng chọn tệp.", field=field)
    limit = upload_limit() if max_bytes is None else max_bytes
    return upload.stream.read(limit + 1), upload.filename or "tai-lieu"


def read_upload(field: str = "file", *, accept_docx: bool = False) -> tuple[CheckedPdf, str]:
    """The uploaded PDF, checked (type, size, integrity), with its original file name.
    With ``accept_docx`` a Word file is converted to PDF first (drafts only)."""
    data, filename = read_upload_bytes(field)
    if accept_docx and len(data) <= upload_limit() and convert.is_docx(data):
        data = convert.docx_to_pdf(data)
        filename = filename.rsplit(".", 1)[0] + ".pdf"
    return check_pdf(data, max_bytes=upload_limit()), filename


def read_attachments(field: str = "attachments") -> list[tuple[CheckedPdf, str]]:
    """Every non-empty file sent under ``field`` (a multiple file input), checked as PDFs."""
    checked = []
    for upload in request.files.getlist(field):
        if not upload.filename:
            continue
        data = upload.stream.read(upload_limit() + 1)
        checked.append((check_pdf(data, max_bytes=upload_limit()), upload.filename))
    return checked


def pdf_response(stored, notation: str | None, fallback: str, *, inline: bool = False):
    """A stored PDF, byte for byte, with an ETag (files never change).

    Always ``application/pdf`` under a ``.pdf`` name made from the document's notation
    (``fallback`` when it has none), never the uploader's file name: a file that was HTML
    with a PDF appended passes the PDF checks, and saved as ``hoa-don.html`` a browser
    would open it as a page of ours. ``inline`` only for our own viewer links; anything
    else is an attachment."""
    response = send_file(blobs().path(stored.sha256), mimetype="application/pdf",
                         conditional=True, etag=stored.sha256)
    response.headers["Content-Disposition"] = content_disposition(
        pdf_filename(notation, fallback), inline=inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def pdf_filename(notation: str | None, fallback: str) -> str:
    """``02/QĐ-VP`` -> ``02-QĐ-VP.pdf``: letters, digits, ``-._`` only, no leading dot."""
    return f"{_slug(notation or '') or _slug(fallback) or 'van-ban'}.pdf"


def _slug(text: str) -> str:
    kept = "".join(ch if ch.isalnum() or ch in "-_" else "-"
                   for ch in unicodedata.normalize("NFC", text))
    return "-".join(part for part in kept.split("-") if part)[:100]


def ascii_fold(text: str) -> str:
    """Vietnamese without diacritics (Đ -> D, ệ -> e), for headers that must be ASCII."""
    text = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    return text.encode("ascii", "ignore").decode()


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``filename=`` folded to ASCII for old clients, ``filename*=`` (RFC 6266/5987) with
    the Vietnamese name for the rest."""
    plain = ascii_fold(filename).replace('"', "").replace("\\", "") or "tai-lieu"
    disposition = "inline" if inline else "attachment"
    return (f'{disposition}; filename="{plain}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}")


def page_image_response(stored, number: int, marks=None):
    """A preview image of one page, rendered once and cached; with ``marks`` (words found
    by a search), rendered with them highlighted and not cached."""
    with guard_limits(services().db, stored):
        if marks is not None:
            body = marked_page_png(blobs(), stored.sha256, number,
                                   settings().preview_width_px, marks)
            return Response(body, mimetype="image/png",
                            headers={"Cache-Control": "private, max-age=3600"})
        path = page_png(blobs(), services().data_dir / "cache" / "previews", stored.sha256,
                        number, settings().preview_width_px)
    response = send_file(path, mimetype="image/png", max_age=86400)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def file_download(body: bytes, filename: str, mimetype: str):
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": content_disposition(filename)})
