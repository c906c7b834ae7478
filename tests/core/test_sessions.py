"""Issue 11, sessions: a captured session or remember cookie is refused once its session
has ended — by logout, a password change, deactivation or an administrator's "log out
everywhere" — and API tokens end with them; each login makes new cookies."""
from datetime import timedelta

from sqlalchemy import event, select

from docmgr.core import auth as accounts
from docmgr.core import clock, signin
from docmgr.core.sessions import UserSession
from tests.conftest import PASSWORD
from tests.core.signin_helpers import (
    capture,
    log_in,
    log_out,
    post_form,
    replay,
    signed_in,
)

NEW_PASSWORD = "con-duong-den-truong-2026"


def _bearer(app, username, password=PASSWORD):
    token = app.test_client().post("/api/v1/auth/token", json={
        "username": username, "password": password}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def _api_works(app, headers) -> bool:
    return app.test_client().get("/api/v1/me", headers=headers).status_code == 200


def _rows(db, username):
    with db.transaction() as s:
        user_id = s.scalar(select(accounts.User.id).where(accounts.User.username == username))
        return s.scalars(select(UserSession).where(UserSession.user_id == user_id)).all()


# --- the probe's reproduction: capture, log out, replay -----------------------------------

def test_cookies_captured_before_logout_are_refused_after_it(app, world):
    browser = log_in(app, "clerk", remember=True)
    stolen = capture(browser)
    assert stolen.session and stolen.remember
    assert replay(app, session=stolen.session) and replay(app, remember=stolen.remember)

    log_out(browser)
    assert not signed_in(browser)
    assert not replay(app, session=stolen.session)
    assert not replay(app, remember=stolen.remember)
    assert not replay(app, session=stolen.session, remember=stolen.remember)


def test_a_dead_remember_cookie_is_deleted_from_the_browser(app, world):
    browser = log_in(app, "clerk", remember=True)
    stolen = capture(browser)
    log_out(browser)
    stranger = app.test_client()
    stranger.set_cookie("remember_token", stolen.remember)
    response = stranger.get("/")
    assert response.status_code == 302
    assert any(h.startswith("remember_token=;") for h in response.headers.getlist("Set-Cookie"))


def test_each_login_has_new_cookies_and_keeps_nothing_from_before(app, db, world):
    browser = app.test_client()
    with browser.session_transaction() as planted:
        planted["planted"] = "by someone else"
        planted["_user_id"] = str(world.users["leader"].id)
    log_in(app, "clerk", remember=True, client=browser)
    first = capture(browser)
    with browser.session_transaction() as kept:
        assert "planted" not in kept
        token = kept["_user_id"]
    # The cookies carry a random token, not the user id.
    assert token != str(world.users["clerk"].id) and len(token) >= 40
    assert not first.remember.startswith(f"{world.users['clerk'].id}|")

    second = capture(log_in(app, "clerk", remember=True))
    assert (second.session, second.remember) != (first.session, first.remember)
    assert second.remember != first.remember
    # Only digests are stored.
    assert token not in {row.token_hash for row in _rows(db, "clerk")}


def test_a_remembered_browser_stays_signed_in_after_a_restart(app, world):
    browser = log_in(app, "clerk", remember=True)
    browser.delete_cookie("session")  # closed and opened again
    assert signed_in(browser) and signed_in(browser) and signed_in(browser)
    assert capture(browser).remember


def test_a_login_without_remember_drops_an_earlier_remember_cookie(app, world):
    browser = log_in(app, "clerk", remember=True)
    browser.delete_cookie("session")  # the browser was closed: only the remember cookie left
    assert signed_in(browser)
    log_out(browser)
    log_in(app, "clerk", client=browser)
    assert capture(browser).remember is None


# --- password change, deactivation, "log out everywhere" ----------------------------------

def test_password_change_ends_the_other_sessions_and_the_tokens(app, db, world):
    here = log_in(app, "clerk")
    before = capture(here)
    elsewhere = capture(log_in(app, "clerk", remember=True))
    token = _bearer(app, "clerk")

    response = post_form(here, "/account/password", "/account/password",
                         current_password=PASSWORD, new_password=NEW_PASSWORD,
                         confirm_password=NEW_PASSWORD)
    assert response.status_code == 302
    assert signed_in(here)  # the current browser goes on...
    assert capture(here).session != before.session  # ...under a new token
    assert not replay(app, session=before.session)
    assert not replay(app, session=elsewhere.session)
    assert not replay(app, remember=elsewhere.remember)
    assert not _api_works(app, token)
    assert [r.revoked_at is None for r in _rows(db, "clerk")] == [True]


def test_deactivation_ends_everything_and_activation_does_not_revive_it(app, world):
    victim = log_in(app, "clerk", remember=True)
    stolen = capture(victim)
    token = _bearer(app, "clerk")
    admin = log_in(app, "admin")
    user_id = world.users["clerk"].id

    r = post_form(admin, f"/admin/users/{user_id}/deactivate", "/admin/users/")
    assert r.status_code == 302
    assert not signed_in(victim)
    assert not replay(app, session=stolen.session) and not replay(app, remember=stolen.remember)
    assert not _api_works(app, token)
    refused = app.test_client().post("/api/v1/auth/token",
                                     json={"username": "clerk", "password": PASSWORD})
    assert refused.status_code == 401

    r = post_form(admin, f"/admin/users/{user_id}/activate", "/admin/users/")
    assert r.status_code == 302
    assert not replay(app, session=stolen.session) and not _api_works(app, token)
    assert signed_in(log_in(app, "clerk"))


def test_admin_log_out_everywhere(app, world):
    victim = log_in(app, "head", remember=True)
    stolen = capture(victim)
    phone = log_in(app, "head")
    token = _bearer(app, "head")
    admin = log_in(app, "admin")
    r = post_form(admin, f"/admin/users/{world.users['head'].id}/logout-all", "/admin/users/")
    assert r.status_code == 302
    page = admin.get("/admin/users/").data.decode()
    assert "Đã đăng xuất Lê Thị Hoa khỏi mọi nơi (2 phiên đăng nhập, 1 mã API)." in page
    assert not signed_in(victim) and not signed_in(phone)
    assert not replay(app, session=stolen.session) and not replay(app, remember=stolen.remember)
    assert not _api_works(app, token)
    assert signed_in(admin)


def test_api_log_out_everywhere_for_oneself(app, world):
    browser = log_in(app, "specialist", remember=True)
    stolen = capture(browser)
    first, second = _bearer(app, "specialist"), _bearer(app, "specialist")
    r = app.test_client().post("/api/v1/auth/logout-all", headers=first)
    assert r.status_code == 200 and r.json == {"sessions_ended": 1, "tokens_revoked": 2}
    assert not _api_works(app, first) and not _api_works(app, second)
    assert not replay(app, session=stolen.session) and not replay(app, remember=stolen.remember)


def test_page_log_out_everywhere_for_oneself(app, world):
    here = log_in(app, "specialist")
    elsewhere = capture(log_in(app, "specialist", remember=True))
    token = _bearer(app, "specialist")
    r = post_form(here, "/account/logout-all", "/account/password")
    assert r.status_code == 302 and r.location.endswith("/login")
    assert not signed_in(here)
    assert not replay(app, session=elsewhere.session)
    assert not replay(app, remember=elsewhere.remember)
    assert not _api_works(app, token)


def test_api_password_change_returns_a_new_token_and_ends_the_rest(app, world):
    old = _bearer(app, "leader")
    browser = capture(log_in(app, "leader", remember=True))
    r = app.test_client().post("/api/v1/auth/password", headers=old, json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 200
    assert not _api_works(app, old)
    assert _api_works(app, {"Authorization": f"Bearer {r.json['token']}"})
    assert not replay(app, session=browser.session) and not replay(app, remember=browser.remember)
    assert app.test_client().post("/api/v1/auth/token", json={
        "username": "leader", "password": PASSWORD}).status_code == 401
    assert _api_works(app, _bearer(app, "leader", NEW_PASSWORD))


# --- lifetimes --------------------------------------------------------------------------

def _age(db, username, **delta):
    with db.transaction() as s:
        for row in s.scalars(select(UserSession).join(accounts.User).where(
                accounts.User.username == username)):
            row.last_seen_at -= timedelta(**delta)
            row.created_at -= timedelta(**delta)


def test_an_idle_session_ends_but_a_remembered_one_does_not(app, db, world):
    plain = log_in(app, "clerk")
    remembered = log_in(app, "leader", remember=True)
    idle = app.extensions["docmgr"].settings.session_idle_minutes
    _age(db, "clerk", minutes=idle + 1)
    _age(db, "leader", minutes=idle + 1)
    assert not signed_in(plain)
    assert signed_in(remembered)


def test_a_session_ends_at_its_absolute_lifetime(app, db, world):
    browser = log_in(app, "leader", remember=True)
    with db.transaction() as s:
        for row in s.scalars(select(UserSession)):
            row.expires_at = clock.now() - timedelta(seconds=1)
    assert not signed_in(browser)


def test_lifetimes_come_from_the_settings(app, db, world):
    log_in(app, "clerk")
    log_in(app, "leader", remember=True)
    cfg = app.extensions["docmgr"].settings
    (plain,), (remembered,) = _rows(db, "clerk"), _rows(db, "leader")
    assert plain.expires_at - plain.created_at == timedelta(hours=cfg.session_max_hours)
    assert remembered.expires_at - remembered.created_at == timedelta(days=cfg.session_max_days)


def test_last_seen_is_written_at_most_every_few_minutes(app, db, world):
    browser = log_in(app, "clerk")
    (row,) = _rows(db, "clerk")
    assert signed_in(browser)
    (same,) = _rows(db, "clerk")
    assert same.last_seen_at == row.last_seen_at  # fresh enough: nothing written
    _age(db, "clerk", minutes=6)
    assert signed_in(browser)  # a GET: written in a transaction of its own
    (touched,) = _rows(db, "clerk")
    assert touched.last_seen_at > row.last_seen_at


def test_the_loader_is_one_query(app, db, world):
    browser = log_in(app, "clerk")
    with browser.session_transaction() as cookie:
        token = cookie["_user_id"]
    statements = []

    def count(*_args):
        statements.append(_args[2])
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with app.test_request_context("/"):
            user = signin.load_user(token)
            assert user.username == "clerk" and user.org.abbr == "VP"
            assert user.unit.abbr == "HC"  # joined in the same query
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    queries = [s for s in statements if s.strip().upper() != "BEGIN"]  # SQLite says BEGIN
    assert len(queries) == 1, statements
    assert "user_sessions" in queries[0] and "token_hash" in queries[0]


def test_sessions_of_other_users_and_ended_ones_are_cleared_at_login(app, db, world):
    for _ in range(3):
        log_out(log_in(app, "clerk"))
    log_in(app, "leader")
    log_in(app, "clerk")
    assert len(_rows(db, "clerk")) == 1  # the three ended ones were removed
    assert len(_rows(db, "leader")) == 1
