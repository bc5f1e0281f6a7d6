"""What the statistics pages are asked for: a period, an area the user may see, a base
year; and the areas a user may pick. Built from a query string; bad values are ignored
(the default is used), except a period that cannot be (:class:`.PeriodError`).

Who sees what: reviewers their districts, supervisors their province, admins all
(:func:`server.services.accounts.districts_of`); an ``area`` outside that is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ...models import User
from .. import districts
from ..accounts import districts_of, province_districts
from .periods import LOCAL_OFFSET, Period, PeriodError

YEARS = (2000, 2100)  # the years a query may name
AREA_MAX = 20  # characters of an area asked for


def local_today() -> date:
    return (datetime.now(UTC) + LOCAL_OFFSET).date()


def _year(value: str | None, default: int) -> int:
    if value and value.isdigit() and YEARS[0] <= int(value) <= YEARS[1]:
        return int(value)
    return default


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


@dataclass(frozen=True)
class StatsQuery:
    """What the dashboard is asked for: a period (a preset or two dates), an area, a base
    year for accident figures."""

    period: Period
    kind: str  # "9m", "year" or "custom"
    area: str  # "" (everything the user may see), a district code, or "p:<province>"
    scope: set[str] | None
    base_year: int

    def args(self, **extra: Any) -> dict[str, Any]:
        """The query string that asks for this again (for links and exports)."""
        out: dict[str, Any] = {"base": self.base_year}
        if self.kind == "custom":
            out |= {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()}
        else:
            out |= {"preset": self.kind, "year": self.period.start.year}
        if self.area:
            out["area"] = self.area
        return out | extra

    def file_name(self, what: str, suffix: str) -> str:
        """``roadwatch-<what>-<start>-<end>.<suffix>``, for a download."""
        return f"roadwatch-{what}-{self.period.start:%Y%m%d}-{self.period.end:%Y%m%d}.{suffix}"


def parse_query(user: User, args: Mapping[str, str], today: date) -> StatsQuery:
    """The query of the request; :class:`.PeriodError` for a period that cannot be."""
    year = _year(args.get("year"), today.year)
    start, end = _day(args.get("from")), _day(args.get("to"))
    for day in (start, end):
        # Years far from ours (0001, 9999) cannot be compared with a year earlier or
        # counted to the day after: a clear 400, never a 500 (issue 28).
        if day is not None and not YEARS[0] <= day.year <= YEARS[1]:
            raise PeriodError(f"year {day.year} is outside {YEARS[0]}-{YEARS[1]}")
    if start and end:
        period, kind = Period(start, end), "custom"
    elif args.get("preset") == "year":
        period, kind = Period.whole_year(year), "year"
    else:
        period, kind = Period.nine_months(year), "9m"
    area, scope = _area(user, args.get("area", ""))
    base = _year(args.get("base"), period.start.year - 1)
    return StatsQuery(period, kind, area, scope, base)


def _area(user: User, asked: str) -> tuple[str, set[str] | None]:
    """The area asked for if the user may see all of it, else everything they may see."""
    mine = districts_of(user)
    asked = (asked or "").strip()[:AREA_MAX]
    if asked.startswith("p:"):
        codes = province_districts(asked[2:])
        if codes and (mine is None or codes <= mine):
            return asked, codes
    elif asked and districts.district_info(asked) is not None:
        if mine is None or asked in mine:
            return asked, {asked}
    return "", mine


def area_choices(user: User) -> list[tuple[str, str]]:
    """``(value, words)`` of the areas the user may pick, after "everything"."""
    mine = districts_of(user)
    index = districts.current_index()
    if mine is None:
        provinces = {(d.province_code, d.province_name) for d in index.districts()}
        return [(f"p:{code}", name) for code, name in sorted(provinces)]
    infos = [districts.district_info(code) for code in sorted(mine)]
    return [(i.code, f"{i.name} ({i.code})") for i in infos if i is not None]


def district_choices(user: User) -> list[tuple[str, str]]:
    """Every district the user may enter figures for, ``(code, "name, province (code)")``."""
    scope = districts_of(user)
    index = districts.current_index()
    infos = [d for d in index.districts() if scope is None or d.code in scope]
    return [
        (d.code, f"{d.name}, {d.province_name} ({d.code})")
        for d in sorted(infos, key=lambda d: d.code)
    ]


def unit_words(user: User, query: StatsQuery, t: Callable[..., str]) -> str:
    """Whose figures these are, in words (``t``: the console's translation): a district's
    police, a province, the country."""
    if query.area.startswith("p:"):
        names = {districts.district_info(c).province_name for c in query.scope or ()}
        return t("stats.unit_province", name=", ".join(sorted(n for n in names if n)))
    if query.area:
        unit = districts.unit_for(query.area)
        return unit.name if unit else query.area
    if query.scope is None:
        return t("stats.unit_all")
    if user.role == "supervisor" and user.province_code:
        info = next((districts.district_info(c) for c in sorted(query.scope)), None)
        return t("stats.unit_province", name=info.province_name if info else user.province_code)
    names = [districts.district_info(c) for c in sorted(query.scope)]
    return ", ".join(i.name for i in names if i is not None) or t("stats.unit_none")
