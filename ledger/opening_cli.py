"""``flask ledger opening import``: a book's opening balances from a 科目余额表 CSV or from
another book's closing balances, stored as the draft of the openings (ledger.opening).

One transaction: on any problem (the file does not balance, names an account the chart lacks,
has a bad amount …) nothing is stored, the problems go to stderr and the exit code is 1.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

from core.audit import audited_command, note
from core.db import db
from core.errors import DomainError
from core.models import User
from core.months import Month

from . import opening
from . import services as svc
from .cli import _book, _fail, _language, lang_option, ledger_cli

opening_cli = AppGroup("opening", help="Opening balances (期初余额).")


def _problems(e: DomainError, where: str) -> list[str]:
    lines = [f"{where}: {e.message}"]
    for _key, messages in sorted(e.errors.items()):
        lines.extend(f"{where}: {m}" for m in messages if m != str(e.message))
    return lines


@opening_cli.command("import")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--book", "book_id", required=True, type=int, help="Id of the book.")
@click.option("--user", "username", required=True, help="The preparer (制单) entering them.")
@click.option("--date", "date", default=None, help="Date of the openings, YYYY-MM-DD.")
@click.option(
    "--from-book", "from_book", type=int, default=None, help="Another book's closing balances."
)
@click.option(
    "--as-of", "as_of", default=None, help="With --from-book: through this month, YYYY-MM."
)
@lang_option
@audited_command("ledger opening import")
def import_openings(file, book_id, username, date, from_book, as_of, lang):
    """Enter the openings of book ID from FILE.csv (a 科目余额表) or from --from-book."""
    note(book_id=book_id, file=str(file) if file else None, from_book=from_book)
    with _language(lang):
        where = str(file) if file else f"book {from_book}"
        if (file is None) == (from_book is None):
            _fail([str(_l("Give either a CSV file or --from-book, not both."))], rollback=False)
        book = _book(book_id)
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            _fail([str(_l("No user %(name)s.", name=username))], rollback=False)
        try:
            day = dt.date.fromisoformat(date) if date else None
            month = Month.parse(as_of) if as_of else None
        except ValueError:
            _fail([str(_l("Dates are YYYY-MM-DD and months YYYY-MM."))], rollback=False)
        try:
            if file is not None:
                rows = opening.drop_rollups(book, opening.read_balance_csv(file.read_bytes()))
            else:
                rows = opening.rows_from_book(_book(from_book), month)
            v = opening.save_opening(book, rows, actor=user, date=day)
        except DomainError as e:
            _fail(_problems(e, where))
        totals = opening.totals_of(v.lines)
        db.session.commit()
        click.echo(f"voucher {v.id}")
        for unit, (dr, cr) in totals.items():
            exp = svc.unit_exponent(book, unit) or 0
            click.echo(
                str(
                    _l(
                        "%(unit)s: debits %(dr)s = credits %(cr)s",
                        unit=unit,
                        dr=opening.format_minor(dr, exp),
                        cr=opening.format_minor(cr, exp),
                    )
                )
            )


def register(app: Flask) -> None:
    """Attach ``opening`` to the ``ledger`` group (the group is shared by every app)."""
    ledger_cli.add_command(opening_cli)
    from . import transition_cli  # noqa: F401  (adds ``ledger transition-npo2024``)
