"""accounts, decisions, audit log and identity reveals of the review console

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'users',
        sa.Column('id', BigSerial, autoincrement=True, nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=False),
        sa.Column('province_code', sa.String(length=16), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username'),
    )
    op.create_table(
        'user_districts',
        sa.Column('user_id', BigSerial, nullable=False),
        sa.Column('district_code', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'district_code'),
    )
    op.create_table(
        'login_failures',
        sa.Column('id', BigSerial, autoincrement=True, nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('at', TS, nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_failures_username_ip_at', 'login_failures', ['username', 'ip', 'at'])
    op.create_table(
        'officer_devices',
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', BigSerial, nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('device_id'),
    )
    op.create_index('ix_officer_devices_user_id', 'officer_devices', ['user_id'])
    op.create_table(
        'decisions',
        sa.Column('id', BigSerial, autoincrement=True, nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=True),
        sa.Column('report_id', sa.String(length=36), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('reason_code', sa.String(length=48), nullable=True),
        sa.Column('public_note', sa.Text(), nullable=True),
        sa.Column('internal_note', sa.Text(), nullable=True),
        sa.Column('penalty_no', sa.String(length=64), nullable=True),
        sa.Column('actor_id', BigSerial, nullable=False),
        sa.Column('at', TS, nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_decisions_case_id', 'decisions', ['case_id'])
    op.create_index('ix_decisions_report_id', 'decisions', ['report_id'])
    op.create_table(
        'audit_log',
        sa.Column('id', BigSerial, autoincrement=True, nullable=False),
        sa.Column('actor_id', BigSerial, nullable=True),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=True),
        sa.Column('report_id', sa.String(length=36), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('at', TS, nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_log_case_id', 'audit_log', ['case_id'])
    op.create_table(
        'identity_reveals',
        sa.Column('id', BigSerial, autoincrement=True, nullable=False),
        sa.Column('actor_id', BigSerial, nullable=False),
        sa.Column('report_id', sa.String(length=36), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('at', TS, nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id']),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_identity_reveals_report_id', 'identity_reveals', ['report_id'])


def downgrade():
    op.drop_table('identity_reveals')
    op.drop_table('audit_log')
    op.drop_table('decisions')
    op.drop_table('officer_devices')
    op.drop_table('login_failures')
    op.drop_table('user_districts')
    op.drop_table('users')
