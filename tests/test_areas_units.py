"""Areas, units and boundary versions (issue 23) on a small synthetic map.

Four communes in a row along lat 10.0-10.1, 0.1° of longitude each, imported with
``flask boundaries import`` (so nothing here waits on the shipped national data):

    90001 Phường An Hòa   [106.0, 106.1]  province 90 "Tỉnh Thử"   (old name "Quận Cũ")
    90002 Xã Bình Minh    [106.1, 106.2]  province 90              (old names "Quận Cũ", …)
    91001 Đặc khu Hòn Ngọc [106.2, 106.3] province 91 "Thành phố Mẫu"
    91002 Phường Đông Sơn [106.3, 106.4]  province 91
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from server.extensions import db
from server.models import AuditLog, BoundarySet, Case, CaseEvent, CustodyEntry, Report, Unit
from server.services import accounts
from tests.factories import Api, MediaFile, report_body
from tests.media_factory import make_photo
from tests.test_console import PASSWORD, session_for
from tests.test_districts import send, square

COMMUNES = [
    ("90001", "Phường An Hòa", "phường", "90", "Tỉnh Thử", ["Quận Cũ"], 106.0),
    ("90002", "Xã Bình Minh", "xã", "90", "Tỉnh Thử", ["Quận Cũ", "Xã Bình Minh Cũ"], 106.1),
    ("91001", "Đặc khu Hòn Ngọc", "đặc khu", "91", "Thành phố Mẫu", [], 106.2),
    ("91002", "Phường Đông Sơn", "phường", "91", "Thành phố Mẫu", [], 106.3),
]
CENTRE = {c[0]: (10.05, c[6] + 0.05) for c in COMMUNES}


def commune(code, name, kind, pcode, pname, aliases, x0, width=0.1) -> dict:
    return {
        "type": "Feature",
        "properties": {
            "code": code,
            "name": name,
            "type": kind,
            "province_code": pcode,
            "province_name": pname,
            "aliases": aliases,
        },
        "geometry": square(x0, 10.0, x0 + width, 10.1),
    }


def write_set(path: Path, features: list[dict]) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return str(path)


@pytest.fixture
def communes_file(tmp_path: Path) -> str:
    return write_set(tmp_path / "communes.geojson", [commune(*c) for c in COMMUNES])


@pytest.fixture
def imported(app: Flask, runner, communes_file: str) -> str:
    """The synthetic map imported as boundary set ``test-2025``."""
    result = runner.invoke(
        args=[
            "boundaries",
            "import",
            communes_file,
            "--effective",
            "2025-07-01",
            "--id",
            "test-2025",
        ]
    )
    assert result.exit_code == 0, result.output
    return "test-2025"


def case_of(app: Flask, report_id: str) -> Case:
    with app.app_context():
        case = db.session.get(Case, db.session.get(Report, report_id).case_id)
        db.session.expunge(case)
        return case


def send_at(client, code: str, plate: str) -> str:
    lat, lon = CENTRE[code]
    return send(client, lat, lon, plate=plate)["report_id"]


def send_with_evidence(client, code: str, plate: str, seed: int) -> str:
    """A report with its photo received: its case is in the queue and in Open311."""
    lat, lon = CENTRE[code]
    api, media = Api.register(client), MediaFile(make_photo(seed))
    rid = str(uuid.uuid4())
    body = report_body(
        [media], plate=plate, location={"lat": lat, "lon": lon, "accuracy_m": 5.0, "source": "gps"}
    )
    assert api.put_report(rid, body).status_code == 201
    assert api.put_media(rid, media).status_code in (200, 201, 204)
    return rid


# --------------------------------------------------------------------------- routing


@pytest.mark.parametrize(
    ("code", "name", "unit_name"),
    [
        ("90001", "Phường An Hòa", "Công an phường An Hòa"),
        ("90002", "Xã Bình Minh", "Công an xã Bình Minh"),
        ("91001", "Đặc khu Hòn Ngọc", "Công an đặc khu Hòn Ngọc"),
    ],
    ids=["phuong", "xa", "dac-khu"],
)
def test_a_report_is_routed_to_its_commune_and_the_commune_police(
    app, client, imported, code, name, unit_name
):
    lat, lon = CENTRE[code]
    body = send(client, lat, lon)
    assert body["district"]["code"] == code
    assert body["district"]["name"] == name
    assert body["police_unit"] == {"code": f"CA-{code}", "name": unit_name}
    case = case_of(app, body["report_id"])
    assert (case.district_code, case.unit_code) == (code, f"CA-{code}")


def test_the_import_is_a_current_boundary_set_and_the_earlier_import_becomes_history(
    app, runner, imported, tmp_path
):
    other = write_set(tmp_path / "v2.geojson", [commune(*c) for c in COMMUNES])
    result = runner.invoke(args=["boundaries", "import", other, "--effective", "2026-01-01"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        kinds = dict(db.session.execute(sa.select(BoundarySet.id, BoundarySet.kind)).all())
    assert kinds == {
        "pre2025": "historical",
        "2025": "current",
        "test-2025": "historical",
        "2026-01-01": "current",
    }
    listed = runner.invoke(args=["boundaries", "list"]).output
    assert "* 2026-01-01" in listed and "  test-2025" in listed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--effective", "2025-07-01", "--id", "test-2025"], "exists already"),
        (["--effective", "1 July"], "YYYY-MM-DD"),
        (["--effective", "2025-07-01", "--id", "bad id!"], "set id"),
    ],
    ids=["same-id", "bad-date", "bad-id"],
)
def test_a_bad_boundary_import_is_refused(app, runner, imported, communes_file, args, message):
    result = runner.invoke(args=["boundaries", "import", communes_file, *args])
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BoundarySet)) == 3


# --------------------------------------------------------------------------- units


CSV = "code,name,areas\nCSGT-90,Đội CSGT Tỉnh Thử,90001 90002\n"


def test_a_unit_covering_several_communes_sees_exactly_their_cases(
    app, client, runner, imported, tmp_path
):
    ids = {code: send_at(client, code, f"51F-{i}00.0{i}") for i, code in enumerate(CENTRE)}
    path = tmp_path / "units.csv"
    path.write_text(CSV, "utf-8")
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "units created: 1" in result.output and "open cases moved: 2" in result.output
    with app.app_context():
        accounts.create_user("doi90", PASSWORD, "reviewer", unit_codes=["CSGT-90"])
    console = session_for(app, "doi90")
    seen = {
        code: console.get(f"/console/cases/{case_of(app, rid).id}").status_code
        for code, rid in ids.items()
    }
    assert seen == {"90001": 200, "90002": 200, "91001": 404, "91002": 404}
    # The unit now handles the two communes: their open cases moved to it, with history.
    for code in ("90001", "90002"):
        case = case_of(app, ids[code])
        assert case.unit_code == "CSGT-90"
        with app.app_context():
            kinds = db.session.scalars(
                sa.select(CaseEvent.to_unit).where(
                    CaseEvent.case_id == case.id, CaseEvent.kind == "unit_changed"
                )
            ).all()
        assert kinds == ["CSGT-90"]
    assert case_of(app, ids["91001"]).unit_code == "CA-91001"
    # A new report of a covered commune goes to the unit.
    body = send(client, *CENTRE["90002"], plate="30A-999.99")
    assert body["police_unit"] == {"code": "CSGT-90", "name": "Đội CSGT Tỉnh Thử"}


def test_a_reviewer_of_a_communes_own_police_sees_that_commune(app, client, imported):
    a, c = send_at(client, "90001", "51F-111.11"), send_at(client, "91001", "51F-222.22")
    with app.app_context():
        accounts.create_user("anhoa", PASSWORD, "reviewer", unit_codes=["CA-90001"])
    console = session_for(app, "anhoa")
    assert console.get(f"/console/cases/{case_of(app, a).id}").status_code == 200
    assert console.get(f"/console/cases/{case_of(app, c).id}").status_code == 404


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CSV + "X-1,Đội X,90001 99999\n", "line 3: unknown area code '99999'"),
        ("code,name\nCSGT-90,Đội\n", "columns code, name, areas"),
        (CSV + "X-1,,90001\n", "line 3: unit name"),
        (CSV + "X 1,Đội X,90001\n", "line 3: unit code"),
    ],
    ids=["unknown-area", "no-areas-column", "empty-name", "space-in-code"],
)
def test_a_bad_units_csv_imports_nothing(app, runner, imported, tmp_path, text, message):
    path = tmp_path / "units.csv"
    path.write_text(text, "utf-8")
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.scalars(sa.select(Unit.code)).all() == []


def test_units_create_assign_and_list(app, client, runner, imported):
    rid = send_at(client, "91002", "51F-333.33")
    made = runner.invoke(
        args=["units", "create", "CSGT-91", "Đội CSGT Thành phố Mẫu", "--province", "91"]
    )
    assert made.exit_code == 0, made.output
    assigned = runner.invoke(args=["units", "assign", "CSGT-91", "91001", "91002"])
    assert assigned.exit_code == 0 and "open cases moved: 1" in assigned.output
    assert case_of(app, rid).unit_code == "CSGT-91"
    listed = runner.invoke(args=["units", "list"]).output
    assert listed.strip() == "CSGT-91\tĐội CSGT Thành phố Mẫu\t91\t91001 91002"
    unknown = runner.invoke(args=["units", "assign", "NOPE", "91001"])
    assert unknown.exit_code != 0 and "unknown unit 'NOPE'" in unknown.output


# --------------------------------------------------------------------------- re-routing


def test_reroute_dry_run_lists_moves_and_apply_moves_them_audited(
    app, client, runner, imported, tmp_path
):
    moving = send_at(client, "90002", "51F-444.44")
    staying = send_at(client, "91001", "51F-555.55")
    # A correction: An Hòa takes in Bình Minh's land.
    v2 = [commune(*COMMUNES[0][:6], 106.0, width=0.2), *(commune(*c) for c in COMMUNES[2:])]
    path = write_set(tmp_path / "v2.geojson", v2)
    done = runner.invoke(args=["boundaries", "import", path, "--effective", "2026-01-01"])
    assert done.exit_code == 0, done.output
    case_id = case_of(app, moving).id

    dry = runner.invoke(args=["boundaries", "reroute", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"{case_id}\t90002\t90001\tCA-90002\tCA-90001" in dry.output
    assert "1 open cases would move" in dry.output
    assert case_of(app, moving).district_code == "90002"  # a dry run changes nothing

    applied = runner.invoke(args=["boundaries", "reroute", "--apply", "--actor", "ops"])
    assert "1 open cases moved" in applied.output
    case = case_of(app, moving)
    assert (case.district_code, case.unit_code) == ("90001", "CA-90001")
    assert case_of(app, staying).district_code == "91001"
    with app.app_context():
        event = db.session.scalar(
            sa.select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "rerouted")
        )
        assert (event.from_district, event.to_district, event.actor) == ("90002", "90001", "ops")
        audit = db.session.scalars(
            sa.select(AuditLog.case_id).where(AuditLog.action == "case_rerouted")
        ).all()
        assert audit == [case_id]
        custody = db.session.scalars(
            sa.select(CustodyEntry.kind).where(CustodyEntry.subject == case_id)
        ).all()
        assert "case_rerouted" in custody
        # The report keeps the area it was routed to.
        assert db.session.get(Report, moving).district_code == "90002"
    again = runner.invoke(args=["boundaries", "reroute"])
    assert "0 open cases would move" in again.output


# --------------------------------------------------------------------------- forward picker


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Quận Cũ", ["90001", "90002"]),  # the old district finds the communes replacing it
        ("quan cu", ["90001", "90002"]),
        ("binh minh cu", ["90002"]),
        ("Xã Bình", ["90002"]),
        ("hon ngoc", ["91001"]),
        ("thanh pho mau", ["91002", "91001"]),  # by name: Đông Sơn, Hòn Ngọc
        ("dong son mau", ["91002"]),
        ("hòa", ["90001"]),
        ("nowhere", []),
    ],
)
def test_the_forward_picker_finds_areas_by_name_old_name_and_province(app, imported, query, found):
    from server.services.districts import choices

    with app.app_context():
        assert [a.code for a in choices.search(query)] == found


def test_forwarding_goes_to_the_unit_of_the_chosen_area_and_the_page_carries_old_names(
    app, client, imported
):
    from tests.test_console import post

    rid = send_at(client, "90001", "51F-666.66")
    case_id = case_of(app, rid).id
    with app.app_context():
        accounts.create_user("boss", PASSWORD, "admin")
    console = session_for(app, "boss")
    page = console.get(f"/console/cases/{case_id}").get_data(as_text=True)
    assert 'value="90002" data-aliases="Quận Cũ|Xã Bình Minh Cũ">Xã Bình Minh<' in page
    assert "Công an phường An Hòa" in page
    resp = post(console, f"/console/cases/{case_id}/forward", {"to_district": "91001"})
    assert resp.status_code == 302
    case = case_of(app, rid)
    assert (case.district_code, case.unit_code) == ("91001", "CA-91001")


def test_open311_names_the_unit_the_case_is_with_and_todays_commune(
    app, client, runner, imported, tmp_path
):
    rid = send_with_evidence(client, "90002", "51F-777.77", 4242)
    case_id = case_of(app, rid).id
    before = {r["service_request_id"]: r for r in client.get("/open311/v2/requests.json").json}
    assert before[case_id]["agency_responsible"] == "Công an xã Bình Minh"
    assert before[case_id]["address"] == "Xã Bình Minh, Tỉnh Thử"
    path = tmp_path / "units.csv"
    path.write_text(CSV, "utf-8")
    assert runner.invoke(args=["units", "import", str(path)]).exit_code == 0
    after = {r["service_request_id"]: r for r in client.get("/open311/v2/requests.json").json}
    assert after[case_id]["agency_responsible"] == "Đội CSGT Tỉnh Thử"


# --------------------------------------------------------------------------- PWA outlines


def test_outlines_split_per_province_name_each_province_and_its_communes(app, imported):
    from server.api import places
    from server.services import districts

    with app.app_context():
        index = districts.current_index()
        body = places.places(index, split_over=2)
        assert body["districts"] == []
        assert [(p["code"], p["name"]) for p in body["provinces"]] == [
            ("90", "Tỉnh Thử"),
            ("91", "Thành phố Mẫu"),
        ]
        assert body["provinces"][0]["bbox"] == [106.0, 10.0, 106.2, 10.1]
        one = places.province_places(index, "91")
        assert [(d["code"], d["name"], d["province"]) for d in one["districts"]] == [
            ("91001", "Đặc khu Hòn Ngọc", "Thành phố Mẫu"),
            ("91002", "Phường Đông Sơn", "Thành phố Mẫu"),
        ]


def test_one_provinces_outlines_are_served_and_an_unknown_province_is_a_404(client, imported):
    resp = client.get("/api/v1/places/90", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200 and resp.headers["Content-Encoding"] == "gzip"
    again = client.get("/api/v1/places/90")
    assert [d["code"] for d in again.get_json()["districts"]] == ["90001", "90002"]
    assert (
        client.get(
            "/api/v1/places/90", headers={"If-None-Match": again.headers["ETag"]}
        ).status_code
        == 304
    )
    missing = client.get("/api/v1/places/77")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")


# --------------------------------------------------------------------------- admin page


def test_an_admin_imports_units_on_the_console_page_all_or_nothing(app, client, imported):
    import io

    from tests.test_console import post

    with app.app_context():
        accounts.create_user("boss", PASSWORD, "admin")
    console = session_for(app, "boss")
    bad = post(
        console,
        "/console/units/import",
        {"csv": (io.BytesIO((CSV + "X-1,Đội X,99999\n").encode()), "units.csv")},
    )
    text = bad.get_data(as_text=True)
    assert (
        bad.status_code == 422 and "chưa nhập gì" in text and "line 3" in text and "99999" in text
    )
    with app.app_context():
        assert db.session.scalars(sa.select(Unit.code)).all() == []
    good = post(console, "/console/units/import", {"csv": (io.BytesIO(CSV.encode()), "units.csv")})
    assert good.status_code == 302
    page = console.get("/console/units").get_data(as_text=True)
    assert "Đội CSGT Tỉnh Thử" in page and "Phường An Hòa, Xã Bình Minh" in page
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditLog.action).where(AuditLog.action == "units_imported")
        ).all()
    assert actions == ["units_imported"]
