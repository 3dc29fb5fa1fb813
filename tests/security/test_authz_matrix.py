"""The authorization matrix (tests/security/authz_matrix.py) checked against the running app:
every rule of ``app.url_map`` × method has a row, and every row × role × own/other
organisation answers as its row says. A resident's login never reaches another resident's
receipt or records."""

from __future__ import annotations

import io
from typing import Any

import pytest

from core.db import db
from tests.security import authz_matrix as matrix
from tests.security.rows import Row
from tests.security.world import OTHERS, PAYERS, PNG, ROLES, Side, World, url_for_rule

WRITE = {"POST", "PUT", "PATCH", "DELETE"}


def outcome(resp) -> str:
    """One letter for an answer: O ok (2xx/3xx), L login (401 or a redirect to the login page),
    F forbidden (403), N not found (404), V past authorization but refused as bad input or
    conflicting state (400, 405, 409, 413, 415, 422), E anything else (a 500 never passes)."""
    code = resp.status_code
    if code == 401 or (code in (301, 302, 303) and "/login" in resp.headers.get("Location", "")):
        return "L"
    if code < 400:
        return "O"
    return {403: "F", 404: "N"}.get(code, "V" if code in (400, 405, 409, 413, 415, 422) else "E")


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if value == "@png":
        return (io.BytesIO(PNG), "a.png", "image/png")
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def request_as(app, world: World, role: str, row: Row, scope: str):
    """One request of ``row`` as ``role`` on the ``scope`` side, on a fresh client carrying that
    role's session, inside a savepoint rolled back afterwards."""
    side: Side = getattr(world, scope)
    url = url_for_rule(row.rule, side, row.args)
    conn = world.conn
    db.session.remove()
    # A savepoint SQLAlchemy does not track: the session's own savepoints nest inside it and
    # are all closed (the session removed) before it is rolled back to.
    conn.exec_driver_sql("SAVEPOINT authz_request")
    try:
        c = app.test_client()
        if world.cookies[role]:
            c.set_cookie("session", world.cookies[role])
        kwargs: dict[str, Any] = {"headers": {"X-CSRFToken": world.csrf[role]}}
        if row.query:
            kwargs["query_string"] = _fill(row.query, side.ids)
        if row.method in WRITE:
            body = _fill(row.body, side.ids)
            if url.startswith("/api/"):
                kwargs["json"] = body
            else:
                kwargs["data"] = {"csrf_token": world.csrf[role], **body}
        return c.open(url, method=row.method, **kwargs)
    finally:
        db.session.rollback()
        db.session.remove()
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT authz_request")
        conn.exec_driver_sql("RELEASE SAVEPOINT authz_request")


def observe(app, world: World, row: Row) -> dict[str, str]:
    """{"own": "OOF…", "other": "…"}: the outcome letter of each role, in ROLES order."""
    return {
        scope: "".join(outcome(request_as(app, world, role, row, scope)) for role in ROLES)
        for scope in ("own", "other")
    }


def url_map_keys(app) -> set[tuple[str, str]]:
    return {
        (m, r.rule)
        for r in app.url_map.iter_rules()
        for m in r.methods - {"HEAD", "OPTIONS"}
        if not r.rule.startswith("/__test/")
    }


def test_every_route_has_a_row(_app):
    rows = {(r.method, r.rule) for r in matrix.ROWS}
    routes = url_map_keys(_app)
    assert sorted(routes - rows) == [], "routes without a row in authz_matrix.py"
    assert sorted(rows - routes) == [], "rows naming a route that no longer exists"
    assert len(rows) == len(matrix.ROWS), "a route has two rows"


@pytest.mark.parametrize("row", matrix.ROWS, ids=lambda r: f"{r.method} {r.rule}")
def test_route_answers_each_role_as_its_row_says(_app, world, row: Row):
    got = observe(_app, world, row)
    wrong = [
        f"{scope}: {role} got {got[scope][i]}, the row says {want}"
        for scope in ("own", "other")
        for i, (role, want) in enumerate(zip(ROLES, row.letters(scope), strict=True))
        if got[scope][i] != want
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("row", matrix.ROWS, ids=lambda r: f"{r.method} {r.rule}")
def test_another_organisation_of_the_same_community(_app, world, row: Row):
    """A second enterprise in the roles' own community answers like the other community's
    (its URLs name the roles' own community only where they name a community at all)."""
    same_community = "community_id" in row.rule or "slug" in row.rule
    want = row.letters("own" if same_community else "other")
    got = "".join(outcome(request_as(_app, world, role, row, "sibling")) for role in ROLES)
    assert got == want, f"sibling: got {got}, the row says {want} (roles: {', '.join(ROLES)})"


# --- ids of another organisation inside one's own organisation's URL (the classic hole) -------

_FOREIGN = ("voucher_id", "resident_id", "attachment_id", "account_id", "invitation_id", "user_id")


@pytest.mark.parametrize(
    "row",
    [r for r in matrix.ROWS if any(f"<id:{k}>" in r.rule for k in _FOREIGN)],
    ids=lambda r: f"{r.method} {r.rule}",
)
def test_another_organisations_record_under_ones_own_organisation(_app, world, row: Row):
    """The own organisation's URL with the other organisation's voucher, resident, attachment,
    account, invitation or person: its admin (who holds every power in their own organisation)
    and the resident never reach it."""
    theirs = {k: v for k, v in world.other.ids.items() if k not in ("org_id", "community_id")}
    theirs["voucher_id"] = world.other.ids["draft_id" if "attachment" in row.rule else "voucher_id"]
    mixed = Row(row.own, row.other, row.method, row.rule, {**row.args, **theirs}, row.body)
    for role in ("admin", "preparer", "auditor", "resident"):
        letter = outcome(request_as(_app, world, role, mixed, "own"))
        assert letter in "NFV", f"{role} got {letter}"


# --- a resident's own records ---------------------------------------------------------------


def test_a_resident_sees_only_their_own_receipts_and_records(_app, world):
    own = world.own
    receipts = request_as(_app, world, "resident", Row("", "", "GET", "/receipts"), "own")
    records = request_as(_app, world, "resident", Row("", "", "GET", "/me/records"), "own")
    assert PAYERS[0] in records.get_data(as_text=True)  # their own record
    for page in (receipts, records):
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        for name in (OTHERS[0], PAYERS[1], OTHERS[1]):
            assert name not in text
    listed = receipts.get_data(as_text=True)
    assert f"/vouchers/{own.ids['voucher_id']}/receipt/{own.ids['payer_id']}" in listed
    assert f"/vouchers/{own.ids['named_id']}/receipt/" not in listed  # the neighbour's voucher
    base = "/books/<id:org_id>/vouchers/<id:voucher_id>/receipt/<id:resident_id>"
    for suffix in ("", ".json", ".pdf", ".svg"):
        mine = Row("", "", "GET", base + suffix)
        assert outcome(request_as(_app, world, "resident", mine, "own")) == "O"
        # a neighbour's receipt for the neighbour's voucher, and the neighbour on one's own voucher
        for args in (
            {"voucher_id": own.ids["named_id"], "resident_id": own.ids["other_id"]},
            {"resident_id": own.ids["other_id"]},
        ):
            theirs = Row("", "", "GET", base + suffix, args)
            got = outcome(request_as(_app, world, "resident", theirs, "own"))
            assert got in "FN", f"{suffix or 'page'} {args}: {got}"
    # "sign now" for a voucher that does not name them (in their organisation or a neighbouring
    # one of their community) is refused before anything is signed
    sign = Row("", "", "POST", base + "/checkpoint")
    assert outcome(request_as(_app, world, "resident", sign, "own")) == "O"
    for args in (
        {"voucher_id": own.ids["named_id"]},
        {"org_id": world.sibling.ids["org_id"], "voucher_id": world.sibling.ids["voucher_id"]},
    ):
        theirs = Row("", "", "POST", base + "/checkpoint", args)
        got = outcome(request_as(_app, world, "resident", theirs, "own"))
        assert got in "FN", f"sign {args}: {got}"
    api = "/api/v1/organisations/<id:org_id>/vouchers/<id:voucher_id>/receipt"
    neighbour = Row(
        "", "", "GET", api, {"voucher_id": own.ids["named_id"]}, query={"resident": "{other_id}"}
    )
    assert outcome(request_as(_app, world, "resident", neighbour, "own")) in "FN"
