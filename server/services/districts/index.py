"""The routing index of the current boundary set, and the lookups made through it.

A :class:`server.district_index.DistrictIndex` is built once per process and boundary
version and kept in :mod:`.cache`. The version is the ``token`` of the latest
``district_imports`` row, read again at most every :data:`.cache.RECHECK_SECONDS`. While
nothing was ever imported the index is built from the boundaries shipped in
``data/boundaries``; it is shared with :meth:`DistrictIndex.load_default` when the
tolerance is its default (2,000 m).
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from ...district_index import (
    DATA_DIR,
    DEFAULT_PROPS,
    DISTRICTS_FILE,
    PROVINCES_FILE,
    DistrictIndex,
    DistrictInfo,
    Route,
)
from ...extensions import db
from ...models import District, DistrictImport, Province
from ...settings import current_settings
from . import cache
from .errors import RoutingError
from .geojson import collection, feature, read_geojson

DEFAULT_DISTRICTS_PATH = DATA_DIR / DISTRICTS_FILE
DEFAULT_PROVINCES_PATH = DATA_DIR / PROVINCES_FILE
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


def current_index() -> DistrictIndex:
    """The routing index of the current boundary set (cached per process and version)."""
    tol = tolerance_m()
    token = boundary_token()
    key = (token or "default", tol)
    with cache.index_lock:
        index = cache.indexes.get(key)
        if index is not None:
            cache.indexes.move_to_end(key)
            return index
        # Built under the lock: concurrent first requests wait for one build.
        index = _build_index(token, tol)
        cache.remember(key, index)
        return index


def _build_index(token: str | None, tol: float) -> DistrictIndex:
    if token is None:
        if tol == _LOAD_DEFAULT_TOLERANCE_M:
            return DistrictIndex.load_default()
        return DistrictIndex.from_geojson(
            read_geojson(DEFAULT_DISTRICTS_PATH),
            read_geojson(DEFAULT_PROVINCES_PATH),
            tolerance_m=tol,
        )
    return index_from_tables(tol)


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
    return current_index().district(code) if code else None


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
    info = district_info(code)
    if info is None:
        return {"code": code, "name": None, "province": None}
    return {"code": info.code, "name": info.name, "province": info.province_name}
