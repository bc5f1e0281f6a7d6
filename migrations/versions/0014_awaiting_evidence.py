"""cases.evidence_at: a case enters the reviewers' queue when its first evidence arrives

* ``cases.evidence_at``: when the server received the first evidence file of any of the
  case's reports (``media.received_at``); NULL while none has arrived. The reviewers'
  queue and digests show only cases with evidence; the others wait under "awaiting
  evidence" (server/services/queue.py), and their reports expire after
  ``REPORT_EVIDENCE_EXPIRY_HOURS`` (server/services/evidence_expiry.py).
* Index ``ix_cases_status_district_evidence`` (status, district_code, evidence_at): what
  the queue filters by.

Existing cases get the earliest ``received_at`` of their reports' media (NULL when none
was received: such cases leave the default queue and are listed as awaiting evidence).

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('evidence_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        'ix_cases_status_district_evidence', 'cases', ['status', 'district_code', 'evidence_at']
    )
    op.execute(
        """
        UPDATE cases SET evidence_at = (
            SELECT min(m.received_at) FROM media m JOIN reports r ON r.id = m.report_id
            WHERE r.case_id = cases.id AND m.received_at IS NOT NULL)
        """
    )


def downgrade():
    op.drop_index('ix_cases_status_district_evidence', table_name='cases')
    op.drop_column('cases', 'evidence_at')
