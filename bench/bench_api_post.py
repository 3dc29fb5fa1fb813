# SPDX-License-Identifier: AGPL-3.0-or-later
"""Benchmark: posting one voucher through the JSON API on SQLite (a script, not a test).

Issue 3's target: the median ``POST /api/v1/organisations/<id>/vouchers/<id>/post`` under
10 ms on SQLite. The script makes an app on a temporary SQLite file (WAL, real commits, as in
production), an organisation with an SME book, a preparer and a reviewer with API tokens, then
for each of N vouchers: create + submit with the preparer's token and approve with the
reviewer's, through the Flask test client; only the ``post`` request is timed. Each request
runs the whole stack: token lookup, routing, schema, service, Merkle log append, per-period
balances, the single commit, and the audit event's own commit.

Usage::

    .venv/bin/python bench/bench_api_post.py [--vouchers 300] [--lines 2] [--idempotency-key]
        [--residents 0] [--database-url postgresql+psycopg://…/empty] [--print-sql]
        [--sql-width 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import event  # noqa: E402

from core.app import create_app  # noqa: E402
from core.auth import create_api_token, create_user, grant_role  # noqa: E402
from core.db import db  # noqa: E402
from core.models import Community, Organisation, Resident  # noqa: E402
from ledger import services as svc  # noqa: E402


def setup(tmp: Path, url: str | None = None, residents: int = 0):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp / 'bench.sqlite3'}",
            "INSTANCE_PATH": str(tmp / "instance"),
            "SECRET_KEY": "bench",
            "FIELD_KEY": Fernet.generate_key().decode(),
            "ARGON2_FAST": True,
        }
    )
    ctx = app.app_context()  # for set-up only: requests must get their own context (and ``g``)
    ctx.push()
    flask_migrate.upgrade()
    community = Community(name="基准社区", slug="bench")
    db.session.add(community)
    db.session.flush()
    # Residents of the community (phone numbers encrypted at rest, as create_resident stores
    # them): every posting screens its summary against their names and numbers.
    db.session.add_all(
        Resident(
            community_id=community.id,
            name=f"居民{i:05d}",
            unit=f"{1 + i % 30}栋{1 + i % 4}单元{100 + i % 900}",
            phone=f"139{i:08d}",
        )
        for i in range(residents)
    )
    db.session.flush()
    org = Organisation(
        community_id=community.id,
        name="基准社区企业",
        slug="bench-co",
        kind="enterprise",
        standard="SME_2011",
    )
    db.session.add(org)
    db.session.flush()
    svc.create_book(org)
    preparer = create_user("preparer", "bench-password")
    reviewer = create_user("reviewer", "bench-password")
    grant_role(preparer, org, "preparer")
    grant_role(reviewer, org, "reviewer")
    tokens = create_api_token(preparer, "bench")[1], create_api_token(reviewer, "bench")[1]
    org_id = org.id
    db.session.commit()
    db.session.remove()
    ctx.pop()
    return app, org_id, tokens


def voucher_body(i: int, n_lines: int) -> dict:
    amount = f"{100 + i}.{i % 100:02d}"
    debits = [{"account": "1002", "debit": amount, "memo": f"第{i}笔"}]
    credits = [{"account": "5001", "credit": amount}]
    if n_lines > 2:  # split the debit over several lines of equal fen, the rest on the first
        minor = int(amount.replace(".", ""))
        part, first = divmod(minor, n_lines - 1)
        debits = [
            {"account": "1002", "debit": _fen(part + (first if k == 0 else 0))}
            for k in range(n_lines - 1)
        ]
    return {
        "date": "2026-03-05",
        "summary": f"基准凭证 {i}",
        "attachment_count": 1,
        "lines": debits + credits,
    }


def _fen(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def python_speed_ms() -> float:
    """A machine calibration: milliseconds for 10^6 additions in a Python loop (about 40 ms on
    an unloaded current desktop), printed so that figures from different machines compare."""
    best = float("inf")
    for _ in range(3):
        t0, x = time.perf_counter(), 0
        for i in range(10**6):
            x += i
        best = min(best, (time.perf_counter() - t0) * 1000)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vouchers", type=int, default=300)
    ap.add_argument("--lines", type=int, default=2, help="lines per voucher (>= 2)")
    ap.add_argument(
        "--idempotency-key", action="store_true", help="send an Idempotency-Key with each post"
    )
    ap.add_argument(
        "--database-url", help="an empty database to use instead of a temporary SQLite file"
    )
    ap.add_argument(
        "--residents", type=int, default=0, help="residents in the community (default 0)"
    )
    ap.add_argument(
        "--print-sql", action="store_true", help="print the statements of the last post request"
    )
    ap.add_argument(
        "--sql-width", type=int, default=300, help="characters of each statement --print-sql shows"
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        app, org_id, (prep_token, rev_token) = setup(Path(tmp), args.database_url, args.residents)
        client = app.test_client()
        base = f"/api/v1/organisations/{org_id}/vouchers"
        prep = {"Authorization": f"Bearer {prep_token}"}
        rev = {"Authorization": f"Bearer {rev_token}"}

        def call(path, headers, json=None, expect=200):
            r = client.post(path, headers=headers, json=json)
            if r.status_code != expect:
                raise SystemExit(f"{path}: {r.status_code} {r.get_data(as_text=True)[:300]}")
            return r

        statements: list[str] = []
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        timings, per_post, cpu = [], [], []
        for i in range(args.vouchers):
            vid = call(base, prep, voucher_body(i, args.lines), expect=201).get_json()["id"]
            call(f"{base}/{vid}/submit", prep)
            call(f"{base}/{vid}/approve", rev)
            headers = dict(
                rev, **({"Idempotency-Key": f"post-{vid}"} if args.idempotency_key else {})
            )
            before = len(statements)
            t0, c0 = time.perf_counter(), time.process_time()
            r = call(f"{base}/{vid}/post", headers)
            timings.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            per_post.append(len(statements) - before)
            assert r.get_json()["status"] == "posted"

        if args.print_sql:
            print(f"-- the statements of the last post request ({per_post[-1]}):")
            for sql in statements[-per_post[-1] :]:
                print("  " + " ".join(sql.split())[: args.sql_width])
        timings.sort()
        p90 = timings[int(0.9 * (len(timings) - 1))]
        print(
            f"POST …/vouchers/<id>/post on {engine.dialect.name}, {len(timings)} vouchers, {args.lines} lines each"
            f"{', with Idempotency-Key' if args.idempotency_key else ''}"
            f"{f', {args.residents:,} residents' if args.residents else ''}:"
        )
        print(
            f"  median {statistics.median(timings):.2f} ms   p90 {p90:.2f} ms   "
            f"min {timings[0]:.2f} ms   max {timings[-1]:.2f} ms"
        )
        print(
            f"  CPU of this process per post request: median {statistics.median(cpu):.2f} ms "
            "(on SQLite the database's work included; on PostgreSQL the server's Python only)"
        )
        print(
            f"  SQL statements per post request (incl. BEGIN and the audit event): "
            f"{statistics.median(per_post):.0f}"
        )
        print(
            f"  calibration: 10^6 Python loop additions take {python_speed_ms():.0f} ms on this machine"
        )
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


if __name__ == "__main__":
    main()
