"""identity_reveals.district_code: the district a reveal was made in

A reveal stays in the reveal log of the province where it was made, also after its
case is forwarded to another unit (issue 28); the new unit sees that an earlier reveal
happened, not its reason. Existing reveals take their case's district as it is now
(the best record there is).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity_reveals") as batch:
        batch.add_column(sa.Column("district_code", sa.String(16), nullable=True))
        batch.create_index("ix_identity_reveals_district_code", ["district_code"])
    op.execute(
        "UPDATE identity_reveals SET district_code = ("
        "SELECT cases.district_code FROM reports JOIN cases ON cases.id = reports.case_id "
        "WHERE reports.id = identity_reveals.report_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("identity_reveals") as batch:
        batch.drop_index("ix_identity_reveals_district_code")
        batch.drop_column("district_code")
