"""Property-trust pages, API and CLI: what staff, supervisors and owners get, bad input as a
translated 4xx, the statement PDF, and no other owner's name, unit or arrears on an owner's page."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core.db import db
from core.months import Month
from property_trust import governance as gv
from property_trust import services as pt
from property_trust.models import Bill, Payment
from tests.conftest import login
from tests.factories import UserFactory
from tests.transparency.publicdata import pdf_text


def _billed(trust, months=(1, 2)):
    for m in months:
        pt.bill_month(trust.compound, Month(2026, m), actor=trust.people["preparer"])
    pt.record_payment(
        trust.compound, trust.units[0], 22343, dt.date(2026, 2, 5), actor=trust.people["preparer"]
    )
    db.session.flush()


def _owner_client(app, trust, i=0):
    user = UserFactory()
    trust.owners[i].user_id = user.id
    db.session.flush()
    c = app.test_client()
    login(c, user.username)
    return c


def test_staff_dashboard_and_billing_form(trust, client_as):
    c = client_as("preparer", org=trust.org)
    r = c.post(f"/property/{trust.org.id}/bill", data={"month": "2026-03", "csrf_token": c.csrf})
    assert r.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Bill.id))) == 4
    again = c.post(
        f"/property/{trust.org.id}/bill", data={"month": "2026-03", "csrf_token": c.csrf}
    )
    assert again.status_code == 409
    assert "2026-03" in again.get_data(as_text=True)
    page = c.get(f"/property/{trust.org.id}/").get_data(as_text=True)
    assert "玉林北路测试小区" in page
    # an auditor reads but cannot bill
    a = client_as("auditor", org=trust.org)
    assert a.get(f"/property/{trust.org.id}/").status_code == 200
    assert (
        a.post(
            f"/property/{trust.org.id}/bill", data={"month": "2026-04", "csrf_token": a.csrf}
        ).status_code
        == 403
    )


def test_overpayment_without_advance_is_a_translated_422(trust, client_as):
    _billed(trust, (1,))
    before = db.session.scalar(sa.select(sa.func.count(Payment.id)))
    c = client_as("preparer", org=trust.org)
    c.get("/lang/zh_Hans_CN")
    r = c.post(
        f"/property/{trust.org.id}/payments",
        data={
            "unit_id": trust.units[1].id,
            "amount": "5000",
            "date": "2026-01-20",
            "csrf_token": c.csrf,
        },
    )
    assert r.status_code == 422
    assert "预收" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == before


def test_owner_sees_own_bills_and_every_voucher_but_no_other_owner(app, trust):
    _billed(trust)
    c = _owner_client(app, trust, 0)
    page = c.get(f"/property/{trust.org.id}/mine?month=2026-02").get_data(as_text=True)
    assert "1栋-101" in page  # their own unit
    for other in trust.owners[1:]:
        assert other.name not in page
    for u in trust.units[1:]:
        assert pt.unit_label(u) not in page
    assert "物业费 2026-02" in page or "Property fees 2026-02" in page
    st = c.get(f"/property/{trust.org.id}/statement/2026/2")
    assert st.status_code == 200
    body = st.get_data(as_text=True)
    for other in trust.owners[1:]:
        assert other.name not in body
    # another owner's voucher is visible (every trust voucher) but names nobody
    vid = db.session.scalars(
        sa.select(Bill.voucher_id).where(Bill.unit_id == trust.units[2].id)
    ).first()
    vp = c.get(f"/property/{trust.org.id}/vouchers/{vid}").get_data(as_text=True)
    assert trust.owners[2].name not in vp and pt.unit_label(trust.units[2]) not in vp
    # the staff-only list is not for owners
    assert c.get(f"/property/{trust.org.id}/arrears").status_code == 403


def test_a_stranger_gets_nothing(app, trust):
    c = app.test_client()
    login(c, UserFactory().username)
    assert c.get(f"/property/{trust.org.id}/mine").status_code == 403
    assert c.get(f"/property/{trust.org.id}/statement/2026/2").status_code == 403


def test_statement_pdf_reads_back(app, trust, client_as, tmp_path):
    _billed(trust)
    gv.supervise(
        trust.compound,
        "finding",
        text="二月保洁合同未附验收单",
        month=Month(2026, 2),
        actor=trust.people["supervisor"],
    )
    c = client_as("auditor", org=trust.org)
    r = c.get(f"/property/{trust.org.id}/statement/2026/2.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text, fonts, _pages = pdf_text(r.data, tmp_path)
    assert "二月保洁合同未附验收单" in text
    assert "2026-02" in text


def test_supervisor_holds_from_the_page(app, trust, client_as):
    b = gv.create_budget(
        trust.compound,
        2026,
        [("5103", "清洁", 100_000)],
        vote=gv.record_vote(
            trust.compound,
            "预算",
            "ordinary",
            dt.date(2026, 1, 5),
            voted_area="300",
            voted_owners=3,
            yes_area="200",
            yes_owners=2,
            actor=trust.people["preparer"],
        ),
        actor=trust.people["preparer"],
    )
    e = gv.prepare_expense(
        trust.compound,
        account_code="5103",
        amount=1000,
        day=dt.date(2026, 3, 2),
        summary="保洁",
        budget_line=b.lines[0],
        actor=trust.people["preparer"],
    )
    sup = client_as("supervisor", org=trust.org)
    r = sup.post(
        f"/property/{trust.org.id}/vouchers/{e.voucher_id}/supervise",
        data={"action": "hold", "text": "合同未附", "csrf_token": sup.csrf},
    )
    assert r.status_code == 302
    assert gv.is_held(e.voucher_id)
    prep = client_as("preparer", org=trust.org)
    r = prep.post(
        f"/property/{trust.org.id}/vouchers/{e.voucher_id}/supervise",
        data={"action": "release", "text": "", "csrf_token": prep.csrf},
    )
    assert r.status_code == 403


def test_api_billing_is_idempotent_and_refuses_a_second_run(trust, client_as):
    c = client_as("preparer", org=trust.org)
    url = f"/api/v1/organisations/{trust.org.id}/property/bills"
    headers = {"Idempotency-Key": "bill-2026-01", "X-CSRFToken": c.csrf}
    r1 = c.post(url, json={"month": "2026-01"}, headers=headers)
    assert r1.status_code == 201, r1.get_json()
    r2 = c.post(url, json={"month": "2026-01"}, headers=headers)
    assert r2.status_code == 201 and r2.get_json() == r1.get_json()
    r3 = c.post(url, json={"month": "2026-01"}, headers={"X-CSRFToken": c.csrf})
    assert r3.status_code == 409
    bad = c.post(url, json={"month": "2026-13"}, headers={"X-CSRFToken": c.csrf})
    assert bad.status_code == 422
    v = c.post(
        f"/api/v1/organisations/{trust.org.id}/property/votes",
        json={
            "subject": "预算",
            "kind": "ordinary",
            "held_on": "2026-01-05",
            "voted_area": "999",
            "voted_owners": 3,
            "yes_area": "1",
            "yes_owners": 1,
        },
        headers={"X-CSRFToken": c.csrf},
    )
    assert v.status_code == 422 and "375.93" in v.get_json()["message"]
    chk = c.get(f"/api/v1/organisations/{trust.org.id}/property/check").get_json()
    assert chk["ok"] is True
    st = c.get(f"/api/v1/organisations/{trust.org.id}/property/statements/2026/1").get_json()
    assert st["billed"] == 22343 + 30000 + 16388 + 25253


def test_cli_bill_and_check(app, trust, runner):
    r = runner.invoke(
        args=["property", "bill", "--compound", str(trust.compound.id), "--month", "2026-01"]
    )
    assert r.exit_code == 0, r.output
    assert "4 bills" in r.output
    r = runner.invoke(
        args=["property", "bill", "--compound", str(trust.compound.id), "--month", "2026-01"]
    )
    assert r.exit_code == 1 and "2026-01" in r.output and "939.84" in r.output
    r = runner.invoke(args=["property", "check", "--compound", str(trust.compound.id)])
    assert r.exit_code == 0, r.output
    b = db.session.scalars(sa.select(Bill)).first()
    b.paid = 1
    db.session.flush()
    r = runner.invoke(args=["property", "check", "--compound", str(trust.compound.id)])
    assert r.exit_code == 1 and "1122" in r.output


def test_api_revenue_budget_expense_reminder_escalation(trust, client_as):
    base = f"/api/v1/organisations/{trust.org.id}/property"
    c = client_as("preparer", org=trust.org)
    h = {"X-CSRFToken": c.csrf}
    r = c.post(
        base + "/revenue",
        json={
            "kind": "parking",
            "date": "2026-03-31",
            "gross": "1000",
            "deductions": [{"description": "保洁", "document": "发票 1", "amount": "100"}],
        },
        headers=h,
    )
    assert r.status_code == 201 and r.get_json()["deductions"] == 10000
    bad = c.post(
        base + "/revenue",
        json={
            "kind": "parking",
            "date": "2026-03-31",
            "gross": "1",
            "deductions": [{"description": "x", "document": "d", "amount": "2"}],
        },
        headers=h,
    )
    assert bad.status_code == 422
    v = c.post(
        base + "/votes",
        json={
            "subject": "预算",
            "kind": "ordinary",
            "held_on": "2026-01-05",
            "voted_area": "300",
            "voted_owners": 3,
            "yes_area": "200",
            "yes_owners": 2,
        },
        headers=h,
    )
    assert v.status_code == 201 and v.get_json()["passed"] is True
    b = c.post(
        base + "/budgets",
        json={
            "year": 2026,
            "vote_id": v.get_json()["id"],
            "lines": [{"account_code": "5103", "name": "清洁", "amount": "1000"}],
        },
        headers=h,
    )
    assert b.status_code == 201
    line_id = b.get_json()["lines"][0]["id"]
    unbudgeted = c.post(
        base + "/expenses",
        json={"account_code": "5103", "amount": "10", "date": "2026-03-02", "summary": "保洁"},
        headers=h,
    )
    assert unbudgeted.status_code == 422
    e = c.post(
        base + "/expenses",
        json={
            "account_code": "5103",
            "amount": "10",
            "date": "2026-03-02",
            "summary": "保洁",
            "budget_line_id": line_id,
        },
        headers=h,
    )
    assert e.status_code == 201 and e.get_json()["held"] is False
    em = c.post(
        base + "/expenses",
        json={
            "account_code": "5102",
            "amount": "5000",
            "date": "2026-03-02",
            "summary": "抢修",
            "emergency": True,
        },
        headers=h,
    )
    assert em.status_code == 201 and em.get_json()["held"] is True
    rev = client_as("reviewer", org=trust.org)
    adj = rev.post(
        base + "/budgets/adjustments",
        json={"line_id": line_id, "delta": "-100", "reason": "减少频次"},
        headers={"X-CSRFToken": rev.csrf},
    )
    assert adj.status_code == 201 and adj.get_json()["line_amount"] == 90000
    bva = c.get(base + "/budgets/2026").get_json()
    assert bva["lines"][0]["budget"] == 90000
    pt.bill_month(trust.compound, Month(2026, 1), actor=trust.people["preparer"])
    u = trust.units[0].id
    rem = c.post(
        base + "/reminders",
        json={"unit_id": u, "sent_on": "2026-02-01", "deadline": "2026-02-15"},
        headers=h,
    )
    assert rem.status_code == 201 and rem.get_json()["amount"] == 22343
    cut = c.post(
        base + "/escalations",
        json={"unit_id": u, "status": "cut_power", "date": "2026-03-01"},
        headers=h,
    )
    assert cut.status_code == 422
    ok = c.post(
        base + "/escalations",
        json={"unit_id": u, "status": "litigation", "date": "2026-03-01"},
        headers=h,
    )
    assert ok.status_code == 201
