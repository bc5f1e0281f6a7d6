"""push subscriptions of console users, and the cursors of their digests of new cases

A subscription is owned by a device (the PWA) or by a console user, exactly one.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = sa.DateTime(timezone=True)
ONE_OWNER = '(device_id IS NULL) <> (user_id IS NULL)'


def _keep_outbox(sqlite: bool):
    """On SQLite, batch mode rebuilds push_subscriptions: DROP TABLE deletes its rows
    first, and the ON DELETE CASCADE would empty the outbox. Keep it aside meanwhile."""
    if sqlite:
        op.execute('CREATE TEMP TABLE push_messages_keep AS SELECT * FROM push_messages')


def _restore_outbox(sqlite: bool):
    if sqlite:
        op.execute('DELETE FROM push_messages')
        op.execute('INSERT INTO push_messages SELECT * FROM push_messages_keep')
        op.execute('DROP TABLE push_messages_keep')


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    _keep_outbox(sqlite)
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', BigSerial, nullable=True))
        batch_op.alter_column('device_id', existing_type=sa.String(length=36), nullable=True)
        batch_op.create_foreign_key(
            'fk_push_subscriptions_user_id_users', 'users', ['user_id'], ['id'],
            ondelete='CASCADE',
        )
        batch_op.create_index(batch_op.f('ix_push_subscriptions_user_id'), ['user_id'], unique=False)
        batch_op.create_check_constraint('ck_push_subscriptions_one_owner', ONE_OWNER)
    _restore_outbox(sqlite)
    op.create_table(
        'push_digest_cursors',
        sa.Column('user_id', BigSerial, nullable=False),
        sa.Column('watermark', TS, nullable=False),
        sa.Column('last_sent_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_table('push_digest_cursors')
    # Console users' subscriptions have no place in the old schema.
    op.execute('DELETE FROM push_subscriptions WHERE user_id IS NOT NULL')
    _keep_outbox(sqlite)
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_constraint('ck_push_subscriptions_one_owner', type_='check')
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_user_id'))
        batch_op.drop_constraint('fk_push_subscriptions_user_id_users', type_='foreignkey')
        batch_op.drop_column('user_id')
        batch_op.alter_column('device_id', existing_type=sa.String(length=36), nullable=False)
    _restore_outbox(sqlite)
