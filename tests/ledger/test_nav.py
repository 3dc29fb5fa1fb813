"""Menus and action buttons offer only what the user's roles and the book's standard allow
(ledger.nav.can), and what they offer is what the services accept."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_login import login_user, logout_user

from core.auth import grant_role
from core.db import db
from core.errors import Conflict, NotPermitted
from core.models import OrganisationKind
from ledger import services as svc
from ledger.nav import can
from tests.ledger.conftest import lines

D = dt.date(2026, 3, 5)
ROLES = ("admin", "preparer", "reviewer", "auditor", "supervisor")


def page(client, path: str) -> str:
    resp = client.get(path)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def booknav(html: str) -> str:
    start = html.index('<nav class="booknav"')
    return html[start : html.index("</nav>", start)]


@pytest.fixture
def voucher_in(book, acct, people):
    """voucher_in("approved") → a voucher of ``book`` prepared by the preparer, in that state."""

    def make(status: str, preparer=None):
        preparer = preparer or people["preparer"]
        v = svc.create_voucher(
            book,
            svc.VoucherInput(
                D, "购买办公用品", lines((acct("5602"), 5000, 0), (acct("1001"), 0, 5000))
            ),
            actor=preparer,
        )
        steps = ("submitted", "approved", "posted")
        if status in steps:
            svc.submit_voucher(v, actor=preparer)
        if status in steps[1:]:
            svc.approve_voucher(v, actor=people["reviewer"])
        if status == "posted":
            svc.post_voucher(v, actor=preparer)
        db.session.flush()
        return v

    return make


@pytest.mark.parametrize(
    ("role", "new_voucher", "review"),
    [
        ("admin", True, True),
        ("preparer", True, False),
        ("reviewer", False, True),
        ("auditor", False, False),
        ("supervisor", False, False),
    ],
)
def test_book_menu_per_role(client_as, organisation, book, role, new_voucher, review):
    c = client_as(role)
    base = f"/books/{organisation.id}"
    html = page(c, base + "/")
    nav = booknav(html)
    assert (f'href="{base}/vouchers/new"' in nav) is new_voucher
    assert (f'href="{base}/review"' in nav) is review
    # The home page's quick buttons follow the same rule.
    assert (f'href="{base}/vouchers/new"' in html) is new_voucher
    assert (f'href="{base}/review"' in html) is review
    for always in ("/vouchers", "/periods", "/accounts", "/reports"):
        assert f'href="{base}{always}"' in nav


@pytest.mark.parametrize(
    ("kind", "has_fund_statement"),
    [
        (OrganisationKind.ENTERPRISE, False),
        (OrganisationKind.FOUNDATION, True),
        (OrganisationKind.TRUST_FUND, False),
    ],
)
def test_fund_statement_only_in_npo_books(
    client_as, organisation_factory, kind, has_fund_statement
):
    org = organisation_factory(kind=kind.value)
    svc.create_book(org)
    c = client_as("auditor", org=org)
    html = page(c, f"/books/{org.id}/reports")
    assert (f'href="/books/{org.id}/reports/fund-statement"' in html) is has_fund_statement
    assert f'href="/books/{org.id}/reports/trial-balance"' in html
    assert "基金" not in html or has_fund_statement


VOUCHER_ACTIONS = ("submit", "approve", "post", "reject", "discard", "reverse")

# What the voucher page of a voucher in each state offers to each role (the voucher was
# prepared by someone else than the viewer, except for the preparer).
EXPECTED = {
    "draft": {"admin": {"submit", "discard"}, "preparer": {"submit", "discard"}},
    "submitted": {
        "admin": {"approve", "reject", "discard"},
        "preparer": {"discard"},
        "reviewer": {"approve", "reject"},
    },
    "approved": {
        "admin": {"post", "reject"},
        "preparer": {"post"},
        "reviewer": {"post", "reject"},
    },
    "posted": {"admin": {"reverse"}, "preparer": {"reverse"}},
}


@pytest.mark.parametrize("status", list(EXPECTED))
def test_voucher_buttons_per_role_and_state(client_as, organisation, voucher_in, status):
    v = voucher_in(status)
    for role in ROLES:
        c = client_as(role)
        html = page(c, f"/books/{organisation.id}/vouchers/{v.id}")
        shown = {
            a
            for a in VOUCHER_ACTIONS
            if f'action="/books/{organisation.id}/vouchers/{v.id}/{a}"' in html
        }
        assert shown == EXPECTED[status].get(role, set()), (status, role)
        edit = f'href="/books/{organisation.id}/vouchers/{v.id}/edit"' in html
        assert edit is (status == "draft" and role in ("admin", "preparer")), (status, role)
        copy = f"/vouchers/new?copy={v.id}" in html
        assert copy is (role in ("admin", "preparer"))


def test_own_voucher_is_approved_by_its_preparer_only_in_single_person_mode(
    client_as, organisation, book, voucher_in, people
):
    c = client_as("preparer")
    grant_role(c.user, organisation, "reviewer")
    own = voucher_in("submitted", preparer=c.user)
    url = f"/books/{organisation.id}/vouchers/{own.id}"
    assert f'action="{url}/approve"' not in page(c, url)
    svc.set_single_person_mode(book, True, "一人财务", actor=people["admin"])
    db.session.flush()
    assert f'action="{url}/approve"' in page(c, url)


@pytest.mark.parametrize(
    ("role", "close", "reopen"),
    [
        ("admin", True, True),
        ("preparer", False, False),
        ("reviewer", True, False),
        ("auditor", False, False),
    ],
)
def test_period_buttons_per_role(client_as, organisation, book, voucher_in, role, close, reopen):
    voucher_in("posted")
    svc.close_period(book, 2026, 3, actor=client_as("admin").user)
    db.session.flush()
    html = page(client_as(role), f"/books/{organisation.id}/periods")
    base = f'action="/books/{organisation.id}/periods/'
    assert (base + 'close"' in html) is close
    if not close:
        assert base + 'year_end"' not in html
    assert (base + 'reopen"' in html) is reopen


def test_accounts_page_offers_changes_only_to_preparers(client_as, organisation, book):
    for role, offered in (("preparer", True), ("reviewer", False), ("auditor", False)):
        html = page(client_as(role), f"/books/{organisation.id}/accounts")
        assert (f'action="/books/{organisation.id}/accounts"' in html) is offered, role
        assert (f'action="/books/{organisation.id}/funds"' in html) is offered, role


def test_my_receipts_only_for_a_resident_login(client_as, organisation, resident_factory):
    assert 'href="/receipts"' not in page(client_as("preparer"), "/")
    resident_login = client_as("auditor")
    resident_factory(community=organisation.community, user_id=resident_login.user.id)
    db.session.flush()
    assert 'href="/receipts"' in page(resident_login, "/")


def test_login_and_voucher_forms_put_the_cursor_in_their_first_field(
    client, client_as, organisation, book
):
    html = page(client, "/login")
    assert "autofocus" in html.split('name="username"', 1)[1].split(">", 1)[0]
    assert html.count("autofocus") == 1
    html = page(client_as("preparer"), f"/books/{organisation.id}/vouchers/new")
    assert "autofocus" in html.split('name="date"', 1)[1].split(">", 1)[0]
    assert html.count("autofocus") == 1


# --- what a menu offers is what the services accept -------------------------------------------


def _attempt(action: str, v, user, book):
    if action == "submit":
        svc.submit_voucher(v, actor=user)
    elif action == "approve":
        svc.approve_voucher(v, actor=user)
    elif action == "post":
        svc.post_voucher(v, actor=user)
    elif action == "review":
        svc.reject_voucher(v, "请补附件", actor=user)
    elif action == "discard":
        svc.discard_voucher(v, actor=user)
    elif action == "reverse":
        svc.reverse_voucher(v, actor=user)


@pytest.mark.parametrize("status", ["draft", "submitted", "approved", "posted"])
@pytest.mark.parametrize("action", ["submit", "approve", "post", "review", "discard", "reverse"])
def test_can_agrees_with_the_services(app, book, organisation, people, voucher_in, status, action):
    """For every role, voucher state and step: can() is true exactly when the service does it."""
    for role in ROLES:
        v = voucher_in(status)
        user = people[role]
        with app.test_request_context():
            login_user(user)
            offered = can(action, organisation, v)
            logout_user()
        nested = db.session.begin_nested()
        try:
            _attempt(action, v, user, book)
            accepted = True
        except (NotPermitted, Conflict):
            accepted = False
        nested.rollback()
        assert offered is accepted, (role, status, action)


def test_unknown_action_is_a_template_mistake(app, organisation):
    with app.test_request_context(), pytest.raises(KeyError):
        can("fly", organisation)


def test_receipt_link_only_for_those_who_may_fetch_receipts(
    client_as, organisation, book, acct, people, resident_factory
):
    r = resident_factory(community=organisation.community)
    v = svc.create_voucher(
        book,
        svc.VoucherInput(
            D,
            "收到物业费",
            lines((acct("1002"), 3000, 0), (acct("1122"), 0, 3000, {"resident_id": r.id})),
        ),
        actor=people["preparer"],
    )
    svc.submit_voucher(v, actor=people["preparer"])
    svc.approve_voucher(v, actor=people["reviewer"])
    svc.post_voucher(v, actor=people["preparer"])
    db.session.flush()
    link = f'href="/books/{organisation.id}/vouchers/{v.id}/receipt/{r.id}"'
    for role, offered in (("auditor", True), ("preparer", True), ("supervisor", False)):
        c = client_as(role)
        html = page(c, f"/books/{organisation.id}/vouchers/{v.id}")
        assert (link in html) is offered, role
        if offered:
            assert c.get(link[6:-1]).status_code == 200
        else:
            assert c.get(link[6:-1]).status_code == 403
