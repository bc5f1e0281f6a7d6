"""Police units: which unit handles each district's reports, and moving cases with it.

``police_units`` maps each district to its unit. Without a row (the shipped default, or
a district never given one) the unit is ``CA-<district code>`` named ``Công an <district
name>``. A case keeps the unit it was given; :func:`set_unit` moves the district's open
cases to the new unit (with a ``unit_changed`` history row). Lookups are remembered for
:data:`.cache.RECHECK_SECONDS`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from ...district_index import DistrictInfo
from ...extensions import db
from ...models import Case, CaseEvent, PoliceUnit, UnitArea, utcnow
from ...models import Unit as UnitRow
from . import cache
from .errors import RoutingError
from .index import area_info, require_district


@dataclass(frozen=True)
class Unit:
    code: str
    name: str


# The kinds of commune a name starts with, written in lower case after "Công an".
COMMUNE_KINDS = ("Phường ", "Xã ", "Đặc khu ", "Thị trấn ")


def default_unit(district: DistrictInfo) -> Unit:
    """An area's own police: ``CA-<code>``, "Công an phường Ba Đình" for a commune
    "Phường Ba Đình" (a pre-2025 district: "Công an Quận Đống Đa")."""
    name = district.name
    for kind in COMMUNE_KINDS:
        if name.startswith(kind):
            name = kind.lower() + name[len(kind) :]
            break
    return Unit(code=f"CA-{district.code}", name=f"Công an {name}")


def unit_for(district_code: str | None) -> Unit | None:
    """The police unit responsible for an area, or None: the unit that covers it most
    recently (``unit_areas``), else its pre-2025 ``police_units`` row, else its own
    police (:func:`default_unit`).

    Remembered per database and area for :data:`.cache.RECHECK_SECONDS`.
    """
    if not district_code:
        return None
    key, now = (cache.db_key(), district_code), time.monotonic()
    seen = cache.units.get(key)
    if seen is not None and now - seen[0] < cache.RECHECK_SECONDS:
        return seen[1]
    row = db.session.execute(
        sa.select(UnitRow.code, UnitRow.name)
        .join(UnitArea, UnitArea.unit_code == UnitRow.code)
        .where(UnitArea.area_code == district_code)
        .order_by(UnitArea.assigned_at.desc(), UnitArea.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        row = db.session.execute(
            sa.select(PoliceUnit.code, PoliceUnit.name).where(
                PoliceUnit.district_code == district_code
            )
        ).first()
    if row is not None:
        unit: Unit | None = Unit(row.code, row.name)
    else:
        info = area_info(district_code)
        unit = default_unit(info) if info is not None else None
    cache.units[key] = (now, unit)
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
    cache.forget_units()
    return Unit(unit_code, name), moved


def _move_open_cases(district_code: str, old_unit: str, new_unit: str, actor: str) -> int:
    """Open cases of the district held by the old unit go to the new one (with history)."""
    return move_open_cases(
        sa.and_(
            Case.district_code == district_code, Case.unit_code == old_unit, Case.status == "open"
        ),
        new_unit,
        actor,
    )


def move_open_cases(where: sa.ColumnElement[bool], new_unit: str, actor: str) -> int:
    """The cases matching ``where`` go to ``new_unit``, each with a ``unit_changed``
    history row; returns how many."""
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


def unit_name(unit_code: str | None) -> str | None:
    """The name of a unit by its code: its ``units`` row, an area's own police
    (``CA-<area>``), a pre-2025 ``police_units`` row; else None."""
    if not unit_code:
        return None
    name = db.session.scalar(sa.select(UnitRow.name).where(UnitRow.code == unit_code))
    if name:
        return name
    name = db.session.scalar(
        sa.select(PoliceUnit.name).where(PoliceUnit.code == unit_code).limit(1)
    )
    if name:
        return name
    if unit_code.startswith("CA-"):
        info = area_info(unit_code[3:])
        if info is not None:
            return default_unit(info).name
    return None
