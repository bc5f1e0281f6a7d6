"""The database-backed router: which district (and police unit) a report belongs to.

Where the boundaries come from
    The ``districts`` and ``provinces`` tables, filled by ``flask --app wsgi districts
    import`` (:func:`import_boundaries`). While no import has ever been made (a fresh
    database, every test database), the router uses the boundaries shipped in
    ``data/boundaries`` instead, so ingest routes reports without any manual step. The
    answers are the same either way when the shipped file is what was imported.

The in-memory index
    A :class:`server.routing.DistrictIndex` is built once per process and boundary
    version and kept in a module-level cache. The version is the ``token`` of the latest
    ``district_imports`` row, read again at most every :data:`RECHECK_SECONDS` (1 s):
    an import is used at once by the process that made it, and by every other process
    within a second; an import that changes nothing keeps the token and the cache. The
    shipped default is shared with :meth:`DistrictIndex.load_default` when the
    tolerance is its default (2,000 m). Building the full index takes a few seconds,
    once per process (the first routed report or ``district`` lookup pays it).

Rules
    Those of :mod:`server.routing`, recorded as ``reports.route_rule``: ``inside``,
    ``border`` (a point on a shared border goes to the lowest district code),
    ``province_nearest`` (a data gap inside a province: nearest district of that
    province), ``tolerance_nearest`` (outside every polygon but within
    ``ROUTING_TOLERANCE_M`` of a district, e.g. just off the coast) and ``unrouted``
    (``district_code`` NULL: far at sea, abroad, or deep in Quảng Ninh, which the data
    lacks). Unrouted reports wait in the queue of ``flask districts unrouted`` until an
    administrator places them (:func:`server.services.cases.route_by_hand`, rule
    ``by_hand``). Reports keep their district when boundaries are re-imported.

Which location is routed
    The report's own ``location`` (its ``source`` says gps, exif or manual); it is
    recorded as ``reports.route_location_source``. A received photo whose EXIF position
    differs does not re-route the report: the reporter chose the location, and a large
    difference is already flagged for the reviewer (``exif_location_mismatch``).

Police units
    ``police_units`` maps each district to the unit that handles its reports. Without a
    row (the shipped default, or a district never given one) the unit is
    ``CA-<district code>`` named ``Công an <district name>``; an import creates those
    rows for new districts, and :func:`set_unit` edits them. A case keeps the unit it
    was given; :func:`set_unit` moves the district's open cases to the new unit (with a
    ``unit_changed`` history row). Lookups are remembered for :data:`RECHECK_SECONDS`.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Report, utcnow
from ..models.geo import Case, CaseEvent, District, DistrictImport, PoliceUnit, Province
from ..routing import (
    DATA_DIR,
    DEFAULT_PROPS,
    DISTRICTS_FILE,
    PROVINCES_FILE,
    DistrictIndex,
    PropertyNames,
    Route,
)
from ..routing import District as DistrictInfo

DEFAULT_DISTRICTS_PATH = DATA_DIR / DISTRICTS_FILE
DEFAULT_PROVINCES_PATH = DATA_DIR / PROVINCES_FILE
_LOAD_DEFAULT_TOLERANCE_M = 2000.0  # what DistrictIndex.load_default() is built with
_CACHE_SIZE = 4

# Seconds a process trusts what it last read of the boundary version and of a district's
# unit before reading it again (imports and unit edits made by this process apply at
# once; those of other processes within this delay).
RECHECK_SECONDS = 1.0

_cache: OrderedDict[tuple[str, float], DistrictIndex] = OrderedDict()
_cache_lock = threading.Lock()
_tokens: dict[str, tuple[float, str | None]] = {}  # database url -> (read at, token)
_units: dict[tuple[str, str], tuple[float, Unit | None]] = {}  # (url, district) -> unit


class RoutingError(ValueError):
    """A request the router cannot carry out (bad file, unknown district ...)."""


@dataclass(frozen=True)
class Unit:
    code: str
    name: str


@dataclass(frozen=True)
class ImportResult:
    token: str
    inserted: int
    updated: int
    unchanged: int
    removed: int
    provinces_inserted: int
    provinces_updated: int
    provinces_unchanged: int
    provinces_removed: int
    units_created: int

    @property
    def changed(self) -> bool:
        return bool(
            self.inserted
            + self.updated
            + self.removed
            + self.provinces_inserted
            + self.provinces_updated
            + self.provinces_removed
        )


# ---------------------------------------------------------------------------- the index


def _db_key() -> str:
    return str(db.engine.url)


def boundary_token(*, fresh: bool = False) -> str | None:
    """Version of the imported boundary set, or None when nothing was ever imported.

    Read from ``district_imports`` at most every :data:`RECHECK_SECONDS` per database
    (``fresh=True`` reads it now).
    """
    key, now = _db_key(), time.monotonic()
    seen = _tokens.get(key)
    if not fresh and seen is not None and now - seen[0] < RECHECK_SECONDS:
        return seen[1]
    token = db.session.scalar(
        sa.select(DistrictImport.token).order_by(DistrictImport.id.desc()).limit(1)
    )
    _tokens[key] = (now, token)
    return token


def tolerance_m() -> float:
    return float(current_app.config["ROUTING_TOLERANCE_M"])


def current_index() -> DistrictIndex:
    """The routing index of the current boundary set (cached per process and version)."""
    tol = tolerance_m()
    token = boundary_token()
    key = (token or "default", tol)
    with _cache_lock:
        index = _cache.get(key)
        if index is not None:
            _cache.move_to_end(key)
            return index
        # Built under the lock: concurrent first requests wait for one build.
        index = _build_index(token, tol)
        _remember(key, index)
        return index


def _remember(key: tuple[str, float], index: DistrictIndex) -> None:
    _cache[key] = index
    _cache.move_to_end(key)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)


def invalidate() -> None:
    """Forget every cached index, version and unit (the next routing call rereads)."""
    with _cache_lock:
        _cache.clear()
    _tokens.clear()
    _units.clear()


def _build_index(token: str | None, tol: float) -> DistrictIndex:
    if token is None:
        if tol == _LOAD_DEFAULT_TOLERANCE_M:
            return DistrictIndex.load_default()
        return DistrictIndex.from_geojson(
            read_geojson(DEFAULT_DISTRICTS_PATH),
            read_geojson(DEFAULT_PROVINCES_PATH),
            tolerance_m=tol,
        )
    return _index_from_tables(tol)


def _index_from_tables(tol: float) -> DistrictIndex:
    p = DEFAULT_PROPS
    districts = [
        _feature(
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
        _feature({p.province_code: pr.code, p.province_name: pr.name}, pr.geometry)
        for pr in db.session.scalars(sa.select(Province).order_by(Province.code))
    ]
    return DistrictIndex.from_geojson(
        _collection(districts), _collection(provinces), DEFAULT_PROPS, tolerance_m=tol
    )


def _feature(props: dict[str, str], geometry_json: str) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": json.loads(geometry_json)}


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


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


# ---------------------------------------------------------------------------- units


def default_unit(district: DistrictInfo) -> Unit:
    return Unit(code=f"CA-{district.code}", name=f"Công an {district.name}")


def unit_for(district_code: str | None) -> Unit | None:
    """The police unit handling a district (its row, else the default), or None.

    Remembered per database and district for :data:`RECHECK_SECONDS`.
    """
    if not district_code:
        return None
    key, now = (_db_key(), district_code), time.monotonic()
    seen = _units.get(key)
    if seen is not None and now - seen[0] < RECHECK_SECONDS:
        return seen[1]
    row = db.session.execute(
        sa.select(PoliceUnit.code, PoliceUnit.name).where(PoliceUnit.district_code == district_code)
    ).first()
    if row is not None:
        unit: Unit | None = Unit(row.code, row.name)
    else:
        info = district_info(district_code)
        unit = default_unit(info) if info is not None else None
    _units[key] = (now, unit)
    return unit


def set_unit(
    district_code: str, unit_code: str, name: str | None = None, actor: str = "admin"
) -> tuple[Unit, int]:
    """Make ``unit_code`` handle ``district_code``; returns the unit and how many open
    cases of the district moved to it from the previous unit.

    Without ``name`` the unit keeps the name it has for another district, else gets the
    default name. With ``name`` every district served by that unit code shows the new
    name. Commits.
    """
    info = require_district(district_code)
    unit_code = unit_code.strip()
    if not unit_code or len(unit_code) > 32:
        raise RoutingError("unit code must be 1 to 32 characters")
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise RoutingError("unit name must be 1 to 200 characters")
    previous = unit_for(district_code)
    if name is None:
        name = (
            db.session.scalar(
                sa.select(PoliceUnit.name).where(PoliceUnit.code == unit_code).limit(1)
            )
            or default_unit(info).name
        )
    else:
        db.session.execute(
            sa.update(PoliceUnit)
            .where(PoliceUnit.code == unit_code)
            .values(name=name, updated_at=utcnow(), updated_by=actor[:64])
        )
    row = db.session.get(PoliceUnit, district_code)
    if row is None:
        row = PoliceUnit(district_code=district_code)
        db.session.add(row)
    row.code, row.name, row.updated_at, row.updated_by = unit_code, name, utcnow(), actor[:64]
    moved = 0
    if previous is not None and previous.code != unit_code:
        moved = _move_open_cases(district_code, previous.code, unit_code, actor)
    db.session.commit()
    _forget_units()
    return Unit(unit_code, name), moved


def _forget_units() -> None:
    url = _db_key()
    for key in [k for k in _units if k[0] == url]:
        _units.pop(key, None)


def _move_open_cases(district_code: str, old_unit: str, new_unit: str, actor: str) -> int:
    """Open cases of the district held by the old unit go to the new one (with history)."""
    where = sa.and_(
        Case.district_code == district_code, Case.unit_code == old_unit, Case.status == "open"
    )
    now = utcnow()
    db.session.execute(
        sa.insert(CaseEvent).from_select(
            [
                "case_id",
                "kind",
                "from_district",
                "to_district",
                "from_unit",
                "to_unit",
                "actor",
                "created_at",
            ],
            sa.select(
                Case.id,
                sa.literal("unit_changed"),
                Case.district_code,
                Case.district_code,
                Case.unit_code,
                sa.literal(new_unit),
                sa.literal(actor[:64]),
                sa.literal(now, type_=CaseEvent.__table__.c.created_at.type),
            ).where(where),
        )
    )
    result = db.session.execute(
        sa.update(Case).where(where).values(unit_code=new_unit, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)


# ---------------------------------------------------------------------------- unrouted


def unrouted_reports(limit: int = 100) -> list[Report]:
    """Reports no rule could place (oldest first): the queue administrators route by hand."""
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.district_code.is_(None))
            .order_by(Report.received_at, Report.id)
            .limit(limit)
        )
    )


# ---------------------------------------------------------------------------- import


def read_geojson(path: str | Path) -> dict[str, Any]:
    """A GeoJSON file, gzip-compressed or not."""
    path = Path(path)
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RoutingError(f"{path}: not a readable GeoJSON file ({e})") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RoutingError(f"{path}: expected a GeoJSON FeatureCollection")
    return data


def _polygon_parts(geometry: Any, where: str) -> list[Any]:
    """Polygon coordinate arrays of a Polygon/MultiPolygon geometry."""
    if not isinstance(geometry, dict):
        raise RoutingError(f"{where}: feature without geometry")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon" and isinstance(coords, list):
        return [coords]
    if kind == "MultiPolygon" and isinstance(coords, list):
        return list(coords)
    raise RoutingError(f"{where}: geometry must be a Polygon or MultiPolygon, not {kind!r}")


def _parse_features(
    fc: dict[str, Any], props: Iterable[str], label: str
) -> dict[str, tuple[tuple[str, ...], str]]:
    """``{code: (other property values, geometry JSON)}``; the first prop is the code.

    Features sharing a code are merged into one MultiPolygon.
    """
    names = list(props)
    merged: dict[str, tuple[tuple[str, ...], list[Any]]] = {}
    for i, feature in enumerate(fc.get("features") or []):
        where = f"{label} feature {i}"
        values = (feature or {}).get("properties") or {}
        missing = [n for n in names if values.get(n) in (None, "")]
        if missing:
            raise RoutingError(f"{where}: missing property {missing[0]!r}")
        code, *rest = (str(values[n]).strip() for n in names)
        if len(code) > 16:
            raise RoutingError(f"{where}: code {code!r} is longer than 16 characters")
        parts = _polygon_parts(feature.get("geometry"), where)
        if code in merged:
            merged[code][1].extend(parts)
        else:
            merged[code] = (tuple(v[:200] for v in rest), parts)
    out = {}
    for code, (rest, parts) in merged.items():
        geom = (
            {"type": "Polygon", "coordinates": parts[0]}
            if len(parts) == 1
            else {"type": "MultiPolygon", "coordinates": parts}
        )
        out[code] = (rest, json.dumps(geom, separators=(",", ":")))
    return out


def import_boundaries(
    districts_fc: dict[str, Any],
    provinces_fc: dict[str, Any] | None = None,
    props: PropertyNames = DEFAULT_PROPS,
    *,
    source: str = "",
    actor: str = "admin",
    replace: bool = False,
) -> ImportResult:
    """Load districts (and optionally provinces) into the database, idempotently.

    Rows are matched by code: new codes are inserted, changed rows updated, equal rows
    left alone. With ``replace``, districts (and, when a provinces collection is given,
    provinces) missing from the input are deleted; without it they are kept.
    ``provinces_fc=None`` leaves the provinces table as it is. Each new district gets a
    default police unit unless it already has one. The resulting boundary set is checked
    by building its routing index before the commit (a broken set is rolled back).
    Reports already stored keep their district. Commits.
    """
    d_rows = _parse_features(
        districts_fc,
        (
            props.district_code,
            props.district_name,
            props.district_province_code,
            props.district_province_name,
        ),
        "district",
    )
    if not d_rows:
        raise RoutingError("the districts file has no features")
    p_rows = (
        _parse_features(provinces_fc, (props.province_code, props.province_name), "province")
        if provinces_fc is not None
        else None
    )
    now = utcnow()
    ins = upd = same = 0
    existing = {d.code: d for d in db.session.scalars(sa.select(District))}
    for code, ((name, pcode, pname), geom) in d_rows.items():
        if len(pcode) > 16:
            raise RoutingError(f"district {code}: province code {pcode!r} is too long")
        row = existing.get(code)
        if row is None:
            db.session.add(
                District(
                    code=code,
                    name=name,
                    province_code=pcode,
                    province_name=pname,
                    geometry=geom,
                    updated_at=now,
                )
            )
            ins += 1
        elif (row.name, row.province_code, row.province_name, row.geometry) != (
            name,
            pcode,
            pname,
            geom,
        ):
            row.name, row.province_code, row.province_name = name, pcode, pname
            row.geometry, row.updated_at = geom, now
            upd += 1
        else:
            same += 1
    gone = [c for c in existing if c not in d_rows] if replace else []
    if gone:
        db.session.execute(sa.delete(District).where(District.code.in_(gone)))

    p_ins = p_upd = p_same = p_gone = 0
    if p_rows is not None:
        p_existing = {p.code: p for p in db.session.scalars(sa.select(Province))}
        for code, ((name,), geom) in p_rows.items():
            row = p_existing.get(code)
            if row is None:
                db.session.add(Province(code=code, name=name, geometry=geom, updated_at=now))
                p_ins += 1
            elif (row.name, row.geometry) != (name, geom):
                row.name, row.geometry, row.updated_at = name, geom, now
                p_upd += 1
            else:
                p_same += 1
        p_gone_codes = [c for c in p_existing if c not in p_rows] if replace else []
        if p_gone_codes:
            db.session.execute(sa.delete(Province).where(Province.code.in_(p_gone_codes)))
        p_gone = len(p_gone_codes)

    have_unit = set(db.session.scalars(sa.select(PoliceUnit.district_code)))
    units = 0
    for code, ((name, _pc, _pn), _g) in d_rows.items():
        if code not in have_unit:
            unit = default_unit(DistrictInfo(code, name, _pc, _pn))
            db.session.add(
                PoliceUnit(
                    district_code=code,
                    code=unit.code,
                    name=unit.name,
                    updated_at=now,
                    updated_by=actor[:64],
                )
            )
            units += 1

    previous = boundary_token(fresh=True)
    changed = bool(ins or upd or gone or p_ins or p_upd or p_gone)
    token = str(uuid.uuid4()) if changed or previous is None else previous
    db.session.add(
        DistrictImport(
            token=token,
            source=source,
            actor=actor[:64],
            inserted=ins,
            updated=upd,
            unchanged=same,
            removed=len(gone),
            imported_at=now,
        )
    )
    db.session.flush()
    index = None
    if token != previous:
        try:
            index = _index_from_tables(tolerance_m())
        except ValueError as e:
            db.session.rollback()
            raise RoutingError(f"the imported boundaries cannot be indexed: {e}") from None
    db.session.commit()
    if index is not None:
        with _cache_lock:
            _remember((token, tolerance_m()), index)
    _tokens[_db_key()] = (time.monotonic(), token)
    _forget_units()
    return ImportResult(token, ins, upd, same, len(gone), p_ins, p_upd, p_same, p_gone, units)
