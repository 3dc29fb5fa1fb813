"""The authorization matrix (tests/security/authz_matrix.py) checked against the running app:
every rule of ``app.url_map`` × method has a row, and every row × role × own/other
organisation answers as its row says. A resident's login never reaches another resident's
receipt or records."""

from __future__ import annotations

from core.db import db
from tests.security import authz_matrix as matrix
from tests.security.world import ROLES, World, url_for_rule

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


def request_as(app, world: World, role: str, method: str, url: str):
    """One request as ``role``, on a fresh client carrying that role's session, inside a
    SAVEPOINT rolled back afterwards."""
    conn = world.conn  # type: ignore[attr-defined]
    db.session.remove()
    # A savepoint SQLAlchemy does not track: the session's own savepoints nest inside it and
    # are all closed (the session removed) before it is rolled back to.
    conn.exec_driver_sql("SAVEPOINT authz_request")
    try:
        c = app.test_client()
        if world.cookies[role]:
            c.set_cookie("session", world.cookies[role])
        headers = {"X-CSRFToken": world.csrf[role]}
        kwargs = {"headers": headers}
        if method in WRITE and url.startswith("/api/"):
            kwargs["json"] = {}
        elif method in WRITE:
            kwargs["data"] = {"csrf_token": world.csrf[role]}
        return c.open(url, method=method, **kwargs)
    finally:
        db.session.rollback()
        db.session.remove()
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT authz_request")
        conn.exec_driver_sql("RELEASE SAVEPOINT authz_request")


def observe(app, world: World, method: str, rule: str) -> dict[str, str]:
    """{"own": "OOF…", "other": "…"}: the outcome letter of each role, in ROLES order."""
    out = {}
    for scope in ("own", "other"):
        url = url_for_rule(rule, getattr(world, scope))
        out[scope] = "".join(
            outcome(request_as(app, world, role, method, url)) for role in ROLES
        )
    return out


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
