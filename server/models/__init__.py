"""Database models, one module per area. The schema itself comes only from migrations.

Every model module is imported here so that ``db.metadata`` (and so Alembic's
autogenerate) sees all tables.
"""

from . import accounts, geo, push, uploads  # noqa: F401  (their tables must be in db.metadata)
from .core import BigSerial, Device, Media, Report, StatusEvent, UTCDateTime, utcnow

__all__ = ["BigSerial", "Device", "Media", "Report", "StatusEvent", "UTCDateTime", "utcnow"]
