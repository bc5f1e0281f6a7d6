"""``flask --app wsgi doctor``: check a configuration and say what is wrong in plain words.

One line per finding, ``OK``, ``WARN`` or ``ERROR``, then the setting it is about and
what to do, in Vietnamese and English. Exits 1 when there is an error, 2 with
``--strict`` when there are only warnings, else 0. Never prints a secret, a
password, a URL with credentials or an informant's identity: settings are named,
not shown.

"Production-looking" is: PostgreSQL, a bucket, or trusted proxies in front. Then the
keys must come from the environment (several nodes must share them), cookies must be
HTTPS-only, Web Push must go through the worker.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import click
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from flask.cli import with_appcontext

from ..extensions import db
from ..settings import Settings, current_settings
from ..storage import free_bytes

WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "default", "test", "roadwatch"}
DEFAULT_VAPID_SUBJECT = Settings.vapid_subject


@dataclass
class Finding:
    level: str  # "OK", "WARN", "ERROR"
    setting: str
    vi: str
    en: str

    def line(self) -> str:
        return f"{self.level:<5} {self.setting}: {self.vi} / {self.en}"


class Report:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def ok(self, setting: str, vi: str, en: str) -> None:
        self.findings.append(Finding("OK", setting, vi, en))

    def warn(self, setting: str, vi: str, en: str) -> None:
        self.findings.append(Finding("WARN", setting, vi, en))

    def error(self, setting: str, vi: str, en: str) -> None:
        self.findings.append(Finding("ERROR", setting, vi, en))

    def has(self, level: str) -> bool:
        return any(f.level == level for f in self.findings)


def _why(exc: BaseException) -> str:
    """An exception's kind, never its text (which may hold a URL or a password)."""
    return type(exc).__name__


def production_looking(s: Settings, dialect: str) -> bool:
    return (
        dialect != "sqlite" or (s.storage_url or "").startswith("s3:") or (s.trusted_proxy_hops > 0)
    )


def check_database(r: Report, nodes: int, workers: int) -> str:
    """Reachable, migrated to head, SQLite only on one node. Returns the dialect."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from .. import MIGRATIONS_DIR

    dialect = db.engine.dialect.name
    try:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:
        r.error(
            "DATABASE_URL",
            f"không kết nối được cơ sở dữ liệu ({_why(exc)})",
            f"the database does not answer ({_why(exc)}); check host, user and password",
        )
        return dialect
    heads = set(ScriptDirectory(MIGRATIONS_DIR).get_heads())
    if current == heads:
        r.ok(
            "DATABASE_URL",
            f"cơ sở dữ liệu {dialect} trả lời, đã nâng cấp đến bản mới nhất",
            f"{dialect} database answers and is migrated to head ({', '.join(sorted(heads))})",
        )
    elif not current:
        r.error(
            "DATABASE_URL",
            "cơ sở dữ liệu trống: hãy chạy flask --app wsgi db upgrade",
            "the database is empty: run flask --app wsgi db upgrade",
        )
    else:
        r.error(
            "DATABASE_URL",
            f"cơ sở dữ liệu ở bản {', '.join(sorted(current))}, chưa phải bản mới nhất: "
            "hãy chạy flask --app wsgi db upgrade",
            f"the database is at {', '.join(sorted(current))}, not at head "
            f"{', '.join(sorted(heads))}: run flask --app wsgi db upgrade",
        )
    if dialect == "sqlite" and nodes > 1:
        r.error(
            "DATABASE_URL",
            "SQLite chỉ dùng được trên một máy; nhiều máy cần PostgreSQL",
            f"SQLite works on one machine only; {nodes} nodes need PostgreSQL",
        )
    elif dialect == "sqlite" and workers > 4:
        r.warn(
            "DATABASE_URL",
            f"SQLite với {workers} tiến trình: mọi lệnh ghi phải xếp hàng; nên dùng PostgreSQL",
            f"SQLite with {workers} workers: every write queues for one lock; "
            "use PostgreSQL for a busy site",
        )
    return dialect


def check_storage(r: Report, s: Settings) -> None:
    """STORAGE_URL parses, the store answers, a probe object can be written and deleted."""
    from ..storage_backends import open_store

    try:
        store = open_store(s)
    except Exception as exc:
        r.error(
            "STORAGE_URL",
            f"không đọc được STORAGE_URL ({_why(exc)}): dùng file:///thư-mục "
            "hoặc s3://bucket/tiền-tố",
            f"STORAGE_URL cannot be used ({_why(exc)}): use file:///folder or s3://bucket/prefix",
        )
        return
    probe = f"doctor-probe-{uuid.uuid4().hex}"
    if store.is_local:
        root = Path(store.root)  # type: ignore[union-attr]
        try:
            path = root / "tmp" / probe
            path.write_bytes(b"probe")
            path.unlink()
        except OSError as exc:
            r.error(
                "MEDIA_ROOT",
                f"không ghi được vào thư mục bằng chứng ({_why(exc)})",
                f"the evidence folder is not writable ({_why(exc)})",
            )
            return
        r.ok("STORAGE_URL", "thư mục bằng chứng ghi được", "the evidence folder is writable")
        return
    client, bucket = store.client, store.bucket  # type: ignore[union-attr]
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:
        r.error(
            "STORAGE_URL",
            f"không truy cập được bucket ({_why(exc)}): kiểm tra "
            "S3_ENDPOINT_URL, tên bucket và khóa truy cập",
            f"the bucket cannot be reached ({_why(exc)}): check S3_ENDPOINT_URL, the "
            "bucket's name and S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY",
        )
        return
    key = f"{store.prefix}tmp/{probe}"  # type: ignore[union-attr]
    try:
        client.put_object(Bucket=bucket, Key=key, Body=b"probe")
        client.delete_object(Bucket=bucket, Key=key)
    except Exception as exc:
        r.error(
            "STORAGE_URL",
            f"bucket trả lời nhưng không ghi/xóa được ({_why(exc)})",
            f"the bucket answers but a probe object cannot be written and deleted "
            f"({_why(exc)}): the credentials need PutObject and DeleteObject",
        )
        return
    r.ok("STORAGE_URL", "bucket trả lời, ghi và xóa được", "the bucket answers, is writable")


def check_media_root(r: Report, s: Settings) -> None:
    root = Path(s.media_root or "instance/media")
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".doctor-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        r.error(
            "MEDIA_ROOT",
            f"không ghi được vào MEDIA_ROOT ({_why(exc)})",
            f"MEDIA_ROOT is not writable ({_why(exc)}): it holds the evidence, or with a "
            "bucket the spool and lock files",
        )
        return
    minimum = s.media_min_free_mb
    free = free_bytes(root) // (1024 * 1024)
    if minimum > 0 and free < minimum:
        r.error(
            "MEDIA_MIN_FREE_MB",
            f"MEDIA_ROOT chỉ còn {free} MiB trống (cần ít nhất {minimum} MiB)",
            f"MEDIA_ROOT has {free} MiB free, less than {minimum} MiB: uploads get 507 "
            "and /readyz answers 503 until space is freed",
        )
        return
    r.ok("MEDIA_ROOT", f"ghi được, còn {free} MiB trống", f"writable, {free} MiB free")


def _generated(s: Settings, name: str, value: str | None) -> bool:
    """True when ``value`` is the one generated into this node's instance folder."""
    try:
        return (Path(s.instance_path or "instance") / name).read_text().strip() == value
    except OSError:
        return False


def check_keys(r: Report, s: Settings, prod: bool) -> None:
    # IDENTITY_KEY: parses, round-trips, decrypts a stored identity.
    keys = [k.strip() for k in (s.identity_key or "").split(",") if k.strip()]
    try:
        fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        assert fernet.decrypt(fernet.encrypt(b"doctor")) == b"doctor"
    except Exception:
        r.error(
            "IDENTITY_KEY",
            "khóa mã hóa danh tính không hợp lệ (cần khóa Fernet, cách nhau bằng dấu phẩy)",
            "the identity key is not valid (Fernet keys, comma-separated, newest first)",
        )
        return
    sample = _stored_identity()
    if sample is not None:
        try:
            fernet.decrypt(sample)
        except Exception:
            r.error(
                "IDENTITY_KEY",
                "khóa hiện tại không giải mã được danh tính đã lưu: thiếu khóa cũ?",
                "the key does not decrypt a stored identity: an older key is missing from "
                "IDENTITY_KEY (keep old keys after the new one)",
            )
            return
    if prod and _generated(s, "identity.key", s.identity_key):
        r.warn(
            "IDENTITY_KEY",
            "khóa được tạo trong thư mục instance của máy này; nhiều máy "
            "phải dùng chung một khóa trong biến môi trường",
            "the key was generated in this node's instance folder; set IDENTITY_KEY in the "
            "environment so every node has the same one, and keep a copy apart from backups",
        )
    else:
        r.ok(
            "IDENTITY_KEY",
            "hợp lệ" + (", giải mã được dữ liệu đã lưu" if sample else ""),
            "valid" + (", decrypts a stored identity" if sample else ""),
        )

    secret = s.secret_key or ""
    if secret.lower() in WEAK_SECRETS or len(secret) < 12:
        r.error(
            "SECRET_KEY",
            "khóa phiên quá yếu hoặc là giá trị mặc định",
            "SECRET_KEY is a default or too short: use 32+ random bytes",
        )
    elif prod and _generated(s, "secret_key", s.secret_key):
        r.warn(
            "SECRET_KEY",
            "khóa được tạo riêng cho máy này; nhiều máy phải dùng chung",
            "generated in this node's instance folder: set SECRET_KEY in the environment "
            "so a console session is valid on every node",
        )
    else:
        r.ok("SECRET_KEY", "đã đặt", "set")


def _stored_identity() -> bytes | None:
    from ..models import Report as ReportRow

    try:
        value = db.session.scalar(
            sa.select(ReportRow.identity_ciphertext)
            .where(ReportRow.identity_ciphertext.is_not(None))
            .limit(1)
        )
    except Exception:
        db.session.rollback()
        return None
    db.session.rollback()
    return value


def check_web(r: Report, s: Settings, prod: bool, nodes: int) -> None:
    if prod and not s.session_cookie_secure:
        r.warn(
            "SESSION_COOKIE_SECURE",
            "nên bật để cookie phiên chỉ đi qua HTTPS",
            "off: turn it on so console session cookies travel over HTTPS only",
        )
    else:
        r.ok(
            "SESSION_COOKIE_SECURE",
            "bật" if s.session_cookie_secure else "tắt (máy phát triển)",
            "on" if s.session_cookie_secure else "off (development set-up)",
        )
    hops = s.trusted_proxy_hops
    if hops > 3:
        r.warn(
            "TRUSTED_PROXY_HOPS",
            f"{hops} lớp proxy là bất thường",
            f"{hops} proxies is unusual: a client could forge its address in X-Forwarded-For",
        )
    elif hops == 0 and nodes > 1:
        r.warn(
            "TRUSTED_PROXY_HOPS",
            "0 khi có proxy phía trước: mọi người dùng chung một địa chỉ",
            "0 while several nodes sit behind a proxy: every client gets the proxy's address "
            "and shares its login and rate limits; set it to the number of proxies (usually 1)",
        )
    else:
        r.ok("TRUSTED_PROXY_HOPS", f"{hops}", f"{hops}")


def check_push(r: Report, s: Settings, prod: bool) -> None:
    from ..services import push

    path = push.vapid_key_path()
    if s.vapid_private_key_file and not path.exists():
        r.error(
            "VAPID_PRIVATE_KEY_FILE",
            "không có tệp khóa VAPID",
            "the file does not exist: run flask --app wsgi push vapid-keys",
        )
    elif path.exists():
        try:
            from py_vapid import Vapid02

            Vapid02.from_file(str(path))
        except Exception as exc:
            r.error(
                "VAPID_PRIVATE_KEY_FILE",
                f"không đọc được khóa VAPID ({_why(exc)})",
                f"the VAPID key cannot be read ({_why(exc)})",
            )
        else:
            r.ok("VAPID_PRIVATE_KEY_FILE", "khóa VAPID đọc được", "the VAPID key loads")
    if prod and not s.vapid_private_key_file:
        r.warn(
            "VAPID_PRIVATE_KEY_FILE",
            "mỗi máy sẽ tự tạo khóa VAPID riêng; hãy dùng chung một tệp",
            "unset: each node would generate its own VAPID key and phones subscribed on one "
            "node would not get pushes from another; point it to one shared key file",
        )
    if prod and s.vapid_subject == DEFAULT_VAPID_SUBJECT:
        r.warn(
            "VAPID_SUBJECT",
            "hãy đặt địa chỉ liên hệ thật",
            "set a real contact (mailto: or https:)",
        )
    if prod and s.push_delivery != "worker":
        r.warn(
            "PUSH_DELIVERY",
            "nên là worker và chạy push-worker",
            "inline: set it to worker and run flask --app wsgi push-worker",
        )


def check_districts(r: Report) -> None:
    from ..services.districts.index import current_index

    try:
        index = current_index()
        count = len(index.districts())
    except Exception as exc:
        db.session.rollback()
        r.error(
            "districts",
            f"không nạp được ranh giới quận/huyện ({_why(exc)})",
            f"the district boundaries do not load ({_why(exc)}): reports cannot be routed",
        )
        return
    db.session.rollback()
    n = f" ({count})" if count is not None else ""
    r.ok("districts", f"đã nạp ranh giới quận/huyện{n}", f"the district index loads{n}")


def run_checks(nodes: int, workers: int) -> Report:
    """Every check against the current app; nothing is changed but a probe written and
    removed."""
    s = current_settings()
    r = Report()
    dialect = check_database(r, nodes, workers)
    prod = production_looking(s, dialect) or nodes > 1
    check_media_root(r, s)
    check_storage(r, s)
    check_keys(r, s, prod)
    check_web(r, s, prod, nodes)
    check_push(r, s, prod)
    if not r.has("ERROR") or dialect != "sqlite":
        check_districts(r)
    return r


@click.command("doctor")
@click.option(
    "--nodes",
    type=int,
    default=None,
    help="how many app nodes share this configuration (default: ROADWATCH_NODES or 1)",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="gunicorn workers per node (default: WEB_CONCURRENCY or 1)",
)
@click.option("--strict", is_flag=True, help="exit 2 when there are warnings")
@with_appcontext
def doctor(nodes: int | None, workers: int | None, strict: bool) -> None:
    """Check this configuration: database, evidence store, keys, cookies, push, districts."""
    nodes = nodes or int(os.environ.get("ROADWATCH_NODES", "1") or 1)
    workers = workers or int(os.environ.get("WEB_CONCURRENCY", "1") or 1)
    report = run_checks(nodes, workers)
    for finding in report.findings:
        click.echo(finding.line())
    errors = sum(f.level == "ERROR" for f in report.findings)
    warnings = sum(f.level == "WARN" for f in report.findings)
    click.echo(f"{errors} lỗi, {warnings} cảnh báo / {errors} error(s), {warnings} warning(s)")
    if errors:
        raise SystemExit(1)
    if strict and warnings:
        raise SystemExit(2)


__all__ = ["doctor"]
