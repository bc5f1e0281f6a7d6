"""reports.merged_from_case_id: the case a report was in before a reviewer's merge

A reviewer may merge two cases of one district (server.services.cases.merges); the
reports of the absorbed case remember it here, so that splitting one of them out takes
that whole group back into its own case (the merge is undone). NULL for every other
report. No index: it is read only for the reports of one case.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column without a default: a plain ADD COLUMN on SQLite and PostgreSQL.
    op.add_column('reports', sa.Column('merged_from_case_id', sa.String(length=36), nullable=True))


def downgrade():
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 or later; PostgreSQL).
    op.drop_column('reports', 'merged_from_case_id')
