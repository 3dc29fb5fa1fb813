"""``flask ledger …`` commands."""

from flask import Flask
from flask.cli import AppGroup

ledger_cli = AppGroup("ledger", help="Books, imports, exports and reports.")


def register(app: Flask) -> None:
    app.cli.add_command(ledger_cli)
