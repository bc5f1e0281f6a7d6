"""report_answers: a reporter's answer to a request for information (issue 26)

* ``report_answers``: one answer of a reporter to a reviewer's request for more
  information (``needs_info``) on a report: a short text and/or files. ``id`` is the
  phone's answer id (the PUT is idempotent by it, ``body_digest`` telling an identical
  retry from a conflict); ``case_id`` is the report's case when the answer arrived.
* ``media.answer_id``: the answer a file came with (NULL: a file of the report itself).
  An answer's files are media of the report, so they travel the same upload paths (tus
  or direct PUT) and the same verification.
* ``cases.answered_at``: when a reporter last answered a request for information on the
  case; the queue shows it first, marked "đã bổ sung", until the next decision clears it.

Nothing existing changes: the new columns are NULL for existing rows.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_answers',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('report_id', sa.String(36), sa.ForeignKey('reports.id'), nullable=False),
        sa.Column('case_id', sa.String(36), nullable=True),
        sa.Column('body_digest', sa.String(64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_report_answers_report', 'report_answers', ['report_id'])
    op.create_index('ix_report_answers_case', 'report_answers', ['case_id'])
    # Plain ADD COLUMN (no batch copy on SQLite: the tables' statistics triggers stay).
    op.add_column('media', sa.Column('answer_id', sa.String(36), nullable=True))
    op.add_column('cases', sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('cases', 'answered_at')
    op.drop_column('media', 'answer_id')
    op.drop_index('ix_report_answers_case', table_name='report_answers')
    op.drop_index('ix_report_answers_report', table_name='report_answers')
    op.drop_table('report_answers')
