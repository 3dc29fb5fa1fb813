# SPDX-License-Identifier: AGPL-3.0-or-later
"""Benchmark: plain-text import, trial balance and statements at scale (a script, not a test).

Issue 3's speed targets, measured in one run on the same generated journal
(``tests/ledger/journal.py``, 100,000 transactions, about 230,000 postings, 2023–2025):

(a) ``flask ledger import-beancount`` into a fresh SQLite file, against beancount's own load
    of the same file (``bean-check --no-cache``): target "no slower".
(b) the trial balance of the stored book (``ledger.reports.account_balances`` and the full
    ``trial_balance`` report) against ``ledger -f FILE bal`` and ``hledger -f FILE bal`` on
    our hledger export of that book (they re-read the journal): target at least 20× faster.
(c) with ``--million``: 1,000,000 vouchers on SME_2011 accounts bulk-posted into a book on
    PostgreSQL (``ledger.services.post_vouchers``, the posting engine's bulk writer), then the
    trial balance and the balance sheet (for a whole month and as of a day inside a month):
    target under 100 ms each.
(d) posting one voucher through the JSON API on SQLite, by ``bench/bench_api_post.py``:
    target median under 10 ms.

External programs run as subprocesses; their wall time and CPU time (user + system, from
``getrusage``) are both reported, because a busy machine stretches wall times. Each timed
subprocess step runs ``--repeat`` times (alternating ours and theirs) and the best run counts.
``--write-readme`` puts the table into bench/README.md.

Usage::

    .venv/bin/python bench/bench_ledger.py [--transactions 100000] [--repeat 1]
        [--million [--pg-url postgresql+psycopg://postgres@127.0.0.1:55432/postgres]]
        [--write-readme]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ledger.journal import generate_journal  # noqa: E402

VENV_BIN = Path(sys.executable).parent
FLASK = str(VENV_BIN / "flask")
BEAN_CHECK = (
    str(VENV_BIN / "bean-check")
    if (VENV_BIN / "bean-check").exists()
    else shutil.which("bean-check")
)
HLEDGER = shutil.which("hledger")
LEDGER = shutil.which("ledger")
README = ROOT / "bench" / "README.md"
PACKAGES = ("core", "ledger", "transparency", "shareholders", "points", "funds", "wsgi.py")
BEGIN, END = "<!-- bench_ledger:begin -->", "<!-- bench_ledger:end -->"


# --- measuring -------------------------------------------------------------------------------


class Run:
    """Wall and CPU seconds of one step (CPU: the subprocess's user + system time)."""

    def __init__(self, wall: float, cpu: float, out: str = ""):
        self.wall, self.cpu, self.out = wall, cpu, out


def run(cmd: list[str], env: dict | None = None, check: bool = True) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if check and proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd[:3])} … failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    return Run(wall, cpu, proc.stdout + proc.stderr)


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall)


def median_ms(fn: Callable[[], object], n: int = 15, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def make_app(url: str, instance: Path):
    from cryptography.fernet import Fernet

    from core.app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench",
            "FIELD_KEY": Fernet.generate_key().decode(),
        }
    )


def flask_env(url: str, instance: Path) -> dict:
    return dict(os.environ, FLASK_APP="wsgi", DATABASE_URL=url, COMMONS_INSTANCE_PATH=str(instance))


# --- (a) import, (b) trial balance -------------------------------------------------------------


def import_and_trial_balance(n: int, repeat: int, tmp: Path, rows: list) -> None:
    journal = tmp / "journal.beancount"
    journal.write_text(generate_journal(n, seed=1, start=dt.date(2023, 1, 1)), encoding="utf-8")
    postings = sum(
        1
        for line in journal.read_text(encoding="utf-8").splitlines()
        if line.startswith("  ") and not line.startswith("  invoice")
    )
    print(
        f"journal: {n:,} transactions, {postings:,} postings, {journal.stat().st_size / 1e6:.1f} MB",
        flush=True,
    )

    ours, theirs, book_id, url = [], [], None, ""
    for attempt in range(repeat):
        db_file = tmp / f"import{attempt}.sqlite3"
        url = f"sqlite:///{db_file}"
        env = flask_env(url, tmp / "instance")
        run([FLASK, "db", "upgrade"], env=env)
        r = run(
            [FLASK, "ledger", "import-beancount", str(journal), "--organisation", "基准合作社"],
            env=env,
        )
        book_id = int(re.search(r"^book (\d+)$", r.out, re.M).group(1))
        ours.append(r)
        print(f"  import (ours)   {r.wall:7.2f} s wall {r.cpu:7.2f} s CPU", flush=True)
        if BEAN_CHECK:
            b = run([BEAN_CHECK, "--no-cache", str(journal)])
            theirs.append(b)
            print(f"  bean-check      {b.wall:7.2f} s wall {b.cpu:7.2f} s CPU", flush=True)
    o = best(ours)
    rows.append(
        (
            f"(a) import {n:,} transactions: `flask ledger import-beancount` (SQLite file)",
            f"{o.wall:.1f} s",
            f"{o.cpu:.1f} s",
            "",
        )
    )
    if theirs:
        b = best(theirs)
        pairs = ", ".join(f"{u.wall / t.wall:.2f}" for u, t in zip(ours, theirs, strict=True))
        med = statistics.median(r.wall for r in ours) / statistics.median(r.wall for r in theirs)
        rows.append(
            (
                "(a) `bean-check --no-cache` on the same file",
                f"{b.wall:.1f} s",
                f"{b.cpu:.1f} s",
                f"ours/theirs {o.wall / b.wall:.2f} wall, {o.cpu / b.cpu:.2f} CPU (target ≤ 1); "
                f"medians {med:.2f}; each pair {pairs}",
            )
        )

    # where the import's time goes: the reader alone, in this process, as the command runs it
    import gc

    from ledger.beancount_import import read_file

    gc.disable()
    t0, c0 = time.perf_counter(), time.process_time()
    read_file(journal)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    gc.enable()
    rows.append(
        (
            "(a) of which: reading and checking the file (`ledger.plaintext`, in process)",
            f"{wall:.1f} s",
            f"{cpu:.1f} s",
            "the rest is start-up and the database",
        )
    )

    # (b) the stored book against tools that re-read the journal
    app = make_app(url, tmp / "instance")
    with app.app_context():
        from ledger.beancount_export import book_journal
        from ledger.plaintext import write_hledger
        from ledger.reports import account_balances, trial_balance
        from ledger.services import get_book

        book = get_book(book_id)
        exported = tmp / "book.journal"
        exported.write_text(write_hledger(book_journal(book)), encoding="utf-8")
        tb = median_ms(lambda: account_balances(book))
        full = median_ms(
            lambda: trial_balance(
                book, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), unit="CNY"
            )
        )
        mid = median_ms(lambda: account_balances(book, as_of=dt.date(2025, 6, 17)))
    rows.append(
        ("(b) trial balance, stored book: `account_balances` (all history)", f"{tb:.1f} ms", "", "")
    )
    rows.append(
        (
            "(b) `account_balances` as of a day inside a month (one month's lines)",
            f"{mid:.1f} ms",
            "",
            "",
        )
    )
    rows.append(
        (
            "(b) `trial_balance` report for 2025 (opening, movements, closing)",
            f"{full:.1f} ms",
            "",
            "",
        )
    )
    for name, tool in (("ledger", LEDGER), ("hledger", HLEDGER)):
        if not tool:
            rows.append((f"(b) `{name} -f FILE bal`", "not installed", "", ""))
            continue
        r = best([run([tool, "-f", str(exported), "bal"], check=False) for _ in range(repeat)])
        ok = "error" not in r.out.lower()[:2000]
        note = (
            f"{r.wall * 1000 / tb:.0f}× our trial balance (target ≥ 20×)"
            if ok
            else "could not read the file: " + r.out[:200]
        )
        rows.append(
            (
                f"(b) `{name} -f FILE bal` on our hledger export",
                f"{r.wall:.2f} s",
                f"{r.cpu:.2f} s",
                note,
            )
        )
        print(f"  {name} bal      {r.wall:7.2f} s wall", flush=True)


# --- (c) 1,000,000 vouchers on PostgreSQL ------------------------------------------------------

SME_TEMPLATES = (
    # (weight, summary, [(code, side)], has VAT)
    (14, "便民超市销售收入", [("1002", "d"), ("5001", "c")], True),
    (10, "现金收取服务费", [("1001", "d"), ("5001", "c")], False),
    (8, "购入商品", [("1405", "d"), ("2202", "c")], True),
    (8, "结转已售商品成本", [("5401", "d"), ("1405", "c")], False),
    (7, "支付货款", [("2202", "d"), ("1002", "c")], False),
    (6, "收回应收账款", [("1002", "d"), ("1122", "c")], False),
    (6, "计提社工工资", [("5602", "d"), ("2211", "c")], False),
    (6, "发放社工工资", [("2211", "d"), ("1002", "c")], False),
    (5, "办公费", [("5602", "d"), ("1001", "c")], False),
    (4, "银行手续费", [("5603", "d"), ("1002", "c")], False),
    (4, "场地出租收入", [("1002", "d"), ("5051", "c")], True),
    (3, "缴纳增值税", [("2221", "d"), ("1002", "c")], False),
    (2, "购入固定资产", [("1601", "d"), ("1002", "c")], False),
    (2, "营业外支出", [("5711", "d"), ("1001", "c")], False),
    (2, "股东出资", [("1002", "d"), ("3001", "c")], False),
)


def sme_vouchers(n: int, seed: int, accounts: dict[str, int], start: dt.date, days: int):
    """``n`` realistic vouchers on SME_2011 accounts, dated in order over ``days`` days."""
    from ledger.beancount_import import _LineRow, _VoucherRow

    rng = random.Random(seed)
    weights = [t[0] for t in SME_TEMPLATES]
    picks = rng.choices(SME_TEMPLATES, weights=weights, k=n)
    vat = accounts["2221"]
    out = []
    for i, (_w, summary, legs, taxed) in enumerate(picks):
        d = start + dt.timedelta(days=(i * days) // n)
        amount = rng.randint(100, 500_000)
        (dr_code, _), (cr_code, _) = legs
        lines = [_LineRow(accounts[dr_code], amount, 0, "CNY")]
        if taxed:
            tax = amount * 13 // 113
            lines += [
                _LineRow(accounts[cr_code], 0, amount - tax, "CNY"),
                _LineRow(vat, 0, tax, "CNY"),
            ]
        else:
            lines.append(_LineRow(accounts[cr_code], 0, amount, "CNY"))
        out.append(_VoucherRow(d, f"{summary} {i}", lines))
    return out


def million_on_postgres(n: int, pg_url: str, tmp: Path, rows: list) -> None:
    import flask_migrate
    import sqlalchemy as sa

    name = "bench_ledger_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        app = make_app(url, tmp / "instance-pg")
        with app.app_context():
            from core.db import db
            from core.models import Community, Organisation
            from ledger import services as svc
            from ledger.models import Account
            from ledger.reports import account_balances, balance_sheet, trial_balance

            flask_migrate.upgrade()
            community = Community(name="基准社区", slug="bench")
            db.session.add(community)
            db.session.flush()
            org = Organisation(
                community_id=community.id,
                name="基准社区企业",
                slug="bench",
                kind="enterprise",
                standard="SME_2011",
            )
            db.session.add(org)
            db.session.flush()
            book = svc.create_book(org)
            book_id = book.id
            accounts = {
                a.code: a.id
                for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
            }
            db.session.commit()
            start, days, chunk = dt.date(2023, 1, 1), 3 * 365, 100_000
            t0 = time.perf_counter()
            for k in range(0, n, chunk):
                size = min(chunk, n - k)
                inputs = sme_vouchers(
                    size,
                    seed=k,
                    accounts=accounts,
                    start=start + dt.timedelta(days=(k * days) // n),
                    days=(size * days) // n,
                )
                book = svc.get_book(book_id)
                svc.post_vouchers(book, inputs, source="import", actor=None)
                db.session.commit()
                print(
                    f"  PostgreSQL: {k + size:,} vouchers posted ({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
            load = time.perf_counter() - t0
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
            book = svc.get_book(book_id)
            counts = db.session.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM vouchers), (SELECT count(*) FROM voucher_lines)"
                )
            ).one()
            rows.append(
                (
                    f"(c) bulk-post {counts[0]:,} vouchers / {counts[1]:,} lines into an SME book (PostgreSQL)",
                    f"{load:.0f} s",
                    "",
                    f"{counts[0] / load:,.0f} vouchers/s",
                )
            )
            month_end, inside = dt.date(2025, 6, 30), dt.date(2025, 6, 17)
            measures = (
                ("trial balance, all history (`account_balances`)", lambda: account_balances(book)),
                (
                    "trial balance report for 2025-06 (`trial_balance`)",
                    lambda: trial_balance(book, start=dt.date(2025, 6, 1), end=month_end),
                ),
                (
                    "trial balance report for 2025 to a day inside a month",
                    lambda: trial_balance(book, start=dt.date(2025, 1, 1), end=inside),
                ),
                (
                    "balance sheet at a month end (`balance_sheet`)",
                    lambda: balance_sheet(book, as_of=month_end),
                ),
                (
                    "balance sheet as of a day inside a month",
                    lambda: balance_sheet(book, as_of=inside),
                ),
            )
            for label, fn in measures:
                ms = median_ms(fn)
                rows.append(
                    (
                        f"(c) {counts[0]:,} vouchers, PostgreSQL: {label}",
                        f"{ms:.1f} ms",
                        "",
                        "target < 100 ms",
                    )
                )
                print(f"  {label}: {ms:.1f} ms", flush=True)
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# --- (d) posting through the API -----------------------------------------------------------------


def api_post(rows: list) -> None:
    script = ROOT / "bench" / "bench_api_post.py"
    if not script.exists():
        rows.append(("(d) API post", "bench/bench_api_post.py missing", "", ""))
        return
    r = run([sys.executable, str(script), "--vouchers", "300"])
    m = re.search(r"median ([\d.]+) ms\s+p90 ([\d.]+) ms", r.out)
    rows.append(
        (
            "(d) `POST …/vouchers/<id>/post` through the API on SQLite (300 vouchers, median)",
            f"{m.group(1)} ms",
            "",
            f"p90 {m.group(2)} ms; target median < 10 ms (bench/bench_api_post.py)",
        )
    )


# --- report --------------------------------------------------------------------------------------


def table(rows: list) -> str:
    out = ["| step | wall | CPU | note |", "| --- | ---: | ---: | --- |"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(out)


def environment() -> str:
    load = os.getloadavg()
    return (
        f"{dt.datetime.now():%Y-%m-%d %H:%M}, {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} at the end of the run"
    )


def write_readme(text: str) -> None:
    current = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    if "| (c)" not in text and BEGIN in current and END in current:
        # keep the figures of the last --million run (it takes ten minutes)
        old = current[current.index(BEGIN) : current.index(END)]
        kept = [line for line in old.splitlines() if line.startswith("| (c)")]
        when = re.search(
            r"^\(c\) rows: from the `--million` run of (\d{4}-\d\d-\d\d \d\d:\d\d)", old, re.M
        ) or re.search(r"^(\d{4}-\d\d-\d\d \d\d:\d\d)", old, re.M)
        if kept:
            text += "\n" + "\n".join(kept)
            text += f"\n\n(c) rows: from the `--million` run of {when.group(1) if when else 'an earlier run'}."
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in current and END in current:
        current = current[: current.index(BEGIN)] + block + current[current.index(END) + len(END) :]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(current, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transactions", type=int, default=100_000)
    ap.add_argument(
        "--repeat", type=int, default=1, help="runs of each timed subprocess step (best counts)"
    )
    ap.add_argument(
        "--million", action="store_true", help="also (c): 1,000,000 vouchers on PostgreSQL (slow)"
    )
    ap.add_argument("--vouchers", type=int, default=1_000_000, help="vouchers for (c)")
    ap.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:55432/postgres",
        help="an admin URL of a PostgreSQL server; (c) creates and drops its own database",
    )
    ap.add_argument("--skip-api", action="store_true")
    ap.add_argument("--write-readme", action="store_true")
    args = ap.parse_args()

    rows: list = []
    # Our code byte-compiled, as ./run and ./test leave it and an installed package has it: the
    # import command's start-up is part of what is timed.
    run([sys.executable, "-m", "compileall", "-q", *(str(ROOT / d) for d in PACKAGES)])
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        import_and_trial_balance(args.transactions, args.repeat, tmp_path, rows)
        if not args.skip_api:
            api_post(rows)
        if args.million:
            million_on_postgres(args.vouchers, args.pg_url, tmp_path, rows)
    text = table(rows)
    env = environment()
    print()
    print(text)
    print(f"\n{env}")
    if args.write_readme:
        write_readme(f"## bench_ledger.py\n\n{env}.\n\n{text}")


if __name__ == "__main__":
    main()
