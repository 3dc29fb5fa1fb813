"""Community funds' services: inflows, allocations, councils, the five steps, disbursements
with every check, releases, and the fund statement = ledger balances check."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core.db import db
from core.errors import Conflict, InvalidInput, NotFound
from funds import services as fs
from funds.models import Disbursement, Inflow, Resolution, Step
from ledger.models import Voucher, VoucherLine

D = dt.date


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def refused(fn, *words):
    """fn() raises InvalidInput naming every word, and stores nothing."""
    before = (count(Voucher), count(Inflow), count(Disbursement), count(Resolution))
    with pytest.raises((InvalidInput, Conflict)) as e:
        with db.session.begin_nested():
            fn()
    msg = str(e.value.message)
    for w in words:
        assert w in msg, (w, msg)
    assert (count(Voucher), count(Inflow), count(Disbursement), count(Resolution)) == before
    return msg


def council_vote(host, project, present=8, yes=6, no=1, abstain=1, on=D(2026, 3, 10)):
    return fs.record_resolution(
        host.org,
        body="council",
        council=host.council,
        project=project,
        meeting_date=on,
        present=present,
        votes_for=yes,
        votes_against=no,
        votes_abstain=abstain,
        text=f"同意实施「{project.title}」，预算按方案执行。",
        minutes=("纪要.pdf", "application/pdf", b"%PDF-1.4 minutes"),
        actor=host.secretary,
    )


def committee(host, cf, on=D(2026, 2, 1), text="同意支出"):
    return fs.record_resolution(
        host.org,
        body="committee",
        cf=cf,
        meeting_date=on,
        present=3,
        votes_for=3,
        votes_against=0,
        votes_abstain=0,
        text=text,
        actor=host.prep,
    )


def project_in_implementation(host, budget=50_000_00, title="楼道环境改善"):
    p = fs.create_project(
        host.pf,
        title=title,
        start=D(2026, 3, 1),
        end=D(2026, 11, 30),
        proposed_by="社区党委",
        proposed_on=D(2026, 3, 1),
        priority_tags=["environment"],
        budget_fen=budget,
        documents="提议书",
        actor=host.prep,
    )
    r = council_vote(host, p)
    fs.advance_project(
        p, to="voted", who="居民议事会", on=D(2026, 3, 10), resolution=r, actor=host.prep
    )
    fs.advance_project(
        p,
        to="implementation",
        who="居委会",
        on=D(2026, 3, 15),
        documents="实施方案",
        actor=host.prep,
    )
    return p, r


def test_donation_and_grant_post_into_the_fund(host, resident_factory):
    donor = resident_factory(community=host.org.community)
    i = fs.record_inflow(
        host.micro,
        kind="donation",
        amount=1_000_00,
        date=D(2026, 1, 5),
        resident=donor,
        publish_name=True,
        actor=host.prep,
    )
    g = fs.record_inflow(
        host.micro,
        kind="grant",
        amount=5_000_00,
        date=D(2026, 1, 6),
        source_name="成华区民政局",
        actor=host.prep,
    )
    v = db.session.get(Voucher, i.voucher_id)
    assert v.is_posted and v.source == "funds"
    assert {(ln.account.code, ln.debit, ln.credit, ln.fund_id) for ln in v.lines} == {
        ("1002", 1_000_00, 0, None),
        ("410102", 0, 1_000_00, host.micro.fund_id),
    }
    assert donor.name not in v.summary
    assert all(ln.resident_id == donor.id for ln in v.lines)  # the receipt path
    assert db.session.get(Voucher, g.voucher_id).lines[1].account.code == "440102"
    assert fs.available(host.micro) == 6_000_00
    # consent: the fund's flag is not enough without the resident's own publish_name consent
    assert fs.public_donor(i) is None
    anon = fs.record_inflow(
        host.micro,
        kind="donation",
        amount=10_00,
        date=D(2026, 1, 7),
        anonymous=True,
        source_name="某某",
        actor=host.prep,
    )
    assert anon.source_name == "" and fs.public_donor(anon) is None
    named = fs.record_inflow(
        host.micro,
        kind="donation",
        amount=10_00,
        date=D(2026, 1, 7),
        source_name="望平餐饮公司",
        publish_name=True,
        actor=host.prep,
    )
    assert fs.public_donor(named) == "望平餐饮公司"
    assert all(c.ok for c in fs.check_statements(host.org))


def test_donation_to_a_closed_fund_is_refused(host):
    fs.close_fund(host.micro, actor=host.admin)
    refused(
        lambda: fs.record_inflow(
            host.micro,
            kind="donation",
            amount=88_00,
            date=D(2026, 1, 5),
            source_name="张先生",
            actor=host.prep,
        ),
        "MF-01",
        "¥88.00",
    )


def test_allocation_posts_receivable_and_grant_income(host):
    a = fs.record_allocation(
        host.pf,
        year=2026,
        date=D(2026, 2, 1),
        kind="urban",
        population=8050,
        population_basis="resident",
        part_hundreds="floor",
        actor=host.prep,
    )
    assert a.amount == 22_000_000 and a.population_basis == "resident"
    lines = db.session.get(Voucher, a.voucher_id).lines
    assert [(ln.account.code, ln.debit, ln.credit) for ln in lines] == [
        ("1122", 22_000_000, 0),
        ("440102", 0, 22_000_000),
    ]
    assert lines[1].fund_id == host.pf.fund_id
    assert fs.available(host.pf) == 22_000_000
    refused(
        lambda: fs.record_allocation(
            host.pf,
            year=2027,
            date=D(2026, 2, 1),
            kind="urban",
            population=80.5,
            population_basis="resident",
            part_hundreds="floor",
            actor=host.prep,
        ),
        "80.5",
    )
    refused(
        lambda: fs.record_allocation(
            host.pf,
            year=2026,
            date=D(2026, 2, 1),
            kind="urban",
            population=100,
            population_basis="resident",
            part_hundreds="floor",
            actor=host.prep,
        ),
        "2026",
    )


def test_resolution_quorum_and_vote_counts(host):
    p = fs.create_project(
        host.pf,
        title="议事测试",
        start=D(2026, 3, 1),
        end=D(2026, 4, 1),
        proposed_by="社区党委",
        proposed_on=D(2026, 3, 1),
        actor=host.prep,
    )
    # 9 seated, quorum 2/3 → 6 needed
    refused(lambda: council_vote(host, p, present=5, yes=5, no=0, abstain=0), "5", "9", "2/3")
    refused(lambda: council_vote(host, p, present=7, yes=6, no=1, abstain=1), "8", "7")
    refused(lambda: council_vote(host, p, present=10, yes=6, no=1, abstain=1), "10", "9")
    r = council_vote(host, p, present=6, yes=3, no=3, abstain=0)
    assert r.seated == 9 and not r.passed and r.quorum_rule == "2/3"
    fs.advance_project(
        p, to="voted", who="居民议事会", on=D(2026, 3, 10), resolution=r, actor=host.prep
    )
    assert p.step == Step.REFUSED


def test_five_steps_in_order(host):
    p, r = project_in_implementation(host)
    assert [s.step for s in p.steps] == ["proposed", "voted", "implementation"]
    assert p.steps[1].resolution_id == r.id
    refused(
        lambda: fs.advance_project(
            p, to="supervision", who="监委会", on=D(2026, 4, 1), actor=host.prep
        ),
        "implementation",
        "acceptance",
        "supervision",
    )
    fs.advance_project(p, to="acceptance", who="社区党委", on=D(2026, 4, 1), actor=host.prep)
    fs.advance_project(p, to="supervision", who="监委会", on=D(2026, 4, 2), actor=host.prep)
    with pytest.raises(Conflict):
        fs.advance_project(p, to="supervision", who="监委会", on=D(2026, 4, 3), actor=host.prep)


def test_voting_step_needs_the_council_resolution(host):
    p = fs.create_project(
        host.pf,
        title="无决议",
        start=D(2026, 3, 1),
        end=D(2026, 4, 1),
        proposed_by="社区党委",
        proposed_on=D(2026, 3, 1),
        actor=host.prep,
    )
    refused(
        lambda: fs.advance_project(p, to="voted", who="x", on=D(2026, 3, 2), actor=host.prep), "②"
    )


def _fund_pf(host):
    fs.record_allocation(
        host.pf,
        year=2026,
        date=D(2026, 2, 1),
        kind="urban",
        population=8000,
        population_basis="resident",
        part_hundreds="floor",
        actor=host.prep,
    )


def test_public_finance_spending_checks(host):
    _fund_pf(host)
    p, r = project_in_implementation(host, budget=50_000_00)

    def spend(
        amount,
        cat="environment",
        purpose="public_services",
        resolution=r,
        project=p,
        on=D(2026, 4, 1),
    ):
        return fs.disburse(
            host.pf,
            amount=amount,
            date=on,
            category_code=cat,
            purpose=purpose,
            payee="某保洁公司",
            project=project,
            resolution=resolution,
            actor=host.prep,
        )

    d = spend(30_000_00)
    assert d.budget_id is not None
    v = db.session.get(Voucher, d.voucher_id)
    assert [(ln.account.code, ln.fund_id) for ln in v.lines] == [
        ("5101", host.pf.fund_id),
        ("1002", None),
    ]
    # negative list, with the reason
    refused(lambda: spend(1_000_00, cat="private_costs"), "物业费", "¥1000.00", "CF-5")
    refused(lambda: spend(1_000_00, cat="government_duties"), "办事不养人")
    # over budget: 50,000 − 30,000 = 20,000 left
    refused(lambda: spend(20_000_01), "¥50000.00", "¥30000.00", "¥0.01")
    # without the resolution
    refused(lambda: spend(1_00, resolution=None), "¥1.00")
    # another purpose
    refused(lambda: spend(1_00, purpose="party"), "public_services", "party")
    # without a project
    refused(lambda: spend(1_00, project=None), "CF-5")
    # in another step
    fs.advance_project(p, to="acceptance", who="社区党委", on=D(2026, 5, 1), actor=host.prep)
    refused(lambda: spend(1_00, on=D(2026, 5, 2)), "acceptance")
    assert all(c.ok for c in fs.check_statements(host.org))


def test_committee_rule_and_balance(host):
    fs.record_inflow(
        host.micro,
        kind="donation",
        amount=2_000_00,
        date=D(2026, 1, 5),
        source_name="望平餐饮公司",
        actor=host.prep,
    )

    def spend(amount, resolution=None, purpose="elderly"):
        return fs.disburse(
            host.micro,
            amount=amount,
            date=D(2026, 2, 2),
            category_code="activities",
            purpose=purpose,
            payee="老年协会",
            resolution=resolution,
            actor=host.prep,
        )

    spend(500_00)  # at the threshold: no decision needed
    refused(lambda: spend(500_01), "MF-01", "¥500.01")
    ok = committee(host, host.micro)
    spend(1_000_00, ok)
    refused(lambda: spend(600_00, ok), "¥500.00", "¥600.00")  # holds 500 left
    refused(lambda: spend(10_00, ok, purpose="sports"), "elderly")


def test_endowment_principal_is_never_spent(host):
    fs.record_inflow(
        host.endow,
        kind="donation",
        amount=100_000_00,
        date=D(2026, 1, 5),
        source_name="居民联名",
        actor=host.prep,
    )
    fs.record_inflow(
        host.endow,
        kind="return",
        amount=3_000_00,
        date=D(2026, 6, 30),
        source_name="定期存款利息",
        actor=host.prep,
    )

    def spend(amount):
        return fs.disburse(
            host.endow,
            amount=amount,
            date=D(2026, 7, 1),
            category_code="activities",
            purpose="heritage",
            payee="非遗工作室",
            actor=host.prep,
        )

    refused(lambda: spend(3_000_01), "EN-01", "¥103000.00", "¥100000.00", "¥3000.01")
    spend(3_000_00)
    assert fs.available(host.endow) == 0
    refused(lambda: spend(1), "¥100000.00")


def test_release_of_restriction(host):
    fs.record_inflow(
        host.micro,
        kind="donation",
        amount=2_000_00,
        date=D(2026, 1, 5),
        source_name="望平餐饮公司",
        actor=host.prep,
    )
    ok = committee(host, host.micro, text="重阳节活动已完成，限定用途达成")
    r = fs.release(
        host.micro,
        amount=1_500_00,
        date=D(2026, 2, 3),
        resolution=ok,
        reason="重阳节活动完成",
        actor=host.prep,
    )
    lines = db.session.get(Voucher, r.voucher_id).lines
    assert [(ln.account.code, ln.debit, ln.credit, ln.fund_id) for ln in lines] == [
        ("3102", 1_500_00, 0, host.micro.fund_id),
        ("3101", 0, 1_500_00, host.micro.fund_id),
    ]
    refused(
        lambda: fs.release(
            host.micro,
            amount=500_01,
            date=D(2026, 2, 3),
            resolution=ok,
            reason="再次",
            actor=host.prep,
        ),
        "¥500.00",
        "¥500.01",
    )
    refused(
        lambda: fs.release(
            host.free, amount=1, date=D(2026, 2, 3), resolution=ok, reason="x", actor=host.prep
        ),
        "GEN",
    )
    assert all(c.ok for c in fs.check_statements(host.org))
    st = fs.fund_statement(host.micro, D(2026, 1, 1), D(2026, 12, 31))
    assert st.opening == 0 and st.closing == 2_000_00 and st.releases == 1_500_00 and st.consistent


def test_check_reports_a_voucher_posted_around_the_domain(host, acct_of):
    from ledger import services as ledger

    fs.record_inflow(
        host.free,
        kind="grant",
        amount=100_00,
        date=D(2026, 1, 5),
        source_name="民政局",
        actor=host.prep,
    )
    ledger.post_vouchers(
        host.book,
        [
            ledger.VoucherInput(
                D(2026, 1, 6),
                "手工凭证",
                [
                    ledger.LineInput(account_id=acct_of(host.book, "1002").id, debit=1),
                    ledger.LineInput(
                        account_id=acct_of(host.book, "4901").id,
                        credit=1,
                        fund_id=host.free.fund_id,
                    ),
                ],
            )
        ],
        source="test",
        actor=host.prep,
    )
    bad = [c for c in fs.check_statements(host.org) if not c.ok]
    assert [(c.cf.id, c.records, c.ledger) for c in bad] == [(host.free.id, 100_00, 100_01)]


def test_commitment_register_books_only_the_rent(host):
    c = fs.record_commitment(
        host.org,
        tenant="邻里社会组织",
        premises="灯光球场",
        year=2026,
        date=D(2026, 1, 2),
        sessions_promised=200,
        value_claimed_fen=3_000_000_00,
        actor=host.prep,
    )
    fs.record_delivery(
        c,
        date=D(2026, 2, 1),
        sessions=12,
        description="儿童篮球课",
        verified_by="监委会",
        actor=host.prep,
    )
    v = db.session.get(Voucher, c.rent_voucher_id)
    assert sum(ln.credit for ln in v.lines) == 100
    total = db.session.scalar(
        sa.select(sa.func.sum(VoucherLine.credit)).where(VoucherLine.voucher_id == v.id)
    )
    assert total == 100  # the claimed ¥3,000,000 of services is never booked
    assert sum(d.sessions for d in c.deliveries) == 12


def test_disclosure_calendar(host):
    _fund_pf(host)
    p, _ = project_in_implementation(host)  # 2026-03-01 … 2026-11-30: over 6 months
    cal = fs.disclosure_calendar(host.org)
    assert [(x.kind, x.due) for x in cal] == [
        ("quarterly", D(2026, 6, 1)),
        ("quarterly", D(2026, 9, 1)),
        ("final", D(2027, 2, 28)),
    ]
    assert [x.due for x in fs.overdue(host.org, D(2026, 10, 1))] == [D(2026, 6, 1), D(2026, 9, 1)]
    assert (
        fs.mark_disclosed(
            host.org, through=D(2026, 6, 30), on=D(2026, 7, 1), note="Q2 报告", actor=host.prep
        )
        == 1
    )
    assert [x.due for x in fs.overdue(host.org, D(2026, 10, 1))] == [D(2026, 9, 1)]


def test_funds_need_an_npo_book(organisation_factory):
    from ledger import services as ledger
    from tests.factories import member

    org = organisation_factory()
    ledger.create_book(org)
    with pytest.raises(NotFound):
        fs.create_community_fund(
            org,
            code="X",
            name="x",
            founder_type="COMPANY",
            purpose_tags=["a"],
            actor=member(org, "preparer"),
        )


def test_roles(host):
    with pytest.raises(Exception) as e:
        fs.record_inflow(
            host.free,
            kind="grant",
            amount=1,
            date=D(2026, 1, 5),
            source_name="x",
            actor=host.auditor,
        )
    assert e.value.__class__.__name__ == "NotPermitted"


def test_a_consenting_resident_donor_is_named(host, resident_factory):
    from core.models import ResidentConsent

    donor = resident_factory(community=host.org.community)
    db.session.add(
        ResidentConsent(
            community_id=donor.community_id,
            resident_id=donor.id,
            kind="publish_name",
            action="grant",
            scope="捐赠鸣谢",
        )
    )
    db.session.flush()
    db.session.expire(donor, ["consents"])
    i = fs.record_inflow(
        host.micro,
        kind="donation",
        amount=1_00,
        date=D(2026, 1, 5),
        resident=donor,
        publish_name=True,
        actor=host.prep,
    )
    assert fs.public_donor(i) == donor.name
    quiet = fs.record_inflow(
        host.micro,
        kind="donation",
        amount=1_00,
        date=D(2026, 1, 5),
        resident=donor,
        publish_name=False,
        actor=host.prep,
    )
    assert fs.public_donor(quiet) is None


def test_public_texts_never_name_a_resident(host, resident_factory):
    someone = resident_factory(community=host.org.community, name="欧阳春花")
    refused(
        lambda: fs.create_project(
            host.pf,
            title=f"为{someone.name}家修缮",
            start=D(2026, 3, 1),
            end=D(2026, 4, 1),
            proposed_by="社区党委",
            proposed_on=D(2026, 3, 1),
            actor=host.prep,
        ),
    )
    p = fs.create_project(
        host.pf,
        title="院落修缮",
        start=D(2026, 3, 1),
        end=D(2026, 4, 1),
        proposed_by="社区党委",
        proposed_on=D(2026, 3, 1),
        actor=host.prep,
    )
    refused(
        lambda: fs.record_resolution(
            host.org,
            body="council",
            council=host.council,
            project=p,
            meeting_date=D(2026, 3, 2),
            present=8,
            votes_for=8,
            votes_against=0,
            votes_abstain=0,
            text=f"同意，由{someone.name}负责",
            actor=host.prep,
        )
    )
    r = council_vote(host, p)
    refused(
        lambda: fs.advance_project(
            p, to="voted", who=someone.name, on=D(2026, 3, 10), resolution=r, actor=host.prep
        )
    )


def test_a_published_report_meets_the_disclosures_due(host, organisation_factory):
    from ledger import services as ledger

    _fund_pf(host)
    project_in_implementation(host)
    n = fs.on_report_published(host.book, through=D(2026, 9, 30), on=D(2026, 10, 2))
    assert n == 2
    assert [(x.due, x.met_on) for x in fs.disclosure_calendar(host.org)] == [
        (D(2026, 6, 1), D(2026, 10, 2)),
        (D(2026, 9, 1), D(2026, 10, 2)),
        (D(2027, 2, 28), None),
    ]
    # another organisation's book (an enterprise's SME book) meets nothing
    other = organisation_factory()
    assert fs.on_report_published(ledger.create_book(other), through=D(2027, 12, 31)) == 0
    assert fs.overdue(host.org, D(2027, 3, 1))[0].due == D(2027, 2, 28)


def test_the_report_published_signal_meets_the_disclosures(host):
    """The wiring: transparency announces a published report with ledger.signals; the funds
    plug-in (funds/plugin.py) marks what was due by its period end as met."""
    from ledger import signals

    _fund_pf(host)
    project_in_implementation(host)
    signals.report_published.send(
        host.book, report_id=0, period_start=D(2026, 9, 1), period_end=D(2026, 9, 30), actor=None
    )
    met = [x.due for x in fs.disclosure_calendar(host.org) if x.met_on is not None]
    assert met == [D(2026, 6, 1), D(2026, 9, 1)]
