# SPDX-License-Identifier: AGPL-3.0-or-later
"""``flask property …``: the monthly billing run, remuneration, and the unit-balance check."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from core.db import db
from core.months import Month

from . import governance as gv
from . import services as pt

group = AppGroup("property", help="Property trust (信托制物业).")


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError:
        raise click.BadParameter(f"not a month (YYYY-MM): {text}") from None


def _compound(compound_id: int):
    from core.errors import NotFound

    try:
        return pt.get_compound(compound_id)
    except NotFound:
        raise click.BadParameter(f"no compound {compound_id}") from None


def _refused(e) -> None:
    db.session.rollback()
    click.echo(f"refused: {e.message}", err=True)
    sys.exit(1)


@group.command("bill")
@click.option("--compound", "compound_id", type=int, required=True)
@click.option("--month", required=True, help="YYYY-MM")
def bill(compound_id: int, month: str) -> None:
    """Bill every unit of the compound for a month (once per month)."""
    from core.errors import DomainError

    c, m = _compound(compound_id), _month(month)
    try:
        res = pt.bill_month(c, m, actor=None)
    except DomainError as e:
        _refused(e)
        return
    db.session.commit()
    click.echo(
        f"{m}: {res.bills} bills, {pt.yuan(res.total)} yuan ({pt.yuan(res.from_advance)} from advances)"
    )


@group.command("remunerate")
@click.option("--compound", "compound_id", type=int, required=True)
@click.option("--month", required=True, help="YYYY-MM")
def remunerate(compound_id: int, month: str) -> None:
    """Compute and post the month's remuneration."""
    from core.errors import DomainError

    c, m = _compound(compound_id), _month(month)
    try:
        r = gv.run_remuneration(c, m, actor=None)
    except DomainError as e:
        _refused(e)
        return
    db.session.commit()
    click.echo(
        f"{m}: base {pt.yuan(r.base)} × {r.rate} → {pt.yuan(r.amount)} yuan {r.bound}".strip()
    )


@group.command("check")
@click.option("--compound", "compound_id", type=int, required=True)
def check(compound_id: int) -> None:
    """Unit balances = ledger 1122 / 2203 per owner; exits 1 on any difference."""
    diffs = pt.check_consistency(_compound(compound_id))
    for d in diffs:
        click.echo(
            f"resident {d.resident_id} account {d.account}: units {pt.yuan(d.domain)} ledger {pt.yuan(d.ledger)}"
        )
    if diffs:
        sys.exit(1)
    click.echo("ok: unit balances equal the ledger's 1122 and 2203 per owner")


@group.command("statement")
@click.option("--compound", "compound_id", type=int, required=True)
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--published", is_flag=True, help="the copy published with the report")
def statement(compound_id: int, month: str, published: bool) -> None:
    """The month's owners' statement as JSON (``--published``: as frozen with the report)."""
    import json

    import sqlalchemy as sa

    from .models import PublishedStatement
    from .statement import monthly_statement, snapshot

    c, m = _compound(compound_id), _month(month)
    if published:
        row = db.session.scalar(
            sa.select(PublishedStatement).where(
                PublishedStatement.compound_id == c.id, PublishedStatement.month == m.key
            )
        )
        if row is None:
            click.echo(f"refused: no statement of {m} has been published", err=True)
            sys.exit(1)
        click.echo(row.figures)
        click.echo(f"sha256 {row.sha256} report {row.report_id}", err=True)
        return
    click.echo(json.dumps(snapshot(monthly_statement(c, m)), ensure_ascii=False, sort_keys=True))
