"""Today's map through the real app (issue 23): each of the well-known places of
``tests/data/places_2025.json`` (all 34 provinces; codes and names from the official
lists, sources named per place) is sent as a report, on SQLite and PostgreSQL, and must be
routed to its commune, named with its province, and handled by that commune's police."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.factories import Api, MediaFile, report_body
from tests.media_factory import make_photo

PLACES = json.loads((Path(__file__).parent / "data" / "places_2025.json").read_text("utf-8"))

pytestmark = pytest.mark.boundary_set("2025")


def test_the_table_covers_every_province_with_at_least_100_places():
    assert len(PLACES) >= 100
    assert len({p["province_code"] for p in PLACES}) == 34
    assert all(p["source"] for p in PLACES)


def test_every_well_known_place_is_routed_to_its_commune_and_its_police(app, client):
    api = Api.register(client)
    wrong = []
    for i, place in enumerate(PLACES):
        body = report_body(
            [MediaFile(make_photo(7000 + i))],
            plate=f"30A-{100 + i}.{10 + i % 90}",
            location={"lat": place["lat"], "lon": place["lon"], "accuracy_m": 5.0, "source": "gps"},
        )
        resp = api.put_report(str(uuid.uuid4()), body)
        assert resp.status_code == 201, resp.get_json()
        got = resp.get_json()
        district, unit = got["district"] or {}, got["police_unit"] or {}
        expected = {
            "code": place["commune_code"],
            "name": place["commune_name"],
            "province": place["province_name"],
        }
        if district != expected or unit.get("code") != f"CA-{place['commune_code']}":
            wrong.append((place["name"], expected, district, unit))
    assert wrong == []


@pytest.mark.parametrize(
    ("commune", "unit_name"),
    [
        ("00004", "Công an phường Ba Đình"),
        ("26743", "Công an phường Bến Thành"),
    ],
)
def test_a_new_report_names_todays_commune_police_not_a_district_police(
    app, client, commune, unit_name
):
    place = next(p for p in PLACES if p["commune_code"] == commune)
    api = Api.register(client)
    body = report_body(
        [MediaFile(make_photo(9100))],
        location={"lat": place["lat"], "lon": place["lon"], "accuracy_m": 5.0, "source": "gps"},
    )
    got = api.put_report(str(uuid.uuid4()), body).get_json()
    assert got["police_unit"]["name"] == unit_name
    assert "Quận" not in got["police_unit"]["name"]
