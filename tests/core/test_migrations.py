"""The migrations build exactly the schema the models describe (on both databases)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
