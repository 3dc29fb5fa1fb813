"""``flask ledger …`` commands: import a beancount file, export a book, print reports.

Each command runs in one transaction: it commits once at the end, or rolls back and stores
nothing. Problems go to stderr as ``FILE:LINE: message`` (like a compiler's), in the chosen
language (``--lang zh`` by default, or ``en``), and the exit code is 1.
"""

from __future__ import annotations

import datetime as dt
import gc
import sys
import unicodedata
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from core.audit import audited_command, note
from core.db import db
from core.downloads import csv_text
from core.errors import DomainError

from . import services as svc
from .amounts import format_minor
from .beancount_export import ExportError, account_names, book_journal, commodity_names
from .beancount_import import ImportProblems, import_journal, read_file
from .plaintext import PlainTextError, write_beancount, write_hledger
from .reports import account_balances
from .reports.balances import book_accounts

ledger_cli = AppGroup("ledger", help="Books, imports, exports and reports.")

LANGS = {"zh": "zh_Hans_CN", "en": "en"}
lang_option = click.option(
    "--lang",
    type=click.Choice(sorted(LANGS)),
    default="zh",
    show_default=True,
    help="Language of messages.",
)


@contextmanager
def _language(lang: str):
    with force_locale(LANGS[lang]):
        yield


@contextmanager
def _no_cyclic_gc():
    """An import allocates millions of small objects and frees almost none until it ends:
    Python's cycle collector would walk them all again and again (about 15% of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fail(lines: list[str], *, rollback: bool = True) -> NoReturn:
    """Print the problems, roll back what the command wrote, exit 1."""
    if rollback:
        db.session.rollback()
    for text in lines:
        click.echo(text, err=True)
    raise click.exceptions.Exit(1)


def _book(book_id: int):
    try:
        return svc.get_book(book_id)
    except DomainError as e:
        _fail([str(e.message)], rollback=False)


# --- import ----------------------------------------------------------------------------------


@ledger_cli.command("import-beancount")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--organisation", "organisation", required=True, help="Name of the new organisation.")
@click.option(
    "--community",
    "community",
    default=None,
    help="Slug of an existing community (default: a community 'imports', created if needed).",
)
@click.option(
    "--allow-future",
    is_flag=True,
    help="Accept transactions dated after today (for this import only).",
)
@lang_option
@audited_command("ledger import-beancount")
def import_beancount(
    file: Path, organisation: str, community: str | None, allow_future: bool, lang: str
):
    """Create an organisation and its book from a beancount FILE; print "book <id>"."""
    note(file=str(file), organisation=organisation, community=community, allow_future=allow_future)
    with _language(lang), _no_cyclic_gc():
        try:
            journal = read_file(file)
            result = import_journal(
                journal,
                organisation_name=organisation,
                community_slug=community,
                allow_future=allow_future,
            )
        except PlainTextError as e:
            _fail([f"{file}:{line}: {msg}" for line, msg in e.messages(lang)])
        except ImportProblems as e:
            _fail(
                [f"{file}:{line}: {msg}" if line else f"{file}: {msg}" for line, msg in e.problems]
            )
        except DomainError as e:
            _fail([f"{file}: {e.message}"])
        db.session.commit()
        note(book_id=result.book.id, vouchers=result.vouchers)
        click.echo(f"organisation {result.organisation.id} {result.organisation.name}")
        click.echo(f"vouchers {result.vouchers}")
        click.echo(f"book {result.book.id}")


# --- export ----------------------------------------------------------------------------------


@ledger_cli.command("export")
@click.option("--book", "book_id", type=int, required=True, help="Book id.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["beancount", "hledger"]),
    default="beancount",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
@lang_option
def export(book_id: int, fmt: str, output: Path | None, lang: str):
    """Write a book's posted vouchers as a beancount or hledger journal."""
    with _language(lang):
        book = _book(book_id)
        try:
            journal = book_journal(book)
        except ExportError as e:
            _fail([str(e)], rollback=False)
        text = write_beancount(journal) if fmt == "beancount" else write_hledger(journal)
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")


# --- reports ---------------------------------------------------------------------------------


@ledger_cli.group("report")
def report():
    """Reports of a book."""


def _width(text: str) -> int:
    """Columns a terminal gives ``text`` (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


@report.command("trial-balance")
@click.option("--book", "book_id", type=int, required=True, help="Book id.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "text"]), default="text", show_default=True
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Balances at the end of this day (default: everything posted).",
)
@lang_option
def trial_balance(book_id: int, fmt: str, as_of: dt.datetime | None, lang: str):
    """Balance of every posting account per unit: account,commodity,balance (debit positive,
    major units). Account and commodity names are those of the beancount export."""
    with _language(lang):
        book = _book(book_id)
        try:
            balances = account_balances(book, as_of=as_of.date() if as_of else None)
            names = account_names(book, book_accounts(book))
            units = commodity_names(book, {b.unit for b in balances})
        except (DomainError, ExportError) as e:
            _fail([str(getattr(e, "message", e))], rollback=False)
        rows = sorted(
            (names[b.account.id], units[b.unit][0], format_minor(b.balance, b.exponent), b.balance)
            for b in balances
            if b.balance
        )
        if fmt == "csv":
            header = [["account", "commodity", "balance"]]
            text = csv_text(header + [list(r[:3]) for r in rows], bom=False, lineterminator="\n")
            click.echo(text, nl=False)
            return
        totals: dict[str, int] = {}
        for _name, unit, _text, minor in rows:
            totals[unit] = totals.get(unit, 0) + minor
        account_w = max([_width(r[0]) for r in rows] + [_width(str(_l("Total")))])
        amount_w = max([len(r[2]) for r in rows] + [1])
        for name, unit, text, _minor in rows:
            click.echo(f"{_pad(name, account_w)}  {_pad(text, amount_w, right=True)} {unit}")
        click.echo("-" * (account_w + amount_w + 6))
        for unit, total in sorted(totals.items()):
            exp = next(e for name, e in units.values() if name == unit)
            click.echo(
                f"{_pad(str(_l('Total')), account_w)}  {_pad(format_minor(total, exp), amount_w, right=True)} {unit}"
            )


# --- PDFs and the audit package (issue 16) -------------------------------------------------


def _month(text: str):
    from core.months import Month

    try:
        return Month.parse(text)
    except (ValueError, DomainError):
        _fail([str(_l("The period must be a month, YYYY-MM."))], rollback=False)


@ledger_cli.command("pdf")
@click.option("--book", "book_id", type=int, required=True, help="Book id.")
@click.option(
    "--statement",
    type=click.Choice(
        [
            "balance-sheet",
            "income-statement",
            "cash-flow",
            "trial-balance",
            "general-ledger",
            "account-detail",
            "fund-statement",
            "voucher",
        ]
    ),
    required=True,
)
@click.option("--period", required=True, help="The month, YYYY-MM.")
@click.option("--voucher", "voucher_number", default=None, help="One voucher's number.")
@click.option("--account", "account_code", default=None, help="Account code (account-detail).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
)
@lang_option
@audited_command("ledger pdf")
def pdf_command(
    book_id: int,
    statement: str,
    period: str,
    voucher_number: str | None,
    account_code: str | None,
    output: Path,
    lang: str,
):
    """Write a statement, book or voucher printout of one month as a PDF."""
    from .pdf import statement_pdf

    note(book_id=book_id, statement=statement, period=period, voucher=voucher_number)
    with _language(lang):
        month = _month(period)
        book = _book(book_id)
        try:
            body = statement_pdf(
                book,
                statement,
                month,
                voucher_number=voucher_number,
                account_code=account_code,
                lang=lang,
            )
        except DomainError as e:
            _fail([str(e.message)], rollback=False)
        output.write_bytes(body)
        click.echo(f"{output} {len(body)} bytes")


@ledger_cli.command("audit-package")
@click.option("--book", "book_id", type=int, required=True, help="Book id.")
@click.option("--period", required=True, help="The month, YYYY-MM.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
)
@lang_option
@audited_command("ledger audit-package")
def audit_package_command(book_id: int, period: str, output: Path, lang: str):
    """Write the audit package (zip) of one month: statements, vouchers, attachments, trial
    balance, audit trail, disclosure bundles and a README on how to verify them."""
    from .audit_package import audit_package

    note(book_id=book_id, period=period)
    with _language(lang):
        month = _month(period)
        book = _book(book_id)
        try:
            body = audit_package(book, month, lang=lang)
        except DomainError as e:
            _fail([str(e.message)], rollback=False)
        output.write_bytes(body)
        click.echo(f"{output} {len(body)} bytes")


def register(app: Flask) -> None:
    app.cli.add_command(ledger_cli)
