"""Cash-flow statements (现金流量表, ledger/reports/cashflow.py): layouts, classification by
counter-account rules and by the treasurer, unclassified movements, and the tie to the change
in 货币资金 on the balance sheet (demo books and random books)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core.db import db
from core.errors import InvalidInput
from ledger import reports
from ledger import services as svc
from ledger.charts import cash_flow_rules, load_layout
from ledger.models import Book
from tests.ledger.conftest import lines
from tests.ledger.test_reports import sme  # noqa: F401  (fixture)

Y = 2025
D = dt.date


def _cash_change(book: Book, start: dt.date, end: dt.date) -> int:
    """货币资金 at ``end`` minus 货币资金 the day before ``start``, read from the balance sheet."""
    closing = reports.balance_sheet(book, as_of=end).amount("cash", "period_end")
    opening = reports.balance_sheet(book, as_of=start - dt.timedelta(days=1)).amount(
        "cash", "period_end"
    )
    return closing - opening


def test_demo_books_tie_to_the_balance_sheet(app):
    from core.demo import load_demo

    ctx = load_demo()
    for org in (ctx.enterprise, ctx.foundation):
        book = db.session.scalar(sa.select(Book).where(Book.organisation_id == org.id))
        first = db.session.scalar(
            sa.text("select min(date) from vouchers where book_id = :b"), {"b": book.id}
        )
        last = db.session.scalar(
            sa.text("select max(date) from vouchers where book_id = :b"), {"b": book.id}
        )
        first = dt.date.fromisoformat(str(first)[:10])
        last = dt.date.fromisoformat(str(last)[:10])
        start = D(last.year, 1, 1)
        cf = reports.cash_flow_statement(book, start=start, end=last)
        print(book.chart, cf.checks, [(ln.key, ln.amounts) for ln in cf.lines])
        col = cf.columns[0].key
        assert cf.amount("net_increase", col) == _cash_change(book, cf.columns[0].start, last)
        assert all(v for k, v in cf.checks.items() if k.startswith("ties_to_balance_sheet"))


def test_tmp_unclassified(app):
    from core.demo import load_demo

    ctx = load_demo()
    book = db.session.scalar(sa.select(Book).where(Book.organisation_id == ctx.foundation.id))
    print(reports.unclassified_cash_lines(book, start=D(2025, 1, 1), end=D(2026, 12, 31)))
