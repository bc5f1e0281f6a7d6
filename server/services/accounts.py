"""Console accounts: argon2 passwords, roles and districts, the login rate limit, audit.

Nothing here ever handles an informant's identity.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..extensions import db
from ..models import (
    ROLES,
    AuditLog,
    Device,
    LoginFailure,
    OfficerDevice,
    User,
    UserDistrict,
    utcnow,
)
from ..settings import current_settings
from . import custody, districts, units
from .errors import RateLimited  # the console catches it; on the API it is a 429

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone")

# Failed logins are counted over FAILURE_WINDOW, per (username, client address): after
# MAX_FAILURES of them that pair waits BACKOFF_START, doubling with every further failure,
# at most FAILURE_WINDOW. The real user at another address is not held up by an attacker.
# One address is also allowed MAX_ADDRESS_FAILURES failures across all usernames in the
# window (one password tried against many accounts). The address is the client's, or the
# one a trusted proxy forwarded (TRUSTED_PROXY_HOPS, see server.create_app).
MAX_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
FAILURE_WINDOW = timedelta(minutes=15)
BACKOFF_START = timedelta(minutes=1)
# Per account, across addresses (many addresses guessing one username, issue 28): past
# MAX_ACCOUNT_FAILURES failures in the window, a try from an address the user never
# signed in from waits ACCOUNT_BACKOFF after the account's last failure (about one
# guess a minute for the whole botnet); from a place the user signed in from before,
# only the per-address limits apply, so the owner is not locked out. The first time in
# a window, administrators are told (an audit entry, "login_guessing").
MAX_ACCOUNT_FAILURES = 30
ACCOUNT_BACKOFF = timedelta(minutes=1)


class AccountError(ValueError):
    """A user cannot be created or changed as asked."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    username: str,
    password: str,
    role: str,
    *,
    districts: list[str] | tuple[str, ...] = (),
    province: str | None = None,
    display_name: str = "",
    unit_codes: list[str] | tuple[str, ...] = (),
) -> User:
    """A new active user; reviewers need areas (``districts``) or units, supervisors a
    province. Commits."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}")
    if role == "reviewer" and not districts and not unit_codes:
        raise AccountError("a reviewer needs at least one --district or --unit")
    if role == "supervisor" and not province:
        raise AccountError("a supervisor needs --province")
    if len(password) < 8:
        raise AccountError("the password must have at least 8 characters")
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name or username,
        province_code=province if role == "supervisor" else None,
        active=True,
        created_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    for code in sorted(set(districts)):
        db.session.add(UserDistrict(user_id=user.id, district_code=code))
    if unit_codes:
        try:
            units.set_user_units(user, unit_codes)
        except units.UnitError as e:
            db.session.rollback()
            raise AccountError(str(e)) from None
    audit(None, "user_created", detail=f"{username} role={role}")
    db.session.commit()
    return user


def set_password(username: str, password: str) -> None:
    user = get_by_username(username)
    if user is None:
        raise AccountError(f"no user {username!r}")
    if len(password) < 8:
        raise AccountError("the password must have at least 8 characters")
    user.password_hash = hash_password(password)
    _end_sessions(user)
    audit(None, "password_set", detail=username)
    db.session.commit()


def _end_sessions(user: User) -> None:
    """Every console session of the user that began before now stops working."""
    user.session_generation = (user.session_generation or 0) + 1


def log_out(user: User) -> None:
    """The user logged out: this session and every other one of the user ends (a copied
    cookie stops working too). Commits."""
    _end_sessions(user)
    audit(user, "logout")
    db.session.commit()


def deactivate(username: str) -> None:
    user = get_by_username(username)
    if user is None:
        raise AccountError(f"no user {username!r}")
    user.active = False
    _end_sessions(user)
    # An officer's phones lose their sync tokens with the account.
    phones = sa.select(OfficerDevice.device_id).where(OfficerDevice.user_id == user.id)
    db.session.execute(
        sa.update(Device)
        .where(Device.id.in_(phones), Device.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    audit(None, "user_deactivated", detail=username)
    db.session.commit()


def get_by_username(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


def login_wait(username: str, ip: str) -> timedelta | None:
    """How long this username must wait before another try from this address, or None.

    Per (username, address): after MAX_FAILURES failures in the window, BACKOFF_START
    after the last one, doubled for each failure past MAX_FAILURES, at most the window.
    Per address: after MAX_ADDRESS_FAILURES failures (any usernames) in the window, until
    the oldest of them leaves the window.
    """
    now = utcnow()
    since = now - FAILURE_WINDOW
    in_window = LoginFailure.ip == ip[:64], LoginFailure.at >= since
    pair_count, pair_last = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(LoginFailure.at)).where(
            LoginFailure.username == username[:64], *in_window
        )
    ).one()
    waits: list[timedelta] = []
    if pair_count >= MAX_FAILURES and pair_last is not None:
        backoff = min(FAILURE_WINDOW, BACKOFF_START * 2 ** (pair_count - MAX_FAILURES))
        waits.append(pair_last + backoff - now)
    address_count, address_first = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(LoginFailure.at)).where(*in_window)
    ).one()
    if address_count >= MAX_ADDRESS_FAILURES and address_first is not None:
        waits.append(address_first + FAILURE_WINDOW - now)
    account_count, account_last = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(LoginFailure.at)).where(
            LoginFailure.username == username[:64], LoginFailure.at >= since
        )
    ).one()
    if (
        account_count >= MAX_ACCOUNT_FAILURES
        and account_last is not None
        and not _signed_in_from(username, ip)
    ):
        waits.append(account_last + ACCOUNT_BACKOFF - now)
    wait = max(waits, default=timedelta(0))
    return wait if wait > timedelta(0) else None


def address_tag(ip: str) -> str:
    """A keyed digest of a client address: recognises a place a user signed in from
    without keeping the address."""
    key = current_settings().secret_key.encode()
    return "from:" + hmac.new(key, ip[:64].encode(), hashlib.sha256).hexdigest()[:24]


def _signed_in_from(username: str, ip: str) -> bool:
    """True when the user has signed in from this address before (audit "login")."""
    user = get_by_username(username)
    if user is None:
        return False
    found = db.session.scalar(
        sa.select(AuditLog.id)
        .where(
            AuditLog.actor_id == user.id,
            AuditLog.action == "login",
            AuditLog.detail == address_tag(ip),
        )
        .limit(1)
    )
    return found is not None


def _tell_admins_of_guessing(username: str, user: User | None) -> None:
    """An audit entry (the admins' audit log) when failures of one account across
    addresses reach MAX_ACCOUNT_FAILURES in the window; once per window."""
    since = utcnow() - FAILURE_WINDOW
    count = db.session.scalar(
        sa.select(sa.func.count()).where(
            LoginFailure.username == username[:64], LoginFailure.at >= since
        )
    )
    if count != MAX_ACCOUNT_FAILURES:
        return
    told = db.session.scalar(
        sa.select(AuditLog.id)
        .where(
            AuditLog.action == "login_guessing",
            AuditLog.detail == username[:64],
            AuditLog.at >= since,
        )
        .limit(1)
    )
    if told is None:
        audit(user, "login_guessing", detail=username[:64])


def authenticate(username: str, password: str, ip: str) -> User | None:
    """The active user with this password, or None; raises RateLimited (with
    ``retry_after`` in seconds) while :func:`login_wait` says to wait. Commits."""
    wait = login_wait(username, ip)
    if wait is not None:
        db.session.commit()
        raise RateLimited(retry_after=max(1, math.ceil(wait.total_seconds())))
    user = get_by_username(username)
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.active:
        db.session.add(LoginFailure(username=username[:64], ip=ip[:64], at=utcnow()))
        db.session.flush()
        _tell_admins_of_guessing(username, user)
        db.session.commit()
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.execute(
        sa.delete(LoginFailure).where(
            LoginFailure.username == username[:64], LoginFailure.ip == ip[:64]
        )
    )
    audit(user, "login", detail=address_tag(ip))
    db.session.commit()
    return user


def districts_of(user: User) -> set[str] | None:
    """Area codes the user may review; None means all (admin). A reviewer: their own
    areas (``user_districts``) and those their units cover; a supervisor: the areas of
    their province in the current boundary set."""
    if user.role == "admin":
        return None
    if user.role == "reviewer":
        own = set(
            db.session.scalars(
                sa.select(UserDistrict.district_code).where(UserDistrict.user_id == user.id)
            )
        )
        return own | units.areas_of_units(units.units_of_user(user))
    if user.role == "supervisor":
        return province_districts(user.province_code)
    return set()


def province_districts(province_code: str | None) -> set[str]:
    """District codes of a province in the current boundary set."""
    if not province_code:
        return set()
    index = districts.current_index()
    return {d.code for d in index.districts() if d.province_code == province_code}


def audit(
    user: User | None,
    action: str,
    *,
    case_id: str | None = None,
    report_id: str | None = None,
    detail: str | None = None,
) -> None:
    """An audit entry in the current transaction. ``detail`` never holds an identity.

    An entry about a case or a report (a decision, split, merge, forward, reveal ...) is
    also appended to the custody trail (:mod:`.custody`), in this transaction: call this
    last before the commit, after any case lock.
    """
    actor_id = user.id if user else None
    db.session.add(
        AuditLog(
            actor_id=actor_id,
            action=action,
            case_id=case_id,
            report_id=report_id,
            detail=detail,
            at=utcnow(),
        )
    )
    if case_id or report_id:
        custody.audit_event(action, actor_id, case_id, report_id, detail)


def pseudonym(report_id: str) -> str:
    """A stable pseudonym of a report's reporter, e.g. ``Người báo #4821``.

    An HMAC of the report id under the SECRET_KEY: it says nothing about the identity.
    """
    key = str(current_settings().secret_key).encode()
    mac = hmac.new(key, b"reporter\0" + report_id.encode(), hashlib.sha256).digest()
    return f"Người báo #{int.from_bytes(mac[:4], 'big') % 9000 + 1000}"
