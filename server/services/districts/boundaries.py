"""Importing district and province boundaries into the database
(``flask --app wsgi districts import``), idempotently."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ...district_index import DEFAULT_PROPS, DistrictInfo, PropertyNames
from ...extensions import db
from ...models import District, DistrictImport, PoliceUnit, Province, utcnow
from . import cache
from .errors import RoutingError
from .geojson import parse_features
from .index import boundary_token, current_set_id, index_from_tables, shipped_set, tolerance_m
from .units import default_unit

# {code: ((other property values), geometry JSON)}, as parse_features() returns them
Rows = dict[str, tuple[tuple[str, ...], str]]


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
    d_rows = parse_features(
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
        parse_features(provinces_fc, (props.province_code, props.province_name), "province")
        if provinces_fc is not None
        else None
    )
    now = utcnow()
    ins, upd, same, gone = _upsert_districts(d_rows, now, replace)
    p_ins, p_upd, p_same, p_gone = _upsert_provinces(p_rows, now, replace)
    units = _add_default_units(d_rows, now, actor)
    changed = bool(ins or upd or gone or p_ins or p_upd or p_gone)
    token = _record_import(
        changed,
        DistrictImport(
            source=source,
            actor=actor[:64],
            inserted=ins,
            updated=upd,
            unchanged=same,
            removed=gone,
            imported_at=now,
        ),
    )
    return ImportResult(token, ins, upd, same, gone, p_ins, p_upd, p_same, p_gone, units)


def _upsert_districts(rows: Rows, now: datetime, replace: bool) -> tuple[int, int, int, int]:
    """Insert, update (and with ``replace`` delete) districts; returns how many were
    inserted, updated, unchanged and removed."""
    ins = upd = same = 0
    existing = {d.code: d for d in db.session.scalars(sa.select(District))}
    for code, ((name, pcode, pname), geom) in rows.items():
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
    return ins, upd, same, _remove_missing(District, existing, rows, replace)


def _upsert_provinces(rows: Rows | None, now: datetime, replace: bool) -> tuple[int, int, int, int]:
    """As :func:`_upsert_districts`, for provinces (``rows=None``: leave them alone)."""
    ins = upd = same = 0
    if rows is None:
        return 0, 0, 0, 0
    existing = {p.code: p for p in db.session.scalars(sa.select(Province))}
    for code, ((name,), geom) in rows.items():
        row = existing.get(code)
        if row is None:
            db.session.add(Province(code=code, name=name, geometry=geom, updated_at=now))
            ins += 1
        elif (row.name, row.geometry) != (name, geom):
            row.name, row.geometry, row.updated_at = name, geom, now
            upd += 1
        else:
            same += 1
    return ins, upd, same, _remove_missing(Province, existing, rows, replace)


def _remove_missing(
    model: type[District] | type[Province], existing: Iterable[str], rows: Rows, replace: bool
) -> int:
    """With ``replace``, delete the rows of ``model`` (districts or provinces) whose code
    is not in ``rows``; returns how many."""
    gone = [c for c in existing if c not in rows] if replace else []
    if gone:
        db.session.execute(sa.delete(model).where(model.code.in_(gone)))
    return len(gone)


def _add_default_units(rows: Rows, now: datetime, actor: str) -> int:
    """A default police unit for each imported district that has none; returns how many."""
    have_unit = set(db.session.scalars(sa.select(PoliceUnit.district_code)))
    units = 0
    for code, ((name, pcode, pname), _geom) in rows.items():
        if code not in have_unit:
            unit = default_unit(DistrictInfo(code, name, pcode, pname))
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
    return units


def _record_import(changed: bool, record: DistrictImport) -> str:
    """Add the import's ``district_imports`` row with its boundary version, check that
    a new boundary set can be indexed (else roll back), commit, and make this process
    use the new version at once. Returns the version token."""
    previous = boundary_token(fresh=True)
    token = str(uuid.uuid4()) if changed or previous is None else previous
    record.token = token
    db.session.add(record)
    db.session.flush()
    index = None
    if token != previous:
        try:
            index = index_from_tables(tolerance_m())
        except ValueError as e:
            db.session.rollback()
            raise RoutingError(f"the imported boundaries cannot be indexed: {e}") from None
    db.session.commit()
    # The districts table routes only for the historical set with no boundary set imported
    # (index._build_index): only then is this index the one current_index() would build.
    if index is not None and shipped_set() == "pre2025" and current_set_id() is None:
        with cache.index_lock:
            cache.remember((f"{token}:pre2025", tolerance_m()), index)
    cache.tokens[cache.db_key()] = (time.monotonic(), token)
    cache.forget_units()
    return token
