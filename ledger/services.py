"""Ledger use cases. The only code that writes money (DESIGN.md §1, §3).

Each function takes typed arguments, checks the rules, writes, records history and flushes;
the caller (request or CLI command) commits once.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from core.auth import require_role
from core.db import db, utcnow
from core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from core.models import Organisation, Resident, Role, User

from . import forked, log
from .amounts import MAX_LINE_AMOUNT, currency_exponent, is_iso_currency
from .charts import load_chart
from .models import (
    Account,
    AccountPeriodBalance,
    Book,
    BookPolicyChange,
    BookUnit,
    Fund,
    Period,
    PeriodEvent,
    Voucher,
    VoucherEvent,
    VoucherKind,
    VoucherLine,
    VoucherStatus,
)

PREPARE_ROLES = (Role.ADMIN, Role.PREPARER)
REVIEW_ROLES = (Role.ADMIN, Role.REVIEWER)
POST_ROLES = (Role.ADMIN, Role.PREPARER, Role.REVIEWER)
CLOSE_ROLES = (Role.ADMIN, Role.REVIEWER)
VOUCHER_PREFIX = "记"
UNPOSTED = (VoucherStatus.DRAFT.value, VoucherStatus.SUBMITTED.value, VoucherStatus.APPROVED.value)

# NPO revenue accounts split into 非限定性 / 限定性 sub-accounts when a book is created.
NPO_SPLIT_REVENUE = ("4101", "4401")


# Extension points for the layers above the ledger, which the ledger may not import
# (DESIGN.md §1): transparency creates the organisation's signing key with its book, and
# refuses to reopen a month that a published report covers.
BOOK_CREATED_HOOKS: list = []  # fn(book) after a book is created
REOPEN_GUARDS: list = []  # fn(book, period_key) raising a DomainError to refuse


@dataclass(frozen=True)
class LineInput:
    account_id: int
    debit: int = 0
    credit: int = 0
    unit: str = "CNY"
    fund_id: int | None = None
    memo: str = ""
    resident_id: int | None = None
    counterparty_org_id: int | None = None


@dataclass(frozen=True)
class VoucherInput:
    date: dt.date
    summary: str
    lines: Sequence[LineInput]
    attachment_count: int = 0


@dataclass
class Problems:
    """Collects field errors so a treasurer sees every problem at once."""

    errors: dict = field(default_factory=dict)
    first: object = None

    def add(self, key: str, message) -> None:
        self.errors.setdefault(key, []).append(str(message))
        if self.first is None:
            self.first = message

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.first, errors=self.errors)


# --- books, accounts, funds, units -----------------------------------------------------------


def book_for(organisation: Organisation) -> Book:
    book = db.session.scalar(sa.select(Book).where(Book.organisation_id == organisation.id))
    if book is None:
        raise NotFound(_l("This organisation has no book yet."))
    return book


def get_book(book_id: int) -> Book:
    book = db.session.get(Book, book_id)
    if book is None:
        raise NotFound(_l("No such book."))
    return book


def create_book(
    organisation: Organisation, *, chart: str | None = None, name: str | None = None
) -> Book:
    """Open the organisation's book with the chart of accounts of its standard (or an empty
    chart, ``chart="CUSTOM"``, for imports that bring their own)."""
    if db.session.scalar(sa.select(Book.id).where(Book.organisation_id == organisation.id)):
        raise Conflict(_l("This organisation already keeps a book."))
    chart = chart or organisation.standard
    book = Book(
        community_id=organisation.community_id,
        organisation_id=organisation.id,
        name=name or organisation.name,
        standard=organisation.standard,
        chart=chart,
        base_unit="CNY",
        log_size=0,
    )
    db.session.add(book)
    db.session.flush()
    if chart != "CUSTOM":
        _load_template(book, chart)
    for hook in BOOK_CREATED_HOOKS:
        hook(book)
    return book


def _load_template(book: Book, standard: str) -> None:
    by_code: dict[str, Account] = {}
    for row in load_chart(standard):
        parent = by_code.get(row.parent_code) if row.parent_code else None
        acc = Account(
            community_id=book.community_id,
            book_id=book.id,
            code=row.code,
            name_zh=row.name_zh,
            name_en=row.name_en,
            type=row.type,
            normal_side=row.normal_side,
            parent=parent,
            level=(parent.level + 1) if parent else 1,
            from_standard=True,
        )
        if parent:
            parent.has_children = True
        db.session.add(acc)
        by_code[row.code] = acc
    if standard == "NPO_2004":
        for code in NPO_SPLIT_REVENUE:
            parent = by_code[code]
            parent.has_children = True
            for suffix, restriction, zh, en in (
                ("01", "unrestricted", "非限定性收入", "unrestricted"),
                ("02", "restricted", "限定性收入", "restricted"),
            ):
                db.session.add(
                    Account(
                        community_id=book.community_id,
                        book_id=book.id,
                        code=code + suffix,
                        name_zh=f"{parent.name_zh}—{zh}",
                        name_en=f"{parent.name_en}: {en}",
                        type=parent.type,
                        normal_side=parent.normal_side,
                        parent=parent,
                        level=2,
                        from_standard=True,
                        restriction=restriction,
                    )
                )
        by_code["3102"].restriction = "restricted"
    db.session.flush()


def account_has_postings(account: Account) -> bool:
    return (
        db.session.scalar(
            sa.select(VoucherLine.id).where(VoucherLine.account_id == account.id).limit(1)
        )
        is not None
    )


def add_sub_account(
    parent: Account, code: str, name_zh: str, name_en: str = "", *, actor: User | None = None
) -> Account:
    """A 明细科目 under any account. Its code extends the parent's; the parent must have no
    postings of its own yet (its balance would otherwise belong to no sub-account)."""
    if actor is not None:
        require_role(parent_org(parent.book_id), *PREPARE_ROLES, user=actor)
    code = (code or "").strip()
    name_zh = (name_zh or "").strip()
    p = Problems()
    if not code.startswith(parent.code) or len(code) <= len(parent.code) or not code.isalnum():
        p.add(
            "code",
            _l(
                "A sub-account's code starts with its parent's code %(code)s and adds digits, e.g. %(code)s01.",
                code=parent.code,
            ),
        )
    if not name_zh:
        p.add("name_zh", _l("The account needs a name."))
    p.raise_if_any()
    if db.session.scalar(
        sa.select(Account.id).where(Account.book_id == parent.book_id, Account.code == code)
    ):
        raise Conflict(_l("Account code %(code)s already exists.", code=code))
    if not parent.has_children and account_has_postings(parent):
        raise Conflict(
            _l(
                "Account %(code)s already has postings, so it cannot get sub-accounts.",
                code=parent.code,
            )
        )
    acc = Account(
        community_id=parent.community_id,
        book_id=parent.book_id,
        code=code,
        name_zh=name_zh,
        name_en=name_en or "",
        type=parent.type,
        normal_side=parent.normal_side,
        parent_id=parent.id,
        level=parent.level + 1,
        restriction=parent.restriction,
    )
    parent.has_children = True
    db.session.add(acc)
    db.session.flush()
    return acc


def parent_org(book_id: int) -> Organisation:
    return db.session.scalar(
        sa.select(Organisation)
        .join(Book, Book.organisation_id == Organisation.id)
        .where(Book.id == book_id)
    )


def set_account_active(account: Account, active: bool, *, actor: User) -> Account:
    """Accounts are deactivated, never deleted: their history stays readable."""
    require_role(parent_org(account.book_id), Role.ADMIN, *PREPARE_ROLES, user=actor)
    account.active = active
    db.session.flush()
    return account


def create_fund(
    book: Book,
    code: str,
    name: str,
    *,
    restricted: bool,
    endowment: bool = False,
    purpose: str = "",
    actor: User | None = None,
) -> Fund:
    if actor is not None:
        require_role(parent_org(book.id), *PREPARE_ROLES, user=actor)
    code, name = (code or "").strip(), (name or "").strip()
    p = Problems()
    if not code or len(code) > 40:
        p.add("code", _l("The fund needs a code of up to 40 characters."))
    if not name:
        p.add("name", _l("The fund needs a name."))
    p.raise_if_any()
    if db.session.scalar(sa.select(Fund.id).where(Fund.book_id == book.id, Fund.code == code)):
        raise Conflict(_l("Fund code %(code)s already exists.", code=code))
    fund = Fund(
        community_id=book.community_id,
        book_id=book.id,
        code=code,
        name=name,
        restricted=restricted,
        endowment=endowment,
        purpose=purpose,
    )
    db.session.add(fund)
    db.session.flush()
    return fund


def declare_unit(book: Book, code: str, name: str, exponent: int = 0) -> BookUnit:
    code = (code or "").strip()
    if not code or len(code) > 24 or is_iso_currency(code) or not (0 <= exponent <= 6):
        raise InvalidInput(
            _l(
                "A unit needs a code of up to 24 characters that is not a currency code, and 0 to 6 decimals."
            )
        )
    unit = BookUnit(
        community_id=book.community_id, book_id=book.id, code=code, name=name, exponent=exponent
    )
    db.session.add(unit)
    db.session.flush()
    return unit


def unit_exponent(book: Book, code: str) -> int | None:
    """Minor-unit digits of a unit this book accepts, or None."""
    if is_iso_currency(code):
        return currency_exponent(code)
    return db.session.scalar(
        sa.select(BookUnit.exponent).where(BookUnit.book_id == book.id, BookUnit.code == code)
    )


def set_single_person_mode(book: Book, enabled: bool, reason: str, *, actor: User) -> Book:
    """Tiny funds may let the preparer approve their own vouchers, by an admin's recorded choice."""
    require_role(parent_org(book.id), Role.ADMIN, user=actor)
    if not (reason or "").strip():
        raise InvalidInput(
            _l("Say why: the reason is kept with the book's history."),
            errors={"reason": [str(_l("Required."))]},
        )
    book.single_person_mode = enabled
    db.session.add(
        BookPolicyChange(
            community_id=book.community_id,
            book_id=book.id,
            setting="single_person_mode",
            value="on" if enabled else "off",
            reason=reason.strip(),
            changed_by_id=actor.id,
        )
    )
    db.session.flush()
    return book


# --- vouchers ---------------------------------------------------------------------------------


def period_key(d: dt.date) -> int:
    return d.year * 100 + d.month


def _check_date(book: Book, d: dt.date, p: Problems, *, today: dt.date | None = None) -> None:
    today = today or dt.date.today()
    if d > today + dt.timedelta(days=book.max_future_days):
        p.add("date", _l("The date %(date)s is in the future.", date=d.isoformat()))
    if book.closed_through is not None and period_key(d) <= book.closed_through:
        p.add("date", _l("The period %(period)s is closed.", period=f"{d.year}-{d.month:02d}"))


def _validate(
    book: Book,
    data: VoucherInput,
    *,
    allow_negative: bool = False,
    min_lines: int = 2,
    loaded: tuple[dict[int, Account], dict[int, Fund]] | None = None,
    today: dt.date | None = None,
) -> list[tuple[LineInput, Account, Fund | None]]:
    """Every rule a voucher must meet. ``loaded`` passes accounts and funds the caller has just
    read (posting loads them with the lines in one query), so they are not read again."""
    p = Problems()
    summary = (data.summary or "").strip()
    if not summary:
        p.add("summary", _l("Write a summary (摘要) of what happened."))
    elif len(summary) > 300:
        p.add("summary", _l("The summary is longer than 300 characters."))
    if not isinstance(data.date, dt.date):
        p.add("date", _l("The date is missing."))
    else:
        _check_date(book, data.date, p, today=today)
    if not (0 <= int(data.attachment_count or 0) <= 9999):
        p.add("attachment_count", _l("The number of attachments must be between 0 and 9999."))
    lines = list(data.lines or [])
    if len(lines) < min_lines:
        p.add("lines", _l("A voucher needs at least two lines."))

    account_ids = {li.account_id for li in lines if isinstance(li.account_id, int)}
    if loaded is not None:
        accounts = {i: a for i, a in loaded[0].items() if a.book_id == book.id}
        funds = {i: f for i, f in loaded[1].items() if f.book_id == book.id}
    else:
        accounts, funds = _accounts_and_funds(book, lines, account_ids)
    return _check_lines(book, data, p, lines, accounts, funds, allow_negative=allow_negative)


def _accounts_and_funds(book: Book, lines: list[LineInput], account_ids: set[int]):
    accounts = (
        {
            a.id: a
            for a in db.session.scalars(
                sa.select(Account).where(Account.id.in_(account_ids), Account.book_id == book.id)
            )
        }
        if account_ids
        else {}
    )
    fund_ids = {li.fund_id for li in lines if li.fund_id is not None}
    funds = (
        {
            f.id: f
            for f in db.session.scalars(
                sa.select(Fund).where(Fund.id.in_(fund_ids), Fund.book_id == book.id)
            )
        }
        if fund_ids
        else {}
    )
    return accounts, funds


def _check_lines(
    book: Book,
    data: VoucherInput,
    p: Problems,
    lines: list[LineInput],
    accounts: dict[int, Account],
    funds: dict[int, Fund],
    *,
    allow_negative: bool,
) -> list[tuple[LineInput, Account, Fund | None]]:
    exponents: dict[str, int | None] = {}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    checked = []
    for i, li in enumerate(lines, start=1):
        key = f"lines.{i}"
        debit, credit = li.debit, li.credit
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (debit, credit)):
            p.add(key, _l("Line %(n)d: amounts must be whole numbers of fen.", n=i))
            continue
        if (debit != 0) == (credit != 0):
            p.add(
                key,
                _l(
                    "Line %(n)d: enter either a debit or a credit amount, not both and not neither.",
                    n=i,
                ),
            )
        elif not allow_negative and (debit < 0 or credit < 0):
            p.add(key, _l("Line %(n)d: amounts are never negative.", n=i))
        elif abs(debit) > MAX_LINE_AMOUNT or abs(credit) > MAX_LINE_AMOUNT:
            p.add(key, _l("Line %(n)d: the amount is too large for one line.", n=i))
        acc = accounts.get(li.account_id)
        if acc is None:
            p.add(key, _l("Line %(n)d: no such account in this book.", n=i))
        elif not acc.active:
            p.add(key, _l("Line %(n)d: account %(code)s is inactive.", n=i, code=acc.code))
        elif acc.has_children:
            p.add(
                key,
                _l(
                    "Line %(n)d: account %(code)s has sub-accounts; choose one of them.",
                    n=i,
                    code=acc.code,
                ),
            )
        unit = li.unit or book.base_unit
        if unit not in exponents:
            exponents[unit] = unit_exponent(book, unit)
        if exponents[unit] is None:
            p.add(key, _l("Line %(n)d: unknown unit %(unit)s.", n=i, unit=unit))
        fund = None
        if li.fund_id is not None:
            fund = funds.get(li.fund_id)
            if fund is None:
                p.add(key, _l("Line %(n)d: no such fund in this book.", n=i))
            elif not fund.active:
                p.add(key, _l("Line %(n)d: the fund %(code)s is closed.", n=i, code=fund.code))
        if (
            acc is not None
            and acc.restriction == "restricted"
            and (fund is None or not fund.restricted)
        ):
            p.add(
                key,
                _l(
                    "Line %(n)d: restricted revenue and restricted net assets must name a restricted fund.",
                    n=i,
                ),
            )
        if (
            acc is not None
            and acc.restriction == "unrestricted"
            and fund is not None
            and fund.restricted
        ):
            p.add(
                key, _l("Line %(n)d: a restricted fund cannot receive unrestricted revenue.", n=i)
            )
        if li.resident_id is not None:
            r = db.session.get(Resident, li.resident_id)
            if r is None or r.community_id != book.community_id:
                p.add(key, _l("Line %(n)d: no such resident in this community.", n=i))
        if (
            li.counterparty_org_id is not None
            and db.session.get(Organisation, li.counterparty_org_id) is None
        ):
            p.add(key, _l("Line %(n)d: no such organisation.", n=i))
        if isinstance(debit, int) and isinstance(credit, int):
            totals[unit][0] += debit
            totals[unit][1] += credit
        checked.append((li, acc, fund))
    if not p.errors:
        for unit, (dr, cr) in sorted(totals.items()):
            if dr != cr:
                exp = exponents.get(unit) or 0
                from .amounts import format_minor

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
    p.raise_if_any()
    return checked


_EVENT_INSERT = sa.insert(VoucherEvent.__table__)


def _event(voucher: Voucher, action: str, user: User | None, note: str = "") -> None:
    db.session.add(
        VoucherEvent(
            community_id=voucher.community_id,
            voucher_id=voucher.id,
            action=action,
            user_id=getattr(user, "id", None),
            note=note,
        )
    )


def _set_lines(voucher: Voucher, checked, base_unit: str = "CNY") -> None:
    voucher.lines = [
        VoucherLine(
            community_id=voucher.community_id,
            line_no=n,
            account_id=acc.id,
            fund_id=fund.id if fund else None,
            unit=li.unit or base_unit,
            debit=li.debit,
            credit=li.credit,
            memo=(li.memo or "")[:300],
            resident_id=li.resident_id,
            counterparty_org_id=li.counterparty_org_id,
        )
        for n, (li, acc, fund) in enumerate(checked, start=1)
    ]


def create_voucher(
    book: Book, data: VoucherInput, *, actor: User, source: str = "ui", kind=VoucherKind.NORMAL
) -> Voucher:
    """A draft 记账凭证 by a preparer."""
    require_role(parent_org(book.id), *PREPARE_ROLES, user=actor)
    checked = _validate(book, data)
    v = Voucher(
        community_id=book.community_id,
        book_id=book.id,
        date=data.date,
        summary=data.summary.strip(),
        attachment_count=int(data.attachment_count or 0),
        status=VoucherStatus.DRAFT.value,
        kind=VoucherKind(kind).value,
        source=source,
        prepared_by_id=actor.id,
    )
    db.session.add(v)
    _set_lines(v, checked, book.base_unit)
    db.session.flush()
    _event(v, "created", actor)
    db.session.flush()
    return v


def get_voucher(book: Book, voucher_id: int, *, with_lines: bool = False) -> Voucher:
    """The voucher, or NotFound. ``with_lines``: its lines, their accounts and funds too, in
    the same query (posting reads them all)."""
    if with_lines:
        v = (
            db.session.execute(_VOUCHER_WITH_LINES, {"v_id": voucher_id})
            .unique()
            .scalar_one_or_none()
        )
    else:
        v = db.session.get(Voucher, voucher_id)
    if v is None or v.book_id != book.id:
        raise NotFound(_l("No such voucher in this book."))
    return v


def _must_be(voucher: Voucher, *statuses: VoucherStatus) -> None:
    if voucher.status not in {s.value for s in statuses}:
        if voucher.status == VoucherStatus.POSTED:
            raise Conflict(
                _l(
                    "Voucher %(number)s is posted and can no longer change. Correct it with a reversal.",
                    number=voucher.number,
                )
            )
        raise Conflict(
            _l(
                "The voucher is %(status)s; this step is not possible now.",
                status=status_label(voucher.status),
            )
        )


def status_label(status: str) -> str:
    labels = {
        "draft": _l("a draft"),
        "submitted": _l("submitted"),
        "approved": _l("approved"),
        "posted": _l("posted"),
        "discarded": _l("discarded"),
    }
    return str(labels.get(status, status))


def update_voucher(voucher: Voucher, data: VoucherInput, *, actor: User) -> Voucher:
    require_role(parent_org(voucher.book_id), *PREPARE_ROLES, user=actor)
    _must_be(voucher, VoucherStatus.DRAFT)
    checked = _validate(voucher.book, data, allow_negative=voucher.kind == VoucherKind.REVERSAL)
    voucher.date = data.date
    voucher.summary = data.summary.strip()
    voucher.attachment_count = int(data.attachment_count or 0)
    voucher.lines.clear()
    db.session.flush()
    _set_lines(voucher, checked, voucher.book.base_unit)
    _event(voucher, "edited", actor)
    db.session.flush()
    return voucher


def discard_voucher(voucher: Voucher, *, actor: User, note: str = "") -> Voucher:
    """An unposted voucher that should not be posted is discarded, not deleted: its history stays."""
    require_role(parent_org(voucher.book_id), *PREPARE_ROLES, user=actor)
    _must_be(voucher, VoucherStatus.DRAFT, VoucherStatus.SUBMITTED)
    voucher.status = VoucherStatus.DISCARDED.value
    _event(voucher, "discarded", actor, (note or "").strip())
    db.session.flush()
    return voucher


def submit_voucher(voucher: Voucher, *, actor: User) -> Voucher:
    require_role(parent_org(voucher.book_id), *PREPARE_ROLES, user=actor)
    _must_be(voucher, VoucherStatus.DRAFT)
    _validate(voucher.book, _as_input(voucher), allow_negative=voucher.kind == VoucherKind.REVERSAL)
    voucher.status = VoucherStatus.SUBMITTED.value
    _event(voucher, "submitted", actor)
    db.session.flush()
    return voucher


def approve_voucher(voucher: Voucher, *, actor: User) -> Voucher:
    """A reviewer (审核) who is not the preparer approves, unless the book is in single-person mode."""
    require_role(parent_org(voucher.book_id), *REVIEW_ROLES, Role.PREPARER, user=actor)
    _must_be(voucher, VoucherStatus.SUBMITTED)
    book = voucher.book
    if voucher.prepared_by_id == actor.id and not book.single_person_mode:
        raise NotPermitted(_l("You prepared this voucher, so another person must review it."))
    if voucher.prepared_by_id != actor.id or not book.single_person_mode:
        require_role(parent_org(voucher.book_id), *REVIEW_ROLES, user=actor)
    voucher.status = VoucherStatus.APPROVED.value
    voucher.approved_by_id = actor.id
    _event(voucher, "approved", actor)
    db.session.flush()
    return voucher


def reject_voucher(voucher: Voucher, note: str, *, actor: User) -> Voucher:
    require_role(parent_org(voucher.book_id), *REVIEW_ROLES, user=actor)
    _must_be(voucher, VoucherStatus.SUBMITTED, VoucherStatus.APPROVED)
    if not (note or "").strip():
        raise InvalidInput(
            _l("Say what must be corrected."), errors={"note": [str(_l("Required."))]}
        )
    voucher.status = VoucherStatus.DRAFT.value
    voucher.approved_by_id = None
    _event(voucher, "rejected", actor, note.strip())
    db.session.flush()
    return voucher


def _as_input(voucher: Voucher) -> VoucherInput:
    return VoucherInput(
        date=voucher.date,
        summary=voucher.summary,
        attachment_count=voucher.attachment_count,
        lines=[
            LineInput(
                account_id=ln.account_id,
                debit=ln.debit,
                credit=ln.credit,
                unit=ln.unit,
                fund_id=ln.fund_id,
                memo=ln.memo,
                resident_id=ln.resident_id,
                counterparty_org_id=ln.counterparty_org_id,
            )
            for ln in voucher.lines
        ],
    )


def post_voucher(voucher: Voucher, *, actor: User) -> Voucher:
    """Post an approved voucher: number it, log it, update balances. It never changes again."""
    # The organisation through the book (identity map) rather than parent_org's join query.
    require_role(voucher.book.organisation, *POST_ROLES, user=actor)
    _must_be(voucher, VoucherStatus.APPROVED)
    return _post(voucher, actor)


_BOOKS = Book.__table__
_TAKE_HEAD = (
    sa.update(_BOOKS)
    .where(_BOOKS.c.id == sa.bindparam("b_id"))
    .values(log_size=_BOOKS.c.log_size + 1)
    .returning(_BOOKS.c.log_size, _BOOKS.c.closed_through, _BOOKS.c.max_future_days)
)


def _take_head(book: Book) -> int:
    """Lock the book's head row and return the new leaf's index (DESIGN.md §3)."""
    # The row as it is under the lock also brings back the posting policy another transaction
    # may have changed since ``book`` was read (a closed period, the future-date limit): set
    # in place of refreshing the whole row, which cost one more query per post.
    size, closed_through, max_future_days = (
        db.session.connection().execute(_TAKE_HEAD, {"b_id": book.id}).one()
    )
    set_committed_value(book, "log_size", size)
    set_committed_value(book, "closed_through", closed_through)
    set_committed_value(book, "max_future_days", max_future_days)
    return size - 1


def _period(book: Book, d: dt.date) -> Period:
    period = db.session.scalar(
        sa.select(Period).where(
            Period.book_id == book.id, Period.year == d.year, Period.month == d.month
        )
    )
    if period is None:
        period = Period(
            community_id=book.community_id,
            book_id=book.id,
            year=d.year,
            month=d.month,
            voucher_count=0,
        )
        db.session.add(period)
        db.session.flush()
    return period


_PERIODS = Period.__table__
_BUMP_PERIOD = (
    sa.update(_PERIODS)
    .where(
        _PERIODS.c.book_id == sa.bindparam("b_id"),
        _PERIODS.c.year == sa.bindparam("b_year"),
        _PERIODS.c.month == sa.bindparam("b_month"),
    )
    .values(voucher_count=_PERIODS.c.voucher_count + 1)
    .returning(_PERIODS.c.id, _PERIODS.c.voucher_count)
)


def _next_number(book: Book, d: dt.date) -> tuple[int, str]:
    """The id of the voucher's month and the next gapless number in it (记-2026-03-0001).

    One statement when the month has a row (its count goes up by one under the book's head
    lock, taken by ``_take_head``); the month's first voucher creates the row with count 1."""
    conn = db.session.connection()
    row = conn.execute(
        _BUMP_PERIOD, {"b_id": book.id, "b_year": d.year, "b_month": d.month}
    ).first()
    if row is None:
        period = Period(
            community_id=book.community_id,
            book_id=book.id,
            year=d.year,
            month=d.month,
            voucher_count=1,
        )
        db.session.add(period)
        db.session.flush()
        row = (period.id, 1)
    period_id, n = row
    loaded = db.session.identity_map.get(identity_key(Period, period_id))
    if loaded is not None:  # a Period read earlier in this session shows the new count
        set_committed_value(loaded, "voucher_count", n)
    return period_id, f"{VOUCHER_PREFIX}-{d.year}-{d.month:02d}-{n:04d}"


_VOUCHERS = Voucher.__table__
_MARK_POSTED = (
    sa.update(_VOUCHERS)
    .where(_VOUCHERS.c.id == sa.bindparam("v_id"), _VOUCHERS.c.status == sa.bindparam("v_was"))
    .values(
        {
            c: sa.bindparam(c)
            for c in (
                "status",
                "period_id",
                "number",
                "log_index",
                "posted_by_id",
                "posted_at",
                "private_salt",
                "private_json",
            )
        }
    )
)


def _post(voucher: Voucher, actor: User | None, *, today: dt.date | None = None) -> Voucher:
    book = voucher.book
    index = _take_head(book)  # serialises posting in this book from here to commit
    # Re-check under the lock: the period may have closed since the voucher was approved.
    # ``checked`` holds the accounts and funds, which the public record reads below: the
    # session's identity map is weak, so dropping them would read them again.
    with db.session.no_autoflush:
        loaded = _load_lines(voucher)
    checked = _validate(
        book,
        _as_input(voucher),
        allow_negative=voucher.kind == VoucherKind.REVERSAL,
        loaded=loaded,
        today=today,
    )
    if (
        voucher.kind == VoucherKind.REVERSAL
        and voucher.reverses is not None
        and not voucher.reverses.is_posted
    ):
        raise Conflict(_l("Only a posted voucher can be reversed."))
    period_id, number = _next_number(book, voucher.date)
    posted = {
        "status": VoucherStatus.POSTED.value,
        "period_id": period_id,
        "number": number,
        "log_index": index,
        "posted_by_id": getattr(actor, "id", None),
        "posted_at": utcnow(),
        "private_salt": log.new_salt(),
    }
    posted["private_json"] = log.private_json(voucher)
    db.session.flush()  # anything pending (the history so far) is written before what follows
    # One Core UPDATE, conditional on the status read before the lock: a voucher sent back to
    # draft or discarded by another request in the meantime is not posted. The ORM object is
    # then given the same values as committed state (nothing left for a flush to write).
    if (
        db.session.connection()
        .execute(
            _MARK_POSTED, {**posted, "v_id": voucher.id, "v_was": VoucherStatus.APPROVED.value}
        )
        .rowcount
        != 1
    ):
        now = (
            db.session.connection()
            .execute(sa.select(_VOUCHERS.c.status).where(_VOUCHERS.c.id == voucher.id))
            .scalar()
        )
        raise Conflict(
            _l(
                "The voucher is %(status)s; this step is not possible now.",
                status=status_label(now or VoucherStatus.DISCARDED.value),
            )
        )
    for key, value in posted.items():
        set_committed_value(voucher, key, value)
    reverses_index = voucher.reverses.log_index if voucher.reverses_id else None
    log.append(
        book.id,
        book.community_id,
        index,
        log.leaf_bytes(log.public_record(voucher, reverses_index)),
    )
    _add_to_balances(book, [voucher])
    # A Core insert (the flush above wrote every earlier event, so the history stays in order).
    db.session.connection().execute(
        _EVENT_INSERT,
        {
            "community_id": voucher.community_id,
            "voucher_id": voucher.id,
            "action": "posted",
            "user_id": getattr(actor, "id", None),
            "at": utcnow(),
            "note": "",
        },
    )
    del checked
    return voucher


_VOUCHER_WITH_LINES = (
    sa.select(Voucher)
    .where(Voucher.id == sa.bindparam("v_id"))
    .options(
        joinedload(Voucher.lines).joinedload(VoucherLine.account),
        joinedload(Voucher.lines).joinedload(VoucherLine.fund),
    )
)
_LINES_WITH_ACCOUNTS = (
    sa.select(VoucherLine)
    .where(VoucherLine.voucher_id == sa.bindparam("v_id"))
    .order_by(VoucherLine.line_no)
    .options(joinedload(VoucherLine.account), joinedload(VoucherLine.fund))
)


def _load_lines(voucher: Voucher) -> tuple[dict[int, Account], dict[int, Fund]] | None:
    """The accounts and funds of the voucher's lines, reading the lines with them in one query
    unless they are in memory already (``get_voucher(with_lines=True)``); None when the lines
    are in memory without them, and the accounts are left to ``_validate``."""
    if "lines" in sa.inspect(voucher).unloaded:
        lines = db.session.scalars(_LINES_WITH_ACCOUNTS, {"v_id": voucher.id}).unique().all()
        set_committed_value(voucher, "lines", lines)
    elif any({"account", "fund"} & sa.inspect(ln).unloaded for ln in voucher.lines):
        return None
    lines = voucher.lines
    return (
        {ln.account.id: ln.account for ln in lines},
        {ln.fund.id: ln.fund for ln in lines if ln.fund is not None},
    )


def _add_to_balances(book: Book, vouchers: Iterable[Voucher]) -> None:
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for v in vouchers:
        pk = period_key(v.date)
        for ln in v.lines:
            s = sums[(ln.account_id, ln.fund_id or 0, ln.unit, pk)]
            s[0] += ln.debit
            s[1] += ln.credit
    if not sums:
        return
    rows = [
        {
            "book_id": book.id,
            "account_id": a,
            "fund_key": f,
            "unit": u,
            "period_key": pk,
            "community_id": book.community_id,
            "debit": dr,
            "credit": cr,
        }
        for (a, f, u, pk), (dr, cr) in sums.items()
    ]
    # Core execution on the session's connection: the ORM's bulk-insert path and building the
    # upsert anew cost more than running it, on every post.
    conn = db.session.connection()
    conn.execute(_balance_upsert(conn.dialect.name), rows)


_BALANCE_UPSERTS: dict[str, sa.Insert] = {}


def _balance_upsert(dialect: str) -> sa.Insert:
    """INSERT … ON CONFLICT that adds to a per-period balance row, built once per dialect."""
    stmt = _BALANCE_UPSERTS.get(dialect)
    if stmt is None:
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
            AccountPeriodBalance.__table__
        )
        stmt = _BALANCE_UPSERTS[dialect] = ins.on_conflict_do_update(
            index_elements=["book_id", "account_id", "fund_key", "unit", "period_key"],
            set_={
                "debit": AccountPeriodBalance.__table__.c.debit + ins.excluded.debit,
                "credit": AccountPeriodBalance.__table__.c.credit + ins.excluded.credit,
            },
        )
    return stmt


def reverse_voucher(
    original: Voucher, *, actor: User, date: dt.date | None = None, summary: str | None = None
) -> Voucher:
    """红字冲销: a draft voucher with the original's lines in red (negative), linked to it.
    It is reviewed and posted like any other voucher; then the corrected voucher is entered."""
    require_role(parent_org(original.book_id), *PREPARE_ROLES, user=actor)
    if not original.is_posted:
        raise Conflict(_l("Only a posted voucher can be reversed."))
    if original.kind == VoucherKind.REVERSAL:
        raise Conflict(_l("A reversal is not reversed again; enter a new voucher instead."))
    if db.session.scalar(
        sa.select(Voucher.id).where(
            Voucher.reverses_id == original.id, Voucher.status != VoucherStatus.DISCARDED.value
        )
    ):
        raise Conflict(_l("Voucher %(number)s has already been reversed.", number=original.number))
    d = date or dt.date.today()
    data = VoucherInput(
        date=d,
        summary=summary
        or str(
            _l(
                "Reversal of %(number)s: %(summary)s",
                number=original.number,
                summary=original.summary,
            )
        )[:300],
        attachment_count=0,
        lines=[
            LineInput(
                account_id=ln.account_id,
                debit=-ln.debit,
                credit=-ln.credit,
                unit=ln.unit,
                fund_id=ln.fund_id,
                memo=ln.memo,
                resident_id=ln.resident_id,
                counterparty_org_id=ln.counterparty_org_id,
            )
            for ln in original.lines
        ],
    )
    checked = _validate(original.book, data, allow_negative=True)
    v = Voucher(
        community_id=original.community_id,
        book_id=original.book_id,
        date=d,
        summary=data.summary,
        attachment_count=0,
        status=VoucherStatus.DRAFT.value,
        kind=VoucherKind.REVERSAL.value,
        reverses_id=original.id,
        source="reversal",
        prepared_by_id=actor.id,
    )
    db.session.add(v)
    _set_lines(v, checked, original.book.base_unit)
    db.session.flush()
    _event(v, "created", actor, note=f"reverses {original.number}")
    db.session.flush()
    return v


def post_system_voucher(
    book: Book,
    data: VoucherInput,
    *,
    kind: VoucherKind,
    actor: User | None,
    source: str,
    allow_negative: bool = False,
    today: dt.date | None = None,
) -> Voucher:
    """Post a voucher the system computed or imported (closing entries, imports): it is
    approved by the rule that made it, recorded as such, and posted at once."""
    checked = _validate(book, data, allow_negative=allow_negative, today=today)
    v = Voucher(
        community_id=book.community_id,
        book_id=book.id,
        date=data.date,
        summary=data.summary.strip(),
        attachment_count=int(data.attachment_count or 0),
        status=VoucherStatus.APPROVED.value,
        kind=kind.value,
        source=source,
        prepared_by_id=getattr(actor, "id", None),
        approved_by_id=getattr(actor, "id", None),
    )
    db.session.add(v)
    _set_lines(v, checked, book.base_unit)
    db.session.flush()
    _event(v, source, actor)
    return _post(v, actor, today=today)


# --- periods ----------------------------------------------------------------------------------


def _month_key(year: int, month: int) -> int:
    if not (1 <= month <= 12) or not (1900 <= year <= 9999):
        raise InvalidInput(_l("No such month."))
    return year * 100 + month


def _next_month(key: int) -> int:
    y, m = divmod(key, 100)
    return (y + 1) * 100 + 1 if m == 12 else key + 1


def _month_end(key: int) -> dt.date:
    y, m = divmod(key, 100)
    nxt = dt.date(y + 1, 1, 1) if m == 12 else dt.date(y, m + 1, 1)
    return nxt - dt.timedelta(days=1)


def close_period(book: Book, year: int, month: int, *, actor: User) -> Period:
    """Close a month (结账). Months close in order; nothing unposted may remain in them."""
    require_role(parent_org(book.id), *CLOSE_ROLES, user=actor)
    key = _month_key(year, month)
    if book.closed_through is not None:
        if key <= book.closed_through:
            raise Conflict(_l("%(period)s is already closed.", period=f"{year}-{month:02d}"))
        if key != _next_month(book.closed_through):
            nxt = _next_month(book.closed_through)
            raise Conflict(
                _l(
                    "Close the months in order: %(period)s comes first.",
                    period=f"{nxt // 100}-{nxt % 100:02d}",
                )
            )
    if _month_end(key) > dt.date.today() + dt.timedelta(
        days=book.max_future_days
    ) and key > period_key(dt.date.today()):
        raise Conflict(_l("A month in the future cannot be closed."))
    pending = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Voucher)
        .where(
            Voucher.book_id == book.id,
            Voucher.status.in_(UNPOSTED),
            Voucher.date <= _month_end(key),
        )
    )
    if pending:
        raise Conflict(
            _l(
                "%(n)d voucher(s) dated in or before this month are not posted yet. Post or move them first.",
                n=pending,
            )
        )
    if month == 12 and _needs_year_end_closing(book, year):
        raise Conflict(
            _l(
                "Generate the year-end closing entries for %(year)d before closing December.",
                year=year,
            )
        )
    db.session.execute(sa.update(Book).where(Book.id == book.id).values(closed_through=key))
    db.session.refresh(book)
    period = _period(book, dt.date(year, month, 1))
    db.session.add(
        PeriodEvent(
            community_id=book.community_id, period_id=period.id, action="close", user_id=actor.id
        )
    )
    db.session.flush()
    return period


def reopen_period(book: Book, year: int, month: int, reason: str, *, actor: User) -> Period:
    """Reopen the latest closed month. Admins only, with a reason that stays in the history."""
    require_role(parent_org(book.id), Role.ADMIN, user=actor)
    key = _month_key(year, month)
    if not (reason or "").strip():
        raise InvalidInput(
            _l("Say why the month is reopened."), errors={"reason": [str(_l("Required."))]}
        )
    if book.closed_through != key:
        raise Conflict(_l("Only the latest closed month can be reopened."))
    for guard in REOPEN_GUARDS:
        guard(book, key)
    y, m = divmod(key, 100)
    prev = (y - 1) * 100 + 12 if m == 1 else key - 1
    first_activity = db.session.scalar(
        sa.select(sa.func.min(Voucher.date)).where(Voucher.book_id == book.id)
    )
    new_mark = prev if first_activity is not None and period_key(first_activity) <= prev else None
    db.session.execute(sa.update(Book).where(Book.id == book.id).values(closed_through=new_mark))
    db.session.refresh(book)
    period = _period(book, dt.date(year, month, 1))
    db.session.add(
        PeriodEvent(
            community_id=book.community_id,
            period_id=period.id,
            action="reopen",
            reason=reason.strip(),
            user_id=actor.id,
        )
    )
    db.session.flush()
    return period


# --- year-end closing (年末结转) ------------------------------------------------------------------


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
            AccountPeriodBalance.period_key.between(year * 100 + 1, year * 100 + 12),
            Account.type.in_(types),
        )
        .group_by(Account.id, AccountPeriodBalance.fund_key)
        .order_by(Account.code, AccountPeriodBalance.fund_key)
    ).all()
    return [(a, fk, int(net)) for a, fk, net in rows if net]


def _needs_year_end_closing(book: Book, year: int) -> bool:
    return bool(_year_movements(book, year, ("revenue", "expense")))


def _account(book: Book, code: str) -> Account:
    acc = db.session.scalar(
        sa.select(Account).where(Account.book_id == book.id, Account.code == code)
    )
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
    - NPO_2004: unrestricted revenue and all expenses → 3101, restricted revenue → 3102;
      then the restriction released by spending: restricted-fund expenses 3102 → 3101.
    - TRUST_FUND: revenue and expenses → 3101 共有基金结余.
    """
    require_role(parent_org(book.id), *CLOSE_ROLES, user=actor)
    if book.closed_through is not None and book.closed_through >= year * 100 + 12:
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
    if book.chart == "SME_2011":
        target = _account(book, "3103")
        lines = [_zeroing_line(a.id, fk, net, unit) for a, fk, net in movements]
        lines += _offsets(target.id, movements, unit, by_fund=True)
        made.append(
            post_system_voucher(
                book,
                VoucherInput(
                    date,
                    str(_l("Year-end: close revenue and expenses to current-year profit")),
                    lines,
                ),
                kind=VoucherKind.CLOSING,
                actor=actor,
                source="closing",
            )
        )
        profit = _year_movements(book, year, ("equity",))
        profit = [(a, fk, net) for a, fk, net in profit if a.id == target.id]
        total = sum(net for _a, _fk, net in profit)
        if total:
            dist = _account(book, "3104")
            lines = [_zeroing_line(target.id, fk, net, unit) for _a, fk, net in profit]
            lines += _offsets(dist.id, profit, unit, by_fund=True)
            made.append(
                post_system_voucher(
                    book,
                    VoucherInput(
                        date,
                        str(_l("Year-end: transfer current-year profit to profit distribution")),
                        lines,
                    ),
                    kind=VoucherKind.CLOSING,
                    actor=actor,
                    source="closing",
                )
            )
    elif book.chart == "NPO_2004":
        unrestricted, restricted = _account(book, "3101"), _account(book, "3102")
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
        made.append(
            post_system_voucher(
                book,
                VoucherInput(
                    date, str(_l("Year-end: close revenue and expenses to net assets")), lines
                ),
                kind=VoucherKind.CLOSING,
                actor=actor,
                source="closing",
            )
        )
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
                post_system_voucher(
                    book,
                    VoucherInput(
                        date,
                        str(_l("Year-end: release restricted net assets used for their purpose")),
                        rel_lines,
                    ),
                    kind=VoucherKind.CLOSING,
                    actor=actor,
                    source="closing",
                )
            )
    else:
        target = _account(book, "3101")
        lines = [_zeroing_line(a.id, fk, net, unit) for a, fk, net in movements]
        lines += _offsets(target.id, movements, unit, by_fund=True)
        made.append(
            post_system_voucher(
                book,
                VoucherInput(
                    date,
                    str(_l("Year-end: close income and expenditure to the fund balance")),
                    lines,
                ),
                kind=VoucherKind.CLOSING,
                actor=actor,
                source="closing",
            )
        )
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


# --- bulk posting (plain-text imports) ----------------------------------------------------------


def post_imported_vouchers(
    book: Book,
    inputs: Sequence[VoucherInput],
    *,
    actor: User | None = None,
    source: str = "import",
    kind: VoucherKind = VoucherKind.NORMAL,
    allow_negative: bool = False,
    batch_size: int = 25_000,
    parallel: bool | None = None,
) -> list[int]:
    """Post many imported or computed vouchers in order, storing exactly what calling
    ``post_system_voucher`` on each would store (numbers per period, log leaves and subtree
    nodes, per-period balances, the ``source`` and ``posted`` events), with a few multi-row
    statements per batch instead of one ORM object at a time: 100,000 vouchers take seconds.

    The book's head row is taken first (DESIGN.md §3). Every voucher is then checked by the
    rules of ``_validate``: the usual shapes in memory; anything else (residents,
    counterparties), and every voucher that fails, through ``_validate`` itself, so the
    decision and the messages are its own. Problems are reported together in one InvalidInput
    keyed ``vouchers.<i>.<field>`` (``i`` counts from 0; at most 200 vouchers, then
    ``vouchers``); nothing is written unless every voucher passes. Returns the new ids in order.
    """
    import hashlib
    import json
    import secrets
    from types import SimpleNamespace

    from tlog import merkle

    from .models import LogNode

    inputs = list(inputs)
    if not inputs:
        return []
    size_after = db.session.execute(
        sa.update(Book)
        .where(Book.id == book.id)
        .values(log_size=Book.log_size + len(inputs))
        .returning(Book.log_size)
    ).scalar_one()
    db.session.refresh(book)
    first_index = size_after - len(inputs)

    # 1. Check every voucher (under the lock, like _post) before writing anything.
    accounts = {
        a.id: a for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
    }
    funds = {f.id: f for f in db.session.scalars(sa.select(Fund).where(Fund.book_id == book.id))}
    postable = {
        a.id for a in accounts.values() if a.active and not a.has_children and not a.restriction
    }
    exponents: dict[str, int | None] = {}
    latest = dt.date.today() + dt.timedelta(days=book.max_future_days)
    closed = book.closed_through

    def usual_and_valid(data: VoucherInput) -> bool:
        summary = (data.summary or "").strip()
        d = data.date
        if not summary or len(summary) > 300 or not isinstance(d, dt.date) or d > latest:
            return False
        if closed is not None and d.year * 100 + d.month <= closed:
            return False
        if not (0 <= int(data.attachment_count or 0) <= 9999) or len(data.lines or ()) < 2:
            return False
        net: dict[str, int] = {}
        for li in data.lines:
            dr, cr = li.debit, li.credit
            if type(dr) is not int or type(cr) is not int or (dr != 0) == (cr != 0):
                return False
            if (
                (not allow_negative and (dr < 0 or cr < 0))
                or abs(dr) > MAX_LINE_AMOUNT
                or abs(cr) > MAX_LINE_AMOUNT
            ):
                return False
            if type(li.account_id) is not int or li.account_id not in postable:
                return False  # restricted-revenue accounts and all else: _validate decides
            if (
                li.fund_id is not None
                or li.resident_id is not None
                or li.counterparty_org_id is not None
            ):
                return False
            unit = li.unit or book.base_unit
            if unit not in exponents:
                exponents[unit] = unit_exponent(book, unit)
            if exponents[unit] is None:
                return False
            net[unit] = net.get(unit, 0) + dr - cr
        return not any(net.values())

    errors: dict[str, list[str]] = {}
    first_problem = None
    failed = 0
    for i, data in enumerate(inputs):
        if usual_and_valid(data):
            continue
        try:
            _validate(book, data, allow_negative=allow_negative)
        except InvalidInput as e:
            failed += 1
            first_problem = first_problem or e.message
            for key, messages in (e.errors or {"voucher": [str(e.message)]}).items():
                errors[f"vouchers.{i}.{key}"] = list(messages)
            if failed >= 200:
                errors["vouchers"] = [
                    str(_l("Too many problems: stopped after %(n)d vouchers.", n=failed))
                ]
                break
    if errors:
        raise InvalidInput(first_problem, errors=errors)

    # 2. Numbers per period, in input order (one UPDATE … RETURNING per month).
    per_period: dict[int, int] = defaultdict(int)
    for data in inputs:
        per_period[period_key(data.date)] += 1
    periods = {
        p.key: p for p in db.session.scalars(sa.select(Period).where(Period.book_id == book.id))
    }
    next_no: dict[int, int] = {}
    for pk, count in sorted(per_period.items()):
        period = periods.get(pk) or _period(book, dt.date(pk // 100, pk % 100, 1))
        periods[pk] = period
        last = db.session.execute(
            sa.update(Period)
            .where(Period.id == period.id)
            .values(voucher_count=Period.voucher_count + count)
            .returning(Period.voucher_count)
        ).scalar_one()
        next_no[pk] = last - count
    prefix = {pk: (f"{VOUCHER_PREFIX}-{p.year}-{p.month:02d}-", p.id) for pk, p in periods.items()}
    for p in periods.values():
        db.session.expire(p, ["voucher_count"])

    # 3. Leaves: RFC 8785 bytes of log.public_record. The usual record is written by the C JSON
    # string encoder (the same bytes for these key names, strings and safe integers); the first
    # voucher without private fields of every batch is also encoded by log.leaf_bytes (with its private fields frozen
    # by log.freeze_private_fields), and a difference (log.py changed) switches to them for
    # good. Records with private fields always use them.
    esc = json.encoder.encode_basestring  # type: ignore[attr-defined]
    line_head = {a.id: f'{{"account":{esc(a.code)},"credit":' for a in accounts.values()}
    fund_json = {f.id: esc(f.code) for f in funds.values()}
    kind_json = esc(kind.value)

    def line_tail(fund_id: int | None, unit: str) -> str:
        fund = fund_json[fund_id] if fund_id else "null"
        tails[(fund_id, unit)] = tail = f',"fund":{fund},"unit":{esc(unit)}}}'
        return tail

    tails: dict[tuple, str] = {}

    def reference_leaf(
        index: int, number: str, date: dt.date, summary: str, lines, salt: bytes
    ) -> tuple[bytes, str]:
        """log.public_record's bytes and the frozen private fields, as _post makes them."""
        v = SimpleNamespace(
            book_id=book.id,
            log_index=index,
            number=number,
            date=date,
            kind=kind.value,
            summary=summary,
            private_salt=salt,
            lines=[
                SimpleNamespace(
                    line_no=n,
                    account=accounts[li.account_id],
                    fund_id=li.fund_id,
                    fund=funds.get(li.fund_id),
                    unit=li.unit or "CNY",
                    debit=li.debit,
                    credit=li.credit,
                    resident_id=li.resident_id,
                    resident=db.session.get(Resident, li.resident_id)
                    if li.resident_id is not None
                    else None,
                )
                for n, li in enumerate(lines, start=1)
            ],
        )
        log.freeze_private_fields(v)
        return log.leaf_bytes(log.public_record(v)), v.private_json

    # 4. Rows. Plain DBAPI executemany of tuples: SQLAlchemy's per-row parameter processing
    # would cost more than the database. Values get the column types' own bind processing
    # (SQLite keeps dates as text), and every other column must have none.
    conn = db.session.connection()
    dialect = conn.dialect
    vt, lt, et, nt = (
        Voucher.__table__,
        VoucherLine.__table__,
        VoucherEvent.__table__,
        LogNode.__table__,
    )

    def insert_sql(
        table, columns: Sequence[str], processed: Sequence[str] = (), null: Sequence[str] = ()
    ) -> str:
        missing = {c.name for c in table.columns} - set(columns) - set(null) - {"id"}
        if missing:  # a new column: _post sets it, so must this
            raise RuntimeError(
                f"post_imported_vouchers does not write {table.name}.{', '.join(sorted(missing))}"
            )
        for c in columns:
            if (
                c not in processed
                and table.c[c].type.dialect_impl(dialect).bind_processor(dialect) is not None
            ):
                raise RuntimeError(
                    f"post_imported_vouchers: {table.name}.{c} needs bind processing"
                )
        q = dialect.identifier_preparer
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        # Identifiers come from our own table metadata, values are bound: no injection here.
        return (
            f"INSERT INTO {q.format_table(table)} ({', '.join(q.quote(c) for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join([mark] * len(columns))})"
        )

    def bind(column) -> object:
        return column.type.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)

    v_cols = (
        "id",
        "community_id",
        "book_id",
        "date",
        "summary",
        "kind",
        "status",
        "attachment_count",
        "source",
        "prepared_by_id",
        "approved_by_id",
        "posted_by_id",
        "period_id",
        "number",
        "log_index",
        "posted_at",
        "private_salt",
        "private_json",
        "created_at",
    )
    l_cols = (
        "community_id",
        "voucher_id",
        "line_no",
        "account_id",
        "fund_id",
        "unit",
        "debit",
        "credit",
        "memo",
        "resident_id",
        "counterparty_org_id",
    )
    e_cols = ("community_id", "voucher_id", "action", "user_id", "at", "note")
    n_cols = ("book_id", "level", "index", "community_id", "hash")
    v_sql = insert_sql(
        vt, v_cols, ("date", "posted_at", "created_at", "private_salt"), null=("reverses_id",)
    )
    l_sql, e_sql, n_sql = (
        insert_sql(lt, l_cols),
        insert_sql(et, e_cols, ("at",)),
        insert_sql(nt, n_cols, ("hash",)),
    )
    bind_date, bind_salt, bind_hash = bind(vt.c.date), bind(vt.c.private_salt), bind(nt.c.hash)
    if dialect.driver in ("pysqlite", "psycopg"):  # both take bytes as BLOB / bytea, as they are
        bind_salt = bind_hash = bytes  # (and bytes, unlike their memoryview wrapper, pickle)

    def write(table, columns: Sequence[str], sql: str, rows: list[tuple]) -> None:
        """executemany, or COPY on PostgreSQL with psycopg 3 (the server's cheapest way in;
        row triggers fire all the same)."""
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            q = dialect.identifier_preparer
            copy = f"COPY {q.format_table(table)} ({', '.join(q.quote(c) for c in columns)}) FROM STDIN"
            with conn.connection.driver_connection.cursor() as cur, cur.copy(copy) as out:
                for row in rows:
                    out.write_row(row)
        else:
            conn.exec_driver_sql(sql, rows)

    dates: dict[dt.date, tuple] = {}
    now = utcnow()
    posted_at, created_at, event_at = (
        bind(vt.c.posted_at)(now),
        bind(vt.c.created_at)(now),
        bind(et.c.at)(now),
    )
    actor_id = getattr(actor, "id", None)
    community_id = book.community_id
    approved = VoucherStatus.APPROVED.value

    if dialect.name == "sqlite":  # we hold the write lock since the head UPDATE
        top = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM vouchers").scalar_one()
        new_ids = list(range(top + 1, top + 1 + len(inputs)))
    else:
        new_ids = list(
            conn.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence('vouchers', 'id')) FROM generate_series(1, %s)",
                (len(inputs),),
            ).scalars()
        )

    frontier = dict(
        zip(
            merkle.compact_range(first_index),
            log.compact_range_hashes(book.id, first_index),
            strict=True,
        )
    )

    def get_node(level: int, index: int) -> bytes:
        return frontier[(level, index)]

    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    use_reference = False
    sha256 = hashlib.sha256
    # SQLite's default page cache (2 MiB) thrashes on a write this size: 256 MiB while it lasts.
    cache_size = (
        conn.exec_driver_sql("PRAGMA cache_size").scalar_one() if dialect.name == "sqlite" else None
    )
    if cache_size is not None:
        conn.exec_driver_sql("PRAGMA cache_size = -262144")
    book_id, kind_value, version = book.id, kind.value, log.RECORD_VERSION
    checked_batch = -1

    def batches():
        """The rows of each batch: ("batch", first index, last index, vouchers, lines, events,
        log nodes); ``sums`` collects the balances as it goes."""
        nonlocal frontier, use_reference, checked_batch
        for start in range(0, len(inputs), batch_size):
            batch = inputs[start : start + batch_size]
            salts = secrets.token_bytes(
                16 * len(batch)
            )  # log.new_salt() for each voucher, in one call
            v_rows, l_rows, e_rows, n_rows = [], [], [], []
            v_add, l_add, e_add, n_add = v_rows.append, l_rows.append, e_rows.append, n_rows.append
            for offset, data in enumerate(batch):
                vid = new_ids[start + offset]
                index = first_index + start + offset
                d = data.date
                pk = d.year * 100 + d.month
                next_no[pk] = no = next_no[pk] + 1
                head, period_id = prefix[pk]
                number = f"{head}{no:04d}"
                summary = data.summary.strip()
                salt = salts[16 * offset : 16 * offset + 16]
                bound = dates.get(d)
                if bound is None:
                    bound = dates[d] = (bind_date(d), d.isoformat())
                private = False
                parts = []
                for n, li in enumerate(data.lines, start=1):
                    account_id, fund_id, unit, dr, cr = (
                        li.account_id,
                        li.fund_id,
                        li.unit or "CNY",
                        li.debit,
                        li.credit,
                    )
                    l_add(
                        (
                            community_id,
                            vid,
                            n,
                            account_id,
                            fund_id,
                            unit,
                            dr,
                            cr,
                            (li.memo or "")[:300],
                            li.resident_id,
                            li.counterparty_org_id,
                        )
                    )
                    s = sums[(account_id, fund_id or 0, unit, pk)]
                    s[0] += dr
                    s[1] += cr
                    if li.resident_id is not None:
                        private = True
                    parts.append(
                        f'{line_head[account_id]}{cr},"debit":{dr}'
                        f"{tails.get((fund_id, unit)) or line_tail(fund_id, unit)}"
                    )
                e_add((community_id, vid, source, actor_id, event_at, ""))
                e_add((community_id, vid, "posted", actor_id, event_at, ""))
                leaf = (
                    f'{{"book":{book_id},"date":"{bound[1]}","index":{index},"kind":{kind_json},'
                    f'"lines":[{",".join(parts)}],"number":{esc(number)},"private":null,"reverses":null,'
                    f'"summary":{esc(summary)},"v":{version}}}'
                ).encode()
                private_json = "null"
                if checked_batch != start and not use_reference and not private:
                    checked_batch = start
                    use_reference = (leaf, private_json) != reference_leaf(
                        index, number, d, summary, data.lines, salt
                    )
                if use_reference or private:
                    leaf, private_json = reference_leaf(index, number, d, summary, data.lines, salt)
                v_add(
                    (
                        vid,
                        community_id,
                        book_id,
                        bound[0],
                        summary,
                        kind_value,
                        approved,
                        int(data.attachment_count or 0),
                        source,
                        actor_id,
                        actor_id,
                        actor_id,
                        period_id,
                        number,
                        index,
                        posted_at,
                        bind_salt(salt),
                        private_json,
                        created_at,
                    )
                )
                # merkle.nodes_to_store_on_append, inlined (its checks are for hashes read from
                # storage; these are all computed here): the leaf, then one parent per trailing
                # one-bit of its index. The first voucher of each batch is also done by merkle.
                h = sha256(b"\x00" + leaf).digest()  # merkle.leaf_hash
                nodes = [(0, index, h)]
                level, node_index = 0, index
                while node_index & 1:
                    h = sha256(
                        b"\x01" + frontier[(level, node_index - 1)] + h
                    ).digest()  # merkle.node_hash
                    level, node_index = level + 1, node_index >> 1
                    nodes.append((level, node_index, h))
                if offset == 0 and nodes != merkle.nodes_to_store_on_append(
                    index, nodes[0][2], get_node
                ):
                    raise RuntimeError(
                        "post_imported_vouchers: the log's subtree hashes differ from merkle's"
                    )
                for level, node_index, h in nodes:
                    frontier[(level, node_index)] = h
                    n_add((book_id, level, node_index, community_id, bind_hash(h)))
            yield ("batch", start, index, v_rows, l_rows, e_rows, n_rows)
            frontier = {node: frontier[node] for node in merkle.compact_range(index + 1)}

    def rows():
        yield from batches()
        yield ("sums", dict(sums))  # for the parent, when a child built the rows

    # Rows built by a forked child while this process writes the previous batch (building them
    # is Python, writing them mostly the database's C code): large imports, several CPUs, and
    # never with residents, whose private fields are read from the database.
    if parallel is None:
        parallel = len(inputs) >= 20_000 and forked.available()
    parallel = (
        parallel
        and hasattr(os, "fork")
        and bind_hash is bytes
        and all(li.resident_id is None for data in inputs for li in data.lines)
    )
    try:
        with forked.in_child(rows) if parallel else nullcontext(rows()) as received:
            for item in received:
                if item[0] == "sums":
                    sums.update(item[1])
                    continue
                _kind, start, index, v_rows, l_rows, e_rows, n_rows = item
                write(vt, v_cols, v_sql, v_rows)
                write(
                    lt, l_cols, l_sql, l_rows
                )  # while approved: the insert guard refuses lines of posted ones
                write(et, e_cols, e_sql, e_rows)
                write(nt, n_cols, n_sql, n_rows)
                conn.execute(
                    sa.update(vt)
                    .where(
                        vt.c.book_id == book.id, vt.c.log_index.between(first_index + start, index)
                    )
                    .values(status=VoucherStatus.POSTED.value)
                )
    except forked.ChildFailed as e:
        raise RuntimeError(f"post_imported_vouchers: {e}") from None
    if cache_size is not None:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache_size)}")
    # The same upsert as _post, once: one pseudo-voucher per month carrying the month's sums.
    months: dict[int, list] = defaultdict(list)
    for (account_id, fund_key, unit, pk), (dr, cr) in sums.items():
        months[pk].append(
            SimpleNamespace(
                account_id=account_id, fund_id=fund_key or None, unit=unit, debit=dr, credit=cr
            )
        )
    _add_to_balances(
        book,
        [
            SimpleNamespace(date=dt.date(pk // 100, pk % 100, 1), lines=lines)
            for pk, lines in sorted(months.items())
        ],
    )
    db.session.flush()
    return new_ids
