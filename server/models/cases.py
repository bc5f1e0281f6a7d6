"""Cases and what reviewers decide on them (migrations 0003 and 0005).

* ``cases`` / ``case_events``: reports of the same violation, and the history of each
  case. A report points at its case through ``reports.case_id`` (see
  :class:`server.models.reports.Report`).
* ``decisions``: each reviewer decision with its internal note and penalty number (the
  public part goes to the report's ``status_events``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigSerial, UTCDateTime, utcnow

LOCKING_VERDICTS = ("verified", "penalty_issued", "rejected")


class Case(db.Model):
    """One violation, confirmed by one or more reports.

    ``status`` is ``open``, ``expired`` (see below), or ``merged`` once the case has been
    absorbed into the case ``merged_into_id`` (its reports then belong to that case).
    ``manual`` is set on a case a reviewer made by splitting a report out (or reopened by
    undoing a merge): it is never merged automatically again.

    ``evidence_at`` (migration 0014): when the server received the first evidence file
    of any of the case's reports; None while none has arrived. Only cases with evidence
    are in the reviewers' queue and digests (:mod:`server.services.queue`); the others
    wait under "awaiting evidence". ``status`` ``expired``: every report of the case
    expired without evidence (:mod:`server.services.evidence_expiry`); it is in no queue.

    ``verdict`` is the review's outcome: ``None`` (waiting for a reviewer),
    ``needs_info`` (waiting for the reporter), or one of :data:`LOCKING_VERDICTS`, which
    lock the case until a reviewer reopens it (an audited act with a reason).
    """

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    # The area the case is routed to (a commune code since migration 0017; a pre-2025
    # district code for cases of the historical set) and the unit handling it.
    district_code: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    # The pre-2025 district a case had before migration 0017 re-routed it (history).
    legacy_district_code: Mapped[str | None] = mapped_column(sa.String(16))
    unit_code: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    # The reporter a reward goes to: by the server's receipt of the evidence, the claimed
    # captured_at ordering only evidence received close together (server.dedup).
    first_report_id: Mapped[str] = mapped_column(sa.String(36))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    merged_into_id: Mapped[str | None] = mapped_column(sa.ForeignKey("cases.id"))
    manual: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    report_count: Mapped[int] = mapped_column(sa.Integer, default=1)
    # Where the review stands (migration 0009): None while it waits for a reviewer; see
    # server.services.review for the verdicts and which of them lock the case.
    verdict: Mapped[str | None] = mapped_column(sa.String(16))
    verdict_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When the first evidence file of any of its reports was received (migration 0014);
    # None: the case waits for evidence and is not in the reviewers' queue.
    evidence_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The local month (UTC+7) of the first report's violation time, kept by database
    # triggers (migration 0016) for the statistics: a district-month of cases is an index
    # range. Never set by the application.
    stats_month: Mapped[str | None] = mapped_column(sa.String(7))
    # When a reporter last answered a request for information (migration 0020); the
    # queue puts the case first, marked "đã bổ sung", until the next decision clears it.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.Index("ix_cases_district_month", "district_code", "stats_month"),
        sa.Index("ix_cases_first_report", "first_report_id"),
        # The queue: open cases of a district, with evidence or waiting for it.
        sa.Index("ix_cases_status_district_evidence", "status", "district_code", "evidence_at"),
    )

    @property
    def locked(self) -> bool:
        """A decided case: no decision, split, merge or forward until it is reopened."""
        return self.verdict in LOCKING_VERDICTS


class CaseEvent(db.Model):
    """One entry of a case's history (append-only): what changed a case after it opened.

    Opening a case and joining it at ingest write nothing here (that is on the report:
    ``reports.case_id``, ``join_reason``, ``join_match_report_id``, ``joined_at``, and
    ``cases.created_at``), which keeps ingest one INSERT shorter.

    ``kind``: ``absorbed`` (the case ``other_case_id`` merged into this one),
    ``merged`` (this case merged into ``other_case_id``), ``split`` (a report left for
    ``other_case_id``), ``opened`` (this case was made by splitting ``report_id`` out of
    ``other_case_id``; ``reason`` is ``split``), ``forwarded``, ``routed`` (an unrouted
    case got the district of a routed report that joined it), ``routed_by_hand``,
    ``unit_changed``, ``rerouted`` (moved to the area of a new boundary set, by migration
    0017 or ``flask boundaries reroute``); a reviewer's merge: ``absorbed_by_hand`` /
    ``merged_by_hand``, and
    its undo: ``unmerged`` (the group of ``report_id`` went back to ``other_case_id``) /
    ``reopened``; ``similar_photo``: a hint that ``report_id``'s photo looks like one of
    case ``other_case_id`` (``reason`` ``same_media`` or ``similar_media``), not joined.
    """

    __tablename__ = "case_events"

    seq: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(24))
    report_id: Mapped[str | None] = mapped_column(sa.String(36))
    other_case_id: Mapped[str | None] = mapped_column(sa.String(36))
    reason: Mapped[str | None] = mapped_column(sa.String(24))
    from_district: Mapped[str | None] = mapped_column(sa.String(16))
    to_district: Mapped[str | None] = mapped_column(sa.String(16))
    from_unit: Mapped[str | None] = mapped_column(sa.String(32))
    to_unit: Mapped[str | None] = mapped_column(sa.String(32))
    note: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Decision(db.Model):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    case_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    report_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    reason_code: Mapped[str | None] = mapped_column(sa.String(48))
    public_note: Mapped[str | None] = mapped_column(sa.Text)
    internal_note: Mapped[str | None] = mapped_column(sa.Text)
    penalty_no: Mapped[str | None] = mapped_column(sa.String(64))
    actor_id: Mapped[int] = mapped_column(BigSerial, sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
