"""Export a book as plain-text accounting (``flask ledger export``): beancount or hledger.

The book becomes a neutral ``PTJournal`` (one transaction per posted voucher, in date and
posting order) that ``ledger.plaintext`` writes; beancount's ``bean-check`` accepts the result
and re-totals it to our balances (the tests check both with the real programs).

Account names
    * A book with a standard chart (SME_2011, NPO_2004, NPO_2024, TRUST_FUND): ``Root:{code}-{name}``
      built by ``plaintext.beancount_account_name`` (``Assets:1002-银行存款``), sub-accounts
      nested under their parent (``Assets:1002-银行存款:100201-工商银行``). beancount rejects a
      component that starts with a Chinese character, hence the code first. Root by type:
      asset → Assets, cost → Assets (SME 成本类 accounts such as 4001 生产成本 are inventories
      on the balance sheet, ledger/charts/README.md), liability → Liabilities, equity and
      net_assets → Equity, revenue → Income, expense → Expenses.
    * A CUSTOM book (a beancount import): the original names, kept as account codes.
Amounts
    A line's units are debit − credit in the unit's minor units: a red reversal (红字冲销),
    whose amounts are negative, comes out as ordinary postings with the opposite sign.
    Non-currency units get beancount commodity names (``points`` → ``POINTS``).
Not exported: funds, counterparties and attachments (beancount has no such dimensions),
voucher numbers (the narration is the summary, 摘要).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import sqlalchemy as sa

from core.db import db

from .amounts import is_iso_currency
from .models import Account, AccountPeriodBalance, Book, Voucher, VoucherLine, VoucherStatus
from .plaintext import (
    PTAccount,
    PTJournal,
    PTPosting,
    PTTransaction,
    beancount_account_name,
    beancount_commodity_name,
    is_valid_account_name,
    write_beancount,
    write_hledger,
)
from .reports.balances import exponent_of

__all__ = [
    "ROOT_BY_TYPE",
    "ExportError",
    "account_names",
    "book_journal",
    "commodity_names",
    "export_beancount",
    "export_hledger",
]

ROOT_BY_TYPE: dict[str, str] = {
    "asset": "Assets",
    "cost": "Assets",
    "liability": "Liabilities",
    "equity": "Equity",
    "net_assets": "Equity",
    "revenue": "Income",
    "expense": "Expenses",
}


class ExportError(ValueError):
    """The book cannot be written as plain text (two accounts or units map to one name)."""


def account_names(book: Book, accounts: Mapping[int, Account]) -> dict[int, str]:
    """The plain-text name of every account of ``book`` (see the module docstring)."""
    names: dict[int, str] = {}

    def name_of(acc: Account) -> str:
        known = names.get(acc.id)
        if known is not None:
            return known
        if book.chart == "CUSTOM" and is_valid_account_name(acc.code):
            name = acc.code
        else:
            parent = (
                name_of(accounts[acc.parent_id])
                if acc.parent_id is not None and acc.parent_id in accounts
                else ROOT_BY_TYPE[acc.type]
            )
            name = beancount_account_name(parent, acc.code, acc.name_zh)
        names[acc.id] = name
        return name

    for acc in accounts.values():
        name_of(acc)
    seen: dict[str, int] = {}
    for acc_id, name in names.items():
        if name in seen:
            raise ExportError(
                f"accounts {accounts[seen[name]].code} and {accounts[acc_id].code} "
                f"would both be written as {name}"
            )
        seen[name] = acc_id
    return names


def commodity_names(book: Book, units: set[str]) -> dict[str, tuple[str, int]]:
    """unit → (beancount commodity, minor-unit exponent)."""
    out: dict[str, tuple[str, int]] = {}
    taken: dict[str, str] = {}
    for unit in sorted(units):
        name = unit if is_iso_currency(unit) else beancount_commodity_name(unit)
        if name in taken:
            raise ExportError(f"units {taken[name]} and {unit} would both be written as {name}")
        taken[name] = unit
        out[unit] = (name, exponent_of(book, unit))
    return out


def book_journal(book: Book) -> PTJournal:
    """Every posted voucher of ``book`` as a plain-text journal, in date and posting order."""
    accounts = {
        a.id: a for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
    }
    names = account_names(book, accounts)
    t = AccountPeriodBalance
    used = db.session.execute(
        sa.select(t.account_id, t.unit).where(t.book_id == book.id).distinct()
    ).all()
    commodities = commodity_names(book, {u for _a, u in used})
    rows = db.session.execute(
        sa.select(
            Voucher.id,
            Voucher.date,
            Voucher.summary,
            VoucherLine.account_id,
            VoucherLine.unit,
            VoucherLine.debit,
            VoucherLine.credit,
        )
        .join(VoucherLine, VoucherLine.voucher_id == Voucher.id)
        .where(Voucher.book_id == book.id, Voucher.status == VoucherStatus.POSTED.value)
        .order_by(Voucher.date, Voucher.log_index, VoucherLine.line_no)
    )
    transactions: list[PTTransaction] = []
    current = None
    head: tuple[dt.date, str] | None = None  # the current voucher's date and summary
    postings: list[PTPosting] = []
    for vid, d, s, acc_id, unit, debit, credit in rows:
        if vid != current:
            if head is not None:
                transactions.append(PTTransaction(*head, None, tuple(postings)))
            current, head, postings = vid, (d, s), []
        postings.append(PTPosting(names[acc_id], int(debit) - int(credit), commodities[unit][0]))
    if head is not None:
        transactions.append(PTTransaction(*head, None, tuple(postings)))
    opened = transactions[0].date if transactions else dt.date.today()
    used_ids = sorted({a for a, _u in used}, key=lambda i: names[i])
    return PTJournal(
        accounts=tuple(PTAccount(names[i], names[i].split(":", 1)[0], opened) for i in used_ids),
        transactions=tuple(transactions),
        balances=(),
        commodities={name: exp for name, exp in sorted(commodities.values())},
        title=book.name,
        operating_currencies=(book.base_unit,) if is_iso_currency(book.base_unit) else (),
    )


def export_beancount(book: Book) -> str:
    return write_beancount(book_journal(book))


def export_hledger(book: Book) -> str:
    return write_hledger(book_journal(book))
