"""Trial balance (试算平衡表 / 科目余额表): opening, debit, credit and closing per account."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ..models import Account, Book
from .balances import (
    Filters,
    book_accounts,
    check_fund,
    check_range,
    collapse,
    range_sums,
    report_head,
)

__all__ = [
    "TrialBalance",
    "TrialBalanceRow",
    "TrialBalanceTotals",
    "direction",
    "tree_order",
    "trial_balance",
]


def direction(signed: int) -> str:
    """借 for a debit balance, 贷 for a credit balance, 平 for zero (as ledgers print it)."""
    return "借" if signed > 0 else "贷" if signed < 0 else "平"


def split(signed: int) -> tuple[int, int]:
    """A signed balance (debit positive) as (debit column, credit column)."""
    return (signed, 0) if signed > 0 else (0, -signed)


class _Signed(Protocol):
    @property
    def opening(self) -> int: ...

    @property
    def closing(self) -> int: ...


class Directions:
    """借/贷/平 of a row's opening and closing balances, as ledgers print them."""

    @property
    def opening_direction(self: _Signed) -> str:
        return direction(self.opening)

    @property
    def closing_direction(self: _Signed) -> str:
        return direction(self.closing)


@dataclass(frozen=True)
class TrialBalanceRow(Directions):
    """One account's line. Amounts are minor units; ``opening``/``closing`` signed, debit positive.

    ``rollup`` rows are parent accounts summing their sub-accounts (and their own postings, in
    an imported chart where a parent may have some); the totals never add them again.
    """

    account: Account
    level: int
    rollup: bool
    opening: int
    debit: int  # 本期借方发生额
    credit: int  # 本期贷方发生额

    @property
    def closing(self) -> int:
        return self.opening + self.debit - self.credit

    # 期初余额 借/贷 and 期末余额 借/贷: the balance in the column of its direction.
    @property
    def opening_debit(self) -> int:
        return split(self.opening)[0]

    @property
    def opening_credit(self) -> int:
        return split(self.opening)[1]

    @property
    def closing_debit(self) -> int:
        return split(self.closing)[0]

    @property
    def closing_credit(self) -> int:
        return split(self.closing)[1]


@dataclass(frozen=True)
class TrialBalanceTotals:
    """合计: the sums over posting accounts (each amount counted once)."""

    opening_debit: int
    opening_credit: int
    debit: int
    credit: int
    closing_debit: int
    closing_credit: int


@dataclass(frozen=True)
class TrialBalance:
    book_id: int
    start: dt.date
    end: dt.date
    unit: str
    exponent: int
    fund_id: int | None
    rows: list[TrialBalanceRow]
    totals: TrialBalanceTotals

    @property
    def balanced(self) -> bool:
        """Debits equal credits for the opening balances, the movements and the closing balances.
        Always true for a whole book; a fund's subset need not balance."""
        t = self.totals
        return (
            t.opening_debit == t.opening_credit
            and t.debit == t.credit
            and t.closing_debit == t.closing_credit
        )


def tree_order(accounts: Mapping[int, Account], wanted: Iterable[int]) -> list[Account]:
    """``wanted`` accounts in chart order: each parent before its sub-accounts, siblings by code."""
    wanted = set(wanted)
    children: dict[int | None, list[Account]] = defaultdict(list)
    for a in accounts.values():
        if a.id in wanted:
            parent = a.parent_id
            while parent is not None and parent not in wanted:
                parent = accounts[parent].parent_id
            children[parent].append(a)
    out: list[Account] = []

    def walk(parent: int | None) -> None:
        for a in sorted(children.get(parent, ()), key=lambda x: x.code):
            out.append(a)
            walk(a.id)

    walk(None)
    return out


def ancestors(accounts: Mapping[int, Account], account_id: int) -> list[int]:
    out, parent = [], accounts[account_id].parent_id
    while parent is not None:
        out.append(parent)
        parent = accounts[parent].parent_id
    return out


def trial_balance(
    book: Book,
    *,
    start: dt.date,
    end: dt.date,
    fund_id: int | None = None,
    unit: str = "CNY",
    max_level: int | None = None,
) -> TrialBalance:
    """科目余额表 for [start, end]: every posting account with an opening balance or a movement,
    plus a roll-up row for each of their parent accounts, in chart order.

    Opening = all posted movements dated before ``start``; closing = opening + debit − credit.
    Whole months come from the balances table; a start or end inside a month adds a scan of
    that month's lines. ``fund_id`` keeps only lines of that fund; ``max_level`` hides rows
    deeper than that level (1: first-level accounts only) without changing the totals.
    """
    start, end = check_range(start, end)
    check_fund(book, fund_id)
    f = Filters(fund_id=fund_id, unit=unit)
    opening = collapse(range_sums(book, None, start - dt.timedelta(days=1), f), lambda k: k[0])
    moved = collapse(range_sums(book, start, end, f), lambda k: k[0])
    accounts = book_accounts(book)
    own: dict[int, tuple[int, int, int]] = {}
    for acc_id in set(opening) | set(moved):
        o = opening[acc_id][0] - opening[acc_id][1] if acc_id in opening else 0
        dr, cr = moved[acc_id] if acc_id in moved else (0, 0)
        if o or dr or cr:
            own[acc_id] = (o, dr, cr)
    rolled: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for acc_id, amounts in own.items():
        for target in (acc_id, *ancestors(accounts, acc_id)):
            r = rolled[target]
            for i in range(3):
                r[i] += amounts[i]
    rows = [
        TrialBalanceRow(
            account=a,
            level=a.level,
            rollup=a.id not in own or a.has_children,
            opening=rolled[a.id][0],
            debit=rolled[a.id][1],
            credit=rolled[a.id][2],
        )
        for a in tree_order(accounts, rolled)
        if max_level is None or a.level <= max_level
    ]
    od = oc = dr = cr = cd = cc = 0
    for o, d, c in own.values():
        od, oc = od + split(o)[0], oc + split(o)[1]
        dr, cr = dr + d, cr + c
        cd, cc = cd + split(o + d - c)[0], cc + split(o + d - c)[1]
    totals = TrialBalanceTotals(od, oc, dr, cr, cd, cc)
    return TrialBalance(
        **report_head(book, unit, fund_id, start, end),
        rows=rows,
        totals=totals,
    )
