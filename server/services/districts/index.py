"""The routing index of the current boundary set, and the lookups made through it.

A :class:`server.district_index.DistrictIndex` is built once per process and boundary
version and kept in :mod:`.cache`. The version is the ``token`` of the latest
``district_imports`` row, read again at most every :data:`.cache.RECHECK_SECONDS`. While
nothing was ever imported the index is built from the boundaries shipped in
``data/boundaries``; it is shared with :meth:`DistrictIndex.load_default` when the
tolerance is its default (2,000 m).
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from ...district_index import (
    COMMUNES_2025_FILE,
    DATA_DIR,
    DEFAULT_PROPS,
    DISTRICTS_FILE,
    PROPS_2025,
    PROVINCES_2025_FILE,
    PROVINCES_FILE,
    DistrictIndex,
    DistrictInfo,
    Route,
)
from ...extensions import db
from ...models import Area, BoundarySet, District, DistrictImport, Province
from ...settings import current_settings
from . import cache
from .errors import RoutingError
from .geojson import collection, feature, read_geojson

DEFAULT_DISTRICTS_PATH = DATA_DIR / DISTRICTS_FILE
DEFAULT_PROVINCES_PATH = DATA_DIR / PROVINCES_FILE
COMMUNES_2025_PATH = DATA_DIR / COMMUNES_2025_FILE
PROVINCES_2025_PATH = DATA_DIR / PROVINCES_2025_FILE
SHIPPED_SETS = ("2025", "pre2025")
_LOAD_DEFAULT_TOLERANCE_M = 2000.0  # what DistrictIndex.load_default() is built with


def boundary_token(*, fresh: bool = False) -> str | None:
    """Version of the imported boundary set, or None when nothing was ever imported.

    Read from ``district_imports`` at most every :data:`.cache.RECHECK_SECONDS` per
    database (``fresh=True`` reads it now).
    """
    key, now = cache.db_key(), time.monotonic()
    seen = cache.tokens.get(key)
    if not fresh and seen is not None and now - seen[0] < cache.RECHECK_SECONDS:
        return seen[1]
    token = db.session.scalar(
        sa.select(DistrictImport.token).order_by(DistrictImport.id.desc()).limit(1)
    )
    cache.tokens[key] = (now, token)
    return token


def tolerance_m() -> float:
    return current_settings().routing_tolerance_m


def shipped_set() -> str:
    """The shipped boundary set routed with while none was imported (``BOUNDARY_SET``)."""
    name = current_settings().boundary_set
    if name not in SHIPPED_SETS:
        raise RoutingError(f"BOUNDARY_SET must be one of {', '.join(SHIPPED_SETS)}, not {name!r}")
    return name


def current_index() -> DistrictIndex:
    """The routing index of the current boundary set (cached per process and version)."""
    tol = tolerance_m()
    token = boundary_token()
    shipped = shipped_set()
    key = (f"{token or 'default'}:{shipped}", tol)
    with cache.index_lock:
        index = cache.indexes.get(key)
        if index is not None:
            cache.indexes.move_to_end(key)
            return index
        # Built under the lock: concurrent first requests wait for one build.
        index = _build_index(token, tol, shipped)
        cache.remember(key, index)
        return index


def _build_index(token: str | None, tol: float, shipped: str) -> DistrictIndex:
    """The imported current boundary set if there is one; else, for the historical
    set, the districts imported by ``flask districts import``; else the shipped set."""
    if token is not None:
        set_id = current_set_id()
        if set_id is not None:
            return index_of_set(set_id, tol)
        if shipped == "pre2025" and db.session.scalar(sa.select(District.code).limit(1)):
            return index_from_tables(tol)
    return shipped_index(shipped, tol)


def shipped_index(name: str, tol: float) -> DistrictIndex:
    """The index of a shipped boundary set ("2025" or "pre2025")."""
    if name == "pre2025":
        if tol == _LOAD_DEFAULT_TOLERANCE_M:
            return DistrictIndex.load_default()
        return DistrictIndex.from_geojson(
            read_geojson(DEFAULT_DISTRICTS_PATH),
            read_geojson(DEFAULT_PROVINCES_PATH),
            tolerance_m=tol,
        )
    if not COMMUNES_2025_PATH.is_file():
        raise RoutingError(f"{COMMUNES_2025_PATH} is missing (today's communes)")
    if tol == _LOAD_DEFAULT_TOLERANCE_M:
        return DistrictIndex.load_2025()
    return DistrictIndex.from_geojson(
        read_geojson(COMMUNES_2025_PATH),
        read_geojson(PROVINCES_2025_PATH),
        PROPS_2025,
        tolerance_m=tol,
    )


def current_set_id() -> str | None:
    """The imported boundary set routed with now (the last ``current`` one), or None."""
    return db.session.scalar(
        sa.select(BoundarySet.id)
        .where(BoundarySet.kind == "current", BoundarySet.source == "import")
        .order_by(BoundarySet.created_at.desc(), BoundarySet.id.desc())
        .limit(1)
    )


def index_of_set(set_id: str, tol: float) -> DistrictIndex:
    """A routing index of the areas of an imported boundary set (no province outlines:
    a point in a gap between areas is routed by the tolerance rule)."""
    p = PROPS_2025
    areas = [
        feature(
            {
                p.district_code: a.code,
                p.district_name: a.name,
                p.district_province_code: a.province_code,
                p.district_province_name: a.province_name,
                "type": a.kind,
                "aliases": json.loads(a.aliases or "[]"),
            },
            a.geometry,
        )
        for a in db.session.scalars(sa.select(Area).where(Area.set_id == set_id))
    ]
    return DistrictIndex.from_geojson(collection(areas), collection([]), p, tolerance_m=tol)


def index_from_tables(tol: float) -> DistrictIndex:
    """A routing index of the ``districts`` and ``provinces`` tables as they are now."""
    p = DEFAULT_PROPS
    districts = [
        feature(
            {
                p.district_code: d.code,
                p.district_name: d.name,
                p.district_province_code: d.province_code,
                p.district_province_name: d.province_name,
            },
            d.geometry,
        )
        for d in db.session.scalars(sa.select(District).order_by(District.code))
    ]
    provinces = [
        feature({p.province_code: pr.code, p.province_name: pr.name}, pr.geometry)
        for pr in db.session.scalars(sa.select(Province).order_by(Province.code))
    ]
    return DistrictIndex.from_geojson(
        collection(districts), collection(provinces), DEFAULT_PROPS, tolerance_m=tol
    )


def route_point(lat: float, lon: float) -> Route:
    """Route one position with the current boundaries (never raises for bad input)."""
    return current_index().route(lat, lon)


def district_info(code: str | None) -> DistrictInfo | None:
    """An area of the current boundary set."""
    return current_index().district(code) if code else None


def area_info(code: str | None) -> DistrictInfo | None:
    """An area of the current boundary set, else a pre-2025 district (history: the area
    of a report routed before today's map), else None."""
    if not code:
        return None
    return district_info(code) or historical_districts().get(code)


@lru_cache(maxsize=1)
def historical_districts() -> dict[str, DistrictInfo]:
    """The shipped pre-2025 districts by code (names only, no geometry)."""
    p = DEFAULT_PROPS
    out = {}
    for f in read_geojson(DEFAULT_DISTRICTS_PATH).get("features") or []:
        v = f.get("properties") or {}
        code = str(v.get(p.district_code))
        out[code] = DistrictInfo(
            code,
            str(v.get(p.district_name)),
            str(v.get(p.district_province_code)),
            str(v.get(p.district_province_name)),
        )
    return out


def require_district(code: str) -> DistrictInfo:
    info = district_info(code)
    if info is None:
        raise RoutingError(f"unknown district code {code!r}")
    return info


def district_ref(code: str | None) -> dict[str, Any] | None:
    """``{code, name, province}`` of a district for the API, or None.

    A code that is no longer in the boundary set (removed by a later import) keeps its
    code, with name and province unknown.
    """
    if not code:
        return None
    info = area_info(code)
    if info is None:
        return {"code": code, "name": None, "province": None}
    return {"code": info.code, "name": info.name, "province": info.province_name}
