"""Issue 9 item 2, the bank test: concurrent clients post random transfers through the JSON API
of a production server (gunicorn, several workers) on PostgreSQL (a server of the tests' own)
while readers take trial balances; some requests are sent twice with the same Idempotency-Key, some given up by the client
after a few milliseconds and retried. Every balance read must sum to zero per unit; afterwards
every acknowledged transfer is posted exactly once, numbers are gapless per month, the log has
no gap, the balances are the sums of the lines, and ``flask transparency audit`` passes.

``BANK_SECONDS`` (default 20) and ``BANK_CLIENTS`` (default 8) lengthen or widen the run;
bench/bank.py runs it for longer outside pytest.
"""

from __future__ import annotations

import pytest

from . import harness
from .conftest import seconds

pytestmark = [pytest.mark.slow, pytest.mark.commits]


def test_bank(pg_server, tmp_path, record_property):
    url = pg_server.create_database("bank")
    env = harness.app_env(url, tmp_path / "instance")
    world = harness.make_world(env)
    app = harness.AppServer(env, tmp_path / "gunicorn.log", workers=3)
    app.start()
    try:
        bank = harness.Bank(
            world, lambda: app.port, clients=int(seconds("BANK_CLIENTS", 8)), readers=2
        )
        with harness.Checkpointer(env, world.book_id) as checkpointer:
            bank.start()
            bank.stop.wait(seconds("BANK_SECONDS", 20))  # the load's bounded duration
        figures = bank.finish()
    finally:
        app.stop()
    line = f"{figures.line()}, checkpoints signed during the load {checkpointer.signed}"
    record_property("bank", line)
    print("\nbank test:", line)

    assert bank.violations == []
    assert figures.acknowledged >= 10, figures.line()
    assert figures.replays_checked > 0 and figures.client_timeouts > 0, figures.line()
    assert figures.balance_reads > 0
    assert harness.check_books(url, world.book_id, bank) == []
    audit = harness.run_audit(env, world.book_id)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert harness.audited_records(audit) >= figures.acknowledged
    # Each checkpoint signed while posts were in flight matches the log it claims.
    assert checkpointer.failures == [] and checkpointer.signed >= 1
    assert harness.audited_checkpoints(audit) >= 1
