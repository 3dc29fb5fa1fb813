"""The governance pages (votes, budgets, public revenue, payments with holds and signatures,
reminders, findings, remuneration) and the owners' statement published with the disclosure
report through ``ledger.signals.report_published``."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import sqlalchemy as sa

from core.db import db
from core.models import AuditEvent
from core.months import Month
from ledger import services as ledger
from property_trust import governance as gv
from property_trust import services as pt
from property_trust.models import (
    Bill,
    Budget,
    BudgetAdjustment,
    Escalation,
    Expense,
    PublicRevenue,
    PublishedStatement,
    Reminder,
    RemunerationRun,
    Signature,
    SupervisorNote,
    Vote,
)
from tests.conftest import login
from tests.factories import UserFactory
from transparency.disclosure import publish_report


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id))) or 0


def _zh(c):
    c.get("/lang/zh_Hans_CN")
    return c


def _vote(trust, **kw):
    args = dict(voted_area="300", voted_owners=3, yes_area="200", yes_owners=2)
    args.update(kw)
    return gv.record_vote(
        trust.compound,
        "2026年度预算",
        "ordinary",
        dt.date(2026, 1, 5),
        actor=trust.people["preparer"],
        **args,
    )


def test_votes_page_records_a_vote_and_shows_the_decision(trust, client_as):
    c = _zh(client_as("preparer", org=trust.org))
    base = f"/property/{trust.org.id}/votes"
    form = {
        "subject": "2026年度预算",
        "kind": "ordinary",
        "held_on": "2026-01-05",
        "voted_area": "300.00",
        "voted_owners": "3",
        "yes_area": "200.00",
        "yes_owners": "2",
        "csrf_token": c.csrf,
    }
    r = c.post(base, data=form)
    assert r.status_code == 302
    (v,) = db.session.scalars(sa.select(Vote)).all()
    assert v.passed and v.quorum_met
    page = c.get(base).get_data(as_text=True)
    assert "2026年度预算" in page and "通过" in page
    # yes beyond voted: a translated refusal naming the figures, nothing stored
    bad = c.post(base, data={**form, "yes_owners": "4"})
    assert bad.status_code == 422
    assert "4" in bad.get_data(as_text=True)
    assert count(Vote) == 1
    # tallies beyond the compound's headcount
    over = c.post(base, data={**form, "voted_owners": "9", "yes_owners": "2"})
    assert over.status_code == 422
    assert count(Vote) == 1
    # an auditor reads, cannot record
    a = client_as("auditor", org=trust.org)
    assert a.get(base).status_code == 200
    assert a.post(base, data={**form, "csrf_token": a.csrf}).status_code == 403


def test_budget_page_creates_adjusts_and_compares(trust, client_as):
    vote = _vote(trust)
    prep = _zh(client_as("preparer", org=trust.org))
    base = f"/property/{trust.org.id}/budgets"
    r = prep.post(
        base,
        data={
            "year": "2026",
            "vote_id": str(vote.id),
            "lines": "5103 保洁服务 1200.00\n5105 秩序维护 800",
            "csrf_token": prep.csrf,
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    b = db.session.scalar(sa.select(Budget))
    assert [(ln.account_code, ln.amount) for ln in b.lines] == [("5103", 120000), ("5105", 80000)]
    # an incomplete line is refused, nothing stored
    bad = prep.post(
        base,
        data={"year": "2027", "vote_id": str(vote.id), "lines": "5103 1", "csrf_token": prep.csrf},
    )
    assert bad.status_code == 422
    assert count(Budget) == 1
    # the reviewer (业委会) adjusts with a reason; the preparer may not
    rev = client_as("reviewer", org=trust.org)
    line = b.lines[0]
    form = {"line_id": str(line.id), "delta": "-200.00", "reason": "合同降价", "csrf_token": ""}
    assert (
        prep.post(base + "/adjustments", data={**form, "csrf_token": prep.csrf}).status_code == 403
    )
    no_reason = rev.post(
        base + "/adjustments", data={**form, "reason": " ", "csrf_token": rev.csrf}
    )
    assert no_reason.status_code == 422
    r = rev.post(base + "/adjustments", data={**form, "csrf_token": rev.csrf})
    assert r.status_code == 302
    db.session.refresh(line)
    assert line.amount == 100000 and count(BudgetAdjustment) == 1
    page = prep.get(base + "?year=2026").get_data(as_text=True)
    assert "合同降价" in page and "1,000.00" in page and "保洁服务" in page


def test_revenue_page_books_with_documented_costs(trust, client_as, acct_balance):
    c = _zh(client_as("preparer", org=trust.org))
    base = f"/property/{trust.org.id}/revenue"
    form = {
        "kind": "parking",
        "date": "2026-02-03",
        "gross": "5000.00",
        "description": "二月停车",
        "d0_description": "道闸维护",
        "d0_document": "发票 No.123",
        "d0_amount": "300.00",
        "csrf_token": c.csrf,
    }
    assert c.post(base, data=form).status_code == 302
    (pr,) = db.session.scalars(sa.select(PublicRevenue)).all()
    assert (pr.gross, pr.deductions) == (500000, 30000)
    assert acct_balance(trust.book, "420101") == -500000  # the owners' income
    page = c.get(base).get_data(as_text=True)
    assert "道闸维护" in page and "4,700.00" in page
    # an undocumented deduction is refused, nothing stored
    bad = c.post(base, data={**form, "d0_document": ""})
    assert bad.status_code == 422
    # costs above the revenue
    over = c.post(base, data={**form, "d0_amount": "6000"})
    assert over.status_code == 422 and "6,000.00" in over.get_data(as_text=True)
    assert count(PublicRevenue) == 1


def test_expenses_page_shows_hold_and_collects_signatures(trust, client_as):
    c = trust.compound
    c.committee_threshold = 50000
    c.signatories_required, c.signatories_total = 2, 3
    vote = _vote(trust)
    b = gv.create_budget(
        c, 2026, [("5103", "保洁", 1_000_000)], vote=vote, actor=trust.people["preparer"]
    )
    prep = _zh(client_as("preparer", org=trust.org))
    base = f"/property/{trust.org.id}/expenses"
    form = {
        "budget_line_id": str(b.lines[0].id),
        "account_code": "5103",
        "amount": "800.00",
        "date": "2026-03-02",
        "summary": "三月保洁",
        "csrf_token": prep.csrf,
    }
    assert prep.post(base, data=form).status_code == 302
    # unbudgeted and not an emergency: refused, naming the rule
    bad = prep.post(base, data={**form, "budget_line_id": ""})
    assert bad.status_code == 422 and "无预算不支出" in bad.get_data(as_text=True)
    # an emergency goes to the supervisors first (held)
    r = prep.post(
        base, data={**form, "budget_line_id": "", "emergency": "1", "summary": "水泵抢修"}
    )
    assert r.status_code == 302
    assert count(Expense) == 2
    emergency = db.session.scalar(sa.select(Expense).where(Expense.emergency.is_(True)))
    assert gv.is_held(emergency.voucher_id)
    page = prep.get(base).get_data(as_text=True)
    assert "水泵抢修" in page and page.count('class="held"') == 1
    normal = db.session.scalar(sa.select(Expense).where(Expense.emergency.is_(False)))
    # two reviewers sign (N of M); the posting is refused before, allowed after
    voucher = ledger.get_voucher(trust.book, normal.voucher_id)
    signers = [client_as("reviewer", org=trust.org) for _ in range(2)]
    assert prep.post(f"{base}/{normal.id}/sign", data={"csrf_token": prep.csrf}).status_code == 403
    first = signers[0].post(f"{base}/{normal.id}/sign", data={"csrf_token": signers[0].csrf})
    assert first.status_code == 302
    again = signers[0].post(f"{base}/{normal.id}/sign", data={"csrf_token": signers[0].csrf})
    assert again.status_code == 409
    signers[1].post(f"{base}/{normal.id}/sign", data={"csrf_token": signers[1].csrf})
    assert count(Signature) == 2
    assert "2/2" in prep.get(base).get_data(as_text=True)
    ledger.approve_voucher(voucher, actor=signers[0].user)
    ledger.post_voucher(voucher, actor=signers[0].user)
    assert voucher.status == "posted"


def test_reminders_page_is_logged_and_has_no_cut_off(trust, client_as):
    c = trust.compound
    for m in (1, 2, 3):
        pt.bill_month(c, Month(2026, m), actor=trust.people["preparer"])
    prep = _zh(client_as("preparer", org=trust.org))
    base = f"/property/{trust.org.id}/reminders"
    before = db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "property.arrears_list")
    )
    page = prep.get(base)
    assert page.status_code == 200
    after = db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "property.arrears_list")
    )
    assert after == before + 1
    text = page.get_data(as_text=True)
    assert "诉讼" in text and "断水" not in text.split("<form")[1]
    unit = trust.units[0]
    r = prep.post(
        f"/property/{trust.org.id}/reminders",
        data={
            "unit_id": str(unit.id),
            "sent_on": "2026-04-01",
            "deadline": "2026-04-16",
            "note": "书面催告",
            "csrf_token": prep.csrf,
        },
    )
    assert r.status_code == 302
    (rem,) = db.session.scalars(sa.select(Reminder)).all()
    assert rem.amount == sum(b.open for b in pt.open_bills(unit))
    esc = {"unit_id": str(unit.id), "date": "2026-05-01", "csrf_token": prep.csrf}
    cut = prep.post(f"/property/{trust.org.id}/escalations", data={**esc, "status": "cutoff"})
    assert cut.status_code == 422 and count(Escalation) == 0
    early = prep.post(
        f"/property/{trust.org.id}/escalations",
        data={**esc, "status": "litigation", "date": "2026-04-10"},
    )
    assert early.status_code == 409 and count(Escalation) == 0
    ok = prep.post(f"/property/{trust.org.id}/escalations", data={**esc, "status": "litigation"})
    assert ok.status_code == 302 and count(Escalation) == 1
    assert "书面催告" in prep.get(base).get_data(as_text=True)
    # a reviewer does not see the room-level log
    assert client_as("reviewer", org=trust.org).get(base).status_code == 403


def test_finding_and_remuneration_from_the_pages(trust, client_as):
    c = trust.compound
    c.remuneration_rate = Decimal("0.10")
    pt.bill_month(c, Month(2026, 1), actor=trust.people["preparer"])
    pt.record_payment(
        c,
        trust.units[0],
        pt.open_bills(trust.units[0])[0].open,
        dt.date(2026, 1, 9),
        actor=trust.people["preparer"],
    )
    prep = client_as("preparer", org=trust.org)
    r = prep.post(
        f"/property/{trust.org.id}/remuneration", data={"month": "2026-01", "csrf_token": prep.csrf}
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    run = db.session.scalar(sa.select(RemunerationRun))
    assert run.base > 0 and run.amount == (run.base + 5) // 10
    twice = prep.post(
        f"/property/{trust.org.id}/remuneration", data={"month": "2026-01", "csrf_token": prep.csrf}
    )
    assert twice.status_code == 409
    sup = client_as("supervisor", org=trust.org)
    url = f"/property/{trust.org.id}/findings"
    assert (
        sup.post(url, data={"month": "2026-01", "text": " ", "csrf_token": sup.csrf}).status_code
        == 422
    )
    assert (
        prep.post(url, data={"month": "2026-01", "text": "x", "csrf_token": prep.csrf}).status_code
        == 403
    )
    r = sup.post(url, data={"month": "2026-01", "text": "保洁合同未公示", "csrf_token": sup.csrf})
    assert r.status_code == 302
    assert count(SupervisorNote) == 1
    page = sup.get(f"/property/{trust.org.id}/statement/2026/1").get_data(as_text=True)
    assert "保洁合同未公示" in page


def test_statement_is_published_with_the_disclosure_report(app, trust, client, runner):
    c, prep = trust.compound, trust.people["preparer"]
    pt.bill_month(c, Month(2026, 1), actor=prep)
    pt.record_payment(c, trust.units[1], 30000, dt.date(2026, 1, 12), actor=prep)
    pt.record_public_revenue(c, "parking", dt.date(2026, 1, 20), 120000, actor=prep)
    ledger.close_period(trust.book, 2026, 1, actor=trust.people["reviewer"])
    assert count(PublishedStatement) == 0
    report = publish_report(trust.book, "2026-01", actor=trust.people["reviewer"])
    (ps,) = db.session.scalars(sa.select(PublishedStatement)).all()
    assert (ps.month, ps.report_id) == (202601, report.id)
    figures = json.loads(ps.figures)
    # the statement's balances are the report's closing balances: verifiable figures
    bundle = json.loads(report.bundle)
    closing: dict[str, int] = {}
    for row in bundle["closing_balances"]:  # keyed by account code
        closing[row["account"]] = closing.get(row["account"], 0) + row["balance"]
    assert figures["trust_fund_balance"] == closing["1002"] == 30000 + 120000
    assert figures["billed"] == sum(b.amount for b in db.session.scalars(sa.select(Bill)))
    # public (no login): the statement page and a link from the organisation's public page
    page = client.get(f"/property/{trust.org.id}/published/2026/1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/public/r/{report.id}" in html and "1,500.00" in html
    for owner in trust.owners:
        assert owner.name not in html
    org_page = client.get(f"/public/o/{trust.org.id}").get_data(as_text=True)
    assert f"/property/{trust.org.id}/published/2026/1" in org_page
    assert client.get(f"/property/{trust.org.id}/published/2026/2").status_code == 404
    # the CLI prints the published copy byte for byte, and refuses a month not published
    cli = ["property", "statement", "--compound", str(c.id), "--month"]
    r = runner.invoke(args=[*cli, "2026-01", "--published"])
    assert r.exit_code == 0 and r.output.splitlines()[0] == ps.figures
    assert runner.invoke(args=[*cli, "2026-02", "--published"]).exit_code == 1
    live = json.loads(runner.invoke(args=[*cli, "2026-01"]).output)
    assert live["trust_fund_balance"] == figures["trust_fund_balance"]


def test_owner_reads_votes_budget_and_revenue_but_not_payments_or_reminders(app, trust):
    _vote(trust)
    user = UserFactory()
    trust.owners[0].user_id = user.id
    db.session.flush()
    c = app.test_client()
    login(c, user.username)
    org = trust.org.id
    for path in ("votes", "budgets", "revenue"):
        assert c.get(f"/property/{org}/{path}").status_code == 200, path
    for path in ("expenses", "reminders"):
        assert c.get(f"/property/{org}/{path}").status_code == 403, path


def test_settings_page_sets_rates_terms_chain_and_adds_units(trust, client_as, organisation):
    from property_trust.models import FeeRate, Unit

    admin = _zh(client_as("admin", org=trust.org))
    org = trust.org.id
    page = admin.get(f"/property/{org}/settings").get_data(as_text=True)
    assert "某物业公司" in page
    assert (
        admin.post(
            f"/property/{org}/settings/fees",
            data={
                "unit_type": "shop",
                "rate": "4.8",
                "effective_from": "2026-02-01",
                "csrf_token": admin.csrf,
            },
        ).status_code
        == 302
    )
    assert db.session.scalar(sa.select(FeeRate.rate).where(FeeRate.unit_type == "shop")) == Decimal(
        "4.8"
    )
    bad_rate = admin.post(
        f"/property/{org}/settings/fees",
        data={
            "unit_type": "shop",
            "rate": "-1",
            "effective_from": "2026-02-01",
            "csrf_token": admin.csrf,
        },
    )
    assert bad_rate.status_code == 422
    # a mode that needs a resolution, without one: refused, terms unchanged
    terms = {"mode": "PCT_INCL_PUBLIC_REVENUE", "rate": "12", "csrf_token": admin.csrf}
    r = admin.post(f"/property/{org}/settings/remuneration", data=terms)
    assert r.status_code == 422 and "TP-5" in r.get_data(as_text=True)
    assert trust.compound.remuneration_mode == "PCT_OF_COLLECTED_FEES"
    vote = _vote(trust)
    r = admin.post(
        f"/property/{org}/settings/remuneration",
        data={**terms, "vote_id": str(vote.id), "floor": "100", "cap": "9000"},
    )
    assert r.status_code == 302
    c = trust.compound
    assert (c.remuneration_mode, c.remuneration_rate, c.remuneration_floor, c.remuneration_cap) == (
        "PCT_INCL_PUBLIC_REVENUE",
        Decimal("0.12"),
        10000,
        900000,
    )
    chain = {
        "committee_threshold": "5000",
        "signatories_required": "3",
        "signatories_total": "2",
        "supervisor_review": "before",
        "budget_vote_kind": "major",
        "csrf_token": admin.csrf,
    }
    assert admin.post(f"/property/{org}/settings/approvals", data=chain).status_code == 422
    assert c.signatories_required == 1
    chain["signatories_total"] = "5"
    assert admin.post(f"/property/{org}/settings/approvals", data=chain).status_code == 302
    assert (c.committee_threshold, c.signatories_required, c.signatories_total) == (500000, 3, 5)
    assert (c.supervisor_review, c.budget_vote_kind) == ("before", "major")
    # the preparer cannot change terms, but adds units
    prep = client_as("preparer", org=trust.org)
    assert (
        prep.post(
            f"/property/{org}/settings/approvals", data={**chain, "csrf_token": prep.csrf}
        ).status_code
        == 403
    )
    unit = {
        "building": "3栋",
        "number": "201",
        "area": "88.50",
        "owner_ids": f"{trust.owners[0].id}, {trust.owners[1].id}",
        "csrf_token": prep.csrf,
    }
    assert prep.post(f"/property/{org}/units", data=unit).status_code == 302
    u = db.session.scalar(sa.select(Unit).where(Unit.number == "201"))
    assert u.area == Decimal("88.50") and len(u.owners) == 2
    again = prep.post(f"/property/{org}/units", data=unit)
    assert again.status_code == 409
    no_area = prep.post(f"/property/{org}/units", data={**unit, "number": "202", "area": "1.234"})
    assert no_area.status_code == 422
    stranger = prep.post(
        f"/property/{org}/units", data={**unit, "number": "203", "owner_ids": "999999"}
    )
    assert stranger.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Unit.id))) == 5


def test_budget_actual_is_the_ledgers_including_remuneration(trust):
    c, prep = trust.compound, trust.people["preparer"]
    c.remuneration_rate = Decimal("0.10")
    b = gv.create_budget(
        c, 2026, [("5901", "酬金", 50_000), ("5103", "保洁", 90_000)], vote=_vote(trust), actor=prep
    )
    pt.bill_month(c, Month(2026, 1), actor=prep)
    for u in trust.units:
        pt.record_payment(c, u, pt.open_bills(u)[0].open, dt.date(2026, 1, 9), actor=prep)
    run = gv.run_remuneration(c, Month(2026, 1), actor=prep)
    e = gv.prepare_expense(
        c,
        account_code="5103",
        amount=7_000,
        day=dt.date(2026, 1, 15),
        summary="保洁",
        budget_line=b.lines[1],
        actor=prep,
    )
    v = ledger.get_voucher(trust.book, e.voucher_id)
    ledger.approve_voucher(v, actor=trust.people["reviewer"])
    ledger.post_voucher(v, actor=trust.people["reviewer"])
    rows = {r.line.account_code: r for r in gv.budget_vs_actual(b, dt.date(2026, 1, 31))}
    assert rows["5901"].actual == run.amount > 0
    assert rows["5103"].actual == 7_000 and rows["5103"].remaining == 83_000
    assert gv.budget_vs_actual(b, dt.date(2025, 12, 31))[0].actual == 0


def test_api_settings_findings_units_and_lists(trust, client_as):
    org = trust.org.id
    base = f"/api/v1/organisations/{org}/property"
    admin = client_as("admin", org=trust.org)
    h = {"X-CSRFToken": admin.csrf}
    r = admin.post(
        base + "/fee-rates",
        json={"unit_type": "shop", "rate": "4.5", "effective_from": "2026-02-01"},
        headers={**h, "Idempotency-Key": "rate-1"},
    )
    assert r.status_code == 201 and r.get_json()["rate"] == "4.5"
    no_resolution = admin.put(
        base + "/remuneration-terms",
        json={"mode": "PCT_INCL_PUBLIC_REVENUE", "rate": "0.12"},
        headers=h,
    )
    assert no_resolution.status_code == 422 and "TP-5" in no_resolution.get_json()["message"]
    ok = admin.put(base + "/remuneration-terms", json={"mode": "FIXED", "fixed": "3000"}, headers=h)
    assert ok.status_code == 200 and trust.compound.remuneration_fixed == 300000
    chain = {
        "committee_threshold": "10000",
        "signatories_required": 2,
        "signatories_total": 3,
        "supervisor_review": "before",
        "budget_vote_kind": "major",
    }
    assert admin.put(base + "/approval-chain", json=chain, headers=h).status_code == 200
    assert trust.compound.committee_threshold == 1_000_000
    bad = admin.put(base + "/approval-chain", json={**chain, "signatories_required": 4}, headers=h)
    assert bad.status_code == 422 and trust.compound.signatories_required == 2
    prep = client_as("preparer", org=trust.org)
    hp = {"X-CSRFToken": prep.csrf}
    assert prep.put(base + "/approval-chain", json=chain, headers=hp).status_code == 403
    unit = {"building": "9栋", "number": "901", "area": "70.10", "owner_ids": [trust.owners[2].id]}
    assert prep.post(base + "/units", json=unit, headers=hp).status_code == 201
    assert prep.post(base + "/units", json=unit, headers=hp).status_code == 409
    sup = client_as("supervisor", org=trust.org)
    f = sup.post(
        base + "/findings",
        json={"month": "2026-01", "text": "凭证齐全"},
        headers={"X-CSRFToken": sup.csrf},
    )
    assert f.status_code == 201
    assert (
        prep.post(
            base + "/findings", json={"month": "2026-01", "text": "x"}, headers=hp
        ).status_code
        == 403
    )
    _vote(trust)
    votes = prep.get(base + "/votes").get_json()["votes"]
    assert votes[0]["passed"] is True and votes[0]["reasons"]
    assert prep.get(base + "/published-statements").get_json() == {"statements": []}


def test_huge_or_odd_numbers_in_forms_are_a_422_not_a_500(trust, client_as):
    admin = client_as("admin", org=trust.org)
    org = trust.org.id
    for rate in ("1e30", "9" * 40, "NaN", "sNaN", "-0", "0.00001"):
        r = admin.post(
            f"/property/{org}/settings/fees",
            data={
                "unit_type": "shop",
                "rate": rate,
                "effective_from": "2026-02-01",
                "csrf_token": admin.csrf,
            },
        )
        assert r.status_code == 422, rate
    for area in ("1e30", "9" * 40, "sNaN", "0"):
        r = admin.post(
            f"/property/{org}/units",
            data={
                "building": "1栋",
                "number": f"x{len(area)}",
                "area": area,
                "owner_ids": str(trust.owners[0].id),
                "csrf_token": admin.csrf,
            },
        )
        assert r.status_code == 422, area
    for pct in ("1e999999", "sNaN", "101"):
        r = admin.post(
            f"/property/{org}/settings/remuneration",
            data={"mode": "PCT_OF_COLLECTED_FEES", "rate": pct, "csrf_token": admin.csrf},
        )
        assert r.status_code == 422, pct


def test_ageing_at_any_date_equals_the_bills_minus_what_was_paid_by_then(trust):
    from property_trust.models import BillSettlement, Payment

    c, prep = trust.compound, trust.people["preparer"]
    u0, u1, u2, _u3 = trust.units
    pt.bill_month(c, Month(2026, 1), actor=prep)
    pt.record_payment(c, u0, 10_000, dt.date(2026, 1, 20), actor=prep)
    pt.bill_month(c, Month(2026, 2), actor=prep)
    pt.record_payment(
        c,
        u1,
        sum(b.open for b in pt.open_bills(u1)) + 50_000,
        dt.date(2026, 2, 10),
        actor=prep,
        advance=True,
    )
    pt.bill_month(c, Month(2026, 3), actor=prep)
    pt.record_payment(c, u2, 40_000, dt.date(2026, 3, 25), actor=prep)
    pt.bill_month(c, Month(2026, 4), actor=prep)
    pt.record_payment(
        c, u0, sum(b.open for b in pt.open_bills(u0)), dt.date(2026, 4, 30), actor=prep
    )
    pt.bill_month(c, Month(2026, 5), actor=prep)
    rows = db.session.execute(sa.select(Bill.id, Bill.unit_id, Bill.date, Bill.amount)).all()
    paid = db.session.execute(
        sa.select(
            BillSettlement.bill_id, BillSettlement.amount, BillSettlement.from_advance, Payment.date
        ).join(Payment, Payment.id == BillSettlement.payment_id)
    ).all()
    for day in range(0, 150, 7):
        as_of = dt.date(2026, 1, 1) + dt.timedelta(days=day)
        total, units = 0, set()
        for bid, uid, bday, amount in rows:
            if bday > as_of:
                continue
            owed = amount - sum(
                a for b, a, adv, pday in paid if b == bid and (adv or pday <= as_of)
            )
            if owed > 0:
                total += owed
                units.add(uid)
        a = pt.ageing(c, as_of, with_rate=False)
        assert (a.total, a.households) == (total, len(units)), as_of
        assert sum(a.buckets) == a.total


def test_rates_show_as_plain_decimals(trust, client_as):
    admin = client_as("admin", org=trust.org)
    org = trust.org.id
    r = admin.post(
        f"/property/{org}/settings/remuneration",
        data={"mode": "PCT_OF_COLLECTED_FEES", "rate": "10", "csrf_token": admin.csrf},
    )
    assert r.status_code == 302
    admin.post(
        f"/property/{org}/settings/fees",
        data={
            "unit_type": "shop",
            "rate": "10",
            "effective_from": "2026-02-01",
            "csrf_token": admin.csrf,
        },
    )
    page = admin.get(f"/property/{org}/settings").get_data(as_text=True)
    assert "10%" in page and ">10<" in page and "E+" not in page
