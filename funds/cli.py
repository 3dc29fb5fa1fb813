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
