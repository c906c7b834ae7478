"""statistics indexes: issued outgoing documents by date, and the unconfirmed signatures

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Written out rather than imported from the model: a migration stays as it was written.
UNCONFIRMED_PG = ("status = 'issued' AND (signed_file_id IS NULL OR "
                  "(signature_report ->> 'verdict') IS DISTINCT FROM 'valid')")
UNCONFIRMED_SQLITE = ("status = 'issued' AND (signed_file_id IS NULL OR "
                      "json_extract(signature_report, '$.verdict') IS NOT 'valid')")


def upgrade() -> None:
    # GET /api/v1/stats counts issued documents of one organisation by issue date.
    op.create_index("ix_outgoing_org_status_date", "outgoing_documents",
                    ["org_id", "status", "doc_date"])
    # The few issued documents whose signatures were not confirmed valid, so that the
    # e-signed ratio needs no JSON parsing of every signature report.
    op.create_index("ix_outgoing_unconfirmed", "outgoing_documents", ["org_id", "doc_date"],
                    postgresql_where=sa.text(UNCONFIRMED_PG),
                    sqlite_where=sa.text(UNCONFIRMED_SQLITE))


def downgrade() -> None:
    op.drop_index("ix_outgoing_unconfirmed", table_name="outgoing_documents")
    op.drop_index("ix_outgoing_org_status_date", table_name="outgoing_documents")
