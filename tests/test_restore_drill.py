"""The restore drill (scripts/restore_drill): a pg_dump and a copy of the bucket, restored
into an empty database and an empty bucket, pass when every evidence hash and the
custody chain match, and fail naming the blob when a backed-up file was damaged."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import pg
from tests.factories import Api, photo, report_body

ROOT = Path(__file__).resolve().parents[1]
DRILL = ROOT / "scripts" / "restore_drill"

pytestmark = [
    pytest.mark.parametrize("db_url", ["postgresql"], indirect=True),
    pytest.mark.parametrize("storage", ["s3"], indirect=True),
]



def _pg_dump(db_url: str, out: Path) -> None:
    bindir = pg._bindir()
    assert bindir is not None
    url = sa.engine.make_url(db_url).set(drivername="postgresql").render_as_string(False)
    subprocess.run([str(bindir / "pg_dump"), "-Fc", "-f", str(out), url], check=True)


def _bucket_copy(s3_server, storage_url: str, out: Path) -> list[Path]:
    """Every object under the store's blobs/, downloaded with its key as path."""
    bucket, _, prefix = storage_url.removeprefix("s3://").partition("/")
    client = s3_server.client()
    files = []
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{prefix}/blobs/"
    )
    for page in pages:
        for obj in page.get("Contents", []):
            dest = out / obj["Key"].removeprefix(f"{prefix}/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, obj["Key"], str(dest))
            files.append(dest)
    return files


def _drill(env: dict[str, str], dump: Path, blobs: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DRILL), "--dump", str(dump), "--blobs", str(blobs)],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_backup_restores_into_an_empty_database_and_bucket_and_a_damaged_blob_is_named(
    app, client, storage, pg_server, s3_server, tmp_path: Path
):
    api = Api.register(client)
    sent = []
    for i in range(3):
        media = [photo(taken_at=f"2026-11-20T08:15:{2 * i + k:02d}") for k in (0, 1)]
        rid = str(uuid.uuid4())
        assert api.put_report(rid, report_body(media)).status_code == 201
        for m in media:
            assert api.put_media(rid, m).status_code in (200, 201, 204)
        sent += media
    settings = app.extensions["settings"]

    # The backup: pg_dump plus a copy of the bucket's blobs.
    dump = tmp_path / "roadwatch.dump"
    _pg_dump(settings.database_url, dump)
    copy = tmp_path / "bucket-copy"
    files = _bucket_copy(s3_server, settings.storage_url, copy)
    assert {f.name for f in files} == {m.decl["sha256"] for m in sent}

    def target() -> dict[str, str]:
        instance = tmp_path / uuid.uuid4().hex[:8]
        return {
            "DATABASE_URL": pg.new_database(pg_server, "rw_drill_"),
            **s3_server.settings(s3_server.new_location()),
            "INSTANCE_PATH": str(instance),
            "MEDIA_ROOT": str(instance / "media"),
            "SECRET_KEY": "restore-drill-secret",
            "IDENTITY_KEY": settings.identity_key,
        }

    fresh = target()
    passed = _drill(fresh, dump, copy)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "RESTORE DRILL PASSED" in passed.stdout
    assert f"{len(sent)} received media" in passed.stdout
    assert "custody chain: OK" in passed.stdout

    # The same target again: not empty, the drill refuses to restore over it.
    again = _drill(fresh, dump, copy)
    assert again.returncode == 2 and "not empty" in again.stdout

    # One byte of one backed-up blob flipped: the drill fails and names it.
    damaged = files[0]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    failed = _drill(target(), dump, copy)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "RESTORE DRILL FAILED" in failed.stdout
    bad = [line for line in failed.stdout.splitlines() if line.startswith("CORRUPT")]
    media_id = next(m.media_id for m in sent if m.decl["sha256"] == damaged.name)
    assert bad == [f"CORRUPT media {media_id}: blob {damaged.name} hashes to " + bad[0][-64:]]
    assert bad[0][-64:] != damaged.name
