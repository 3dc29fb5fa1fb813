# SPDX-License-Identifier: AGPL-3.0-or-later
"""``flask backup FILE`` and ``flask restore FILE`` (core/backup.py does the work)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from . import backup
from .audit import audited_command, note, record
from .db import db


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--keys",
    "keys_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Also put the signing keys of this directory in the file (keep it secret then).",
)
@audited_command("backup")
def backup_command(file: Path, keys_dir: Path | None) -> None:
    """Write a consistent copy of the database (while the app runs) to FILE."""
    note(file=str(file), keys=keys_dir is not None)
    try:
        manifest = backup.create_backup(file, keys_dir)
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"backup {file}: {manifest['backend']} database at revision "
        f"{manifest['alembic_revision']}, app {manifest['app_version']}, "
        f"format {manifest['format']} v{manifest['format_version']}"
    )
    for book in manifest.get("books", []):
        click.echo(
            f"book {book['id']}: log size {book['log_size']}, latest checkpoint "
            f"{book['checkpoint_size']} {book['checkpoint_root'] or '-'}"
        )
    if keys_dir is not None:
        click.echo(f"signing keys from {keys_dir} are in the file: keep it as secret as the keys")
    else:
        click.echo(f"NOTE: {backup.KEYS_NOTE}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
@click.option(
    "--keys",
    "keys_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the signing keys held in the backup into this directory.",
)
def restore_command(file: Path, force: bool, keys_dir: Path | None) -> None:
    """Restore the backup FILE into the app's database, then audit every book."""
    try:
        manifest, written = backup.restore_backup(file, force=force, keys_dir=keys_dir)
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"restored {file} ({manifest['backend']}, revision {manifest['alembic_revision']}, "
        f"made {manifest['created_at']} by app {manifest['app_version']})"
    )
    for path in written:
        click.echo(f"key {path}")
    if not manifest.get("keys_included") or keys_dir is None:
        click.echo(f"NOTE: {backup.KEYS_NOTE}")
    checks = backup.after_restore(manifest)
    for check in checks:
        click.echo(("OK " if check.ok else "MISMATCH ") + check.line)
    failed = [c for c in checks if not c.ok]
    # The restored database's own trail says it was restored, from what and with what result.
    record(
        "cli restore",
        "invalid" if failed else "ok",
        username="cli",
        detail={
            "file": str(file),
            "made": manifest["created_at"],
            "revision": manifest["alembic_revision"],
            "problems": len(failed),
        },
    )
    db.session.commit()
    if failed:
        click.echo(f"{len(failed)} problem(s) found in the restored database", err=True)
        raise click.exceptions.Exit(1)


def register(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
