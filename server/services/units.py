"""Police units as data (issue 23): which units exist, which areas each covers, which
units a reviewer belongs to, and importing a province's units from a CSV.

An area (today a commune) is handled by its own police by default (``CA-<code>``,
"Công an phường Ba Đình": :func:`server.services.districts.default_unit`), which needs no
row. A row of ``units`` names a unit an operator created or imported; ``unit_areas``
says which areas it covers (many to many). The unit that covers an area most recently is
responsible for it: new reports of the area are routed to it, and assigning an area
moves the area's open cases to the unit (each with a ``unit_changed`` history row and an
audit entry). Every unit covering an area sees its cases: a reviewer's scope is the
areas of their units (:func:`server.services.accounts.districts_of`).

CSV (``flask units import FILE``): a header ``code,name,areas`` (optional
``province_code``); ``areas`` holds area codes separated by spaces, ``;`` or ``|``. The
whole file is checked before anything is written: one bad line, nothing imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Case, UnitArea, User, UserUnit, utcnow
from ..models import Unit as UnitRow
from . import districts
from .districts import cache as routing_cache
from .districts.units import move_open_cases

MAX_CODE = 32
MAX_NAME = 200


class UnitError(ValueError):
    """A unit cannot be created, assigned or imported as asked."""


@dataclass(frozen=True)
class UnitView:
    code: str
    name: str
    province_code: str
    areas: tuple[str, ...]


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    areas_assigned: int
    cases_moved: int


def _clean_code(code: str) -> str:
    code = (code or "").strip()
    if not code or len(code) > MAX_CODE or any(c.isspace() for c in code):
        raise UnitError(f"unit code must be 1 to {MAX_CODE} characters without spaces: {code!r}")
    return code


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise UnitError(f"unit name must be 1 to {MAX_NAME} characters")
    return name


def _check_areas(codes: Iterable[str]) -> list[str]:
    out = []
    for code in codes:
        if districts.district_info(code) is None:
            raise UnitError(f"unknown area code {code!r} (not in the current boundary set)")
        if code not in out:
            out.append(code)
    return out


def list_units(province_code: str | None = None) -> list[UnitView]:
    """The units with rows (created or imported), by code, with their areas."""
    q = sa.select(UnitRow).order_by(UnitRow.code)
    if province_code:
        q = q.where(UnitRow.province_code == province_code)
    rows = list(db.session.scalars(q))
    areas: dict[str, list[str]] = {}
    for unit_code, area in db.session.execute(
        sa.select(UnitArea.unit_code, UnitArea.area_code).order_by(UnitArea.area_code)
    ):
        areas.setdefault(unit_code, []).append(area)
    return [UnitView(u.code, u.name, u.province_code, tuple(areas.get(u.code, ()))) for u in rows]


def upsert_unit(code: str, name: str, province_code: str = "", actor: str = "admin") -> bool:
    """Create the unit or rename it; True when created. Does not commit."""
    code, name = _clean_code(code), _clean_name(name)
    province_code = (province_code or "").strip()[:16]
    row = db.session.get(UnitRow, code)
    if row is None:
        db.session.add(
            UnitRow(
                code=code,
                name=name,
                province_code=province_code,
                updated_at=utcnow(),
                updated_by=actor[:64],
            )
        )
        return True
    row.name, row.updated_at, row.updated_by = name, utcnow(), actor[:64]
    if province_code:
        row.province_code = province_code
    return False


def _assign(unit_code: str, area_codes: list[str], actor: str) -> tuple[int, int]:
    """Make the unit cover (and be responsible for) the areas; move their open cases.
    Returns (areas newly covered, cases moved). Does not commit."""
    now = utcnow()
    have = {
        a: row
        for a, row in (
            (r.area_code, r)
            for r in db.session.scalars(
                sa.select(UnitArea).where(
                    UnitArea.unit_code == unit_code, UnitArea.area_code.in_(area_codes)
                )
            )
        )
    }
    top = db.session.scalar(sa.select(sa.func.max(UnitArea.seq))) or 0
    added = 0
    for area in area_codes:
        top += 1
        row = have.get(area)
        if row is None:
            db.session.add(
                UnitArea(
                    unit_code=unit_code,
                    area_code=area,
                    seq=top,
                    assigned_at=now,
                    assigned_by=actor[:64],
                )
            )
            added += 1
        else:
            row.seq, row.assigned_at, row.assigned_by = top, now, actor[:64]
    db.session.flush()
    moved = 0
    if area_codes:
        moved = move_open_cases(
            sa.and_(
                Case.district_code.in_(area_codes),
                Case.status == "open",
                sa.or_(Case.unit_code.is_(None), Case.unit_code != unit_code),
            ),
            unit_code,
            actor,
        )
    return added, moved


def create_unit(
    code: str,
    name: str,
    province_code: str = "",
    areas: Iterable[str] = (),
    actor: str = "admin",
) -> ImportSummary:
    """Create (or rename) a unit and make it cover ``areas``. Commits."""
    area_codes = _check_areas(areas)
    created = upsert_unit(code, name, province_code, actor)
    added, moved = _assign(code.strip(), area_codes, actor)
    db.session.commit()
    routing_cache.forget_units()
    return ImportSummary(int(created), int(not created), added, moved)


def assign(unit_code: str, areas: Iterable[str], actor: str = "admin") -> ImportSummary:
    """Make an existing unit cover ``areas`` (it becomes responsible for them). Commits."""
    unit_code = _clean_code(unit_code)
    if db.session.get(UnitRow, unit_code) is None:
        raise UnitError(f"unknown unit {unit_code!r}")
    added, moved = _assign(unit_code, _check_areas(areas), actor)
    db.session.commit()
    routing_cache.forget_units()
    return ImportSummary(0, 0, added, moved)


def parse_csv(text: str) -> list[tuple[str, str, str, list[str]]]:
    """``[(code, name, province_code, [area codes])]`` of a units CSV (see the module
    docstring); raises :class:`UnitError` naming the first bad line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if not {"code", "name", "areas"} <= fields:
        raise UnitError("the CSV needs the columns code, name, areas")
    out = []
    for n, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "") for k, v in raw.items()}
        try:
            code, name = _clean_code(row["code"]), _clean_name(row["name"])
            areas = row["areas"].replace(";", " ").replace("|", " ").replace(",", " ").split()
            out.append((code, name, row.get("province_code", "").strip(), _check_areas(areas)))
        except UnitError as e:
            raise UnitError(f"line {n}: {e}") from None
    return out


def import_csv(text: str, actor: str = "admin") -> ImportSummary:
    """Create or rename each unit of the CSV and make it cover its areas, all in one
    transaction (nothing is written when a line is bad). Commits."""
    rows = parse_csv(text)
    created = updated = added = moved = 0
    for code, name, province, areas in rows:
        if upsert_unit(code, name, province or _province_of(areas), actor):
            created += 1
        else:
            updated += 1
        db.session.flush()
        a, m = _assign(code, areas, actor)
        added, moved = added + a, moved + m
    db.session.commit()
    routing_cache.forget_units()
    return ImportSummary(created, updated, added, moved)


def _province_of(areas: list[str]) -> str:
    provinces = {info.province_code for a in areas if (info := districts.district_info(a))}
    return provinces.pop() if len(provinces) == 1 else ""


def areas_of_units(unit_codes: Iterable[str]) -> set[str]:
    """Area codes the units cover: their ``unit_areas``, and for a default unit
    ``CA-<area>`` (no row) its own area."""
    codes = set(unit_codes)
    if not codes:
        return set()
    out = set(
        db.session.scalars(sa.select(UnitArea.area_code).where(UnitArea.unit_code.in_(codes)))
    )
    for code in codes:
        if code.startswith("CA-") and districts.district_info(code[3:]) is not None:
            out.add(code[3:])
    return out


def units_of_user(user: User) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(UserUnit.unit_code)
            .where(UserUnit.user_id == user.id)
            .order_by(UserUnit.unit_code)
        )
    )


def set_user_units(user: User, unit_codes: Iterable[str]) -> None:
    """The reviewer belongs to exactly these units (known units, or an area's own police
    ``CA-<area>``). Does not commit."""
    codes = sorted({_clean_code(c) for c in unit_codes})
    for code in codes:
        if db.session.get(UnitRow, code) is None and not (
            code.startswith("CA-") and districts.district_info(code[3:]) is not None
        ):
            raise UnitError(f"unknown unit {code!r}")
    db.session.execute(sa.delete(UserUnit).where(UserUnit.user_id == user.id))
    for code in codes:
        db.session.add(UserUnit(user_id=user.id, unit_code=code))
