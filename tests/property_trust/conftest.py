"""Property-trust fixtures: a trust-fund organisation with a compound, units and owners."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from core.auth import grant_role
from core.db import db
from core.models import Organisation, Resident, User
from ledger import services as ledger
from ledger.models import Book
from property_trust import services as pt
from property_trust.models import Compound, Unit
from tests.factories import ResidentFactory, UserFactory

ROLES = ("admin", "preparer", "reviewer", "auditor", "supervisor")


@dataclass
class Trust:
    org: Organisation
    book: Book
    compound: Compound
    people: dict[str, User]
    units: list[Unit]
    owners: list[Resident]


def make_trust(organisation_factory, n_units: int = 4, areas=None) -> Trust:
    org = organisation_factory(kind="trust_fund")
    book = ledger.create_book(org)
    people = {}
    for role in ROLES:
        u = UserFactory(username=f"pt_{role}_{org.id}")
        grant_role(u, org, role)
        people[role] = u
    db.session.flush()
    compound = pt.create_compound(
        org, "玉林北路测试小区", actor=people["admin"], trustee="某物业公司"
    )
    pt.set_fee_rate(compound, "residential", "2.50", dt.date(2026, 1, 1), actor=people["admin"])
    owners, units = [], []
    areas = areas or [Decimal("89.37"), Decimal("120.00"), Decimal("65.55"), Decimal("101.01")]
    for i in range(n_units):
        r = ResidentFactory(community=org.community)
        owners.append(r)
        units.append(
            pt.add_unit(
                compound,
                f"{i % 2 + 1}栋",
                f"{101 + i}",
                area=areas[i % len(areas)],
                owners=[r],
                actor=people["preparer"],
            )
        )
    return Trust(org, book, compound, people, units, owners)


@pytest.fixture
def trust(organisation_factory) -> Trust:
    return make_trust(organisation_factory)


@pytest.fixture
def acct_balance():
    """acct_balance(book, code) → debit − credit of the account's posted lines."""
    from ledger.reports.balances import account_balances

    def get(book, code):
        return sum(b.balance for b in account_balances(book) if b.account.code == code)

    return get
