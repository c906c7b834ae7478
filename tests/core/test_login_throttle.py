"""Login throttling (docmgr/core/throttle.py) and where the password is checked
(docmgr/core/auth.py ``authenticate``): progressive delays per address and account
answered 429 with Retry-After and no hashing, no lock-out a stranger can cause, failed
logins audited, and the slow hash run with no transaction open.

Time is the clock module's, moved by the tests (``frozen``): nobody sleeps."""
import sqlite3
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from docmgr.core import auth, clock, throttle
from docmgr.core.audit import SYSTEM_CHAIN, AuditEvent
from docmgr.core.auth import ApiToken, User
from docmgr.core.throttle import LoginThrottle
from tests.conftest import PASSWORD, csrf_from

ADDRESS_LIMIT = 8  # LOGIN_ADDRESS_MAX_FAILURES, below its default: fewer slow hashes to wait for
STRANGER = "203.0.113.66"
OFFICE = "10.0.0.7"
WRONG = "mat-khau-sai"


class FrozenClock:
    def __init__(self):
        self.now = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def app_config():
    return {"LOGIN_ADDRESS_MAX_FAILURES": ADDRESS_LIMIT}


@pytest.fixture
def frozen(monkeypatch):
    moment = FrozenClock()
    monkeypatch.setattr(clock, "now", lambda: moment.now)
    return moment


@pytest.fixture
def hashes(monkeypatch):
    """How many password hashes were computed (the real function still runs)."""
    calls = []
    real = auth.check_password_hash

    def counted(stored, password):
        calls.append(password)
        return real(stored, password)
    monkeypatch.setattr(auth, "check_password_hash", counted)
    return calls


def token(app, username, password, address="127.0.0.1", headers=None):
    return app.test_client().post("/api/v1/auth/token",
                                  json={"username": username, "password": password},
                                  environ_base={"REMOTE_ADDR": address}, headers=headers or {})


def form_login(app, username, password, address="127.0.0.1"):
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.data)},
                       environ_base=environ)


def fail_until_throttled(app, username, address, frozen, attempts):
    """A patient stranger: ``attempts`` wrong passwords that are really checked, waiting
    out every delay the server names."""
    for _ in range(attempts):
        r = token(app, username, WRONG, address)
        while r.status_code == 429:
            frozen.advance(int(r.headers["Retry-After"]))
            r = token(app, username, WRONG, address)
        assert r.status_code == 401


# --- 429 with Retry-After, progressive, without hashing -----------------------------------

def test_the_api_answers_429_with_retry_after_once_an_address_has_failed_too_often(
        app, world, frozen):
    for _ in range(5):  # LOGIN_MAX_FAILURES for one account from one address
        r = token(app, "leader", WRONG, STRANGER)
        assert r.status_code == 401 and r.json["error"]["code"] == "invalid_credentials"
    r = token(app, "leader", PASSWORD, STRANGER)  # even the right password waits
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    assert r.json["error"] == {"code": "too_many_attempts", "retry_after": 1,
                               "message": "Đăng nhập sai quá nhiều lần. Vui lòng thử lại "
                                          "sau 1 giây."}
    frozen.advance(1)
    assert token(app, "leader", PASSWORD, STRANGER).status_code == 200


def test_the_delay_doubles_with_every_further_failure_up_to_its_cap(app, world, frozen):
    waits = []
    for _ in range(5):
        token(app, "leader", WRONG, STRANGER)
    for _ in range(12):
        r = token(app, "leader", WRONG, STRANGER)
        assert r.status_code == 429
        waits.append(int(r.headers["Retry-After"]))
        frozen.advance(waits[-1])
        assert token(app, "leader", WRONG, STRANGER).status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]  # 15 minutes at most
    assert "Vui lòng thử lại sau 15 phút." in token(app, "leader", WRONG, STRANGER).json[
        "error"]["message"]


def test_the_login_page_answers_429_in_vietnamese_with_retry_after(app, world, frozen):
    for _ in range(5):
        r = form_login(app, "clerk", WRONG, STRANGER)
        assert r.status_code == 401
    r = form_login(app, "clerk", PASSWORD, STRANGER)
    assert r.status_code == 429 and r.mimetype == "text/html"
    assert r.headers["Retry-After"] == "1"
    assert "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 1 giây." in r.text
    assert 'value="clerk"' in r.text  # the form again, with the username typed
    frozen.advance(1)
    assert form_login(app, "clerk", PASSWORD, STRANGER).status_code == 302


def test_an_address_trying_many_usernames_is_slowed_down(app, world, frozen):
    # A flood of random usernames: LOGIN_ADDRESS_MAX_FAILURES for the address.
    for index in range(ADDRESS_LIMIT):
        assert token(app, f"khong-co-{index}", WRONG, STRANGER).status_code == 401
    r = token(app, "clerk", PASSWORD, STRANGER)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert token(app, "clerk", PASSWORD, OFFICE).status_code == 200  # others are not


def test_a_throttled_attempt_computes_no_password_hash(app, world, frozen, hashes):
    for _ in range(5):
        token(app, "leader", WRONG, STRANGER)
    assert len(hashes) == 5
    for _ in range(30):
        assert token(app, "leader", PASSWORD, STRANGER).status_code == 429
        assert form_login(app, "leader", PASSWORD, STRANGER).status_code == 429
    assert len(hashes) == 5


def test_a_throttled_attempt_writes_nothing(app, db, world, frozen):
    for _ in range(5):
        token(app, "leader", WRONG, STRANGER)
    before = _throttle_rows(db), _events(db)
    for _ in range(10):
        assert token(app, "leader", WRONG, STRANGER).status_code == 429
    assert (_throttle_rows(db), _events(db)) == before


def test_attempts_checked_together_are_not_all_answered(app, db, world, frozen, monkeypatch):
    # Two attempts pass the read at the same moment; the other one's failure is recorded
    # while this one's hash is computed. This one — the right password — must not be
    # answered as if no delay had been set: 429, no token, nothing counted.
    real = auth.check_password_hash

    def meanwhile(stored, password):
        with db.transaction() as s:
            s.get(LoginThrottle, "a:" + STRANGER).blocked_until = frozen.now + timedelta(
                seconds=30)
        return real(stored, password)
    token(app, "khong-co", WRONG, STRANGER)  # the address's row exists
    monkeypatch.setattr(auth, "check_password_hash", meanwhile)
    r = token(app, "leader", PASSWORD, STRANGER)
    assert r.status_code == 429 and r.headers["Retry-After"] == "30"
    with db.transaction(readonly=True) as s:
        assert s.scalar(select(ApiToken.id)) is None
        assert s.get(LoginThrottle, "a:" + STRANGER).failures == 1


# --- a few hashes at a time per process ----------------------------------------------------

class Taken:
    """A semaphore of the lines that is all taken (by a crowd's attempts)."""

    def __init__(self, may_wait=True):
        self.may_wait = may_wait

    def acquire(self, blocking=True, timeout=None):
        assert self.may_wait or not blocking, "waited in a full line"
        return False

    def release(self):
        raise AssertionError("released what was not acquired")


def test_a_login_that_gets_no_turn_in_time_is_answered_503(app, world, hashes, monkeypatch):
    lane = throttle._lane(1, False)  # LOGIN_CONCURRENT_CHECKS: one hash at a time
    monkeypatch.setattr(lane, "turns", Taken())  # a crowd's hashes, for the whole wait
    r = token(app, "clerk", PASSWORD)
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert r.json["error"]["code"] == "busy" and hashes == []
    monkeypatch.undo()
    assert token(app, "clerk", PASSWORD).status_code == 200


def test_a_login_that_finds_the_line_full_is_answered_503_without_waiting(app, world,
                                                                          hashes, monkeypatch):
    lane = throttle._lane(1, False)
    monkeypatch.setattr(lane, "places", Taken(may_wait=False))
    monkeypatch.setattr(lane, "turns", Taken(may_wait=False))
    r = token(app, "clerk", PASSWORD)
    assert r.status_code == 503 and r.json["error"]["code"] == "busy" and hashes == []


def test_at_an_address_it_logged_in_from_an_account_does_not_queue_behind_strangers(
        app, world, monkeypatch):
    assert token(app, "clerk", PASSWORD, OFFICE).status_code == 200
    crowd = throttle._lane(1, False)
    monkeypatch.setattr(crowd, "places", Taken(may_wait=False))
    at_the_desk = token(app, "clerk", PASSWORD, OFFICE)
    elsewhere = token(app, "clerk", PASSWORD, "198.51.100.20")
    stranger_at_the_desk = token(app, "leader", WRONG, OFFICE)
    assert at_the_desk.status_code == 200
    assert elsewhere.status_code == 503 and stranger_at_the_desk.status_code == 503


def test_failures_recorded_while_waiting_for_a_turn_refuse_without_hashing(
        app, db, world, frozen, hashes, monkeypatch):
    token(app, "khong-co", WRONG, STRANGER)  # the address's row exists

    class Crowd:
        """The turn comes after others from the same address have failed."""
        def acquire(self, timeout):
            with db.transaction() as s:
                s.get(LoginThrottle, "a:" + STRANGER).blocked_until = \
                    frozen.now + timedelta(seconds=8)
            return True

        def release(self):
            pass
    monkeypatch.setattr(throttle._lane(1, False), "turns", Crowd())
    r = token(app, "leader", PASSWORD, STRANGER)
    assert r.status_code == 429 and r.headers["Retry-After"] == "8"
    assert hashes == [WRONG]  # the first attempt's only


# --- a stranger cannot keep the owner out -----------------------------------------------

def test_a_stranger_hammering_the_leader_cannot_keep_the_leader_out(app, world, frozen):
    assert token(app, "leader", PASSWORD, OFFICE).status_code == 200  # the leader's desk
    fail_until_throttled(app, "leader", STRANGER, frozen, 3 * ADDRESS_LIMIT)
    assert token(app, "leader", WRONG, STRANGER).status_code == 429  # the stranger waits
    # At the desk the leader logs in at once, right after the stranger's last try;
    assert token(app, "leader", PASSWORD, OFFICE).status_code == 200
    # from a new place (the laptop at home) after a minute at most.
    r = token(app, "leader", PASSWORD, "198.51.100.20")
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    frozen.advance(60)
    assert token(app, "leader", PASSWORD, "198.51.100.20").status_code == 200


def test_many_strangers_slow_an_account_down_for_a_minute_at_most(app, world, frozen):
    # A botnet: one try from each address, every delay waited out; after
    # LOGIN_ADDRESS_MAX_FAILURES the account-wide delay starts, and stays at a minute
    # however many follow.
    for index in range(3 * ADDRESS_LIMIT):
        fail_until_throttled(app, "leader", f"198.18.0.{index}", frozen, 1)
    r = token(app, "leader", PASSWORD, "198.51.100.20")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 60
    frozen.advance(60)
    assert token(app, "leader", PASSWORD, "198.51.100.20").status_code == 200


def test_failures_are_forgotten_after_a_quiet_day_and_old_rows_deleted(app, db, world,
                                                                         frozen):
    for _ in range(4):
        token(app, "leader", WRONG, STRANGER)
    frozen.advance(timedelta(days=1, minutes=1).total_seconds())
    for _ in range(4):
        assert token(app, "leader", WRONG, STRANGER).status_code == 401  # 4, not 8
    frozen.advance(timedelta(days=2).total_seconds())
    token(app, "clerk", WRONG, OFFICE)  # any failure clears what is older than a day
    assert _throttle_rows(db) == {f"a:{OFFICE}": 1, f"p:{OFFICE}|clerk": 1, "u:clerk": 1}


# --- unknown usernames look like wrong passwords ------------------------------------------

def test_an_unknown_username_is_answered_and_throttled_like_a_wrong_password(
        app, world, frozen, hashes):
    answers = {}
    for username in ("leader", "khong-ton-tai"):
        seen = [token(app, username, WRONG, f"192.0.2.{len(answers)}") for _ in range(6)]
        answers[username] = [(r.status_code, r.json, r.headers.get("Retry-After"))
                             for r in seen]
    assert answers["leader"] == answers["khong-ton-tai"]
    assert len(hashes) == 10  # the unknown username's password is hashed all the same


# --- audit -------------------------------------------------------------------------------

def test_failed_logins_are_audited_for_the_admin(app, db, world, browser_login, frozen):
    token(app, "clerk", WRONG, STRANGER)
    form_login(app, "leader", WRONG, "198.51.100.20")
    token(app, "nguoi-la", WRONG, STRANGER)
    page = browser_login("admin").get("/admin/audit?action=auth.login_failed").text
    assert page.count("<code>auth.login_failed</code>") == 2
    for shown in ("clerk", STRANGER, "leader", "198.51.100.20", "người chưa đăng nhập",
                  f"users {world.users['leader'].id}"):
        assert shown in page
    assert "nguoi-la" not in page  # a username of no organisation: the system's log
    with db.transaction(readonly=True) as s:
        unknown = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "auth.login_failed", AuditEvent.chain == SYSTEM_CHAIN)).one()
    assert unknown.details == {"username": "nguoi-la", "ip": STRANGER}


# --- the hash runs with no transaction open ---------------------------------------------

def _transaction_open_elsewhere(database_url: str) -> bool:
    """Whether another connection holds a transaction: on SQLite the write lock (taking it
    without waiting fails), on PostgreSQL any backend of this database inside one."""
    if database_url.startswith("sqlite"):
        probe = sqlite3.connect(make_url(database_url).database, timeout=0,
                                isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:  # database is locked
            return True
        finally:
            probe.close()
    url = make_url(database_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username,
                         password=url.password, dbname=url.database, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
            "AND xact_start IS NOT NULL").fetchone()[0] > 0


@pytest.fixture
def hash_probe(monkeypatch, database_url):
    """Every password hash computed notes whether a transaction was open meanwhile."""
    seen = []
    real = auth.check_password_hash

    def probed(stored, password):
        seen.append(_transaction_open_elsewhere(database_url))
        return real(stored, password)
    monkeypatch.setattr(auth, "check_password_hash", probed)
    return seen


@pytest.mark.parametrize(("username", "password", "status"), [
    ("clerk", PASSWORD, 200), ("clerk", WRONG, 401), ("khong-co", WRONG, 401)])
def test_the_api_checks_the_password_with_no_transaction_open(app, world, hash_probe,
                                                              username, password, status):
    assert token(app, username, password).status_code == status
    assert hash_probe == [False]


@pytest.mark.parametrize(("password", "status"), [(PASSWORD, 302), (WRONG, 401)])
def test_the_login_page_checks_the_password_with_no_transaction_open(app, world, hash_probe,
                                                                     password, status):
    assert form_login(app, "clerk", password).status_code == status
    assert hash_probe == [False]


def test_a_stale_cookie_read_does_not_hold_a_transaction_through_the_hash(
        app, db, world, browser_login, hash_probe):
    # The cookie names a user deactivated since: Flask-Login reads the user (a read in the
    # request's transaction) before the login form is checked.
    client = browser_login("clerk")
    hash_probe.clear()
    with db.transaction() as s:
        s.get(User, world.users["clerk"].id).active = False
    page = client.get("/login")
    r = client.post("/login", data={"username": "leader", "password": PASSWORD,
                                    "csrf_token": csrf_from(page.data)})
    assert r.status_code == 302
    assert hash_probe == [False]


# --- behind a reverse proxy ------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1,
                                         "LOGIN_ADDRESS_MAX_FAILURES": ADDRESS_LIMIT}])
def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(app, db, world, frozen):
    def via_proxy(client_address, password=WRONG):
        return token(app, "leader", password, "127.0.0.1",
                     headers={"X-Forwarded-For": client_address})
    for _ in range(5):
        via_proxy(STRANGER)
    assert via_proxy(STRANGER, PASSWORD).status_code == 429
    assert via_proxy(OFFICE, PASSWORD).status_code == 200
    assert f"p:{STRANGER}|leader" in _throttle_rows(db)


def test_without_trusted_proxies_a_forwarded_address_is_ignored(app, db, world, frozen):
    for index in range(5):  # a client cannot pick a fresh address for every attempt
        token(app, "leader", WRONG, STRANGER, headers={"X-Forwarded-For": f"10.9.9.{index}"})
    assert token(app, "leader", PASSWORD, STRANGER).status_code == 429
    assert set(_throttle_rows(db)) == {f"a:{STRANGER}", f"p:{STRANGER}|leader", "u:leader"}


def _throttle_rows(db) -> dict[str, int]:
    with db.transaction(readonly=True) as s:
        return {row.key: row.failures for row in s.scalars(select(LoginThrottle))}


def _events(db) -> int:
    with db.transaction(readonly=True) as s:
        return len(s.scalars(select(AuditEvent.id)).all())
