"""Engine, sessions and the declarative base.

One transaction per request. On SQLite, writing transactions start with
``BEGIN IMMEDIATE`` so that two clerks allocating numbers serialise instead of
failing with "database is locked"; read-only requests use a deferred BEGIN and
never block writers (WAL mode). PostgreSQL uses row locks (see numbering).
"""
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always returned timezone-aware (SQLite forgets offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Database:
    def __init__(self, url: str, *, pool_size: int = 5, max_overflow: int = 5):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs = {"future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            # A short pool_timeout: an exhausted pool fails fast instead of hanging.
            # JIT compilation costs PostgreSQL hundreds of ms on our short OLTP queries.
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=10,
                          pool_pre_ping=True, connect_args={"options": "-c jit=off"})
        self.engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.writer = sessionmaker(self.engine, expire_on_commit=False)
        self.reader = sessionmaker(
            self.engine.execution_options(sqlite_deferred=True), expire_on_commit=False)

    @contextmanager
    def transaction(self, readonly: bool = False):
        """A session whose transaction commits on success and rolls back on error."""
        session = (self.reader if readonly else self.writer)()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self):
        self.engine.dispose()


def _configure_sqlite(engine):
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        deferred = conn.get_execution_options().get("sqlite_deferred")
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def insert_ignoring_conflict(session, model, **values) -> None:
    """INSERT that silently does nothing when a unique key already exists.

    Used to create lock rows (counters, audit chain heads) that two first
    writers may race to create; both then lock the one row that exists.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())
