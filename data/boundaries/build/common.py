"""Shared helpers for the 2025 boundary build scripts (build-time only, never imported by
the server).

See ``build_provinces_2025.py`` / ``build_communes_2025.py`` for inputs and how to rerun.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shapely import set_precision
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

BOUNDARIES = Path(__file__).resolve().parents[1]
OLD_PROVINCES = BOUNDARIES / "vn_adm1_provinces_pre2025.geojson.gz"
OLD_DISTRICTS = BOUNDARIES / "vn_adm2_districts_pre2025.geojson.gz"

# Old (pre-1 July 2025) province code -> new province code, Resolution 202/2025/QH15.
# The new province keeps the code of one of the merged provinces (vietnam-provinces 2025.x).
MERGERS: dict[str, list[str]] = {
    "01": ["01"],
    "04": ["04"],
    "08": ["08", "02"],  # Tuyên Quang <- Tuyên Quang, Hà Giang
    "11": ["11"],
    "12": ["12"],
    "14": ["14"],
    "15": ["10", "15"],  # Lào Cai <- Lào Cai, Yên Bái (keeps Yên Bái's code 15)
    "19": ["19", "06"],  # Thái Nguyên <- Thái Nguyên, Bắc Kạn
    "20": ["20"],
    "22": ["22"],
    "24": ["27", "24"],  # Bắc Ninh <- Bắc Ninh, Bắc Giang (keeps Bắc Giang's code 24)
    "25": ["25", "26", "17"],  # Phú Thọ <- Phú Thọ, Vĩnh Phúc, Hòa Bình
    "31": ["31", "30"],  # Hải Phòng <- Hải Phòng, Hải Dương
    "33": ["33", "34"],  # Hưng Yên <- Hưng Yên, Thái Bình
    "37": ["37", "35", "36"],  # Ninh Bình <- Ninh Bình, Hà Nam, Nam Định
    "38": ["38"],
    "40": ["40"],
    "42": ["42"],
    "44": ["45", "44"],  # Quảng Trị <- Quảng Trị, Quảng Bình (keeps Quảng Bình's code 44)
    "46": ["46"],
    "48": ["48", "49"],  # Đà Nẵng <- Đà Nẵng, Quảng Nam
    "51": ["51", "62"],  # Quảng Ngãi <- Quảng Ngãi, Kon Tum
    "52": ["64", "52"],  # Gia Lai <- Gia Lai, Bình Định (keeps Bình Định's code 52)
    "56": ["56", "58"],  # Khánh Hòa <- Khánh Hòa, Ninh Thuận
    "66": ["66", "54"],  # Đắk Lắk <- Đắk Lắk, Phú Yên
    "68": ["68", "67", "60"],  # Lâm Đồng <- Lâm Đồng, Đắk Nông, Bình Thuận
    "75": ["75", "70"],  # Đồng Nai <- Đồng Nai, Bình Phước
    "79": ["79", "74", "77"],  # TP Hồ Chí Minh <- HCM, Bình Dương, Bà Rịa - Vũng Tàu
    "80": ["72", "80"],  # Tây Ninh <- Tây Ninh, Long An (keeps Long An's code 80)
    "82": ["87", "82"],  # Đồng Tháp <- Đồng Tháp, Tiền Giang (keeps Tiền Giang's code 82)
    "86": ["86", "83", "84"],  # Vĩnh Long <- Vĩnh Long, Bến Tre, Trà Vinh
    "91": ["89", "91"],  # An Giang <- An Giang, Kiên Giang (keeps Kiên Giang's code 91)
    "92": ["92", "94", "93"],  # Cần Thơ <- Cần Thơ, Sóc Trăng, Hậu Giang
    "96": ["96", "95"],  # Cà Mau <- Cà Mau, Bạc Liêu
}
OLD_TO_NEW: dict[str, str] = {old: new for new, olds in MERGERS.items() for old in olds}

# Quảng Ninh is absent from the pre-2025 geometry set; its old name is given here.
OLD_NAMES_MISSING = {"22": "Tỉnh Quảng Ninh"}


def read_geojson(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def write_geojson_gz(path: Path, features: list[dict[str, Any]]) -> int:
    """Write a compact, reproducible gzipped FeatureCollection; return its size in bytes."""
    fc = {"type": "FeatureCollection", "features": features}
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the gzip byte-identical between reruns.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    return path.stat().st_size


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Keep only the polygonal parts, as a valid MultiPolygon (possibly empty)."""
    if geom.is_empty:
        return MultiPolygon()
    if not geom.is_valid:
        geom = make_valid(geom)
    polys: list[Polygon] = []
    if isinstance(geom, Polygon):
        polys = [geom]
    elif isinstance(geom, MultiPolygon):
        polys = list(geom.geoms)
    elif hasattr(geom, "geoms"):
        for part in geom.geoms:  # GeometryCollection from make_valid
            polys.extend(as_multipolygon(part).geoms)
    return MultiPolygon([p for p in polys if not p.is_empty and p.area > 0])


def clean(geom: BaseGeometry, grid: float, simplify: float = 0.0) -> MultiPolygon:
    """Optionally simplify, snap to a ``grid`` (degrees), repair; return a valid MultiPolygon."""
    if simplify > 0:
        geom = geom.simplify(simplify, preserve_topology=True)
    geom = set_precision(as_multipolygon(geom), grid)
    geom = as_multipolygon(geom)
    assert geom.is_valid, "geometry invalid after cleaning"
    return geom


def geometry_json(geom: MultiPolygon, ndigits: int) -> dict[str, Any]:
    """GeoJSON geometry with coordinates rounded to ``ndigits`` decimals."""

    def rnd(coords: Iterable[Any]) -> Any:
        if isinstance(coords, (float, int)):
            return round(float(coords), ndigits)
        return [rnd(c) for c in coords]

    gj = mapping(geom)
    return {"type": "MultiPolygon", "coordinates": rnd(gj["coordinates"])}


def load_shape(obj: dict[str, Any]) -> BaseGeometry:
    return shape(obj)


EARTH_R = 6371008.8  # mean Earth radius (m)


def equal_area(geom: BaseGeometry) -> BaseGeometry:
    """Lambert cylindrical equal-area projection on the sphere (x = R·λ, y = R·sin φ), in m.

    Areas are exact on the sphere, so area *ratios* (crosswalk shares) do not depend on
    latitude; absolute km² differ from the ellipsoid by < 0.5 %.
    """
    from shapely import transform

    def fwd(xy):  # type: ignore[no-untyped-def]
        import numpy as np

        out = np.empty_like(xy)
        out[:, 0] = np.radians(xy[:, 0]) * EARTH_R
        out[:, 1] = np.sin(np.radians(xy[:, 1])) * EARTH_R
        return out

    return transform(geom, fwd)


def km2(geom: BaseGeometry) -> float:
    return equal_area(geom).area / 1e6


def metres_to_degrees(m: float, lat: float = 16.0) -> float:
    """Rough conversion used only to pick simplification tolerances."""
    return m / (111_320.0 * math.cos(math.radians(lat)))
