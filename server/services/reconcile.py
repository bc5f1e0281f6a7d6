"""The live tables agree with the custody chain (issue 27, item 5).

The chain proves its own entries; this checks that the tables the console and the API
read say the same, so a verdict changed in the database behind the chain's back is named
(``flask --app wsgi audit verify`` runs it after the chain):

* **status events**: per report, the ``status_events`` rows (status, reason code) in
  order are the report's ``status`` entries in order, and the report's current status is
  its last one; rows older than the chain's first entry (less a minute: a row's time is
  taken just before its entry's) predate the chain and are not compared;
* **decisions**: every ``decisions`` row has its entry about the case (kind
  ``case_<kind>`` with its reason code, ``case_penalty_issued`` with the penalty number,
  ``report_split`` with the report, ``case_reopened``, ``case_forwarded``,
  ``cases_merged``), and every such entry (but ``case_penalty_issued``, which a verify
  with a number also writes) its row;
* **received files**: every received ``media`` row has its ``evidence_received`` entry
  with the same SHA-256 and size, and every such entry its received row.

Both sides are read in the same order (by report, case or file id, then seq) and merged
as streams, so memory does not grow with the chain.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import CustodyEntry, Decision, Media, Report, StatusEvent

_CHAIN = CustodyEntry.__table__
BATCH = 2000
# decisions.kind -> (entry kind, content field, decision field); other kinds: case_<kind>.
DECISION_ENTRIES: dict[str, tuple[str, str | None, str | None]] = {
    "penalty": ("case_penalty_issued", "detail", "penalty_no"),
    "reopen": ("case_reopened", None, None),
    "split": ("report_split", "report_id", "report_id"),
    "forward": ("case_forwarded", None, None),
    "merge": ("cases_merged", None, None),
}
DECIDED = ("verify", "reject", "needs_info")
# Entries that are decisions with a row each (the reverse direction).
DECISION_KINDS = tuple(f"case_{k}" for k in DECIDED) + tuple(
    v[0] for k, v in DECISION_ENTRIES.items() if k != "penalty"
)


@dataclass(frozen=True)
class Mismatch:
    table: str  # status_events, reports, decisions, media
    key: str  # the report, case or file id
    what: str  # English, for the operator's terminal

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.what}"


def _grouped(rows: Iterable[Any], key: Callable[[Any], str]) -> Iterator[tuple[str, list[Any]]]:
    for k, group in itertools.groupby(rows, key):
        yield k, list(group)


def _merge(
    left: Iterator[tuple[str, list[Any]]], right: Iterator[tuple[str, list[Any]]]
) -> Iterator[tuple[str, list[Any], list[Any]]]:
    """Two streams grouped by ascending key, joined: (key, left rows, right rows)."""
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            yield a[0], a[1], []  # type: ignore[index]
            a = next(left, None)
        elif a is None or b[0] < a[0]:
            yield b[0], [], b[1]
            b = next(right, None)
        else:
            yield a[0], a[1], b[1]
            a, b = next(left, None), next(right, None)


def _stream(statement: sa.Select) -> Iterator[Any]:
    result = db.session.connection().execution_options(yield_per=BATCH).execute(statement)
    yield from result


def _entries(kinds: tuple[str, ...]) -> Iterator[tuple[str, list[Any]]]:
    rows = _stream(
        sa.select(_CHAIN.c.subject, _CHAIN.c.seq, _CHAIN.c.kind, _CHAIN.c.content)
        .where(_CHAIN.c.kind.in_(kinds), _CHAIN.c.subject.is_not(None))
        .order_by(_CHAIN.c.subject, _CHAIN.c.seq)
    )
    return _grouped(rows, lambda r: r.subject)


def _content(row: Any) -> dict[str, Any]:
    try:
        value = json.loads(row.content)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def reconcile() -> list[Mismatch]:
    """Every disagreement between the live tables and the chain (empty: they agree)."""
    first = db.session.execute(sa.select(sa.func.min(_CHAIN.c.at))).scalar()
    if first is None:
        return []
    # Rows written in the transaction of the chain's very first entries are a little
    # older than them (a row's time is taken before its entry's).
    margin = first - timedelta(seconds=60)
    return [*_status(margin), *_decisions(margin), *_media(margin)]


def _status(first: datetime) -> Iterator[Mismatch]:
    events = _grouped(
        _stream(
            sa.select(
                StatusEvent.report_id,
                StatusEvent.status,
                StatusEvent.reason_code,
                StatusEvent.created_at,
                Report.status.label("current"),
            )
            .join(Report, Report.id == StatusEvent.report_id)
            .order_by(StatusEvent.report_id, StatusEvent.seq)
        ),
        lambda r: r.report_id,
    )
    for report_id, rows, entries in _merge(events, _entries(("status",))):
        chain = [(c.get("status"), c.get("reason_code")) for c in map(_content, entries)]
        table = [(r.status, r.reason_code) for r in rows if r.created_at >= first]
        if table != chain:
            n = next(
                (i for i, (a, b) in enumerate(zip(table, chain, strict=False)) if a != b),
                min(len(table), len(chain)),
            )
            said = table[n][0] if n < len(table) else "nothing"
            chained = chain[n][0] if n < len(chain) else "nothing"
            yield Mismatch(
                "status_events",
                report_id,
                f"status event {n + 1} since the chain began says {said!r}, "
                f"the chain says {chained!r}",
            )
        elif rows and chain and rows[-1].current != chain[-1][0]:
            yield Mismatch(
                "reports",
                report_id,
                f"status is {rows[-1].current!r}, its last chain entry says {chain[-1][0]!r}",
            )


def _decision_key(d: Any) -> tuple[str, Any]:
    entry_kind, _, field = DECISION_ENTRIES.get(d.kind, (f"case_{d.kind}", "detail", "reason_code"))
    return entry_kind, getattr(d, field) if field else None


def _entry_key(kind: str, content: dict[str, Any]) -> tuple[str, Any]:
    for entry_kind, field, _ in DECISION_ENTRIES.values():
        if kind == entry_kind:
            return kind, content.get(field) if field else None
    return kind, content.get("detail")


def _decisions(first: datetime) -> Iterator[Mismatch]:
    rows = _grouped(
        _stream(
            sa.select(
                Decision.case_id,
                Decision.kind,
                Decision.reason_code,
                Decision.penalty_no,
                Decision.report_id,
            )
            .where(Decision.case_id.is_not(None), Decision.at >= first)
            .order_by(Decision.case_id, Decision.id)
        ),
        lambda r: r.case_id,
    )
    kinds = tuple(sorted(set(DECISION_KINDS) | {"case_penalty_issued"}))
    for case_id, decided, entries in _merge(rows, _entries(kinds)):
        table = Counter(_decision_key(r) for r in decided)
        chain = Counter(_entry_key(e.kind, _content(e)) for e in entries)
        for (kind, value), n in sorted((table - chain).items(), key=str):
            yield Mismatch(
                "decisions", case_id, f"{n} decision(s) {kind} {value!r} without a chain entry"
            )
        extra = {k: n for k, n in (chain - table).items() if k[0] in DECISION_KINDS}
        for (kind, value), n in sorted(extra.items(), key=str):
            yield Mismatch(
                "decisions", case_id, f"{n} chain entr(ies) {kind} {value!r} without a decision"
            )


def _media(first: datetime) -> Iterator[Mismatch]:
    rows = _grouped(
        _stream(
            sa.select(Media.id, Media.sha256, Media.size, Media.received_at)
            .where(Media.received_at.is_not(None), Media.received_at >= first)
            .order_by(Media.id)
        ),
        lambda r: r.id,
    )
    for media_id, received, entries in _merge(rows, _entries(("evidence_received",))):
        table = {(r.sha256, r.size) for r in received}
        chain = {(c.get("sha256"), c.get("size")) for c in map(_content, entries)}
        if not received:
            yield Mismatch("media", media_id, "a receipt in the chain, no received file")
        elif not entries:
            yield Mismatch("media", media_id, "received, without its chain entry")
        elif not table <= chain:
            yield Mismatch("media", media_id, "SHA-256 or size differs from its chain entry")
