"""login_throttles: progressive login delays per address, account and pair; no account lock

users.failed_logins and users.locked_until go: the hard lock any stranger could trigger
with five wrong passwords is replaced by core/throttle.py.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 09:00:00
"""
import sqlalchemy as sa
from alembic import op

import docmgr.db

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_throttles',
        sa.Column('key', sa.String(length=160), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', docmgr.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('blocked_until', docmgr.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('trusted_until', docmgr.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('forget_at', docmgr.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttles')),
    )
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttles_forget_at'), ['forget_at'],
                              unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('locked_until', docmgr.db.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttles_forget_at'))
    op.drop_table('login_throttles')
