"""Request plumbing shared by every slice's views and API: the request's session,
the blob store, pagination, and parsing helpers."""
from dataclasses import dataclass
from flask import current_app, g, request

from docmgr.core.uploads import CheckedPdf, check_pdf

from docmgr.core.errors import ValidationFailed
from docmgr.core.values import parse_int


def services():
    return current_app.extensions["docmgr"]


def session():
    """The request's session: one transaction, read-only (deferred on SQLite) for GET."""
    if "db_session" not in g:
        readonly = request.method in ("GET", "HEAD", "OPTIONS")
        db = services().db
        g.db_session = (db.reader if readonly else db.writer)()
    return g.db_session


def commit():
    session().commit()


def close_session(exc=None):
    sess = g.pop("db_session", None)
    if sess is not None:
        if exc is not None or sess.in_transaction():
            sess.rollback()
        sess.close()


def blobs():
    return services().blobs


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
    return Page(number, per_page)


def int_arg(args, name: str, default: int | None = None) -> int | None:
    value = parse_int(args.get(name), name)
    return default if value is None else value


def read_upload(field: str = "file") -> tuple[CheckedPdf, str]:
    """The uploaded PDF, checked (type, size, integrity), with its original file name."""
    upload = request.files.get(field)
    if upload is None or not upload.filename and not upload.content_length:
        raise ValidationFailed("Vui lòng chọn tệp PDF.", field=field)
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    data = upload.stream.read(max_bytes + 1)
    return check_pdf(data, max_bytes=max_bytes), upload.filename or "van-ban.pdf"
