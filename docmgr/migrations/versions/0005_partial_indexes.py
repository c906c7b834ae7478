"""partial indexes: classified and open incoming documents, active assignments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN = "status IN ('registered', 'assigned', 'in_progress')"
INDEXES = [
    ("ix_incoming_classified", "incoming_documents", ["org_id", "arrival_year"],
     "secrecy <> 'normal'"),
    ("ix_incoming_open", "incoming_documents", ["org_id", "arrival_year", "arrival_number"],
     OPEN),
    # role last, so "handled by me" (main/cooperate) is answered from the index alone
    ("ix_assign_user_document", "incoming_assignments", ["user_id", "document_id", "role"],
     "active"),
    ("ix_assign_unit_document", "incoming_assignments", ["unit_id", "document_id", "role"],
     "active"),
]


def upgrade() -> None:
    for name, table, columns, where in INDEXES:
        op.create_index(name, table, columns, postgresql_where=sa.text(where),
                        sqlite_where=sa.text(where))


def downgrade() -> None:
    for name, table, _, _ in INDEXES:
        op.drop_index(name, table_name=table)
