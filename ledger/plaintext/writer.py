"""Writing a ``PTJournal`` as beancount or hledger text."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from .journal import (
    PTBalance,
    PTJournal,
    format_units,
    is_valid_account_name,
    is_valid_commodity,
)

# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

_FLAGS = frozenset("*!&#?%") | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _quote(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _validate_for_output(journal: PTJournal) -> None:
    problems = []
    opened = set()
    for acc in journal.accounts:
        if not is_valid_account_name(acc.name):
            problems.append(
                f"invalid beancount account name {acc.name!r} (use beancount_account_name)"
            )
        opened.add(acc.name)
    for c in journal.commodities:
        if not is_valid_commodity(c):
            problems.append(f"invalid beancount commodity {c!r} (use beancount_commodity_name)")
    for txn in journal.transactions:
        sums: dict[str, int] = {}
        for p in txn.postings:
            if p.account not in opened:
                problems.append(
                    f"{txn.date} {txn.narration!r}: account {p.account!r} is not in journal.accounts"
                )
            if p.commodity not in journal.commodities:
                problems.append(
                    f"{txn.date}: commodity {p.commodity!r} missing from journal.commodities"
                )
            sums[p.commodity] = sums.get(p.commodity, 0) + p.units
        if any(sums.values()):
            problems.append(f"{txn.date} {txn.narration!r}: postings do not balance {sums}")
        if len(problems) > 20:
            break
    if problems:
        raise ValueError("cannot write journal: " + "; ".join(problems[:20]))


def _earliest(journal: PTJournal) -> datetime.date:
    dates = [a.open_date for a in journal.accounts]
    if journal.transactions:
        dates.append(journal.transactions[0].date)
    if journal.balances:
        dates.append(journal.balances[0].date)
    return min(dates) if dates else datetime.date(1970, 1, 1)


def _dated_items(journal: PTJournal):
    """Balances and transactions in date order; a day's balances come before its
    transactions (that is also when both tools check them)."""
    txns = sorted(journal.transactions, key=lambda t: t.date)
    bals = sorted(journal.balances, key=lambda b: (b.date, b.line))
    i = j = 0
    while i < len(txns) or j < len(bals):
        if j < len(bals) and (i >= len(txns) or bals[j].date <= txns[i].date):
            yield bals[j]
            j += 1
        else:
            yield txns[i]
            i += 1


def write_beancount(
    journal: PTJournal,
    *,
    title: str | None = None,
    operating_currencies: Iterable[str] | None = None,
) -> str:
    """Beancount text that ``bean-check`` accepts, every amount explicit and exact."""
    _validate_for_output(journal)
    exps = journal.commodities
    out: list[str] = []
    out.append(
        f'option "title" {_quote(title if title is not None else journal.title or "Commons Ledger")}'
    )
    ops = (
        tuple(operating_currencies)
        if operating_currencies is not None
        else journal.operating_currencies
    )
    if not ops and "CNY" in exps:
        ops = ("CNY",)
    for c in ops:
        out.append(f'option "operating_currency" "{c}"')
    out.append("")
    first = _earliest(journal).isoformat()
    for c in exps:
        out.append(f"{first} commodity {c}")
    out.append("")
    for acc in journal.accounts:
        line = f"{acc.open_date.isoformat()} open {acc.name}"
        if acc.currencies:
            line += " " + ",".join(acc.currencies)
        out.append(line)
    out.append("")
    for item in _dated_items(journal):
        if isinstance(item, PTBalance):
            amount = format_units(item.units, exps[item.commodity])
            tol = (
                f" ~ {format_units(item.tolerance, exps[item.commodity])}" if item.tolerance else ""
            )
            out.append(
                f"{item.date.isoformat()} balance {item.account}  {amount}{tol} {item.commodity}"
            )
            continue
        flag = item.flag if item.flag in _FLAGS else "*"
        head = f"{item.date.isoformat()} {flag}"
        if item.payee is not None:
            head += " " + _quote(item.payee)
        head += " " + _quote(item.narration)
        out.append(head)
        for p in item.postings:
            out.append(f"  {p.account}  {format_units(p.units, exps[p.commodity])} {p.commodity}")
    closes = [(a.close_date, a.name) for a in journal.accounts if a.close_date is not None]
    if closes:
        out.append("")
        for close_date, name in sorted(closes, key=lambda c: c[0]):
            out.append(f"{close_date.isoformat()} close {name}")
    out.append("")
    return "\n".join(out)


def _hledger_text(text: str) -> str:
    # ';' starts a comment in hledger and '|' separates payee from note.
    return " ".join(text.replace(";", "；").split())


def _hledger_commodity(c: str) -> str:
    return c if c.isalpha() else f'"{c}"'


def write_hledger(journal: PTJournal) -> str:
    """hledger journal text. Balance assertions become subaccount-inclusive ``=*``
    assertions in a zero posting dated on the assertion day, placed before that day's
    transactions: hledger checks them at the start of the day like beancount.
    In descriptions ``;`` becomes ``；`` (hledger would read a comment)."""
    _validate_for_output(journal)
    exps = journal.commodities
    out = [f"; {_hledger_text(journal.title or 'Commons Ledger')}", ""]
    for c, exp in exps.items():
        sample = "1000." + "0" * exp if exp else "1000."
        out.append(f"commodity {sample} {_hledger_commodity(c)}")
    out.append("")
    for acc in journal.accounts:
        out.append(f"account {acc.name}")
    out.append("")
    for item in _dated_items(journal):
        if isinstance(item, PTBalance):
            exp = exps[item.commodity]
            c = _hledger_commodity(item.commodity)
            out.append(f"{item.date.isoformat()} * balance assertion (line {item.line})")
            out.append(f"    {item.account}    0 {c} =* {format_units(item.units, exp)} {c}")
            out.append("")
            continue
        flag = " !" if item.flag == "!" else " *"
        desc = _hledger_text(item.narration)
        if item.payee is not None:
            desc = f"{_hledger_text(item.payee).replace('|', '/')} | {desc}"
        out.append(f"{item.date.isoformat()}{flag} {desc}".rstrip())
        for p in item.postings:
            c = _hledger_commodity(p.commodity)
            out.append(f"    {p.account}    {format_units(p.units, exps[p.commodity])} {c}")
        out.append("")
    return "\n".join(out)
