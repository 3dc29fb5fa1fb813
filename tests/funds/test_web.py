"""Pages, API, PDFs and CSV of community funds: what a treasurer, a council secretary, an
auditor and the public see and may do."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from funds import services as fs
from tests.funds.test_services import _fund_pf, project_in_implementation

D = dt.date


def pdf_text(data: bytes) -> str:
    """The PDF read back with poppler's pdftotext (installed on every test machine)."""
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")


def test_dashboard_fund_page_csv_pdf(host, client_as):
    fs.record_inflow(
        host.micro,
        kind="donation",
        amount=1_234_56,
        date=D(2026, 1, 5),
        source_name="望平餐饮公司",
        actor=host.prep,
    )
    c = client_as("auditor", org=host.org)
    r = c.get(f"/funds/{host.org.id}/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "望平老人微基金" in html and "1,234.56" in html
    assert "Record a donation" not in html and "记录捐赠" not in html  # an auditor only reads
    r = c.get(f"/funds/{host.org.id}/f/{host.micro.id}?start=2026-01-01&end=2026-12-31")
    assert r.status_code == 200 and "1,234.56" in r.get_data(as_text=True)
    r = c.get(
        f"/funds/{host.org.id}/f/{host.micro.id}/statement.csv?start=2026-01-01&end=2026-12-31"
    )
    assert r.status_code == 200 and "1234.56" in r.get_data(as_text=True)
    r = c.get(
        f"/funds/{host.org.id}/f/{host.micro.id}/statement.pdf?start=2026-01-01&end=2026-12-31"
    )
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = pdf_text(r.data)
    assert "MF-01" in text and "1,234.56" in text


def test_donation_form_and_acknowledgement(host, client_as):
    c = client_as("preparer", org=host.org)
    r = c.post(
        f"/funds/{host.org.id}/inflows",
        data={
            "csrf_token": c.csrf,
            "cf_id": host.micro.id,
            "kind": "donation",
            "amount": "500",
            "date": "2026-02-01",
            "source_name": "陈女士",
        },
    )
    assert r.status_code == 302
    i = fs.check_statements(host.org)
    assert [x.records for x in i if x.cf.id == host.micro.id] == [500_00]
    from core.db import db
    from funds.models import Inflow

    inflow = db.session.scalar(db.select(Inflow))
    r = c.get(f"/funds/{host.org.id}/inflows/{inflow.id}/acknowledgement.pdf")
    text = pdf_text(r.data)
    assert "陈女士" in text and "500.00" in text
    assert "不是税务发票" in text or "not a tax invoice" in text.lower()
    # bad input: translated message, nothing stored, no 500
    r = c.post(
        f"/funds/{host.org.id}/inflows",
        data={
            "csrf_token": c.csrf,
            "cf_id": host.micro.id,
            "kind": "donation",
            "amount": "abc",
            "date": "2026-02-01",
        },
    )
    assert r.status_code == 422
    assert db.session.scalar(db.select(db.func.count()).select_from(Inflow)) == 1


def test_project_page_and_public_pages_hide_voters(host, client_as, app):
    _fund_pf(host)
    p, r = project_in_implementation(host)
    fs.disburse(
        host.pf,
        amount=12_000_00,
        date=D(2026, 4, 1),
        category_code="environment",
        purpose="public_services",
        payee="某保洁公司",
        project=p,
        resolution=r,
        actor=host.prep,
    )
    c = client_as("council_secretary", org=host.org)
    assert c.get(f"/funds/{host.org.id}/projects/{p.id}").status_code == 200
    anon = app.test_client()
    html = anon.get(f"/public/funds/p/{p.id}").get_data(as_text=True)
    assert "8" in html and "6" in html and "同意实施" in html and "12,000.00" in html
    assert "议事员" not in html  # never the council members' names
    assert "某保洁公司" not in html
    html = anon.get(f"/public/funds/f/{host.pf.id}").get_data(as_text=True)
    assert "社区保障资金" in html
    html = anon.get(f"/public/c/{host.org.community.slug}").get_data(as_text=True)
    assert "community-funds" in html and p.title in html
    # the foundation's own page says what its money is for (its funds and their projects)
    html = anon.get(f"/public/o/{host.org.id}").get_data(as_text=True)
    assert "community-funds" in html and p.title in html


def test_allocation_page(host, client_as):
    c = client_as("auditor", org=host.org)
    r = c.get(f"/funds/{host.org.id}/allocation?kind=urban&population=8000&part_hundreds=floor")
    assert r.status_code == 200 and "220,000.00" in r.get_data(as_text=True)
    r = c.get(f"/funds/{host.org.id}/allocation?kind=urban&population=80.5")
    assert r.status_code == 422


@pytest.mark.usefixtures("english")
def test_api_round_trip_and_refusals(host, client_as):
    c = client_as("preparer", org=host.org)
    h = {"X-CSRFToken": c.csrf, "Idempotency-Key": "k-1"}
    base = f"/api/v1/organisations/{host.org.id}"
    body = {"kind": "donation", "amount": "100.00", "date": "2026-01-10", "source_name": "某公司"}
    r1 = c.post(f"{base}/community-funds/{host.micro.id}/inflows", json=body, headers=h)
    r2 = c.post(f"{base}/community-funds/{host.micro.id}/inflows", json=body, headers=h)
    assert r1.status_code == 201 and r2.headers.get("Idempotent-Replayed") == "true"
    funds = c.get(f"{base}/community-funds").get_json()
    assert {f["code"]: f["balance"] for f in funds}["MF-01"] == "100.00"
    r = c.post(
        f"{base}/community-funds/{host.micro.id}/disbursements",
        json={
            "amount": "50.00",
            "date": "2026-01-11",
            "category": "activities",
            "purpose": "sports",
            "payee": "x",
        },
        headers={"X-CSRFToken": c.csrf},
    )
    assert r.status_code == 422
    assert "elderly" in r.get_json()["message"] and "¥50.00" in r.get_json()["message"]
    r = c.post(
        f"{base}/community-funds/{host.pf.id}/allocations",
        json={
            "year": 2026,
            "date": "2026-02-01",
            "kind": "urban",
            "population": 80.5,
            "population_basis": "resident",
        },
        headers={"X-CSRFToken": c.csrf},
    )
    assert r.status_code == 422
    r = c.post(
        f"{base}/community-funds/{host.pf.id}/allocations",
        json={
            "year": 2026,
            "date": "2026-02-01",
            "kind": "urban",
            "population": 8000,
            "population_basis": "resident",
        },
        headers={"X-CSRFToken": c.csrf},
    )
    assert r.status_code == 201 and r.get_json()["amount"] == "220000.00"
    check = c.get(f"{base}/community-funds/check").get_json()
    assert all(x["ok"] for x in check)
    st = c.get(
        f"{base}/community-funds/{host.pf.id}/statement?start=2026-01-01&end=2026-12-31"
    ).get_json()
    assert st["closing"] == "220000.00" and st["inflows"] == {"allocation": "220000.00"}
    a = client_as("auditor", org=host.org)
    r = a.post(
        f"{base}/community-funds/{host.micro.id}/inflows",
        json=body,
        headers={"X-CSRFToken": a.csrf},
    )
    assert r.status_code == 403


def test_project_through_the_forms(host, client_as):
    _fund_pf(host)
    p = fs.create_project(
        host.pf,
        title="睦邻花园",
        start=D(2026, 3, 1),
        end=D(2026, 5, 1),
        proposed_by="社区党委",
        proposed_on=D(2026, 3, 1),
        budget_fen=10_000_00,
        actor=host.prep,
    )
    sec = client_as("council_secretary", org=host.org)
    url = f"/funds/{host.org.id}/projects/{p.id}"
    form = {
        "csrf_token": sec.csrf,
        "council_id": host.council.id,
        "meeting_date": "2026-03-05",
        "present": "5",
        "votes_for": "5",
        "votes_against": "0",
        "votes_abstain": "0",
        "text": "同意",
    }
    r = sec.post(url + "/resolutions", data=form)
    assert r.status_code == 422 and "2/3" in r.get_data(as_text=True)  # 5 of 9: no quorum
    r = sec.post(
        url + "/resolutions", data={**form, "present": "7", "votes_for": "6", "votes_against": "1"}
    )
    assert r.status_code == 302
    # a council secretary minutes the meeting but does not move the project
    assert (
        sec.post(
            url + "/steps",
            data={"csrf_token": sec.csrf, "to": "voted", "who": "x", "on": "2026-03-05"},
        ).status_code
        == 403
    )
    prep = client_as("preparer", org=host.org)
    from core.db import db
    from funds.models import Resolution

    rid = db.session.scalar(db.select(Resolution.id).where(Resolution.project_id == p.id))
    r = prep.post(
        url + "/steps",
        data={
            "csrf_token": prep.csrf,
            "to": "voted",
            "who": "居民议事会",
            "on": "2026-03-05",
            "resolution_id": rid,
        },
    )
    assert r.status_code == 302
    r = prep.post(
        url + "/steps",
        data={"csrf_token": prep.csrf, "to": "implementation", "who": "居委会", "on": "2026-03-06"},
    )
    assert r.status_code == 302
    r = prep.post(
        f"/funds/{host.org.id}/f/{host.pf.id}/disbursements",
        data={
            "csrf_token": prep.csrf,
            "amount": "100",
            "date": "2026-03-07",
            "category": "private_costs",
            "purpose": "public_services",
            "payee": "物业公司",
            "project_id": p.id,
            "resolution_id": rid,
        },
    )
    assert r.status_code == 422 and "物业费" in r.get_data(as_text=True)
    r = prep.post(
        f"/funds/{host.org.id}/f/{host.pf.id}/disbursements",
        data={
            "csrf_token": prep.csrf,
            "amount": "100",
            "date": "2026-03-07",
            "category": "environment",
            "purpose": "public_services",
            "payee": "花木公司",
            "project_id": p.id,
            "resolution_id": rid,
        },
    )
    assert r.status_code == 302
    html = prep.get(f"/funds/{host.org.id}/budgets").get_data(as_text=True)
    assert "睦邻花园" in html and "9,900.00" in html
    assert prep.get(f"/funds/{host.org.id}/commitments").status_code == 200


def test_staff_page_lists_overdue_disclosures_until_a_report_meets_them(host, client_as):
    _fund_pf(host)
    project_in_implementation(host)  # quarterly disclosures due 2026-06-01 and 2026-09-01
    c = client_as("preparer", org=host.org)
    html = c.get(f"/funds/{host.org.id}/").get_data(as_text=True)
    assert 'id="overdue"' in html and "2026-06-01" in html
    r = c.post(
        f"/funds/{host.org.id}/disclosures",
        data={"csrf_token": c.csrf, "through": "2027-12-31", "note": "2027 年报"},
    )
    assert r.status_code == 302
    html = c.get(f"/funds/{host.org.id}/").get_data(as_text=True)
    assert 'id="overdue"' not in html
    r = c.post(
        f"/funds/{host.org.id}/disclosures", data={"csrf_token": c.csrf, "through": "not a date"}
    )
    assert r.status_code == 422


def test_api_budgets_councils_committee_and_commitments(host, client_as):
    c = client_as("preparer", org=host.org)
    h = {"X-CSRFToken": c.csrf}
    base = f"/api/v1/organisations/{host.org.id}"
    r = c.post(
        f"{base}/community-funds/{host.micro.id}/budgets",
        json={"year": 2026, "label": "重阳节", "amount": "300.00"},
        headers=h,
    )
    assert r.status_code == 201 and r.get_json()["remaining"] == "300.00"
    fs.record_inflow(
        host.micro,
        kind="donation",
        amount=1_000_00,
        date=D(2026, 1, 5),
        source_name="某公司",
        actor=host.prep,
    )
    from core.db import db
    from funds.models import Budget

    budget = db.session.get(Budget, r.get_json()["id"])
    fs.disburse(
        host.micro,
        amount=120_00,
        date=D(2026, 1, 6),
        category_code="activities",
        purpose="elderly",
        payee="老年协会",
        budget=budget,
        actor=host.prep,
    )
    lines = c.get(f"{base}/budgets?as_of=2026-01-31").get_json()
    assert [(x["budget"], x["actual"], x["remaining"]) for x in lines] == [
        ("300.00", "120.00", "180.00")
    ]
    assert c.get(f"{base}/budgets?as_of=2026-01-05").get_json()[0]["actual"] == "0.00"
    r = c.post(
        f"{base}/councils",
        json={
            "name": "二议事会",
            "members": ["甲", "乙", "丙"],
            "seated_from": "2025-01-01",
            "quorum_num": 3,
            "quorum_den": 2,
        },
        headers=h,
    )
    assert r.status_code == 422
    r = c.post(
        f"{base}/community-funds/{host.micro.id}/committee",
        json={
            "name": "委员甲",
            "role": "委员",
            "term_start": "2026-01-01",
            "term_end": "2025-01-01",
        },
        headers=h,
    )
    assert r.status_code == 422
    r = c.post(
        f"{base}/service-commitments",
        json={
            "tenant": "枢纽社会组织",
            "premises": "灯光球场",
            "year": 2026,
            "date": "2026-01-02",
            "sessions_promised": 200,
            "value_claimed": "3000000.00",
        },
        headers=h,
    )
    assert r.status_code == 201 and r.get_json()["rent"] == "1.00"
    cid = r.get_json()["id"]
    r = c.post(
        f"{base}/service-commitments/{cid}/deliveries",
        json={
            "date": "2026-01-09",
            "sessions": 6,
            "description": "篮球课",
            "verified_by": "监委会",
        },
        headers=h,
    )
    assert r.get_json()["sessions_delivered"] == 6 and r.get_json()["sessions_verified"] == 6
