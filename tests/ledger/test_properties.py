"""Properties of the reports over random posted books (hypothesis).

For random sets of balanced vouchers (random posting accounts of the chart, amounts of 1 to
10^9 fen, dates over three months, two units, funds, some red reversals and sometimes the
year-end closing), posted through ledger.services:

* the trial balance of any date range balances (opening, movement, closing) in every unit,
  and its rows equal a naive re-totalling of the vouchers' lines;
* the closing balances of all accounts sum to zero per unit;
* ``account_balances`` at any date equals the naive re-totalling;
* the balance sheet balances and maps every account; the flow statement's bottom line is
  revenue − expenses; closing the year changes neither statement.

Each example runs in a SAVEPOINT that is rolled back, so the function-scoped fixtures (the
app's outer transaction, the book, the people) are shared safely between examples.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.auth import grant_role
from core.db import db
from ledger import reports
from ledger import services as svc
from ledger.models import Account
from tests.ledger.test_reports import naive_totals

FIRST_DAY = dt.date(2025, 8, 1)  # three months: August to October 2025
DAYS = 92
UNITS = ("CNY", "PTS")
ACCOUNT_SLOTS = 10_000  # an index into the book's posting accounts, taken modulo their number


@st.composite
def voucher_specs(draw):
    """(day, unit, [(account slot, fund choice, debit, credit)], reverse after days | None)."""
    debits = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=3))
    total = sum(debits)
    n_credit = draw(st.integers(1, min(3, total)))
    cuts = (
        sorted(
            draw(
                st.lists(
                    st.integers(1, total - 1),
                    min_size=n_credit - 1,
                    max_size=n_credit - 1,
                    unique=True,
                )
            )
        )
        if n_credit > 1
        else []
    )
    credits = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    slot = st.integers(0, ACCOUNT_SLOTS - 1)
    fund = st.integers(0, 2)
    lines = [(draw(slot), draw(fund), d, 0) for d in debits] + [
        (draw(slot), draw(fund), 0, c) for c in credits
    ]
    lines = draw(st.permutations(lines))
    day = draw(st.integers(0, DAYS - 1))
    unit = draw(st.sampled_from(UNITS))
    reverse = draw(st.one_of(st.none(), st.none(), st.integers(0, DAYS - 1 - day)))
    return day, unit, lines, reverse


dates = st.integers(0, DAYS - 1).map(lambda n: FIRST_DAY + dt.timedelta(days=n))


@pytest.fixture(params=["enterprise", "foundation", "trust_fund"])
def setting(request, organisation_factory, user_factory):
    """A fresh book of each kind with a preparer, a reviewer, two funds and a points unit."""
    return random_book_setting(request.param, organisation_factory, user_factory)


def random_book_setting(kind: str, organisation_factory, user_factory):
    """(book, people, funds, posting accounts) for random-voucher properties (also used by
    tests/ledger/test_cash_flow.py)."""
    org = organisation_factory(kind=kind)
    who = {}
    for role in ("preparer", "reviewer"):
        who[role] = user_factory()
        grant_role(who[role], org, role)
    db.session.flush()
    book = svc.create_book(org)
    funds = {
        "restricted": svc.create_fund(book, "R", "限定性基金", restricted=True),
        "open": svc.create_fund(book, "U", "非限定性基金", restricted=False),
    }
    svc.declare_unit(book, "PTS", "服务积分", 0)
    accounts = list(
        db.session.scalars(
            sa.select(Account)
            .where(Account.book_id == book.id, Account.has_children.is_(False))
            .order_by(Account.code)
        )
    )
    return book, who, funds, accounts


def _fund_for(account: Account, choice: int, funds) -> int | None:
    # restricted revenue and net assets need a restricted fund; unrestricted revenue refuses one
    if account.restriction == "restricted":
        return funds["restricted"].id
    if account.restriction == "unrestricted":
        return None if choice != 2 else funds["open"].id
    return (None, funds["restricted"].id, funds["open"].id)[choice]


def _post_through_review(book, who, v):
    svc.submit_voucher(v, actor=who["preparer"])
    svc.approve_voucher(v, actor=who["reviewer"])
    return svc.post_voucher(v, actor=who["reviewer"])


def _post_all(book, who, funds, accounts, specs):
    for day, unit, spec_lines, reverse in specs:
        ls = []
        for slot, choice, dr, cr in spec_lines:
            acc = accounts[slot % len(accounts)]
            ls.append(
                svc.LineInput(
                    account_id=acc.id,
                    debit=dr,
                    credit=cr,
                    unit=unit,
                    fund_id=_fund_for(acc, choice, funds),
                )
            )
        d = FIRST_DAY + dt.timedelta(days=day)
        v = svc.create_voucher(book, svc.VoucherInput(d, "随机凭证", ls), actor=who["preparer"])
        v = _post_through_review(book, who, v)
        if reverse is not None:
            red = svc.reverse_voucher(v, actor=who["preparer"], date=d + dt.timedelta(days=reverse))
            _post_through_review(book, who, red)


PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(specs=st.lists(voucher_specs(), min_size=1, max_size=8), a=dates, b=dates, as_of=dates)
def test_posted_books_keep_every_report_balanced(setting, specs, a, b, as_of):
    book, who, funds, accounts = setting
    start, end = min(a, b), max(a, b)
    sp = db.session.begin_nested()
    try:
        _post_all(book, who, funds, accounts, specs)

        # trial balance of any range: balanced, and equal to re-totalling the lines
        for unit in UNITS:
            tb = reports.trial_balance(book, start=start, end=end, unit=unit)
            assert tb.balanced, (unit, tb.totals)
            leaves = [r for r in tb.rows if not r.rollup]
            assert sum(r.closing for r in leaves) == 0
            before = naive_totals(book, end=start - dt.timedelta(days=1), unit=unit)
            during = naive_totals(book, start, end, unit=unit)
            expected = {}
            for acc_id, _u in set(before) | set(during):
                o = before.get((acc_id, unit), [0, 0])
                dr, cr = during.get((acc_id, unit), [0, 0])
                if o[0] - o[1] or dr or cr:
                    expected[acc_id] = (o[0] - o[1], dr, cr)
            assert {r.account.id: (r.opening, r.debit, r.credit) for r in leaves} == expected

        # account balances at any date (and overall) equal re-totalling the lines
        for when in (as_of, None):
            got = {
                (x.account.id, x.unit): [x.debit_total, x.credit_total]
                for x in reports.account_balances(book, as_of=when)
            }
            assert got == {k: v for k, v in naive_totals(book, end=when).items() if v != [0, 0]}
            assert set(
                reports.total_by_unit(reports.account_balances(book, as_of=when)).values()
            ) <= {0}

        # statements in the official layouts
        bs = reports.balance_sheet(book, as_of=as_of)
        assert bs.ok, bs.checks
        flows = reports.income_statement(book, start=start, end=end)
        assert flows.ok, flows.checks
        fs = reports.fund_statement(book, start=start, end=end)
        assert fs.checks and all(fs.checks.values())

        # year-end closing changes neither the balance sheet's totals nor the year's flows
        if svc._needs_year_end_closing(book, 2025):
            year_end = dt.date(2025, 12, 31)
            flows_before = reports.income_statement(book, start=dt.date(2025, 1, 1), end=year_end)
            sheet_before = reports.balance_sheet(book, as_of=year_end)
            svc.generate_year_end_closing(book, 2025, actor=who["reviewer"])
            flows_after = reports.income_statement(book, start=dt.date(2025, 1, 1), end=year_end)
            sheet_after = reports.balance_sheet(book, as_of=year_end)
            assert flows_after.ok and sheet_after.ok, (flows_after.checks, sheet_after.checks)
            # NPO: the closing releases restricted net assets (line 40) and moves net assets
            # between lines 101 and 105; everything else stays as it was
            moving = {
                "released_from_restriction",
                "change_in_net_assets",
                "unrestricted_net_assets",
                "restricted_net_assets",
            }
            for before, after in ((flows_before, flows_after), (sheet_before, sheet_after)):
                for x, y in zip(before.lines, after.lines, strict=True):
                    if x.key in moving:
                        totals = [
                            i
                            for i, c in enumerate(before.columns)
                            if c.value in ("total", "amount")
                        ]
                        if x.key != "unrestricted_net_assets" and x.key != "restricted_net_assets":
                            assert [x.amounts[i] for i in totals] == [y.amounts[i] for i in totals]
                    else:
                        assert x.amounts == y.amounts, x.key
            tb = reports.trial_balance(book, start=dt.date(2025, 12, 1), end=year_end)
            assert tb.balanced
            assert all(r.closing == 0 for r in tb.rows if r.account.type in ("revenue", "expense"))
    finally:
        sp.rollback()
