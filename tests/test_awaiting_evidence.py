"""Reports whose evidence never arrives open no case in the reviewers' queue (issue 17.3).

A case enters the queue and the reviewers' digests when the first file of one of its
reports is received (``cases.evidence_at``); until then it waits under "Chờ bằng chứng".
A report whose evidence has not started arriving ``REPORT_EVIDENCE_EXPIRY_HOURS`` after
its receipt expires: status ``expired`` on the change feed, out of its case, and later
uploads are refused with ``410 report_expired``. Expiry runs are given a ``now`` (or a
patched clock for the command): no sleeping. Districts as in tests/test_console.py.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import Case, CaseEvent, Media, Report, StatusEvent, User
from server.models.uploads import Upload
from server.services import cases, errors, evidence, evidence_expiry
from server.services.queue import QueueFilters, open_cases
from server.settings import override
from tests import test_push_console
from tests.factories import Api, blob_files, photo, report_body
from tests.test_console import DONG_DA, World, build_world, send, session_for
from tests.test_push_console import case_of, digest_round, subscribe

HOURS = 72
# The fixture of tests/test_push_console.py: console accounts, a phone, digests by the worker.
setup = test_push_console.setup


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    override(app, REPORT_EVIDENCE_EXPIRY_HOURS=HOURS)
    return build_world(app, client)


def queue_ids(app: Flask, username: str, state: str = "pending") -> set[str]:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        page = open_cases(user, QueueFilters(state=state), 1)
        return {row.case.id for row in page.items}


def get_case(app: Flask, case_id: str) -> Case:
    with app.app_context():
        case = db.session.get(Case, case_id)
        db.session.expunge(case)
        return case


def report_of(app: Flask, report_id: str) -> Report:
    with app.app_context():
        report = db.session.get(Report, report_id)
        db.session.expunge(report)
        return report


def later(app: Flask, report_id: str, hours: float) -> datetime:
    """``hours`` after the server received the report."""
    return report_of(app, report_id).received_at + timedelta(hours=hours)


def expire(app: Flask, now: datetime) -> evidence_expiry.ExpiryResult:
    with app.app_context():
        return evidence_expiry.expire_reports(now)


def tus_create(api: Api, report_id: str, media_id: str, size: int):
    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in (("report_id", report_id), ("media_id", media_id))
    )
    return api.client.post(
        "/api/v1/uploads",
        headers={
            **api.auth,
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(size),
            "Upload-Metadata": meta,
        },
    )


def tus_patch(api: Api, location: str, offset: int, chunk: bytes):
    return api.client.patch(
        location,
        data=chunk,
        headers={
            **api.auth,
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        },
    )


# ------------------------------------------------------------------------ the queue


def test_a_case_without_evidence_waits_under_awaiting_evidence_until_its_first_file(
    app: Flask, world: World
) -> None:
    rid, media = send(
        world.citizen.client,
        DONG_DA,
        plate="29C-246.80",
        upload=False,
        api=world.citizen,
        minutes=200,
    )
    case_id = world.case_of_report(rid)
    assert get_case(app, case_id).evidence_at is None
    assert case_id not in queue_ids(app, "rev_a")
    for state in ("decided", "all"):
        assert case_id not in queue_ids(app, "rev_a", state)
    assert queue_ids(app, "rev_a", "awaiting") == {case_id}  # world's cases have evidence
    c = session_for(app, "rev_a")
    default = c.get("/console/queue").get_data(as_text=True)
    awaiting = c.get("/console/queue?state=awaiting").get_data(as_text=True)
    assert case_id[:8] not in default and world.cases["A"][:8] in default
    assert case_id[:8] in awaiting and world.cases["A"][:8] not in awaiting
    assert 'class="badge awaiting-evidence">Chờ bằng chứng</span>' in awaiting
    assert "72 giờ" in awaiting  # the expiry rule, told to the reviewer

    assert world.citizen.put_media(rid, media).status_code == 201
    with app.app_context():
        received = db.session.scalar(sa.select(Media.received_at).where(Media.id == media.media_id))
    assert get_case(app, case_id).evidence_at == received
    assert case_id in queue_ids(app, "rev_a")
    assert case_id not in queue_ids(app, "rev_a", "awaiting")
    assert case_id[:8] in c.get("/console/queue").get_data(as_text=True)


def test_the_first_of_two_files_already_puts_the_case_in_the_queue(
    app: Flask, client: FlaskClient
) -> None:
    api = Api.register(client)
    first, second = photo(), photo(make="Other")
    rid = str(uuid.uuid4())
    assert api.put_report(rid, report_body([first, second])).status_code == 201
    assert api.put_media(rid, first).status_code == 201
    report = report_of(app, rid)
    assert report.status == "awaiting_evidence"  # not all files yet...
    assert get_case(app, report.case_id).evidence_at is not None  # ...but evidence started
    assert expire(app, later(app, rid, HOURS + 1)).expired_reports == 0


def test_evidence_arriving_makes_the_digest_a_report_without_it_makes_none(app: Flask, setup):
    svc, url, citizen = setup
    a, _ = subscribe(app, svc, url, "rev_a")
    rid, media = send(citizen.client, DONG_DA, upload=False, api=citizen)
    queued, _ = digest_round(app)
    assert queued.messages == 0 and a.received == []  # no evidence, no news
    assert citizen.put_media(rid, media).status_code == 201
    queued, delivered = digest_round(app)
    assert (queued.messages, delivered.sent) == (1, 1)
    [message] = a.received
    assert message["count"] == 1 and message["case_ids"] == [case_of(app, rid)]


def test_a_flood_of_reports_without_evidence_opens_no_queue_item_and_notifies_nobody(
    app: Flask, setup
) -> None:
    override(app, RATE_LIMIT_REPORTS_PER_MINUTE=0, RATE_LIMIT_DEVICE_REPORTS_PER_MINUTE=0)
    svc, url, citizen = setup
    a, _ = subscribe(app, svc, url, "rev_a")
    flood = 60  # the probe sent 300; each report takes the same path, 60 keep the suite quick
    for i in range(flood):
        body = report_body(
            [photo()],
            plate=f"30K-{i:03d}.{i % 100:02d}",
            location={"lat": DONG_DA[0], "lon": DONG_DA[1], "accuracy_m": 5.0, "source": "gps"},
        )
        assert citizen.put_report(str(uuid.uuid4()), body).status_code == 201
    assert queue_ids(app, "rev_a") == set()
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "rev_a"))
        assert open_cases(user, QueueFilters(), 1).total == 0
        assert open_cases(user, QueueFilters(state="awaiting"), 1).total == flood
    assert digest_round(app)[0].messages == 0 and a.received == []


# ------------------------------------------------------------------------ expiry


def test_a_report_expires_after_the_configured_hours_once(app: Flask, world: World) -> None:
    rid, _ = send(
        world.citizen.client,
        DONG_DA,
        plate="29C-246.80",
        upload=False,
        api=world.citizen,
        minutes=200,
    )
    case_id = world.case_of_report(rid)
    assert expire(app, later(app, rid, HOURS - 0.1)).expired_reports == 0
    assert report_of(app, rid).status == "awaiting_evidence"

    result = expire(app, later(app, rid, HOURS + 0.1))
    assert (result.expired_reports, result.closed_cases) == (1, 1)
    report = report_of(app, rid)
    assert report.status == "expired" and report.case_id is None
    case = get_case(app, case_id)
    assert (case.status, case.report_count) == ("expired", 0)
    assert case_id not in queue_ids(app, "rev_a", "awaiting") | queue_ids(app, "rev_a", "all")
    with app.app_context():
        events = db.session.scalars(
            sa.select(StatusEvent.status).where(StatusEvent.report_id == rid)
        ).all()
        kinds = db.session.scalars(
            sa.select(CaseEvent.kind).where(CaseEvent.case_id == case_id)
        ).all()
    assert events == ["awaiting_evidence", "expired"]
    assert kinds == ["report_expired"]

    # Idempotent: a second run (even much later) changes nothing more.
    assert expire(app, later(app, rid, HOURS * 3)).expired_reports == 0
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(StatusEvent)
                .where(StatusEvent.report_id == rid)
            )
            == 2
        )
    # Reports with evidence never expire.
    for name in ("a1", "a2", "a3"):
        assert report_of(app, world.reports[name]).status == "submitted"


def test_an_expired_report_leaves_a_case_that_has_evidence(app: Flask, world: World) -> None:
    """The same car as a1 (joins case A), but its own file never comes: A stays open with
    its evidence, one report fewer, and a1 still its first reporter."""
    rid, _ = send(
        world.citizen.client,
        DONG_DA,
        plate="30A-123.45",
        upload=False,
        api=world.citizen,
        minutes=1,
    )
    case_id = world.cases["A"]
    before = get_case(app, case_id)
    assert world.case_of_report(rid) == case_id and before.report_count == 3
    result = expire(app, later(app, rid, HOURS + 1))
    assert (result.expired_reports, result.closed_cases) == (1, 0)
    after = get_case(app, case_id)
    assert (after.status, after.report_count) == ("open", 2)
    assert after.evidence_at == before.evidence_at
    assert after.first_report_id == world.reports["a1"]
    assert case_id in queue_ids(app, "rev_a")


def test_a_resumable_upload_holding_bytes_keeps_the_report_alive(
    app: Flask, client: FlaskClient
) -> None:
    override(app, REPORT_EVIDENCE_EXPIRY_HOURS=HOURS)
    api = Api.register(client)
    media = photo()
    rid = str(uuid.uuid4())
    assert api.put_report(rid, report_body([media])).status_code == 201
    created = tus_create(api, rid, media.media_id, len(media.data))
    assert created.status_code == 201
    assert tus_patch(api, created.headers["Location"], 0, media.data[:1000]).status_code == 204
    assert expire(app, later(app, rid, HOURS + 1)).expired_reports == 0
    assert report_of(app, rid).status == "awaiting_evidence"


def test_the_command_and_the_upload_expiry_job_apply_the_rule(
    app: Flask, world: World, runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid, _ = send(
        world.citizen.client,
        DONG_DA,
        plate="29C-246.80",
        upload=False,
        api=world.citizen,
        minutes=200,
    )
    monkeypatch.setattr(evidence_expiry, "utcnow", lambda: later(app, rid, HOURS - 1))
    out = runner.invoke(args=["uploads", "expire"])
    assert out.exit_code == 0 and "Expired 0 report(s)" in out.output
    monkeypatch.setattr(evidence_expiry, "utcnow", lambda: later(app, rid, HOURS + 1))
    out = runner.invoke(args=["uploads", "expire"])
    assert "Expired 1 report(s) without evidence, closed 1 empty case(s)." in out.output
    out = runner.invoke(args=["reports", "expire"])
    assert out.exit_code == 0 and "Expired 0 report(s)" in out.output
    assert report_of(app, rid).status == "expired"


# ------------------------------------------------------------ what the phone sees


def test_the_phone_sees_expired_and_a_late_upload_is_refused_storing_nothing(
    app: Flask, client: FlaskClient
) -> None:
    override(app, REPORT_EVIDENCE_EXPIRY_HOURS=HOURS)
    api = Api.register(client)
    media = photo()
    rid = str(uuid.uuid4())
    body = report_body([media])
    assert api.put_report(rid, body).status_code == 201
    assert expire(app, later(app, rid, HOURS + 1)).expired_reports == 1

    feed = client.get("/api/v1/changes", headers=api.auth).get_json()
    assert [(c["report_id"], c["status"]) for c in feed["changes"]] == [
        (rid, "awaiting_evidence"),
        (rid, "expired"),
    ]
    retry = api.put_report(rid, body)
    assert retry.status_code == 200 and retry.get_json()["status"] == "expired"

    late = api.put_media(rid, media)
    assert late.status_code == 410
    assert late.headers["Content-Type"].startswith("application/problem+json")
    problem = late.get_json()
    assert problem["code"] == "report_expired"
    assert problem["message"]["vi"] and problem["message"]["en"]
    assert tus_create(api, rid, media.media_id, len(media.data)).status_code == 410
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Media.received_at).where(Media.id == media.media_id))
            is None
        )
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Upload)) == 0
    assert blob_files(app) == []
    assert api.get_report(rid).get_json()["status"] == "expired"


def test_an_upload_begun_before_the_expiry_is_refused_after_it(
    app: Flask, client: FlaskClient
) -> None:
    override(app, REPORT_EVIDENCE_EXPIRY_HOURS=HOURS)
    api = Api.register(client)
    media = photo()
    rid = str(uuid.uuid4())
    assert api.put_report(rid, report_body([media])).status_code == 201
    created = tus_create(api, rid, media.media_id, len(media.data))
    assert created.status_code == 201  # created, but no byte sent: evidence not started
    assert expire(app, later(app, rid, HOURS + 1)).expired_reports == 1
    patch = tus_patch(api, created.headers["Location"], 0, media.data)
    assert patch.status_code == 410 and patch.get_json()["code"] == "report_expired"
    assert blob_files(app) == []


def test_a_file_completing_as_the_report_expires_is_refused(
    app: Flask, client: FlaskClient
) -> None:
    """The receipt checks again under the report's lock: bytes verified just before the
    expiry committed are not marked received."""
    override(app, REPORT_EVIDENCE_EXPIRY_HOURS=HOURS)
    api = Api.register(client)
    media = photo()
    rid = str(uuid.uuid4())
    assert api.put_report(rid, report_body([media])).status_code == 201
    assert expire(app, later(app, rid, HOURS + 1)).expired_reports == 1
    with app.app_context():
        with pytest.raises(errors.ReportExpired):
            evidence.mark_received(media.media_id, {})
        assert db.session.get(Media, media.media_id).received_at is None


# ------------------------------------------------------------ merges and splits


def _two_cases(app: Flask, world: World, *, upload_second: bool) -> tuple[str, str, str, str]:
    r1, _ = send(world.citizen.client, DONG_DA, plate="29C-111.11", api=world.citizen, minutes=300)
    r2, _ = send(
        world.citizen.client,
        DONG_DA,
        plate="29C-222.22",
        api=world.citizen,
        minutes=301,
        upload=upload_second,
    )
    c1, c2 = world.case_of_report(r1), world.case_of_report(r2)
    assert c1 != c2
    return r1, r2, c1, c2


def test_a_merge_keeps_the_earliest_evidence_and_a_split_recomputes_it(
    app: Flask, world: World
) -> None:
    r1, r2, c1, c2 = _two_cases(app, world, upload_second=True)
    e1, e2 = get_case(app, c1).evidence_at, get_case(app, c2).evidence_at
    assert e1 is not None and e2 is not None and e1 < e2
    with app.app_context():  # c2 absorbs c1: takes c1's earlier evidence
        cases.merge_cases(c2, c1, actor="rev_a")
        db.session.commit()
    assert get_case(app, c2).evidence_at == e1
    with app.app_context():  # splitting r1's group out undoes it
        back = cases.split_report(r1, actor="rev_a", reason="khác xe")
        assert back.id == c1
    assert get_case(app, c1).evidence_at == e1
    assert get_case(app, c2).evidence_at == e2


def test_an_awaiting_case_merged_into_one_with_evidence_enters_the_queue(
    app: Flask, world: World
) -> None:
    r1, r2, c1, c2 = _two_cases(app, world, upload_second=False)
    assert get_case(app, c2).evidence_at is None
    with app.app_context():  # the awaiting case survives, the other's evidence comes in
        cases.merge_cases(c2, c1, actor="rev_a")
        db.session.commit()
    e1 = get_case(app, c1).evidence_at  # c1 is merged: it keeps no evidence time
    assert e1 is None and get_case(app, c2).evidence_at is not None
    assert c2 in queue_ids(app, "rev_a")
    with app.app_context():  # split the one with evidence out: c2 waits again
        cases.split_report(r1, actor="rev_a", reason="khác xe")
    assert get_case(app, c2).evidence_at is None
    assert c2 in queue_ids(app, "rev_a", "awaiting") and c1 in queue_ids(app, "rev_a")


def test_a_split_report_takes_its_own_evidence_time_along(app: Flask, world: World) -> None:
    """a2 joined a1's case by plate; split out, the new case's evidence_at is a2's file."""
    a2 = world.reports["a2"]
    with app.app_context():
        new = cases.split_report(a2, actor="rev_a", reason="khác xe")
        new_id = new.id
        a2_file = db.session.scalar(sa.select(Media.received_at).where(Media.report_id == a2))
        a1_file = db.session.scalar(
            sa.select(Media.received_at).where(Media.report_id == world.reports["a1"])
        )
    assert get_case(app, new_id).evidence_at == a2_file
    assert get_case(app, world.cases["A"]).evidence_at == a1_file


# ------------------------------------------------------------ the migration


def test_migration_0014_backfills_evidence_at(app: Flask, world: World) -> None:
    from flask_migrate import downgrade, upgrade

    rid, _ = send(
        world.citizen.client,
        DONG_DA,
        plate="29C-246.80",
        upload=False,
        api=world.citizen,
        minutes=200,
    )
    waiting = world.case_of_report(rid)
    with app.app_context():
        before = dict(db.session.execute(sa.select(Case.id, Case.evidence_at)).all())
        db.session.remove()
        downgrade(revision="0013")
        upgrade(revision="head")
        db.session.remove()
        after = dict(db.session.execute(sa.select(Case.id, Case.evidence_at)).all())
        firsts = dict(
            db.session.execute(
                sa.select(Report.case_id, sa.func.min(Media.received_at))
                .join(Media, Media.report_id == Report.id)
                .group_by(Report.case_id)
            ).all()
        )
    assert after == before
    assert after[waiting] is None
    assert after[world.cases["A"]] == firsts[world.cases["A"]] is not None
