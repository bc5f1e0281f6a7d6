"""Accounts of the review console and officers (migration 0005).

* ``users``: officers, reviewers, supervisors and admins; passwords hashed with argon2.
* ``user_districts``: the areas a reviewer reviews (a supervisor has a province).
* ``user_units``: the units a reviewer belongs to (migration 0017).
* ``login_failures``: failed logins per username and IP, for the rate limit.
* ``officer_devices``: a device token issued to an officer by ``/api/v1/officers/login``.

Reviewers' decisions are in :mod:`server.models.cases`, the audit log and identity
reveals in :mod:`server.models.audit`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigSerial, UTCDateTime, utcnow

ROLES = ("officer", "reviewer", "supervisor", "admin")
CONSOLE_ROLES = ("reviewer", "supervisor", "admin")  # may sign in to the review console


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    province_code: Mapped[str | None] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Console sessions carry the number they began with; logout, a new password and
    # deactivation add one, ending every earlier session (server.console.auth).
    session_generation: Mapped[int] = mapped_column(
        sa.Integer, default=0, server_default="0", nullable=False
    )


class UserDistrict(db.Model):
    __tablename__ = "user_districts"

    user_id: Mapped[int] = mapped_column(
        BigSerial, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    district_code: Mapped[str] = mapped_column(sa.String(16), primary_key=True)


class UserUnit(db.Model):
    """A reviewer belongs to units (migration 0017): their queue holds the cases of the
    areas those units cover (``unit_areas``), besides any ``user_districts``."""

    __tablename__ = "user_units"

    user_id: Mapped[int] = mapped_column(
        BigSerial, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    unit_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)


class LoginFailure(db.Model):
    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    ip: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.Index("ix_login_failures_username_ip_at", "username", "ip", "at"),)


class OfficerDevice(db.Model):
    __tablename__ = "officer_devices"

    device_id: Mapped[str] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigSerial, sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
