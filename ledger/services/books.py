"""Books (账套), their charts of accounts, funds and units."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import signals as core_signals
from core.db import db
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Organisation, User

from .. import policy, signals
from ..amounts import is_iso_currency
from ..charts import NPO_STANDARDS, load_chart
from ..models import Account, Book, BookPolicyChange, BookUnit, Fund, VoucherLine
from ..posting import Problems, unit_exponent

__all__ = [
    "account_has_postings",
    "add_sub_account",
    "book_for",
    "create_book",
    "create_fund",
    "declare_unit",
    "get_book",
    "parent_org",
    "set_account_active",
    "set_single_person_mode",
    "unit_exponent",
]

# NPO revenue accounts split into 非限定性 / 限定性 sub-accounts when a book is created.
NPO_SPLIT_REVENUE = ("4101", "4401")


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
    signals.book_created.send(book)
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
    if standard in NPO_STANDARDS:
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


def account_by_code(book: Book, code: str) -> Account | None:
    """The account ``code`` of ``book``, or None (a code with NUL, which PostgreSQL refuses in
    text, names no account). Callers refuse in their own words."""
    if "\x00" in code:
        return None
    return db.session.scalar(
        sa.select(Account).where(Account.book_id == book.id, Account.code == code)
    )


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
        policy.require(parent_org(parent.book_id), "prepare", user=actor)
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
    """The organisation of a stored book (every book has one)."""
    return db.session.execute(
        sa.select(Organisation)
        .join(Book, Book.organisation_id == Organisation.id)
        .where(Book.id == book_id)
    ).scalar_one()


def set_account_active(account: Account, active: bool, *, actor: User) -> Account:
    """Accounts are deactivated, never deleted: their history stays readable."""
    policy.require(parent_org(account.book_id), "prepare", user=actor)
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
        policy.require(parent_org(book.id), "prepare", user=actor)
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


def set_single_person_mode(book: Book, enabled: bool, reason: str, *, actor: User) -> Book:
    """Tiny funds may let the preparer approve their own vouchers, by an admin's recorded choice."""
    policy.require(parent_org(book.id), "manage", user=actor)
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


@core_signals.organisation_created.connect
def _open_book_of_new_organisation(organisation: Organisation, **_kwargs) -> Book:
    """A platform admin created an organisation (core.onboarding): open its book. A book
    opened for real books starts from its opening balances (期初余额), unless its admin
    declares that it starts from zero."""
    book = create_book(organisation)
    book.opening_state = "required"
    db.session.flush()
    return book
