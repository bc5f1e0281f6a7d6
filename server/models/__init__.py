"""Database models, one module per domain. The schema itself comes only from migrations.

* :mod:`.types`: shared column types (``BigSerial``, ``UTCDateTime``) and ``utcnow``.
* :mod:`.reports`: devices, reports, their media and status history.
* :mod:`.districts`: boundaries (historical districts, boundary sets and their areas),
  their imports, police units and the areas they cover.
* :mod:`.cases`: cases, their history, reviewers' decisions.
* :mod:`.accounts`: console users and officers, their districts, failed logins.
* :mod:`.audit`: the audit log and identity reveals.
* :mod:`.custody`: the evidence custody trail (a hash chain), devices' signing keys.
* :mod:`.push`: Web Push subscriptions, the push outbox, digest cursors.
* :mod:`.uploads`: resumable (tus) uploads of evidence.
* :mod:`.accidents`: road-accident figures per district and month (statistics).
* :mod:`.stats`: pre-aggregated statistics and their stale buckets.

Every model module is imported here so that ``db.metadata`` (and so Alembic's
autogenerate) sees all tables; import models from this package
(``from server.models import Case``).
"""

from .accidents import AccidentFigure
from .accounts import (
    CONSOLE_ROLES,
    ROLES,
    LoginFailure,
    OfficerDevice,
    User,
    UserDistrict,
    UserUnit,
)
from .audit import AuditLog, IdentityReveal
from .cases import Case, CaseEvent, Decision
from .custody import CustodyEntry, DeviceKey
from .districts import (
    Area,
    BoundarySet,
    District,
    DistrictImport,
    PoliceUnit,
    Province,
    Unit,
    UnitArea,
)
from .push import DigestCursor, PushMessage, PushSubscription
from .reports import Device, Media, Report, ReportAnswer, StatusEvent
from .stats import StatsDirty, StatsRollup
from .types import BigSerial, UTCDateTime, utcnow
from .uploads import Upload

__all__ = [
    "CONSOLE_ROLES",
    "ROLES",
    "AccidentFigure",
    "Area",
    "AuditLog",
    "BigSerial",
    "BoundarySet",
    "Case",
    "CaseEvent",
    "CustodyEntry",
    "Decision",
    "Device",
    "DeviceKey",
    "DigestCursor",
    "District",
    "DistrictImport",
    "IdentityReveal",
    "LoginFailure",
    "Media",
    "OfficerDevice",
    "PoliceUnit",
    "Province",
    "PushMessage",
    "PushSubscription",
    "Report",
    "ReportAnswer",
    "StatsDirty",
    "StatsRollup",
    "StatusEvent",
    "UTCDateTime",
    "Unit",
    "UnitArea",
    "Upload",
    "User",
    "UserDistrict",
    "UserUnit",
    "utcnow",
]
