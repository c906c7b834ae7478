"""The probe's cookie-replay reproduction (issue 11), against a running server.

    python -m tests.bench.cookie_replay --url http://127.0.0.1:5078 [--user vanthu]
        [--admin admin] [--password PASSWORD]

For each way a session should end — logout, a password change made in another browser,
deactivation by an administrator, an administrator's "log out everywhere" — a browser
signs in with "Ghi nhớ đăng nhập" and an API token is issued; their session cookie,
remember cookie and token are captured; the session is ended; then each is replayed alone
from a client that never logged in. "in" means the replay was let in (the defect), "refused"
that it was not. A server without the account pages reports those rows as "no such page".
The demo's accounts are used (``flask docmgr demo``); the password change is undone at the
end (changed back), and a deactivated account is activated again.
"""
import argparse
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

from docmgr.demo import PASSWORD

SESSION, REMEMBER = "session", "remember_token"
TEMPORARY = "tam-thoi-doi-mat-khau-2026"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, base: str, cookies: dict | None = None, token: str | None = None):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect)
        self.cookies, self.token = cookies or {}, token

    def request(self, method: str, path: str, form: dict | None = None,
                json_body: dict | None = None) -> tuple[int, bytes]:
        headers = {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if self.cookies:  # a replay: only the captured values, as a stranger would send them
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers=headers)
        try:
            with self.opener.open(req, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.read()

    def csrf(self, path: str) -> str:
        _, page = self.request("GET", path)
        return re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)[1].decode()

    def post_form(self, path: str, page: str, **form) -> int:
        return self.request("POST", path, {"csrf_token": self.csrf(page), **form})[0]

    def log_in(self, username: str, password: str, remember: bool = False) -> "Browser":
        form = {"username": username, "password": password, "csrf_token": self.csrf("/login")}
        if remember:
            form["remember"] = "y"
        status, _ = self.request("POST", "/login", form)
        assert status == 302, f"login of {username}: {status}"
        return self

    def captured(self) -> dict:
        return {c.name: c.value for c in self.jar if c.name in (SESSION, REMEMBER)}


def _token(base: str, username: str, password: str) -> str:
    status, body = Browser(base).request("POST", "/api/v1/auth/token",
                                         json_body={"username": username, "password": password})
    assert status == 200, body
    return json.loads(body)["token"]


def _verdict(status: int) -> str:
    return "in" if status == 200 else f"refused ({status})"


def _replays(base: str, cookies: dict, token: str | None) -> list[str]:
    """``token`` None: a logout ends the browser's session only, not the API tokens."""
    return [_verdict(Browser(base, cookies={SESSION: cookies[SESSION]}).request("GET", "/")[0]),
            _verdict(Browser(base, cookies={REMEMBER: cookies[REMEMBER]}).request("GET", "/")[0]),
            _verdict(Browser(base, token=token).request("GET", "/api/v1/me")[0])
            if token else "-"]


def _user_id(base: str, admin_token: str, username: str) -> int:
    _, body = Browser(base, token=admin_token).request("GET", f"/api/v1/users?username={username}")
    return json.loads(body)["items"][0]["id"]


def run(base: str, user: str, admin: str, password: str) -> list[tuple[str, list[str]]]:
    rows = []

    def scenario(name: str, end, *, ends_tokens: bool = True) -> None:
        victim = Browser(base).log_in(user, password, remember=True)
        cookies = victim.captured()
        token = _token(base, user, password) if ends_tokens else None
        assert set(cookies) == {SESSION, REMEMBER}, cookies
        ended = end(victim)
        rows.append((name, _replays(base, cookies, token) if ended else ["no such page"] * 3))

    scenario("logout", lambda victim: victim.post_form("/logout", "/") == 302,
             ends_tokens=False)

    def change_password(_victim):
        other = Browser(base).log_in(user, password)
        if other.request("GET", "/account/password")[0] == 404:
            return False
        status = other.post_form("/account/password", "/account/password",
                                 current_password=password, new_password=TEMPORARY,
                                 confirm_password=TEMPORARY)
        assert status == 302, status
        back = other.post_form("/account/password", "/account/password",
                               current_password=TEMPORARY, new_password=password,
                               confirm_password=password)
        assert back == 302, back
        return True
    scenario("password change elsewhere", change_password)

    def by_admin(action: str, undo: str | None = None):
        def end(_victim):
            chief = Browser(base).log_in(admin, password)
            if chief.request("GET", "/admin/users/")[0] == 404:
                return False
            user_id = _user_id(base, _token(base, admin, password), user)
            assert chief.post_form(f"/admin/users/{user_id}/{action}", "/admin/users/") == 302
            if undo:
                assert chief.post_form(f"/admin/users/{user_id}/{undo}", "/admin/users/") == 302
            return True
        return end
    scenario("deactivation (then activated again)", by_admin("deactivate", "activate"))
    scenario("admin: log out everywhere", by_admin("logout-all"))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", default="vanthu")
    parser.add_argument("--admin", default="admin")
    parser.add_argument("--password", default=PASSWORD)
    args = parser.parse_args(argv)
    rows = run(args.url, args.user, args.admin, args.password)
    first, second = (Browser(args.url).log_in(args.user, args.password, remember=True)
                     .captured()[REMEMBER] for _ in range(2))
    print(f"remember cookie of two logins: {'identical' if first == second else 'different'}"
          f" ({first[:24]}…)")
    print(f"{'session ended by':<38} {'session cookie':<16} {'remember cookie':<16} API token")
    for name, (session, remember, token) in rows:
        print(f"{name:<38} {session:<16} {remember:<16} {token}")


if __name__ == "__main__":
    main()
