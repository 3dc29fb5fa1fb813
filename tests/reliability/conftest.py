"""Fixtures of the reliability tests (issue 9 items 2–3): PostgreSQL only, real servers."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.conftest import BACKEND_URL

from . import harness


def pytest_collection_modifyitems(config, items):
    """Skip every test here, with the reason, where the servers they need are missing."""
    here = Path(__file__).parent
    reason = None
    if not BACKEND_URL:
        reason = (
            "reliability tests need PostgreSQL: set TEST_DATABASE_URL (./test does); on SQLite "
            "one file serialises every writer and there is no database server to kill"
        )
    elif harness.gunicorn_bin() is None:
        reason = "gunicorn is not installed in this environment: pip install -e '.[test]'"
    if reason is None:
        return
    for item in items:
        # The servers' tests (marked commits); the in-process ones run on both backends.
        if Path(str(item.fspath)).is_relative_to(here) and item.get_closest_marker("commits"):
            item.add_marker(pytest.mark.skip(reason=reason))


def seconds(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server of the tests' own, found the way ./test finds one: the crash tests
    kill it, and a database of the bank test's own is dropped with the server (on a busy shared
    server DROP DATABASE waits for a checkpoint: minutes)."""
    bindir = harness.pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    with tempfile.TemporaryDirectory(prefix="commons-crash-") as tmp:
        server = harness.PgServer(Path(tmp), bindir).init()
        server.start()
        try:
            yield server
        finally:
            server.stop()
