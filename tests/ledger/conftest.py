"""Ledger fixtures: a book per standard and people in each role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from core.auth import grant_role
from core.db import db
from core.models import Community, Organisation, User
from ledger import services as svc
from ledger.models import Account, Book, Voucher
from tests.factories import UserFactory


@pytest.fixture
def people(organisation, user_factory):
    """One user per role in ``organisation``."""
    out = {}
    for role in ("admin", "preparer", "reviewer", "auditor", "supervisor"):
        u = user_factory(username=f"{role}_{organisation.id}")
        grant_role(u, organisation, role)
        out[role] = u
    db.session.flush()
    return out


@pytest.fixture
def book(organisation):
    return svc.create_book(organisation)


def make_book(organisation_factory, kind: str, people_for=None):
    org = organisation_factory(kind=kind)
    return svc.create_book(org), org


@pytest.fixture
def acct(book):
    """acct("1002") → the account with that code in ``book``."""

    def get(code: str, b=None) -> Account:
        b = b or book
        return db.session.scalar(
            sa.select(Account).where(Account.book_id == b.id, Account.code == code)
        )

    return get


def lines(*specs, unit="CNY"):
    """lines((acc, 100, 0), (acc2, 0, 100)) → LineInput list."""
    out = []
    for spec in specs:
        acc, dr, cr, *rest = spec
        extra = rest[0] if rest else {}
        out.append(
            svc.LineInput(
                account_id=acc.id,
                debit=dr,
                credit=cr,
                unit=extra.get("unit", unit),
                fund_id=extra.get("fund_id"),
                resident_id=extra.get("resident_id"),
            )
        )
    return out


@pytest.fixture
def post(people, book):
    """post(lines, date=…, summary=…) → a posted voucher, through draft → submitted → approved → posted."""

    def run(ls, date=None, summary="测试凭证", b=None):
        b = b or book
        v = svc.create_voucher(
            b, svc.VoucherInput(date or dt.date(2026, 3, 5), summary, ls), actor=people["preparer"]
        )
        svc.submit_voucher(v, actor=people["preparer"])
        svc.approve_voucher(v, actor=people["reviewer"])
        return svc.post_voucher(v, actor=people["reviewer"])

    return run


@dataclass
class TwoPersonBook:
    """An SME enterprise's book (in a community of its own) with a preparer and a reviewer,
    and its accounts' ids by code."""

    book: Book
    preparer: User
    reviewer: User
    codes: dict[str, int]

    def approved_sale(self, day: dt.date, summary: str, amount: int) -> Voucher:
        """Bank 1002 debit, revenue 5001 credit: prepared, submitted and approved."""
        v = svc.create_voucher(
            self.book,
            svc.VoucherInput(
                day,
                summary,
                [
                    svc.LineInput(account_id=self.codes["1002"], debit=amount),
                    svc.LineInput(account_id=self.codes["5001"], credit=amount),
                ],
            ),
            actor=self.preparer,
        )
        svc.submit_voucher(v, actor=self.preparer)
        svc.approve_voucher(v, actor=self.reviewer)
        return v


def two_person_book(name: str, slug: str) -> TwoPersonBook:
    """For tests on a database of their own (``committing_app``), where factories' defaults
    would collide with nothing but a fixed world reads better."""
    community = Community(name=f"{name}社区", slug=slug)
    db.session.add(community)
    db.session.flush()
    org = Organisation(
        community_id=community.id,
        name=f"{name}企业",
        slug=slug,
        kind="enterprise",
        standard="SME_2011",
    )
    db.session.add(org)
    db.session.flush()
    book = svc.create_book(org)
    preparer, reviewer = UserFactory(username="p"), UserFactory(username="r")
    grant_role(preparer, org, "preparer")
    grant_role(reviewer, org, "reviewer")
    codes = {
        a.code: a.id
        for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
    }
    return TwoPersonBook(book, preparer, reviewer, codes)


def voucher_form(c, **over):
    """The HTML entry form's fields for a balanced two-line voucher, with ``over`` replacing any."""
    data = {
        "csrf_token": c.csrf,
        "date": "2026-03-05",
        "summary": "收到服务费",
        "attachment_count": "0",
        "account": ["1002", "5001"],
        "debit": ["10.00", ""],
        "credit": ["", "10.00"],
        "fund": ["", ""],
        "memo": ["", ""],
        "do": "save",
    }
    data.update(over)
    return data
