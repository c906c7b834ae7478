"""Alembic migrations, run in-process by ``flask docmgr init`` (no alembic.ini needed)."""
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(engine, revision: str = "head") -> None:
    cfg = alembic_config(str(engine.url))
    with engine.connect() as connection, migration_transaction(connection):
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


@contextmanager
def migration_transaction(connection):
    """The transaction a migration runs in, begun on ``connection``.

    SQLite changes a constraint only by rebuilding the table (Alembic's batch mode), and
    dropping the old table fails while other rows refer to it and foreign keys are
    enforced. Enforcement can be switched only outside a transaction: it is off for this
    one, and every reference is checked before the commit instead.
    """
    if connection.dialect.name != "sqlite":
        with connection.begin():
            yield connection
        return
    raw = connection.connection.dbapi_connection  # not connection.exec_*: that would BEGIN
    enforced = raw.execute("PRAGMA foreign_keys").fetchone()[0]
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            yield connection
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"rows refer to missing rows (table, rowid, parent, "
                                   f"key): {broken[:10]}")
    finally:
        raw.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
