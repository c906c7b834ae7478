"""The migrations build exactly the schema the models describe (on both databases)."""
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, insert, inspect, text
from sqlalchemy.exc import IntegrityError

from docmgr.db import Database
from docmgr.migrations import alembic_config, migration_transaction, upgrade
from docmgr.models import metadata

DATABASE_ONLY = {"ix_incoming_subject_trgm", "ix_incoming_notation_trgm",
                 "ix_incoming_sender_trgm"}  # PostgreSQL-only trigram indexes (0004)


def _name(diff) -> str | None:
    obj = diff[1] if isinstance(diff, tuple) and len(diff) > 1 else None
    return getattr(obj, "name", None)


def test_models_and_migrations_agree(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, metadata)
    diffs = [d for d in diffs if _name(d) not in DATABASE_ONLY]
    assert diffs == []


# --- 0012: CHECK constraints on the stored statuses, roles and decisions -------------------

@pytest.fixture
def scratch_engine(database_url, tmp_path):
    """An empty database of the test database's kind: on SQLite a file opened the way the
    application opens it (foreign keys enforced), on PostgreSQL a schema of its own."""
    if database_url.startswith("sqlite"):
        scratch = Database(f"sqlite:///{tmp_path / 'scratch.sqlite3'}")
        yield scratch.engine
        scratch.dispose()
        return
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS scratch CASCADE; CREATE SCHEMA scratch")
        # Public stays on the search path for pg_trgm's operator classes (0004); an empty
        # version table here hides the test database's own from Alembic.
        conn.exec_driver_sql("CREATE TABLE scratch.alembic_version (version_num VARCHAR(32) "
                             "NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY "
                             "(version_num))")
    engine = create_engine(database_url,
                           connect_args={"options": "-c search_path=scratch,public"})
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA scratch CASCADE")
    admin.dispose()


def _revision(engine, name: str):
    return ScriptDirectory.from_config(alembic_config(str(engine.url))).get_revision(name)


def _downgrade(engine, revision: str) -> None:
    cfg = alembic_config(str(engine.url))
    with engine.connect() as connection, migration_transaction(connection):
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def _one_row_per_allowed_value(conn, allowed: dict) -> None:
    """Rows holding every value 0012 allows, and rows referring to them (a rebuilt SQLite
    table must keep them valid)."""
    t = metadata.tables

    def add(table, **values):
        return conn.execute(insert(t[table]).values(**values)).inserted_primary_key[0]
    org = add("organizations", code="000.00.01.H55", name="Văn phòng", abbr="VP")
    # users as 0011 has it: failed_logins (dropped by 0014, so not in the models) is required
    user = conn.execute(text(
        "INSERT INTO users (org_id, username, password_hash, full_name, role, active, "
        "failed_logins) VALUES (:org, 'u', '-', 'U', 'clerk', TRUE, 0) RETURNING id"),
        {"org": org}).scalar_one()
    incoming = [add("incoming_documents", org_id=org, doc_type="CV", subject="Thử", status=value,
                    arrival_year=2026, sender="Sở", sender_key="sở", notation_key=f"{n}/s")
                for n, value in enumerate(allowed["incoming_documents", "status"])]
    for value in allowed["incoming_assignments", "role"]:
        add("incoming_assignments", document_id=incoming[0], user_id=user, role=value,
            assigned_by_id=user)
    outgoing = [add("outgoing_documents", org_id=org, doc_type="CV", subject="Thử", status=value,
                    author_id=user, signer_id=user)
                for value in allowed["outgoing_documents", "status"]]
    for position, value in enumerate((*allowed["outgoing_route", "decision"], None)):
        add("outgoing_route", document_id=outgoing[0], position=position, reviewer_id=user,
            decision=value)
    add("outgoing_recipients", document_id=outgoing[-1], name="Sở", incoming_id=incoming[0])
    for n, value in enumerate(allowed["dossiers", "status"]):
        dossier = add("dossiers", org_id=org, year=2026, code=f"0{n}", title="Hồ sơ",
                      owner_id=user, created_by_id=user, status=value)
        add("dossier_documents", dossier_id=dossier, incoming_id=incoming[1], filed_by_id=user)


def _values(conn, allowed: dict) -> dict:
    return {(table, column): sorted(conn.exec_driver_sql(
        f"SELECT {column} FROM {table}").scalars(), key=str) for table, column in allowed}


def _refuses(engine, table: str, column: str) -> bool:
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE {table} SET {column} = 'archived'")
            raise _Accepted  # roll back what was let through
    except IntegrityError:
        return True
    except _Accepted:
        return False


class _Accepted(Exception):
    pass


def _partial_indexes(engine) -> dict:
    """SQLite: the indexes with a WHERE clause, which a table rebuild must keep."""
    if engine.dialect.name != "sqlite":
        return {}
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql LIKE '%WHERE%'"
        ).all())


def test_0012_constrains_existing_rows_and_downgrades(scratch_engine):
    allowed = _revision(scratch_engine, "0012").module.ALLOWED
    with scratch_engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() is None  # empty
    upgrade(scratch_engine, "0011")
    with scratch_engine.begin() as conn:
        _one_row_per_allowed_value(conn, allowed)
        before = _values(conn, allowed)
    partial = _partial_indexes(scratch_engine)

    upgrade(scratch_engine, "0012")
    with scratch_engine.connect() as conn:
        assert _values(conn, allowed) == before
    assert _partial_indexes(scratch_engine) == partial
    assert all(_refuses(scratch_engine, table, column) for table, column in allowed)

    _downgrade(scratch_engine, "0011")
    with scratch_engine.connect() as conn:
        assert _values(conn, allowed) == before
    assert not any(_refuses(scratch_engine, table, column) for table, column in allowed)


# --- 0014: login throttles instead of the account lock ---------------------------------------

def test_0014_drops_the_account_lock_keeping_the_users_and_downgrades(scratch_engine):
    upgrade(scratch_engine, "0013")
    with scratch_engine.begin() as conn:
        org = conn.execute(insert(metadata.tables["organizations"]).values(
            code="000.00.01.H55", name="Văn phòng", abbr="VP")).inserted_primary_key[0]
        conn.execute(text(
            "INSERT INTO users (org_id, username, password_hash, full_name, role, active, "
            "failed_logins, locked_until) VALUES (:org, 'lanhdao', 'scrypt:x', 'Lãnh Đạo', "
            "'leader', TRUE, 4, NULL)"), {"org": org})
    upgrade(scratch_engine, "0014")
    with scratch_engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM users")).mappings().one()
        assert row["username"] == "lanhdao" and row["password_hash"] == "scrypt:x"
        assert "failed_logins" not in row and "locked_until" not in row
        assert conn.execute(text("SELECT count(*) FROM login_throttles")).scalar_one() == 0
    _downgrade(scratch_engine, "0013")
    with scratch_engine.connect() as conn:
        assert conn.execute(text("SELECT username, failed_logins, locked_until FROM users")
                            ).one() == ("lanhdao", 0, None)


# --- 0018: leaders' positions, approvals tied to versions, the signing-authority table ----

def test_0018_fills_positions_versions_and_rules_and_downgrades(scratch_engine):
    from datetime import UTC, datetime, timedelta

    from docmgr.outbound.authority import nd30_defaults

    upgrade(scratch_engine, "0014")  # users as 0014 left them
    t = metadata.tables
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def at(hours):
        return start + timedelta(hours=hours)
    with scratch_engine.begin() as conn:
        def add(table, **values):
            return conn.execute(insert(t[table]).values(**values)).inserted_primary_key[0]
        orgs = [add("organizations", code=f"000.00.0{n}.H55", name="Cơ quan", abbr="CQ")
                for n in (1, 2)]
        people = {}
        for name, org, role, active, hours in (
                ("former", 0, "leader", False, 0), ("chief", 0, "leader", True, 1),
                ("vice", 0, "leader", True, 2), ("clerk", 0, "clerk", True, 0),
                ("other", 1, "leader", True, 5)):
            people[name] = add("users", org_id=orgs[org], username=name, password_hash="-",
                               full_name=name, role=role, active=active, created_at=at(hours))
        user = people["clerk"]
        file_id = add("stored_files", org_id=orgs[0], sha256="0" * 64, filename="a.pdf",
                      size=1, page_count=1, uploaded_by_id=user)
        doc = add("outgoing_documents", org_id=orgs[0], doc_type="CV", subject="Thử",
                  status="returned", author_id=user, signer_id=people["chief"], file_id=file_id)
        for number, hours in ((1, 10), (2, 20)):
            add("outgoing_versions", document_id=doc, number=number, file_id=file_id,
                uploaded_by_id=user, uploaded_at=at(hours))
        # approved v1, approved v2, a decision dated before any version, undecided
        for position, decision, hours in ((0, "approved", 15), (1, "approved", 25),
                                          (2, "returned", 5), (3, None, None)):
            add("outgoing_route", document_id=doc, position=position, reviewer_id=user,
                decision=decision, decided_at=at(hours) if hours else None)

    upgrade(scratch_engine, "0018")
    with scratch_engine.connect() as conn:
        versions = conn.exec_driver_sql(
            "SELECT version_no FROM outgoing_route ORDER BY position").scalars().all()
        positions = dict(conn.exec_driver_sql(
            "SELECT username, leader_position FROM users").all())
        rules = {org: {tuple(r) for r in conn.exec_driver_sql(
            "SELECT doc_class, signer, authority, allowed FROM signing_authorities "
            f"WHERE org_id = {org}").all()} for org in orgs}
    assert versions == [1, 2, 2, None]
    assert positions == {"former": "deputy", "chief": "head", "vice": "deputy", "clerk": None,
                         "other": "head"}
    expected = {(r.doc_class, r.signer.value, r.authority.value, r.allowed)
                for r in nd30_defaults()}  # the migration's copy equals the code's defaults
    assert all({(c, s, a, bool(ok)) for c, s, a, ok in found} == expected
               for found in rules.values())

    _downgrade(scratch_engine, "0014")
    with scratch_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM outgoing_route").scalar() == 4


# --- 0017: deputy heads; classified documents assigned to a unit re-indexed -----------------

def test_0017_requeues_classified_unit_documents_and_downgrades(scratch_engine):
    upgrade(scratch_engine, "0014")  # users as 0014 left them
    t = metadata.tables
    with scratch_engine.begin() as conn:
        def add(table, **values):
            return conn.execute(insert(t[table]).values(**values)).inserted_primary_key[0]
        org = add("organizations", code="000.00.01.H55", name="Văn phòng", abbr="VP")
        unit = add("units", org_id=org, name="Phòng Kinh tế", abbr="KT")
        user = add("users", org_id=org, unit_id=unit, username="u", password_hash="-",
                   full_name="U", role="head")
        docs = {}
        for name, secrecy, to_unit, active in (("unit_secret", "secret", True, True),
                                               ("person_secret", "secret", False, True),
                                               ("unit_plain", "normal", True, True),
                                               ("withdrawn", "secret", True, False)):
            docs[name] = add("incoming_documents", org_id=org, doc_type="CV", subject="Thử",
                             status="assigned", arrival_year=2026, sender="Sở",
                             sender_key="sở", notation_key=name, secrecy=secrecy)
            add("incoming_assignments", document_id=docs[name], role="main",
                unit_id=unit if to_unit else None, user_id=None if to_unit else user,
                assigned_by_id=user, active=active)
    upgrade(scratch_engine, "0017")
    with scratch_engine.connect() as conn:
        queued = conn.execute(text("SELECT key FROM outbox WHERE topic = 'index'")).scalars()
        assert list(queued) == [f"in:{docs['unit_secret']}"]
        assert conn.execute(text("SELECT is_deputy FROM users")).scalar() in (False, 0)
    _downgrade(scratch_engine, "0014")
    with scratch_engine.connect() as conn:
        columns = [c["name"] for c in inspect(conn).get_columns("users")]
        assert "is_deputy" not in columns
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 2
