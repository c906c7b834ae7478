"""indexes for the incoming lists and dashboard at scale; trigram indexes on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TRIGRAM = {
    "ix_incoming_subject_trgm": "lower(subject) gin_trgm_ops",
    "ix_incoming_notation_trgm": "notation_key gin_trgm_ops",
    "ix_incoming_sender_trgm": "sender_key gin_trgm_ops",
}


def upgrade() -> None:
    op.create_index("ix_incoming_org_arrival_date", "incoming_documents",
                    ["org_id", "arrival_date"])
    op.create_index("ix_incoming_org_year_secrecy", "incoming_documents",
                    ["org_id", "arrival_year", "secrecy"])
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # The list filter matches substrings of subject, notation and sender; trigram indexes
    # keep that fast at hundreds of thousands of rows. pg_trgm ships with PostgreSQL but
    # creating it needs the right privilege: without it the filter still works, slower.
    with bind.begin_nested() as savepoint:
        try:
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception:  # noqa: BLE001 - any refusal means "no trigram indexes"
            savepoint.rollback()
            return
    for name, expression in TRIGRAM.items():
        bind.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {name} ON incoming_documents USING gin ({expression})")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name in TRIGRAM:
            bind.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_incoming_org_year_secrecy", table_name="incoming_documents")
    op.drop_index("ix_incoming_org_arrival_date", table_name="incoming_documents")
