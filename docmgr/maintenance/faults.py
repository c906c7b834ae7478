"""What people see when the machine fails under them: a full disk, a database that cannot be
reached. A clear message in Vietnamese and a status a client can retry on (507, 503),
instead of a 500 and a traceback. Nothing is half-stored in either case: a failed request
rolls its transaction back (close_session) and the blob store never leaves a partial file
under a real name, so the message can promise that the action did not happen.

The API's catch-all ``Exception`` handler sits on its blueprint, and Flask prefers a
blueprint's handler for any base class over an application handler for the exact class,
so these handlers are registered on the API blueprint as well (``install_on_api``, while
web_app assembles that blueprint, before any application registers it).
"""
import errno
import logging

from flask import current_app, g, jsonify, render_template
from markupsafe import escape
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from docmgr.core.api import is_api_request

log = logging.getLogger(__name__)

DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
STORAGE_ERRNOS = {errno.EROFS, errno.EIO}
PG_DISK_FULL = "53100"  # SQLSTATE disk_full

DISK_FULL = ("Máy chủ đã hết dung lượng lưu trữ; thao tác chưa được thực hiện và không có gì "
             "được lưu. Hãy báo quản trị hệ thống giải phóng dung lượng rồi thử lại.")
STORAGE_FAILED = ("Kho lưu trữ tệp đang gặp lỗi (không ghi được); thao tác chưa được thực hiện "
                  "và không có gì được lưu. Hãy báo quản trị hệ thống.")
DB_UNAVAILABLE = ("Không kết nối được cơ sở dữ liệu; thao tác chưa được thực hiện. Hệ thống sẽ "
                  "hoạt động lại khi cơ sở dữ liệu sẵn sàng, hãy thử lại sau ít phút.")
DB_BUSY = ("Cơ sở dữ liệu đang bận; thao tác chưa được thực hiện, hãy thử lại sau giây lát.")
INTERNAL = "Lỗi hệ thống; thao tác chưa được thực hiện."

TITLES = {503: "Hệ thống tạm thời không phục vụ được", 507: "Hết dung lượng lưu trữ",
          500: "Lỗi hệ thống"}


def classify_os_error(exc: OSError) -> tuple[int, str, str] | None:
    """(status, code, message) for a storage failure, None for any other OSError."""
    if exc.errno in DISK_FULL_ERRNOS:
        return 507, "storage_full", DISK_FULL
    if exc.errno in STORAGE_ERRNOS:
        return 503, "storage_unavailable", STORAGE_FAILED
    return None


def classify_db_error(exc: Exception) -> tuple[int, str, str]:
    original = getattr(exc, "orig", None)
    text = str(original or exc).lower()
    if getattr(original, "sqlstate", None) == PG_DISK_FULL or "disk is full" in text:
        return 507, "storage_full", DISK_FULL
    if "database is locked" in text or isinstance(exc, PoolTimeout):
        return 503, "database_busy", DB_BUSY
    return 503, "database_unavailable", DB_UNAVAILABLE


def _discard_session() -> None:
    """Roll back the request's transaction now; a dead connection may refuse even that."""
    db_session = g.pop("db_session", None)
    if db_session is None:
        return
    try:
        db_session.rollback()
        db_session.close()
    except Exception:  # the connection is gone: the server rolls back for us
        log.debug("rollback after a fault failed", exc_info=True)




def _respond(status: int, code: str, message: str):
    retry = {"Retry-After": "30"} if status == 503 else {}
    if is_api_request():
        return jsonify({"error": {"code": code, "message": message}}), status, retry
    try:
        # The regular page needs the user from the database; when that is what failed,
        # the bare page below still says what happened.
        if code.startswith("database"):
            raise RuntimeError("no database")
        body = render_template("error.html", title=TITLES[status], message=message)
    except Exception:  # noqa: BLE001 — the page must answer even when templates cannot
        body = (f'<!doctype html><html lang="vi"><meta charset="utf-8">'
                f"<title>{escape(TITLES[status])}</title><h1>{escape(TITLES[status])}</h1>"
                f"<p>{escape(message)}</p></html>")
    return body, status, {**retry, "Content-Type": "text/html; charset=utf-8"}


def database_error(exc: Exception):
    _discard_session()
    status, code, message = classify_db_error(exc)
    current_app.logger.error("database unavailable: %s", exc)
    return _respond(status, code, message)


def os_error(exc: OSError):
    _discard_session()
    found = classify_os_error(exc)
    if found is None:
        # Not a storage fault (e.g. a blob missing from the store): an internal error, logged
        # with its traceback, as the API's catch-all would have answered.
        current_app.logger.exception("unexpected OS error")
        return _respond(500, "internal_error", INTERNAL)
    current_app.logger.error("storage failure: %s", exc)
    return _respond(*found)


HANDLED = ((OperationalError, database_error), (InterfaceError, database_error),
           (PoolTimeout, database_error), (OSError, os_error))


def install_on_api(api) -> None:
    """The same answers inside the API blueprint, whose catch-all handler would win otherwise."""
    for exc_class, handler in HANDLED:
        api.register_error_handler(exc_class, handler)


def install(app) -> None:
    """The same answers for the browser pages."""
    for exc_class, handler in HANDLED:
        app.register_error_handler(exc_class, handler)
