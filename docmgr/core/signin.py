"""A browser signed in and out, on top of the server-side sessions of core/sessions.py.

Flask-Login keeps the user's "id" in the Flask session cookie and, when asked to remember,
in its remember cookie (``id|HMAC``). Here that id is the session's random token
(``User.get_id``), never the user id: the user loader finds the session by the token's
digest and refuses one that has ended, so both cookies die with their session, and each
login makes new ones. Signing in also empties the Flask session, so nothing a visitor
carried before the login (a planted value, an old token) survives it.

``sign_in`` and ``sign_out`` only write the session row; the cookies change once the
request's transaction is committed (core/transaction.py ``after_commit``), so a failed
commit leaves the browser as it was.
"""
import logging

from flask import current_app, flash, redirect, request, url_for
from flask import session as cookie_session
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from docmgr.core import clock, sessions
from docmgr.core.auth import User
from docmgr.core.transaction import READ_ONLY_METHODS, after_commit
from docmgr.core.web import services, session, settings

log = logging.getLogger(__name__)


def lifetimes() -> sessions.Lifetimes:
    return sessions.Lifetimes.of(settings())


def _remember_cookie_name() -> str:
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")


def load_user(token: str) -> User | None:
    """Flask-Login's user loader: the user of the live session ``token`` names."""
    now = clock.now()
    row = sessions.find(session(), token, lifetimes(), now)
    if row is None:
        _forget_dead_token()
        return None
    if sessions.due_for_touch(row, lifetimes(), now):
        _touch(row, now)
    user = row.user
    user.web_session, user.session_token = row, token
    return user


def restored_from_remember_cookie(_app, user: User) -> None:
    """A browser came back with only its remember cookie: sign it in as at a login (not
    "fresh"). Flask-Login leaves the session's identifier unset then, and with
    ``session_protection = "strong"`` the very next request would find it missing and
    throw the user out, remember cookie and all."""
    login_user(user, fresh=False)


def _forget_dead_token() -> None:
    # The browser stops sending a token that will never work again: the next request
    # costs no query, and Flask-Login does not fall back to the (equally dead) remember
    # cookie of the same session.
    cookie_session.pop("_user_id", None)
    if _remember_cookie_name() in request.cookies:
        cookie_session["_remember"] = "clear"


def _touch(row: sessions.UserSession, now) -> None:
    """Record that the session is in use, for the idle limit. A write request does it in
    its own transaction (kept if the request succeeds); a read never writes in its
    transaction, so there it is a short one of its own, at most every few minutes."""
    if request.method not in READ_ONLY_METHODS:
        row.last_seen_at = now
        return
    try:
        with services().db.transaction() as own:
            sessions.touch(own, row.id, now)
    except SQLAlchemyError:  # the page still works; the next request tries again
        log.warning("could not record the use of session %s", row.id, exc_info=True)


def sign_in(db, user: User, *, remember: bool) -> None:
    """Open a new session for ``user`` and, once committed, give this browser its cookies
    (and nothing else of what its Flask session held)."""
    limits = lifetimes()
    token = sessions.open_session(
        db, user, remember=remember, lifetimes=limits, now=clock.now(),
        user_agent=request.user_agent.string, ip=request.remote_addr or "")
    user.session_token = token

    def give_cookies():
        had_remember_cookie = _remember_cookie_name() in request.cookies
        cookie_session.clear()
        login_user(user, remember=remember, duration=limits.remembered if remember else None)
        if not remember and had_remember_cookie:  # an earlier login's, on this machine
            cookie_session["_remember"] = "clear"
    after_commit(give_cookies)


def sign_out(user: User) -> None:
    """End the session this browser is signed in with and, once committed, its cookies."""
    if user.web_session is not None:
        sessions.revoke(user.web_session, clock.now())
    after_commit(forget_browser)


def forget_browser() -> None:
    cookie_session.clear()
    logout_user()  # also deletes the remember cookie


# --- a password reset by an administrator -------------------------------------------------

def open_before_password_change(view):
    """Mark a page or API endpoint a user whose password was reset may still use: what it
    takes to change the password (and to leave)."""
    view.open_before_password_change = True
    return view


def password_change_pending(user: User) -> bool:
    """Whether ``user`` must change the password before this request may go on."""
    view = current_app.view_functions.get(request.endpoint)
    return user.must_change_password and not getattr(view, "open_before_password_change",
                                                     False)


def require_password_change():
    """Before every page: after a reset, any page but the change form sends there. The
    API answers for itself (core/api.py: 403 ``password_change_required``)."""
    if request.endpoint in (None, "static") or "api" in request.blueprints:
        return None
    if current_user.is_authenticated and password_change_pending(current_user):
        flash("Mật khẩu của bạn đã được quản trị đặt lại: hãy đổi mật khẩu để tiếp tục.",
              "warning")
        return redirect(url_for("account.change_password"))
    return None
