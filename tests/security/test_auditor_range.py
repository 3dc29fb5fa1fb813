"""The auditor's date range (issue 16 item 7), route by route on the matrix's world: with a
grant for March 2025, community A's auditor reads March's reports, vouchers, exports and
downloads, and gets 403 (with a message naming the range) for any date outside it, for a
report without dates (it would show today), for an unfiltered voucher list, and for everything
once the grant is revoked. Other roles are not limited. Every one of the auditor's requests,
a GET too, is in the audit trail with the statement and the tree size."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from core import auditor_access
from core.db import db
from core.models import AuditEvent, Organisation, User
from ledger.models import Book
from tests.security.rows import Row
from tests.security.test_authz_matrix import request_as

MARCH = (dt.date(2025, 3, 1), dt.date(2025, 3, 31))
BOOK = "/books/<id:org_id>"
API = "/api/v1/organisations/<id:org_id>"


def _get(rule: str, query: dict | None = None, **args) -> Row:
    return Row("", "", "GET", rule, args, query=query or {})


# (row, the auditor's outcome with the March 2025 grant)
CASES = [
    (
        _get(
            BOOK + "/reports/<name>",
            {"start": "2025-03-01", "end": "2025-03-31"},
            name="trial-balance",
        ),
        200,
    ),
    (_get(BOOK + "/reports/<name>", {"month": "2025-03"}, name="general-ledger"), 200),
    (_get(BOOK + "/reports/<name>", {"as_of": "2025-03-31"}, name="balance-sheet"), 200),
    (
        _get(
            BOOK + "/reports/<name>",
            {"start": "2025-03-01", "end": "2025-03-31", "format": "xlsx"},
            name="income-statement",
        ),
        200,
    ),
    (
        _get(
            BOOK + "/reports/<name>",
            {"start": "2025-03-01", "end": "2025-03-31", "format": "csv"},
            name="fund-statement",
        ),
        200,
    ),
    (
        _get(
            BOOK + "/reports/<name>",
            {"start": "2025-03-01", "end": "2025-04-30"},
            name="trial-balance",
        ),
        403,
    ),
    (
        _get(
            BOOK + "/reports/<name>",
            {"start": "2025-02-28", "end": "2025-03-31", "format": "xlsx"},
            name="trial-balance",
        ),
        403,
    ),
    (_get(BOOK + "/reports/<name>", {"as_of": "2025-04-01"}, name="balance-sheet"), 403),
    (
        _get(
            BOOK + "/reports/<name>", {"month": "2025-04", "format": "csv"}, name="general-ledger"
        ),
        403,
    ),
    (_get(BOOK + "/reports/<name>", name="trial-balance"), 403),  # no dates: this month
    (_get(BOOK + "/vouchers/<id:voucher_id>"), 200),  # the fee, 2025-03-12
    (_get(BOOK + "/vouchers/<id:voucher_id>", voucher_id="{draft_id}"), 403),  # 2025-04-02
    (_get(BOOK + "/vouchers/<id:voucher_id>/attachments/<id:attachment_id>"), 403),  # the draft's
    (_get(BOOK + "/vouchers", {"date_from": "2025-03-01", "date_to": "2025-03-31"}), 200),
    (_get(BOOK + "/vouchers"), 403),  # every date
    (_get(BOOK + "/vouchers", {"date_from": "2025-03-01", "date_to": "2025-04-30"}), 403),
    (
        _get(
            API + "/reports/<name>",
            {"start": "2025-03-01", "end": "2025-03-31"},
            name="trial_balance",
        ),
        200,
    ),
    (
        _get(
            API + "/reports/<name>", {"as_of": "2025-03-31", "format": "xlsx"}, name="balance_sheet"
        ),
        200,
    ),
    (
        _get(
            API + "/reports/<name>",
            {"start": "2025-01-01", "end": "2025-03-31"},
            name="trial_balance",
        ),
        403,
    ),
    (_get(API + "/reports/<name>", name="account_balances"), 403),
    (_get(API + "/vouchers/<id:voucher_id>"), 200),
    (_get(API + "/vouchers/<id:voucher_id>", voucher_id="{draft_id}"), 403),
    (_get(API + "/vouchers"), 403),
    (_get(API + "/vouchers", {"date_from": "2025-03-01", "date_to": "2025-03-31"}), 200),
]


def _people(world):
    """The auditor, the admin and the organisation, in the current session (the world's
    objects are detached between requests)."""
    return (
        _user("authz0_auditor"),
        _user("authz0_admin"),
        db.session.get(Organisation, world.own.ids["org_id"]),
    )


def _user(username: str) -> User:
    return db.session.scalars(sa.select(User).where(User.username == username)).one()


@pytest.fixture(scope="module")
def march_grant(_app, world):
    """Community A's auditor holds a grant for March 2025 (in the module's world)."""
    with _app.test_request_context():
        auditor, admin, org = _people(world)
        row = auditor_access.grant(auditor, org, *MARCH, actor=admin, note_text="2025 年审")
        db.session.commit()
        return row.id


@pytest.mark.parametrize(
    ("row", "want"), CASES, ids=lambda c: c if isinstance(c, int) else f"{c.rule} {c.query}"
)
def test_the_auditor_sees_only_the_granted_dates(_app, world, march_grant, row: Row, want: int):
    r = request_as(_app, world, "auditor", row, "own")
    assert r.status_code == want, r.get_data(as_text=True)[:300]
    if want == 403:
        text = r.get_json()["message"] if r.is_json else r.get_data(as_text=True)
        assert "2025" in text and ("3月" in text or "Mar" in text), text[:400]


@pytest.mark.parametrize("row", [c[0] for c in CASES if c[1] == 403][:6], ids=lambda r: r.rule)
def test_other_roles_are_not_limited_by_the_auditors_grant(_app, world, march_grant, row: Row):
    for role in ("reviewer", "supervisor"):
        assert request_as(_app, world, role, row, "own").status_code in (200, 422)


def test_every_auditor_request_is_in_the_audit_trail(_app, world, march_grant):
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    ok = CASES[0][0]
    refused = CASES[5][0]
    # request_as rolls each request back: record them for real here instead
    client = _app.test_client()
    client.set_cookie("session", world.cookies["auditor"])
    base = f"/books/{world.own.ids['org_id']}/reports/trial-balance"
    assert client.get(base, query_string=ok.query).status_code == 200
    assert client.get(base, query_string=refused.query).status_code == 403
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.id > before, AuditEvent.username == "authz0_auditor")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.outcome) for e in events] == [
        ("GET /books/<id:org_id>/reports/<name>", "ok"),
        ("GET /books/<id:org_id>/reports/<name>", "denied"),
    ]
    seen = json.loads(events[0].detail)
    assert seen["statement"] == "trial-balance" and seen["auditor"] is True
    assert seen["tree_size"] == db.session.get(Book, world.own.ids["book_id"]).log_size
    assert seen["dates"] == [
        "2025-03-01",
        "2025-03-31",
    ]
    assert events[0].organisation_id == world.own.ids["org_id"]
    assert events[1].security is True  # a refusal reaches the admins' security feed


def test_a_revoked_auditor_gets_403_everywhere(_app, world, march_grant):
    with _app.test_request_context():
        auditor, admin, org = _people(world)
        auditor_access.revoke(auditor, org, actor=admin)
        db.session.commit()
    try:
        for row, _want in CASES[:3]:
            r = request_as(_app, world, "auditor", row, "own")
            assert r.status_code == 403
        home = request_as(_app, world, "auditor", _get(BOOK + "/"), "own")
        assert home.status_code == 403
        assert "revoked" in home.get_data(as_text=True) or "撤销" in home.get_data(as_text=True)
    finally:
        with _app.test_request_context():
            auditor, admin, org = _people(world)
            auditor_access.grant(auditor, org, *MARCH, actor=admin)
            db.session.commit()
