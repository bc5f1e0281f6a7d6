"""drop ix_reports_plate_match_key: a prefix of ix_reports_plate_violation_time

The only query on the plate match key (the same-plate candidates of an ingest) filters
on key, violation and a captured_at range: ix_reports_plate_violation_time. The
single-column index only cost one more B-tree insert per report.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_reports_plate_match_key', table_name='reports')


def downgrade():
    op.create_index('ix_reports_plate_match_key', 'reports', ['plate_match_key'], unique=False)
