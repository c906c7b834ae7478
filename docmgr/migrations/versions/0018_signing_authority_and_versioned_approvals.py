"""signing authority rules, leaders' positions, approvals tied to a draft version

- ``signing_authorities``: each organisation's thẩm quyền ký, seeded with ND30's defaults
  (written out here as of this revision: a migration builds the same data whenever it
  runs, whatever the code's defaults become).
- ``users.leader_position``: head of the organisation or deputy. Existing leaders: the
  first active leader account of an organisation (by creation) is its head, the others
  deputies — offices are set up from the top, and an administrator corrects it with
  ``flask docmgr set-leader-position``.
- ``outgoing_route.version_no``: the draft version a decision was about. Existing
  decisions: the version current at the decision's time (the latest version uploaded
  at or before ``decided_at``), else the latest version.
- ``outgoing_documents.signer_authority``: the capacity the signer block stated when
  signed (unknown, NULL, for documents signed before).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

POSITIONS = ('head', 'deputy')
SIGNERS = ('head', 'deputy', 'unit_head')
AUTHORITIES = ('none', 'TM', 'KT', 'Q', 'TL', 'TUQ')
DOC_CLASSES = ('legal_normative', 'NQ', 'QĐ', 'CT', 'QC', 'QyĐ', 'TC', 'TB', 'HD', 'CTr',
               'KH', 'PA', 'ĐA', 'DA', 'BC', 'BB', 'TTr', 'HĐ', 'CV', 'CĐ', 'BGN', 'BTT',
               'GUQ', 'GM', 'GGT', 'GNP', 'PG', 'PC', 'PB', 'ThC', 'SY', 'SL', 'TrS')
LEADERS_ONLY = ('legal_normative', 'NQ', 'QĐ', 'CT', 'QC', 'QyĐ')


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def nd30_defaults() -> list[tuple[str, str, str, bool]]:
    rows = []
    for doc_class in DOC_CLASSES:
        rows += [(doc_class, 'head', 'none', True), (doc_class, 'head', 'TM', True),
                 (doc_class, 'head', 'Q', True), (doc_class, 'deputy', 'KT', True)]
        if doc_class not in LEADERS_ONLY:
            rows += [(doc_class, 'unit_head', 'TL', False),
                     (doc_class, 'unit_head', 'TUQ', False)]
    return rows


def upgrade() -> None:
    table = op.create_table(
        'signing_authorities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('doc_class', sa.String(length=20), nullable=False),
        sa.Column('signer', sa.String(length=20), nullable=False),
        sa.Column('authority', sa.String(length=10), nullable=False),
        sa.Column('allowed', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in('signer', SIGNERS), name=op.f('ck_signing_authorities_signer')),
        sa.CheckConstraint(_in('authority', AUTHORITIES),
                           name=op.f('ck_signing_authorities_authority')),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'],
                                name=op.f('fk_signing_authorities_org_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_authorities')),
        sa.UniqueConstraint('org_id', 'doc_class', 'signer', 'authority',
                            name=op.f('uq_signing_authorities_org_id_doc_class_signer_authority')),
    )
    with op.batch_alter_table('signing_authorities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_authorities_org_id'), ['org_id'],
                              unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leader_position', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(op.f('ck_users_leader_position'),
                                         _in('leader_position', POSITIONS))
    with op.batch_alter_table('outgoing_route', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version_no', sa.Integer(), nullable=True))
    with op.batch_alter_table('outgoing_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signer_authority', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(op.f('ck_outgoing_documents_signer_authority'),
                                         _in('signer_authority', AUTHORITIES))

    conn = op.get_bind()
    org_ids = conn.execute(sa.text("SELECT id FROM organizations ORDER BY id")).scalars().all()
    rows = [{'org_id': org_id, 'doc_class': doc_class, 'signer': signer,
             'authority': authority, 'allowed': allowed}
            for org_id in org_ids for doc_class, signer, authority, allowed in nd30_defaults()]
    if rows:
        conn.execute(table.insert().values(updated_at=sa.func.now()), rows)

    leaders = conn.execute(sa.text(
        "SELECT id, org_id FROM users WHERE role = 'leader' "
        "ORDER BY org_id, CASE WHEN active THEN 0 ELSE 1 END, created_at, id")).all()
    seen = set()
    for user_id, org_id in leaders:
        position = 'deputy' if org_id in seen else 'head'
        seen.add(org_id)
        conn.execute(sa.text("UPDATE users SET leader_position = :position WHERE id = :id"),
                     {'position': position, 'id': user_id})

    conn.execute(sa.text(
        "UPDATE outgoing_route SET version_no = (SELECT MAX(v.number) FROM outgoing_versions v "
        "WHERE v.document_id = outgoing_route.document_id "
        "AND v.uploaded_at <= outgoing_route.decided_at) "
        "WHERE decision IS NOT NULL AND decided_at IS NOT NULL"))
    conn.execute(sa.text(
        "UPDATE outgoing_route SET version_no = (SELECT MAX(v.number) FROM outgoing_versions v "
        "WHERE v.document_id = outgoing_route.document_id) "
        "WHERE decision IS NOT NULL AND version_no IS NULL"))


def downgrade() -> None:
    with op.batch_alter_table('outgoing_documents', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outgoing_documents_signer_authority'), type_='check')
        batch_op.drop_column('signer_authority')
    with op.batch_alter_table('outgoing_route', schema=None) as batch_op:
        batch_op.drop_column('version_no')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_leader_position'), type_='check')
        batch_op.drop_column('leader_position')
    with op.batch_alter_table('signing_authorities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_authorities_org_id'))
    op.drop_table('signing_authorities')
