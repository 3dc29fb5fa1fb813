"""Browser tests: the real app served over HTTP on a SQLite file, driven by headless Chromium.

Commits are real here (no rollback fixture): the server runs in a thread of its own, so the
test reads what a person's clicks stored through its own app context.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import flask_migrate
import pytest
from werkzeug.serving import make_server

from core.auth import grant_role
from core.db import db
from ledger import services as svc
from tests import factories
from tests.conftest import make_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"headless Chromium is not installed at {CHROMIUM}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@dataclass
class LiveServer:
    url: str
    app: object
    org_id: int
    users: dict[str, str]  # role → username
    password: str = factories.PASSWORD


@pytest.fixture
def live_server(tmp_path) -> Iterator[LiveServer]:
    app = make_app("sqlite:///" + str(tmp_path / "browser.sqlite3"), str(tmp_path / "instance"))
    with app.app_context():
        flask_migrate.upgrade()
        org = factories.OrganisationFactory(name="幸福里社区企业")
        users = {}
        for role in ("preparer", "reviewer"):
            user = factories.UserFactory(username=f"{role}1", display_name=f"{role} 1")
            grant_role(user, org, role)
            users[role] = user.username
        svc.create_book(org)
        org_id = org.id
        db.session.commit()
        db.session.remove()  # hold no transaction (SQLite's write lock) while the server runs
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveServer(
                url=f"http://127.0.0.1:{server.server_port}", app=app, org_id=org_id, users=users
            )
        finally:
            server.shutdown()
            thread.join(timeout=10)
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
