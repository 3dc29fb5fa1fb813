"""The register, subscriptions, payments, certificates, transfers and dividends (issue 10),
and every refusal the issue lists: a translated message naming the rule and the figures, and
nothing stored."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from core.db import db
from core.errors import DomainError
from ledger import services as lsvc
from ledger.models import Account, Voucher, VoucherLine
from shareholders import models as m
from shareholders import services as ssvc
from tests import factories
from tests.shareholders.conftest import D, make_setting

pytestmark = pytest.mark.usefixtures("english")

TABLES = (
    m.Shareholder,
    m.Subscription,
    m.RegisterEvent,
    m.Certificate,
    m.Transfer,
    m.PreemptionClaim,
    m.DividendResolution,
    m.DividendLine,
    Voucher,
)


def counts() -> dict:
    return {
        t.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in TABLES
    }


def refused(fn, *words: str) -> DomainError:
    """``fn`` is refused with a message containing ``words``, and nothing is stored."""
    before = counts()
    with pytest.raises(DomainError) as e:
        with db.session.begin_nested():
            fn()
    assert counts() == before
    for w in words:
        assert w in str(e.value.message), (w, str(e.value.message))
    return e.value


def test_pay_in_posts_dr_1002_cr_3001_with_the_resident_as_counterparty(setting):
    sh = setting.subscribe_and_pay(0, 20_000_00, paid=15_000_00)
    ev = [e for e in ssvc.events(setting.org, sh) if e.kind == "pay"][0]
    v = db.session.get(Voucher, ev.voucher_id)
    assert v.is_posted and v.source == "shareholders"
    assert [(ln.account.code, ln.debit, ln.credit, ln.resident_id) for ln in v.lines] == [
        ("1002", 15_000_00, 0, sh.resident_id),
        ("3001", 0, 15_000_00, sh.resident_id),
    ]
    assert setting.residents[0].name not in v.summary
    h = ssvc.holdings(setting.org)[sh.id]
    assert (h.subscribed, h.paid_in, h.outstanding) == (20_000_00, 15_000_00, 5_000_00)
    assert ssvc.check_register(setting.org) == []


def test_register_as_of_a_date_and_overdue_subscriptions(setting):
    sh = setting.holder(0)
    ssvc.subscribe(
        setting.org,
        sh,
        amount=10_000_00,
        date=D(2024, 1, 5),
        due_date=D(2024, 6, 30),
        actor=setting.admin,
    )
    ssvc.pay_in(setting.org, sh, amount=4_000_00, date=D(2024, 2, 1), actor=setting.admin)
    ssvc.pay_in(setting.org, sh, amount=3_000_00, date=D(2024, 8, 1), actor=setting.admin)
    assert ssvc.holdings(setting.org, D(2024, 1, 31))[sh.id].paid_in == 0
    assert ssvc.holdings(setting.org, D(2024, 3, 1))[sh.id].paid_in == 4_000_00
    assert ssvc.holdings(setting.org, D(2024, 9, 1))[sh.id].paid_in == 7_000_00
    for d in (D(2024, 1, 31), D(2024, 3, 1), D(2024, 9, 1)):
        assert ssvc.check_register(setting.org, d) == []
    overdue = ssvc.overdue_subscriptions(setting.org, today=D(2024, 7, 1))
    assert [(s.id, left) for s, left in overdue] == [(overdue[0][0].id, 6_000_00)]
    assert ssvc.overdue_subscriptions(setting.org, today=D(2024, 6, 1)) == []


def test_certificates_are_reissued_on_every_change_and_the_old_one_voided(setting):
    sh = setting.subscribe_and_pay(0, 10_000_00, paid=5_000_00)
    first = ssvc.current_certificate(sh)
    assert first.paid_in == 5_000_00
    ssvc.pay_in(setting.org, sh, amount=5_000_00, date=D(2025, 2, 1), actor=setting.admin)
    second = ssvc.current_certificate(sh)
    assert second.number == first.number + 1 and second.paid_in == 10_000_00
    db.session.refresh(first)
    assert first.void_on == D(2025, 2, 1)


def test_a_discrepancy_between_register_and_3001_is_reported(setting):
    sh = setting.subscribe_and_pay(0, 10_000_00)
    acc = {c: factories.account_in(setting.book, c).id for c in ("1002", "3001")}
    lsvc.post_vouchers(
        setting.book,
        [
            lsvc.VoucherInput(
                D(2025, 3, 1),
                "出资",
                [
                    lsvc.LineInput(account_id=acc["1002"], debit=100, resident_id=sh.resident_id),
                    lsvc.LineInput(account_id=acc["3001"], credit=100, resident_id=sh.resident_id),
                ],
            )
        ],
        source="test",
        actor=setting.admin,
    )
    diffs = ssvc.check_register(setting.org)
    assert [(d.account, d.register, d.books) for d in diffs] == [("3001", 10_000_00, 10_001_00)]


def test_transfer_between_shareholders_is_immediate_and_moves_no_money(setting):
    a = setting.subscribe_and_pay(0, 10_000_00)
    b = setting.subscribe_and_pay(1, 10_000_00)
    cash = ssvc.account_balance(setting.book, "1002")
    t, warning = ssvc.propose_transfer(
        setting.org,
        a,
        buyer=b,
        amount=4_000_00,
        price=5_000_00,
        date=D(2025, 3, 1),
        actor=setting.admin,
    )
    assert warning is None and t.status == "completed" and t.filing_pending
    hs = ssvc.holdings(setting.org)
    assert (hs[a.id].paid_in, hs[b.id].paid_in) == (6_000_00, 14_000_00)
    assert ssvc.account_balance(setting.book, "1002") == cash
    assert ssvc.check_register(setting.org) == []
    ssvc.record_filing(setting.org, t, date=D(2025, 3, 20), actor=setting.admin)
    assert not t.filing_pending


def test_transfer_to_an_outsider_waits_30_days_then_claimants_split_pro_rata(setting):
    a = setting.subscribe_and_pay(0, 10_000_00)
    b = setting.subscribe_and_pay(1, 20_000_00)
    c = setting.subscribe_and_pay(2, 10_000_00)
    t, _ = ssvc.propose_transfer(
        setting.org,
        a,
        outsider_resident=setting.residents[5],
        amount=10_000_01 - 1,
        price=12_000_00,
        payment_terms="一次付清",
        date=D(2025, 3, 1),
        actor=setting.admin,
    )
    assert t.status == "notice" and t.window_ends == D(2025, 3, 31)
    refused(
        lambda: ssvc.complete_transfer(setting.org, t, date=D(2025, 3, 31), actor=setting.admin),
        "2025-03-31",
        "2025-04-01",
    )
    ssvc.claim_preemption(setting.org, t, b, date=D(2025, 3, 10), actor=setting.admin)
    ssvc.claim_preemption(setting.org, t, c, date=D(2025, 3, 30), actor=setting.admin)
    refused(
        lambda: ssvc.claim_preemption(setting.org, t, c, date=D(2025, 4, 2), actor=setting.admin)
    )
    ssvc.complete_transfer(setting.org, t, date=D(2025, 4, 1), actor=setting.admin)
    hs = ssvc.holdings(setting.org)
    # 10,000.00 split 2:1 → 6,666.67 and 3,333.33 (largest remainder)
    assert (hs[a.id].paid_in, hs[b.id].paid_in, hs[c.id].paid_in) == (0, 26_666_67, 13_333_33)
    assert [cl.allocated for cl in t.claims] == [6_666_67, 3_333_33]
    assert ssvc.find_shareholder(setting.org, setting.residents[5]) is None
    assert ssvc.current_certificate(a) is None
    assert ssvc.check_register(setting.org) == []


def test_transfer_to_an_outsider_without_claims_makes_a_new_shareholder(setting):
    a = setting.subscribe_and_pay(0, 10_000_00)
    t, _ = ssvc.propose_transfer(
        setting.org,
        a,
        outsider_resident=setting.residents[5],
        amount=3_000_00,
        price=0,
        date=D(2025, 3, 1),
        actor=setting.admin,
    )
    ssvc.complete_transfer(setting.org, t, date=D(2025, 4, 1), actor=setting.admin)
    new = ssvc.find_shareholder(setting.org, setting.residents[5])
    assert ssvc.holdings(setting.org)[new.id].paid_in == 3_000_00
    assert ssvc.current_certificate(new).paid_in == 3_000_00
    assert ssvc.check_register(setting.org) == []


def test_the_51st_shareholder_gives_a_warning(app):
    s = make_setting(n_residents=52)
    for i in range(50):
        s.subscribe_and_pay(i, 100_00)
    _sub, warning = ssvc.subscribe(
        s.org,
        s.holder(50),
        amount=100_00,
        date=D(2025, 2, 1),
        due_date=D(2025, 3, 1),
        actor=s.admin,
    )
    assert warning and "50" in warning and "51" in warning


def test_dividend_sets_aside_the_reserve_and_splits_by_paid_in_capital(setting):
    a = setting.subscribe_and_pay(0, 10_000_00)
    b = setting.subscribe_and_pay(1, 20_000_00)
    o = ssvc.add_shareholder(
        setting.org,
        holder_org=factories.OrganisationFactory(community=setting.org.community),
        actor=setting.admin,
    )
    ssvc.subscribe(
        setting.org,
        o,
        amount=30_000_00,
        date=D(2025, 1, 10),
        due_date=D(2025, 12, 31),
        actor=setting.admin,
    )
    ssvc.pay_in(setting.org, o, amount=30_000_00, date=D(2025, 1, 10), actor=setting.admin)
    setting.profit(2025, 10_000_00)
    fig = ssvc.dividend_figures(setting.org, profit_year=2025, date=D(2026, 3, 1))
    assert fig.reserve_required == 1_000_00 and fig.undistributed == 10_000_00
    r = ssvc.declare_dividend(
        setting.org,
        resolution_date=D(2026, 3, 1),
        record_date=D(2026, 2, 28),
        profit_year=2025,
        amount=1_000_00,
        reserve=1_000_00,
        votes_for=3,
        actor=setting.admin,
        today=D(2026, 3, 2),
    )
    assert {ln.shareholder_id: ln.amount for ln in r.lines} == {
        a.id: 166_67,
        b.id: 333_33,
        o.id: 500_00,
    }
    assert ssvc.account_balance(setting.book, "3101") == 1_000_00
    assert ssvc.account_balance(setting.book, "2232") == 1_000_00
    assert ssvc.check_register(setting.org) == []
    line_a = next(ln for ln in r.lines if ln.shareholder_id == a.id)
    line_o = next(ln for ln in r.lines if ln.shareholder_id == o.id)
    ssvc.pay_dividend(
        setting.org, line_a, date=D(2026, 3, 5), actor=setting.admin, today=D(2026, 3, 5)
    )
    ssvc.pay_dividend(
        setting.org, line_o, date=D(2026, 3, 5), actor=setting.admin, today=D(2026, 3, 5)
    )
    assert line_a.tax == 33_33 and line_o.tax == 0  # 20 % of 166.67, half up; none for a company
    assert ssvc.account_balance(setting.book, "2221") == 33_33
    assert ssvc.account_balance(setting.book, "2232") == 333_33
    assert ssvc.check_register(setting.org) == []
    refused(
        lambda: ssvc.pay_dividend(setting.org, line_a, date=D(2026, 3, 6), actor=setting.admin),
        "already paid",
    )


# --- bad input: refused with the rule and the figures, nothing stored ----------------------------


def test_subscribing_beyond_registered_capital(app):
    s = make_setting(capital=30_000_00)
    s.subscribe_and_pay(0, 20_000_00)
    sh = s.holder(1)
    refused(
        lambda: ssvc.subscribe(
            s.org, sh, amount=10_000_01, date=D(2025, 2, 1), due_date=D(2025, 3, 1), actor=s.admin
        ),
        "registered capital",
        "¥30000.00",
        "¥20000.00",
        "¥10000.00",
    )


def test_paying_in_more_than_subscribed(setting):
    sh = setting.subscribe_and_pay(0, 10_000_00, paid=0)
    refused(
        lambda: ssvc.pay_in(
            setting.org, sh, amount=10_000_01, date=D(2025, 2, 1), actor=setting.admin
        ),
        "¥10000.00",
    )


def test_transferring_more_than_held(setting):
    a = setting.subscribe_and_pay(0, 10_000_00)
    b = setting.subscribe_and_pay(1, 10_000_00)
    refused(
        lambda: ssvc.propose_transfer(
            setting.org,
            a,
            buyer=b,
            amount=10_000_01,
            price=0,
            date=D(2025, 3, 1),
            actor=setting.admin,
        ),
        "more than the seller holds",
        "¥10000.00",
    )


def test_a_transfer_the_articles_forbid(app):
    s = make_setting(residents_only=True, lockup_days=365)
    a = s.subscribe_and_pay(0, 10_000_00)
    b = s.subscribe_and_pay(1, 10_000_00)
    refused(
        lambda: ssvc.propose_transfer(
            s.org, a, buyer=b, amount=1_000_00, price=0, date=D(2025, 6, 1), actor=s.admin
        ),
        "locked up",
        "365",
        "2026-01-10",
    )
    outsider = factories.OrganisationFactory(community=s.org.community)
    refused(
        lambda: ssvc.propose_transfer(
            s.org,
            a,
            outsider_org=outsider,
            amount=1_000_00,
            price=0,
            date=D(2026, 6, 1),
            actor=s.admin,
        ),
        "residents of the community only",
    )


def test_a_shareholder_from_another_community(setting):
    stranger = factories.ResidentFactory()  # another community
    refused(
        lambda: ssvc.add_shareholder(setting.org, resident=stranger, actor=setting.admin),
        "another community",
    )
    a = setting.subscribe_and_pay(0, 10_000_00)
    refused(
        lambda: ssvc.propose_transfer(
            setting.org,
            a,
            outsider_resident=stranger,
            amount=1_000_00,
            price=0,
            date=D(2025, 3, 1),
            actor=setting.admin,
        ),
        "another community",
    )


def test_a_certificate_for_someone_who_holds_nothing(setting):
    sh = setting.holder(0)
    refused(
        lambda: ssvc.issue_certificate(setting.org, sh, date=D(2025, 1, 1), actor=setting.admin),
        "holds nothing",
        "¥0.00",
    )


def _dividend_setting():
    s = make_setting(capital=100_000_00)
    s.subscribe_and_pay(0, 40_000_00)
    s.subscribe_and_pay(1, 60_000_00)
    s.profit(2025, 20_000_00)
    return s


def _declare(s, **over):
    kw = dict(
        resolution_date=D(2026, 3, 1),
        record_date=D(2026, 2, 28),
        profit_year=2025,
        amount=5_000_00,
        reserve=2_000_00,
        actor=s.admin,
        today=D(2026, 3, 2),
    )
    kw.update(over)
    return ssvc.declare_dividend(s.org, **kw)


def test_a_dividend_that_skips_the_reserve(app):
    s = _dividend_setting()
    refused(
        lambda: _declare(s, reserve=0), "statutory reserve", "¥20000.00", "¥2000.00", "¥50000.00"
    )
    refused(lambda: _declare(s, reserve=1_999_99), "¥2000.00", "¥1999.99")


def test_a_dividend_beyond_distributable_profit(app):
    s = _dividend_setting()
    refused(
        lambda: _declare(s, amount=18_000_01),
        "exceeds distributable profit",
        "¥18000.00",
        "¥20000.00",
    )
    _declare(s, amount=18_000_00)


def test_prior_losses_must_be_made_up(app):
    s = make_setting()
    s.subscribe_and_pay(0, 40_000_00)
    acc = {c: factories.account_in(s.book, c).id for c in ("1002", "5602")}
    lsvc.post_vouchers(
        s.book,
        [
            lsvc.VoucherInput(
                D(2024, 5, 1),
                "费用",
                [
                    lsvc.LineInput(account_id=acc["5602"], debit=9_000_00),
                    lsvc.LineInput(account_id=acc["1002"], credit=9_000_00),
                ],
            )
        ],
        source="test",
        actor=s.admin,
    )
    lsvc.generate_year_end_closing(s.book, 2024, actor=s.admin)
    s.profit(2025, 5_000_00)
    refused(lambda: _declare(s, amount=1_00, reserve=0), "Prior losses", "¥-4000.00")


def test_a_record_date_in_the_future(app):
    s = _dividend_setting()
    refused(
        lambda: _declare(s, record_date=D(2026, 3, 3), resolution_date=D(2026, 3, 5)),
        "2026-03-03",
        "future",
    )


def test_a_resolution_dated_in_a_closed_period(app):
    s = _dividend_setting()
    for month in range(1, 13):
        lsvc.close_period(s.book, 2025, month, actor=s.admin)
    lsvc.close_period(s.book, 2026, 1, actor=s.admin)
    refused(
        lambda: _declare(s, resolution_date=D(2026, 1, 20), record_date=D(2026, 1, 10)),
        "closed period",
        "2026-01",
    )


def test_completing_a_transfer_inside_the_window(setting):
    a = setting.subscribe_and_pay(0, 10_000_00)
    t, _ = ssvc.propose_transfer(
        setting.org,
        a,
        outsider_resident=setting.residents[5],
        amount=1_000_00,
        price=0,
        date=D(2025, 3, 1),
        actor=setting.admin,
    )
    refused(
        lambda: ssvc.complete_transfer(setting.org, t, date=D(2025, 3, 15), actor=setting.admin),
        "pre-emption window",
        "2025-03-31",
    )


def test_refusals_are_translated(app):
    from flask_babel import force_locale

    s = make_setting(capital=10_000_00)
    sh = s.holder(0)
    with force_locale("zh_Hans_CN"):
        e = refused(
            lambda: ssvc.subscribe(
                s.org,
                sh,
                amount=10_000_01,
                date=D(2025, 2, 1),
                due_date=D(2025, 3, 1),
                actor=s.admin,
            )
        )
        assert "注册资本" in str(e.message)


def test_capital_transferred_away_is_not_overdue(setting):
    a = setting.subscribe_and_pay(0, 10_000_00, paid=6_000_00)
    b = setting.subscribe_and_pay(1, 10_000_00)
    ssvc.propose_transfer(
        setting.org, a, buyer=b, amount=6_000_00, price=0, date=D(2025, 3, 1), actor=setting.admin
    )
    overdue = ssvc.overdue_subscriptions(setting.org, today=D(2026, 6, 1))
    assert [(s.shareholder_id, left) for s, left in overdue] == [(a.id, 4_000_00)]


def test_optional_policies_are_off_by_default_and_cite_their_source(app):
    s = _dividend_setting()
    a = ssvc.articles(s.org)
    assert a.dividend_cap_pct is None and a.reinvestment_min_pct is None
    refused(
        lambda: ssvc.set_articles(
            s.org, registered_capital=100_000_00, dividend_cap_pct=Decimal("30"), actor=s.admin
        ),
        "citation",
    )
    ssvc.set_articles(
        s.org,
        registered_capital=100_000_00,
        reinvestment_min_pct=Decimal("50"),
        reinvestment_citation="章程第 20 条",
        actor=s.admin,
    )
    refused(lambda: _declare(s, amount=10_000_01), "50", "¥10000.00", "章程第 20 条")
    ssvc.set_articles(
        s.org,
        registered_capital=100_000_00,
        dividend_cap_pct=Decimal("25"),
        dividend_cap_citation="股东会 2025 决议",
        actor=s.admin,
    )
    refused(lambda: _declare(s, amount=5_000_01), "25", "¥5000.00", "股东会 2025 决议")
    r = _declare(s, amount=5_000_00)
    assert r.amount == 5_000_00


def test_a_distribution_all_shareholders_agreed_otherwise(app):
    s = _dividend_setting()
    a, b = (ssvc.find_shareholder(s.org, s.residents[i]) for i in (0, 1))
    refused(lambda: _declare(s, agreed_weights={a.id: 1, b.id: 1}), "agreement")
    r = _declare(s, agreed_weights={a.id: 1, b.id: 1}, agreement_note="全体股东书面同意平均分配")
    assert r.basis == "agreed"
    assert sorted(ln.amount for ln in r.lines) == [2_500_00, 2_500_00]


def test_paying_a_whole_dividend_at_once_posts_what_paying_line_by_line_posts(app):
    s = make_setting(capital=100_000_00)
    holders = [s.subscribe_and_pay(i, (i + 1) * 10_000_00) for i in range(4)]
    s.profit(2025, 20_000_00)
    r = _declare(s, amount=3_333_33)
    first = next(ln for ln in r.lines if ln.shareholder_id == holders[0].id)
    ssvc.pay_dividend(s.org, first, date=D(2026, 3, 5), actor=s.admin, today=D(2026, 3, 5))
    refused(
        lambda: ssvc.pay_dividends(s.org, r, date=D(2026, 2, 28), actor=s.admin),
        "on or after its resolution date",
    )
    paid = ssvc.pay_dividends(s.org, r, date=D(2026, 3, 6), actor=s.admin, today=D(2026, 3, 6))
    assert sorted(ln.shareholder_id for ln in paid) == [h.id for h in holders[1:]]
    assert all(ln.paid_on == D(2026, 3, 6) for ln in paid)
    assert len({ln.payment_voucher_id for ln in r.lines}) == 4  # one voucher per shareholder
    # the same voucher as one by one: 2232 gross, 1002 net, 2221 the 20 % withheld
    for ln in r.lines:
        assert ln.tax == (ln.amount * 2 + 5) // 10
        rows = db.session.execute(
            sa.select(Account.code, VoucherLine.debit, VoucherLine.credit, VoucherLine.resident_id)
            .join(Account, Account.id == VoucherLine.account_id)
            .where(VoucherLine.voucher_id == ln.payment_voucher_id)
            .order_by(Account.code)
        ).all()
        rid = ln.shareholder.resident_id
        assert rows == [
            ("1002", 0, ln.amount - ln.tax, rid),
            ("2221", 0, ln.tax, rid),
            ("2232", ln.amount, 0, rid),
        ]
    assert ssvc.account_balance(s.book, "2232") == 0
    assert ssvc.account_balance(s.book, "2221") == sum(ln.tax for ln in r.lines)
    assert ssvc.check_register(s.org) == []
    refused(
        lambda: ssvc.pay_dividends(s.org, r, date=D(2026, 3, 7), actor=s.admin),
        "already paid",
    )
