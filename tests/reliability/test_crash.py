"""Issue 9 item 3, the crash test: SIGKILL the app server (master and every worker at once) and,
separately, the PostgreSQL server (postmaster and every backend at once) in the middle of the
bank test's load and in the middle of a large ``flask ledger import-beancount``; restart.

Afterwards every acknowledged write is there, nothing half-written is (no voucher without lines,
no unbalanced voucher, no log gap, no number or index on an unposted voucher, balances equal to the
sums of the lines), ``flask transparency audit`` passes, and the killed import can be run again.

The tests start and kill a PostgreSQL server of their own (``pg_server``); the kill comes when a
condition is seen (so many transfers acknowledged, the import's COPY running), never after a
fixed sleep.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import uuid

import pytest
import sqlalchemy as sa

from tests.ledger.journal import generate_journal

from . import harness
from .conftest import seconds

pytestmark = [pytest.mark.slow, pytest.mark.commits]

BEFORE = 20  # transfers acknowledged before the kill
AFTER = 20  # and after the restart


@pytest.fixture
def world_on(pg_server, tmp_path):
    """A fresh database on the tests' own server, and the environment of every app process on it."""
    url = pg_server.create_database("c_" + uuid.uuid4().hex[:10])
    env = harness.app_env(url, tmp_path / "instance")
    return url, env


def _load_with_a_crash(pg_server, world_on, tmp_path, record_property, crash: str):
    url, env = world_on
    world = harness.make_world(env)
    app = harness.AppServer(env, tmp_path / "gunicorn.log", workers=3)
    app.start()
    bank = harness.Bank(world, lambda: app.port, clients=int(seconds("BANK_CLIENTS", 8)))
    try:
        bank.start()
        harness.wait_for(lambda: bank.acked() >= BEFORE or bank.violations, 180, "transfers")
        acked_before = bank.acked()
        if crash == "app":
            killed = app.kill9()
            bank.figures.faults.append(f"kill -9 gunicorn ({killed} processes)")
            app.start()
        else:
            killed = pg_server.kill9()
            bank.figures.faults.append(f"kill -9 PostgreSQL ({killed} processes)")
            pg_server.start()
        harness.wait_for(
            lambda: bank.acked() >= acked_before + AFTER or bank.violations, 180, "recovery"
        )
        figures = bank.finish()
    finally:
        bank.stop.set()
        app.stop()
    record_property(f"crash_{crash}", figures.line())
    print(f"\ncrash test ({crash}):", figures.line())
    assert bank.violations == []
    assert harness.check_books(url, world.book_id, bank) == []
    audit = harness.run_audit(env, world.book_id)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert harness.audited_records(audit) >= figures.acknowledged
    return figures


def test_kill_the_app_server_during_the_load(pg_server, world_on, tmp_path, record_property):
    figures = _load_with_a_crash(pg_server, world_on, tmp_path, record_property, "app")
    # The clients saw the crash and retried through it with their keys.
    assert figures.connection_errors > 0, figures.line()
    assert set(figures.statuses) <= {503}, figures.line()


def test_kill_postgresql_during_the_load(pg_server, world_on, tmp_path, record_property):
    figures = _load_with_a_crash(pg_server, world_on, tmp_path, record_property, "postgresql")
    assert figures.server_errors + figures.connection_errors > 0, figures.line()
    # While the database was down the app said "unavailable, retry" (503), never a 500.
    assert set(figures.statuses) <= {503}, figures.line()


# --- a large import --------------------------------------------------------------------------

IMPORT_TRANSACTIONS = 20_000
ORGANISATION = "崩溃导入合作社"


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as c:
        out = {
            t: c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in (
                "organisations",
                "books",
                "accounts",
                "vouchers",
                "voucher_lines",
                "voucher_events",
                "log_nodes",
                "account_period_balances",
                "periods",
            )
        }
    engine.dispose()
    return out


def _import_is_writing(url: str):
    """True once the import's COPY into the ledger tables is running (and it is still alive)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as c:
            return c.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'active' AND query ILIKE 'COPY%'"
                )
            ).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def big_journal(tmp_path_factory):
    path = tmp_path_factory.mktemp("journal") / "big.beancount"
    path.write_text(
        generate_journal(IMPORT_TRANSACTIONS, seed=9, start=dt.date(2022, 1, 1)), encoding="utf-8"
    )
    return path


def _start_import(env, journal, log):
    return subprocess.Popen(
        [
            str(harness.VENV_BIN / "flask"),
            "ledger",
            "import-beancount",
            str(journal),
            "--organisation",
            ORGANISATION,
        ],
        cwd=harness.ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _kill_while_importing(pg_server, url, env, journal, log, victim: str) -> str:
    """Start the import, kill ``victim`` once its COPY runs, and say what was killed."""
    proc = _start_import(env, journal, log)
    try:
        harness.wait_for(
            lambda: proc.poll() is not None or _import_is_writing(url),
            300,
            "the import to start writing",
        )
        assert proc.poll() is None, "the import finished before it could be killed: make it larger"
        if victim == "import":
            os.killpg(proc.pid, signal.SIGKILL)  # the command and its forked helpers
            proc.wait(30)
            fault = "kill -9 the import (its process group)"
        else:
            fault = f"kill -9 PostgreSQL ({pg_server.kill9()} processes)"
            proc.wait(120)  # the import fails on its lost connection
            pg_server.start()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    assert proc.returncode != 0, fault
    return fault


def test_kill_the_import_then_postgresql_during_a_large_import(
    pg_server, world_on, tmp_path, big_journal, record_property
):
    url, env = world_on
    harness.make_world(env)  # migrated, with another organisation's book beside the import
    before = _counts(url)
    faults = []
    with open(tmp_path / "import.log", "w") as log:
        for victim in ("import", "postgresql"):
            faults.append(_kill_while_importing(pg_server, url, env, big_journal, log, victim))
            # Nothing of the killed import stayed (it is one transaction); the books are whole.
            assert _counts(url) == before, faults[-1]
            engine = sa.create_engine(url)
            with engine.connect() as c:
                books = c.execute(sa.text("SELECT id FROM books")).scalars().all()
            engine.dispose()
            for book_id in books:
                assert harness.check_books(url, book_id) == []
                assert harness.run_audit(env, book_id).returncode == 0

    # The same import again succeeds and is whole.
    again = harness.flask(
        env, "ledger", "import-beancount", str(big_journal), "--organisation", ORGANISATION
    )
    assert again.returncode == 0, again.stdout + again.stderr
    book_id = int(re.search(r"^book (\d+)$", again.stdout, re.M).group(1))
    vouchers = int(re.search(r"^vouchers (\d+)$", again.stdout, re.M).group(1))
    assert vouchers == IMPORT_TRANSACTIONS
    assert harness.check_books(url, book_id) == []
    audit = harness.run_audit(env, book_id)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert harness.audited_records(audit) == IMPORT_TRANSACTIONS
    summary = f"{'; '.join(faults)}; re-import of {vouchers} vouchers audited OK"
    record_property("import_crash", summary)
    print(f"\nimport crash: {summary}")
