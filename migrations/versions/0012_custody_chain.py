"""custody_chain, device_keys, reports' capture signatures: evidence custody

* ``custody_chain``: the tamper-evident custody trail. Every status event, reviewer's
  decision, split, merge, forward, identity reveal and evidence receipt appends one
  entry (server/services/custody.py). ``seq`` is written by the application under the
  chain lock, 1, 2, 3 ...: no gaps, no fork.
* ``device_keys``: a device's ECDSA P-256 public key (SPKI DER, base64), one per device,
  never replaced (a new key is a new device registration).
* ``reports.signature_status`` (``valid``, ``unsigned``, ``invalid``; NULL for reports
  stored before), ``capture_manifest`` (the signed bytes as text), ``capture_signature``
  (base64url of r||s) and ``signing_key_id``: the capture's seal and its check.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

ChainSeq = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'custody_chain',
        sa.Column('seq', ChainSeq, autoincrement=False, nullable=False),
        sa.Column('kind', sa.String(length=48), nullable=False),
        sa.Column('subject', sa.String(length=36), nullable=True),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('at', TS, nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('seq'),
    )
    op.create_index('ix_custody_chain_subject', 'custody_chain', ['subject'])
    op.create_table(
        'device_keys',
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('key_id', sa.String(length=64), nullable=False),
        sa.Column('public_key', sa.Text(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('device_id'),
    )
    op.add_column('reports', sa.Column('signature_status', sa.String(length=16), nullable=True))
    op.add_column('reports', sa.Column('capture_manifest', sa.Text(), nullable=True))
    op.add_column('reports', sa.Column('capture_signature', sa.String(length=128), nullable=True))
    op.add_column('reports', sa.Column('signing_key_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('reports') as batch:
        batch.drop_column('signing_key_id')
        batch.drop_column('capture_signature')
        batch.drop_column('capture_manifest')
        batch.drop_column('signature_status')
    op.drop_table('device_keys')
    op.drop_index('ix_custody_chain_subject', table_name='custody_chain')
    op.drop_table('custody_chain')
