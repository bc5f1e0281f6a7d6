"""Boundary versions (issue 23): importing a new set of routing areas, re-routing open
cases to it (dry run first, then audited), and listing what cannot be mapped.

The shipped sets are ``pre2025`` (the 705 pre-2025 districts, historical) and ``2025``
(today's communes, current), rows of ``boundary_sets`` made by migration 0017. A set
imported by ``flask boundaries import FILE --effective DATE`` gets its own row and its
areas in ``areas``; it becomes the routing set at once (the previous imported sets turn
``historical``). A report keeps the area and unit it was routed to; an open case moves
to the new set's area only through :func:`reroute` with ``apply=True``, which writes a
``rerouted`` history row and an audit (custody) entry for each case moved.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa

from ..district_index import PROPS_2025, PropertyNames
from ..extensions import db
from ..models import Area, BoundarySet, Case, CaseEvent, DistrictImport, Report, utcnow
from . import accounts, districts
from .districts import cache
from .districts.errors import RoutingError
from .districts.geojson import parse_features
from .districts.index import current_index, index_of_set, shipped_set, tolerance_m

SET_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


@dataclass(frozen=True)
class SetImport:
    set_id: str
    areas: int
    token: str


@dataclass(frozen=True)
class Move:
    """An open case whose first report's location lies in another area of the current
    set (or in none: ``to_area`` None)."""

    case_id: str
    from_area: str | None
    to_area: str | None
    from_unit: str | None
    to_unit: str | None


def list_sets() -> list[BoundarySet]:
    return list(
        db.session.scalars(sa.select(BoundarySet).order_by(BoundarySet.created_at, BoundarySet.id))
    )


def import_set(
    fc: dict[str, Any],
    *,
    set_id: str,
    name: str,
    effective: date,
    source: str = "",
    actor: str = "admin",
    props: PropertyNames = PROPS_2025,
) -> SetImport:
    """Store ``fc``'s areas as the new boundary set ``set_id`` and route with it from
    now on. Refuses an existing id, a file without areas and a set that cannot be
    indexed (nothing written then). Commits."""
    if not SET_ID.match(set_id or ""):
        raise RoutingError("the set id must be 1 to 32 letters, digits, '.', '_' or '-'")
    if db.session.get(BoundarySet, set_id) is not None:
        raise RoutingError(f"boundary set {set_id!r} exists already")
    fields = (
        props.district_code,
        props.district_name,
        props.district_province_code,
        props.district_province_name,
    )
    rows = parse_features(fc, fields, "area")
    if not rows:
        raise RoutingError("the file has no areas")
    extra = _extra_properties(fc, props)
    now = utcnow()
    db.session.execute(
        sa.update(BoundarySet)
        .where(BoundarySet.kind == "current", BoundarySet.source == "import")
        .values(kind="historical")
    )
    db.session.add(
        BoundarySet(
            id=set_id,
            name=(name or set_id)[:200],
            kind="current",
            effective_date=effective,
            source="import",
            area_count=len(rows),
            created_at=now,
            created_by=actor[:64],
        )
    )
    db.session.flush()
    for code, ((aname, pcode, pname), geom) in rows.items():
        kind, aliases = extra.get(code, ("", []))
        db.session.add(
            Area(
                set_id=set_id,
                code=code,
                name=aname,
                kind=kind[:16],
                province_code=pcode[:16],
                province_name=pname,
                aliases=json.dumps(aliases, ensure_ascii=False),
                geometry=geom,
            )
        )
    token = str(uuid.uuid4())
    db.session.add(
        DistrictImport(
            token=token,
            source=f"boundary set {set_id}: {source}"[:2000],
            actor=actor[:64],
            inserted=len(rows),
            updated=0,
            unchanged=0,
            removed=0,
            imported_at=now,
        )
    )
    db.session.flush()
    try:
        index = index_of_set(set_id, tolerance_m())
    except ValueError as e:
        db.session.rollback()
        raise RoutingError(f"the imported boundaries cannot be indexed: {e}") from None
    db.session.commit()
    with cache.index_lock:
        cache.remember((f"{token}:{shipped_set()}", tolerance_m()), index)
    cache.tokens[cache.db_key()] = (time.monotonic(), token)
    cache.forget_units()
    return SetImport(set_id, len(rows), token)


def _extra_properties(fc: dict[str, Any], props: PropertyNames) -> dict[str, tuple[str, list]]:
    """``{code: (kind, aliases)}`` of the optional properties."""
    out: dict[str, tuple[str, list]] = {}
    for f in fc.get("features") or []:
        p = (f or {}).get("properties") or {}
        code = str(p.get(props.district_code, "")).strip()
        kind = str(p.get(props.district_kind) or "") if props.district_kind else ""
        raw = p.get(props.district_aliases) if props.district_aliases else None
        aliases = [str(a) for a in raw] if isinstance(raw, list) else []
        out[code] = (kind, aliases)
    return out


def moves(limit: int | None = None) -> list[Move]:
    """Open cases whose area would change if routed again now (the dry run)."""
    index = current_index()
    rows = db.session.execute(
        sa.select(Case.id, Case.district_code, Case.unit_code, Report.lat, Report.lon)
        .join(Report, Report.id == Case.first_report_id)
        .where(Case.status == "open")
        .order_by(Case.id)
    ).all()
    if not rows:
        return []
    codes = index.route_many(
        np.array([r.lat for r in rows], float), np.array([r.lon for r in rows], float)
    )
    out = []
    for r, code in zip(rows, codes, strict=True):
        if code != r.district_code:
            unit = districts.unit_for(code)
            out.append(Move(r.id, r.district_code, code, r.unit_code, unit.code if unit else None))
            if limit is not None and len(out) >= limit:
                break
    return out


def reroute(*, apply: bool, actor: str = "admin") -> list[Move]:
    """The moves of :func:`moves`; with ``apply`` each case takes its new area and unit,
    with a ``rerouted`` history row and an audit (custody) entry. Commits when applied."""
    found = moves()
    if not apply or not found:
        return found
    now = utcnow()
    for m in found:
        db.session.execute(
            sa.update(Case)
            .where(Case.id == m.case_id, Case.status == "open")
            .values(district_code=m.to_area, unit_code=m.to_unit, updated_at=now)
        )
        db.session.add(
            CaseEvent(
                case_id=m.case_id,
                kind="rerouted",
                from_district=m.from_area,
                to_district=m.to_area,
                from_unit=m.from_unit,
                to_unit=m.to_unit,
                actor=actor[:64],
                created_at=now,
            )
        )
        accounts.audit(
            None,
            "case_rerouted",
            case_id=m.case_id,
            detail=f"{m.from_area or '-'} -> {m.to_area or '-'} ({actor[:64]})",
        )
    db.session.commit()
    return found


def unmapped(limit: int = 1000) -> list[Report]:
    """Reports routed before today's map whose location no rule places now (their old
    district kept in ``legacy_district_code``): they wait in the unrouted queue."""
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.legacy_district_code.is_not(None), Report.district_code.is_(None))
            .order_by(Report.received_at, Report.id)
            .limit(limit)
        )
    )
