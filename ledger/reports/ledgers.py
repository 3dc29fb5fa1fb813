"""Books of account: general ledger (总账) and account detail (明细账)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import InvalidInput
from core.months import Month

from ..models import Account, Book, Voucher, VoucherLine
from .balances import (
    Filters,
    book_accounts,
    check_fund,
    check_range,
    collapse,
    posted_lines,
    range_sums,
    report_head,
)
from .trial_balance import Directions, direction, tree_order

__all__ = [
    "AccountDetail",
    "DetailLine",
    "GeneralLedger",
    "LedgerAccount",
    "LedgerMonth",
    "account_detail",
    "general_ledger",
    "subtree",
]


def subtree(accounts: Mapping[int, Account], root_id: int) -> set[int]:
    """The account and every sub-account below it."""
    children: dict[int, list[int]] = defaultdict(list)
    for a in accounts.values():
        if a.parent_id is not None:
            children[a.parent_id].append(a.id)
    out, todo = set(), [root_id]
    while todo:
        n = todo.pop()
        out.add(n)
        todo.extend(children.get(n, ()))
    return out


def _no_such_account() -> InvalidInput:
    return InvalidInput(
        _l("No such account in this book."),
        errors={"account": [str(_l("No such account in this book."))]},
    )


# --- general ledger (总账) ---------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerMonth:
    """One month of an account in the general ledger: 本月合计 and 本年累计, then the balance.

    When the report starts or ends inside a month, that month's row covers only the days in
    the range (``start``..``end``); 本年累计 still counts from 1 January.
    """

    period_key: int  # YYYYMM
    start: dt.date
    end: dt.date
    debit: int
    credit: int
    year_debit: int  # 本年累计借方
    year_credit: int  # 本年累计贷方
    balance: int  # signed, debit positive, at ``end``

    @property
    def label(self) -> str:
        return str(Month.from_key(self.period_key))

    @property
    def direction(self) -> str:
        return direction(self.balance)


@dataclass(frozen=True)
class LedgerAccount(Directions):
    account: Account
    opening: int  # signed, debit positive (期初余额 / 上年结转)
    months: list[LedgerMonth]

    @property
    def debit(self) -> int:
        return sum(m.debit for m in self.months)

    @property
    def credit(self) -> int:
        return sum(m.credit for m in self.months)

    @property
    def closing(self) -> int:
        return self.opening + self.debit - self.credit


@dataclass(frozen=True)
class GeneralLedger:
    book_id: int
    start: dt.date
    end: dt.date
    unit: str
    exponent: int
    fund_id: int | None
    accounts: list[LedgerAccount]


def general_ledger(
    book: Book,
    *,
    start: dt.date,
    end: dt.date,
    account_ids: Collection[int] | None = None,
    fund_id: int | None = None,
    unit: str | None = None,
) -> GeneralLedger:
    """总账 for [start, end]: per account its opening balance, each month's debit and credit
    with the year to date and the balance after the month, and its closing balance.

    ``account_ids=None`` gives every first-level account with a balance or a movement (the
    classic 总账); otherwise the accounts named, each summing its sub-accounts. Months without
    movement are left out. Read from the balances table (plus a one-month scan for a start
    or end inside a month). ``unit`` defaults to the book's base unit.
    """
    start, end = check_range(start, end)
    check_fund(book, fund_id)
    unit = unit or book.base_unit
    accounts = book_accounts(book)
    if account_ids is None:
        targets = [a for a in accounts.values() if a.parent_id is None]
    else:
        asked = list(account_ids)
        if any(not isinstance(i, int) or i not in accounts for i in asked):
            raise _no_such_account()
        targets = [accounts[i] for i in dict.fromkeys(asked)]
    members = {t.id: subtree(accounts, t.id) for t in targets}
    covered = set().union(*members.values()) if members else set()
    f = Filters(
        fund_id=fund_id, unit=unit, account_ids=covered if account_ids is not None else None
    )
    moved = collapse(range_sums(book, start, end, f, by_period=True), lambda k: (k[0], k[3]))
    # 本年累计 needs this year's movements before ``start``; the opening balance is those plus
    # everything before the year, so each month is read once.
    year_start = dt.date(start.year, 1, 1)
    before = (
        collapse(range_sums(book, year_start, start - dt.timedelta(days=1), f), lambda k: k[0])
        if start > year_start
        else {}
    )
    opening = collapse(range_sums(book, None, year_start - dt.timedelta(days=1), f), lambda k: k[0])
    for acc_id, (dr, cr) in before.items():
        opening[acc_id][0] += dr
        opening[acc_id][1] += cr
    ordered = tree_order(accounts, [t.id for t in targets]) if account_ids is None else targets
    out = []
    for t in ordered:
        ids = members[t.id]
        o = sum(opening[i][0] - opening[i][1] for i in ids if i in opening)
        per_month: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for (acc_id, pk), (dr, cr) in moved.items():
            if acc_id in ids:
                per_month[pk][0] += dr
                per_month[pk][1] += cr
        ydr = sum(before[i][0] for i in ids if i in before)
        ycr = sum(before[i][1] for i in ids if i in before)
        months, bal, year = [], o, start.year
        for pk in sorted(per_month):
            dr, cr = per_month[pk]
            if not dr and not cr:
                continue
            month = Month.from_key(pk)
            if month.year != year:
                year, ydr, ycr = month.year, 0, 0
            ydr, ycr, bal = ydr + dr, ycr + cr, bal + dr - cr
            months.append(
                LedgerMonth(
                    period_key=pk,
                    start=max(start, month.first_day),
                    end=min(end, month.last_day),
                    debit=dr,
                    credit=cr,
                    year_debit=ydr,
                    year_credit=ycr,
                    balance=bal,
                )
            )
        if account_ids is None and not o and not months:
            continue
        out.append(LedgerAccount(account=t, opening=o, months=months))
    return GeneralLedger(
        **report_head(book, unit, fund_id, start, end),
        accounts=out,
    )


# --- account detail (明细账) -------------------------------------------------------------------


@dataclass(frozen=True)
class DetailLine:
    date: dt.date
    voucher_id: int
    number: str  # 凭证号 记-2026-03-0001
    summary: str  # 摘要
    memo: str
    account_id: int  # the posting account (a sub-account when the report is of a parent)
    fund_id: int | None
    debit: int
    credit: int
    balance: int  # running balance after this line, signed, debit positive

    @property
    def direction(self) -> str:
        return direction(self.balance)


@dataclass(frozen=True)
class AccountDetail(Directions):
    book_id: int
    account: Account
    start: dt.date
    end: dt.date
    unit: str
    exponent: int
    fund_id: int | None
    opening: int  # signed, debit positive
    lines: list[DetailLine]

    @property
    def debit(self) -> int:
        return sum(ln.debit for ln in self.lines)

    @property
    def credit(self) -> int:
        return sum(ln.credit for ln in self.lines)

    @property
    def closing(self) -> int:
        return self.opening + self.debit - self.credit


def account_detail(
    book: Book,
    account: Account | int,
    *,
    start: dt.date,
    end: dt.date,
    fund_id: int | None = None,
    unit: str | None = None,
) -> AccountDetail:
    """明细账 of ``account`` (with its sub-accounts) for [start, end]: the opening balance from
    the balances table, then every posted line in date and posting order with voucher number,
    summary, debit, credit and the running balance with its direction (借/贷/平).

    Listing the lines is a scan of this account's lines in the range, which is what the
    report is; the opening never scans more than one month.
    """
    start, end = check_range(start, end)
    check_fund(book, fund_id)
    unit = unit or book.base_unit
    accounts = book_accounts(book)
    acc_id = account.id if isinstance(account, Account) else account
    if isinstance(acc_id, bool) or not isinstance(acc_id, int) or acc_id not in accounts:
        raise _no_such_account()
    acc = accounts[acc_id]
    ids = subtree(accounts, acc_id)
    f = Filters(fund_id=fund_id, unit=unit, account_ids=ids)
    opening = sum(
        dr - cr for dr, cr in range_sums(book, None, start - dt.timedelta(days=1), f).values()
    )
    ln = VoucherLine
    q = (
        posted_lines(book, start, end, f)
        .with_only_columns(
            Voucher.date,
            Voucher.id,
            Voucher.number,
            Voucher.summary,
            ln.memo,
            ln.account_id,
            ln.fund_id,
            ln.debit,
            ln.credit,
        )
        .order_by(Voucher.date, Voucher.log_index, ln.line_no)
    )
    out, bal = [], opening
    for d, vid, number, summary, memo, line_acc, fund, dr, cr in db.session.execute(q):
        bal += dr - cr
        out.append(
            DetailLine(
                date=d,
                voucher_id=vid,
                number=number or "",
                summary=summary,
                memo=memo or "",
                account_id=line_acc,
                fund_id=fund,
                debit=dr,
                credit=cr,
                balance=bal,
            )
        )
    return AccountDetail(
        **report_head(book, unit, fund_id, start, end),
        account=acc,
        opening=opening,
        lines=out,
    )
