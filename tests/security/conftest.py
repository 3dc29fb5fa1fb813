"""The matrix's world, built once per module (see world.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import scoped_session, sessionmaker

from core import pdf
from core.db import db
from tests.security.world import build


@pytest.fixture(scope="module")
def _no_pdf_rendering():
    """The matrix asks who may download a PDF, not how it looks (tests/transparency/test_pdf.py
    reads them back): WeasyPrint's rendering would take most of its run time."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(pdf, "render_pdf", lambda html, **_kw: b"%PDF-1.7 (not rendered)")
        yield


@pytest.fixture(scope="module")
def world(_app, tmp_path_factory, _no_pdf_rendering):
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
            w = build(_app)
            w.conn = conn
            yield w
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            conn.close()
            _app.config["KEYS_DIR"] = old_keys
