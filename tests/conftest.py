"""Shared fixtures: an app on a fresh schema (SQLite, or PostgreSQL when
DOCMGR_TEST_DATABASE_URL is set), a small world of two organisations with one
user per role, and API/browser clients; and the rules for ``corpus`` tests."""
import os
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text

from docmgr import create_app
from docmgr.core import auth as accounts
from docmgr.db import Base
from docmgr.demo import sample_pdf
from docmgr.migrations import upgrade
from tests import corpus

# Kept for tests written before tests/corpus.py (other branches may still import it): a
# path only, never read here. New tests use tests.corpus (data/path/param/files).
CORPUS = corpus.location()
PASSWORD = "mat-khau-dung-1"
PG_URL = os.environ.get("DOCMGR_TEST_DATABASE_URL")


# --- corpus tests -----------------------------------------------------------------------
# A test marked ``corpus`` needs the shared corpus (tests/corpus.py says where it is looked
# for). Without it the test is skipped locally, but fails under CI (CI set) or when
# DOCMGR_CORPUS names a directory that does not exist: there a missing corpus is a broken
# set-up, not a reason to test less. One line at the end of the run counts them.

CORPUS_ABSENT = "corpus absent"
_corpus_outcomes = {"skipped": 0, "failed": 0}


def _corpus_must_be_there() -> bool:
    return bool(os.environ.get("CI")) or corpus.configured_explicitly()


@pytest.hookimpl(tryfirst=True)  # before fixtures are set up: they may read corpus files
def pytest_runtest_setup(item):
    is_corpus_test = item.get_closest_marker("corpus") is not None
    corpus._corpus_test_running = is_corpus_test
    if not is_corpus_test or corpus.available():
        return
    reason = f"{CORPUS_ABSENT}: no directory {corpus.location()}"
    if _corpus_must_be_there():
        _corpus_outcomes["failed"] += 1
        pytest.fail(reason + " (CI or DOCMGR_CORPUS is set, so corpus tests must run)",
                    pytrace=False)
    _corpus_outcomes["skipped"] += 1
    pytest.skip(reason)


def pytest_runtest_teardown(item):
    corpus._corpus_test_running = False


def pytest_report_teststatus(report, config):
    # Corpus skips get their own word in the final counts and stay out of the -ra list:
    # the summary line below explains them once instead of one line per test file.
    if report.skipped and report.when == "setup" and "corpus" in report.keywords \
            and isinstance(report.longrepr, tuple) and CORPUS_ABSENT in report.longrepr[2]:
        return "skipped (no corpus)", "s", "SKIPPED (no corpus)"
    return None


def pytest_terminal_summary(terminalreporter):
    skipped, failed = _corpus_outcomes["skipped"], _corpus_outcomes["failed"]
    if failed:
        terminalreporter.write_line(
            f"corpus: {failed} corpus tests FAILED: no corpus at {corpus.location()} "
            "(CI or DOCMGR_CORPUS is set; point DOCMGR_CORPUS at the corpus)",
            red=True, bold=True)
    elif skipped:
        terminalreporter.write_line(
            f"corpus: {skipped} corpus tests skipped: no corpus at {corpus.location()} "
            "(set DOCMGR_CORPUS=<dir> or put it at ../shared/corpus to run them)",
            yellow=True)


@pytest.fixture
def corpus_dir():
    """The corpus root, for corpus tests (the hook above has skipped them without it)."""
    if not corpus._corpus_test_running:
        raise RuntimeError("corpus_dir is for tests marked @pytest.mark.corpus")
    return corpus.location()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if PG_URL:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        engine.dispose()
        return PG_URL
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def password_hash():
    return accounts.hash_password(PASSWORD)  # scrypt is slow on purpose: hash once


@pytest.fixture
def app_config() -> dict:
    """Settings a test package may add (override this fixture)."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config):
    # INDEXER=worker: tests drain the outbox themselves instead of racing a thread.
    application = create_app({"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path / "data"),
                              "TESTING": True, "SECRET_KEY": "test-secret",
                              "INDEXER": "worker", **app_config})
    yield application
    db = application.extensions["docmgr"].db
    _empty_all_tables(db)
    db.dispose()


def _empty_all_tables(db):
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.is_sqlite:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in tables)
                              + " RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(app):
    return app.extensions["docmgr"].db


@pytest.fixture
def blobs(app):
    return app.extensions["docmgr"].blobs


@dataclass
class World:
    org: accounts.Organization
    other_org: accounts.Organization
    units: dict
    users: dict  # username -> User (detached)


@pytest.fixture
def world(db, password_hash) -> World:
    """Two organisations; in the first one user per role, in the second a clerk and a leader
    (each organisation's leader is its head; signing authority: ND30's defaults)."""
    with db.transaction() as s:
        org = accounts.Organization(code="000.00.01.H55", name="Văn phòng UBND tỉnh Quảng Ngãi",
                                    abbr="VP", place="Quảng Ngãi")
        other = accounts.Organization(code="000.00.09.H55", name="Sở Xây dựng", abbr="SXD")
        s.add_all([org, other])
        s.flush()
        units = {abbr: accounts.Unit(org_id=org.id, name=name, abbr=abbr)
                 for abbr, name in (("HC", "Phòng Hành chính"), ("KT", "Phòng Kinh tế"),
                                    ("VX", "Phòng Văn xã"))}
        s.add_all(units.values())
        s.flush()
        spec = [("clerk", "clerk", "Nguyễn Thị Văn Thư", org, "HC"),
                ("clerk2", "clerk", "Đỗ Thị Hằng", org, "HC"),
                ("leader", "leader", "Phạm Minh Quang", org, None),
                ("head", "head", "Lê Thị Hoa", org, "KT"),
                ("specialist", "specialist", "Trần Văn Bình", org, "KT"),
                ("specialist_vx", "specialist", "Võ Thị Ý", org, "VX"),
                ("head_vx", "head", "Ngô Văn Tư", org, "VX"),
                ("admin", "admin", "Quản Trị", org, None),
                ("other_clerk", "clerk", "Lý Văn Khác", other, None),
                ("other_leader", "leader", "Hà Văn Ngoài", other, None)]
        users = {}
        for username, role, name, o, unit in spec:
            users[username] = accounts.User(
                org_id=o.id, unit_id=units[unit].id if unit else None, username=username,
                password_hash=password_hash, full_name=name, role=role,
                leader_position=accounts.LeaderPosition.HEAD if role == "leader" else None)
        s.add_all(users.values())
        s.flush()
        for obj in [org, other, *units.values(), *users.values()]:
            s.refresh(obj)
        s.expunge_all()
    return World(org=org, other_org=other, units=units, users=users)


class ApiClient:
    """The Flask test client speaking as one user through a real bearer token."""

    def __init__(self, app, db, user):
        self.client = app.test_client()
        with db.transaction() as s:
            token = accounts.issue_token(s, s.get(accounts.User, user.id), 1)
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method):
        call = getattr(self.client, method)
        return lambda url, **kw: call(url, headers={**self.headers, **kw.pop("headers", {})},
                                      **kw)


@pytest.fixture
def api(app, db, world):
    """api("clerk").get("/api/v1/incoming") — clients are cached per username."""
    clients = {}

    def client(username):
        if username not in clients:
            clients[username] = ApiClient(app, db, world.users[username])
        return clients[username]
    return client


@pytest.fixture
def pdf_bytes():
    return sample_pdf(["UBND TINH QUANG NGAI", "So: 1520/UBND-KT", "V/v kiem tra"], pages=2)


def registration_form(**overrides) -> dict:
    form = {"sender": "Sở Tài chính tỉnh Quảng Ngãi", "notation": "412/STC-NS",
            "doc_date": "2026-11-02", "doc_type": "BC",
            "subject": "Báo cáo tình hình thực hiện dự toán ngân sách quý III"}
    form.update(overrides)
    return form


def upload(data: bytes, name: str = "van-ban.pdf"):
    import io
    return (io.BytesIO(data), name)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: bytes | str) -> str:
    text_ = html.decode() if isinstance(html, bytes) else html
    return CSRF_RE.search(text_).group(1)


@pytest.fixture
def browser_login(app, world):
    """A logged-in Flask test client for the web pages (real CSRF tokens)."""
    def login(username):
        client = app.test_client()
        page = client.get("/login")
        response = client.post("/login", data={"username": username, "password": PASSWORD,
                                               "csrf_token": csrf_from(page.data)})
        assert response.status_code == 302, response.data
        return client
    return login
