# SPDX-License-Identifier: AGPL-3.0-or-later
"""Benchmark of issue 11 (points), a script, not a test.

(a) ``redeem``: one redemption through the JSON API on SQLite (a temporary file, WAL, real
    commits): ``POST /api/v1/organisations/<id>/points/redemptions`` with a staff token, points
    + cash against an item; the whole stack per request (token, schema, holder's row lock, FIFO
    lots, one voucher with the points and money lines, Merkle append, commit, audit).
    Target: median under 15 ms.
(b) ``reconcile``: an issuer with 10,000 holders and 1,000,000 movements (voucher lines on the
    holders' account, posted through ``ledger.services.post_vouchers``: 800,000 credits in
    grant vouchers and 200,000 debits in redemption vouchers over twelve months) on
    PostgreSQL, in a database of its own created on the server and dropped afterwards; the
    lots and holders' rows are written in bulk to match. Times ``points.services.reconcile``
    (it reads the holders' rows, the lots' sum and the per-month balances, not history).
    Target: under 200 ms.

Usage::

    .venv/bin/python bench/bench_points.py redeem [--n 300]
    .venv/bin/python bench/bench_points.py reconcile --pg postgresql+psycopg://postgres@127.0.0.1:55432/postgres \
        [--holders 10000] [--movements 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from core.app import create_app  # noqa: E402
from core.auth import create_api_token, create_user, grant_role  # noqa: E402
from core.db import db  # noqa: E402
from core.models import Community, Organisation, Resident  # noqa: E402
from ledger import services as ledger  # noqa: E402
from points import services as svc  # noqa: E402
from points.models import PointHolding, PointLot  # noqa: E402


def make_app(url: str, tmp: Path):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(tmp / "instance"),
            "SECRET_KEY": "bench",
            "FIELD_KEY": Fernet.generate_key().decode(),
            "ARGON2_FAST": True,
        }
    )


def issuer_world(n_residents: int):
    community = Community(name="积分基准社区", slug="pts-bench")
    db.session.add(community)
    db.session.flush()
    org = Organisation(
        community_id=community.id,
        name="积分基准企业",
        slug="pts-co",
        kind="enterprise",
        standard="SME_2011",
    )
    db.session.add(org)
    db.session.flush()
    ledger.create_book(org)
    admin = create_user("admin", "bench-password")
    staff = create_user("staff", "bench-password")
    reviewer = create_user("reviewer", "bench-password")
    grant_role(admin, org, "admin")
    grant_role(staff, org, "preparer")
    grant_role(reviewer, org, "reviewer")
    issuer = svc.create_issuer(org, kind="enterprise", actor=admin)
    scheme = svc.create_scheme(
        issuer, name="服务积分", type="service", unit="PTS", value_fen=10, actor=admin
    )
    residents = [
        Resident(community_id=community.id, name=f"居民{i}", phone=f"139{i:08d}")
        for i in range(n_residents)
    ]
    db.session.add_all(residents)
    db.session.flush()
    return org, issuer, scheme, admin, staff, reviewer, residents


def bench_redeem(n: int, profile: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        app = make_app(f"sqlite:///{tmp / 'bench.sqlite3'}", tmp)
        with app.app_context():
            flask_migrate.upgrade()
            org, issuer, scheme, admin, staff, reviewer, residents = issuer_world(20)
            activity = svc.create_activity(scheme, name="助老送餐", points=100_000, actor=admin)
            item = svc.create_item(
                issuer, scheme, name="理发", price_fen=3000, max_points=200, actor=admin
            )
            g = svc.request_grant(
                activity,
                activity_date=dt.date.today() - dt.timedelta(days=3),
                residents=[(r.id, None) for r in residents],
                actor=staff,
            )
            svc.approve_grant(g, actor=reviewer, today=dt.date.today() - dt.timedelta(days=3))
            svc.credit_grant(g, actor=staff)
            token = create_api_token(staff, "bench")[1]
            org_id, item_id, ids = org.id, item.id, [r.id for r in residents]
            db.session.commit()
            db.session.remove()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/organisations/{org_id}/points/redemptions"
        times: list[float] = []
        cpu: list[float] = []  # this process's CPU time: steadier than the wall on a busy machine
        prof = None
        for i in range(n + 20):
            if profile and i == 20:
                import cProfile

                prof = cProfile.Profile()
                prof.enable()
            body = {
                "item_id": item_id,
                "resident_id": ids[i % len(ids)],
                "points": str(50 + i % 100),
            }
            t0, c0 = time.perf_counter(), time.process_time()
            r = client.post(url, json=body, headers=headers)
            dt_ms = (time.perf_counter() - t0) * 1000
            cpu_ms = (time.process_time() - c0) * 1000
            assert r.status_code == 201, r.get_json()
            if i >= 20:  # warm-up
                times.append(dt_ms)
                cpu.append(cpu_ms)
        if prof is not None:
            prof.disable()
            prof.dump_stats(profile)
        times.sort()
        print(
            f"redeem via API (SQLite, {n} requests): median {statistics.median(times):.2f} ms, "
            f"p90 {times[int(len(times) * 0.9)]:.2f} ms, min {times[0]:.2f} ms; "
            f"CPU median {statistics.median(cpu):.2f} ms"
        )


def bench_reconcile(pg: str, holders: int, movements: int) -> None:
    name = "bench_points_" + uuid.uuid4().hex[:8]
    admin_engine = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(pg).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as d:
            app = make_app(url, Path(d))
            with app.app_context():
                flask_migrate.upgrade()
                _fill_and_time(holders, movements)
                db.session.remove()
                for engine in db.engines.values():
                    engine.dispose()
    finally:
        with admin_engine.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_engine.dispose()


def _fill_and_time(holders: int, movements: int) -> None:
    t0 = time.perf_counter()
    org, issuer, scheme, admin, staff, reviewer, residents = issuer_world(holders)
    book = ledger.book_for(org)
    ids = [r.id for r in residents]
    rng = random.Random(11)
    per_voucher = 50
    n_vouchers = movements // per_voucher
    today = dt.date.today()
    start = today - dt.timedelta(days=360)
    balances = dict.fromkeys(ids, 0)
    lots: dict[int, list[list]] = {i: [] for i in ids}  # resident → [[earned, points, remaining]]
    inputs = []
    for v in range(n_vouchers):
        credit = v % 5 != 4
        day = start + dt.timedelta(days=(v * 360) // n_vouchers)
        # A redemption voucher takes from the holders the grant before it credited.
        first = ((v if credit else v - 1) * per_voucher) % holders
        who = [ids[(first + k) % holders] for k in range(per_voucher)]
        lines = []
        total = 0
        for rid in who:
            if credit:
                p = rng.randint(5, 60)
                balances[rid] += p
                lots[rid].append([day, p, p])
            else:
                p = min(balances[rid], rng.randint(1, 20))
                if p == 0:
                    continue
                balances[rid] -= p
                left = p
                for lot in lots[rid]:
                    take = min(lot[2], left)
                    lot[2] -= take
                    left -= take
                    if not left:
                        break
            total += p
            lines.append(
                ledger.LineInput(
                    account_id=scheme.holders_account_id,
                    credit=p if credit else 0,
                    debit=0 if credit else p,
                    unit=scheme.unit,
                    resident_id=rid,
                )
            )
        if not lines:
            continue
        contra = ledger.LineInput(
            account_id=scheme.contra_account_id,
            debit=total if credit else 0,
            credit=0 if credit else total,
            unit=scheme.unit,
        )
        inputs.append(
            ledger.VoucherInput(
                date=day, summary="积分发放" if credit else "积分兑换", lines=[contra, *lines]
            )
        )
    db.session.commit()
    print(f"  built {len(inputs)} vouchers in memory in {time.perf_counter() - t0:.1f} s")
    t1 = time.perf_counter()
    for k in range(0, len(inputs), 2000):
        ledger.post_vouchers(book, inputs[k : k + 2000], source="bench", actor=staff)
        db.session.commit()
    print(
        f"  posted {sum(len(i.lines) - 1 for i in inputs)} movements in {time.perf_counter() - t1:.1f} s"
    )
    conn = db.session.connection()
    driver = conn.connection.driver_connection
    cid, sid, issuer_id = issuer.community_id, scheme.id, issuer.id
    with driver.cursor() as cur:
        with cur.copy(
            "COPY point_lots (community_id, scheme_id, resident_id, earned_on, points, remaining, prepaid, expired_points) FROM STDIN"
        ) as out:
            for rid, rows in lots.items():
                for earned, p, rem in rows:
                    out.write_row((cid, sid, rid, earned, p, rem, False, 0))
        with cur.copy(
            "COPY point_holdings (community_id, scheme_id, resident_id, balance) FROM STDIN"
        ) as out:
            for rid, b in balances.items():
                out.write_row((cid, sid, rid, b))
    db.session.commit()
    conn = db.session.connection()
    conn.exec_driver_sql("ANALYZE")
    db.session.commit()
    n_lots = db.session.scalar(sa.select(sa.func.count()).select_from(PointLot))
    n_hold = db.session.scalar(sa.select(sa.func.count()).select_from(PointHolding))
    print(f"  {n_hold} holders, {n_lots} lots")
    times = []
    for _ in range(15):
        db.session.remove()
        t = time.perf_counter()
        (rec,) = svc.reconcile(issuer_id)
        times.append((time.perf_counter() - t) * 1000)
        assert rec.ok, rec.problems
    deep = []
    for _ in range(5):
        db.session.remove()
        t = time.perf_counter()
        (drec,) = svc.reconcile(issuer_id, deep=True)
        deep.append((time.perf_counter() - t) * 1000)
        assert drec.ok, drec.problems
    print(
        f"  reconcile --deep (also every lot, per holder): median {statistics.median(deep):.1f} ms"
    )
    times.sort()
    print(
        f"reconcile ({n_hold} holders, {movements} movements, PostgreSQL): median "
        f"{statistics.median(times):.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms "
        f"(holders {rec.holders_points} = control {rec.control_points})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["redeem", "reconcile"])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--profile", default=None, help="redeem: write cProfile stats to this file")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:55432/postgres")
    ap.add_argument("--holders", type=int, default=10_000)
    ap.add_argument("--movements", type=int, default=1_000_000)
    a = ap.parse_args()
    if a.what == "redeem":
        bench_redeem(a.n, a.profile)
    else:
        bench_reconcile(a.pg, a.holders, a.movements)


if __name__ == "__main__":
    main()
