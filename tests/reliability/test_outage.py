"""A database that goes away in the middle of a request (a restart, a failover, the server
killed, as tests/reliability/test_crash.py does) is a 503 with Retry-After, JSON or HTML: the
client's retry with its Idempotency-Key is the right move. It was a 500 ("internal server error,
the problem has been logged") before; found by the crash test (237 of them in a 60 s run)."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa

from core.auth import create_api_token
from core.db import db


class _Gone(Exception):
    """What psycopg raises when the server has closed the connection."""


@contextlib.contextmanager
def database_gone(from_statement: str = ""):
    """Every SQL statement fails as it does once the server is gone (lazy loads included);
    with ``from_statement``, from the first statement that starts with it on, rollbacks to the
    tests' savepoints excepted (a real dead connection is invalidated, and its rollback is a
    no-op)."""
    gone = not from_statement

    def boom(conn, cursor, statement, *args):
        nonlocal gone
        gone = gone or statement.startswith(from_statement)
        if gone and not (from_statement and statement.startswith("ROLLBACK")):
            raise sa.exc.OperationalError(statement, {}, _Gone("server closed the connection"))

    sa.event.listen(db.engine, "before_cursor_execute", boom)
    try:
        yield
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", boom)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/communities"), ("GET", "/api/v1/me"), ("POST", "/api/v1/tokens")],
)
def test_api_answers_503_while_the_database_is_gone(app, user, method, path):
    token = create_api_token(user, "outage")[1]
    db.session.commit()
    with database_gone():
        r = app.test_client().open(
            path,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
            json={"name": "x"} if method == "POST" else None,
        )
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.headers["Retry-After"].isdigit()
    body = r.get_json()
    assert body["code"] == "unavailable" and "try again" in body["message"]


def test_a_page_answers_503_while_the_database_is_gone(app, client, client_as):
    signed_in = client_as("preparer")
    db.session.commit()
    for c in (client, signed_in):  # the signed-in one needs the database for its user too
        with database_gone():
            r = c.get("/", headers={"Accept": "text/html"})
        assert r.status_code == 503
        assert r.headers["Retry-After"].isdigit()
        assert r.mimetype in ("text/html", "text/plain")


@pytest.mark.parametrize("language", ["en", "zh_Hans_CN"])
def test_the_database_gone_at_commit_is_a_503_not_a_500(app, user, language):
    """The request's work is done and its audit event is being written when the server dies
    (found by the crash test). The rollback expires the signed-in user, so the answer's language
    (the user's saved one) cannot be read: the 503 comes in the default language instead."""
    user.locale = language
    token = create_api_token(user, "outage")[1]
    db.session.commit()
    with database_gone(from_statement="INSERT INTO audit_events"):
        r = app.test_client().post(
            "/api/v1/tokens",
            headers={"Authorization": f"Bearer {token}"},
            json={"name": "at commit"},
        )
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.headers["Retry-After"].isdigit()
    body = r.get_json()
    assert body["code"] == "unavailable"
    assert "稍后" in body["message"] or "try again" in body["message"]
    # Nothing of the request was committed.
    names = db.session.execute(sa.text("SELECT name FROM api_tokens")).scalars().all()
    assert "at commit" not in names
