"""Sums of posted movements for reports, read from the per-period balances table.

``account_period_balances`` holds the debit and credit movements of every (book, account,
fund, unit, month), updated when a voucher is posted (DESIGN.md §3). A report over whole
months reads only that table, so its cost depends on the number of accounts and months, not
on the number of vouchers. A date inside a month needs that month's posted lines up to (or
from) the date: a bounded scan of one month, never of all history.

Every sum here is keyed by :data:`Key` ``(account_id, unit, fund_key, period_key)``; the
dimensions a caller did not ask to group by are ``None`` in the key.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import InstrumentedAttribute

from core.db import MAX_ID, db
from core.errors import InvalidInput

from ..amounts import currency_exponent, is_iso_currency
from ..models import (
    Account,
    AccountPeriodBalance,
    Book,
    BookUnit,
    Fund,
    Voucher,
    VoucherKind,
    VoucherLine,
    VoucherStatus,
)

__all__ = [
    "AccountBalance",
    "account_balances",
    "total_by_unit",
]

#: (account_id, unit, fund_key | None, period_key | None)
Key = tuple[int, str, int | None, int | None]


class _SumsInto(TypedDict):
    """How the helpers of ``range_sums`` group the sums, and the dict they add them to."""

    by_fund: bool
    by_period: bool
    out: dict[Key, list[int]]


POSTED = VoucherStatus.POSTED.value


# --- months -----------------------------------------------------------------------------------


def period_key(d: dt.date) -> int:
    return d.year * 100 + d.month


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def month_end(d: dt.date) -> dt.date:
    """The last day of ``d``'s month, without computing the month after (9999-12 has none;
    and the day before 1900-01-01, a report's "opening" date, is outside ``Month``'s range)."""
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def next_key(key: int) -> int:
    y, m = divmod(key, 100)
    return (y + 1) * 100 + 1 if m == 12 else key + 1


def prev_key(key: int) -> int:
    y, m = divmod(key, 100)
    return (y - 1) * 100 + 12 if m == 1 else key - 1


# --- checks on report arguments ---------------------------------------------------------------


def check_date(value, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if not isinstance(value, dt.date):
        raise InvalidInput(
            _l("Give a date such as 2026-03-31."), errors={field: [str(_l("Not a date."))]}
        )
    return value


def check_range(start, end) -> tuple[dt.date, dt.date]:
    start, end = check_date(start, "start"), check_date(end, "end")
    if start > end:
        raise InvalidInput(
            _l("The start date is after the end date."),
            errors={"start": [str(_l("The start date is after the end date."))]},
        )
    return start, end


def check_fund(book: Book, fund_id: int | None) -> Fund | None:
    if fund_id is None:
        return None
    # An id outside BIGINT would make PostgreSQL fail the query: refuse it here instead.
    valid = isinstance(fund_id, int) and not isinstance(fund_id, bool) and 0 < fund_id <= MAX_ID
    fund = db.session.get(Fund, fund_id) if valid else None
    if fund is None or fund.book_id != book.id:
        raise InvalidInput(
            _l("No such fund in this book."),
            errors={"fund_id": [str(_l("No such fund in this book."))]},
        )
    return fund


def report_head(
    book: Book, unit: str, fund_id: int | None, start: dt.date | None, end: dt.date
) -> dict:
    """The fields every report starts with: whose book, which unit and fund, which dates."""
    return {
        "book_id": book.id,
        "start": start,
        "end": end,
        "unit": unit,
        "exponent": exponent_of(book, unit),
        "fund_id": fund_id,
    }


def exponent_of(book: Book, unit: str) -> int:
    """Minor-unit digits of ``unit`` (0 for a unit the book never declared)."""
    if is_iso_currency(unit):
        return currency_exponent(unit)
    exp = db.session.scalar(
        sa.select(BookUnit.exponent).where(BookUnit.book_id == book.id, BookUnit.code == unit)
    )
    return int(exp or 0)


def book_accounts(book: Book) -> dict[int, Account]:
    """Every account of the book by id (a chart has hundreds of rows at most)."""
    return {
        a.id: a for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
    }


# --- sums -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    fund_id: int | None = None
    unit: str | None = None
    account_ids: Collection[int] | None = None
    fund_ids: Collection[int] | None = None  # any of these funds (fund_id narrows further)


def add_sums(out: dict, key: Key, dr: int, cr: int) -> None:
    s = out[key]
    s[0] += int(dr or 0)
    s[1] += int(cr or 0)


def _table_sums(
    book: Book,
    first: int | None,
    last: int,
    f: Filters,
    *,
    by_fund: bool,
    by_period: bool,
    out: dict,
) -> None:
    """Movements of whole months ``first``..``last`` (YYYYMM, ``first=None``: from the start)."""
    t = AccountPeriodBalance
    cols: list[InstrumentedAttribute[Any]] = [t.account_id, t.unit]
    cols += [t.fund_key] if by_fund else []
    cols += [t.period_key] if by_period else []
    q = sa.select(*cols, sa.func.sum(t.debit), sa.func.sum(t.credit)).where(
        t.book_id == book.id, t.period_key <= last
    )
    if first is not None:
        q = q.where(t.period_key >= first)
    if f.fund_id is not None:
        q = q.where(t.fund_key == f.fund_id)
    if f.fund_ids is not None:
        q = q.where(t.fund_key.in_(list(f.fund_ids) or [-1]))
    if f.unit is not None:
        q = q.where(t.unit == f.unit)
    if f.account_ids is not None:
        q = q.where(t.account_id.in_(list(f.account_ids) or [-1]))
    for row in db.session.execute(q.group_by(*cols)):
        acc, unit, *rest = row
        fk = rest.pop(0) if by_fund else None
        pk = rest.pop(0) if by_period else None
        add_sums(out, (acc, unit, fk, pk), rest[0], rest[1])


def posted_lines(book: Book, start: dt.date, end: dt.date, f: Filters, *, kind: str | None = None):
    """A SELECT of posted lines of ``book`` dated in [start, end] (joined to their voucher)."""
    q = (
        sa.select(VoucherLine)
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(
            Voucher.book_id == book.id, Voucher.status == POSTED, Voucher.date.between(start, end)
        )
    )
    if kind is not None:
        q = q.where(Voucher.kind == kind)
    if f.fund_id is not None:
        q = q.where(VoucherLine.fund_id == f.fund_id)
    if f.fund_ids is not None:
        q = q.where(VoucherLine.fund_id.in_(list(f.fund_ids) or [-1]))
    if f.unit is not None:
        q = q.where(VoucherLine.unit == f.unit)
    if f.account_ids is not None:
        q = q.where(VoucherLine.account_id.in_(list(f.account_ids) or [-1]))
    return q


def _line_sums(
    book: Book,
    start: dt.date,
    end: dt.date,
    f: Filters,
    *,
    by_fund: bool,
    by_period: bool,
    out: dict,
    kind: str | None = None,
    sign: int = 1,
) -> None:
    """Movements of posted lines dated in [start, end], which lie in one month when by_period."""
    ln = VoucherLine
    fund_key = sa.func.coalesce(ln.fund_id, 0)
    cols = [ln.account_id, ln.unit] + ([fund_key] if by_fund else [])
    q = (
        posted_lines(book, start, end, f, kind=kind)
        .with_only_columns(*cols, sa.func.sum(ln.debit), sa.func.sum(ln.credit))
        .group_by(*cols)
    )
    if by_period:
        assert period_key(start) == period_key(end), "a line scan grouped by month covers one month"
    pk = period_key(start) if by_period else None
    for row in db.session.execute(q):
        acc, unit, *rest = row
        fk = rest.pop(0) if by_fund else None
        add_sums(out, (acc, unit, fk, pk), sign * int(rest[0] or 0), sign * int(rest[1] or 0))


def _part_of_month(book: Book, a: dt.date, b: dt.date, f: Filters, kw: _SumsInto) -> None:
    """Movements of [a, b] within one month: the table's row when it is the whole month;
    otherwise a scan of the shorter of the range and the rest of the month (the month's
    table row minus the rest), so no more than half a month of lines is ever read."""
    first, last = month_start(a), month_end(a)
    key = period_key(a)
    if a == first and b == last:
        _table_sums(book, key, key, f, **kw)
    elif 2 * ((b - a).days + 1) <= last.day:
        _line_sums(book, a, b, f, **kw)
    else:
        _table_sums(book, key, key, f, **kw)
        if a > first:
            _line_sums(book, first, a - dt.timedelta(days=1), f, sign=-1, **kw)
        if b < last:
            _line_sums(book, b + dt.timedelta(days=1), last, f, sign=-1, **kw)


def range_sums(
    book: Book,
    start: dt.date | None,
    end: dt.date,
    f: Filters = Filters(),
    *,
    by_fund: bool = False,
    by_period: bool = False,
    exclude_closing: bool = False,
) -> dict[Key, list[int]]:
    """Debit and credit movements of posted vouchers dated in [start, end] (``start=None``:
    from the first voucher). Whole months come from the balances table; a partial first or
    last month needs a scan of at most half of that month's lines (``_part_of_month``).
    An account whose movements in the range cancel out may or may not have a key (with
    zero sums), depending on the path taken: callers treat zero sums as no activity.

    ``exclude_closing`` leaves out the year-end closing vouchers (结转), as flow statements
    must; there are a handful per year, all dated 31 December, so subtracting them is a
    small lookup.
    """
    out: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    kw: _SumsInto = {"by_fund": by_fund, "by_period": by_period, "out": out}
    if start is not None and period_key(start) == period_key(end):
        _part_of_month(book, start, end, f, kw)
    else:
        first_full: int | None = None
        if start is not None:
            first_full = period_key(start)
            if start.day != 1:
                _part_of_month(book, start, month_end(start), f, kw)
                first_full = next_key(first_full)
        last_full = period_key(end)
        if end != month_end(end):
            _part_of_month(book, month_start(end), end, f, kw)
            last_full = prev_key(last_full)
        if first_full is None or first_full <= last_full:
            _table_sums(book, first_full, last_full, f, **kw)
    if exclude_closing:
        # Year-end closing vouchers are dated 31 December (ledger.services makes them so), which
        # lets the index on (book, status, date) find them without reading a year of vouchers.
        if start is None:
            raise ValueError("exclude_closing needs a start date")
        year_ends = [
            d
            for d in (dt.date(y, 12, 31) for y in range(start.year, end.year + 1))
            if start <= d <= end
        ]
        if year_ends:
            ln = VoucherLine
            q = (
                posted_lines(book, start, end, f, kind=VoucherKind.CLOSING.value)
                .where(Voucher.date.in_(year_ends))
                .with_only_columns(
                    ln.account_id,
                    ln.unit,
                    sa.func.coalesce(ln.fund_id, 0),
                    Voucher.date,
                    ln.debit,
                    ln.credit,
                )
            )
            for acc, unit, fk, d, dr, cr in db.session.execute(q):
                add_sums(
                    out,
                    (acc, unit, fk if by_fund else None, period_key(d) if by_period else None),
                    -dr,
                    -cr,
                )
    return out


def balances_as_of(
    book: Book, as_of: dt.date | None, f: Filters = Filters(), *, by_fund: bool = False
) -> dict[Key, list[int]]:
    """Cumulative debit and credit totals of every posted movement dated on or before ``as_of``
    (all of them when ``as_of`` is None)."""
    if as_of is None:
        out: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
        _table_sums(book, None, 999912, f, by_fund=by_fund, by_period=False, out=out)
        return out
    return range_sums(book, None, as_of, f, by_fund=by_fund)


def collapse(sums: dict[Key, list[int]], key) -> dict:
    """Re-group sums by ``key(k)``: e.g. ``lambda k: (k[0], k[1])`` for (account, unit)."""
    out: dict = defaultdict(lambda: [0, 0])
    for k, (dr, cr) in sums.items():
        s = out[key(k)]
        s[0] += dr
        s[1] += cr
    return out


# --- account balances (the CLI's trial balance, beancount/hledger comparisons) ----------------


@dataclass(frozen=True)
class AccountBalance:
    """Totals of one posting account in one unit. ``balance`` is signed, debit positive."""

    account: Account
    unit: str
    exponent: int  # minor-unit digits of ``unit``
    debit_total: int
    credit_total: int

    @property
    def balance(self) -> int:
        return self.debit_total - self.credit_total


def account_balances(
    book: Book, *, as_of: dt.date | None = None, fund_id: int | None = None, unit: str | None = None
) -> list[AccountBalance]:
    """Debit and credit totals of every posting account with activity, per unit, of posted
    vouchers dated on or before ``as_of`` (all of them when None), optionally of one fund and
    one unit. Ordered by account code, then unit. An account whose debit and credit totals
    are both zero is left out: e.g. one whose only voucher was reversed (红字冲销 subtracts
    from the same side).

    Reads the balances table, plus one month's lines when ``as_of`` is inside a month.
    """
    if as_of is not None:
        as_of = check_date(as_of, "as_of")
    check_fund(book, fund_id)
    sums = balances_as_of(book, as_of, Filters(fund_id=fund_id, unit=unit))
    accounts = book_accounts(book)
    exponents: dict[str, int] = {}
    out = []
    for (acc_id, u, _fk, _pk), (dr, cr) in sums.items():
        if not dr and not cr:
            continue
        if u not in exponents:
            exponents[u] = exponent_of(book, u)
        out.append(
            AccountBalance(
                account=accounts[acc_id],
                unit=u,
                exponent=exponents[u],
                debit_total=dr,
                credit_total=cr,
            )
        )
    out.sort(key=lambda b: (b.account.code, b.unit))
    return out


def total_by_unit(balances: Iterable[AccountBalance]) -> dict[str, int]:
    """Sum of signed balances per unit: zero for every unit of a whole book (each voucher
    balances per unit), non-zero for a fund or account subset."""
    out: dict[str, int] = defaultdict(int)
    for b in balances:
        out[b.unit] += b.balance
    return dict(sorted(out.items()))
