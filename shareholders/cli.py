# SPDX-License-Identifier: AGPL-3.0-or-later
"""``flask shareholders register --organisation ORG [--as-of DATE] [--format csv]`` and
``flask shareholders check --organisation ORG [--as-of DATE]`` (exits 1 on any difference
between the register and the books)."""

from __future__ import annotations

import datetime as dt
import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from core.audit import audited_command, note
from core.db import db
from core.downloads import csv_text
from core.errors import DomainError
from core.models import Organisation

from . import services as svc
from .render import register_rows

shareholders_cli = AppGroup("shareholders", help="Register of shareholders.")


def _organisation(ref: str) -> Organisation:
    """An organisation by id or slug."""
    q = sa.select(Organisation)
    q = q.where(Organisation.id == int(ref)) if ref.isdigit() else q.where(Organisation.slug == ref)
    org = db.session.scalars(q).first()
    if org is None:
        raise click.ClickException(f"no organisation {ref}")
    return org


_ORG = click.option(
    "--organisation", "organisation", required=True, help="Organisation id or slug."
)
_AS_OF = click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None)


@shareholders_cli.command("register")
@_ORG
@_AS_OF
@click.option("--format", "fmt", type=click.Choice(["text", "csv"]), default="text")
@audited_command("shareholders register")
def register(organisation: str, as_of: dt.datetime | None, fmt: str):
    """Print the register of shareholders as of a date (default: everything)."""
    org = _organisation(organisation)
    note(organisation_id=org.id, as_of=str(as_of.date()) if as_of else None, format=fmt)
    try:
        rows = register_rows(org, as_of.date() if as_of else None)
    except DomainError as e:
        raise click.ClickException(str(e.message)) from None
    if fmt == "csv":
        sys.stdout.write(csv_text(rows, bom=False, lineterminator="\n"))
        return
    for row in rows:
        click.echo("\t".join(str(c) for c in row))


@shareholders_cli.command("check")
@_ORG
@_AS_OF
@audited_command("shareholders check")
def check(organisation: str, as_of: dt.datetime | None):
    """Compare the register with the books (3001 and 2232); exit 1 on any difference."""
    org = _organisation(organisation)
    try:
        diffs = svc.check_register(org, as_of.date() if as_of else None)
    except DomainError as e:
        raise click.ClickException(str(e.message)) from None
    note(organisation_id=org.id, differences=len(diffs))
    for d in diffs:
        click.echo(f"{d.account}\t{d.counterparty}\tregister {d.register}\tbooks {d.books}")
    if diffs:
        raise click.exceptions.Exit(1)
    click.echo("register = books")


def register_cli(app) -> None:
    app.cli.add_command(shareholders_cli)
