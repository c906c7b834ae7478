"""The JSON API's plumbing (bearer tokens, errors, lists) and its shared endpoints.

Only bearer tokens authenticate here — never the browser's session cookie — so
the API needs no CSRF token and a forged cross-site form cannot reach it.
"""
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from docmgr.core import audit, catalogue, transaction
from docmgr.core.auth import (
    Organization,
    Unit,
    User,
    issue_token,
    revoke_token,
    user_for_token,
)
from docmgr.core.errors import DomainError, Forbidden
from docmgr.core.signin import open_before_password_change, password_change_pending
from docmgr.core.web import authenticate, int_arg, page_args, session, settings

api = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC = {"api.create_token"}

HTTP_MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Cần đăng nhập (Authorization: Bearer <token>).",
    403: "Bạn không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy.",
    405: "Phương thức không được hỗ trợ.",
    413: "Dữ liệu gửi lên (tệp hoặc nội dung JSON) vượt quá giới hạn cho phép.",
    500: "Lỗi hệ thống; thao tác chưa được thực hiện.",
}
PASSWORD_CHANGE_REQUIRED = ("Mật khẩu đã được quản trị đặt lại: hãy đổi mật khẩu "
                            "(POST /api/v1/auth/password) trước khi tiếp tục.")


def is_api_request() -> bool:
    """Whether the answer must be JSON: decided by the path, since an unknown route (404)
    or a wrong method (405) under /api/ matched no rule and so has no blueprint."""
    return request.path == "/api" or request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, field: str | None = None, **extra):
    body = {"code": code, "message": message, **extra}
    if field:
        body["field"] = field
    return jsonify({"error": body}), status


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@api.before_request
def _authenticate():
    if request.endpoint in PUBLIC:
        return None
    token = _bearer_token()
    user = user_for_token(session(), token) if token else None
    if user is None:
        return error_response(401, "unauthorized", HTTP_MESSAGES[401])
    if password_change_pending(user):
        return error_response(403, "password_change_required", PASSWORD_CHANGE_REQUIRED)
    g.api_user = user
    return None


def current_user() -> User:
    return g.api_user


def roles(*allowed):
    """Declare who may call an endpoint; anyone else gets 403."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user().role not in allowed:
                raise Forbidden(HTTP_MESSAGES[403])
            return view(*args, **kwargs)
        wrapper.allowed_roles = allowed
        return wrapper
    return decorate


@api.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    transaction.refused(exc)
    return jsonify({"error": exc.to_dict()}), exc.status, exc.headers()


@api.errorhandler(HTTPException)
def http_error_json(exc: HTTPException):
    status = exc.code or 500
    body, status = error_response(status, exc.name.lower().replace(" ", "_"),
                                  HTTP_MESSAGES.get(status, exc.description))
    # A 405 names the methods the resource does take.
    allowed = getattr(exc, "valid_methods", None)
    return body, status, {"Allow": ", ".join(allowed)} if allowed else {}


@api.errorhandler(Exception)
def _unexpected(exc: Exception):
    current_app.logger.exception("API error")
    return error_response(500, "internal_error", "Lỗi hệ thống; thao tác chưa được thực hiện.")


def listing(total: int, page, items: list[dict]):
    return jsonify({"total": total, "page": page.number, "per_page": page.per_page,
                    "items": items})


def json_body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


# --- endpoints ------------------------------------------------------------------------------

@api.post("/auth/token")
def create_token():
    body = json_body()
    # A refusal (LoginRefused, 401) keeps the failure count: see core/transaction.py;
    # too many failures from the address or for the account: 429 with Retry-After.
    user = authenticate(str(body.get("username", "")), str(body.get("password", "")))
    token = issue_token(session(), user, settings().token_ttl_days)
    audit.record(session(), "auth.token_issued", actor=user)
    return jsonify({"token": token}), 200


@api.delete("/auth/token")
@open_before_password_change
def delete_token():
    """Revoke the token this request was made with."""
    revoke_token(session(), _bearer_token())
    audit.record(session(), "auth.token_revoked", actor=current_user())
    return "", 204


@api.get("/me")
@open_before_password_change
def me():
    user = current_user()
    return jsonify({**user.to_dict(), "org_name": user.org.name,
                    "unit_abbr": user.unit.abbr if user.unit else None,
                    "must_change_password": user.must_change_password})


@api.get("/users")
def users():
    actor = current_user()
    page = page_args(request.args)
    stmt = select(User).where(User.org_id == actor.org_id, User.active)
    if request.args.get("username"):
        stmt = stmt.where(User.username == request.args["username"])
    if request.args.get("role"):
        stmt = stmt.where(User.role == request.args["role"])
    unit_id = int_arg(request.args, "unit_id")
    if unit_id is not None:
        stmt = stmt.where(User.unit_id == unit_id)
    total = session().scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session().scalars(stmt.order_by(User.full_name, User.id)
                             .offset(page.offset).limit(page.per_page))
    return listing(total, page, [u.to_dict() for u in rows])


@api.get("/units")
def units():
    rows = session().scalars(select(Unit).where(Unit.org_id == current_user().org_id)
                             .order_by(Unit.name)).all()
    return jsonify({"total": len(rows), "page": 1, "per_page": len(rows),
                    "items": [{"id": u.id, "name": u.name, "abbr": u.abbr} for u in rows]})


@api.get("/orgs")
def orgs():
    rows = session().scalars(select(Organization).order_by(Organization.name)).all()
    return jsonify({"total": len(rows), "page": 1, "per_page": len(rows),
                    "items": [{"code": o.code, "name": o.name, "abbr": o.abbr} for o in rows]})


@api.get("/catalogue")
def catalogue_view():
    return jsonify({"doc_types": catalogue.as_list(),
                    "urgency": catalogue.URGENCY, "secrecy": catalogue.SECRECY})
