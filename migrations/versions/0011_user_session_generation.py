"""users.session_generation: logout, a new password and deactivation end console sessions

A console session cookie is signed on the client; it carries the user's session
generation from login, and the console accepts it only while the user's row has the same
number. Logout, setting a password and deactivation add one to it.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'users',
        sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'),
    )


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_generation')
