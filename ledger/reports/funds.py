"""Fund statement (基金收支情况表): what each fund had, received, spent and moved in a period."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from core.db import db

from ..models import Book, Fund
from .balances import Filters, book_accounts, check_fund, check_range, range_sums, report_head

__all__ = ["FundRow", "FundStatement", "fund_statement"]

# The accounts whose fund-tagged amounts make up a fund's balance: what it received and spent,
# and the net assets (or equity) it has been closed into.
FUND_BALANCE_TYPES = ("revenue", "expense", "net_assets", "equity")


@dataclass(frozen=True)
class FundRow:
    """One fund. Amounts are minor units, credit positive (a fund's balance is a claim on the
    organisation's assets, like net assets)."""

    fund: Fund
    opening: int  # 期初结余
    revenue: int  # 本期收入
    expense: int  # 本期支出 (positive)
    transfers: int  # 本期转入(+)/转出(−) of net assets, e.g. between funds
    closing: int  # 期末结余

    @property
    def restricted(self) -> bool:
        return self.fund.restricted

    @property
    def consistent(self) -> bool:
        return self.closing == self.opening + self.revenue - self.expense + self.transfers


@dataclass(frozen=True)
class FundStatement:
    book_id: int
    start: dt.date
    end: dt.date
    unit: str
    exponent: int
    fund_id: int | None
    rows: list[FundRow]

    @property
    def totals(self) -> dict[str, int]:
        return {
            name: sum(getattr(r, name) for r in self.rows)
            for name in ("opening", "revenue", "expense", "transfers", "closing")
        }

    @property
    def checks(self) -> dict[str, bool]:
        return {
            "closing_is_opening_plus_revenue_minus_expense_plus_transfers": all(
                r.consistent for r in self.rows
            )
        }


def fund_statement(
    book: Book, *, start: dt.date, end: dt.date, fund_id: int | None = None, unit: str | None = None
) -> FundStatement:
    """Per fund of the book (in code order; only ``fund_id`` when given), in ``unit``
    (default: the base unit):

    * balance of a fund at a date = Σ (credit − debit) of every posted line tagged with the
      fund on revenue, expense, net-asset and equity accounts up to that date. Closing entries
      move amounts between these accounts within the same fund, so they do not change it;
    * ``opening`` = the balance before ``start``; ``closing`` = the balance at ``end``;
    * ``revenue`` = credit − debit on revenue accounts in the period, ``expense`` = debit −
      credit on expense accounts, both without the year-end closing vouchers;
    * ``transfers`` = credit − debit on net-asset and equity accounts in the period without the
      closing vouchers: money moved into (+) or out of (−) the fund directly, e.g. from another
      fund or an owners' deposit to a repair fund. Releases from restriction (3102 → 3101 of
      the same fund) net to zero here.

    So closing = opening + revenue − expense + transfers (``FundRow.consistent``). Asset and
    liability lines carrying a fund do not enter a fund's balance: where its money is kept is
    a separate question from how much of it there is.
    """
    start, end = check_range(start, end)
    check_fund(book, fund_id)
    unit = unit or book.base_unit
    q = sa.select(Fund).where(Fund.book_id == book.id).order_by(Fund.code)
    funds = list(db.session.scalars(q if fund_id is None else q.where(Fund.id == fund_id)))
    accounts = book_accounts(book)
    ids = [a.id for a in accounts.values() if a.type in FUND_BALANCE_TYPES]
    f = Filters(unit=unit, account_ids=ids, fund_ids=[x.id for x in funds])

    def credit_positive(sums, types) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for (acc, _u, fk, _pk), (dr, cr) in sums.items():
            if accounts[acc].type in types:
                out[fk] += cr - dr
        return out

    before = credit_positive(
        range_sums(book, None, start - dt.timedelta(days=1), f, by_fund=True), FUND_BALANCE_TYPES
    )
    after = credit_positive(range_sums(book, None, end, f, by_fund=True), FUND_BALANCE_TYPES)
    moved = range_sums(book, start, end, f, by_fund=True, exclude_closing=True)
    revenue = credit_positive(moved, ("revenue",))
    expense = credit_positive(moved, ("expense",))
    transfers = credit_positive(moved, ("net_assets", "equity"))
    rows = [
        FundRow(
            fund=x,
            opening=before[x.id],
            revenue=revenue[x.id],
            expense=-expense[x.id],
            transfers=transfers[x.id],
            closing=after[x.id],
        )
        for x in funds
    ]
    return FundStatement(
        **report_head(book, unit, fund_id, start, end),
        rows=rows,
    )
