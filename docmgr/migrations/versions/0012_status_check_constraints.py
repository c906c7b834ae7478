"""status check constraints

The database refuses a status (or assignment role, or review decision) that the code does
not know. Existing rows already hold only these values.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 09:00:00.000000
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# The values as of this revision, written out rather than read from the enums: a migration
# must build the same schema whenever it runs. A member added later comes with its own
# migration replacing the constraint (tests/core/test_choices.py fails until it does).
ALLOWED = {
    ('incoming_documents', 'status'): ('pending', 'registered', 'assigned', 'in_progress',
                                       'completed', 'rejected'),
    ('incoming_assignments', 'role'): ('main', 'cooperate', 'info'),
    ('outgoing_documents', 'status'): ('draft', 'in_review', 'returned', 'awaiting_signature',
                                       'signed', 'issued'),
    ('outgoing_route', 'decision'): ('approved', 'returned'),
    ('dossiers', 'status'): ('open', 'closed'),
}


def upgrade() -> None:
    # On SQLite batch mode rebuilds each table to add the constraint (see
    # docmgr.migrations.foreign_keys_off for the references into them).
    for (table, column), values in ALLOWED.items():
        listed = ', '.join(f"'{value}'" for value in values)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(op.f(f'ck_{table}_{column}'),
                                             f'{column} IN ({listed})')


def downgrade() -> None:
    for table, column in reversed(ALLOWED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')
