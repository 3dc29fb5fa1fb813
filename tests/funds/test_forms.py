"""The HTML forms of community funds: set up funds, councils and their members, committee
members, budgets, projects, ¥1-rent commitments and deliveries, post the year's allocation
and transfer from the community economy, all through the pages (CSRF like every form), with
refusals re-rendering the page with a 4xx and nothing stored."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core.auth import grant_role
from core.db import db
from funds import services as fs
from funds.models import (
    Allocation,
    Budget,
    CommitteeMember,
    CommunityFund,
    Council,
    CouncilMember,
    Inflow,
    Project,
    Resolution,
    ServiceCommitment,
    ServiceDelivery,
)
from ledger import services as ledger
from ledger.models import Account, Voucher, VoucherLine
from tests.funds.test_web import pdf_text

D = dt.date


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def post(c, url, **data):
    return c.post(url, data={"csrf_token": c.csrf, **data})


def test_fund_form(host, client_as):
    c = client_as("preparer", org=host.org)
    base = f"/funds/{host.org.id}"
    html = c.get(base + "/").get_data(as_text=True)
    assert 'action="' + base + '/funds"' in html and 'name="csrf_token"' in html
    before = count(CommunityFund)
    r = post(
        c,
        base + "/funds",
        code="WP-09",
        name="睦邻读书微基金",
        founder_type="COMPANY",
        founder_name="某书店",
        purpose_tags="culture、education",
        restricted="1",
        disburse_body="committee",
        disburse_over="1000",
    )
    assert r.status_code == 302
    cf = db.session.scalar(sa.select(CommunityFund).order_by(CommunityFund.id.desc()))
    assert cf.fund.code == "WP-09" and cf.tags == ["culture", "education"] and cf.fund.restricted
    assert [(x.decision, x.body, x.over_fen) for x in cf.rules] == [
        ("disburse", "committee", 1_000_00)
    ]
    assert c.get(r.headers["Location"]).status_code == 200
    # refused: a restricted fund without purpose, an endowment not restricted, a bad founder
    for bad in (
        {"code": "X1", "name": "x", "founder_type": "COMPANY", "restricted": "1"},
        {"code": "X2", "name": "x", "founder_type": "COMPANY", "endowment": "1"},
        {"code": "X3", "name": "x", "founder_type": "ALIENS"},
        {
            "code": "X4",
            "name": "x",
            "founder_type": "UNIT",
            "disburse_body": "committee",
            "disburse_over": "abc",
        },
    ):
        r = post(c, base + "/funds", **bad)
        assert r.status_code in (400, 409, 422), bad
        assert 'role="alert"' in r.get_data(as_text=True)
    r = post(c, base + "/funds", code="WP-09", name="重名", founder_type="UNIT")
    assert r.status_code == 409  # the fund code is taken
    assert count(CommunityFund) == before + 1
    # an auditor sees no form and may not post
    a = client_as("auditor", org=host.org)
    assert 'action="' + base + '/funds"' not in a.get(base + "/").get_data(as_text=True)
    assert post(a, base + "/funds", code="Y", name="y", founder_type="UNIT").status_code == 403
    # no CSRF token: refused
    r = c.post(base + "/funds", data={"code": "Z", "name": "z", "founder_type": "UNIT"})
    assert r.status_code == 400 and count(CommunityFund) == before + 1


def test_council_and_members_forms(host, client_as):
    c = client_as("preparer", org=host.org)
    base = f"/funds/{host.org.id}"
    assert c.get(base + "/councils").status_code == 200
    r = post(
        c,
        base + "/councils",
        name="第二居民议事会",
        quorum_num="1",
        quorum_den="2",
        members="甲\n乙，丙\n\n丁",
        seated_from="2026-01-01",
    )
    assert r.status_code == 302
    council = db.session.scalar(sa.select(Council).where(Council.name == "第二居民议事会"))
    assert (council.quorum_num, council.quorum_den) == (1, 2)
    assert fs.seated_on(council, D(2026, 2, 1)) == 4
    r = post(c, f"{base}/councils/{council.id}/members", name="戊", seated_from="2026-03-01")
    assert r.status_code == 302 and fs.seated_on(council, D(2026, 3, 2)) == 5
    html = c.get(base + "/councils").get_data(as_text=True)
    assert "第二居民议事会" in html and "戊" in html
    n = count(CouncilMember)
    for url, data in (
        (
            base + "/councils",
            {"name": "x", "quorum_num": "3", "quorum_den": "2", "seated_from": "2026-01-01"},
        ),
        (
            base + "/councils",
            {"name": "x", "quorum_num": "a", "quorum_den": "2", "seated_from": "2026-01-01"},
        ),
        (f"{base}/councils/{council.id}/members", {"name": " ", "seated_from": "2026-01-01"}),
        (f"{base}/councils/{council.id}/members", {"name": "己", "seated_from": "2026-13-01"}),
    ):
        r = post(c, url, **data)
        assert r.status_code == 422, data
    assert count(CouncilMember) == n
    assert (
        post(c, f"{base}/councils/999999/members", name="x", seated_from="2026-01-01").status_code
        == 404
    )


def test_committee_budget_and_project_forms(host, client_as):
    c = client_as("preparer", org=host.org)
    base = f"/funds/{host.org.id}"
    n = count(CommitteeMember)
    r = post(
        c,
        f"{base}/f/{host.free.id}/committee",
        name="管委会主任",
        role="主任",
        term_start="2026-01-01",
        term_end="2028-12-31",
    )
    assert r.status_code == 302 and count(CommitteeMember) == n + 1
    r = post(
        c,
        f"{base}/f/{host.free.id}/committee",
        name="委员",
        role="委员",
        term_start="2026-01-01",
        term_end="2025-12-31",
    )
    assert r.status_code == 422 and count(CommitteeMember) == n + 1
    # a project at step ① with its budget line
    r = post(
        c,
        base + "/projects",
        cf_id=str(host.pf.id),
        title="小区绿化提升",
        start="2026-03-01",
        end="2026-10-31",
        proposed_by="社区党委",
        proposed_on="2026-03-01",
        budget="30000",
        priority_tags="environment",
        documents="提议书",
    )
    assert r.status_code == 302
    p = db.session.scalar(sa.select(Project).where(Project.title == "小区绿化提升"))
    assert p.step == "proposed" and p.budget_fen == 30_000_00 and p.priority_tags == "environment"
    assert c.get(r.headers["Location"]).status_code == 200
    r = post(
        c,
        base + "/projects",
        cf_id=str(host.pf.id),
        title="倒着的项目",
        start="2026-03-01",
        end="2026-02-01",
        proposed_by="社区党委",
        proposed_on="2026-03-01",
    )
    assert r.status_code == 422 and count(Project) == 1
    # a budget line per fund and per project
    b = count(Budget)
    r = post(
        c,
        base + "/budgets",
        cf_id=str(host.micro.id),
        year="2026",
        label="重阳节活动",
        amount="800",
    )
    assert r.status_code == 302 and count(Budget) == b + 1
    html = c.get(base + "/budgets?as_of=2026-12-31").get_data(as_text=True)
    assert "重阳节活动" in html and "800.00" in html
    for bad in ({"amount": "-5"}, {"year": "1999"}, {"project_id": str(p.id)}):
        data = {"cf_id": str(host.micro.id), "year": "2026", "label": "x", "amount": "1", **bad}
        assert post(c, base + "/budgets", **data).status_code == 422, bad
    assert count(Budget) == b + 1


def test_commitment_forms(host, client_as):
    c = client_as("preparer", org=host.org)
    base = f"/funds/{host.org.id}"
    r = post(
        c,
        base + "/commitments",
        tenant="某社会组织",
        premises="灯光球场",
        year="2026",
        date="2026-02-01",
        rent="1.00",
        sessions_promised="200",
        value_claimed="3000000",
    )
    assert r.status_code == 302
    sc = db.session.scalar(sa.select(ServiceCommitment))
    assert sc.rent_fen == 100 and sc.value_claimed_fen == 3_000_000_00
    # only the ¥1 rent was booked
    assert (
        db.session.scalar(
            sa.select(sa.func.sum(VoucherLine.credit)).where(
                VoucherLine.voucher_id == sc.rent_voucher_id
            )
        )
        == 100
    )
    r = post(
        c,
        f"{base}/commitments/{sc.id}/deliveries",
        date="2026-03-01",
        sessions="12",
        description="篮球公益课",
        verified_by="监委会",
    )
    assert r.status_code == 302 and count(ServiceDelivery) == 1
    html = c.get(base + "/commitments").get_data(as_text=True)
    assert "灯光球场" in html and "12 / 200" in html
    assert (
        post(
            c,
            f"{base}/commitments/{sc.id}/deliveries",
            date="2026-03-01",
            sessions="0",
            description="x",
        ).status_code
        == 422
    )
    assert (
        post(
            c,
            base + "/commitments",
            tenant="x",
            premises="y",
            year="2026",
            date="2026-02-01",
            sessions_promised="0",
        ).status_code
        == 422
    )
    assert count(ServiceCommitment) == 1 and count(ServiceDelivery) == 1


def test_allocation_form_posts_and_shows_the_voucher(host, client_as):
    c = client_as("preparer", org=host.org)
    base = f"/funds/{host.org.id}"
    data = dict(
        cf_id=str(host.pf.id),
        year="2026",
        date="2026-02-01",
        kind="urban",
        population="8050",
        population_basis="resident",
        part_hundreds="floor",
    )
    r = post(c, base + "/allocation", **data)
    assert r.status_code == 302
    a = db.session.scalar(sa.select(Allocation))
    assert a.amount == 220_000_00 + 0 * 1  # 80 whole hundreds: ¥220,000
    v = db.session.get(Voucher, a.voucher_id)
    assert v.status == "posted" and v.book_id == host.book.id
    codes = dict(
        db.session.execute(
            sa.select(Account.code, VoucherLine.debit - VoucherLine.credit)
            .join(Account, Account.id == VoucherLine.account_id)
            .where(VoucherLine.voucher_id == v.id)
        ).all()
    )
    assert codes["1122"] == 220_000_00 and any(k.startswith("4401") for k in codes)
    html = c.get(r.headers["Location"]).get_data(as_text=True)
    assert v.number in html and f"/vouchers/{v.id}" in html and "220,000.00" in html
    # refused: a population that is not whole, a second allocation of the year, a fund
    # that does not receive public finance: nothing stored
    for bad, status in (
        ({"population": "8050.5", "year": "2027"}, 422),
        ({"population": "abc", "year": "2027"}, 422),
        ({"kind": "lunar", "year": "2027"}, 422),
        ({}, 409),
        ({"cf_id": str(host.micro.id), "year": "2027"}, 422),
    ):
        r = post(c, base + "/allocation", **{**data, **bad})
        assert r.status_code == status, bad
        assert 'role="alert"' in r.get_data(as_text=True)
    r = post(c, base + "/allocation", **{**data, "population": "8050.5", "year": "2027"})
    assert "8050.5" in r.get_data(as_text=True)
    assert count(Allocation) == 1


def test_transfer_form_posts_both_books(host, client_as, organisation_factory):
    ent = organisation_factory(kind="enterprise", community=host.org.community, name="社区合作社")
    ent_book = ledger.create_book(ent)
    c = client_as("preparer", org=host.org)
    base = f"/funds/{host.org.id}"
    html = c.get(base + "/").get_data(as_text=True)
    assert "社区合作社" in html
    data = dict(
        cf_id=str(host.micro.id),
        enterprise_id=str(ent.id),
        amount="600",
        date="2026-02-05",
        note="利润 10%",
    )
    # the preparer holds no role in the enterprise: refused, nothing in either book
    r = post(c, base + "/transfers", **data)
    assert r.status_code == 403 and count(Inflow) == 0
    grant_role(c.user, ent, "preparer")
    db.session.flush()
    r = post(c, base + "/transfers", **data)
    assert r.status_code == 302
    i = db.session.scalar(sa.select(Inflow))
    assert db.session.get(Voucher, i.source_voucher_id).book_id == ent_book.id
    assert db.session.get(Voucher, i.voucher_id).book_id == host.book.id
    html = c.get(r.headers["Location"]).get_data(as_text=True)
    assert f"/vouchers/{i.source_voucher_id}" in html and f"/vouchers/{i.voucher_id}" in html
    for bad in ({"enterprise_id": str(host.org.id)}, {"enterprise_id": ""}, {"amount": "0"}):
        assert post(c, base + "/transfers", **{**data, **bad}).status_code == 422, bad
    assert count(Inflow) == 1


def test_fund_decision_form_lets_a_committee_rule_be_met(host, client_as):
    """The micro-fund's rules ask for a committee decision for a release: the decision is
    recorded on the fund page and the release then cites it."""
    fs.record_inflow(
        host.micro,
        kind="donation",
        amount=1_000_00,
        date=D(2026, 1, 5),
        source_name="某公司",
        actor=host.prep,
    )
    c = client_as("council_secretary", org=host.org)
    base = f"/funds/{host.org.id}/f/{host.micro.id}"
    html = c.get(base).get_data(as_text=True)
    assert f'action="{base}/resolutions"' in html
    votes = dict(
        body="committee",
        meeting_date="2026-02-01",
        present="3",
        votes_for="3",
        votes_against="0",
        votes_abstain="0",
        text="重阳节活动用途达成",
    )
    r = c.post(base + "/resolutions", data={"csrf_token": c.csrf, **votes})
    assert r.status_code == 302
    res = db.session.scalar(sa.select(Resolution).where(Resolution.cf_id == host.micro.id))
    assert res.body == "committee" and res.passed and (res.present, res.seated) == (3, 3)
    # bad input: no quorum, more votes than present, a council of nobody: refused, nothing kept
    for bad in (
        {"present": "1", "votes_for": "1"},
        {"votes_for": "4"},
        {"body": "council"},
        {"present": "x"},
        {"body": "elders"},
    ):
        r = c.post(base + "/resolutions", data={"csrf_token": c.csrf, **votes, **bad})
        assert r.status_code == 422, bad
    assert count(Resolution) == 1
    # the preparer releases with that decision
    p = client_as("preparer", org=host.org)
    r = post(
        p,
        base + "/releases",
        amount="200",
        date="2026-02-02",
        resolution_id=str(res.id),
        reason="重阳节活动已办",
    )
    assert r.status_code == 302
    assert "200.00" in p.get(base + "?start=2026-01-01&end=2026-12-31").get_data(as_text=True)
    # an auditor may not record decisions
    a = client_as("auditor", org=host.org)
    assert a.post(base + "/resolutions", data={"csrf_token": a.csrf, **votes}).status_code == 403


def test_resident_donor_from_the_form(host, client_as, resident_factory):
    donor = resident_factory(community=host.org.community, name="王秀兰")
    c = client_as("preparer", org=host.org)
    html = c.get(f"/funds/{host.org.id}/").get_data(as_text=True)
    assert f'<option value="{donor.id}">王秀兰</option>' in html
    r = post(
        c,
        f"/funds/{host.org.id}/inflows",
        cf_id=str(host.micro.id),
        kind="donation",
        amount="88",
        date="2026-02-01",
        resident_id=str(donor.id),
    )
    assert r.status_code == 302
    i = db.session.scalar(sa.select(Inflow))
    line = db.session.scalar(sa.select(VoucherLine).where(VoucherLine.voucher_id == i.voucher_id))
    assert i.resident_id == donor.id and line.resident_id == donor.id


def test_project_status_list_and_budget_pdf(host, client_as):
    fs.create_project(
        host.pf,
        title="楼道照明",
        start=D(2026, 3, 1),
        end=D(2026, 9, 30),
        proposed_by="社区党委",
        proposed_on=D(2026, 3, 1),
        budget_fen=9_000_00,
        actor=host.prep,
    )
    c = client_as("auditor", org=host.org)
    r = c.get(f"/funds/{host.org.id}/projects.csv")
    assert r.status_code == 200 and "楼道照明" in r.get_data(as_text=True)
    assert "9000.00" in r.get_data(as_text=True)
    r = c.get(f"/funds/{host.org.id}/projects.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = pdf_text(r.data)
    assert "楼道照明" in text and "9000.00" in text
    r = c.get(f"/funds/{host.org.id}/budgets?as_of=2026-12-31&format=pdf")
    assert r.status_code == 200 and "楼道照明" in pdf_text(r.data)
    assert c.get(f"/funds/{host.org.id}/projects.xls").status_code == 404
