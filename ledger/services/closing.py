"""Year-end closing (年末结转): the closing entries of each accounting standard."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import Conflict
from core.models import User
from core.months import Month

from .. import policy
from ..charts import year_end_rules
from ..models import Account, AccountPeriodBalance, Book, Fund, Voucher, VoucherKind
from ..posting import LineInput, VoucherInput
from .books import account_by_code, parent_org
from .vouchers import post_system_voucher


def _year_movements(book: Book, year: int, types: Sequence[str]) -> list[tuple[Account, int, int]]:
    """(account, fund_key, debit − credit) for the year, base unit, of accounts of ``types``."""
    rows = db.session.execute(
        sa.select(
            Account,
            AccountPeriodBalance.fund_key,
            sa.func.sum(AccountPeriodBalance.debit - AccountPeriodBalance.credit),
        )
        .join(Account, Account.id == AccountPeriodBalance.account_id)
        .where(
            AccountPeriodBalance.book_id == book.id,
            AccountPeriodBalance.unit == book.base_unit,
            AccountPeriodBalance.period_key.between(Month(year, 1).key, Month(year, 12).key),
            Account.type.in_(types),
        )
        .group_by(Account.id, AccountPeriodBalance.fund_key)
        .order_by(Account.code, AccountPeriodBalance.fund_key)
    ).all()
    return [(a, fk, int(net)) for a, fk, net in rows if net]


def needs_year_end_closing(book: Book, year: int) -> bool:
    return bool(_year_movements(book, year, ("revenue", "expense")))


def _account(book: Book, code: str) -> Account:
    acc = account_by_code(book, code)
    if acc is None:
        raise Conflict(_l("The book has no account %(code)s, needed for closing.", code=code))
    return acc


def _zeroing_line(account_id: int, fund_key: int, net: int, unit: str) -> LineInput:
    """The line that brings a balance of ``net`` (debit − credit) to zero."""
    fund = fund_key or None
    return LineInput(
        account_id=account_id,
        fund_id=fund,
        unit=unit,
        debit=-net if net < 0 else 0,
        credit=net if net > 0 else 0,
    )


def generate_year_end_closing(book: Book, year: int, *, actor: User) -> list[Voucher]:
    """Generate and post the year-end closing entries of the book's standard:

    - SME_2011: revenue and expenses → 3103 本年利润, then 3103 → 3104 利润分配.
    - NPO_2004 and NPO_2024: unrestricted revenue and all expenses → 3101, restricted revenue →
      3102; then the restriction released by spending: restricted-fund expenses 3102 → 3101.
    - TRUST_FUND: revenue and expenses → 3101 共有基金结余.

    The method and the accounts come from ``ledger/charts/year_end.json`` (NPO_2024's rules are
    carried forward from NPO_2004 until verified, ledger/charts/README.md).
    """
    policy.require(parent_org(book.id), "close", user=actor)
    if book.closed_through is not None and book.closed_through >= Month(year, 12).key:
        raise Conflict(_l("%(year)d is closed.", year=year))
    movements = _year_movements(book, year, ("revenue", "expense"))
    if not movements:
        raise Conflict(
            _l(
                "Nothing to close: revenue and expense accounts of %(year)d are already at zero.",
                year=year,
            )
        )
    unit = book.base_unit
    date = dt.date(year, 12, 31)
    made = []

    def close(summary, lines: list[LineInput]) -> Voucher:
        """Post one closing voucher on 31 December, approved by the rule that made it."""
        data = VoucherInput(date, str(summary), lines)
        return post_system_voucher(
            book, data, kind=VoucherKind.CLOSING, actor=actor, source="closing"
        )

    try:
        rules = year_end_rules(book.chart)
    except KeyError:
        rules = year_end_rules("TRUST_FUND")  # a custom chart: close to 3101, as before
    if rules.method == "sme":
        target = _account(book, rules.code("current_year_profit"))
        lines = [_zeroing_line(a.id, fk, net, unit) for a, fk, net in movements]
        lines += _offsets(target.id, movements, unit, by_fund=True)
        made.append(close(_l("Year-end: close revenue and expenses to current-year profit"), lines))
        profit = _year_movements(book, year, ("equity",))
        profit = [(a, fk, net) for a, fk, net in profit if a.id == target.id]
        total = sum(net for _a, _fk, net in profit)
        if total:
            dist = _account(book, rules.code("profit_distribution"))
            lines = [_zeroing_line(target.id, fk, net, unit) for _a, fk, net in profit]
            lines += _offsets(dist.id, profit, unit, by_fund=True)
            made.append(
                close(_l("Year-end: transfer current-year profit to profit distribution"), lines)
            )
    elif rules.method == "npo":
        unrestricted = _account(book, rules.code("unrestricted_net_assets"))
        restricted = _account(book, rules.code("restricted_net_assets"))
        lines = [_zeroing_line(a.id, fk, net, unit) for a, fk, net in movements]
        restricted_funds = {
            f.id
            for f in db.session.scalars(
                sa.select(Fund).where(Fund.book_id == book.id, Fund.restricted)
            )
        }
        # Restricted revenue: on a 限定性 sub-account, or on any revenue account with a restricted fund.
        to_restricted = [
            (a, fk, net)
            for a, fk, net in movements
            if a.type == "revenue" and (a.restriction == "restricted" or fk in restricted_funds)
        ]
        to_unrestricted = [m for m in movements if m not in to_restricted]
        lines += _offsets(restricted.id, to_restricted, unit, by_fund=True)
        lines += _offsets(unrestricted.id, to_unrestricted, unit, by_fund=True)
        made.append(close(_l("Year-end: close revenue and expenses to net assets"), lines))
        released: dict[int, int] = defaultdict(int)
        for a, fk, net in movements:
            if a.type == "expense" and fk in restricted_funds:
                released[fk] += net
        rel_lines = []
        for fk, amount in sorted(released.items()):
            if amount > 0:
                rel_lines += [
                    LineInput(account_id=restricted.id, fund_id=fk, unit=unit, debit=amount),
                    LineInput(account_id=unrestricted.id, fund_id=fk, unit=unit, credit=amount),
                ]
        if rel_lines:
            made.append(
                close(
                    _l("Year-end: release restricted net assets used for their purpose"), rel_lines
                )
            )
    else:
        target = _account(book, rules.code("fund_balance"))
        lines = [_zeroing_line(a.id, fk, net, unit) for a, fk, net in movements]
        lines += _offsets(target.id, movements, unit, by_fund=True)
        made.append(close(_l("Year-end: close income and expenditure to the fund balance"), lines))
    return made


def _offsets(target_id: int, movements, unit: str, *, by_fund: bool) -> list[LineInput]:
    per_fund: dict[int, int] = defaultdict(int)
    for _a, fk, net in movements:
        per_fund[fk if by_fund else 0] += net
    # The target takes the opposite of what the zeroing lines moved: the net itself.
    return [
        LineInput(
            account_id=target_id,
            fund_id=fk or None,
            unit=unit,
            debit=net if net > 0 else 0,
            credit=-net if net < 0 else 0,
        )
        for fk, net in sorted(per_fund.items())
        if net
    ]


_needs_year_end_closing = needs_year_end_closing
