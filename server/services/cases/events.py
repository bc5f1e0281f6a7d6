"""Writing a case's history (``case_events``, append-only)."""

from __future__ import annotations

from ...extensions import db
from ...models import Case, CaseEvent, utcnow


def add_event(case: Case, kind: str, actor: str = "system", **fields: object) -> CaseEvent:
    """Add one entry of ``kind`` to the history of ``case`` (in the session)."""
    event = CaseEvent(case_id=case.id, kind=kind, actor=actor[:64], created_at=utcnow(), **fields)
    db.session.add(event)
    return event
