"""A reviewer's decision and a report's evidence or a joining report, at the same moment,
on PostgreSQL: no deadlock, and the end state is exactly both changes.

The load test (bench/README.md, "Load") once saw a console decision answered 503: a
PostgreSQL deadlock (40P01). The decision took the status-feed lock and then the
report row, while a file completing the same report's evidence held the report row and
then wanted the case row and the feed lock. Every writer now follows one order (case
row, report rows, feed lock: ``server.services.cases.locks``).

To make the dangerous interleaving happen every time (no sleeps, no luck), a third
connection holds the case row locked while the two requests start, one after the
other; each is let go only once PostgreSQL shows it waiting for a lock
(``pg_stat_activity``), then the case is released. With the old order the second
request waited for the first one's report row while holding the feed lock, and
releasing the case closed the cycle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg.errors
import pytest
import sqlalchemy as sa
from flask import Flask

from server.extensions import db
from server.models import Case, Decision, Media, Report, StatusEvent, User
from server.services import accounts, cases, review
from server.services.cases.locks import _PHASH_LOCK, _lock_key, similar_media_lock_names
from tests.factories import Api
from tests.test_cases import send

WAIT_FOR_LOCK_S = 30.0


@pytest.fixture
def pg_app(app: Flask) -> Flask:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row and advisory lock order: PostgreSQL (SQLite serialises writers)")
        accounts.create_user("rev_lock", "correct horse battery", "reviewer", districts=["006"])
    return app


def _waiting(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
        ).scalar_one()


def _until_waiting(engine: sa.Engine, n: int) -> None:
    """Return once ``n`` sessions wait for a lock (an observed state, not a guess)."""
    end = time.monotonic() + WAIT_FOR_LOCK_S
    while _waiting(engine) < n:
        assert time.monotonic() < end, f"{n} sessions never waited for a lock"
        time.sleep(0.005)


@contextmanager
def _case_held(engine: sa.Engine, case_id: str) -> Iterator[None]:
    conn = engine.connect()
    tx = conn.begin()
    conn.execute(sa.text("SELECT 1 FROM cases WHERE id = :c FOR UPDATE"), {"c": case_id})
    try:
        yield
    finally:
        tx.rollback()
        conn.close()


def _in_order(app: Flask, case_id: str, steps: list[Callable[[], object]]) -> list[object]:
    """Run ``steps`` in threads, each started once the previous one waits for the held
    case; then release it. Returns each step's result (or the exception it raised)."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    results: list[object] = [None] * len(steps)

    def run(i: int) -> None:
        with app.app_context():
            try:
                results[i] = steps[i]()
            except Exception as exc:  # reported by the assertion on the results
                db.session.rollback()
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(steps))]
    try:
        with _case_held(engine, case_id):
            for i, t in enumerate(threads):
                t.start()
                _until_waiting(engine, i + 1)
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive()
    finally:
        engine.dispose()
    return results


def _decide(case_id: str, confirm_count: int) -> Callable[[], object]:
    def step() -> object:
        user = db.session.scalars(sa.select(User).where(User.username == "rev_lock")).one()
        case = db.session.get(Case, case_id)
        return len(review.decide(user, case, "verify", confirm_count=confirm_count))

    return step


def _statuses(app: Flask, report_id: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(StatusEvent.status)
                .where(StatusEvent.report_id == report_id)
                .order_by(StatusEvent.seq)
            )
        )


def _case_of(app: Flask, report_id: str) -> str:
    with app.app_context():
        return db.session.get(Report, report_id).case_id


def test_a_decision_while_the_reports_evidence_completes(pg_app: Flask) -> None:
    client = pg_app.test_client()
    api, rid, [photo] = send(client)
    case_id = _case_of(pg_app, rid)
    upload = Api(pg_app.test_client(), api.device_id, api.token)

    results = _in_order(
        pg_app,
        case_id,
        [lambda: upload.put_media(rid, photo).status_code, _decide(case_id, 1)],
    )

    assert results == [201, 1]
    assert _statuses(pg_app, rid) == ["awaiting_evidence", "submitted", "verified"]
    with pg_app.app_context():
        assert db.session.get(Media, photo.media_id).received_at is not None
        case = db.session.get(Case, case_id)
        assert (case.verdict, case.report_count) == ("verified", 1)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 1


def test_a_decision_while_a_report_joins_the_case(pg_app: Flask) -> None:
    client = pg_app.test_client()
    _, first, _ = send(client)
    case_id = _case_of(pg_app, first)
    joining = Api.register(pg_app.test_client())
    holder: dict[str, str] = {}

    def join() -> object:
        _, rid, _ = send(joining.client, minutes=3, api=joining)
        holder["rid"] = rid
        return rid

    # The join waits for the case first, so the decision sees two reports: it reaches both.
    results = _in_order(pg_app, case_id, [join, _decide(case_id, 2)])

    assert results[1] == 2, results
    second = holder["rid"]
    assert _case_of(pg_app, second) == case_id
    assert _statuses(pg_app, first) == ["awaiting_evidence", "verified"]
    assert _statuses(pg_app, second) == ["awaiting_evidence", "verified"]
    with pg_app.app_context():
        case = db.session.get(Case, case_id)
        assert (case.verdict, case.report_count) == ("verified", 2)


def test_a_decision_on_a_stale_page_after_a_join_is_refused_not_deadlocked(
    pg_app: Flask,
) -> None:
    client = pg_app.test_client()
    _, first, _ = send(client)
    case_id = _case_of(pg_app, first)
    joining = Api.register(pg_app.test_client())

    def join() -> object:
        return send(joining.client, minutes=3, api=joining)[1]

    results = _in_order(pg_app, case_id, [join, _decide(case_id, 1)])

    assert isinstance(results[1], review.DecisionError), results
    assert _statuses(pg_app, first) == ["awaiting_evidence"]
    with pg_app.app_context():
        case = db.session.get(Case, case_id)
        assert (case.verdict, case.report_count) == (None, 2)


def _aborted(sqlstate: str) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("UPDATE cases …", {}, psycopg.errors.lookup(sqlstate)("x"))


@pytest.mark.parametrize(
    ("failures", "calls", "fails"),
    [
        ([], 1, False),
        (["40P01"], 2, False),  # a deadlock victim: run again
        (["40001", "40P01"], 3, False),  # a serialization failure, then a deadlock
        (["40P01", "40P01", "40P01"], 3, True),  # bounded: the third failure is answered
        (["57014"], 1, True),  # a cancelled statement is not a conflict: not run again
    ],
)
def test_a_decision_aborted_by_a_lock_conflict_runs_again_a_bounded_number_of_times(
    app: Flask, failures: list[str], calls: int, fails: bool
) -> None:
    made: list[int] = []
    pending = list(failures)

    def act() -> str:
        made.append(1)
        if pending:
            raise _aborted(pending.pop(0))
        return "decided"

    with app.app_context():
        if fails:
            with pytest.raises(sa.exc.OperationalError):
                review.retry_on_conflict(act)
        else:
            assert review.retry_on_conflict(act) == "decided"
    assert len(made) == calls


# ------------------------------------------------------------ similar-photo neighbourhood

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
WINDOW = timedelta(hours=2)


@pytest.mark.parametrize(
    ("a", "b", "share"),
    [
        ((T0, "aa"), (T0, "bb"), True),  # same moment
        ((T0, "aa"), (T0 + WINDOW, "bb"), True),  # exactly a window apart
        ((T0, "aa"), (T0 - WINDOW, "bb"), True),
        ((T0, "aa"), (T0 + WINDOW * 0.99, "bb"), True),
        ((T0 + timedelta(seconds=1), "aa"), (T0 + WINDOW * 1.9, "bb"), True),
        ((T0, "aa"), (T0 + WINDOW * 3, "bb"), False),  # far apart: no wait
        ((T0, "aa"), (T0 - WINDOW * 3, "bb"), False),
        ((T0, "aa"), (T0 + timedelta(days=40), "aa"), True),  # the same pHash at any time
    ],
)
def test_photos_that_can_match_share_a_lock_name_and_others_do_not(a, b, share) -> None:
    names_a = set(similar_media_lock_names(a[0], a[1], WINDOW))
    names_b = set(similar_media_lock_names(b[0], b[1], WINDOW))
    assert bool(names_a & names_b) is share


@pytest.mark.parametrize("minutes", [0, 30, 24 * 60])
def test_a_photo_receipt_waits_only_for_receipts_it_could_merge_with(pg_app, minutes) -> None:
    """One session holds a receipt's neighbourhood; another takes the locks of a photo
    ``minutes`` later: near in time it must wait (lock timeout), a day later it must not
    (the similar-photo lock used to be one global lock: every receipt waited)."""
    engine = sa.create_engine(pg_app.config["SQLALCHEMY_DATABASE_URI"])
    holder = engine.connect()
    tx = holder.begin()
    with pg_app.app_context():
        window = cases.phash_window()
    try:
        holder.execute(
            sa.text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": _lock_key(_PHASH_LOCK)}
        )
        for name in similar_media_lock_names(T0, "0f" * 8, window):
            holder.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(name)})
        with pg_app.app_context():
            db.session.execute(sa.text("SET LOCAL lock_timeout = '300ms'"))
            later = T0 + timedelta(minutes=minutes)
            near = timedelta(minutes=minutes) <= window
            if near:
                with pytest.raises(sa.exc.OperationalError) as err:
                    cases.lock_similar_media_near(later, "f0" * 8, window)
                assert isinstance(err.value.orig, psycopg.errors.LockNotAvailable)
            else:
                cases.lock_similar_media_near(later, "f0" * 8, window)  # no wait
            db.session.rollback()
    finally:
        tx.rollback()
        holder.close()
        engine.dispose()
