"""Paying every unpaid line of a dividend at once, through the resolution's page and the API:
each line paid once to the fen, a second pay-all refused clearly, roles that may not pay
refused, and nothing changed by a refusal."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from core.auth import grant_role
from core.db import db
from ledger import services as lsvc
from shareholders import services as ssvc
from tests import factories
from tests.conftest import csrf_token, login
from tests.shareholders.conftest import D, make_setting
from tests.shareholders.test_services import counts


def _client(app, user=None):
    c = app.test_client()
    if user is not None:
        login(c, user.username)
    c.csrf = csrf_token(c)
    return c


@pytest.fixture
def dividend(app):
    """Four paid-in shareholders, 2025's profit closed into 3104, and ¥3,333.33 declared on
    2026-03-01 (an amount that does not split evenly); the first line already paid."""
    s = make_setting(capital=100_000_00)
    holders = [s.subscribe_and_pay(i, (i + 1) * 10_000_00) for i in range(4)]
    s.profit(2025, 20_000_00)
    r = ssvc.declare_dividend(
        s.org,
        resolution_date=D(2026, 3, 1),
        record_date=D(2026, 2, 28),
        profit_year=2025,
        amount=3_333_33,
        reserve=2_000_00,
        actor=s.admin,
        today=D(2026, 3, 2),
    )
    first = next(ln for ln in r.lines if ln.shareholder_id == holders[0].id)
    ssvc.pay_dividend(s.org, first, date=D(2026, 3, 3), actor=s.admin, today=D(2026, 3, 3))
    db.session.flush()
    return s, r, first


def _user(s, role):
    u = factories.UserFactory()
    grant_role(u, s.org, role)
    db.session.flush()
    return u


def _paid_state(r):
    db.session.expire_all()
    return [(ln.id, ln.paid_on, ln.tax, ln.payment_voucher_id) for ln in r.lines]


class _Forms(HTMLParser):
    """The pay-all form of a page: its tags, in order, and the labels' targets."""

    def __init__(self):
        super().__init__()
        self.inside = False
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("action") or "").endswith("/pay-all"):
            self.inside = True
            self.tags.append((tag, a))
        elif self.inside:
            self.tags.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def _pay_all_form(page: str) -> list[tuple[str, dict]]:
    p = _Forms()
    p.feed(page)
    return p.tags


def test_paying_all_through_the_page(app, dividend):
    s, r, first = dividend
    url = f"/books/{s.org.id}/shareholders/dividends/{r.id}"
    c = _client(app, s.admin)
    page = c.get(url).get_data(as_text=True)
    form = _pay_all_form(page)
    # a real form that a keyboard can use: a labelled date field, a submit <button>, CSRF
    assert form and form[0][1]["method"] == "post"
    date_input = next(a for t, a in form if t == "input" and a.get("name") == "date")
    label = next(a for t, a in form if t == "label")
    assert label["for"] == date_input["id"] and date_input["type"] == "date"
    assert date_input["value"]  # defaults to today, like the single-line form
    assert any(t == "button" and a.get("type") == "submit" for t, a in form)
    assert any(a.get("name") == "csrf_token" and a.get("value") for t, a in form)
    assert "支付全部未付股利" in page

    unpaid = [ln for ln in r.lines if ln.paid_on is None]
    total = sum(ln.amount for ln in unpaid)
    tax = sum((ln.amount * 2 + 5) // 10 for ln in unpaid)
    assert len(unpaid) == 3 and total == 3_333_33 - first.amount
    before_first = (first.paid_on, first.payment_voucher_id)
    resp = c.post(url + "/pay-all", data={"csrf_token": c.csrf, "date": "2026-03-06"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(url)
    page = c.get(url).get_data(as_text=True)
    money = f"¥{total // 100:,}.{total % 100:02d}"
    assert f"已支付 3 笔股利，共 {money}" in page, page[:3000]
    assert f"¥{tax // 100:,}.{tax % 100:02d}" in page
    db.session.expire_all()
    assert all(ln.paid_on is not None for ln in r.lines)
    assert (first.paid_on, first.payment_voucher_id) == before_first  # paid once, not again
    assert len({ln.payment_voucher_id for ln in r.lines}) == 4
    assert [ln.tax for ln in r.lines if ln.id != first.id] == [
        (ln.amount * 2 + 5) // 10 for ln in r.lines if ln.id != first.id
    ]
    assert ssvc.account_balance(s.book, "2232") == 0
    assert ssvc.check_register(s.org) == []
    # nothing left: no button, and a second pay-all is refused clearly with nothing changed
    assert not _pay_all_form(page)
    state, before = _paid_state(r), counts()
    again = c.post(url + "/pay-all", data={"csrf_token": c.csrf, "date": "2026-03-07"})
    assert again.status_code == 409 and "均已支付" in again.get_data(as_text=True)
    assert _paid_state(r) == state and counts() == before


@pytest.mark.parametrize(
    ("date", "status", "words"),
    [
        ("2026-13-45", 422, "日期"),
        ("2026-02-27", 422, "决议日"),
        # what a phone keyboard or a paste may bring: full-width and superscript digits, a
        # zero-width space; and days the calendar does not have (2026 is not a leap year)
        ("２０２６-０３-０６", 422, "日期"),
        ("2026-03-0⁶", 422, "日期"),
        ("2026-03-\u200b06", 422, "日期"),
        ("2026-02-29", 422, "日期"),
        ("2026-04-31", 422, "日期"),
    ],
)
def test_a_bad_date_is_refused_and_changes_nothing(app, dividend, date, status, words):
    s, r, _first = dividend
    url = f"/books/{s.org.id}/shareholders/dividends/{r.id}/pay-all"
    c = _client(app, s.admin)
    state, before = _paid_state(r), counts()
    resp = c.post(url, data={"csrf_token": c.csrf, "date": date})
    assert resp.status_code == status and words in resp.get_data(as_text=True)
    assert _paid_state(r) == state and counts() == before


def test_a_closed_period_is_refused_and_changes_nothing(app, dividend):
    s, r, _first = dividend
    for month in range(1, 13):
        lsvc.close_period(s.book, 2025, month, actor=s.admin)
    for month in (1, 2, 3):
        lsvc.close_period(s.book, 2026, month, actor=s.admin)
    db.session.flush()
    c = _client(app, s.admin)
    state, before = _paid_state(r), counts()
    resp = c.post(
        f"/books/{s.org.id}/shareholders/dividends/{r.id}/pay-all",
        data={"csrf_token": c.csrf, "date": "2026-03-20"},
    )
    assert resp.status_code == 409 and "2026-03" in resp.get_data(as_text=True)
    assert _paid_state(r) == state and counts() == before
    api = c.post(
        f"/api/v1/organisations/{s.org.id}/shareholders/dividends/{r.id}/pay-all",
        json={"date": "2026-03-20"},
        headers={"X-CSRFToken": c.csrf},
    )
    assert api.status_code == 409 and "2026-03" in api.get_json()["message"]
    assert _paid_state(r) == state and counts() == before


@pytest.mark.parametrize("role", ["reviewer", "auditor", None])
def test_who_may_not_pay_is_refused_and_nothing_changes(app, dividend, role):
    s, r, _first = dividend
    c = _client(app, _user(s, role) if role else None)
    page_url = f"/books/{s.org.id}/shareholders/dividends/{r.id}"
    api_url = f"/api/v1/organisations/{s.org.id}/shareholders/dividends/{r.id}/pay-all"
    if role:  # they read the resolution, without the button
        page = c.get(page_url)
        assert page.status_code == 200 and not _pay_all_form(page.get_data(as_text=True))
    state, before = _paid_state(r), counts()
    web = c.post(page_url + "/pay-all", data={"csrf_token": c.csrf, "date": "2026-03-06"})
    api = c.post(api_url, json={"date": "2026-03-06"}, headers={"X-CSRFToken": c.csrf})
    if role:
        assert web.status_code == 403 and api.status_code == 403
    else:
        assert web.status_code == 302 and "/login" in web.headers["Location"]
        assert api.status_code == 401
    assert _paid_state(r) == state and counts() == before


def test_paying_all_through_the_api(app, dividend):
    s, r, first = dividend
    c = _client(app, s.admin)
    url = f"/api/v1/organisations/{s.org.id}/shareholders/dividends/{r.id}/pay-all"
    h = {"X-CSRFToken": c.csrf}
    unpaid = {ln.id: ln.amount for ln in r.lines if ln.paid_on is None}
    resp = c.post(url, json={"date": "2026-03-06"}, headers=h)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["id"] == r.id
    assert {ln["id"]: ln["amount"]["minor"] for ln in body["paid"]} == unpaid
    assert all(ln["paid_on"] == "2026-03-06" for ln in body["paid"])
    assert all(ln["tax"]["minor"] == (ln["amount"]["minor"] * 2 + 5) // 10 for ln in body["paid"])
    total = sum(unpaid.values())
    assert body["paid_total"] == {"text": f"{total // 100}.{total % 100:02d}", "minor": total}
    assert body["paid_tax"]["minor"] == sum(ln["tax"]["minor"] for ln in body["paid"])
    assert first.id not in {ln["id"] for ln in body["paid"]}
    assert sum(ln["amount"]["minor"] for ln in body["lines"]) == 3_333_33
    assert all(ln["paid_on"] for ln in body["lines"])
    db.session.expire_all()
    assert len({ln.payment_voucher_id for ln in r.lines}) == 4
    state, before = _paid_state(r), counts()
    again = c.post(url, json={"date": "2026-03-07"}, headers=h)
    assert again.status_code == 409 and "均已支付" in again.get_json()["message"]
    for odd in ("not a date", "２０２６-０３-０８", "2026-03-0⁸", "2026-03-\u200b08", "2026-02-29"):
        bad = c.post(url, json={"date": odd}, headers=h)
        assert bad.status_code == 422, odd
    assert _paid_state(r) == state and counts() == before


def test_another_organisations_dividend_is_not_found(app, dividend):
    s, r, _first = dividend
    other = make_setting()
    c = _client(app, other.admin)
    resp = c.post(
        f"/books/{other.org.id}/shareholders/dividends/{r.id}/pay-all",
        data={"csrf_token": c.csrf, "date": "2026-03-06"},
    )
    api = c.post(
        f"/api/v1/organisations/{other.org.id}/shareholders/dividends/{r.id}/pay-all",
        json={"date": "2026-03-06"},
        headers={"X-CSRFToken": c.csrf},
    )
    assert resp.status_code == 404 and api.status_code == 404
