# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bank test (issue 9 item 2) as a script, for longer or wider runs than CI's (a script, not
a test). It starts a PostgreSQL server of its own in a temporary directory (or uses
``--database-url``, an empty database), gunicorn with ``--workers`` sync workers, then
``--clients`` clients posting random transfers through the JSON API and ``--readers`` readers
checking trial balances, for ``--duration`` seconds. ``--crash app`` / ``--crash postgresql``
kills the app server or the PostgreSQL server with SIGKILL every ``--crash-every`` acknowledged
transfers and restarts it (the latter needs the script's own server). At the end it checks the
rows (tests/reliability/harness.py ``check_books``) and runs ``flask transparency audit``.

Usage::

    .venv/bin/python bench/bank.py [--clients 16] [--readers 2] [--duration 120] [--workers 4]
                                   [--crash none|app|postgresql] [--crash-every 200]

Exit status 0 when every rule held, 1 otherwise; the figures are printed either way.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.reliability import harness  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--readers", type=int, default=2)
    ap.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    ap.add_argument("--replay-rate", type=float, default=0.1)
    ap.add_argument("--timeout-rate", type=float, default=0.05)
    ap.add_argument("--crash", choices=["none", "app", "postgresql"], default="none")
    ap.add_argument("--crash-every", type=int, default=200, help="acknowledged transfers")
    ap.add_argument("--database-url", default=None, help="an empty database (default: own server)")
    ap.add_argument("--seed", type=int, default=9)
    args = ap.parse_args()
    if harness.gunicorn_bin() is None:
        print("gunicorn is not installed: .venv/bin/pip install -e '.[test]'", file=sys.stderr)
        return 2
    if args.crash == "postgresql" and args.database_url:
        print("--crash postgresql needs the script's own server", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="commons-bank-") as tmp_name:
        tmp = Path(tmp_name)
        pg = None
        url = args.database_url
        if url is None:
            bindir = harness.pg_bin()
            if bindir is None:
                print("no PostgreSQL under /usr/lib/postgresql/*/bin", file=sys.stderr)
                return 2
            pg = harness.PgServer(tmp, bindir).init()
            pg.start()
            url = pg.create_database("bank_" + uuid.uuid4().hex[:8])
        app = None
        try:
            env = harness.app_env(url, tmp / "instance")
            world = harness.make_world(env)
            app = harness.AppServer(env, tmp / "gunicorn.log", workers=args.workers)
            app.start()
            bank = harness.Bank(
                world,
                lambda: app.port,
                clients=args.clients,
                readers=args.readers,
                seed=args.seed,
                replay_rate=args.replay_rate,
                timeout_rate=args.timeout_rate,
            )
            bank.start()
            end = time.monotonic() + args.duration
            next_crash = args.crash_every
            while time.monotonic() < end and not bank.violations:
                if args.crash != "none" and bank.acked() >= next_crash:
                    if args.crash == "app":
                        n = app.kill9()
                        bank.figures.faults.append(f"kill -9 gunicorn ({n})")
                        app.start()
                    else:
                        assert pg is not None
                        n = pg.kill9()
                        bank.figures.faults.append(f"kill -9 PostgreSQL ({n})")
                        pg.start()
                    next_crash = bank.acked() + args.crash_every
                bank.stop.wait(0.2)
            figures = bank.finish()
            print(figures.line())
            problems = list(bank.violations)
            problems += harness.check_books(url, world.book_id, bank)
            audit = harness.run_audit(env, world.book_id)
            print(audit.stdout.strip())
            if audit.returncode != 0:
                problems.append("flask transparency audit failed: " + audit.stderr.strip())
            for p in problems:
                print("VIOLATION", p)
            print("OK" if not problems else f"{len(problems)} violation(s)")
            return 0 if not problems else 1
        finally:
            if app is not None:
                app.stop()
            if pg is not None:
                pg.stop()


if __name__ == "__main__":
    sys.exit(main())
