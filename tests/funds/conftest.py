"""Funds fixtures: a foundation with its NPO_2004 book, people in each role, a council."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from core.models import Organisation, User
from funds import services as fs
from funds.models import CommunityFund, Council
from ledger import services as ledger
from ledger.models import Book
from tests.factories import member

D = dt.date


@dataclass
class Host:
    org: Organisation
    book: Book
    prep: User
    admin: User
    secretary: User
    auditor: User
    council: Council
    pf: CommunityFund  # 社区保障资金 fund (restricted to public services)
    micro: CommunityFund  # a company-founded micro-fund (restricted: elderly, culture)
    endow: CommunityFund  # an endowment
    free: CommunityFund  # unrestricted


@pytest.fixture
def host(organisation_factory) -> Host:
    org = organisation_factory(kind="foundation")
    book = ledger.create_book(org)
    prep = member(org, "preparer")
    admin = member(org, "admin")
    secretary = member(org, "council_secretary")
    auditor = member(org, "auditor")
    council = fs.create_council(
        org,
        name="望平社区居民议事会",
        members=[(f"议事员{i}", D(2025, 1, 1)) for i in range(9)],
        quorum=(2, 3),
        actor=prep,
    )
    pf = fs.create_community_fund(
        org,
        code="PF",
        name="社区保障资金",
        founder_type="COMMUNITY",
        purpose_tags=["public_services"],
        public_finance=True,
        actor=prep,
    )
    micro = fs.create_community_fund(
        org,
        code="MF-01",
        name="望平老人微基金",
        founder_type="COMPANY",
        founder_name="某餐饮公司",
        purpose_tags=["elderly", "culture"],
        rules=[("disburse", "committee", 500_00), ("release", "committee", 0)],
        actor=prep,
    )
    endow = fs.create_community_fund(
        org,
        code="EN-01",
        name="非遗传承基金（不动本）",
        founder_type="RESIDENTS",
        purpose_tags=["heritage"],
        endowment=True,
        actor=prep,
    )
    free = fs.create_community_fund(
        org, code="GEN", name="社区公益基金", founder_type="UNIT", restricted=False, actor=prep
    )
    for cf in (micro, endow):
        for i in range(3):
            fs.add_committee_member(
                cf, name=f"委员{i}", role="委员", term_start=D(2025, 1, 1), actor=prep
            )
    return Host(org, book, prep, admin, secretary, auditor, council, pf, micro, endow, free)


@pytest.fixture
def acct_of():
    from tests.factories import account_in

    return account_in
