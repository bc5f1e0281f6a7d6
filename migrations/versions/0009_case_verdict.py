"""cases.verdict and cases.verdict_at: where a case stands in the review

``verdict`` is NULL while the case waits for a reviewer; ``verified``, ``rejected`` and
``penalty_issued`` lock the case (reopening it is an audited act with a reason);
``needs_info`` waits for the reporter. ``verdict_at`` is when it last changed. Existing
cases take the verdict of their latest verify/reject/needs_info decision (and
``penalty_issued`` when that verification carried a penalty decision number).

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_LATEST = (
    "(SELECT {col} FROM decisions d WHERE d.case_id = cases.id"
    " AND d.kind IN ('verify', 'reject', 'needs_info') ORDER BY d.id DESC LIMIT 1)"
)


def upgrade():
    op.add_column('cases', sa.Column('verdict', sa.String(length=16), nullable=True))
    op.add_column('cases', sa.Column('verdict_at', sa.DateTime(timezone=True), nullable=True))
    kind, penalty, at = (_LATEST.format(col=c) for c in ('d.kind', 'd.penalty_no', 'd.at'))
    op.execute(
        f"UPDATE cases SET verdict = CASE {kind}"
        f" WHEN 'verify' THEN CASE WHEN {penalty} IS NULL THEN 'verified' ELSE 'penalty_issued' END"
        " WHEN 'reject' THEN 'rejected' WHEN 'needs_info' THEN 'needs_info' END,"
        f" verdict_at = {at}"
    )


def downgrade():
    op.drop_column('cases', 'verdict_at')
    op.drop_column('cases', 'verdict')
