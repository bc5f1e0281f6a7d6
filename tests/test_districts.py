"""`flask districts import / list / set-unit`: boundaries and police units in the database.

A tiny two-district GeoJSON with its own property names stands in for a real boundary
file: west "T01" = [106.0, 106.1] x [10.0, 10.1], east "T02" = [106.1, 106.2] x
[10.0, 10.1], sharing the edge lon = 106.1, in province "99" (with a province outline
that also covers a gap [106.2, 106.3] x [10.0, 10.1]).
"""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import (
    Case,
    CaseEvent,
    District,
    DistrictImport,
    PoliceUnit,
    Province,
    Report,
)
from tests.factories import Api, MediaFile, report_body
from tests.media_factory import make_photo

PROP_NAMES = {
    "district-code": "ma",
    "district-name": "ten",
    "district-province-code": "ma_tinh",
    "district-province-name": "ten_tinh",
    "province-code": "ma_tinh",
    "province-name": "ten_tinh",
}
PROPS = [arg for option, prop in PROP_NAMES.items() for arg in (f"--{option}", prop)]


def square(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def district(code: str, name: str, geometry: dict) -> dict:
    props = {"ma": code, "ten": name, "ma_tinh": "99", "ten_tinh": "Tỉnh Thử"}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def write(path: Path, features: list[dict], gz: bool = False) -> str:
    text = json.dumps({"type": "FeatureCollection", "features": features})
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


WEST = district("T01", "Quận Tây", square(106.0, 10.0, 106.1, 10.1))
EAST = district("T02", "Quận Đông", square(106.1, 10.0, 106.2, 10.1))
PROVINCE = {
    "type": "Feature",
    "properties": {"ma_tinh": "99", "ten_tinh": "Tỉnh Thử"},
    "geometry": square(106.0, 10.0, 106.3, 10.1),
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    return {
        "districts": write(tmp_path / "districts.geojson", [WEST, EAST]),
        "districts_gz": write(tmp_path / "districts.geojson.gz", [WEST, EAST], gz=True),
        "provinces": write(tmp_path / "provinces.geojson", [PROVINCE]),
    }


def run(runner, *args: str):
    result = runner.invoke(args=["districts", *args])
    return result


def import_tiny(runner, files, *extra: str, which: str = "districts"):
    result = run(runner, "import", files[which], "--provinces", files["provinces"], *PROPS, *extra)
    assert result.exit_code == 0, result.output
    return result


def rows(app, model) -> list:
    with app.app_context():
        found = db.session.scalars(sa.select(model)).all()
        for r in found:
            db.session.expunge(r)
        return list(found)


def send(client, lat: float, lon: float, plate: str = "51F-123.45") -> dict:
    api = Api.register(client)
    body = report_body(
        [MediaFile(make_photo(int(lat * 1000 + lon * 10) % 5000))],
        plate=plate,
        location={"lat": lat, "lon": lon, "accuracy_m": 5.0, "source": "gps"},
    )
    resp = api.put_report(str(uuid.uuid4()), body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


# --------------------------------------------------------------------------- import


@pytest.mark.parametrize("which", ["districts", "districts_gz"], ids=["geojson", "geojson-gz"])
def test_import_with_configured_property_names_loads_districts_provinces_and_units(
    app, runner, files, which
):
    result = import_tiny(runner, files, which=which)
    assert "districts: 2 inserted, 0 updated, 0 unchanged, 0 removed" in result.output
    assert "provinces: 1 inserted" in result.output

    found = sorted((d.code, d.name, d.province_code, d.province_name) for d in rows(app, District))
    assert found == [("T01", "Quận Tây", "99", "Tỉnh Thử"), ("T02", "Quận Đông", "99", "Tỉnh Thử")]
    assert [p.code for p in rows(app, Province)] == ["99"]
    units = sorted((u.district_code, u.code, u.name) for u in rows(app, PoliceUnit))
    assert units == [("T01", "CA-T01", "Công an Quận Tây"), ("T02", "CA-T02", "Công an Quận Đông")]


def test_importing_the_same_file_twice_changes_nothing(app, runner, files):
    import_tiny(runner, files)
    before = [(d.code, d.geometry, d.updated_at) for d in rows(app, District)]

    again = import_tiny(runner, files)
    assert "districts: 0 inserted, 0 updated, 2 unchanged, 0 removed" in again.output
    assert "police units created: 0" in again.output
    assert [(d.code, d.geometry, d.updated_at) for d in rows(app, District)] == before
    assert len(rows(app, PoliceUnit)) == 2
    imports = sorted(rows(app, DistrictImport), key=lambda i: i.id)
    assert len(imports) == 2 and imports[0].token == imports[1].token  # same version


@pytest.mark.parametrize(
    ("lat", "lon", "code", "rule"),
    [
        pytest.param(10.05, 106.05, "T01", "inside", id="inside-west"),
        pytest.param(10.05, 106.15, "T02", "inside", id="inside-east"),
        pytest.param(10.05, 106.1, "T01", "border", id="shared-edge-lowest-code"),
        pytest.param(10.05, 106.25, "T02", "province_nearest", id="province-gap"),
        pytest.param(10.11, 106.05, "T01", "tolerance_nearest", id="1km-outside"),
        pytest.param(21.028511, 105.804817, None, "unrouted", id="hanoi-not-imported"),
    ],
)
def test_after_an_import_reports_are_routed_on_the_imported_boundaries(
    app, client, runner, files, lat, lon, code, rule
):
    import_tiny(runner, files)
    view = send(client, lat, lon)
    assert (view["district"] or {}).get("code") == code
    if code:
        assert view["district"]["province"] == "Tỉnh Thử"
    with app.app_context():
        assert db.session.get(Report, view["report_id"]).route_rule == rule


def test_a_changed_boundary_is_updated_and_routing_follows_at_once(
    app, client, runner, files, tmp_path
):
    import_tiny(runner, files)
    assert send(client, 10.05, 106.05)["district"]["code"] == "T01"
    # West now ends at 106.04; east grows over what it gave up.
    west = district("T01", "Quận Tây", square(106.0, 10.0, 106.04, 10.1))
    east = district("T02", "Quận Đông", square(106.04, 10.0, 106.2, 10.1))
    path = write(tmp_path / "v2.geojson", [west, east])
    result = run(runner, "import", path, *PROPS)
    assert result.exit_code == 0, result.output
    assert "districts: 0 inserted, 2 updated, 0 unchanged" in result.output

    assert send(client, 10.05, 106.05, plate="51F-999.99")["district"]["code"] == "T02"
    imports = sorted(rows(app, DistrictImport), key=lambda i: i.id)
    assert imports[0].token != imports[1].token


@pytest.mark.parametrize("replace", [False, True], ids=["keep-missing", "replace"])
def test_districts_missing_from_a_new_file_are_kept_unless_replace(
    app, runner, files, tmp_path, replace
):
    import_tiny(runner, files)
    only_west = write(tmp_path / "west.geojson", [WEST])
    result = run(runner, "import", only_west, *PROPS, *(["--replace"] if replace else []))
    assert result.exit_code == 0, result.output
    assert f"1 unchanged, {int(replace)} removed" in result.output
    assert sorted(d.code for d in rows(app, District)) == (["T01"] if replace else ["T01", "T02"])


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        pytest.param(
            {**WEST, "properties": {"ten": "x", "ma_tinh": "99", "ten_tinh": "y"}},
            "missing property 'ma'",
            id="missing-code",
        ),
        pytest.param(
            {**WEST, "geometry": {"type": "Point", "coordinates": [106.0, 10.0]}},
            "Polygon or MultiPolygon",
            id="point-geometry",
        ),
    ],
)
def test_a_bad_file_is_rejected_and_nothing_is_written(app, runner, tmp_path, feature, message):
    path = write(tmp_path / "bad.geojson", [EAST, feature])
    result = run(runner, "import", path, *PROPS)
    assert result.exit_code != 0
    assert message in result.output
    assert rows(app, District) == [] and rows(app, DistrictImport) == []


def test_default_property_names_must_match_the_file(app, runner, files):
    result = run(runner, "import", files["districts"])
    assert result.exit_code != 0
    assert "missing property 'adm2_code'" in result.output
    assert rows(app, District) == []


def test_import_without_a_file_loads_the_shipped_boundaries_with_the_same_answers(
    app, client, runner
):
    """Same answers as the built-in default, now read back from the database."""
    probes = {
        (21.028511, 105.804817): ("006", "Quận Đống Đa"),
        (10.81, 106.82): ("769", "Thành phố Thủ Đức"),
        (16.03, 108.2606): ("494", "Quận Ngũ Hành Sơn"),
        (12.0, 112.0): (None, None),
    }
    before = {p: send(client, *p, plate="")["district"] for p in probes}
    result = run(runner, "import")
    assert result.exit_code == 0, result.output
    assert "districts: 692 inserted" in result.output
    assert "provinces: 62 inserted" in result.output
    assert len(rows(app, PoliceUnit)) == 692
    with app.app_context():
        from server.services import districts as routing

        assert routing.boundary_token() is not None
    after = {p: send(client, *p, plate="")["district"] for p in probes}
    assert after == before
    assert {p: (d or {}).get("code") for p, d in after.items()} == {
        p: code for p, (code, _) in probes.items()
    }


# --------------------------------------------------------------------------- units


def test_list_shows_districts_with_their_units(runner, files):
    import_tiny(runner, files)
    result = run(runner, "list")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "T01\tQuận Tây\tTỉnh Thử\tCA-T01\tCông an Quận Tây",
        "T02\tQuận Đông\tTỉnh Thử\tCA-T02\tCông an Quận Đông",
    ]


def test_set_unit_changes_who_handles_a_district_and_moves_its_open_cases(
    app, client, runner, files
):
    import_tiny(runner, files)
    before = send(client, 10.05, 106.05)
    result = run(runner, "set-unit", "T01", "CA-LIENQUAN", "--name", "Công an liên quận")
    assert result.exit_code == 0, result.output
    assert "open cases moved: 1" in result.output
    # A second district joins the same unit, keeping its name.
    assert run(runner, "set-unit", "T02", "CA-LIENQUAN").exit_code == 0

    units = sorted((u.district_code, u.code, u.name) for u in rows(app, PoliceUnit))
    assert units == [
        ("T01", "CA-LIENQUAN", "Công an liên quận"),
        ("T02", "CA-LIENQUAN", "Công an liên quận"),
    ]
    after = send(client, 10.05, 106.15, plate="51F-777.77")
    with app.app_context():
        old = db.session.get(Case, before["case_id"])
        new = db.session.get(Case, after["case_id"])
        assert (old.unit_code, new.unit_code) == ("CA-LIENQUAN", "CA-LIENQUAN")
        moved = db.session.scalars(
            sa.select(CaseEvent).where(
                CaseEvent.case_id == old.id, CaseEvent.kind == "unit_changed"
            )
        ).one()
        assert (moved.from_unit, moved.to_unit) == ("CA-T01", "CA-LIENQUAN")
    # Re-importing does not undo the edit.
    import_tiny(runner, files)
    assert {u.code for u in rows(app, PoliceUnit)} == {"CA-LIENQUAN"}


def test_set_unit_on_the_shipped_default_needs_no_import(app, client, runner):
    result = run(runner, "set-unit", "006", "PC08-DD", "--name", "Đội CSGT Đống Đa")
    assert result.exit_code == 0, result.output
    view = send(client, 21.028511, 105.804817)
    with app.app_context():
        assert db.session.get(Case, view["case_id"]).unit_code == "PC08-DD"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["999", "CA-999"], "unknown district", id="unknown-district"),
        pytest.param(["006", "X" * 33], "1 to 32 characters", id="unit-code-too-long"),
        pytest.param(["006", "CA-006", "--name", " "], "1 to 200 characters", id="blank-name"),
    ],
)
def test_set_unit_rejects_bad_input(app, runner, args, message):
    result = run(runner, "set-unit", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert rows(app, PoliceUnit) == []
