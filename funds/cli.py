# SPDX-License-Identifier: AGPL-3.0-or-later
"""``flask funds …``: the allocation calculator and the fund-statement check."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ledger.amounts import format_minor

from . import allocation

funds_cli = AppGroup("funds", help="Community funds, public finance and their checks.")


def _population(text: str) -> int:
    t = text.strip().replace(",", "").replace("_", "")
    if not t.isdigit():
        raise click.BadParameter(
            f"{text!r} is not a non-negative whole number", param_hint="--population"
        )
    return int(t)


@funds_cli.command("allocation")
@click.option("--kind", type=click.Choice(allocation.KINDS), required=True)
@click.option("--population", required=True, help="Residents (a whole number).")
@click.option(
    "--part-hundreds", type=click.Choice(allocation.MODES), default="floor", show_default=True
)
def allocation_command(kind: str, population: str, part_hundreds: str):
    """The yearly 社区保障资金 of one community (CF-4), in yuan with two decimals."""
    fen = allocation.public_finance(kind, _population(population), part_hundreds)
    sys.stdout.write(format_minor(fen, 2) + "\n")


def register(app) -> None:
    app.cli.add_command(funds_cli)


def _org(org_id: int):
    from core.db import db
    from core.models import Organisation

    org = db.session.get(Organisation, org_id)
    if org is None:
        raise click.BadParameter(f"no organisation {org_id}", param_hint="--org")
    return org


@funds_cli.command("check")
@click.option("--org", "org_id", type=int, required=True, help="The host foundation's id.")
def check_command(org_id: int):
    """Every fund's statement by its records = the ledger's balances for that fund, and no
    endowment below its principal. Exits 1 on any difference."""
    from core.errors import DomainError

    from . import services as fs

    try:
        checks = fs.check_statements(_org(org_id))
    except DomainError as e:
        raise click.ClickException(str(e.message)) from None
    bad = 0
    for c in checks:
        mark = "ok" if c.ok else "DIFFERS"
        bad += not c.ok
        click.echo(
            f"{c.cf.fund.code}\t{format_minor(c.records, 2)}\t{format_minor(c.ledger, 2)}"
            f"\t{format_minor(c.principal, 2)}\t{mark}"
        )
    if bad:
        sys.exit(1)


@funds_cli.command("allocate")
@click.option("--org", "org_id", type=int, required=True, help="The host foundation's id.")
@click.option("--fund", "code", required=True, help="Code of the community's 社区保障资金 fund.")
@click.option("--year", type=int, required=True)
@click.option("--date", "date", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--kind", type=click.Choice(allocation.KINDS), required=True)
@click.option("--population", required=True)
@click.option("--basis", type=click.Choice(allocation.BASES), required=True)
@click.option(
    "--part-hundreds", type=click.Choice(allocation.MODES), default="floor", show_default=True
)
@click.option("--user", "username", required=True, help="The acting preparer's username.")
def allocate_command(org_id, code, year, date, kind, population, basis, part_hundreds, username):
    """Post the year's 社区保障资金 (receivable and grant income) into the community's fund."""
    import sqlalchemy as sa

    from core.db import db
    from core.errors import DomainError
    from core.models import User
    from ledger.models import Fund

    from . import services as fs
    from .models import CommunityFund

    org = _org(org_id)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.BadParameter(f"no user {username}", param_hint="--user")
    cf = db.session.scalar(
        sa.select(CommunityFund)
        .join(Fund, Fund.id == CommunityFund.fund_id)
        .where(CommunityFund.organisation_id == org.id, Fund.code == code)
    )
    if cf is None:
        raise click.BadParameter(f"no community fund {code}", param_hint="--fund")
    try:
        a = fs.record_allocation(
            cf,
            year=year,
            date=date.date(),
            kind=kind,
            population=_population(population),
            population_basis=basis,
            part_hundreds=part_hundreds,
            actor=user,
        )
    except DomainError as e:
        db.session.rollback()
        raise click.ClickException(str(e.message)) from None
    db.session.commit()
    click.echo(f"{format_minor(a.amount, 2)}\tvoucher {a.voucher_id}")
