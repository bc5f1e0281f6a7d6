"""custody_chain.subject_prev_hash and v: each subject's trail has its own verifiable order

Every entry also carries the hash of the previous entry with the same subject (the case,
a report, a file): deleting, reordering or editing an entry of a case's trail breaks the
trail's links even where the neighbouring entries of the global chain are not in an
evidence package (issue 27, sync/PROTOCOL.md §8). ``v`` 2 entries (written from now on)
hash ``subject_prev_hash`` too; existing entries stay ``v`` 1 with their hashes
unchanged (heads printed earlier still match) and get their links computed here, in seq
order, on SQLite and PostgreSQL alike. ``ix_custody_chain_subject_seq`` finds a subject's
last entry at append time.

``media.provenance`` widens to 16 characters for ``untrusted`` (a C2PA signer not on the
configured trust list).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BATCH = 5000


def upgrade():
    op.add_column(
        "custody_chain", sa.Column("subject_prev_hash", sa.String(length=64), nullable=True)
    )
    op.add_column(
        "custody_chain",
        sa.Column("v", sa.SmallInteger(), nullable=False, server_default="1"),
    )
    op.create_index("ix_custody_chain_subject_seq", "custody_chain", ["subject", "seq"])
    conn = op.get_bind()
    with op.batch_alter_table("media") as batch:
        batch.alter_column(
            "provenance", type_=sa.String(length=16), existing_type=sa.String(length=8)
        )
    chain = sa.table(
        "custody_chain",
        sa.column("seq", sa.BigInteger()),
        sa.column("subject", sa.String()),
        sa.column("hash", sa.String()),
        sa.column("subject_prev_hash", sa.String()),
    )
    last: dict[str, str] = {}
    after = 0
    update = (
        sa.update(chain)
        .where(chain.c.seq == sa.bindparam("b_seq"))
        .values(subject_prev_hash=sa.bindparam("b_link"))
    )
    while True:
        rows = conn.execute(
            sa.select(chain.c.seq, chain.c.subject, chain.c.hash)
            .where(chain.c.seq > after)
            .order_by(chain.c.seq)
            .limit(BATCH)
        ).all()
        links = []
        for seq, subject, digest in rows:
            if subject is not None:
                links.append({"b_seq": seq, "b_link": last.get(subject, GENESIS)})
                last[subject] = digest
            after = seq
        if links:
            conn.execute(update, links)
        if len(rows) < BATCH:
            break


def downgrade():
    op.execute("UPDATE media SET provenance = 'signed' WHERE provenance = 'untrusted'")
    with op.batch_alter_table("media") as batch:
        batch.alter_column(
            "provenance", type_=sa.String(length=8), existing_type=sa.String(length=16)
        )
    op.drop_index("ix_custody_chain_subject_seq", table_name="custody_chain")
    with op.batch_alter_table("custody_chain") as batch:
        batch.drop_column("v")
        batch.drop_column("subject_prev_hash")
