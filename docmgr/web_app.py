"""The web side of an application: blueprints, the JSON API, login, template helpers, error
pages. ``install`` is called by the factory for each application; importing this module
changes nothing.
"""
from datetime import datetime
from functools import cache

from flask import Blueprint, Flask, render_template, request
from flask_login import user_loaded_from_cookie
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from docmgr.core import catalogue, clock, limits, signin, transaction
from docmgr.core.account_api import bp as account_api
from docmgr.core.account_views import bp as account_views
from docmgr.core.admin_users import bp as admin_user_views
from docmgr.core.api import api, http_error_json, is_api_request
from docmgr.core.auth import ROLE_LABELS
from docmgr.core.errors import DomainError
from docmgr.core.views import bp as core_views
from docmgr.core.web import close_session, settings
from docmgr.extensions import csrf, login_manager
from docmgr.home import bp as home_views
from docmgr.inbound.api import bp as inbound_api
from docmgr.inbound.views import bp as inbound_views
from docmgr.maintenance import faults
from docmgr.models import TEMPLATE_GLOBALS
from docmgr.outbound.api import bp as outbound_api
from docmgr.outbound.views import bp as outbound_views
from docmgr.records.api import bp as records_api
from docmgr.records.views import bp as records_views
from docmgr.reports.api import bp as reports_api
from docmgr.reports.views import bp as reports_views
from docmgr.search.api import bp as search_api
from docmgr.search.views import bp as search_views
from docmgr.signing.api import bp as signing_api
from docmgr.signing.validation import VERDICT_LABELS
from docmgr.signing.views import bp as signing_views

PAGES = (core_views, account_views, admin_user_views, home_views, inbound_views,
         outbound_views, signing_views, search_views, records_views, reports_views)
API_SLICES = (account_api, inbound_api, outbound_api, signing_api, search_api, records_api,
              reports_api)


def install(app: Flask) -> None:
    limits.install(app)  # bounded <int:...> ids, JSON body size; before any rule is added
    proxies = app.extensions["docmgr"].settings.trusted_proxies
    if proxies:
        # The client's address (login throttling, audit) from X-Forwarded-For, believed
        # only from the proxies in front; without them anyone could pick an address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.register_blueprint(api_blueprint())
    for blueprint in PAGES:
        app.register_blueprint(blueprint)
    app.teardown_appcontext(close_session)

    login_manager.login_view = "core.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"
    login_manager.user_loader(signin.load_user)  # a server-side session per login
    user_loaded_from_cookie.connect(signin.restored_from_remember_cookie, app)
    app.before_request(signin.require_password_change)

    app.jinja_env.globals.update(
        catalogue=catalogue, ROLE_LABELS=ROLE_LABELS, today=clock.today, local=clock.local,
        **TEMPLATE_GLOBALS)
    app.jinja_env.filters["vndate"] = lambda d: d.strftime("%d/%m/%Y") if d else ""
    app.jinja_env.filters["vntime"] = (
        lambda t: clock.local(t).strftime("%d/%m/%Y %H:%M") if t else "")
    app.jinja_env.filters["isotime"] = _isotime
    app.jinja_env.globals["signature_verdicts"] = VERDICT_LABELS
    app.after_request(_security_headers)
    transaction.install(app, error_page=_domain_error_page)  # commit/rollback, refusals
    faults.install(app)  # disk full, database unreachable: 507/503 with a clear message
    for status in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(status, _http_error_page)


@cache
def api_blueprint() -> Blueprint:
    """``/api/v1``: the API blueprint with every slice's API nested in it, assembled once.

    A blueprint belongs to no application, and Flask refuses any change to it once an
    application has registered it. So the tree is put together the first time an
    application is made and every later one (the tests make one per test) registers the
    same tree; nesting again per application would add each slice twice.
    """
    for slice_api in API_SLICES:
        api.register_blueprint(slice_api)
    faults.install_on_api(api)
    # The API authenticates by bearer token only, never by cookie: no CSRF token needed there.
    for blueprint in (api, *API_SLICES):
        csrf.exempt(blueprint)
    return api


ERROR_TITLES = {400: "Yêu cầu không hợp lệ", 403: "Không có quyền truy cập",
                404: "Không tìm thấy", 405: "Thao tác không được hỗ trợ", 409: "Xung đột dữ liệu",
                413: "Tệp quá lớn"}


def _domain_error_page(exc: DomainError):
    return render_template("error.html", title=ERROR_TITLES.get(exc.status, "Lỗi"),
                           message=exc.message), exc.status


def _http_error_page(exc: HTTPException):
    if is_api_request():
        return http_error_json(exc)  # app-wide status handlers win over blueprint ones
    if exc.code == 500:
        return exc  # Flask's own page: rendering ours could fail the same way again
    messages = {400: "Yêu cầu không hợp lệ hoặc phiên làm việc đã hết hạn; hãy tải lại trang.",
                403: "Bạn không có quyền mở trang này.",
                404: "Trang hoặc văn bản không tồn tại, hoặc bạn không có quyền xem.",
                405: "Thao tác không được hỗ trợ.",
                413: "Tệp tải lên vượt quá giới hạn cho phép."}
    return render_template("error.html", title=ERROR_TITLES[exc.code],
                           message=messages[exc.code]), exc.code


def _isotime(value) -> str:
    """An ISO 8601 timestamp from a stored report, shown in local time."""
    try:
        return clock.local(datetime.fromisoformat(value)).strftime("%d/%m/%Y %H:%M:%S")
    except (TypeError, ValueError):
        return value or ""


HSTS_MAX_AGE = 31536000  # one year: browsers keep to HTTPS once they have seen it


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'none'")
    if settings().secure_cookies:  # served over HTTPS (the same switch as Secure cookies)
        response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}")
    # Pages, exports and files hold official documents: no copy in any cache (a shared
    # computer's browser, a proxy). Only what declares itself private (page previews)
    # and the static assets may be kept.
    if request.endpoint != "static" and not response.cache_control.private:
        response.headers["Cache-Control"] = "no-store"
    return response
