"""factory_boy factories, registered as fixtures in conftest through pytest-factoryboy."""

from __future__ import annotations

import datetime as dt

import factory
import sqlalchemy as sa
from factory.alchemy import SQLAlchemyModelFactory

from core.auth import grant_role, hash_password
from core.db import db
from core.models import KIND_STANDARD, Community, Organisation, OrganisationKind, Resident, User
from ledger import services as ledger_services
from ledger.models import Account, Book, Voucher

PASSWORD = "correct horse battery"


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class CommunityFactory(_Base):
    class Meta:
        model = Community

    name = factory.Sequence(lambda n: f"测试社区{n}")
    slug = factory.Sequence(lambda n: f"community-{n}")
    district = "成都市武侯区"


class OrganisationFactory(_Base):
    class Meta:
        model = Organisation

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"测试社区企业{n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    kind = OrganisationKind.ENTERPRISE.value
    standard = factory.LazyAttribute(lambda o: KIND_STANDARD[OrganisationKind(o.kind)].value)


class ResidentFactory(_Base):
    class Meta:
        model = Resident

    community = factory.SubFactory(CommunityFactory)
    name = factory.Iterator(["王秀兰", "李春生", "赵明华", "钱永福"])
    phone = factory.Sequence(lambda n: f"1390000{n:04d}")
    id_number = factory.Sequence(lambda n: f"51010719800101{n:04d}")
    unit = factory.Sequence(lambda n: f"{n % 9 + 1}栋1单元{100 + n}")


class UserFactory(_Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda u: f"用户 {u.username}")
    password_hash = factory.LazyFunction(lambda: hash_password(PASSWORD))
    is_platform_admin = False


# --- ledger: books, accounts, vouchers, made through the ledger's public services ------------
#
# The domains build on these: a test that needs "a posted voucher in a foundation's book" asks
# for ``voucher_factory(book=book_factory(organisation__kind="foundation"))`` and gets one that
# went through the same checks, numbering and log as any other.

# The bank account and an ordinary revenue account of each standard's chart.
BANK = "1002"
REVENUE = {"SME_2011": "5001", "NPO_2004": "4201", "TRUST_FUND": "4101"}


class BookFactory(factory.Factory):
    """An organisation's book (账套), opened by ``ledger.services.create_book`` with the chart
    of the organisation's standard (and whatever the layers above do when a book is created)."""

    class Meta:
        model = Book

    organisation = factory.SubFactory(OrganisationFactory)

    @classmethod
    def _create(cls, model_class, organisation: Organisation) -> Book:
        return ledger_services.create_book(organisation)


def account_in(book: Book, code: str) -> Account:
    """The account with ``code`` in ``book``'s chart."""
    account = db.session.scalar(
        sa.select(Account).where(Account.book_id == book.id, Account.code == code)
    )
    if account is None:
        raise LookupError(f"book {book.id} ({book.chart}) has no account {code}")
    return account


class AccountFactory(factory.Factory):
    """An account looked up by code in a book's chart: charts come with the book, so a test
    names the account it means (``account_factory(book=book, code="1122")``) rather than
    inventing one."""

    class Meta:
        model = Account

    book = factory.SubFactory(BookFactory)
    code = BANK

    @classmethod
    def _create(cls, model_class, book: Book, code: str) -> Account:
        return account_in(book, code)


def member(organisation: Organisation, role: str) -> User:
    """A fresh user holding ``role`` in ``organisation``."""
    user = UserFactory()
    grant_role(user, organisation, role)
    db.session.flush()
    return user


VOUCHER_STEPS = ("draft", "submitted", "approved", "posted")


class VoucherFactory(factory.Factory):
    """A voucher (记账凭证) made the way a treasurer makes one: created by a preparer, then
    submitted, approved and posted by a reviewer through ``ledger.services``, as far as
    ``status`` says ("draft", "submitted", "approved" or "posted", the default).

    ``lines``: (account code, debit, credit) triples or ``LineInput``s; by default ``amount``
    fen received in the bank against the standard's ordinary revenue account."""

    class Meta:
        model = Voucher

    book = factory.SubFactory(BookFactory)
    date = dt.date(2026, 3, 5)
    summary = factory.Sequence(lambda n: f"测试凭证 {n}")
    amount = 100_00
    lines = None
    status = "posted"
    preparer = factory.LazyAttribute(lambda o: member(o.book.organisation, "preparer"))
    reviewer = factory.LazyAttribute(lambda o: member(o.book.organisation, "reviewer"))

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("a voucher exists only once the ledger's services made it: use create")

    @classmethod
    def _create(
        cls,
        model_class,
        *,
        book: Book,
        date: dt.date,
        summary: str,
        amount: int,
        lines,
        status: str,
        preparer: User,
        reviewer: User,
    ) -> Voucher:
        if status not in VOUCHER_STEPS:
            raise ValueError(f"status {status!r} is not one of {', '.join(VOUCHER_STEPS)}")
        if lines is None:
            lines = [(BANK, amount, 0), (REVENUE[book.standard], 0, amount)]
        inputs = [
            line
            if isinstance(line, ledger_services.LineInput)
            else ledger_services.LineInput(
                account_id=account_in(book, line[0]).id, debit=line[1], credit=line[2]
            )
            for line in lines
        ]
        svc = ledger_services
        voucher = svc.create_voucher(book, svc.VoucherInput(date, summary, inputs), actor=preparer)
        steps = VOUCHER_STEPS[1 : VOUCHER_STEPS.index(status) + 1]
        if "submitted" in steps:
            svc.submit_voucher(voucher, actor=preparer)
        if "approved" in steps:
            svc.approve_voucher(voucher, actor=reviewer)
        if "posted" in steps:
            voucher = svc.post_voucher(voucher, actor=reviewer)
        return voucher
