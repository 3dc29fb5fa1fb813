"""Shared setup of the transparency tests: the ledger's fixtures (a book, its accounts, people
in each role, posting through the review queue) and a signing-key folder per test."""

from __future__ import annotations

import pytest

from tests.ledger.conftest import acct, book, people, post  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def keys_dir(request, tmp_path, monkeypatch):
    """Each test that has an app gets its own key folder: ids are reused across rolled-back
    tests on SQLite, so a key left by one test must never sign for another. Tests without an
    app (the pure maths, the standalone verifier) do not start one for this."""
    if "app" not in request.fixturenames:
        return None
    app = request.getfixturevalue("app")
    monkeypatch.setitem(app.config, "KEYS_DIR", str(tmp_path / "keys"))
    return tmp_path / "keys"
