"""users.is_deputy; classified documents assigned to a unit re-indexed for its heads

A classified incoming document assigned to a unit is now readable by the unit's head and
deputies (Phó trưởng phòng) and by the persons named on it, no longer by every member.
The search index names who may open a document: such documents were indexed for the
principal ``unit:<id>``, which no user carries any more, and are queued here to be
indexed again for ``unit:<id>:heads``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-09 10:00:00
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import docmgr.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_outbox = sa.table('outbox', sa.column('topic', sa.String), sa.column('key', sa.String),
                   sa.column('created_at', docmgr.db.UTCDateTime(timezone=True)),
                   sa.column('attempts', sa.Integer), sa.column('last_error', sa.Text))


def _requeue_unit_classified() -> None:
    """Queue the classified documents assigned to a unit for re-indexing: their principals
    in the index change on upgrade and on downgrade alike."""
    ids = op.get_bind().execute(sa.text(
        "SELECT d.id FROM incoming_documents d WHERE d.secrecy <> 'normal' AND EXISTS ("
        "SELECT 1 FROM incoming_assignments a WHERE a.document_id = d.id "
        "AND a.unit_id IS NOT NULL AND a.active) ORDER BY d.id")).scalars().all()
    if ids:
        moment = datetime.now(UTC)
        op.bulk_insert(_outbox, [{'topic': 'index', 'key': f'in:{doc_id}', 'created_at': moment,
                                  'attempts': 0, 'last_error': ''} for doc_id in ids])


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_deputy', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    _requeue_unit_classified()


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_deputy')
    _requeue_unit_classified()
