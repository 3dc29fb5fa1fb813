# SPDX-License-Identifier: AGPL-3.0-or-later
"""Property trust (issue 13): the monthly billing run of a 3,000-unit compound, and the owners'
statement of a month of a compound with years of history, on SQLite and (with --pg) PostgreSQL.

    .venv/bin/python bench/bench_property.py [--units 3000] [--years 5]
        [--pg postgresql+psycopg://postgres@127.0.0.1:55432/postgres]

With --pg a database of its own (bench_property_<pid>) is created on that server and dropped
afterwards. Each month of history is one billing run plus one bulk payment post (95 % of units
pay in the month, the rest stay in arrears), both through ``ledger.services.post_vouchers``.
Prints wall and CPU seconds of each billing run (the last one is the figure: 3,000 bills into a
book that already has the history) and the median of 15 statement reads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from core.app import create_app  # noqa: E402
from core.auth import create_user, grant_role  # noqa: E402
from core.db import db  # noqa: E402
from core.models import Community, Organisation, Resident  # noqa: E402
from core.months import Month  # noqa: E402
from ledger import services as ledger  # noqa: E402
from property_trust import services as pt  # noqa: E402
from property_trust.models import Building, Unit, UnitOwner  # noqa: E402
from property_trust.statement import monthly_statement  # noqa: E402


def build(url: str, instance: str, units: int):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "bench",
            "FIELD_KEY": Fernet.generate_key().decode(),
            "ARGON2_FAST": True,
        }
    )
    ctx = app.app_context()
    ctx.push()
    flask_migrate.upgrade()
    community = Community(name="基准社区", slug="bench")
    db.session.add(community)
    db.session.flush()
    org = Organisation(
        community_id=community.id,
        name="基准小区共有资金",
        slug="bench-trust",
        kind="trust_fund",
        standard="TRUST_FUND",
    )
    db.session.add(org)
    db.session.flush()
    ledger.create_book(org)
    admin = create_user("admin", "bench-password")
    grant_role(admin, org, "admin")
    compound = pt.create_compound(org, "基准小区", actor=admin)
    rnd = random.Random(13)
    residents = [
        Resident(community_id=community.id, name=f"业主{n:05d}", unit=None) for n in range(units)
    ]
    db.session.add_all(residents)
    db.session.flush()
    buildings = []
    for b in range(units // 300 + 1):
        buildings.append(
            Building(community_id=community.id, compound_id=compound.id, name=f"{b + 1}栋")
        )
    db.session.add_all(buildings)
    db.session.flush()
    rows = [
        Unit(
            community_id=community.id,
            compound_id=compound.id,
            building_id=buildings[n // 300].id,
            number=f"{n % 300:03d}",
            unit_type="residential",
            area=Decimal(rnd.randrange(5500, 14000)).scaleb(-2),
        )
        for n in range(units)
    ]
    db.session.add_all(rows)
    db.session.flush()
    db.session.add_all(
        UnitOwner(
            community_id=community.id, unit_id=u.id, resident_id=r.id, role="owner", billed=True
        )
        for u, r in zip(rows, residents, strict=True)
    )
    db.session.commit()
    return app, ctx, compound, admin, [u.id for u in rows]


def seconds(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def run(label: str, url: str, instance: str, units: int, years: int) -> None:
    app, ctx, compound, admin, unit_ids = build(url, instance, units)
    today = dt.date.today()
    months = [Month.of(today).plus(-12 * years + 1 + i) for i in range(12 * years)]
    pt.set_fee_rate(compound, "residential", "2.20", months[0].first_day, actor=admin)
    db.session.commit()
    rnd = random.Random(7)
    runs = []
    for month in months:
        _res, wall, cpu = seconds(lambda m=month: pt.bill_month(compound, m, actor=None))
        db.session.commit()
        runs.append((wall, cpu))
        balances = pt.unit_balances(compound)
        day = min(month.first_day.replace(day=15), today)
        pays = [
            (u, balances[u][0], day, False)
            for u in unit_ids
            if balances.get(u, (0, 0))[0] and rnd.random() < 0.95
        ]
        pt.record_payments(compound, pays, actor=None)
        db.session.commit()
    wall, cpu = runs[-1]
    first_wall, first_cpu = runs[0]
    print(
        f"{label}: billing run of {units} units: first {first_wall:.2f} s wall / {first_cpu:.2f} s CPU;"
        f" after {len(months) - 1} months of history {wall:.2f} s wall / {cpu:.2f} s CPU"
    )
    target = months[-2]
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load: statistics for the planner.
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    times = []
    for _ in range(15):
        db.session.expire_all()
        _st, w, _c = seconds(lambda: monthly_statement(compound, target))
        times.append(w)
    print(
        f"{label}: owners' statement of {target} after {years} year(s) "
        f"({len(months) * units:,} bills): median {statistics.median(times) * 1000:.0f} ms"
        f" (min {min(times) * 1000:.0f} ms)"
    )
    assert not pt.check_consistency(compound)
    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()
    ctx.pop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, default=3000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--pg", help="a PostgreSQL server URL (a database of its own is created)")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            run(
                "SQLite",
                f"sqlite:///{tmp}/bench.sqlite3",
                f"{tmp}/instance",
                args.units,
                args.years,
            )
        if args.pg:
            name = f"bench_property_{os.getpid()}"
            admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.exec_driver_sql(f'CREATE DATABASE "{name}"')
            try:
                url = sa.engine.make_url(args.pg).set(database=name)
                run(
                    "PostgreSQL",
                    url.render_as_string(hide_password=False),
                    f"{tmp}/instance-pg",
                    args.units,
                    args.years,
                )
            finally:
                with admin.connect() as c:
                    c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()


if __name__ == "__main__":
    main()
