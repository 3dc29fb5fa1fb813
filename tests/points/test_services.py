"""Points services: grants through notice, crediting in double entry, mixed-tender redemption
with its money side, FIFO expiry, exchange with settlement, reconciliation, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core.db import db
from core.errors import Conflict, DomainError, InvalidInput, NotPermitted
from ledger.models import Account, Voucher, VoucherLine
from points import services as svc
from points.models import ExpiryRun, PointGrant, PointHolding, PointLot, PointRedemption
from tests.points.conftest import credited

TODAY = dt.date.today()
pytestmark = pytest.mark.usefixtures("english")


def lines_of(voucher_id: int) -> list[tuple[str, str, int, int, int | None]]:
    rows = db.session.execute(
        sa.select(
            Account.code,
            VoucherLine.unit,
            VoucherLine.debit,
            VoucherLine.credit,
            VoucherLine.resident_id,
        )
        .join(Account, Account.id == VoucherLine.account_id)
        .where(VoucherLine.voucher_id == voucher_id)
        .order_by(VoucherLine.line_no)
    ).all()
    return [tuple(r) for r in rows]


def counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in (Voucher, PointLot, PointRedemption, ExpiryRun, PointHolding)
    )


def test_grant_workflow_notice_then_credit(world):
    w = world
    a, b = w.residents[:2]
    g = svc.request_grant(
        w.activity, activity_date=TODAY, residents=[(a.id, None), (b.id, 15)], actor=w.staff
    )
    assert g.status == "requested" and g.total_points == 25 and g.people == 2
    with pytest.raises(Conflict, match="not been approved"):
        svc.credit_grant(g, actor=w.staff)
    with pytest.raises(NotPermitted):  # the requester cannot approve
        svc.approve_grant(g, actor=w.staff)
    svc.approve_grant(g, actor=w.reviewer, today=TODAY)
    assert g.status == "publicised" and g.notice_until == TODAY + dt.timedelta(days=3)
    assert g.approved_by_id == w.reviewer.id and g.notice_from == TODAY
    with pytest.raises(Conflict, match="public notice until"):
        svc.credit_grant(g, actor=w.staff, today=TODAY)
    assert svc.notices(w.community.id, today=TODAY) == [g]
    # Credit it with the notice over: a grant dated earlier.
    g2 = credited(w, [a, b])
    assert g2.status == "credited" and g2.voucher_id
    assert lines_of(g2.voucher_id) == [
        ("2203812", "PTS", 20, 0, None),
        ("2203811", "PTS", 0, 10, a.id),
        ("2203811", "PTS", 0, 10, b.id),
    ]
    assert svc.balance(w.service, a.id) == 10
    lot = db.session.scalars(sa.select(PointLot).where(PointLot.resident_id == a.id)).one()
    assert lot.expires_on == dt.date(TODAY.year + 2, 1, 1)  # rolling year end, 12 months


def test_objection_holds_the_grant(world):
    w = world
    g = svc.request_grant(
        w.activity, activity_date=TODAY, residents=[(w.residents[0].id, None)], actor=w.staff
    )
    svc.approve_grant(g, actor=w.reviewer, today=TODAY - dt.timedelta(days=5))
    o = svc.object_to_grant(g, "没有参加", actor=None, today=TODAY - dt.timedelta(days=4))
    assert g.status == "held"
    with pytest.raises(Conflict, match="objection holds"):
        svc.credit_grant(g, actor=w.staff)
    svc.resolve_objection(o, upheld=False, actor=w.reviewer)
    assert g.status == "publicised"
    svc.credit_grant(g, actor=w.staff)
    assert svc.balance(w.service, w.residents[0].id) == 10
    g3 = svc.request_grant(
        w.activity, activity_date=TODAY, residents=[(w.residents[1].id, None)], actor=w.staff
    )
    svc.approve_grant(g3, actor=w.reviewer, today=TODAY)
    o3 = svc.object_to_grant(g3, "重复申报", actor=None, today=TODAY)
    svc.resolve_objection(o3, upheld=True, actor=w.reviewer)
    assert g3.status == "rejected"
    with pytest.raises(Conflict):
        svc.credit_grant(g3, actor=w.staff, today=TODAY + dt.timedelta(days=10))


def test_attendance_list(world):
    w = world
    ids = [r.id for r in w.residents]
    got = svc.parse_attendance(w.community.id, w.service, f"居民编号,积分\n{ids[0]}\n{ids[1]},12\n")
    assert got == [(ids[0], None), (ids[1], 12)]
    with pytest.raises(InvalidInput) as e:
        svc.parse_attendance(w.community.id, w.service, f"{ids[0]},1.5\n999999\n")
    assert set(e.value.errors) == {"lines.1", "lines.2"}


def test_redemption_mixed_tender_volunteer_points(world):
    w = world
    a = w.residents[0]
    credited(w, [a], points=25)
    red = svc.redeem(w.item, a.id, 20, actor=w.staff)
    assert (red.points, red.value_fen, red.cash_fen, red.funder) == (20, 2000, 1000, "issuer")
    assert lines_of(red.voucher_id) == [
        ("2203811", "PTS", 20, 0, a.id),
        ("2203812", "PTS", 0, 20, None),
        ("1001", "CNY", 1000, 0, a.id),
        ("5601", "CNY", 2000, 0, None),
        ("5001", "CNY", 0, 3000, None),
    ]
    assert svc.balance(w.service, a.id) == 5
    assert all(r.ok for r in svc.reconcile(w.issuer.id)), svc.reconcile(w.issuer.id)


def test_sale_linked_points_release_prepaid(world):
    w = world
    a = w.residents[0]
    g = credited(w, [a], points=100, scheme=w.sale)
    assert ("220392", "CNY", 0, 1000, None) in lines_of(g.voucher_id)
    assert ("5001", "CNY", 1000, 0, None) in lines_of(g.voucher_id)
    item = svc.create_item(
        w.issuer, w.sale, name="矿泉水", price_fen=500, max_points=50, actor=w.admin
    )
    red = svc.redeem(item, a.id, 50, actor=w.staff)
    ls = lines_of(red.voucher_id)
    assert ("220392", "CNY", 500, 0, None) in ls and ("5001", "CNY", 0, 500, None) in ls
    (rec,) = [r for r in svc.reconcile(w.issuer.id) if r.scheme_id == w.sale.id]
    assert rec.ok and rec.prepaid_account_fen == 500 == rec.prepaid_lots_fen


def test_bad_redemptions_store_nothing(world):
    w = world
    a, b = w.residents[:2]
    credited(w, [a], points=25)
    credited(w, [a], points=5, scheme=w.basic)
    before = counts()
    cases = [
        (
            lambda: svc.redeem(w.item, a.id, 5, scheme=w.basic, actor=w.staff),
            InvalidInput,
            "never redeemable",
        ),
        (
            lambda: svc.redeem(w.item, b.id, 5, actor=w.staff),
            Conflict,
            "has 0, the redemption needs 5",
        ),
        (lambda: svc.redeem(w.item, a.id, 21, actor=w.staff), InvalidInput, "At most 20 points"),
        (lambda: svc.redeem(w.item, a.id, -3, actor=w.staff), InvalidInput, "more than zero"),
        (lambda: svc.redeem(w.item, a.id, "1.5", actor=w.staff), InvalidInput, "0 decimals"),
        (lambda: svc.redeem(w.item, a.id, 0, actor=w.staff), InvalidInput, "more than zero"),
    ]
    for fn, exc, text in cases:
        with pytest.raises(exc, match=text):
            fn()
        assert counts() == before
    # More points than held after a first redemption.
    svc.redeem(w.item, a.id, 20, actor=w.staff)
    with pytest.raises(Conflict, match="has 5, the redemption needs 10"):
        svc.redeem(w.item, a.id, 10, actor=w.staff)


def test_expired_points_are_not_spent_and_expiry_is_idempotent(world):
    w = world
    a = w.residents[0]
    old = dt.date(TODAY.year - 2, 1, 15)
    # Earned long ago: 12 months, rolling year end → lapsed on 1 January of the year after.
    g_old = credited(w, [a], points=8, day=old)
    credited(w, [a], points=6)
    assert g_old.status == "credited"
    with pytest.raises(Conflict, match="expired"):
        svc.redeem(w.item, a.id, 10, actor=w.staff)
    run = svc.expire(w.service, TODAY, actor=None)
    assert (run.points, run.holders) == (8, 1)
    assert lines_of(run.voucher_id) == [
        ("2203811", "PTS", 8, 0, a.id),
        ("2203812", "PTS", 0, 8, None),
    ]
    before = counts()
    again = svc.expire(w.service, TODAY, actor=None)
    assert again.id == run.id and counts() == before
    assert svc.balance(w.service, a.id) == 6
    assert all(r.ok for r in svc.reconcile(w.issuer.id))


def test_fifo_spends_the_oldest_first(world):
    w = world
    a = w.residents[0]
    g1 = credited(w, [a], points=10, day=TODAY - dt.timedelta(days=40))
    g2 = credited(w, [a], points=10)
    svc.redeem(w.item, a.id, 15, actor=w.staff)
    lots = {
        lot.grant_id: lot.remaining
        for lot in db.session.scalars(sa.select(PointLot).where(PointLot.resident_id == a.id))
    }
    assert lots == {g1.id: 0, g2.id: 5}


def test_exchange_between_issuers_with_settlement(world):
    w = world
    a = w.residents[0]
    credited(w, [a], points=20)
    red = svc.redeem(w.other_item, a.id, 20, scheme=w.service, actor=w.other_staff)
    # 20 points × 0.8 = 16 望平 points × ¥0.50 = ¥8.00 of a ¥15.00 lunch.
    assert (red.points, red.target_points, red.value_fen, red.cash_fen, red.settlement_fen) == (
        20,
        16,
        800,
        700,
        800,
    )
    assert lines_of(red.voucher_id) == [
        ("1001", "CNY", 700, 0, None),
        ("1221", "CNY", 800, 0, None),
        ("5001", "CNY", 0, 1500, None),
    ]
    assert lines_of(red.home_voucher_id) == [
        ("2203811", "PTS", 20, 0, a.id),
        ("2203812", "PTS", 0, 20, None),
        ("5601", "CNY", 800, 0, None),
        ("2241", "CNY", 0, 800, None),
    ]
    assert svc.settlement_owed(w.issuer, w.other_issuer) == 800
    svc.settle_exchange(w.issuer, w.other_issuer, 800, actor=w.staff)
    assert svc.settlement_owed(w.issuer, w.other_issuer) == 0


def test_bad_exchanges(world):
    w = world
    a = w.residents[0]
    credited(w, [a], points=20)
    with pytest.raises(InvalidInput, match="at most 1"):
        svc.set_rate(w.service, w.other_scheme, "1.2", effective_from=TODAY, actor=w.platform)
    with pytest.raises(InvalidInput, match="basic points never"):
        svc.set_rate(w.basic, w.other_scheme, "0.5", effective_from=TODAY, actor=w.platform)
    with pytest.raises(NotPermitted):
        svc.set_rate(w.service, w.other_scheme, "0.5", effective_from=TODAY, actor=w.admin)
    with pytest.raises(InvalidInput, match="No exchange rate"):
        svc.redeem(w.other_item, a.id, 5, scheme=w.sale, actor=w.other_staff)
    with pytest.raises(DomainError):
        svc.get_issuer(987654)


def test_rates_are_dated(world):
    w = world
    svc.set_rate(
        w.service, w.other_scheme, "0.5", effective_from=dt.date(2026, 6, 1), actor=w.platform
    )
    assert str(svc.rate_on(w.service, w.other_scheme, dt.date(2026, 3, 1))) == "0.800000"
    assert str(svc.rate_on(w.service, w.other_scheme, dt.date(2026, 6, 1))) == "0.500000"
    with pytest.raises(InvalidInput, match="No exchange rate"):
        svc.rate_on(w.service, w.other_scheme, dt.date(2025, 12, 31))


def test_basic_points_have_no_value(world):
    w = world
    credited(w, w.residents[:2], points=3, scheme=w.basic)
    (rec,) = [r for r in svc.reconcile(w.issuer.id) if r.scheme_id == w.basic.id]
    assert rec.ok and rec.holders_points == 6 and rec.value_fen == 0


def test_reconcile_finds_a_drift(world):
    w = world
    credited(w, w.residents[:2], points=10)
    h = db.session.scalars(
        sa.select(PointHolding).where(PointHolding.resident_id == w.residents[0].id)
    ).one()
    h.balance = 9
    db.session.flush()
    (rec,) = [r for r in svc.reconcile(w.issuer.id) if r.scheme_id == w.service.id]
    assert rec.problems == ["holders 19 ≠ control account 20"]
    (rec,) = [r for r in svc.reconcile(w.issuer.id, deep=True) if r.scheme_id == w.service.id]
    assert rec.problems == [
        "holders 19 ≠ control account 20",
        "lots 20 ≠ holders 19",
        "1 holders differ from their lots",
    ]
    past = svc.reconcile(w.issuer.id, as_of=TODAY - dt.timedelta(days=1))
    assert all(r.holders_points == 0 for r in past)


def test_grant_bad_input(world):
    w = world
    with pytest.raises(InvalidInput, match="at least one"):
        svc.request_grant(w.activity, activity_date=TODAY, residents=[], actor=w.staff)
    with pytest.raises(InvalidInput, match="more than zero"):
        svc.request_grant(
            w.activity, activity_date=TODAY, residents=[(w.residents[0].id, -5)], actor=w.staff
        )
    with pytest.raises(InvalidInput, match="future"):
        svc.request_grant(
            w.activity,
            activity_date=TODAY + dt.timedelta(days=1),
            residents=[(w.residents[0].id, None)],
            actor=w.staff,
        )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointGrant)) == 0


def test_npo_redemption_costs_the_restricted_fund(world):
    """PT-10: goods handed out are 5101 on the fund; the donor's restriction is released."""
    from ledger import services as ledger
    from tests.factories import member
    from tests.points.conftest import _org

    w = world
    fnd = _org(w.community, "社区基金会", "pt-npo", "foundation", "NPO_2004")
    admin = member(fnd, "admin")
    staff = member(fnd, "preparer")
    reviewer = member(fnd, "reviewer")
    issuer = svc.create_issuer(fnd, kind="foundation", actor=admin)
    scheme = svc.create_scheme(
        issuer, name="公益积分", type="service", unit="NPOPT", value_fen=100, actor=admin
    )
    fund = ledger.create_fund(ledger.book_for(fnd), "POINTS", "积分超市专项", restricted=True)
    item = svc.create_item(
        issuer,
        scheme,
        name="大米 5kg",
        price_fen=4000,
        max_points=40,
        funder="fund",
        fund_id=fund.id,
        actor=admin,
    )
    activity = svc.create_activity(scheme, name="楼道清扫", points=40, actor=admin)
    a = w.residents[0]
    g = svc.request_grant(activity, activity_date=TODAY, residents=[(a.id, None)], actor=staff)
    svc.approve_grant(g, actor=reviewer, today=TODAY - dt.timedelta(days=3))
    svc.credit_grant(g, actor=staff)
    red = svc.redeem(item, a.id, 30, actor=staff)
    assert lines_of(red.voucher_id) == [
        ("2203811", "NPOPT", 30, 0, a.id),
        ("2203812", "NPOPT", 0, 30, None),
        ("1001", "CNY", 1000, 0, a.id),
        ("5101", "CNY", 3000, 0, None),
        ("3102", "CNY", 3000, 0, None),
        ("3101", "CNY", 0, 3000, None),
        ("4301", "CNY", 0, 4000, None),
    ]
    assert all(r.ok for r in svc.reconcile(issuer.id))
