"""The one set of rules every voucher meets, whoever sends it: the entry form when a draft is
saved or submitted, the posting engine under the book's lock, a bulk import or billing run.

What the rules read about the book (accounts, funds, units, residents, organisations) is
gathered in :class:`BookFacts` once, for one voucher or a whole batch, so checking 100,000
vouchers reads the chart once and the rules themselves are plain Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import privacy
from core.db import db
from core.models import Organisation, Resident
from core.months import Month

from ..amounts import MAX_LINE_AMOUNT, currency_exponent, format_minor, is_iso_currency
from ..models import Account, Book, BookUnit, Fund
from .inputs import LineInput, Problems, VoucherInput

Checked = list[tuple[LineInput, Account, "Fund | None"]]

# A batch this long reads the book's whole chart (one query) rather than the accounts it names.
_WHOLE_CHART = 50


class BookFacts:
    """Accounts, funds, units, residents and organisations the rules look up, read once."""

    def __init__(
        self,
        book: Book,
        accounts: dict[int, Account],
        funds: dict[int, Fund],
        *,
        today: dt.date | None = None,
    ):
        self.book = book
        self.accounts = {i: a for i, a in accounts.items() if a.book_id == book.id}
        self.funds = {i: f for i, f in funds.items() if f.book_id == book.id}
        # What the rules read of each, read once (ORM attribute access costs, per line).
        self.account_facts = {
            i: (a, a.active, a.has_children, a.restriction) for i, a in self.accounts.items()
        }
        self.fund_facts = {i: (f, f.active, f.restricted) for i, f in self.funds.items()}
        self.today = today or dt.date.today()
        self._exponents: dict[str, int | None] = {}
        self.residents: dict[int, Resident | None] = {}
        self._organisations: dict[int, bool] = {}
        self._limits: tuple = (None, None, None)
        self._summary_problems: dict[str, list] = {}

    def date_limits(self) -> tuple[dt.date, dt.date | None]:
        """The latest date a voucher may have, and the last day of the last closed month."""
        book = self.book
        key = (book.max_future_days, book.closed_through)
        if self._limits[0] != key:
            latest = self.today + dt.timedelta(days=book.max_future_days)
            closed = (
                Month.from_key(book.closed_through).last_day
                if book.closed_through is not None
                else None
            )
            self._limits = (key, latest, closed)
        return self._limits[1], self._limits[2]

    @classmethod
    def read(
        cls, book: Book, inputs: Sequence[VoucherInput], *, today: dt.date | None = None
    ) -> BookFacts:
        """The facts ``inputs`` need: the accounts and funds they name (the whole chart for a
        long batch) and their residents, one query each."""
        lines = [li for data in inputs for li in (data.lines or ())]
        whole = len(inputs) >= _WHOLE_CHART
        account_ids = {li.account_id for li in lines if isinstance(li.account_id, int)}
        fund_ids = {li.fund_id for li in lines if isinstance(li.fund_id, int)}
        accounts = _by_id(Account, book, None if whole else account_ids)
        funds = _by_id(Fund, book, None if whole else fund_ids) if fund_ids else {}
        facts = cls(book, accounts, funds, today=today)
        facts.read_residents(li.resident_id for li in lines)
        return facts

    def read_residents(self, ids: Iterable) -> None:
        wanted = {i for i in ids if isinstance(i, int)} - set(self.residents)
        if wanted:
            found = {
                r.id: r
                for r in db.session.scalars(sa.select(Resident).where(Resident.id.in_(wanted)))
            }
            self.residents.update({i: found.get(i) for i in wanted})

    def summary_problems(self, summary: str) -> list:
        """What ``core.privacy`` finds in a summary; an import or a billing run repeats a few
        summaries thousands of times, so each distinct one is screened once per batch."""
        problems = self._summary_problems.get(summary)
        if problems is None:
            problems = privacy.check_free_text(self.book.community_id, summary)
            self._summary_problems[summary] = problems
        return problems

    def exponent(self, unit: str) -> int | None:
        """Minor-unit digits of a unit this book accepts, or None."""
        try:
            return self._exponents[unit]
        except KeyError:
            exp = self._exponents[unit] = unit_exponent(self.book, unit)
            return exp

    def resident(self, resident_id: int) -> Resident | None:
        if resident_id not in self.residents:
            self.residents[resident_id] = db.session.get(Resident, resident_id)
        return self.residents[resident_id]

    def organisation_exists(self, org_id: int) -> bool:
        if org_id not in self._organisations:
            self._organisations[org_id] = db.session.get(Organisation, org_id) is not None
        return self._organisations[org_id]


def _by_id(model, book: Book, ids: set | None) -> dict:
    if ids is not None and not ids:
        return {}
    q = sa.select(model).where(model.book_id == book.id)
    if ids is not None:
        q = q.where(model.id.in_(ids))
    return {row.id: row for row in db.session.scalars(q)}


def unit_exponent(book: Book, code: str) -> int | None:
    """Minor-unit digits of a unit this book accepts, or None."""
    if is_iso_currency(code):
        return currency_exponent(code)
    return db.session.scalar(
        sa.select(BookUnit.exponent).where(BookUnit.book_id == book.id, BookUnit.code == code)
    )


def validate_voucher(
    facts: BookFacts, data: VoucherInput, *, allow_negative: bool = False, min_lines: int = 2
) -> Checked:
    """Every rule a voucher must meet (InvalidInput naming each problem); returns its lines
    with their accounts and funds."""
    p = Problems()
    summary = (data.summary or "").strip()
    if not summary:
        p.add("summary", _l("Write a summary (摘要) of what happened."))
    elif len(summary) > 300:
        p.add("summary", _l("The summary is longer than 300 characters."))
    else:
        # The summary is signed into the public record for good: no person's name, phone, ID
        # number or flat in it (the resident belongs in the line's counterparty field).
        for message in facts.summary_problems(summary):
            p.add("summary", message)
    d = data.date
    if not isinstance(d, dt.date):
        p.add("date", _l("The date is missing."))
    else:
        latest, closed_end = facts.date_limits()
        if d > latest:
            p.add("date", _l("The date %(date)s is in the future.", date=d.isoformat()))
        if closed_end is not None and d <= closed_end:
            p.add("date", _l("The period %(period)s is closed.", period=str(Month.of(d))))
    if not (0 <= int(data.attachment_count or 0) <= 9999):
        p.add("attachment_count", _l("The number of attachments must be between 0 and 9999."))
    lines = list(data.lines or [])
    if len(lines) < min_lines:
        p.add("lines", _l("A voucher needs at least two lines."))
    checked = _check_lines(facts, p, lines, allow_negative)
    p.raise_if_any()
    return checked


def _check_lines(facts: BookFacts, p: Problems, lines: list, allow_negative: bool) -> Checked:
    accounts, funds, base_unit = facts.account_facts, facts.fund_facts, facts.book.base_unit
    totals: dict[str, list[int]] = {}
    checked: Checked = []
    for i, li in enumerate(lines, start=1):
        debit, credit = li.debit, li.credit
        if type(debit) is not int or type(credit) is not int:
            p.add(f"lines.{i}", _l("Line %(n)d: amounts must be whole numbers of fen.", n=i))
            continue
        problems = []
        if (debit != 0) == (credit != 0):
            problems.append(
                _l(
                    "Line %(n)d: enter either a debit or a credit amount, not both and not neither.",
                    n=i,
                )
            )
        elif not allow_negative and (debit < 0 or credit < 0):
            problems.append(_l("Line %(n)d: amounts are never negative.", n=i))
        elif abs(debit) > MAX_LINE_AMOUNT or abs(credit) > MAX_LINE_AMOUNT:
            problems.append(_l("Line %(n)d: the amount is too large for one line.", n=i))
        acc_facts = accounts.get(li.account_id)
        acc = restriction = None
        if acc_facts is None:
            problems.append(_l("Line %(n)d: no such account in this book.", n=i))
        else:
            acc, active, has_children, restriction = acc_facts
            if not active:
                problems.append(_l("Line %(n)d: account %(code)s is inactive.", n=i, code=acc.code))
            elif has_children:
                problems.append(
                    _l(
                        "Line %(n)d: account %(code)s has sub-accounts; choose one of them.",
                        n=i,
                        code=acc.code,
                    )
                )
        unit = li.unit or base_unit
        if facts.exponent(unit) is None:
            problems.append(_l("Line %(n)d: unknown unit %(unit)s.", n=i, unit=unit))
        fund = None
        fund_restricted = False
        if li.fund_id is not None:
            fund_facts = funds.get(li.fund_id)
            if fund_facts is None:
                problems.append(_l("Line %(n)d: no such fund in this book.", n=i))
            else:
                fund, fund_active, fund_restricted = fund_facts
                if not fund_active:
                    problems.append(
                        _l("Line %(n)d: the fund %(code)s is closed.", n=i, code=fund.code)
                    )
        if restriction is not None:
            if restriction == "restricted" and (fund is None or not fund_restricted):
                problems.append(
                    _l(
                        "Line %(n)d: restricted revenue and restricted net assets must name a restricted fund.",
                        n=i,
                    )
                )
            if restriction == "unrestricted" and fund is not None and fund_restricted:
                problems.append(
                    _l("Line %(n)d: a restricted fund cannot receive unrestricted revenue.", n=i)
                )
        if li.resident_id is not None:
            r = facts.resident(li.resident_id)
            if r is None or r.community_id != facts.book.community_id:
                problems.append(_l("Line %(n)d: no such resident in this community.", n=i))
        if li.counterparty_org_id is not None and not facts.organisation_exists(
            li.counterparty_org_id
        ):
            problems.append(_l("Line %(n)d: no such organisation.", n=i))
        for message in problems:
            p.add(f"lines.{i}", message)
        t = totals.get(unit)
        if t is None:
            totals[unit] = [debit, credit]
        else:
            t[0] += debit
            t[1] += credit
        if acc is not None:  # else a problem was recorded, and validate_voucher raises
            checked.append((li, acc, fund))
    if not p.errors:
        for unit, (dr, cr) in sorted(totals.items()):
            if dr != cr:
                exp = facts.exponent(unit) or 0
                p.add(
                    "lines",
                    _l(
                        "Debits (%(dr)s) and credits (%(cr)s) in %(unit)s differ by %(diff)s.",
                        dr=format_minor(dr, exp),
                        cr=format_minor(cr, exp),
                        unit=unit,
                        diff=format_minor(abs(dr - cr), exp),
                    ),
                )
    return checked
