"""reports.code: the short code a person quotes for a report

Eight characters of Crockford's base32 alphabet (server/services/report_codes.py),
unique (index ``uq_reports_code``). Reports stored before get a random code here.

Revision ID: 0013
Revises: 0012
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# A copy, not an import: a migration must not change when the application does.
ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
BATCH = 1000


def _codes(n, taken):
    out = []
    while len(out) < n:
        code = ''.join(secrets.choice(ALPHABET) for _ in range(8))
        if code not in taken:
            taken.add(code)
            out.append(code)
    return out


def upgrade():
    # NOT NULL from the start (SQLite cannot add it later without copying the table, which
    # its foreign keys refuse): '' until the backfill below, never kept.
    op.add_column(
        'reports',
        sa.Column('code', sa.String(length=8), nullable=False, server_default=''),
    )
    conn = op.get_bind()
    reports = sa.table('reports', sa.column('id', sa.String), sa.column('code', sa.String))
    taken = set()
    while True:
        ids = conn.execute(
            sa.select(reports.c.id).where(reports.c.code == '').limit(BATCH)
        ).scalars().all()
        if not ids:
            break
        update = (
            reports.update()
            .where(reports.c.id == sa.bindparam('b_id'))
            .values(code=sa.bindparam('b_code'))
        )
        codes = _codes(len(ids), taken)
        conn.execute(update, [{'b_id': i, 'b_code': c} for i, c in zip(ids, codes, strict=True)])
    if conn.dialect.name != 'sqlite':
        op.alter_column('reports', 'code', server_default=None)
    op.create_index('uq_reports_code', 'reports', ['code'], unique=True)


def downgrade():
    op.drop_index('uq_reports_code', table_name='reports')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE reports DROP COLUMN code')  # SQLite >= 3.35, no table copy
    else:
        op.drop_column('reports', 'code')
