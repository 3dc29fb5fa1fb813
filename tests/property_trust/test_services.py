"""Property-trust services: billing, payments and advances, arrears, public revenue, votes,
budgets, supervision and remuneration, each bad input refused with nothing stored."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from core.db import db
from core.errors import Conflict, DomainError, InvalidInput
from core.months import Month
from ledger import services as ledger
from ledger.models import Voucher
from property_trust import governance as gv
from property_trust import services as pt
from property_trust.models import Bill, Payment, PublicRevenue, RemunerationRun, Vote
from tests.factories import ResidentFactory

M1, M2, M3 = Month(2026, 1), Month(2026, 2), Month(2026, 3)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_billing_posts_one_receivable_per_unit_rounded_half_up(trust):
    res = pt.bill_month(trust.compound, M1, actor=trust.people["preparer"])
    assert res.bills == 4
    bills = db.session.scalars(sa.select(Bill).order_by(Bill.unit_id)).all()
    # 89.37 m² × ¥2.50 = ¥223.425 → 22343 fen (half up); 65.55 × 2.5 = 163.875 → 16388
    assert [b.amount for b in bills] == [22343, 30000, 16388, 25253]
    v = db.session.get(Voucher, bills[0].voucher_id)
    assert v.status == "posted" and v.source == "property_bill"
    ar = [ln for ln in v.lines if ln.debit]
    assert ar[0].resident_id == trust.owners[0].id
    assert trust.owners[0].name not in v.summary
    assert pt.check_consistency(trust.compound) == []


def test_a_month_is_billed_once(trust):
    pt.bill_month(trust.compound, M1, actor=trust.people["preparer"])
    before = count(Voucher)
    with pytest.raises(Conflict) as e:
        pt.bill_month(trust.compound, M1, actor=trust.people["preparer"])
    assert "2026-01" in str(e.value.message) and "4" in str(e.value.message)
    assert count(Voucher) == before


def test_a_unit_without_area_stops_the_whole_run(trust):
    trust.units[2].area = None
    db.session.flush()
    with pytest.raises(InvalidInput) as e:
        pt.bill_month(trust.compound, M1, actor=trust.people["preparer"])
    assert "1栋-103" in str(e.value.message)
    assert count(Bill) == 0 and count(Voucher) == 0


def test_payments_full_partial_and_advance_oldest_first(trust):
    c, u, prep = trust.compound, trust.units[1], trust.people["preparer"]
    pt.bill_month(c, M1, actor=prep)
    pt.bill_month(c, M2, actor=prep)
    pt.record_payment(c, u, 40000, dt.date(2026, 2, 10), actor=prep)  # Jan full, Feb 100
    bills = db.session.scalars(
        sa.select(Bill).where(Bill.unit_id == u.id).order_by(Bill.month)
    ).all()
    assert [(b.amount, b.paid) for b in bills] == [(30000, 30000), (30000, 10000)]
    # overpaying without "advance" is refused with the figures, nothing stored
    n = count(Payment)
    with pytest.raises(InvalidInput) as e:
        pt.record_payment(c, u, 50000, dt.date(2026, 2, 11), actor=prep)
    assert "500.00" in str(e.value.message) and "200.00" in str(e.value.message)
    assert count(Payment) == n
    p = pt.record_payment(c, u, 50000, dt.date(2026, 2, 11), actor=prep, advance=True)
    assert p.advance == 30000
    assert pt.unit_balances(c)[u.id] == (0, 30000)
    assert pt.check_consistency(c) == []
    # the advance settles March at billing time
    pt.bill_month(c, M3, actor=prep)
    assert pt.unit_balances(c)[u.id] == (0, 0)
    assert pt.check_consistency(c) == []


def test_a_payment_into_a_closed_month_is_refused(trust):
    c, prep = trust.compound, trust.people["preparer"]
    pt.bill_month(c, M1, actor=prep)
    ledger.close_period(trust.book, 2026, 1, actor=trust.people["reviewer"])
    with pytest.raises(Conflict) as e:
        pt.record_payment(c, trust.units[0], 100, dt.date(2026, 1, 20), actor=prep)
    assert "2026-01" in str(e.value.message)
    assert count(Payment) == 0


def test_arrears_ageing_buckets_and_collection_rate(trust):
    c, prep = trust.compound, trust.people["preparer"]
    for m in (1, 2, 3, 4, 5, 6, 7):
        pt.bill_month(c, Month(2026, m), actor=prep)
    for u in trust.units[:2]:
        for m in range(1, 8):
            pt.record_payment(c, u, pt.open_bills(u)[0].open, dt.date(2026, m, 15), actor=prep)
    a = pt.ageing(c, dt.date(2026, 7, 31))
    assert a.households == 2
    per_month = 16388 + 25253
    # bill dates Jul 1 (30 days), Jun 1 (60), May 1 … Feb 1 (91–180: four), Jan 1 (211)
    assert a.buckets == [per_month, per_month, 4 * per_month, per_month]
    assert a.total == 7 * per_month
    assert a.billed == 7 * (22343 + 30000 + per_month)
    assert a.collection_rate == Decimal("55.7")  # 366,401 / 657,888


def test_room_level_arrears_list_is_staff_only_and_logged(trust):
    from core.errors import NotPermitted
    from core.models import AuditEvent

    c = trust.compound
    pt.bill_month(c, M1, actor=trust.people["preparer"])
    rows = pt.arrears_by_unit(c, dt.date(2026, 1, 31), actor=trust.people["preparer"])
    assert len(rows) == 4
    assert db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "property.arrears_list")
    )
    with pytest.raises(NotPermitted):
        pt.arrears_by_unit(c, dt.date(2026, 1, 31), actor=trust.people["auditor"])


def test_reminders_and_escalation_never_cut_utilities(trust):
    c, u, prep = trust.compound, trust.units[0], trust.people["preparer"]
    pt.bill_month(c, M1, actor=prep)
    with pytest.raises(InvalidInput):
        pt.add_reminder(c, u, dt.date(2026, 2, 1), dt.date(2026, 2, 1), actor=prep)
    with pytest.raises(Conflict):
        pt.escalate(c, u, "litigation", dt.date(2026, 2, 1), actor=prep)
    pt.add_reminder(c, u, dt.date(2026, 2, 1), dt.date(2026, 2, 15), actor=prep)
    with pytest.raises(InvalidInput):
        pt.escalate(c, u, "cut_water", dt.date(2026, 3, 1), actor=prep)
    assert pt.escalate(c, u, "arbitration", dt.date(2026, 3, 1), actor=prep).status == "arbitration"


def test_public_revenue_is_the_owners_income_with_a_repair_top_up(trust, acct_balance):
    c = trust.compound
    c.repair_share = Decimal("0.3")
    pr = pt.record_public_revenue(
        c,
        "parking",
        dt.date(2026, 3, 31),
        100_000,
        deductions=[("车场保洁", "发票 No.123", 10_001)],
        actor=trust.people["preparer"],
    )
    assert pr.repair_topup == 26_999.7 // 1 + 1  # 89,999 × 0.3 = 26,999.7 → 27,000
    assert acct_balance(trust.book, "420101") == -100_000
    assert acct_balance(trust.book, "1003") == 27_000
    assert acct_balance(trust.book, "1002") == 100_000 - 10_001 - 27_000
    with pytest.raises(InvalidInput):
        pt.record_public_revenue(
            c,
            "parking",
            dt.date(2026, 3, 31),
            100,
            deductions=[("x", "", 50)],
            actor=trust.people["preparer"],
        )
    with pytest.raises(InvalidInput) as e:
        pt.record_public_revenue(
            c,
            "parking",
            dt.date(2026, 3, 31),
            100,
            deductions=[("x", "doc", 150)],
            actor=trust.people["preparer"],
        )
    assert "1.50" in str(e.value.message)
    assert count(PublicRevenue) == 1


def _budget(trust):
    c = trust.compound
    v = gv.record_vote(
        c,
        "2026年度预算",
        "ordinary",
        dt.date(2026, 1, 5),
        voted_area="300",
        voted_owners=3,
        yes_area="200",
        yes_owners=2,
        actor=trust.people["preparer"],
    )
    assert v.passed
    return gv.create_budget(
        c,
        2026,
        [("5103", "清洁", 100_000), ("5102", "维修", 50_000)],
        vote=v,
        actor=trust.people["preparer"],
    )


def test_vote_tallies_beyond_the_compound_are_refused(trust):
    with pytest.raises(InvalidInput) as e:
        gv.record_vote(
            trust.compound,
            "x",
            "ordinary",
            dt.date(2026, 1, 5),
            voted_area="400",
            voted_owners=3,
            yes_area="1",
            yes_owners=1,
            actor=trust.people["preparer"],
        )
    assert "375.93" in str(e.value.message)  # the compound's area
    with pytest.raises(InvalidInput):
        gv.record_vote(
            trust.compound,
            "x",
            "ordinary",
            dt.date(2026, 1, 5),
            voted_area="300",
            voted_owners=5,
            yes_area="1",
            yes_owners=1,
            actor=trust.people["preparer"],
        )
    assert count(Vote) == 0


def test_unbudgeted_payments_are_refused_unless_emergency(trust):
    c, prep, rev = trust.compound, trust.people["preparer"], trust.people["reviewer"]
    b = _budget(trust)
    clean = b.lines[0]
    with pytest.raises(InvalidInput) as e:
        gv.prepare_expense(
            c, account_code="5103", amount=500, day=dt.date(2026, 3, 2), summary="保洁", actor=prep
        )
    assert "5.00" in str(e.value.message)
    with pytest.raises(InvalidInput) as e:
        gv.prepare_expense(
            c,
            account_code="5103",
            amount=100_001,
            day=dt.date(2026, 3, 2),
            summary="保洁",
            budget_line=clean,
            actor=prep,
        )
    assert "1,000.01" in str(e.value.message) and "1,000.00" in str(e.value.message)
    assert count(Voucher) == 0
    ok = gv.prepare_expense(
        c,
        account_code="5103",
        amount=60_000,
        day=dt.date(2026, 3, 2),
        summary="保洁",
        budget_line=clean,
        actor=prep,
    )
    v = db.session.get(Voucher, ok.voucher_id)
    ledger.approve_voucher(v, actor=rev)
    ledger.post_voucher(v, actor=rev)
    assert v.status == "posted"
    # an emergency goes to the supervisors first: held, cannot be posted until released
    em = gv.prepare_expense(
        c,
        account_code="5102",
        amount=80_000,
        day=dt.date(2026, 3, 3),
        summary="水泵抢修",
        emergency=True,
        actor=prep,
    )
    ev = db.session.get(Voucher, em.voucher_id)
    ledger.approve_voucher(ev, actor=rev)
    with pytest.raises(Conflict):
        ledger.post_voucher(ev, actor=rev)
    assert ev.status == "approved"
    gv.supervise(c, "release", voucher=ev, text="已核实", actor=trust.people["supervisor"])
    ledger.post_voucher(ev, actor=rev)
    assert ev.status == "posted"
    rows = gv.budget_vs_actual(b, dt.date(2026, 12, 31))
    # actual is the ledger's by category: the emergency counts against its category's line
    assert [(r.budget, r.actual) for r in rows] == [(100_000, 60_000), (50_000, 80_000)]


def test_a_supervisor_hold_blocks_posting(trust):
    c, prep, rev, sup = (
        trust.compound,
        trust.people["preparer"],
        trust.people["reviewer"],
        trust.people["supervisor"],
    )
    b = _budget(trust)
    e = gv.prepare_expense(
        c,
        account_code="5103",
        amount=1000,
        day=dt.date(2026, 3, 2),
        summary="保洁",
        budget_line=b.lines[0],
        actor=prep,
    )
    v = db.session.get(Voucher, e.voucher_id)
    with pytest.raises(DomainError):
        gv.supervise(c, "hold", voucher=v, actor=prep, text="x")  # not a supervisor
    gv.supervise(c, "hold", voucher=v, actor=sup, text="合同未附")
    ledger.approve_voucher(v, actor=rev)
    with pytest.raises(Conflict) as err:
        ledger.post_voucher(v, actor=rev)
    assert "监察人" in str(err.value.message) or "supervisor" in str(err.value.message)
    assert v.status == "approved" and v.number is None


def test_signatures_above_the_committee_threshold(trust):
    c, prep, rev = trust.compound, trust.people["preparer"], trust.people["reviewer"]
    c.committee_threshold, c.signatories_required, c.signatories_total = 10_000, 2, 3
    b = _budget(trust)
    e = gv.prepare_expense(
        c,
        account_code="5103",
        amount=20_000,
        day=dt.date(2026, 3, 2),
        summary="保洁",
        budget_line=b.lines[0],
        actor=prep,
    )
    v = db.session.get(Voucher, e.voucher_id)
    ledger.approve_voucher(v, actor=rev)
    gv.sign_expense(e, actor=rev)
    with pytest.raises(Conflict) as err:
        ledger.post_voucher(v, actor=rev)
    assert "2" in str(err.value.message) and "1" in str(err.value.message)
    gv.sign_expense(e, actor=trust.people["admin"])
    ledger.post_voucher(v, actor=rev)
    assert v.status == "posted"


def test_budget_needs_the_configured_vote_kind_and_adjustments_need_reasons(trust):
    c = trust.compound
    c.budget_vote_kind = "major"
    v = gv.record_vote(
        c,
        "预算",
        "ordinary",
        dt.date(2026, 1, 5),
        voted_area="300",
        voted_owners=3,
        yes_area="200",
        yes_owners=2,
        actor=trust.people["preparer"],
    )
    with pytest.raises(Conflict):
        gv.create_budget(c, 2026, [("5103", "清洁", 1)], vote=v, actor=trust.people["preparer"])
    c.budget_vote_kind = "ordinary"
    b = gv.create_budget(c, 2026, [("5103", "清洁", 100)], vote=v, actor=trust.people["preparer"])
    with pytest.raises(InvalidInput):
        gv.adjust_budget_line(b.lines[0], 50, "", actor=trust.people["reviewer"])
    with pytest.raises(InvalidInput):
        gv.adjust_budget_line(b.lines[0], -101, "减少", actor=trust.people["reviewer"])
    gv.adjust_budget_line(b.lines[0], 50, "增加保洁频次", actor=trust.people["reviewer"])
    assert b.lines[0].amount == 150


def test_monthly_remuneration_is_a_system_voucher_and_needs_a_resolution_for_public_revenue(
    trust, acct_balance
):
    c, prep, admin = trust.compound, trust.people["preparer"], trust.people["admin"]
    gv.set_remuneration(
        c, "PCT_OF_COLLECTED_FEES", rate=Decimal("0.12"), floor=1000, cap=100_000, actor=admin
    )
    pt.bill_month(c, M1, actor=prep)
    pt.record_payment(c, trust.units[0], 22343, dt.date(2026, 1, 20), actor=prep)
    r = gv.run_remuneration(c, M1, actor=prep)
    assert (r.base, r.product, r.amount) == (22343, 2681, 2681)  # 2681.16 → 2681
    assert acct_balance(trust.book, "5901") == 2681
    with pytest.raises(Conflict):
        gv.run_remuneration(c, M1, actor=prep)
    with pytest.raises(InvalidInput):
        gv.set_remuneration(c, "PCT_INCL_PUBLIC_REVENUE", rate=Decimal("0.1"), actor=admin)
    c.remuneration_mode = "PCT_INCL_PUBLIC_REVENUE"
    with pytest.raises(Conflict) as e:
        gv.run_remuneration(c, M2, actor=prep)
    assert "PCT_INCL_PUBLIC_REVENUE" in str(e.value.message)
    assert count(RemunerationRun) == 1


def test_consistency_check_reports_a_difference(trust):
    c = trust.compound
    pt.bill_month(c, M1, actor=trust.people["preparer"])
    b = db.session.scalars(sa.select(Bill).order_by(Bill.id)).first()
    b.paid = 100
    db.session.flush()
    diffs = pt.check_consistency(c)
    assert len(diffs) == 1 and diffs[0].account == "1122"
    assert diffs[0].domain == diffs[0].ledger - 100


def test_the_owner_must_belong_to_the_community(trust, community_factory):
    stranger = ResidentFactory(community=community_factory())
    with pytest.raises(InvalidInput):
        pt.add_unit(
            trust.compound,
            "9栋",
            "901",
            area="50",
            owners=[stranger],
            actor=trust.people["preparer"],
        )


def test_ageing_as_of_a_past_day_counts_bills_paid_later_as_open_then(trust):
    c, prep = trust.compound, trust.people["preparer"]
    pt.bill_month(c, M1, actor=prep)
    pt.bill_month(c, M2, actor=prep)
    u = trust.units[1]
    pt.record_payment(c, u, 60000, dt.date(2026, 2, 20), actor=prep)
    jan = pt.ageing(c, dt.date(2026, 1, 31))
    assert jan.total == jan.billed == 22343 + 30000 + 16388 + 25253
    assert jan.households == 4 and jan.collected == 0
    feb = pt.ageing(c, dt.date(2026, 2, 28))
    assert feb.total == 2 * (22343 + 16388 + 25253)
    assert feb.collected == 60000 and feb.households == 3
