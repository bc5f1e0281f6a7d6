"""The forward picker's list (server.services.districts.choices): districts grouped by
province, provinces and districts in alphabetical order without diacritics or the kind of
unit, the case's own district left out; and the case page showing it that way.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.district_index import DistrictIndex, DistrictInfo
from server.services.districts.choices import fold, group_by_province, sort_key
from tests.test_console import build_world, session_for


def _d(code: str, name: str, province_code: str, province_name: str) -> DistrictInfo:
    return DistrictInfo(code, name, province_code, province_name)


SAMPLE = [
    _d("001", "Quận Ba Đình", "01", "Thành phố Hà Nội"),
    _d("006", "Quận Đống Đa", "01", "Thành phố Hà Nội"),
    _d("271", "Huyện Ba Vì", "01", "Thành phố Hà Nội"),
    _d("005", "Quận Cầu Giấy", "01", "Thành phố Hà Nội"),
    _d("024", "Thành phố Hà Giang", "02", "Tỉnh Hà Giang"),
    _d("030", "Huyện Đồng Văn", "02", "Tỉnh Hà Giang"),
    _d("490", "Quận Hải Châu", "48", "Thành phố Đà Nẵng"),
    _d("883", "Thành phố Long Xuyên", "89", "Tỉnh An Giang"),
    _d("357", "Thị xã Duy Tiên", "35", "Tỉnh Hà Nam"),
]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Quận Ba Đình", "quan ba dinh"),
        ("Thành phố Hồ Chí Minh", "thanh pho ho chi minh"),
        ("ĐẮK LẮK", "dak lak"),
        ("  Hà   Nội ", "ha noi"),
    ],
)
def test_fold_takes_off_diacritics_and_reads_d_stroke_as_d(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("Tỉnh An Giang", "Thành phố Đà Nẵng"),  # by proper name: A before Đ
        ("Thành phố Đà Nẵng", "Tỉnh Hà Giang"),  # Đ sorts as D
        ("Tỉnh Hà Giang", "Tỉnh Hà Nam"),
        ("Tỉnh Hà Nam", "Thành phố Hà Nội"),  # "Thành phố" does not put Hà Nội under T
        ("Quận Ba Đình", "Huyện Ba Vì"),
        ("Quận Cầu Giấy", "Quận Đống Đa"),
    ],
)
def test_names_sort_by_their_proper_name_without_diacritics(earlier: str, later: str) -> None:
    assert sort_key(earlier) < sort_key(later)


def test_districts_are_grouped_by_province_both_in_order_without_the_excluded_one() -> None:
    groups = group_by_province(SAMPLE, exclude_code="006")
    assert [(g.code, g.name) for g in groups] == [
        ("89", "Tỉnh An Giang"),
        ("48", "Thành phố Đà Nẵng"),
        ("02", "Tỉnh Hà Giang"),
        ("35", "Tỉnh Hà Nam"),
        ("01", "Thành phố Hà Nội"),
    ]
    assert [d.name for d in groups[-1].districts] == [
        "Quận Ba Đình",
        "Huyện Ba Vì",
        "Quận Cầu Giấy",
    ]
    assert [d.name for d in groups[2].districts] == ["Huyện Đồng Văn", "Thành phố Hà Giang"]


def test_a_province_whose_only_district_is_excluded_is_left_out() -> None:
    groups = group_by_province(SAMPLE, exclude_code="883")
    assert "89" not in {g.code for g in groups}
    assert sum(len(g.districts) for g in groups) == len(SAMPLE) - 1


def test_the_shipped_boundaries_give_every_district_once_under_its_province() -> None:
    districts = DistrictIndex.load_default().districts()
    groups = group_by_province(districts, exclude_code="001")
    listed = [d for g in groups for d in g.districts]
    assert sorted(d.code for d in listed) == sorted(d.code for d in districts if d.code != "001")
    assert all(d.province_code == g.code for g in groups for d in g.districts)
    assert [sort_key(g.name) for g in groups] == sorted(sort_key(g.name) for g in groups)
    hanoi = next(g for g in groups if g.name == "Thành phố Hà Nội")
    assert len(hanoi.districts) == 29 and "Quận Ba Đình" not in {d.name for d in hanoi.districts}


OPTGROUP_RE = re.compile(r'<optgroup label="([^"]+)">(.*?)</optgroup>', re.S)
OPTION_RE = re.compile(r'<option value="(\d+)">([^<]+)</option>')


def test_case_page_lists_forward_districts_under_their_provinces(
    app: Flask, client: FlaskClient
) -> None:
    world = build_world(app, client)
    page = session_for(app, "rev_a").get(f"/console/cases/{world.cases['A']}")
    html = page.get_data(as_text=True)
    start = html.index('id="forward-form"')
    form = html[start : html.index("</form>", start)]
    groups = {label: OPTION_RE.findall(body) for label, body in OPTGROUP_RE.findall(form)}
    assert len(groups) > 60
    hanoi = dict(groups["Thành phố Hà Nội"])
    assert hanoi["001"] == "Quận Ba Đình"
    assert "006" not in hanoi  # the case's own district (Đống Đa)
    assert "Tìm xã, phường, tỉnh (cả tên cũ)" in form  # the search box, shown by console.js
