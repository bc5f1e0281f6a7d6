"""The statistics pages' number filters and globals (Vietnamese 3,5 and 1.234; English
3.5 and 1,234), registered on the console blueprint when imported."""

from __future__ import annotations

from . import bp
from .i18n import current_lang, t


def _decimal(text: str) -> str:
    """Vietnamese writes 3,5 and 1.234; English 3.5 and 1,234."""
    if current_lang() == "en":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


@bp.app_template_filter("stat_num")
def stat_num(value: int | None) -> str:
    return "—" if value is None else _decimal(f"{value:,}")


@bp.app_template_filter("stat_pct")
def stat_pct(share: float | None) -> str:
    """A share (0..1) as a percentage with one decimal."""
    return "—" if share is None else _decimal(f"{share * 100:.1f}") + " %"


@bp.app_template_filter("stat_hours")
def stat_hours(hours: float | None) -> str:
    return "—" if hours is None else t("stats.hours", n=_decimal(f"{hours:.1f}"))


@bp.app_template_global()
def stat_share(part: int, total: int) -> str:
    return stat_pct(part / total if total else None)


@bp.app_template_global()
def stat_change(current: int, previous: int) -> str:
    """ "+12,5 %", "−3,0 %", or "—" when there is nothing to compare with."""
    if not previous:
        return "—"
    pct = (current - previous) / previous * 100
    sign = "+" if pct > 0 else ("−" if pct < 0 else "±")
    return f"{sign}{_decimal(f'{abs(pct):.1f}')} %"


# ---------------------------------------------------------------------------- accidents
