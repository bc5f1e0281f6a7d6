"""Keeping ``stats_rollup`` exact: recompute the buckets that changes marked dirty.

Database triggers (migration 0016) append the (district, month) buckets that every
insert, update or delete of a report, a case or a status event touches to
``stats_dirty``, in that change's own transaction and whatever code made it. Before
reading, :func:`refresh` recomputes the dirty buckets of the period and area
(:func:`.rollup_counts.aggregate`) and deletes the marks it read, under row locks
(PostgreSQL: ``FOR UPDATE`` on the marks, an advisory lock per bucket), so a change
committed during a refresh keeps its mark and is counted by the next one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ...extensions import db
from ...models import StatsDirty, StatsRollup
from . import rollup_counts
from .rollup_counts import Bucket, Key

MARKS_PER_DELETE = 500
ROWS_PER_INSERT = 5000
REFRESH_AT_MOST = 200  # dirty buckets refreshed one by one; more: one rebuild


def _rows(counts: Counter[Key], bucket: Bucket | None = None) -> list[dict[str, Any]]:
    """The table rows of ``counts`` (of one bucket, or all), zero counts left out."""
    return [
        {"district_code": d, "month": m, "kind": k, "dim": dim, "key": key, "n": n}
        for (d, m, k, dim, key), n in counts.items()
        if n and (bucket is None or (d, m) == bucket)
    ]


def _store(bucket: Bucket, counts: Counter[Key]) -> None:
    db.session.execute(
        sa.delete(StatsRollup).where(
            StatsRollup.district_code == bucket[0], StatsRollup.month == bucket[1]
        )
    )
    rows = _rows(counts, bucket)
    if rows:
        db.session.execute(sa.insert(StatsRollup), rows)


def _lock_bucket(bucket: Bucket) -> None:
    """PostgreSQL: one refresher at a time per bucket (until the transaction ends)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.select(
                sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"stats:{bucket[0]}:{bucket[1]}"))
            )
        )


def refresh(districts: Iterable[str] | None, months: Iterable[str]) -> int:
    """Recompute the dirty buckets of these districts (None: all) and months; commits.
    Returns how many buckets were recomputed."""
    months = sorted(set(months))
    query = (
        sa.select(StatsDirty.id, StatsDirty.district_code, StatsDirty.month)
        .where(StatsDirty.month.in_(months))
        .order_by(StatsDirty.id)
        .with_for_update()
    )
    if districts is not None:
        query = query.where(StatsDirty.district_code.in_(sorted(districts)))
    marks = db.session.execute(query).all()
    if not marks:
        db.session.commit()
        return 0
    buckets = sorted({(d, m) for _, d, m in marks})
    for bucket in buckets:
        _lock_bucket(bucket)
        _store(bucket, rollup_counts.aggregate(bucket))
    ids = [i for i, _, _ in marks]
    for lo in range(0, len(ids), MARKS_PER_DELETE):
        chunk = ids[lo : lo + MARKS_PER_DELETE]
        db.session.execute(sa.delete(StatsDirty).where(StatsDirty.id.in_(chunk)))
    db.session.commit()
    return len(buckets)


def refresh_all() -> int:
    """Recompute every dirty bucket (``flask --app wsgi stats refresh``); commits.
    A first refresh of a large database aggregates it in one pass."""
    pending = db.session.execute(sa.select(sa.func.count()).select_from(StatsDirty)).scalar_one()
    buckets = db.session.execute(
        sa.select(StatsDirty.district_code, StatsDirty.month).distinct()
    ).all()
    if len(buckets) < REFRESH_AT_MOST:
        months = sorted({m for _, m in buckets if m})
        n = refresh(None, months)
        db.session.execute(sa.delete(StatsDirty).where(StatsDirty.month.is_(None)))
        db.session.commit()
        return n
    return rebuild() if pending else 0


def rebuild() -> int:
    """Recompute every bucket from the base tables in one pass; commits.

    PostgreSQL: one REPEATABLE READ snapshot for the whole count, so the marks deleted
    are exactly those of the changes it saw (a change that commits meanwhile keeps its
    mark); other refreshers wait on the rollup table's lock. SQLite: writers are
    serialised anyway.
    """
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        db.session.execute(sa.text("LOCK TABLE stats_rollup IN SHARE ROW EXCLUSIVE MODE"))
    db.session.execute(sa.delete(StatsDirty))
    counts = rollup_counts.aggregate(None)
    db.session.execute(sa.delete(StatsRollup))
    rows = _rows(counts)
    for lo in range(0, len(rows), ROWS_PER_INSERT):
        db.session.execute(sa.insert(StatsRollup), rows[lo : lo + ROWS_PER_INSERT])
    db.session.commit()
    return len({(d, m) for d, m, *_ in counts})
