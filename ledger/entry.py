"""One parser from submitted voucher text to ``ledger.services.VoucherInput``.

Both the HTML entry form (``ledger.views.vouchers``) and the JSON API (``ledger.api``) hand
what was typed or sent to ``parse_entry``: the date, the summary, the attachment count and,
per line, the account, the amounts, the fund, the unit, the memo, the resident and the
counterparty organisation. The rules are the same for both — ASCII-digit amounts exact in
the line's unit, bounded integers and dates (``core.parse``), no NUL or bidi controls in
summaries and memos — and every problem is reported at once, keyed ``date``, ``summary``,
``attachment_count``, ``lines`` and ``lines.N`` (``lines.N.debit``, ``lines.N.credit``,
``lines.N.memo`` for a problem with one cell), like the services do.

Where the two differ is only in how a line names its account and fund: the API sends codes
(``accounts="code"``, ``funds="code"``); the form's account cell takes what a person types
("1002", "1002 银行存款" or a unique name: ``accounts="typed"``) and its fund cell is a
fund's id from a list (``funds="id"``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import parse
from core.db import db
from core.errors import Conflict, InvalidInput
from core.months import Month

from . import services as svc
from .amounts import parse_amount
from .models import Account, Book, Fund

__all__ = [
    "MAX_MEMO",
    "MAX_SUMMARY",
    "AccountLookup",
    "EntryText",
    "LineText",
    "closable_month",
    "parse_amount_text",
    "parse_entry",
]

MAX_SUMMARY = 300
MAX_MEMO = 300
MAX_ATTACHMENTS = 9999

# What a person types for an amount: ASCII digits, grouping commas, one decimal point, maybe ¥.
# parse_amount alone would also take "1e3" and non-ASCII digits (Decimal does); this refuses them.
_AMOUNT_TEXT = re.compile(r"-?[¥￥]?[0-9][0-9,，\s]*(\.[0-9]*)?|-?[¥￥]?\.[0-9]+")


@dataclass
class LineText:
    """One line as submitted (text, not yet resolved)."""

    account: str = ""
    debit: str | None = None
    credit: str | None = None
    fund: str | None = None
    unit: str | None = None
    memo: str = ""
    resident_id: int | None = None
    counterparty_org_id: int | None = None

    @property
    def blank(self) -> bool:
        return not any(
            (s or "").strip() for s in (self.account, self.debit, self.credit, self.memo)
        )


@dataclass
class EntryText:
    """A voucher as submitted: ``date`` is text (form) or a date (API, already a date)."""

    date: str | dt.date | None
    summary: str
    lines: list[LineText]
    attachment_count: str | int | None = 0


def parse_amount_text(text: str | None, exponent: int, *, allow_negative: bool = False) -> int:
    """Exact minor units of an amount cell; blank is 0. Negative only on a red reversal."""
    if text is None:
        return 0
    if not isinstance(text, str):
        return parse_amount(text, exponent)  # refuses floats and the like with its message
    text = text.strip()
    if not text:
        return 0
    if len(text) > 40 or not _AMOUNT_TEXT.fullmatch(text):
        raise InvalidInput(_l("%(value)s is not an amount.", value=text[:40]))
    if allow_negative and text.startswith("-"):
        return -parse_amount(text[1:], exponent)
    return parse_amount(text, exponent)


class AccountLookup:
    """Resolve what was typed in an account cell: "1002", "1002 银行存款", or a unique name."""

    def __init__(self, book: Book):
        self.by_code: dict[str, Account] = {}
        self.by_name: dict[str, list[Account]] = {}
        for a in db.session.scalars(
            sa.select(Account).where(Account.book_id == book.id).order_by(Account.code)
        ):
            self.by_code[a.code] = a
            for name in {a.name_zh, a.name_en} - {""}:
                self.by_name.setdefault(name, []).append(a)

    def find(self, text: str) -> Account | None:
        text = " ".join(text.split())
        if not text:
            return None
        first = text.split(" ", 1)[0]
        if first in self.by_code:
            return self.by_code[first]
        named = self.by_name.get(text, [])
        return named[0] if len(named) == 1 else None


def _storable(texts: set[str]) -> set[str]:
    """The texts a database can be asked about: a lone surrogate or NUL (JSON can carry both)
    names no account or fund, and sending it to the database raised (found by fuzzing)."""
    return {t for t in texts if parse.text_problem(t) is None}


def _account_ids_by_code(book: Book, codes: set[str]) -> dict[str, int]:
    codes = _storable(codes)
    if not codes:
        return {}
    return dict(
        db.session.execute(
            sa.select(Account.code, Account.id).where(
                Account.book_id == book.id, Account.code.in_(codes)
            )
        ).all()
    )


def _fund_ids(book: Book, lines: list[LineText], funds: str) -> dict[str, int]:
    """Submitted fund text → fund id, for the funds of this book that the lines name."""
    texts = _storable({(ln.fund or "").strip() for ln in lines} - {""})
    if not texts:
        return {}
    if funds == "code":
        rows = db.session.execute(
            sa.select(Fund.code, Fund.id).where(Fund.book_id == book.id, Fund.code.in_(texts))
        ).all()
        return dict(rows)
    ids = {}
    for t in texts:
        try:
            ids[t] = parse.int_id(t)
        except InvalidInput:
            continue
    found = set(
        db.session.scalars(
            sa.select(Fund.id).where(Fund.book_id == book.id, Fund.id.in_(set(ids.values())))
        )
    )
    return {t: i for t, i in ids.items() if i in found}


def parse_entry(
    book: Book,
    entry: EntryText,
    *,
    allow_negative: bool = False,
    accounts: Literal["code", "typed"] = "code",
    funds: Literal["code", "id"] = "code",
) -> svc.VoucherInput:
    """Submitted text → ``VoucherInput``, or ``InvalidInput`` listing every problem."""
    p = svc.Problems()
    date = None
    try:
        date = parse.date(entry.date, field="date")
    except InvalidInput as e:
        p.add("date", e.message)
    summary = entry.summary or ""
    try:
        summary = parse.text(summary, field="summary", max_length=MAX_SUMMARY, strip=False)
    except InvalidInput as e:
        p.add("summary", e.message)
    count = 0
    raw_count = entry.attachment_count
    if raw_count is None or (isinstance(raw_count, str) and not raw_count.strip()):
        raw_count = 0
    try:
        count = parse.bounded_int(
            raw_count,
            0,
            MAX_ATTACHMENTS,
            field="attachment_count",
            message=_l("The number of attachments must be between 0 and 9999."),
        )
    except InvalidInput as e:
        p.add("attachment_count", e.message)

    rows = entry.lines
    lookup = AccountLookup(book) if accounts == "typed" else None
    by_code = (
        _account_ids_by_code(book, {(r.account or "").strip() for r in rows})
        if lookup is None
        else {}
    )
    fund_ids = _fund_ids(book, rows, funds)
    exponents: dict[str, int | None] = {}
    lines = []
    for n, r in enumerate(rows, start=1):
        key = f"lines.{n}"
        text = (r.account or "").strip()
        if lookup is not None:
            acc = lookup.find(text)
            account_id = acc.id if acc is not None else None
        else:
            account_id = by_code.get(text)
        if account_id is None and lookup is None:
            p.add(key, _l("Line %(n)d: no such account in this book.", n=n))
        elif account_id is None:
            p.add(
                key,
                _l(
                    "Line %(n)d: no account %(text)s. Type its code or choose it from the list.",
                    n=n,
                    text=text[:40] or "—",
                ),
            )
        fund_id = None
        fund_text = (r.fund or "").strip()
        if fund_text:
            fund_id = fund_ids.get(fund_text)
            if fund_id is None:
                p.add(key, _l("Line %(n)d: no such fund in this book.", n=n))
        memo = r.memo or ""
        try:
            memo = parse.text(memo, field=f"{key}.memo", max_length=MAX_MEMO)
        except InvalidInput as e:
            p.add(f"{key}.memo", _l("Line %(n)d: %(problem)s", n=n, problem=e.message))
        unit = r.unit or book.base_unit
        if unit not in exponents:
            exponents[unit] = svc.unit_exponent(book, unit) if _storable({unit}) else None
        exp = exponents[unit]
        if exp is None:
            p.add(key, _l("Line %(n)d: unknown unit %(unit)s.", n=n, unit=unit[:24]))
            continue
        amounts = {}
        for side in ("debit", "credit"):
            try:
                amounts[side] = parse_amount_text(
                    getattr(r, side), exp, allow_negative=allow_negative
                )
            except InvalidInput as e:
                p.add(f"{key}.{side}", _l("Line %(n)d: %(problem)s", n=n, problem=e.message))
        if account_id is not None and len(amounts) == 2:
            lines.append(
                svc.LineInput(
                    account_id=account_id,
                    debit=amounts["debit"],
                    credit=amounts["credit"],
                    unit=unit,
                    fund_id=fund_id,
                    memo=memo,
                    resident_id=r.resident_id,
                    counterparty_org_id=r.counterparty_org_id,
                )
            )
    if not rows:
        p.add("lines", _l("A voucher needs at least two lines."))
    p.raise_if_any()
    assert date is not None  # else a problem was recorded and raised
    return svc.VoucherInput(date=date, summary=summary, lines=lines, attachment_count=count)


def closable_month(book: Book, month: Month) -> Month:
    """Refuse (409, with the services' own message) a month that starts after the latest date
    the book accepts, before any code computes the month after it: 9999-12 has none."""
    latest = dt.date.today() + dt.timedelta(days=book.max_future_days)
    if month.first_day > latest:
        raise Conflict(_l("A month in the future cannot be closed."))
    return month
