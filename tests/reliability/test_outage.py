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
def database_gone():
    """Every SQL statement fails as it does once the server is gone (lazy loads included)."""

    def boom(conn, cursor, statement, *args):
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
