"""Scratch databases and fresh apps for restores and crash tests.

PostgreSQL scratch databases are created through the ``postgres`` database of the server
named by DOCMGR_TEST_DATABASE_URL and dropped afterwards; they never touch the shared
test database."""
import contextlib
import socket

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from docmgr import create_app
from tests.conftest import PG_URL
from tests.outbound.conftest import keys, new_draft, signed_draft  # noqa: F401  (fixtures)


def _pg_admin():
    import psycopg

    url = make_url(PG_URL).set(drivername="postgresql")
    params = {"host": url.host or "127.0.0.1", "port": url.port or 5432,
              "user": url.username or "postgres", "dbname": "postgres"}
    if url.password:
        params["password"] = url.password
    return psycopg.connect(**params, autocommit=True)


@contextlib.contextmanager
def scratch_pg_database(name: str):
    """A fresh, empty PostgreSQL database ``name``; dropped on exit."""
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


TARGETS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=TARGETS)
def target_url(request, tmp_path):
    """An empty database to restore into."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    else:
        with scratch_pg_database("docmgr_restore_test") as url:
            yield url


@pytest.fixture
def make_app():
    """create_app for another data dir / database; disposed of afterwards."""
    made = []

    def make(data_dir, database_url, **config):
        app = create_app({"DATABASE_URL": database_url, "DATA_DIR": str(data_dir),
                          "TESTING": True, "SECRET_KEY": "test-secret", "INDEXER": "worker",
                          **config})
        made.append(app)
        return app
    yield make
    for app in made:
        app.extensions["docmgr"].db.dispose()


def table_names(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
