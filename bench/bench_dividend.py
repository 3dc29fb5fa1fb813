# SPDX-License-Identifier: AGPL-3.0-or-later
"""Shareholders (issue 15's target "a dividend to 1,000 shareholders < 2 s"), a script, not a
test.

Builds a community enterprise (SME_2011) with ``--holders`` shareholders (default 1,000), each
with a subscription and its paid-in capital in the register (the payments posted as 1,000
vouchers Dr 1002 / Cr 3001 through ``ledger.services.post_vouchers`` in one call; shareholders,
subscriptions and register events written in bulk: setup, not what is measured), and a year's
profit closed into 3104. Then times what a treasurer does, through the services the web pages
and the API call:

* **declare**: ``shareholders.services.declare_dividend`` (the checks against the books, the
  largest-remainder split by paid-in capital at the record date to the fen, the reserve voucher
  and the declaration voucher with one 2232 line per shareholder through the one posting
  engine, the resolution, its lines and register events), then the commit;
* **pay**: every line paid at once with ``shareholders.services.pay_dividends`` (one voucher
  per shareholder, Dr 2232 / Cr 1002 net / Cr 2221 the 20 % income tax withheld, all through
  one ``post_vouchers`` call), then the commit. Declare + pay is the target's figure.
* for comparison, once per backend (``--each-runs``, default 1): the same payment line by line
  with ``pay_dividend``, committed after each line, as the web page and the API pay today (one
  request per line; without the HTTP layer).

Each run uses a new enterprise in the same database; the result is checked (every line paid,
the lines add up to the declared total to the fen, 2232 back to zero, 2221 the tax withheld,
the register equals the books, every voucher of the book balanced) so that the script fails
loudly when the work was not done. Prints wall and CPU seconds (median of ``--runs``).

    .venv/bin/python bench/bench_dividend.py [--holders 1000] [--runs 5] [--each-runs 1] [--no-sqlite]
        [--pg postgresql+psycopg://postgres@127.0.0.1:55432/postgres] [--profile FILE]

With --pg a database of its own (bench_dividend_<pid>) is created on that server and dropped
afterwards. ``--profile FILE`` writes cProfile statistics of the last run's declare and pay to
FILE.declare / FILE.pay.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from core.app import create_app  # noqa: E402
from core.auth import create_user, grant_role  # noqa: E402
from core.db import db  # noqa: E402
from core.models import Community, Organisation, Resident  # noqa: E402
from ledger import services as ledger  # noqa: E402
from ledger.models import Account, Voucher, VoucherLine  # noqa: E402
from shareholders import services as ssvc  # noqa: E402
from shareholders.models import RegisterEvent, Shareholder, Subscription  # noqa: E402

D = dt.date
YEAR = 2025
RESOLUTION, RECORD, PAID, TODAY = D(2026, 3, 2), D(2026, 2, 27), D(2026, 3, 9), D(2026, 3, 10)


def build(run: int, holders: int):
    """A new enterprise with ``holders`` shareholders, all paid in, and YEAR's profit closed."""
    community = Community(name=f"分红基准社区{run}", slug=f"div-bench-{run}")
    db.session.add(community)
    db.session.flush()
    org = Organisation(
        community_id=community.id,
        name=f"分红基准社区企业{run}",
        slug=f"div-co-{run}",
        kind="enterprise",
        standard="SME_2011",
    )
    db.session.add(org)
    db.session.flush()
    book = ledger.create_book(org)
    admin = create_user(f"treasurer{run}", "bench-password")
    grant_role(admin, org, "admin")
    rnd = random.Random(29 + run)
    paid = [rnd.randrange(1_000_00, 50_000_00, 100) for _ in range(holders)]
    ssvc.set_articles(org, registered_capital=sum(paid) + 1_000_000_00, actor=admin)
    residents = [
        Resident(community_id=community.id, name=f"股东{i:05d}", unit=None) for i in range(holders)
    ]
    db.session.add_all(residents)
    db.session.flush()
    sh = [
        Shareholder(community_id=community.id, organisation_id=org.id, resident_id=r.id)
        for r in residents
    ]
    db.session.add_all(sh)
    db.session.flush()
    day = D(YEAR, 1, 15)
    subs = [
        Subscription(
            community_id=community.id,
            organisation_id=org.id,
            shareholder_id=s.id,
            date=day,
            amount=p,
            due_date=D(YEAR, 12, 31),
            created_by_id=admin.id,
        )
        for s, p in zip(sh, paid, strict=True)
    ]
    db.session.add_all(subs)
    db.session.flush()
    acc = dict(
        db.session.execute(
            sa.select(Account.code, Account.id).where(
                Account.book_id == book.id, Account.code.in_(("1002", "3001", "5001"))
            )
        ).all()
    )
    # The capital paid in: one voucher per shareholder, through the one posting engine.
    vids = ledger.post_vouchers(
        book,
        [
            ledger.VoucherInput(
                date=day,
                summary="实缴出资",
                lines=[
                    ledger.LineInput(account_id=acc["1002"], debit=p, resident_id=s.resident_id),
                    ledger.LineInput(account_id=acc["3001"], credit=p, resident_id=s.resident_id),
                ],
            )
            for s, p in zip(sh, paid, strict=True)
        ],
        source=ssvc.SOURCE,
        actor=admin,
        today=TODAY,
    )
    db.session.add_all(
        RegisterEvent(
            community_id=community.id,
            organisation_id=org.id,
            shareholder_id=s.id,
            kind=kind,
            date=day,
            actor_id=admin.id,
            **kw,
        )
        for s, p, sub, vid in zip(sh, paid, subs, vids, strict=True)
        for kind, kw in (
            ("subscribe", dict(subscribed_delta=p, subscription_id=sub.id)),
            ("pay", dict(paid_delta=p, voucher_id=vid)),
        )
    )
    # The year's profit (service revenue), closed into 3104 by the year-end closing.
    ledger.post_vouchers(
        book,
        [
            ledger.VoucherInput(
                date=D(YEAR, m, 20),
                summary="服务收入",
                lines=[
                    ledger.LineInput(account_id=acc["1002"], debit=150_000_00 + m),
                    ledger.LineInput(account_id=acc["5001"], credit=150_000_00 + m),
                ],
            )
            for m in range(1, 13)
        ],
        source="bench",
        actor=admin,
        today=TODAY,
    )
    ledger.generate_year_end_closing(book, YEAR, actor=admin)
    db.session.commit()
    return org.id, admin.id


def check(org, r, amount: int, holders: int) -> None:
    """The work was done: fails loudly otherwise."""
    book = ssvc.book_of(org)
    lines = r.lines
    assert len(lines) == holders, (len(lines), holders)
    assert sum(ln.amount for ln in lines) == amount == r.amount, "lines ≠ declared total"
    assert all(ln.paid_on == PAID and ln.payment_voucher_id for ln in lines), "not all paid"
    tax = sum(ln.tax for ln in lines)
    assert tax > 0
    assert ssvc.account_balance(book, "2232") == 0, "dividends payable not cleared"
    assert ssvc.account_balance(book, "2221") == tax, "tax withheld ≠ 2221"
    assert ssvc.check_register(org) == [], "the register differs from the books"
    unbalanced = db.session.execute(
        sa.select(VoucherLine.voucher_id)
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(Voucher.book_id == book.id)
        .group_by(VoucherLine.voucher_id)
        .having(sa.func.sum(VoucherLine.debit) != sa.func.sum(VoucherLine.credit))
    ).all()
    assert not unbalanced, f"unbalanced vouchers {unbalanced[:5]}"
    n_vouchers = db.session.scalar(
        sa.select(sa.func.count()).select_from(Voucher).where(Voucher.book_id == book.id)
    )
    # payments in + 12 revenue + closing (1 or more) + reserve + declaration + payments out
    assert n_vouchers >= 2 * holders + 15, n_vouchers


def one_run(run: int, holders: int, profile: str | None, each: bool = False):
    org_id, admin_id = build(run, holders)
    db.session.remove()
    from core.models import User

    org = db.session.get(Organisation, org_id)
    admin = db.session.get(User, admin_id)
    fig = ssvc.dividend_figures(org, profit_year=YEAR, date=RESOLUTION)
    reserve = fig.reserve_required
    # An odd amount, most of what may be distributed: the split leaves remainders.
    amount = (fig.distributable - reserve) * 9 // 10 - 7
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    w0, c0 = time.perf_counter(), time.process_time()
    r = ssvc.declare_dividend(
        org,
        resolution_date=RESOLUTION,
        record_date=RECORD,
        profit_year=YEAR,
        amount=amount,
        reserve=reserve,
        votes_for=holders,
        actor=admin,
        today=TODAY,
    )
    db.session.commit()
    declare = (time.perf_counter() - w0, time.process_time() - c0)
    if prof is not None:
        prof.disable()
        prof.dump_stats(f"{profile}.declare")
        prof = __import__("cProfile").Profile()
        prof.enable()
    rid = r.id
    line_ids = [ln.id for ln in r.lines]
    w0, c0 = time.perf_counter(), time.process_time()
    if each:
        for lid in line_ids:
            # what one request does: find the line, pay it, commit
            line = ssvc.get_dividend_line(org, lid)
            ssvc.pay_dividend(org, line, date=PAID, actor=admin, today=TODAY)
            db.session.commit()
    else:
        paid = ssvc.pay_dividends(org, r, date=PAID, actor=admin, today=TODAY)
        db.session.commit()
        assert len(paid) == len(line_ids)
    pay = (time.perf_counter() - w0, time.process_time() - c0)
    if prof is not None:
        prof.disable()
        prof.dump_stats(f"{profile}.pay")
    db.session.expire_all()
    check(org, ssvc.get_dividend(org, rid), amount, holders)
    db.session.remove()
    return declare, pay


def run(
    label: str,
    url: str,
    instance: str,
    holders: int,
    runs: int,
    each_runs: int,
    profile: str | None,
):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "bench",
            "FIELD_KEY": Fernet.generate_key().decode(),
            "ARGON2_FAST": True,
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        results = []
        for i in range(runs):
            last = i == runs - 1
            results.append(one_run(i, holders, profile if last else None))
            d, p = results[-1]
            print(
                f"  run {i + 1}: declare {d[0]:.3f} s wall / {d[1]:.3f} s CPU; "
                f"pay {holders} lines {p[0]:.3f} s wall / {p[1]:.3f} s CPU",
                flush=True,
            )
        each = []
        for i in range(each_runs):
            each.append(one_run(runs + i, holders, None, each=True))
            d, p = each[-1]
            print(
                f"  line by line, run {i + 1}: declare {d[0]:.3f} s wall / {d[1]:.3f} s CPU; "
                f"pay {holders} lines one by one {p[0]:.3f} s wall / {p[1]:.3f} s CPU",
                flush=True,
            )
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()

    def med(k, j):
        return statistics.median(x[k][j] for x in results)

    walls = [x[0][0] + x[1][0] for x in results]
    print(
        f"{label}: dividend to {holders} shareholders ({runs} runs, median): "
        f"declare {med(0, 0):.3f} s wall / {med(0, 1):.3f} s CPU; "
        f"pay all {med(1, 0):.3f} s wall / {med(1, 1):.3f} s CPU; "
        f"total {statistics.median(walls):.3f} s wall "
        f"(spread {min(walls):.3f}–{max(walls):.3f}) / "
        f"{statistics.median(x[0][1] + x[1][1] for x in results):.3f} s CPU",
        flush=True,
    )
    figures = {
        "backend": "postgresql" if label == "PostgreSQL" else "sqlite",
        "holders": holders,
        "total_wall": walls,
        "total_cpu": [x[0][1] + x[1][1] for x in results],
        "declare_wall": [x[0][0] for x in results],
        "declare_cpu": [x[0][1] for x in results],
        "pay_wall": [x[1][0] for x in results],
        "pay_cpu": [x[1][1] for x in results],
        "each_wall": [x[1][0] for x in each],
        "each_cpu": [x[1][1] for x in each],
    }
    print("RESULT " + json.dumps(figures), flush=True)  # for bench/suite.py
    if each:
        print(
            f"{label}: paying the {holders} lines one by one (pay_dividend, a commit each; "
            f"{len(each)} runs, median): "
            f"{statistics.median(x[1][0] for x in each):.3f} s wall / "
            f"{statistics.median(x[1][1] for x in each):.3f} s CPU",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--holders", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--each-runs", type=int, default=1, help="runs paying line by line")
    ap.add_argument("--pg", help="a PostgreSQL server URL (a database of its own is created)")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--profile", help="write cProfile stats of the last run to FILE.declare/.pay")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            run(
                "SQLite",
                f"sqlite:///{tmp}/bench.sqlite3",
                f"{tmp}/instance",
                args.holders,
                args.runs,
                args.each_runs,
                args.profile and args.profile + ".sqlite",
            )
        if args.pg:
            name = f"bench_dividend_{os.getpid()}"
            admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                c.exec_driver_sql(f'CREATE DATABASE "{name}"')
            try:
                url = sa.engine.make_url(args.pg).set(database=name)
                run(
                    "PostgreSQL",
                    url.render_as_string(hide_password=False),
                    f"{tmp}/instance-pg",
                    args.holders,
                    args.runs,
                    args.each_runs,
                    args.profile and args.profile + ".pg",
                )
            finally:
                with admin.connect() as c:
                    c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()


if __name__ == "__main__":
    main()
