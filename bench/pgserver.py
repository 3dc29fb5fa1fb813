# SPDX-License-Identifier: AGPL-3.0-or-later
"""Throwaway PostgreSQL servers for the benchmarks: a primary and, on demand, a streaming
replica made with ``pg_basebackup`` (both on loopback, in temporary directories, run as the
``postgres`` user when we are root, as ./test starts its server).

Ports are taken from 55460 upwards (the first free ones), so that the benchmark servers do not
collide with the shared development server on 55432.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path


def pg_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def free_port(start: int = 55460) -> int:
    for port in range(start, start + 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port from 55460 on")


def _as_pg(*args: str) -> subprocess.CompletedProcess:
    cmd = list(args)
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


class PgServer:
    """One PostgreSQL server (``initdb`` + ``pg_ctl``) in ``root/name``."""

    def __init__(self, root: Path, name: str = "primary", port: int | None = None):
        bindir = pg_bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL under /usr/lib/postgresql/*/bin")
        self.bindir = bindir
        self.data = root / name
        self.port = port or free_port()
        self.log = root / f"{name}.log"
        self.started = False

    def _chown(self) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(self.data)], check=True)

    def init(self) -> PgServer:
        self.data.mkdir(parents=True)
        self._chown()
        _as_pg(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        return self

    def replica(self, root: Path, name: str = "replica") -> PgServer:
        """A hot standby of this server, streaming from it (``pg_basebackup -R``)."""
        other = PgServer(root, name, free_port(self.port + 1))
        other.data.mkdir(parents=True, mode=0o700)
        other._chown()
        _as_pg(
            str(self.bindir / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-D",
            str(other.data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        return other

    def start(self, *settings: str) -> PgServer:
        opts = [
            f"-p {self.port}",
            f"-k {self.data.parent}",  # outside the data directory: not in a base backup
            "-c listen_addresses=127.0.0.1",
            # The shared machine's disk is as noisy as its CPUs: no fsync (as ./test does);
            # commits still wait for the WAL write (synchronous_commit stays on).
            "-c fsync=off",
            "-c full_page_writes=off",
            "-c max_connections=200",
            "-c shared_buffers=256MB",
            # As the README recommends for production (data in memory or on SSD): with the
            # default 4 the planner reads a whole book's lines for a report inside a month.
            "-c random_page_cost=1.1",
            *(f"-c {s}" for s in settings),
        ]
        _as_pg(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "120",
            "-o",
            " ".join(opts),
            "start",
        )
        self.started = True
        return self

    def stop(self) -> None:
        if not self.started:
            return
        try:
            _as_pg(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        except subprocess.CalledProcessError:
            pass
        self.started = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        return _as_pg(
            str(self.bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-Atqc",
            sql,
        ).stdout.strip()

    def create_database(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def version(self) -> str:
        return self.psql("SHOW server_version")


def wait_replayed(primary: PgServer, replica: PgServer, timeout: float = 60) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    lsn = primary.psql("SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica.psql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn") == "t":
            return
        time.sleep(0.05)
    raise TimeoutError("the replica did not catch up")
