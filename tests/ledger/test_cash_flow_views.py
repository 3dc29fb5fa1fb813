"""The cash-flow statement on the staff report pages (HTML, CSV, JSON), its classification
form, and the API endpoint."""

from __future__ import annotations

import datetime as dt
import json

from core.db import db
from ledger import reports
from tests.ledger.conftest import lines

D = dt.date


def _odd_month(acct, post):
    post(lines((acct("1002"), 100_000, 0), (acct("3001"), 0, 100_000)), date=D(2026, 5, 2))
    return post(lines((acct("1002"), 7_000, 0), (acct("3101"), 0, 7_000)), date=D(2026, 5, 3))


def test_report_page_csv_json_and_classification(client_as, organisation, book, acct, post):
    odd = _odd_month(acct, post)
    c = client_as("reviewer")
    url = f"/books/{organisation.id}/reports/cash-flow?start=2026-05-01&end=2026-05-31"
    page = c.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:2000]
    assert "会小企03表" in html or "现金流量表" in html
    assert "销售产成品、商品、提供劳务收到的现金" in html
    assert "本表尚未定稿" in html  # the statement says so on its face
    assert odd.number in html  # the unclassified movement is listed with a form
    csv = c.get(url + "&format=csv").get_data(as_text=True)
    assert "吸收投资者投资收到的现金" in csv and ",1000.00,1000.00" in csv
    data = c.get(url + "&format=json").get_json()
    assert data["report"] == "cash_flow" and data["form_code"] == "会小企03表"
    assert data["checks"]["every_cash_movement_classified"] is False
    (item,) = reports.unclassified_cash_lines(book, start=D(2026, 5, 1), end=D(2026, 5, 31))
    action = f"/books/{organisation.id}/reports/cash-flow/classify?start=2026-05-01&end=2026-05-31"
    bad = c.post(action, data={"csrf_token": c.csrf, "line": str(item.line_id), "key": "nope"})
    assert bad.status_code == 422
    bad = c.post(action, data={"csrf_token": c.csrf, "line": "x", "key": "capital_received"})
    assert bad.status_code == 422
    ok = c.post(
        action, data={"csrf_token": c.csrf, "line": str(item.line_id), "key": "capital_received"}
    )
    assert ok.status_code == 302 and "start=2026-05-01" in ok.headers["Location"]
    data = c.get(url + "&format=json").get_json()
    assert data["checks"]["every_cash_movement_classified"] is True
    amounts = {ln["key"]: ln["amounts"] for ln in data["lines"]}
    assert amounts["capital_received"][1] == 107_000
    html = c.get(url).get_data(as_text=True)
    assert "本表尚未定稿" not in html and odd.number in html  # now under "classified by hand"


def test_an_auditor_reads_but_cannot_classify(client_as, organisation, book, acct, post):
    _odd_month(acct, post)
    (item,) = reports.unclassified_cash_lines(book, start=D(2026, 5, 1), end=D(2026, 5, 31))
    c = client_as("auditor")
    url = f"/books/{organisation.id}/reports/cash-flow?start=2026-05-01&end=2026-05-31"
    html = c.get(url).get_data(as_text=True)
    assert "本表尚未定稿" in html and 'name="key"' not in html
    resp = c.post(
        f"/books/{organisation.id}/reports/cash-flow/classify",
        data={"csrf_token": c.csrf, "line": str(item.line_id), "key": "capital_received"},
    )
    assert resp.status_code == 403
    db.session.rollback()


def test_api_cash_flow_and_refusal_for_a_trust_fund(client_as, organisation, book, acct, post):
    _odd_month(acct, post)
    c = client_as("reviewer")
    r = c.get(
        f"/api/v1/organisations/{organisation.id}/reports/cash_flow?start=2026-05-01&end=2026-05-31"
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["report"] == "cash_flow"
    assert {c["key"] for c in body["columns"]} == {"year_to_date", "current_month"}
    csv = c.get(
        f"/api/v1/organisations/{organisation.id}/reports/cash-flow"
        "?start=2026-05-01&end=2026-05-31&format=csv"
    ).get_data(as_text=True)
    assert "现金净增加额" in csv
    json.dumps(body)
