"""The matrix's world, built once per module (see world.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import scoped_session, sessionmaker

from core.db import db
from tests.security.world import build


@pytest.fixture(scope="module")
def world(_app, tmp_path_factory):
    """The world, in a transaction of its own rolled back at the end of the module."""
    keys = str(tmp_path_factory.mktemp("authz-keys"))
    with _app.app_context():
        old_keys = _app.config["KEYS_DIR"]
        _app.config["KEYS_DIR"] = keys
        conn = db.engine.connect()
        outer = conn.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
        )
        try:
            w = build(_app, conn)
            w.conn = conn
            yield w
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            conn.close()
            _app.config["KEYS_DIR"] = old_keys
