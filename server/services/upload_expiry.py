"""The sweep of resumable uploads (``flask --app wsgi uploads expire``, from cron).

Expired incomplete uploads go with their partial files (in a bucket: their pieces);
partial files with no upload row and files in ``MEDIA_ROOT/tmp`` left by a direct PUT
that died are swept too, and in a bucket multipart uploads left open past the expiry.
Received evidence is never touched, and an upload being written right now is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import utcnow
from ..models.uploads import Upload
from ..storage_backends import Store
from .evidence import media_store
from .upload_locks import Busy, Gone, locked
from .uploads import expiry_period

# Files in MEDIA_ROOT/tmp belong to a single direct PUT; one older than this is litter.
STALE_TMP_AGE = timedelta(days=1)


@dataclass(frozen=True)
class ExpiryResult:
    expired_uploads: int
    orphan_partials: int
    stale_tmp_files: int


def expire(now: datetime | None = None) -> ExpiryResult:
    """Remove expired incomplete uploads and their partial files; sweep litter.

    Also removes partial files with no upload row that are older than the expiry
    period (a crash between creating the file and its row), and files in
    ``MEDIA_ROOT/tmp`` older than a day (a direct PUT that died). An upload that a
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
    stale = 0
    for path in _old_files(store.tmp_dir, now.timestamp() - STALE_TMP_AGE.total_seconds()):
        path.unlink(missing_ok=True)
        stale += 1
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
