"""The evidence custody trail (issue 16, item 3): a hash chain of every status event,
decision, split, merge, forward, reveal and evidence receipt.

``flask --app wsgi audit verify`` passes on an untouched database and names the first
entry that does not match after a row is edited or deleted directly in the database;
``audit head`` and the review workbook print the head, which anchors the chain against a
rewrite of the whole of it. Concurrent appends keep one linear chain. Every test runs on
SQLite and on PostgreSQL (the world is :func:`tests.test_console.build_world`).
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from server.extensions import db
from server.models import CustodyEntry, Media, Report, StatusEvent
from server.services import custody, review
from tests.factories import SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE
from tests.test_console import World, build_world, post, session_for

REVEAL_REASON = "Công văn 12/TA của Tòa án nhân dân, xác minh nhân chứng"


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


def _entries(app: Flask) -> list[CustodyEntry]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(CustodyEntry).order_by(CustodyEntry.seq)))
        db.session.expunge_all()
        return rows


def _cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["audit", *args])


def _sql(app: Flask, statement: str, **params: object) -> None:
    with app.app_context():
        db.session.execute(sa.text(statement), params)
        db.session.commit()


# ------------------------------------------------------------------ events make entries


def test_every_report_status_and_evidence_receipt_is_in_the_chain(app: Flask, world: World) -> None:
    entries = _entries(app)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    a1, media = world.reports["a1"], world.media["a1"]
    mine = [(e.kind, e.subject) for e in entries if e.subject in (a1, media)]
    # The receipt and the status it completes share a transaction; the receipt is last.
    assert mine == [("status", a1), ("status", a1), ("evidence_received", media)]
    receipt = next(e for e in entries if e.kind == "evidence_received" and e.subject == media)
    content = json.loads(receipt.content)
    with app.app_context():
        stored = db.session.get(Media, media)
        report = db.session.get(Report, a1)
        assert (content["sha256"], content["size"]) == (stored.sha256, stored.size)
        assert content["report_id"] == a1 and content["case_id"] == report.case_id
        # One entry for every status event and every received file, no more.
        events = db.session.scalar(sa.select(sa.func.count()).select_from(StatusEvent))
        received = db.session.scalar(
            sa.select(sa.func.count()).select_from(Media).where(Media.received_at.is_not(None))
        )
    assert sum(e.kind == "status" for e in entries) == events
    assert sum(e.kind == "evidence_received" for e in entries) == received
    statuses = [json.loads(e.content)["status"] for e in entries if e.subject == a1]
    assert statuses == ["awaiting_evidence", "submitted"]


# action -> (console user, request, expected (kind, subject name) in order)
ACTIONS: dict[str, tuple[str, Callable[[World], tuple[str, dict]], list[tuple[str, str]]]] = {
    "verify": (
        "rev_a",
        lambda w: (
            f"/console/cases/{w.cases['A']}/decide",
            {"kind": "verify", "confirm_count": "2"},
        ),
        [("status", "a1"), ("status", "a2"), ("case_verify", "A")],
    ),
    "reject": (
        "rev_a",
        lambda w: (
            f"/console/cases/{w.cases['A3']}/decide",
            {"kind": "reject", "reason_code": "duplicate", "confirm_count": "1"},
        ),
        [("status", "a3"), ("case_reject", "A3")],
    ),
    "split": (
        "rev_a",
        lambda w: (
            f"/console/cases/{w.cases['A']}/split",
            {"report_id": w.reports["a2"], "reason": "xe khác"},
        ),
        [("report_split", "A")],
    ),
    "merge": (
        "rev_a",
        lambda w: (f"/console/cases/{w.cases['A']}/merge", {"other": w.cases["A3"][:8]}),
        [("cases_merged", "A")],
    ),
    "forward": (
        "rev_a",
        lambda w: (f"/console/cases/{w.cases['A3']}/forward", {"to_district": "001"}),
        [("case_forwarded", "A3")],
    ),
    "reveal": (
        "sup_hn",
        lambda w: (f"/console/reports/{w.reports['a1']}/reveal", {"reason": REVEAL_REASON}),
        [("identity_revealed", "A")],
    ),
}


def _subject(world: World, name: str) -> str:
    return world.cases.get(name) or world.reports[name]


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_decision_and_reveal_appends_to_the_chain_without_any_identity(
    app: Flask, world: World, action: str
) -> None:
    username, request, expected = ACTIONS[action]
    before = len(_entries(app))
    path, data = request(world)
    resp = post(session_for(app, username), path, data)
    assert resp.status_code in (200, 302), resp.status_code
    added = _entries(app)[before:]
    assert [(e.kind, e.subject) for e in added] == [
        (kind, _subject(world, name)) for kind, name in expected
    ]
    for entry in added:
        for secret in (SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE):
            assert secret not in entry.content
    last = json.loads(added[-1].content)
    assert last["action"] == expected[-1][0] and isinstance(last["actor_id"], int)
    result = _cli(app, "verify")
    assert result.exit_code == 0, result.output
    assert f"OK: {before + len(added)} entries" in result.output


def test_a_decision_that_fails_leaves_no_entry(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry is written in the event's transaction: no entry, no event."""
    before = _entries(app)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the chain is unavailable")

    with app.app_context():
        from server.models import Case, User

        user = db.session.scalar(sa.select(User).where(User.username == "rev_a"))
        case = db.session.get(Case, world.cases["A3"])
        events = db.session.scalar(sa.select(sa.func.count()).select_from(StatusEvent))
        monkeypatch.setattr(custody, "audit_event", broken)
        with pytest.raises(RuntimeError):
            review.decide(user, case, "reject", reason_code="duplicate", confirm_count=1)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StatusEvent)) == events
        assert db.session.get(Case, world.cases["A3"]).verdict is None
    assert [e.hash for e in _entries(app)] == [e.hash for e in before]


# ------------------------------------------------------------------ tampering


def test_verify_passes_on_an_untouched_database_and_head_prints_the_last_entry(
    app: Flask, world: World
) -> None:
    last = _entries(app)[-1]
    result = _cli(app, "verify")
    assert result.exit_code == 0
    assert result.output.strip() == f"OK: {last.seq} entries, head {last.seq}:{last.hash}"
    head = _cli(app, "head")
    assert head.exit_code == 0 and head.output.strip() == f"{last.seq}:{last.hash}"


EDITS = {
    "content": (
        "UPDATE custody_chain SET content = replace(content, '\"status\"', '\"Status\"') "
        "WHERE seq = :seq",
        "does not match its hash",
    ),
    "kind": ("UPDATE custody_chain SET kind = 'forged' WHERE seq = :seq", "does not match"),
    "subject": ("UPDATE custody_chain SET subject = 'x' WHERE seq = :seq", "does not match"),
    "hash": (
        "UPDATE custody_chain SET hash = replace(hash, substr(hash, 1, 1), 'g') WHERE seq = :seq",
        "does not match",
    ),
    "prev_hash": (
        "UPDATE custody_chain SET prev_hash = hash WHERE seq = :seq",
        "does not link",
    ),
    "content not JSON": (
        "UPDATE custody_chain SET content = '{' WHERE seq = :seq",
        "not JSON",
    ),
    "deleted": ("DELETE FROM custody_chain WHERE seq = :seq", "is missing"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_row_edited_in_the_database_fails_verify_at_exactly_that_row(
    app: Flask, world: World, edit: str
) -> None:
    statement, words = EDITS[edit]
    entries = _entries(app)
    target = next(e.seq for e in entries[2:] if e.kind == "status")  # in the middle
    assert target < len(entries)
    _sql(app, statement, seq=target)
    result = _cli(app, "verify")
    assert result.exit_code == 1
    assert f"FAILED: entry {target} " in result.output and words in result.output
    assert f"last good {target - 1}:{entries[target - 2].hash}" in result.output


def test_an_entry_rehashed_after_an_edit_breaks_the_link_of_the_next(
    app: Flask, world: World
) -> None:
    entries = _entries(app)
    target = entries[3]
    content = json.loads(target.content)
    content["report_id"] = "00000000-0000-0000-0000-000000000000"
    forged = custody.entry_hash(
        target.prev_hash,
        target.seq,
        target.kind,
        target.subject,
        content,
        target.at,
        target.subject_prev_hash,
        target.v,
    )
    _sql(
        app,
        "UPDATE custody_chain SET content = :c, hash = :h WHERE seq = :s",
        c=custody.canonical_json(content),
        h=forged,
        s=target.seq,
    )
    result = _cli(app, "verify")
    assert result.exit_code == 1
    assert f"FAILED: entry {target.seq + 1} does not link" in result.output


def _rewrite_from(
    app: Flask, seq: int, change: Callable[[dict], None], *, version: int | None = None
) -> None:
    """Rewrite the chain consistently from ``seq`` on, as someone with database access
    could (global and subject links recomputed): only an anchor printed earlier, or a
    signed checkpoint, shows it. ``version``: re-hash every entry as that version."""
    entries = _entries(app)
    prev = entries[seq - 2].hash if seq > 1 else custody.GENESIS
    trails: dict[str, str] = {}
    for entry in entries[: seq - 1]:
        if entry.subject is not None:
            trails[entry.subject] = entry.hash
    with app.app_context():
        for entry in entries[seq - 1 :]:
            content = json.loads(entry.content)
            if entry.seq == seq:
                change(content)
            v = version or entry.v
            link = None if entry.subject is None else trails.get(entry.subject, custody.GENESIS)
            digest = custody.entry_hash(
                prev, entry.seq, entry.kind, entry.subject, content, entry.at, link, v
            )
            db.session.execute(
                sa.text(
                    "UPDATE custody_chain SET content = :c, prev_hash = :p, hash = :h, "
                    "subject_prev_hash = :l, v = :v WHERE seq = :s"
                ),
                {
                    "c": custody.canonical_json(content),
                    "p": prev,
                    "h": digest,
                    "l": link,
                    "v": v,
                    "s": entry.seq,
                },
            )
            if entry.subject is not None:
                trails[entry.subject] = digest
            prev = digest
        db.session.commit()


def test_an_earlier_printed_head_detects_a_rewrite_of_the_whole_chain(
    app: Flask, world: World
) -> None:
    anchor = _cli(app, "head").output.strip()
    assert _cli(app, "verify", "--anchor", anchor).exit_code == 0
    _rewrite_from(app, 1, lambda c: c.update(status="rejected"))
    with app.app_context():  # consistent: the chain alone cannot tell (the tables can)
        assert custody.verify().ok
    result = _cli(app, "verify", "--anchor", anchor)
    seq = anchor.split(":")[0]
    assert result.exit_code == 1
    assert f"FAILED: entry {seq} has a different hash from the anchor" in result.output


def test_an_earlier_printed_head_detects_entries_cut_off_the_end(app: Flask, world: World) -> None:
    anchor = _cli(app, "head").output.strip()
    seq = int(anchor.split(":")[0])
    _sql(app, "DELETE FROM custody_chain WHERE seq >= :s", s=seq - 1)
    with app.app_context():
        assert custody.verify().ok
    result = _cli(app, "verify", "--anchor", anchor)
    assert result.exit_code == 1
    assert f"FAILED: entry {seq} of the anchor given is not in the chain" in result.output


@pytest.mark.parametrize("anchor", ["12", "x:abc", "3:" + "z" * 64])
def test_a_malformed_anchor_is_a_usage_error(app: Flask, anchor: str) -> None:
    result = _cli(app, "verify", "--anchor", anchor)
    assert result.exit_code == 2 and "SEQ:HASH" in result.output


def test_an_empty_chain_verifies_and_has_the_genesis_head(app: Flask) -> None:
    assert _cli(app, "verify").output.strip() == f"OK: 0 entries, head 0:{custody.GENESIS}"
    assert _cli(app, "head").output.strip() == f"0:{custody.GENESIS}"


# ------------------------------------------------------------------ concurrency


def test_concurrent_appends_keep_one_linear_chain(app: Flask) -> None:
    """Two threads, each on its own connection, append at once; every append commits
    with the next seq after the one before it (no fork, no gap)."""
    per_thread = 15
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with app.app_context():
                start.wait()
                for i in range(per_thread):
                    custody.append("test", name, {"i": i})
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    entries = _entries(app)
    assert [e.seq for e in entries] == list(range(1, 2 * per_thread + 1))
    for name in ("a", "b"):
        assert [json.loads(e.content)["i"] for e in entries if e.subject == name] == list(
            range(per_thread)
        )
    assert _cli(app, "verify").exit_code == 0


def _waiting_on_an_advisory_lock(app: Flask) -> bool:
    with app.app_context():
        return bool(
            db.session.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"
                )
            )
        )


def test_an_append_waits_for_an_uncommitted_one_on_postgresql(app: Flask) -> None:
    """The second writer blocks on the chain lock until the first commits, then appends
    after the first's entry (without the lock both would read the same head)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE")
        custody.append("test", "first", {})  # holds the lock, not committed
        done = threading.Event()
        errors: list[BaseException] = []

        def second() -> None:
            try:
                with app.app_context():
                    custody.append("test", "second", {})
                    db.session.commit()
                    db.session.remove()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 20
        while not _waiting_on_an_advisory_lock(app):
            assert not done.is_set(), errors or "the second append did not wait"
            assert time.monotonic() < deadline, "the second append never reached the lock"
        db.session.commit()
        thread.join(20)
    assert not errors, errors
    assert [(e.seq, e.subject) for e in _entries(app)] == [(1, "first"), (2, "second")]
    assert _cli(app, "verify").exit_code == 0


# ------------------------------------------------------------------ anchoring in the review


def test_the_review_workbook_prints_the_chain_head(app: Flask, world: World) -> None:
    last = _entries(app)[-1]
    resp = session_for(app, "admin").get("/console/stats/review.xlsx?preset=year&year=2026")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data), read_only=True)
    rows = list(book["Chuỗi lưu vết"].iter_rows(values_only=True))
    values = {row[0]: row[1] for row in rows[7:] if row}
    assert values["Số thứ tự mục cuối của chuỗi lưu vết chứng cứ"] == last.seq
    assert values["Mã băm SHA-256 của mục cuối"] == last.hash
    assert values["Mã đối chiếu (SỐ:MÃ BĂM)"] == f"{last.seq}:{last.hash}"
    assert rows[0][0] == "BÁO CÁO TỔNG KẾT NĂM 2026"
    from server.services import checkpoints

    with app.app_context():  # the key that signs evidence packages, printed beside it
        key_id, spki = checkpoints.public_current()
    assert values["Mã khóa ký của máy chủ (Ed25519)"] == key_id
    assert values["Khóa công khai của máy chủ (SPKI, base64)"] == spki


# ------------------------------------------------------------------ trails (issue 27)


def test_every_entry_links_to_the_previous_entry_about_the_same_subject(
    app: Flask, world: World
) -> None:
    last: dict[str, str] = {}
    entries = _entries(app)
    assert entries and all(e.v == custody.VERSION for e in entries)
    for e in entries:
        if e.subject is None:
            assert e.subject_prev_hash is None
            continue
        assert e.subject_prev_hash == last.get(e.subject, custody.GENESIS), e.seq
        last[e.subject] = e.hash
    assert any(link != custody.GENESIS for link in (e.subject_prev_hash for e in entries))


def test_an_entry_whose_subject_link_is_rewritten_and_rehashed_fails_verify(
    app: Flask, world: World
) -> None:
    entries = _entries(app)
    target = next(e for e in entries if e.subject_prev_hash not in (None, custody.GENESIS))
    # Re-hashed from there on with the global links right, but this entry's subject link
    # skips the entry before it (as if that one had been deleted from the trail).
    _rewrite_from(app, target.seq, lambda c: None)
    with app.app_context():
        row = db.session.get(CustodyEntry, target.seq)
        row.subject_prev_hash = custody.GENESIS
        row.hash = custody.entry_hash(
            row.prev_hash, row.seq, row.kind, row.subject, json.loads(row.content), row.at,
            row.subject_prev_hash, row.v,
        )  # fmt: skip
        db.session.commit()
    result = _cli(app, "verify")
    assert result.exit_code == 1
    assert f"FAILED: entry {target.seq} does not link to the entry before it about the same" in (
        result.output
    )


def test_migration_0019_links_the_existing_entries_and_keeps_their_hashes(
    app: Flask, world: World
) -> None:
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        db.session.remove()
        downgrade(revision="0016")
        # The chain as 0016 wrote it: version 1 hashes, no subject links.
        rows = db.session.execute(sa.text("SELECT * FROM custody_chain ORDER BY seq")).all()
        prev = custody.GENESIS
        for row in rows:
            at = row.at if not isinstance(row.at, str) else None
            at = at or _parse_at(row.at)
            digest = custody.entry_hash(
                prev, row.seq, row.kind, row.subject, json.loads(row.content), at
            )
            db.session.execute(
                sa.text("UPDATE custody_chain SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": prev, "h": digest, "s": row.seq},
            )
            prev = digest
        db.session.commit()
        db.session.remove()
        upgrade(revision="0019")
        db.session.remove()
    entries = _entries(app)
    assert len(entries) == len(rows) and {e.v for e in entries} == {1}
    assert entries[-1].hash == prev  # hashes unchanged
    last: dict[str, str] = {}
    for e in entries:
        if e.subject is not None:
            assert e.subject_prev_hash == last.get(e.subject, custody.GENESIS)
            last[e.subject] = e.hash
    result = _cli(app, "verify")
    assert result.exit_code == 0, result.output
    with app.app_context():  # a new entry is version 2, after the migrated ones
        subject = entries[-1].subject
        custody.append("status", subject, {"report_id": subject, "status": "x"})
        db.session.commit()
        new = db.session.scalar(sa.select(CustodyEntry).order_by(CustodyEntry.seq.desc()))
        assert (new.v, new.subject_prev_hash) == (2, entries[-1].hash)
    with app.app_context():  # (the status entry has no status event: only the chain here)
        assert custody.verify().ok


def _parse_at(text: str):
    from datetime import UTC, datetime

    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def test_an_old_style_hash_after_new_entries_fails_verify(app: Flask, world: World) -> None:
    entries = _entries(app)
    _rewrite_from(app, entries[-1].seq, lambda c: c.update(status="rejected"), version=1)
    result = _cli(app, "verify")
    assert result.exit_code == 1 and "hashed the old way" in result.output


# ------------------------------------------------------------------ signed checkpoints


CUTS = {
    "cut tail": ("DELETE FROM custody_chain WHERE seq >= :last", "is not in the chain"),
    "emptied chain": ("DELETE FROM custody_chain", "is not in the chain"),
    "re-hashed last entry": (None, "different hash from the last signed checkpoint"),
}


@pytest.mark.parametrize("cut", list(CUTS))
def test_verify_without_an_anchor_compares_with_the_last_signed_checkpoint(
    app: Flask, world: World, cut: str
) -> None:
    checkpoint = _cli(app, "checkpoint")
    assert checkpoint.exit_code == 0, checkpoint.output
    last = _entries(app)[-1]
    assert checkpoint.output.startswith(f"checkpoint {last.seq}:{last.hash}")
    ok = _cli(app, "verify")
    assert ok.exit_code == 0 and f"signed checkpoint {last.seq}:{last.hash}" in ok.output
    statement, words = CUTS[cut]
    if statement is None:
        _rewrite_from(app, last.seq, lambda c: c.update(status="rejected"))
    else:
        _sql(app, statement, last=last.seq)
    result = _cli(app, "verify")
    assert result.exit_code == 1, result.output
    assert f"FAILED: entry {last.seq} " in result.output and words in result.output


def test_a_forged_checkpoint_line_is_ignored_and_a_rotated_key_still_verifies_older_ones(
    app: Flask, world: World
) -> None:
    from server.services import checkpoints

    assert _cli(app, "checkpoint").exit_code == 0
    with app.app_context():
        first = checkpoints.last_checkpoint()
        assert first is not None
        rotated = _cli(app, "rotate-key")
        assert rotated.exit_code == 0
        assert checkpoints.last_checkpoint() == first  # signed by the retired key: still good
        log = checkpoints._folder().parent / checkpoints.LOG
        forged = {**first.as_json(), "signed": first.text.replace('"seq":', '"seq":1')}
        log.write_text(log.read_text() + json.dumps(forged) + "\n")
        assert checkpoints.last_checkpoint() == first
        keys = checkpoints.published()["keys"]
    assert len(keys) == 2 and [k["current"] for k in keys].count(True) == 1
    assert first.key_id in {k["key_id"] for k in keys if not k["current"]}


def test_the_public_keys_are_at_a_well_known_url(app: Flask, client: FlaskClient) -> None:
    from server.services import checkpoints

    resp = client.get("/.well-known/roadwatch-checkpoint-keys.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["format"] == "roadwatch-checkpoint-keys"
    with app.app_context():
        key_id, key = checkpoints.current_key()
    (only,) = body["keys"]
    assert only == {
        "key_id": key_id,
        "alg": "Ed25519",
        "spki": __import__("base64").b64encode(checkpoints.spki(key.public_key())).decode(),
        "current": True,
    }


# ------------------------------------------------------------------ reconciliation


@pytest.fixture
def decided(app: Flask, world: World) -> str:
    """Case A3 rejected by a reviewer: status events, a decision, its chain entries."""
    from server.models import Case, User

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "rev_a"))
        review.decide(
            user, db.session.get(Case, world.cases["A3"]), "reject",
            reason_code="duplicate", confirm_count=1,
        )  # fmt: skip
    return world.cases["A3"]


BEHIND_THE_CHAINS_BACK = {
    "verdict changed": (
        "UPDATE status_events SET status = 'verified' WHERE seq = "
        "(SELECT max(seq) FROM status_events WHERE status = 'rejected')",
        "status_events",
        "says 'verified', the chain says 'rejected'",
    ),
    "event added": (
        "INSERT INTO status_events (report_id, status, actor, created_at) "
        "SELECT report_id, 'verified', 'system', created_at FROM status_events "
        "WHERE status = 'rejected'",
        "status_events",
        "the chain says 'nothing'",
    ),
    "report status changed": (
        "UPDATE reports SET status = 'verified' WHERE status = 'rejected'",
        "reports",
        "its last chain entry says 'rejected'",
    ),
    "decision's reason changed": (
        "UPDATE decisions SET reason_code = 'not_a_violation' WHERE kind = 'reject'",
        "decisions",
        "case_reject 'not_a_violation' without a chain entry",
    ),
    "decision deleted": (
        "DELETE FROM decisions WHERE kind = 'reject'",
        "decisions",
        "case_reject 'duplicate' without a decision",
    ),
    "received file's hash changed": (
        "UPDATE media SET sha256 = :zeros WHERE received_at IS NOT NULL",
        "media",
        "SHA-256 or size differs from its chain entry",
    ),
    "received file unmarked": (
        "UPDATE media SET received_at = NULL WHERE received_at IS NOT NULL",
        "media",
        "a receipt in the chain, no received file",
    ),
}


def test_verify_reconciles_an_untouched_database(app: Flask, decided: str) -> None:
    result = _cli(app, "verify")
    assert result.exit_code == 0 and "MISMATCH" not in result.output, result.output


@pytest.mark.parametrize("edit", list(BEHIND_THE_CHAINS_BACK))
def test_a_table_edited_behind_the_chains_back_is_named(
    app: Flask, decided: str, edit: str
) -> None:
    statement, table, words = BEHIND_THE_CHAINS_BACK[edit]
    with app.app_context():
        done = db.session.execute(sa.text(statement), {"zeros": "0" * 64})
        assert done.rowcount >= 1
        db.session.commit()
    result = _cli(app, "verify")
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("MISMATCH")]
    assert any(line.startswith(f"MISMATCH: {table} ") and words in line for line in lines), (
        result.output
    )
    assert "the chain is intact" in result.output
