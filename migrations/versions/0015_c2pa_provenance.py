"""media.provenance, media.provenance_detail: C2PA Content Credentials of evidence files

* ``media.provenance``: what the file's Content Credentials (C2PA manifest) say, checked
  once when its bytes are received (server/provenance.py): ``none`` (no credentials, the
  normal case), ``signed`` (camera-signed, unedited), ``edited`` (signed, but the manifest
  records edits or ingredients) or ``invalid`` (validation failed, or the manifest could
  not be read). NULL: received before this revision, not received yet, or not checked.
* ``media.provenance_detail``: JSON with the claim generator, the signer and issuer, the
  signing time, whether the signer is on a trust list, the actions and the validation codes.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('media', sa.Column('provenance', sa.String(length=8), nullable=True))
    op.add_column('media', sa.Column('provenance_detail', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('media') as batch:
        batch.drop_column('provenance_detail')
        batch.drop_column('provenance')
