"""Shareholders fixtures: an SME_2011 enterprise with its book, articles of association,
residents of its community, an admin, and helpers to subscribe, pay in and make profit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from core.auth import grant_role
from core.db import db
from core.models import Organisation, Resident, User
from ledger import services as lsvc
from shareholders import services as ssvc
from tests import factories
from tests.browser.conftest import browser, live_server  # noqa: F401  (for test_browser.py)

D = dt.date


@dataclass
class Setting:
    org: Organisation
    book: object
    admin: User
    residents: list[Resident]

    def holder(self, i: int):
        return ssvc.add_shareholder(self.org, resident=self.residents[i], actor=self.admin)

    def subscribe_and_pay(self, i: int, amount: int, date=D(2025, 1, 10), paid: int | None = None):
        sh = self.holder(i)
        ssvc.subscribe(
            self.org,
            sh,
            amount=amount,
            date=date,
            due_date=date + dt.timedelta(days=365),
            actor=self.admin,
        )
        if paid is None:
            paid = amount
        if paid:
            ssvc.pay_in(self.org, sh, amount=paid, date=date, actor=self.admin)
        return sh

    def profit(self, year: int, amount: int) -> None:
        """Revenue of ``amount`` in ``year``, then the year-end closing into 3104."""
        acc = {c: factories.account_in(self.book, c).id for c in ("1002", "5001")}
        lsvc.post_vouchers(
            self.book,
            [
                lsvc.VoucherInput(
                    date=D(year, 6, 1),
                    summary="服务收入",
                    lines=[
                        lsvc.LineInput(account_id=acc["1002"], debit=amount),
                        lsvc.LineInput(account_id=acc["5001"], credit=amount),
                    ],
                )
            ],
            source="test",
            actor=self.admin,
        )
        lsvc.generate_year_end_closing(self.book, year, actor=self.admin)


def make_setting(capital: int = 1_000_000_00, n_residents: int = 6, **articles) -> Setting:
    org = factories.OrganisationFactory()
    book = lsvc.create_book(org)
    admin = factories.UserFactory()
    grant_role(admin, org, "admin")
    residents = [factories.ResidentFactory(community=org.community) for _ in range(n_residents)]
    db.session.flush()
    ssvc.set_articles(org, registered_capital=capital, actor=admin, **articles)
    return Setting(org, book, admin, residents)


@pytest.fixture
def setting(app) -> Setting:
    return make_setting()
