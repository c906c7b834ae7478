"""Signing in through the real login form, and replaying captured cookies from a browser
that never logged in (the probe's cookie-replay reproduction)."""
from dataclasses import dataclass

from tests.conftest import PASSWORD, csrf_from

SESSION_COOKIE, REMEMBER_COOKIE = "session", "remember_token"


@dataclass(frozen=True)
class Captured:
    session: str | None
    remember: str | None


def log_in(app, username: str, *, password: str = PASSWORD, remember: bool = False,
           client=None):
    client = client or app.test_client()
    form = {"username": username, "password": password,
            "csrf_token": csrf_from(client.get("/login").data)}
    if remember:
        form["remember"] = "y"
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.data
    return client


def capture(client) -> Captured:
    def value(name):
        cookie = client.get_cookie(name)
        return cookie.value if cookie else None
    return Captured(value(SESSION_COOKIE), value(REMEMBER_COOKIE))


def signed_in(client) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def replay(app, *, session: str | None = None, remember: str | None = None) -> bool:
    """Whether a fresh browser holding only these cookie values is let in."""
    stranger = app.test_client()
    if session:
        stranger.set_cookie(SESSION_COOKIE, session)
    if remember:
        stranger.set_cookie(REMEMBER_COOKIE, remember)
    return signed_in(stranger)


def post_form(client, url: str, page: str, **data):
    """Post a form of ``page`` with that page's CSRF token."""
    return client.post(url, data={"csrf_token": csrf_from(client.get(page).data), **data})


def log_out(client):
    response = post_form(client, "/logout", "/")
    assert response.status_code == 302 and response.location.endswith("/login")
