"""The pages, the API, the CLI, the PDFs and CSV, a shareholder's own pages and the public
section of the register of shareholders."""

from __future__ import annotations

import csv
import io

import pytest

from core.auth import grant_role
from core.db import db
from core.models import ResidentConsent
from shareholders import services as ssvc
from tests import factories
from tests.conftest import csrf_token, login
from tests.shareholders.conftest import D
from tests.transparency.publicdata import pdf_text, requires_poppler


def _client(app, user):
    c = app.test_client()
    login(c, user.username)
    c.csrf = csrf_token(c)
    return c


@pytest.fixture
def world(app, setting):
    a = setting.subscribe_and_pay(0, 12_000_00)
    b = setting.subscribe_and_pay(1, 18_000_00, paid=8_000_00)
    return setting, a, b


def test_register_page_and_the_web_workflow(app, world):
    s, a, b = world
    c = _client(app, s.admin)
    page = c.get(f"/books/{s.org.id}/shareholders/").get_data(as_text=True)
    assert s.residents[0].name in page and "¥12,000.00" in page
    resp = c.post(
        f"/books/{s.org.id}/shareholders/{b.id}/pay",
        data={"csrf_token": c.csrf, "amount": "1000.00", "date": "2025-05-01"},
    )
    assert resp.status_code == 303
    assert ssvc.holdings(s.org)[b.id].paid_in == 9_000_00
    resp = c.post(
        f"/books/{s.org.id}/shareholders/{b.id}/pay",
        data={"csrf_token": c.csrf, "amount": "99999.00", "date": "2025-05-01"},
    )
    assert resp.status_code == 409 and "¥9000.00" in resp.get_data(as_text=True)
    resp = c.post(
        f"/books/{s.org.id}/shareholders/transfers",
        data={
            "csrf_token": c.csrf,
            "seller_id": a.id,
            "outsider_resident_id": s.residents[4].id,
            "amount": "1000",
            "price": "1200",
            "date": "2025-06-01",
        },
    )
    assert resp.status_code == 303
    t = ssvc.transfers(s.org)[0]
    page = c.get(f"/books/{s.org.id}/shareholders/transfers/{t.id}").get_data(as_text=True)
    assert "2025-07-01" in page
    resp = c.post(
        f"/books/{s.org.id}/shareholders/transfers/{t.id}/claim",
        data={"csrf_token": c.csrf, "shareholder_id": b.id, "date": "2025-06-10"},
    )
    assert resp.status_code == 303
    resp = c.post(
        f"/books/{s.org.id}/shareholders/transfers/{t.id}/complete",
        data={"csrf_token": c.csrf, "date": "2025-07-02"},
    )
    assert resp.status_code == 303 and t.status == "completed" and t.filing_pending
    assert ssvc.check_register(s.org) == []
    assert c.get(f"/books/{s.org.id}/shareholders/dividends").status_code == 200


def test_api_writes_are_idempotent_and_refusals_are_4xx(app, world):
    s, a, b = world
    c = _client(app, s.admin)
    url = f"/api/v1/organisations/{s.org.id}/shareholders"
    body = {
        "resident_id": s.residents[2].id,
        "amount": "500.00",
        "date": "2025-03-01",
        "due_date": "2025-09-01",
    }
    headers = {"X-CSRFToken": c.csrf, "Idempotency-Key": "sub-1"}
    r1 = c.post(url, json=body, headers=headers)
    r2 = c.post(url, json=body, headers=headers)
    assert r1.status_code == 201 and r2.get_json() == r1.get_json()
    assert len(ssvc.holders(s.org)) == 3
    over = c.post(url, json={**body, "amount": "99999999.00"}, headers={"X-CSRFToken": c.csrf})
    assert (
        over.status_code == 409
        and "registered capital" in over.get_json()["message"]
        or "注册资本" in over.get_json()["message"]
    )
    reg = c.get(url + "?as_of=2025-02-01").get_json()
    assert {h["paid_in"]["minor"] for h in reg["shareholders"]} == {12_000_00, 8_000_00}
    assert c.get(url + "/check").get_json() == {"ok": True, "differences": []}


def test_cli_register_csv_and_check(app, world, runner):
    s, a, b = world
    db.session.commit()  # (a command rolls back what it did not commit; the test's data stays)
    out = runner.invoke(
        args=["shareholders", "register", "--organisation", str(s.org.id), "--format", "csv"]
    )
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.output)))
    assert rows[1][1] == s.residents[0].name and rows[1][4] == "12000.00"
    assert rows[-1][4] == "20000.00"
    out = runner.invoke(
        args=["shareholders", "register", "--organisation", s.org.slug, "--as-of", "2024-12-31"]
    )
    assert out.exit_code == 0 and s.residents[0].name not in out.output
    out = runner.invoke(args=["shareholders", "check", "--organisation", str(s.org.id)])
    assert out.exit_code == 0 and "register = books" in out.output


def test_register_csv_download(app, world):
    s, a, b = world
    c = _client(app, s.admin)
    resp = c.get(f"/books/{s.org.id}/shareholders/register.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert s.residents[1].name in resp.get_data(as_text=True)


@requires_poppler
def test_statement_certificate_and_register_pdfs_carry_chinese_text(app, world, tmp_path):
    s, a, b = world
    c = _client(app, s.admin)
    for path, words in (
        (f"{a.id}/statement.pdf", ["12,000.00", s.residents[0].name]),
        (f"{a.id}/certificate.pdf", ["GQ-", s.residents[0].name]),
        ("register.pdf", [s.residents[0].name, s.residents[1].name]),
    ):
        resp = c.get(f"/books/{s.org.id}/shareholders/{path}")
        assert resp.status_code == 200 and resp.mimetype == "application/pdf", path
        text, fonts, _pages = pdf_text(resp.data, tmp_path)
        for w in words:
            assert w in text, (path, w)


def test_a_shareholder_sees_only_their_own(app, world):
    s, a, b = world
    me = factories.UserFactory()
    s.residents[0].user_id = me.id
    db.session.flush()
    c = _client(app, me)
    mine = c.get("/my/shares").get_data(as_text=True)
    assert s.org.name in mine and s.residents[1].name not in mine
    assert c.get(f"/books/{s.org.id}/shareholders/{a.id}").status_code == 200
    assert c.get(f"/books/{s.org.id}/shareholders/{a.id}/statement.pdf").status_code == 200
    assert c.get(f"/books/{s.org.id}/shareholders/{b.id}").status_code == 403
    assert c.get(f"/books/{s.org.id}/shareholders/{b.id}/statement.pdf").status_code == 403
    assert c.get(f"/books/{s.org.id}/shareholders/").status_code == 403


def test_an_auditor_reads_the_register_but_cannot_write(app, world):
    s, a, b = world
    auditor = factories.UserFactory()
    grant_role(auditor, s.org, "auditor")
    db.session.flush()
    c = _client(app, auditor)
    assert c.get(f"/books/{s.org.id}/shareholders/").status_code == 200
    resp = c.post(
        f"/books/{s.org.id}/shareholders/{b.id}/pay",
        data={"csrf_token": c.csrf, "amount": "1", "date": "2025-05-01"},
    )
    assert resp.status_code == 403


def test_public_section_shows_aggregates_and_consented_names_only(app, world):
    s, a, b = world
    o = ssvc.add_shareholder(
        s.org, holder_org=factories.OrganisationFactory(community=s.org.community), actor=s.admin
    )
    ssvc.subscribe(
        s.org, o, amount=20_000_00, date=D(2025, 1, 10), due_date=D(2025, 2, 1), actor=s.admin
    )
    ssvc.pay_in(s.org, o, amount=20_000_00, date=D(2025, 1, 10), actor=s.admin)
    c = app.test_client()
    page = c.get(f"/public/o/{s.org.id}").get_data(as_text=True)
    assert "3" in page and "¥1,000,000.00" in page and "50.0%" in page
    assert s.residents[0].name not in page and s.residents[1].name not in page
    db.session.add(
        ResidentConsent(
            community_id=s.org.community_id,
            resident_id=s.residents[0].id,
            kind="publish_name",
            action="grant",
            scope="股东名册公示",
        )
    )
    db.session.flush()
    page = c.get(f"/public/o/{s.org.id}").get_data(as_text=True)
    assert s.residents[0].name in page and s.residents[1].name not in page
    db.session.add(
        ResidentConsent(
            community_id=s.org.community_id,
            resident_id=s.residents[0].id,
            kind="publish_name",
            action="withdraw",
            scope="股东名册公示",
        )
    )
    db.session.flush()
    assert s.residents[0].name not in c.get(f"/public/o/{s.org.id}").get_data(as_text=True)


def test_api_articles_with_a_cited_policy_and_an_agreed_distribution(app, setting):
    s = setting
    a = s.subscribe_and_pay(0, 10_000_00)
    b = s.subscribe_and_pay(1, 30_000_00)
    s.profit(2025, 20_000_00)
    c = _client(app, s.admin)
    h = {"X-CSRFToken": c.csrf}
    url = f"/api/v1/organisations/{s.org.id}/shareholders"
    bad = c.post(
        url + "/articles",
        json={"registered_capital": "1000000.00", "dividend_cap_pct": "30"},
        headers=h,
    )
    assert bad.status_code == 422
    ok = c.post(
        url + "/articles",
        json={
            "registered_capital": "1000000.00",
            "dividend_cap_pct": "30",
            "dividend_cap_citation": "章程第 18 条",
        },
        headers=h,
    )
    assert ok.status_code == 201 and ok.get_json()["dividend_cap_pct"] == "30.00"
    assert c.get(url).get_json()["articles"]["dividend_cap_citation"] == "章程第 18 条"
    page = c.get(f"/books/{s.org.id}/shareholders/").get_data(as_text=True)
    assert "30.00%" in page and "章程第 18 条" in page
    body = {
        "resolution_date": "2026-03-01",
        "record_date": "2026-02-28",
        "profit_year": 2025,
        "amount": "1000.00",
        "reserve": "2000.00",
        "agreed_weights": {str(a.id): 1, str(b.id): 1},
        "agreement_note": "全体股东同意平均分配",
    }
    r = c.post(url + "/dividends", json=body, headers=h)
    assert r.status_code == 201, r.get_json()
    assert [ln["amount"]["minor"] for ln in r.get_json()["lines"]] == [500_00, 500_00]
    capped = c.post(
        url + "/dividends", json={**body, "amount": "6000.01", "reserve": "0"}, headers=h
    )
    assert capped.status_code == 409 and "章程第 18 条" in capped.get_json()["message"]


def test_dividend_form_with_an_agreed_distribution(app, setting):
    s = setting
    a = s.subscribe_and_pay(0, 10_000_00)
    b = s.subscribe_and_pay(1, 30_000_00)
    s.profit(2025, 20_000_00)
    c = _client(app, s.admin)
    form = {
        "csrf_token": c.csrf,
        "resolution_date": "2026-03-01",
        "record_date": "2026-02-28",
        "profit_year": "2025",
        "amount": "1000",
        "reserve": "2000",
        "agreed_weights": f"{a.id} = 3\n{b.id}=1",
        "agreement_note": "",
    }
    bad = c.post(f"/books/{s.org.id}/shareholders/dividends", data=form)
    assert bad.status_code == 422
    assert (
        c.post(
            f"/books/{s.org.id}/shareholders/dividends", data={**form, "agreed_weights": "x"}
        ).status_code
        == 422
    )
    ok = c.post(
        f"/books/{s.org.id}/shareholders/dividends",
        data={**form, "agreement_note": "全体股东签字同意"},
    )
    assert ok.status_code == 303
    (r,) = ssvc.dividends(s.org)
    assert {ln.shareholder_id: ln.amount for ln in r.lines} == {a.id: 750_00, b.id: 250_00}
    page = c.get(ok.headers["Location"]).get_data(as_text=True)
    assert "¥750.00" in page
