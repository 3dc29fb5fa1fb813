"""Test fixtures. The suite runs on SQLite by default and on PostgreSQL when
TEST_DATABASE_URL is set (the ./test command starts a throwaway server for it).

Each test runs inside one outer transaction that is rolled back at the end; the app's
own commits become SAVEPOINT releases (SQLAlchemy's "join an external transaction"
recipe; on SQLite this relies on core.db taking over BEGIN, the documented pysqlite
workaround). Tests that need real commits (concurrency) use the ``committing_app`` fixture.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Iterator

import flask_migrate
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import g
from flask_babel import force_locale
from itsdangerous import TimestampSigner
from pytest_factoryboy import register
from sqlalchemy.orm import scoped_session, sessionmaker

from core.app import create_app
from core.auth import grant_role
from core.db import db
from tests import factories

register(factories.CommunityFactory)
register(factories.OrganisationFactory)
register(factories.ResidentFactory)
register(factories.UserFactory)
register(factories.BookFactory)
register(factories.AccountFactory)
register(factories.VoucherFactory)


# The factories write through db.session, so each needs the app (and its transaction) first.
@pytest.fixture
def community_factory(app):
    return factories.CommunityFactory


@pytest.fixture
def organisation_factory(app):
    return factories.OrganisationFactory


@pytest.fixture
def resident_factory(app):
    return factories.ResidentFactory


@pytest.fixture
def user_factory(app):
    return factories.UserFactory


@pytest.fixture
def book_factory(app):
    return factories.BookFactory


@pytest.fixture
def account_factory(app):
    return factories.AccountFactory


@pytest.fixture
def voucher_factory(app):
    return factories.VoucherFactory


class SigningClock:
    """The clock of itsdangerous's timestamped signatures (session cookies, CSRF tokens):
    tests move it forward instead of sleeping."""

    def __init__(self, now: int) -> None:
        self.now = now

    def advance(self, seconds: int) -> None:
        self.now += seconds


@pytest.fixture
def signing_clock(monkeypatch):
    clock = SigningClock(int(time.time()))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: clock.now)
    return clock


@pytest.fixture
def english(app):
    """For tests that match the English messages (the default language is Chinese): use it
    with ``pytestmark = pytest.mark.usefixtures("english")``."""
    with force_locale("en"):
        yield


PASSWORD = factories.PASSWORD
BACKEND_URL = os.environ.get("TEST_DATABASE_URL")


def backend_name() -> str:
    return "postgresql" if BACKEND_URL else "sqlite"


def pytest_report_header(config):
    return f"database backend: {backend_name()}"


def _reset_database(engine: sa.Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")


def make_app(db_url: str, instance: str, **overrides):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": db_url,
            "TESTING": True,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "test-secret",
            "FIELD_KEY": Fernet.generate_key().decode(),
            "ARGON2_FAST": True,
            # Off: one app serves every test, each on its own rolled-back data
            # (tests/core/test_pagecache.py turns it on).
            "PUBLIC_PAGE_CACHE_SECONDS": 0,
        }
        | overrides
    )

    # Tests keep one app context around requests, so Flask would share ``g`` between them;
    # production gets a fresh ``g`` per request. Give tests the same.
    def _fresh_g():
        for key in list(vars(g)):
            delattr(g, key)
        # What the test set up before this request is committed state, as it would be in
        # production: a refused request rolls back only its own work (here, a SAVEPOINT).
        db.session.commit()

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)

    @app.post("/__test/boom")
    def _boom():  # an unexpected failure after a write: must become a 500 and roll back
        from core.models import Community

        db.session.add(Community(name="boom", slug="boom"))
        db.session.flush()
        raise RuntimeError("boom")

    return app


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    if BACKEND_URL:
        return BACKEND_URL
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def _app(db_url, tmp_path_factory):
    app = make_app(db_url, str(tmp_path_factory.mktemp("instance")))
    with app.app_context():
        _reset_database(db.engine)
        flask_migrate.upgrade()
    return app


@pytest.fixture
def app(_app):
    with _app.app_context():
        conn = db.engine.connect()
        outer = conn.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
        )
        try:
            yield _app
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            conn.close()


@pytest.fixture
def committing_app(tmp_path):
    """An app on a database of its own where commits are real (SQLite file or a fresh PG database)."""
    with own_database(tmp_path / "commit.sqlite3") as url:
        app = make_app(url, str(tmp_path / "instance"))
        with app.app_context():
            flask_migrate.upgrade()
            yield app
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


@contextlib.contextmanager
def own_database(sqlite_file) -> Iterator[str]:
    """The URL of an empty database of its own: a fresh PostgreSQL database on the suite's
    server (dropped afterwards), or ``sqlite_file``. Dispose of the app's engines before leaving."""
    if not BACKEND_URL:
        yield "sqlite:///" + str(sqlite_file)
        return
    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(BACKEND_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield (
            sa.engine.make_url(BACKEND_URL).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    m = _CSRF_RE.search(page)
    assert m, "login page has no CSRF token"
    return m.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(client)
    resp = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def organisation(organisation_factory):
    return organisation_factory()


@pytest.fixture
def client_as(app, organisation, user_factory):
    """``client_as("preparer")``: a client logged in as a fresh user holding that role."""

    def make(role: str, org=None, **user_kwargs):
        user = user_factory(**user_kwargs)
        if role == "platform_admin":
            user.is_platform_admin = True
        else:
            grant_role(user, org or organisation, role)
        db.session.flush()
        c = app.test_client()
        login(c, user.username)
        c.user = user
        c.csrf = csrf_token(c)
        return c

    return make
