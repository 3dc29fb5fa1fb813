# SPDX-License-Identifier: AGPL-3.0-or-later
"""Backup and restore of the whole database, while the app runs (``flask backup`` / ``flask restore``).

A backup is one uncompressed tar file:

- ``manifest.json`` (first member): what the file is (``format``, ``format_version``), the app
  version, the Alembic revision, the backend, the database member's SHA-256, and what the layers
  above core add through :data:`backup_describe` (the transparency layer: every book's log size
  and latest checkpoint root), all read in the same snapshot as the copy;
- ``database.sqlite3`` (a consistent online copy made with SQLite's backup API) or
  ``database.pgdump`` (``pg_dump --format=custom``, taken in the snapshot the manifest was read in);
- ``keys/…`` only with ``--keys DIR``: signing keys are never in the database (DESIGN.md §4).

Restore checks the file before touching anything, refuses a non-empty target unless forced,
restores into the database of the app's ``SQLALCHEMY_DATABASE_URI``, checks the Alembic revision,
and lets the layers above check what they described (:data:`database_restored`).

Core knows no domain: the manifest's book section and the post-restore audit come from
receivers of the two signals below (``transparency/backup_hooks.py``).
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from blinker import Namespace

from .db import db, read_only_transactions

FORMAT = "commons-ledger-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KEYS_PREFIX = "keys/"
KEYS_NOTE = (
    "signing keys are not in the database (KEYS_DIR / COMMONS_KEYS_DIR): back them up "
    "separately, or add them to this file with --keys DIR"
)

_signals = Namespace()

# sender: a SQLAlchemy Connection reading the snapshot being backed up. Receivers return a
# dict merged into the manifest (each under its own key).
backup_describe = _signals.signal("backup-describe")

# sender: the manifest (dict) of the backup just restored; the app context reads the restored
# database. Receivers return a list of :class:`Check`.
database_restored = _signals.signal("database-restored")


class BackupError(Exception):
    """A backup could not be made or restored; the message says why."""


@dataclass(frozen=True)
class Check:
    ok: bool
    line: str


def app_version() -> str:
    try:
        return metadata.version("commons-ledger")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def backend() -> str:
    return db.engine.dialect.name


def pg_binary(name: str) -> str:
    """``pg_dump`` / ``pg_restore`` / ``psql``: the newest Debian one, else from the PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found (install the PostgreSQL client tools)")
    return path


def _version_key(path: str) -> tuple[int, ...]:
    part = path.split("/")[4]
    return tuple(int(x) for x in part.split(".") if x.isdigit())


def _pg_env(url: sa.engine.URL) -> dict[str, str]:
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[var] = str(value)
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()}")


def _alembic_revision(conn: sa.Connection) -> str | None:
    try:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except sa.exc.DBAPIError:
        return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _describe(conn: sa.Connection) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for _receiver, value in backup_describe.send(conn):
        out.update(value or {})
    return out


# --- backup ----------------------------------------------------------------------------------


def _snapshot_sqlite(dest: Path) -> tuple[str | None, dict[str, Any]]:
    """Copy the database with SQLite's online backup API inside one read transaction, and
    describe it in that same transaction (a writer in another thread or process changes neither)."""
    with read_only_transactions(), db.engine.connect() as conn, conn.begin():
        revision = _alembic_revision(conn)  # the first read fixes the snapshot
        described = _describe(conn)
        source = conn.connection.driver_connection
        assert isinstance(source, sqlite3.Connection)
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
    return revision, described


def _snapshot_postgresql(dest: Path) -> tuple[str | None, dict[str, Any]]:
    """Describe the database in a REPEATABLE READ transaction, export its snapshot and let
    ``pg_dump`` read that very snapshot."""
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        with conn.begin():
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            revision = _alembic_revision(conn)
            described = _describe(conn)
            _run(
                [
                    pg_binary("pg_dump"),
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={dest}",
                ],
                _pg_env(db.engine.url),
            )
    return revision, described


def create_backup(path: Path, keys_dir: Path | None = None) -> dict[str, Any]:
    """Write a backup of the app's database (and, if given, the keys directory) to ``path``."""
    kind = backend()
    if kind not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {kind} database")
    if keys_dir is not None and not keys_dir.is_dir():
        raise BackupError(f"{keys_dir} is not a directory")
    member = "database.sqlite3" if kind == "sqlite" else "database.pgdump"
    path = path.resolve()
    with tempfile.TemporaryDirectory(prefix="commons-backup-") as tmp:
        dump = Path(tmp) / member
        snap: Callable[[Path], tuple[str | None, dict[str, Any]]] = (
            _snapshot_sqlite if kind == "sqlite" else _snapshot_postgresql
        )
        revision, described = snap(dump)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": app_version(),
            "alembic_revision": revision,
            "backend": kind,
            "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "database": {"member": member, "sha256": _sha256(dump), "size": dump.stat().st_size},
            "keys_included": keys_dir is not None,
            "keys_note": KEYS_NOTE,
            **described,
        }
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=member)
            if keys_dir is not None:
                for f in sorted(keys_dir.iterdir()):
                    if f.is_file():
                        tar.add(f, arcname=KEYS_PREFIX + f.name)
        if keys_dir is not None:
            os.chmod(partial, 0o600)  # it holds private keys
        os.replace(partial, path)
    return manifest


# --- restore ---------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the backup at ``path``; :class:`BackupError` if it is not one we can restore."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        with tarfile.open(path, "r:") as tar:
            f = tar.extractfile(MANIFEST)
            if f is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(f.read())
    except (tarfile.TarError, KeyError, ValueError, OSError):
        raise BackupError(f"{path} is not a Commons Ledger backup") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a Commons Ledger backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is a backup of format version {manifest.get('format_version')!r}; "
            f"this version of the app restores format version {FORMAT_VERSION}"
        )
    return manifest


def _is_empty(conn: sa.Connection) -> bool:
    if conn.dialect.name == "sqlite":
        n = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).scalar()
    else:
        n = conn.exec_driver_sql(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).scalar()
    return not n


def target_is_empty() -> bool:
    with read_only_transactions(), db.engine.connect() as conn:
        return _is_empty(conn)


def _key_plan(tar: tarfile.TarFile, keys_dir: Path) -> list[tuple[Path, bytes]]:
    """The backup's key files and where they go; refuse to overwrite a different file."""
    plan: list[tuple[Path, bytes]] = []
    for m in tar.getmembers():
        if not m.name.startswith(KEYS_PREFIX):
            continue
        name = m.name[len(KEYS_PREFIX) :]
        f = tar.extractfile(m) if m.isfile() else None
        if f is None or not name or "/" in name or name.startswith("."):
            raise BackupError(f"unexpected key file {m.name!r} in the backup")
        data = f.read()
        dest = keys_dir / name
        if dest.exists() and dest.read_bytes() != data:
            raise BackupError(f"{dest} exists and differs from the backup's copy")
        plan.append((dest, data))
    return plan


def _write_keys(keys_dir: Path, plan: list[tuple[Path, bytes]]) -> list[str]:
    keys_dir.mkdir(parents=True, exist_ok=True)
    for dest, data in plan:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    return [str(d) for d, _ in plan]


def restore_backup(
    path: Path, *, force: bool = False, keys_dir: Path | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Restore the backup at ``path`` into the app's database. Returns the manifest and the key
    files written. Everything is checked before the database is touched."""
    manifest = read_manifest(path)
    kind = backend()
    if manifest.get("backend") != kind:
        raise BackupError(
            f"{path} is a {manifest.get('backend')} backup; the app's database is {kind}"
        )
    database = manifest.get("database") or {}
    member = database.get("member")
    if member not in ("database.sqlite3", "database.pgdump"):
        raise BackupError(f"{path} is not a Commons Ledger backup")
    if keys_dir is not None and not manifest.get("keys_included"):
        raise BackupError(f"{path} holds no keys (it was made without --keys)")
    if not force and not target_is_empty():
        raise BackupError(
            "the database is not empty: restore into an empty database, or give --force "
            "to replace everything in it"
        )
    with tempfile.TemporaryDirectory(prefix="commons-restore-") as tmp, tarfile.open(path) as tar:
        dump = Path(tmp) / member
        try:
            f = tar.extractfile(member)
        except KeyError:
            f = None
        if f is None:
            raise BackupError(f"{path} has no {member}")
        with dump.open("wb") as out:
            shutil.copyfileobj(f, out)
        if _sha256(dump) != database.get("sha256"):
            raise BackupError(f"{path} is damaged: {member} does not match its checksum")
        keys = _key_plan(tar, keys_dir) if keys_dir is not None else []  # checked first
        db.session.remove()
        if kind == "sqlite":
            _restore_sqlite(dump)
        else:
            _restore_postgresql(dump, Path(tmp), force=force)
        db.engine.dispose()
        written = _write_keys(keys_dir, keys) if keys_dir is not None else []
    with db.engine.connect() as conn:
        revision = _alembic_revision(conn)
    if revision != manifest.get("alembic_revision"):
        raise BackupError(
            f"restored, but the database's revision is {revision!r}, "
            f"the manifest's {manifest.get('alembic_revision')!r}"
        )
    return manifest, written


def _restore_sqlite(dump: Path) -> None:
    """Replace the database's content page by page with SQLite's backup API: one write
    transaction on the target, so other connections see the old or the new database."""
    target_path = db.engine.url.database
    if not target_path or target_path == ":memory:":
        raise BackupError("cannot restore into an in-memory SQLite database")
    try:
        source = sqlite3.connect(dump)
        try:
            if source.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupError("the backup's SQLite copy fails SQLite's quick_check")
            db.engine.dispose()
            target = sqlite3.connect(target_path, timeout=30)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as e:
        raise BackupError(f"SQLite: {e}") from None


def _restore_postgresql(dump: Path, tmp: Path, *, force: bool) -> None:
    """``pg_restore`` writes the dump as SQL; ``psql`` runs it in one transaction (after
    emptying the schema when forced), so a failure leaves the database as it was."""
    env = _pg_env(db.engine.url)
    script = tmp / "restore.sql"
    _run(
        [pg_binary("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}", str(dump)],
        env,
    )
    db.engine.dispose()
    args = [pg_binary("psql"), "--no-psqlrc", "--quiet", "--single-transaction"]
    args += ["--set=ON_ERROR_STOP=1"]
    if force:
        args += ["--command=DROP SCHEMA public CASCADE; CREATE SCHEMA public;"]
    args += [f"--file={script}"]
    _run(args, env)


def after_restore(manifest: dict[str, Any]) -> list[Check]:
    """What the layers above core check in the restored database (books, checkpoints, audit)."""
    checks: list[Check] = []
    for _receiver, value in database_restored.send(manifest):
        checks.extend(value or [])
    return checks
