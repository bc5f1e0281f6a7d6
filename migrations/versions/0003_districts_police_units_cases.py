"""districts, police units, cases

Revision ID: 0003
Revises: 0002

Written by hand (0002 is written in parallel): only the tables and columns of the
routing/cases work. Reports existing before this revision keep district_code, route_rule
and case_id NULL (no backfill: there is no production data yet).
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('districts',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('province_code', sa.String(length=16), nullable=False),
    sa.Column('province_name', sa.String(length=200), nullable=False),
    sa.Column('geometry', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('districts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_districts_province_code'), ['province_code'], unique=False)

    op.create_table('provinces',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('geometry', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )

    op.create_table('district_imports',
    sa.Column('id', BigSerial, autoincrement=True, nullable=False),
    sa.Column('token', sa.String(length=36), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )

    op.create_table('police_units',
    sa.Column('district_code', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('district_code')
    )
    with op.batch_alter_table('police_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_police_units_code'), ['code'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('district_code', sa.String(length=16), nullable=True),
    sa.Column('unit_code', sa.String(length=32), nullable=True),
    sa.Column('first_report_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('merged_into_id', sa.String(length=36), nullable=True),
    sa.Column('manual', sa.Boolean(), nullable=False),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_district_code'), ['district_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_unit_code'), ['unit_code'], unique=False)

    op.create_table('case_events',
    sa.Column('seq', BigSerial, autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=True),
    sa.Column('other_case_id', sa.String(length=36), nullable=True),
    sa.Column('reason', sa.String(length=24), nullable=True),
    sa.Column('from_district', sa.String(length=16), nullable=True),
    sa.Column('to_district', sa.String(length=16), nullable=True),
    sa.Column('from_unit', sa.String(length=32), nullable=True),
    sa.Column('to_unit', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('route_rule', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('route_distance_m', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('route_location_source', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('case_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('join_reason', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('join_match_report_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_reports_case_id_cases', 'cases', ['case_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_reports_district_code'), ['district_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_reports_plate_violation_time', ['plate_match_key', 'violation', 'captured_at'], unique=False)

    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phash', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_media_phash'), ['phash'], unique=False)
        batch_op.create_index('ix_media_captured_phash', ['captured_at', 'phash', 'report_id'], unique=False)


def downgrade():
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_index('ix_media_captured_phash')
        batch_op.drop_index(batch_op.f('ix_media_phash'))
        batch_op.drop_column('captured_at')
        batch_op.drop_column('phash')

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_plate_violation_time')
        batch_op.drop_index(batch_op.f('ix_reports_case_id'))
        batch_op.drop_index(batch_op.f('ix_reports_district_code'))
        batch_op.drop_constraint('fk_reports_case_id_cases', type_='foreignkey')
        batch_op.drop_column('joined_at')
        batch_op.drop_column('join_match_report_id')
        batch_op.drop_column('join_reason')
        batch_op.drop_column('case_id')
        batch_op.drop_column('route_location_source')
        batch_op.drop_column('route_distance_m')
        batch_op.drop_column('route_rule')
        batch_op.drop_column('district_code')

    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_events_case_id'))
    op.drop_table('case_events')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_unit_code'))
        batch_op.drop_index(batch_op.f('ix_cases_district_code'))
    op.drop_table('cases')
    with op.batch_alter_table('police_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_police_units_code'))
    op.drop_table('police_units')
    op.drop_table('district_imports')
    op.drop_table('provinces')
    with op.batch_alter_table('districts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_districts_province_code'))
    op.drop_table('districts')
