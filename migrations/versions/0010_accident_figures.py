"""accident_figures: crashes, deaths and injuries per district and month

Entered or imported by supervisors from their unit's statistics, so the console's
dashboard can show the province's 5-10 % reduction target against a base year beside
the reports. One row per district and month (``month`` is the month's first day).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'accident_figures',
        sa.Column('id', BigSerial, autoincrement=True, nullable=False),
        sa.Column('district_code', sa.String(length=16), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('crashes', sa.Integer(), nullable=False),
        sa.Column('deaths', sa.Integer(), nullable=False),
        sa.Column('injuries', sa.Integer(), nullable=False),
        sa.Column('entered_by', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            'crashes >= 0 AND deaths >= 0 AND injuries >= 0',
            name='ck_accident_figures_not_negative',
        ),
        sa.PrimaryKeyConstraint('id'),
        # Also the index of the dashboard's lookups: a district's months.
        sa.UniqueConstraint('district_code', 'month', name='uq_accident_figures_district_month'),
    )


def downgrade():
    op.drop_table('accident_figures')
