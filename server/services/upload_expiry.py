"""The sweep of resumable uploads (``flask --app wsgi uploads expire``, from cron).

Expired incomplete uploads go with their partial files (in a bucket: their pieces);
partial files with no upload row and spool files in ``MEDIA_ROOT/tmp`` left by a
request that died are swept too, and in a bucket multipart uploads left open past the expiry.
Received evidence is never touched, and an upload being written right now is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .. import storage
from ..extensions import db
from ..models import utcnow
from ..models.uploads import Upload
from ..settings import current_settings
from ..storage_backends import Store
from .evidence import media_store
from .upload_locks import Busy, Gone, locked
from .uploads import expiry_period

# Files in MEDIA_ROOT/tmp (spool) belong to one running request, which writes (or
# links) them as it goes; one untouched for this long was left by a process that died.
MIN_SPOOL_IDLE = timedelta(minutes=10)


def spool_idle() -> timedelta:
    """How long a spool file may sit untouched before it is litter: ten minutes, or
    twice the body idle timeout if that is longer."""
    idle = timedelta(seconds=2 * current_settings().body_idle_timeout_seconds)
    return max(MIN_SPOOL_IDLE, idle)


def sweep_spool(now: float | None = None) -> int:
    """Remove this node's spool files left by requests that died (a killed worker or
    node): run when a worker starts (gunicorn.conf.py) and by ``uploads expire``."""
    return storage.sweep_spool(media_store().tmp_dir, spool_idle().total_seconds(), now)


@dataclass(frozen=True)
class ExpiryResult:
    expired_uploads: int
    orphan_partials: int
    stale_tmp_files: int


def expire(now: datetime | None = None) -> ExpiryResult:
    """Remove expired incomplete uploads and their partial files; sweep litter.

    Also removes partial files with no upload row that are older than the expiry
    period (a crash between creating the file and its row), and files in
    ``MEDIA_ROOT/tmp`` untouched for :func:`spool_idle` (a request that died). An upload that a
    request is writing right now is skipped.
    """
    now = now or utcnow()
    store = media_store()
    ids = db.session.scalars(
        sa.select(Upload.id).where(Upload.completed_at.is_(None), Upload.expires_at <= now)
    ).all()
    db.session.commit()
    expired = 0
    for upload_id in ids:
        try:
            with locked(upload_id):
                if _remove_if_expired(upload_id, now, store):
                    expired += 1
        except Busy:
            continue
        except Gone:
            if _remove_if_expired(upload_id, now, store):
                expired += 1
    orphans = _sweep_orphans(store, now.timestamp() - expiry_period().total_seconds())
    stale = sweep_spool(now.timestamp())
    return ExpiryResult(expired, orphans, stale)


def _sweep_orphans(store: Store, cutoff: float) -> int:
    """Remove partial files older than ``cutoff`` that have no upload row; in a bucket,
    also the pieces of uploads completed or removed (a crash between the database and
    the bucket) and multipart uploads left open."""
    if not store.is_local:
        return _sweep_bucket(store, datetime.fromtimestamp(cutoff, UTC))
    orphans = 0
    names = [p.name for p in _old_files(store.upload_dir, cutoff)]
    known: set[str] = set()
    for i in range(0, len(names), 500):
        batch = names[i : i + 500]
        known.update(db.session.scalars(sa.select(Upload.id).where(Upload.id.in_(batch))))
    db.session.commit()
    for name in names:
        if name not in known:
            (store.upload_dir / name).unlink(missing_ok=True)
            orphans += 1
    return orphans


def _sweep_bucket(store: Any, cutoff: datetime) -> int:
    ids = store.partial_ids_older_than(cutoff)
    live: set[str] = set()
    for i in range(0, len(ids), 500):
        batch = ids[i : i + 500]
        live.update(
            db.session.scalars(
                sa.select(Upload.id).where(Upload.id.in_(batch), Upload.completed_at.is_(None))
            )
        )
    db.session.commit()
    orphans = 0
    for upload_id in ids:
        if upload_id not in live:
            store.remove_partial(upload_id)
            orphans += 1
    return orphans + store.abort_stale_multipart(cutoff)


def _remove_if_expired(upload_id: str, now: datetime, store: Store) -> bool:
    """Under the upload's lock: remove it if it is still expired and incomplete."""
    upload = db.session.execute(
        sa.select(Upload).where(Upload.id == upload_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if upload is None or upload.completed_at is not None or upload.expires_at > now:
        db.session.commit()
        return False
    store.remove_partial(upload_id)
    db.session.delete(upload)
    db.session.commit()
    return True


def _old_files(directory: Path, cutoff: float) -> Iterator[Path]:
    """Regular files in ``directory`` last modified before ``cutoff`` (a timestamp)."""
    for path in directory.iterdir():
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if path.is_file() and st.st_mtime < cutoff:
            yield path
