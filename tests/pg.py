"""A throw-away PostgreSQL server for the test session.

Uses the PostgreSQL binaries of the machine (Debian's ``postgresql`` package, which
the test command installs where missing). As root, the server runs as the
``postgres`` user, since PostgreSQL refuses to run as root. Set
``ROADWATCH_TEST_PG_URL`` to use an existing server instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path


def _bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if candidates:
        return Path(candidates[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def new_database(pg_base: str, prefix: str = "rw_") -> str:
    """A new, empty database on the server at ``pg_base`` (a URL without a database
    name); returns its URL. For tests that need a database no other test touches."""
    import sqlalchemy as sa

    name = prefix + uuid.uuid4().hex[:10]
    admin = sa.create_engine(f"{pg_base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return f"{pg_base}/{name}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    datadir: Path
    port: int
    bindir: Path

    @property
    def base_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def stop(self) -> None:
        _run_as_owner(
            [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"]
        )
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def _run_as_owner(cmd: list[str]) -> None:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start() -> PgServer:
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL binaries not found: run the test command from README.md "
            "(it installs PostgreSQL), or set ROADWATCH_TEST_PG_URL"
        )
    top = Path(tempfile.mkdtemp(prefix="roadwatch-pg-"))
    datadir = top / "data"
    datadir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(top, "postgres")
        shutil.chown(datadir, "postgres")
    port = _free_port()
    _run_as_owner(
        [
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C.UTF-8",
        ]
    )
    opts = (
        f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    _run_as_owner(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-o",
            opts,
            "-l",
            str(datadir / "log"),
            "-w",
            "start",
        ]
    )
    return PgServer(datadir=datadir, port=port, bindir=bindir)
