# SPDX-License-Identifier: AGPL-3.0-or-later
"""The whole benchmark in one run (``bench/run`` calls this; a script, not a test).

For each size (``--quick``: 2,000 and 10,000 transactions; full: 2,000, 10k, 100k, 1M) it
generates one
deterministic journal (``tests/ledger/journal.py``, seed 1), then on the same file and in the
same run:

* imports it with ``flask ledger import-beancount`` into SQLite and into PostgreSQL (the one
  posting engine: vouchers, lines, history, Merkle log) and runs ``bean-check --no-cache`` on it
  (wall, CPU and peak RSS of each process, alternating, repeated);
* times the trial balance and the balance sheet on each stored book (in a fresh process) and
  runs ``hledger bal`` and ``ledger bal`` on our hledger export of the same book;
* runs the existing benchmarks at that size (``bench_log`` on both databases, ``bench_merkle``,
  ``bench_verify``, ``bench_points reconcile`` at 10,000 holders);

and once per run: ``bench_api_post``, ``bench_points redeem``, ``bench_property`` and
``bench_dividend`` (both databases), ``bench_pdf`` when present, and the load benchmarks under
gunicorn (``bench_load``: concurrent posting, public pages with and without the read replica).

A full run takes hours: ``--carry FILE`` takes an earlier run's ``results.json`` and adds its
rows of the per-size steps (import, reports, Merkle log, Merkle maths, verifier, points
reconciliation) at the sizes this run did not run for that step, marked with that run's date in
RESULTS.md (†) and in the targets table.

It writes ``bench/RESULTS.md`` (medians, spreads, ratios, peak RSS, the machine) and SVG growth
charts ``bench/growth_*.svg`` (matplotlib, from the ``bench`` extra).

Usage (normally through ``bench/run``)::

    .venv/bin/python bench/suite.py --pg-admin URL [--replica-url URL] [--quick] [--sizes 2000,10000]
        [--only import,dividend] [--carry bench/results.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

VENV_BIN = Path(sys.executable).parent
FLASK = str(VENV_BIN / "flask")
BEAN_CHECK = str(VENV_BIN / "bean-check") if (VENV_BIN / "bean-check").exists() else None
HLEDGER = shutil.which("hledger")
LEDGER = shutil.which("ledger")
PY = sys.executable


# --- measuring a process -----------------------------------------------------------------------


class Proc:
    """Wall seconds, CPU seconds (user + system, the process and its waited-for children) and
    peak RSS (MiB, the largest single process: ``ru_maxrss``, spawned by bench/spawn_rss.py so
    that the benchmark's own size does not count) of one command."""

    def __init__(self, cmd: list[str], env: dict | None = None, timeout: float = 3600):
        rss_file = tempfile.NamedTemporaryFile(prefix="rss-", delete=False)
        rss_file.close()
        cmd = [PY, "-S", str(BENCH / "spawn_rss.py"), rss_file.name, *cmd]
        with tempfile.TemporaryFile("w+") as out:
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
            deadline = t0 + timeout
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    p.kill()
                time.sleep(0.005)
            self.wall = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
            self.rc = p.returncode
            self.cpu = ru.ru_utime + ru.ru_stime
            try:
                self.rss = int(Path(rss_file.name).read_text() or 0) / 1024
            except (OSError, ValueError):
                self.rss = ru.ru_maxrss / 1024
            Path(rss_file.name).unlink(missing_ok=True)
            out.seek(0)
            self.out = out.read()

    def check(self, what: str) -> Proc:
        if self.rc != 0:
            raise RuntimeError(f"{what} failed ({self.rc}):\n{self.out[-3000:]}")
        return self


def spread(xs: list[float]) -> str:
    return f"{min(xs):.3g}–{max(xs):.3g}" if len(xs) > 1 else "one run"


class Results:
    """Every figure of the run: (group, measure, backend, size) → samples, unit, peak RSS."""

    def __init__(self) -> None:
        self.run = dt.datetime.now().strftime("%Y-%m-%d %H:%M")  # this run's start
        self.rows: list[dict] = []
        self.raw: list[tuple[str, str]] = []
        self.failures: list[str] = []
        self.notes: list[str] = []

    def add(self, group, measure, backend, size, samples, unit, rss=None, cpu=None) -> None:
        samples = [float(s) for s in samples]
        self.rows.append(
            dict(
                group=group,
                measure=measure,
                backend=backend,
                size=size,
                samples=samples,
                median=statistics.median(samples),
                unit=unit,
                rss=rss,
                cpu=statistics.median(cpu) if cpu else None,
                run=self.run,
            )
        )
        print(
            f"  {group} | {measure} | {backend} | {size}: {statistics.median(samples):.4g} {unit}"
            + (f", peak RSS {rss:.0f} MiB" if rss else ""),
            flush=True,
        )

    def get(self, measure, backend=None, size=None):
        for r in self.rows:
            if (
                r["measure"] == measure
                and (backend is None or r["backend"] == backend)
                and (size is None or r["size"] == size)
            ):
                return r
        return None

    def failed(self, what: str, exc: BaseException) -> None:
        text = f"{what}: {exc}"
        print("FAILED", text[:2000], flush=True)
        self.failures.append(text[:1500])


R = Results()


def step(what: str):
    """Run a benchmark step; a failure is recorded in RESULTS.md and the run goes on."""

    def wrap(fn):
        def inner(*a, **kw):
            print(f"== {what}", flush=True)
            try:
                return fn(*a, **kw)
            except Exception as exc:  # noqa: BLE001 - a benchmark step's failure is a finding
                R.failed(what, RuntimeError(f"{exc}\n{traceback.format_exc()[-1500:]}"))
                return None

        return inner

    return wrap


def app_env(url: str, instance: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "COMMONS_"))}
    env.update(
        FLASK_APP="wsgi",
        DATABASE_URL=url,
        COMMONS_INSTANCE_PATH=str(instance),
        SECRET_KEY="bench",
        PYTHONPATH=str(ROOT),
    )
    key = instance / "field_key"
    instance.mkdir(parents=True, exist_ok=True)
    if not key.exists():
        from cryptography.fernet import Fernet

        key.write_text(Fernet.generate_key().decode())
    env["COMMONS_FIELD_KEY"] = key.read_text().strip()
    return env


def pg_database(admin: str, name: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return sa.engine.make_url(admin).set(database=name).render_as_string(hide_password=False)


def repeats(n: int) -> int:
    return 3 if n <= 10_000 else (2 if n <= 100_000 else 1)


# --- per size: import, peers, reports ----------------------------------------------------------


@step("import and peers")
def import_and_peers(n: int, tmp: Path, admin: str) -> dict:
    from tests.ledger.journal import generate_journal

    journal = tmp / f"journal-{n}.beancount"
    t0 = time.perf_counter()
    journal.write_text(generate_journal(n, seed=1, start=dt.date(2023, 1, 1)), encoding="utf-8")
    print(f"  journal of {n:,} transactions in {time.perf_counter() - t0:.1f} s", flush=True)
    books = {}
    runs: dict[str, list[Proc]] = {"sqlite": [], "postgresql": [], "bean-check": []}
    for attempt in range(repeats(n)):
        for backend in ("sqlite", "postgresql"):
            url = (
                f"sqlite:///{tmp / f'import-{n}-{attempt}.sqlite3'}"
                if backend == "sqlite"
                else pg_database(admin, f"bench_import_{n}_{attempt}")
            )
            env = app_env(url, tmp / "instance")
            Proc([FLASK, "db", "upgrade"], env).check("flask db upgrade")
            p = Proc(
                [FLASK, "ledger", "import-beancount", str(journal), "--organisation", "基准合作社"],
                env,
            ).check(f"import {n} into {backend}")
            runs[backend].append(p)
            books[backend] = (url, int(re.search(r"^book (\d+)$", p.out, re.M).group(1)))
        if BEAN_CHECK:
            runs["bean-check"].append(
                Proc([BEAN_CHECK, "--no-cache", str(journal)]).check("bean-check")
            )
    for backend, ps in runs.items():
        if not ps:
            continue
        name = "bean-check --no-cache" if backend == "bean-check" else "import-beancount"
        R.add(
            "import",
            name,
            backend if backend != "bean-check" else "beancount",
            n,
            [p.wall for p in ps],
            "s",
            rss=max(p.rss for p in ps),
            cpu=[p.cpu for p in ps],
        )
    # the stored books: reports in a fresh process, and the export for the peers
    export = tmp / f"book-{n}.journal"
    for backend, (url, book_id) in books.items():
        p = Proc(
            [
                PY,
                str(BENCH / "suite.py"),
                "_reports",
                url,
                str(book_id),
                str(export) if backend == "sqlite" else "-",
            ],
            app_env(url, tmp / "instance"),
        ).check(f"reports on {backend}")
        figures = json.loads(p.out.strip().splitlines()[-1])
        for measure, samples in figures.items():
            R.add("reports", measure, backend, n, samples, "ms")
    for name, tool in (("hledger", HLEDGER), ("ledger", LEDGER)):
        if not tool:
            continue
        ps = [Proc([tool, "-f", str(export), "bal"]) for _ in range(repeats(n))]
        if any(p.rc != 0 for p in ps):
            R.failed(f"{name} bal", RuntimeError(ps[0].out[-500:]))
            continue
        R.add(
            "reports",
            f"{name} bal",
            name,
            n,
            [p.wall * 1000 for p in ps],
            "ms",
            rss=max(p.rss for p in ps),
            cpu=[p.cpu for p in ps],
        )
    return books


def reports_child(url: str, book_id: int, export: str) -> None:
    """(In a fresh process.) Time the stored book's reports; write the hledger export."""
    from cryptography.fernet import Fernet

    from core.app import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "FIELD_KEY": Fernet.generate_key().decode(),
        }
    )
    with app.app_context():
        import sqlalchemy as sa

        from core.db import db
        from core.errors import InvalidInput
        from ledger.reports import account_balances, balance_sheet, trial_balance
        from ledger.services import get_book

        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        book = get_book(book_id)
        last = db.session.scalar(sa.text(f"SELECT max(date) FROM vouchers WHERE book_id={book_id}"))
        last = last if isinstance(last, dt.date) else dt.date.fromisoformat(str(last)[:10])
        month_end = last.replace(day=1) - dt.timedelta(days=1)
        inside = month_end.replace(day=17)
        measures = {
            "trial balance, all history": lambda: account_balances(book),
            "trial balance report, one month": lambda: trial_balance(
                book, start=month_end.replace(day=1), end=month_end
            ),
            "trial balance report to a day inside a month": lambda: trial_balance(
                book, start=month_end.replace(month=1, day=1), end=inside
            ),
            "balance sheet at a month end": lambda: balance_sheet(book, as_of=month_end),
            "balance sheet inside a month": lambda: balance_sheet(book, as_of=inside),
        }
        out = {}
        for name, fn in measures.items():
            try:
                fn()
            except InvalidInput:
                # the imported book keeps the journal's own chart: statements need a standard
                # one (bench_ledger.py --million times them on an SME book)
                continue
            samples = []
            for _ in range(15):
                db.session.expire_all()
                t = time.perf_counter()
                fn()
                samples.append((time.perf_counter() - t) * 1000)
            out[name] = samples
        if export != "-":
            from ledger.beancount_export import book_journal
            from ledger.plaintext import write_hledger

            Path(export).write_text(write_hledger(book_journal(book)), encoding="utf-8")
    print(json.dumps(out))


# --- per size: the existing benchmarks ----------------------------------------------------------

_MS = re.compile(r"^\s*(.+?)\s+median\s+([\d.]+) (ms|us)\s+p99\s+([\d.]+) (?:ms|us)", re.M)


def _script(args: list[str], what: str, timeout: float = 3600) -> Proc:
    p = Proc([PY, *args], timeout=timeout)
    R.raw.append((what, p.out[-4000:]))
    return p.check(what)


@step("bench_log")
def log_bench(n: int, admin: str) -> None:
    for backend, extra in (("sqlite", []), ("postgresql", ["--postgres", admin, "--skip-sqlite"])):
        p = _script(
            [str(BENCH / "bench_log.py"), "--leaves", str(n), "--repeat", "100", *extra],
            f"bench_log.py --leaves {n} ({backend})",
        )
        for m in _MS.finditer(p.out):
            R.add("merkle log (database)", m.group(1).strip(), backend, n, [m.group(2)], "ms")
        R.rows[-1]["rss"] = p.rss


@step("bench_merkle")
def merkle_bench(n: int) -> None:
    p = _script(
        [str(BENCH / "bench_merkle.py"), "--leaves", str(n), "--queries", "500"],
        f"bench_merkle.py --leaves {n}",
    )
    for m in _MS.finditer(p.out):
        R.add("merkle maths", m.group(1).strip(), "memory", n, [m.group(2)], "µs", rss=p.rss)


@step("bench_verify")
def verify_bench(n: int) -> None:
    if n > 100_000:
        R.notes.append(f"bench_verify: not run at {n:,} (its target is stated at 100,000 records)")
        return
    p = _script(
        [str(BENCH / "bench_verify.py"), "--records", str(n), "--runs", "1"],
        f"bench_verify.py --records {n}",
    )
    m = re.search(r"wall median ([\d.]+) s", p.out)
    if m:
        R.add("verifier", "python -m transparency.verify", "file", n, [m.group(1)], "s", rss=p.rss)


@step("bench_points reconcile")
def points_reconcile(size: int, admin: str) -> None:
    # The target is stated at 10,000 holders: 10,000 at every size, with the size's number of
    # movements (at least 20,000, two per holder).
    holders, movements = POINTS_HOLDERS, max(size, 20_000)
    p = _script(
        [
            str(BENCH / "bench_points.py"),
            "reconcile",
            "--pg",
            admin,
            "--holders",
            str(holders),
            "--movements",
            str(movements),
        ],
        f"bench_points.py reconcile --holders {holders} --movements {movements}",
    )
    m = re.search(r"reconcile \((\d+) holders.*?median ([\d.]+) ms", p.out)
    if not m:
        raise RuntimeError("bench_points.py reconcile printed no median")
    R.add(
        "domains",
        f"points reconciliation ({m.group(1)} holders; movements: the size, at least 20,000)",
        "postgresql",
        size,
        [m.group(2)],
        "ms",
        rss=p.rss,
    )


# --- once per run -------------------------------------------------------------------------------


@step("bench_api_post")
def api_post(vouchers: int) -> None:
    p = _script(
        [str(BENCH / "bench_api_post.py"), "--vouchers", str(vouchers)], "bench_api_post.py"
    )
    m = re.search(r"median ([\d.]+) ms\s+p90 ([\d.]+) ms\s+min ([\d.]+) ms\s+max ([\d.]+)", p.out)
    R.add(
        "API",
        "POST …/vouchers/<id>/post (median; min and max as spread)",
        "sqlite",
        vouchers,
        [m.group(3), m.group(1), m.group(4)],
        "ms",
        rss=p.rss,
    )


@step("bench_points redeem")
def points_redeem(count: int) -> None:
    p = _script(
        [str(BENCH / "bench_points.py"), "redeem", "--n", str(count)], "bench_points redeem"
    )
    m = re.search(r"median ([\d.]+) ms", p.out)
    if m:
        R.add("domains", "points redemption via the API", "sqlite", count, [m.group(1)], "ms")


@step("bench_property")
def property_bench(years: int, admin: str) -> None:
    p = _script(
        [str(BENCH / "bench_property.py"), "--units", "3000", "--years", str(years), "--pg", admin],
        f"bench_property.py --units 3000 --years {years}",
    )
    for m in re.finditer(
        r"^(\w+): billing run of (\d+) units: first ([\d.]+) s wall.*?history ([\d.]+) s wall",
        p.out,
        re.M,
    ):
        backend = "postgresql" if "postgres" in m.group(1).lower() else "sqlite"
        R.add(
            "domains",
            "billing run, 3,000 units (empty book, then with history)",
            backend,
            years,
            [m.group(3), m.group(4)],
            "s",
        )
    for m in re.finditer(r"^(\w+): owners' statement.*?median (\d+) ms", p.out, re.M):
        backend = "postgresql" if "postgres" in m.group(1).lower() else "sqlite"
        R.add("domains", "owners' statement", backend, years, [m.group(2)], "ms")


POINTS_HOLDERS = 10_000
DIVIDEND_HOLDERS = 1_000
DIVIDEND_MEASURE = "dividend to 1,000 shareholders: declare + pay all (pay_dividends)"


@step("bench_dividend")
def dividend_bench(runs: int, each_runs: int, admin: str) -> None:
    p = _script(
        [
            str(BENCH / "bench_dividend.py"),
            "--holders",
            str(DIVIDEND_HOLDERS),
            "--runs",
            str(runs),
            "--each-runs",
            str(each_runs),
            "--pg",
            admin,
        ],
        f"bench_dividend.py --runs {runs} --each-runs {each_runs}",
    )
    found = 0
    for line in p.out.splitlines():
        if not line.startswith("RESULT "):
            continue
        f = json.loads(line[len("RESULT ") :])
        backend, n = f["backend"], f["holders"]
        R.add("domains", DIVIDEND_MEASURE, backend, n, f["total_wall"], "s", cpu=f["total_cpu"])
        R.add(
            "domains",
            "dividend: declare (declare_dividend)",
            backend,
            n,
            f["declare_wall"],
            "s",
            cpu=f["declare_cpu"],
        )
        R.add(
            "domains",
            "dividend: pay all (pay_dividends)",
            backend,
            n,
            f["pay_wall"],
            "s",
            cpu=f["pay_cpu"],
        )
        if f["each_wall"]:
            R.add(
                "domains",
                "dividend: pay line by line (pay_dividend, a commit each)",
                backend,
                n,
                f["each_wall"],
                "s",
                cpu=f["each_cpu"],
            )
        found += 1
    if found != 2:
        raise RuntimeError(f"bench_dividend.py: {found} backends reported, expected 2")


@step("bench_pdf")
def pdf_bench() -> None:
    script = BENCH / "bench_pdf.py"
    if not script.exists():
        R.notes.append("bench_pdf.py is not in this tree: no PDF comparison in this run")
        return
    p = _script([str(script)], "bench_pdf.py", timeout=1200)
    rows = re.search(r"general ledger: \d+ accounts, (\d+) table rows", p.out)
    n = int(rows.group(1)) if rows else 2000
    for label, measure in (
        ("baseline (one auto-layout table)", PDF_NAIVE),
        ("ours (ledger.pdf.report_pdf)", PDF_OURS),
    ):
        m = re.search(rf"^{re.escape(label)}:\s+([\d.]+)\s+([\d.]+)\s+(\d+)", p.out, re.M)
        if m:
            R.add(
                "pdf",
                measure,
                "weasyprint",
                n,
                [m.group(1)],
                "s",
                rss=p.rss,
                cpu=[float(m.group(2))],
            )
    if not rows:
        R.notes.append("bench_pdf.py ran but printed no figures: see 'Raw output' below")


PDF_NAIVE = "general ledger as PDF: a plain single-table WeasyPrint render (the naive one)"
PDF_OURS = "general ledger as PDF: ours (ledger.pdf.report_pdf)"


@step("load benchmarks (gunicorn)")
def load_bench(admin: str, replica: str | None, quick: bool) -> None:
    script = BENCH / "bench_load.py"
    if not script.exists():
        R.notes.append("bench_load.py missing: no load figures")
        return
    args = [str(script), "--pg-admin", admin, "--json"]
    if replica:
        args += ["--replica-url", replica]
    if quick:
        args.append("--quick")
    p = Proc([PY, *args], timeout=1800)
    R.raw.append(("bench_load.py", p.out[-6000:]))
    try:
        rows = json.loads(p.out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        rows = []
    for row in rows:
        R.add(**row)
    p.check("bench_load.py")


# --- the report ---------------------------------------------------------------------------------


def machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass

    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not installed"

    try:
        import beancount

        bc = beancount.__version__
    except Exception:  # noqa: BLE001
        bc = "not installed"
    return [
        f"{cpu}, {os.cpu_count()} CPUs{mem}; {platform.platform()}",
        f"CPython {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
        f"hledger: {version([HLEDGER, '--version']) if HLEDGER else 'not installed'}; "
        f"ledger: {version([LEDGER, '--version']) if LEDGER else 'not installed'}; "
        f"beancount {bc} (`bean-check`, run as a separate process)",
    ]


def fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if x >= 0.1 else f"{x:.3f}"


def load_table(rows: list[dict]) -> list[str]:
    """The load figures: one row each, with the number of requests or vouchers it counted.
    Each public-page row names its load shape: paced (a fixed rate offered, the figure the
    target is judged on) or maximum throughput (a closed loop: every connection sends again as
    soon as it is answered)."""
    out = [
        "| measure | backend | figure | spread (percentiles, min–max) | count |",
        "|---|---|---:|---|---:|",
    ]
    for r in rows:
        x = r["samples"]
        if "p50/p90/p99/max" in r["measure"]:
            u = r["unit"]
            figure = f"p50 {fmt(x[0])} {u}"
            extra = f"p90 {fmt(x[1])}, p99 {fmt(x[2])}, max {fmt(x[3])} {u}"
        elif "p50/p99" in r["measure"]:
            figure, extra = f"p50 {fmt(x[0])} {r['unit']}", f"p99 {fmt(x[-1])} {r['unit']}"
        elif "later than their arrival time" in r["measure"]:
            figure, extra = f"{x[0]:,.0f} requests", f"latest by {fmt(x[1])} ms"
        else:
            figure, extra = f"{fmt(r['median'])} {r['unit']}", spread(x) if len(x) > 1 else ""
        out.append(f"| {r['measure']} | {r['backend']} | {figure} | {extra} | {r['size']:,} |")
    return out


def growth_table(group: str, sizes: list[int], all_rows: list[dict] | None = None) -> list[str]:
    rows = [r for r in (R.rows if all_rows is None else all_rows) if r["group"] == group]
    if not rows:
        return []
    if group == "load":
        return load_table(rows)
    keys = []
    for r in rows:
        k = (r["measure"], r["backend"], r["unit"])
        if k not in keys:
            keys.append(k)
    sz = sorted({r["size"] for r in rows})
    head = "| measure | backend | " + " | ".join(f"{s:,}" for s in sz) + " | peak RSS (largest) |"
    out = [head, "|---|---|" + "---:|" * len(sz) + "---:|"]
    for measure, backend, unit in keys:
        cells, rss = [], []
        for s in sz:
            r = next(
                (
                    x
                    for x in rows
                    if (x["measure"], x["backend"], x["size"]) == (measure, backend, s)
                ),
                None,
            )
            if r is None:
                cells.append("")
                continue
            cell = f"{fmt(r['median'])} {unit}"
            if r.get("carried"):
                cell = f"{CARRIED_MARK} {cell}"
            if len(r["samples"]) > 1:
                cell += f" ({spread(r['samples'])})"
            if r["cpu"] is not None:
                cell += f"; CPU {fmt(r['cpu'])} s"
            cells.append(cell)
            if r["rss"]:
                rss.append(r["rss"])
        out.append(
            f"| {measure} | {backend} | "
            + " | ".join(cells)
            + f" | {f'{max(rss):,.0f} MiB' if rss else ''} |"
        )
    return out


CARRIED_MARK = "†"
# The per-size steps whose rows --carry takes from an earlier run (the once-per-run steps are
# quick enough to run every time).
CARRIED_KINDS = (
    "import",
    "reports",
    "merkle log (database)",
    "merkle maths",
    "verifier",
    "points reconciliation",
)


def step_kind(row: dict) -> str:
    """The step a row comes from: its group, or for the domains' rows the measure's name."""
    if row["group"] == "domains" and row["measure"].startswith("points reconciliation"):
        return "points reconciliation"
    return row["group"]


def carry(rows: list[dict], path: Path) -> list[dict]:
    """The rows of an earlier run's ``results.json`` (``path``) of the per-size steps at the
    sizes this run (``rows``) did not run for that step, each marked ``carried`` and keeping
    the date of the run that measured it (``run``; for a file from before rows had one, the
    date its RESULTS.md beside it was written, else the file's modification time)."""
    old = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(old, list):
        raise ValueError(f"{path}: not a results.json (a list of rows)")
    fallback = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    report = path.with_name("RESULTS.md")
    if report.exists():
        m = re.search(
            r"^Written by .*? on (\d{4}-\d\d-\d\d \d\d:\d\d)",
            report.read_text(encoding="utf-8"),
            re.M,
        )
        fallback = m.group(1) if m else fallback
    here = {(step_kind(r), r["size"]) for r in rows}
    out = []
    for r in old:
        kind = step_kind(r)
        if kind not in CARRIED_KINDS or (kind, r["size"]) in here:
            continue
        out.append({**r, "run": r.get("run") or fallback, "carried": True})
    return out


def carried_note(rows: list[dict], this_run: str) -> list[str]:
    """The header lines saying which figures come from which run."""
    by_run: dict[str, dict[str, set[int]]] = {}
    for r in rows:
        if r.get("carried"):
            by_run.setdefault(r["run"], {}).setdefault(step_kind(r), set()).add(r["size"])
    if not by_run:
        return []
    out = [
        f"Cells marked {CARRIED_MARK} are carried from an earlier run (`--carry`), not measured "
        f"in this run (started {this_run}):"
    ]
    for run, kinds in sorted(by_run.items()):
        what = "; ".join(
            f"{kind} at {', '.join(f'{n:,}' for n in sorted(sizes))}"
            for kind, sizes in sorted(kinds.items())
        )
        out.append(f"- from the run of {run}: {what}")
    return out


def ratios(sizes: list[int]) -> list[str]:
    out = ["| size | ratio | value | target |", "|---:|---|---:|---|"]
    for n in sizes:
        bc = R.get("bean-check --no-cache", "beancount", n)
        for backend in ("sqlite", "postgresql"):
            ours = R.get("import-beancount", backend, n)
            if bc and ours:
                if bc.get("carried") or ours.get("carried"):
                    n_label = f"{CARRIED_MARK} {n:,}"
                else:
                    n_label = f"{n:,}"
                out.append(
                    f"| {n_label} | import ({backend}) / bean-check, wall (median/median) | "
                    f"{ours['median'] / bc['median']:.2f} | ≤ 0.8 at 100k; ≤ 2 at 2,000 |"
                )
                out.append(
                    f"| {n_label} | import ({backend}) / bean-check, CPU | "
                    f"{ours['cpu'] / bc['cpu']:.2f} | — |"
                )
                out.append(
                    f"| {n_label} | import ({backend}) / bean-check, peak RSS | "
                    f"{ours['rss'] / bc['rss']:.2f} | ≤ 1 at 100k |"
                )
        peers = [
            r for r in (R.get("hledger bal", "hledger", n), R.get("ledger bal", "ledger", n)) if r
        ]
        if peers:
            fastest = min(peers, key=lambda r: r["median"])
            for backend in ("sqlite", "postgresql"):
                tb = R.get("trial balance, all history", backend, n)
                if tb:
                    out.append(
                        f"| {n:,} | fastest peer ({fastest['measure']}) / our trial balance "
                        f"({backend}) | {fastest['median'] / tb['median']:,.0f}× | ≥ 100× at 100k |"
                    )
    return out


def targets(rows: list[dict]) -> list[str]:
    """Issue 15's targets against this run's figures (and those carried from an earlier run,
    named with its date): met, missed, or not measured here."""

    def find(measure, backend=None, size=None, prefix=False):
        hits = [
            r
            for r in rows
            if (r["measure"].startswith(measure) if prefix else r["measure"] == measure)
            and (backend is None or r["backend"] == backend)
            and (size is None or r["size"] == size)
        ]
        return max(hits, key=lambda r: r["size"]) if hits else None

    out = ["| target | measured (in this run unless said) | verdict |", "|---|---|---|"]

    def line(target, value, ok, *used, verdict=None):
        if verdict is None:
            verdict = "not measured in this run" if ok is None else ("met" if ok else "**missed**")
        runs = sorted({r["run"] for r in used if r and r.get("carried")})
        if runs:
            value += f" ({CARRIED_MARK} from the run of {', '.join(runs)})"
        out.append(f"| {target} | {value} | {verdict} |")

    sizes = sorted({r["size"] for r in rows if r["group"] == "import"})
    # The 2,000-transaction target at 2,000, or (a run with --sizes without it) the nearest size.
    near = min(sizes, key=lambda n: (abs(n - 2_000), n)) if sizes else 0
    for n, target, limit in ((100_000, "≤ 0.8× at 100k", 0.8), (near, "", 2.0)):
        bc, ours = find("bean-check --no-cache", size=n), find("import-beancount", "sqlite", n)
        if n and bc and ours:
            label = target or (
                "≤ 2× at 2,000" if n == 2_000 else f"≤ 2× at 2,000 (nearest size here: {n:,})"
            )
            r = ours["median"] / bc["median"]
            line(f"import wall / bean-check, {label}", f"{r:.2f}× ({n:,})", r <= limit, bc, ours)
        elif n == 100_000:
            line("import wall / bean-check ≤ 0.8× at 100k; peak RSS ≤ 1×", "", None)
    bc, ours = (
        find("bean-check --no-cache", size=100_000),
        find("import-beancount", "sqlite", 100_000),
    )
    if bc and ours:
        r = ours["rss"] / bc["rss"]
        line("import peak RSS ≤ 1× bean-check at 100k", f"{r:.2f}×", r <= 1, bc, ours)
    big = find("import-beancount", "postgresql", 1_000_000)
    line(
        "1M-transaction import peak RSS < 1.5 GiB",
        f"{big['rss']:,.0f} MiB" if big else "",
        None if not big else big["rss"] < 1536,
        big,
    )
    tb = find("trial balance, all history", "sqlite")
    peers = [
        p for p in (find("hledger bal"), find("ledger bal")) if p and tb and p["size"] == tb["size"]
    ]
    if tb and peers:
        fastest = min(peers, key=lambda p: p["median"])
        r = fastest["median"] / tb["median"]
        line(
            "trial balance ≥ 100× faster than the fastest peer (at 100k)",
            f"{r:,.0f}× at {tb['size']:,} ({fastest['measure']})",
            r >= 100 if tb["size"] >= 100_000 else None,
            tb,
            fastest,
        )
    for m in ("trial balance, all history", "trial balance report to a day inside a month"):
        r = find(m, "postgresql", 1_000_000)
        line(
            f"{m} < 20 ms at 1M (PostgreSQL)",
            f"{r['median']:.1f} ms" if r else "",
            None if not r else r["median"] < 20,
            r,
        )
    r = find("POST …/vouchers", "sqlite", prefix=True)
    line(
        "API post median < 8 ms (SQLite)",
        f"{r['median']:.2f} ms" if r else "",
        None if not r else r["median"] < 8,
    )
    for m, limit in (
        ("posting: 8 clients into one book, vouchers/s", 300),
        ("posting: 8 clients into 8 books, vouchers/s", 1000),
    ):
        r = find(m)
        line(
            f"{m} ≥ {limit}",
            f"{r['median']:.0f}" if r else "",
            None if not r else r["median"] >= limit,
        )
    r = find("posting: books failing", prefix=True)
    line(
        "gapless numbers, log and audit after the posting load",
        f"{r['median']:.0f} books failing" if r else "",
        None if not r else r["median"] == 0,
    )
    logs = [x for x in rows if x["group"] == "merkle log (database)"]
    if logs:
        n = max(x["size"] for x in logs)
        worst = max((x for x in logs if x["size"] == n), key=lambda x: x["median"])
        line(
            f"Merkle log ops < 5 ms (at 1M; largest here {n:,})",
            f"worst {worst['measure']} ({worst['backend']}) {worst['median']:.2f} ms",
            worst["median"] < 5 if n >= 1_000_000 else None,
            worst,
        )

    # Public pages: judged on the paced run (a fixed rate offered on 100 connections, as a crowd
    # of residents arrives: bench_load offers a little more than 500 req/s so that ≥ 500 are
    # achieved when the server keeps up); the closed loop's figures (every connection sends
    # again as soon as it is answered: the most the server does, with latencies that Little's
    # law sets near 100 connections / rate) are shown beside it, not judged.
    def public(shape: str, what: str, label: str):
        hits = [
            r
            for r in rows
            if r["measure"].startswith(f"public pages, {shape}")
            and r["measure"].endswith(f": {what} ({label})")
        ]
        return hits[-1] if hits else None

    for label in ("primary only", "with the read replica"):
        rps = public("paced", "achieved req/s", label)
        lat = public("paced", "latency p50/p90/p99/max", label)
        if rps and lat:
            offered = rps["measure"].split(": ")[0].removeprefix("public pages, ")
            p50, p99 = lat["samples"][0], lat["samples"][2]
            line(
                f"public pages p99 < 50 ms while ≥ 500 req/s are achieved, under a paced load "
                f"({offered}; {label})",
                f"paced: {rps['median']:.0f} req/s achieved, p50 {p50:,.1f} ms, p99 {p99:,.0f} ms",
                p99 < 50 and rps["median"] >= 500,
            )
        top = public("maximum throughput", "achieved req/s", label)
        top_lat = public("maximum throughput", "latency p50/p90/p99/max", label)
        if top and top_lat:
            line(
                f"(context) maximum throughput: closed loop, 100 connections ({label})",
                f"closed loop: {top['median']:.0f} req/s, p50 {top_lat['samples'][0]:,.0f} ms, "
                f"p99 {top_lat['samples'][2]:,.0f} ms",
                None,
                verdict="shown beside the paced figure, not judged",
            )
    r = find("billing run, 3,000 units", "postgresql", prefix=True)
    line(
        "billing run, 3,000 units < 3 s (PostgreSQL, with history)",
        f"{max(r['samples']):.2f} s" if r else "",
        None if not r else max(r["samples"]) < 3,
    )
    r = find(f"points reconciliation ({POINTS_HOLDERS} holders", prefix=True)
    line(
        "points reconciliation, 10,000 holders < 200 ms",
        f"{r['median']:.1f} ms (10,000 holders, PostgreSQL, at size {r['size']:,})" if r else "",
        None if not r else r["median"] < 200,
        r,
    )
    divs = [d for d in (find(DIVIDEND_MEASURE, b) for b in ("sqlite", "postgresql")) if d]
    line(
        "dividend to 1,000 shareholders < 2 s (declare + pay, each backend)",
        "; ".join(f"{d['backend']} {d['median']:.2f} s wall (CPU {d['cpu']:.2f} s)" for d in divs),
        None if not divs else all(d["median"] < 2 for d in divs),
        *divs,
    )
    naive, ours = find(PDF_NAIVE), find(PDF_OURS)
    if naive and ours:
        r = ours["median"] / naive["median"]
        cpu = ours["cpu"] / naive["cpu"] if ours.get("cpu") and naive.get("cpu") else None
        line(
            "PDF: 2,000-line general ledger ≤ 0.5× the naive render (wall)",
            f"{r:.2f}× wall ({ours['median']:.2f} s against {naive['median']:.2f} s, "
            f"{ours['size']:,} rows)"
            + (f"; CPU {cpu:.2f}× (rendered on both cores)" if cpu else ""),
            r <= 0.5,
            naive,
            ours,
        )
    else:
        line("PDF: 2,000-line general ledger ≤ 0.5× the naive render", "", None)
    return out


def charts(sizes: list[int]) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        R.notes.append("matplotlib is not installed (pip install -e '.[bench]'): no charts")
        return []
    made = []
    plots = (
        ("growth_import.svg", "import wall time (s)", "import", "s", None),
        ("growth_reports.svg", "report time (ms)", "reports", "ms", None),
        ("growth_log.svg", "Merkle log operation (ms)", "merkle log (database)", "ms", None),
        ("growth_rss.svg", "peak RSS of the import (MiB)", "import", "s", "rss"),
    )
    for name, title, group, unit, field in plots:
        rows = [r for r in R.rows if r["group"] == group and r["unit"] == unit]
        series: dict[str, list[tuple[int, float]]] = {}
        for r in rows:
            value = r["rss"] if field == "rss" else r["median"]
            if value:
                series.setdefault(f"{r['measure']} ({r['backend']})", []).append((r["size"], value))
        series = {k: sorted(v) for k, v in series.items() if len(v) > 1}
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(7, 4.2))
        for label, pts in series.items():
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("transactions (log scale)")
        ax.set_ylabel(title)
        ax.set_title(title + " as history grows")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(BENCH / name, format="svg", metadata={"Date": None})
        plt.close(fig)
        made.append(name)
    return made


def write_results(args, sizes: list[int], started: float, load0: tuple, env_lines: list[str]):
    made = charts(sizes)
    load1 = os.getloadavg()
    lines = [
        "# Benchmark results",
        "",
        f"Written by `bench/run{' --quick' if args.quick else ''}` on "
        f"{dt.datetime.now():%Y-%m-%d %H:%M} in {(time.time() - started) / 60:.1f} min "
        f"(started {R.run}; sizes {', '.join(f'{s:,}' for s in sizes)} transactions).",
        "",
        *carried_note(R.rows, R.run),
        *([""] if any(r.get("carried") for r in R.rows) else []),
        "## Machine",
        "",
        *[f"- {x}" for x in env_lines],
        f"- load average {load0[0]:.1f} at the start, {load1[0]:.1f} at the end "
        "(a shared machine: other engineers' work runs at the same time, so compare the "
        "ratios measured within this run, not absolute figures across runs)",
        "- PostgreSQL servers: started by `bench/run` for this run in temporary directories "
        "(fsync off, synchronous_commit on, random_page_cost 1.1 as the README recommends), "
        "a primary and a streaming replica",
        "",
        "Each cell is the median, with the spread (min–max) of the runs in brackets; peak RSS is "
        "`ru_maxrss` of the process (the largest single process of the command).",
        "",
    ]
    sections = (
        ("Import (the one posting engine) against beancount", "import"),
        ("Reports on the stored book against the peers (which re-read the journal)", "reports"),
        ("Merkle log in the database", "merkle log (database)"),
        ("Merkle maths in memory", "merkle maths"),
        ("Standalone verifier", "verifier"),
        ("API", "API"),
        ("Domains' bulk runs", "domains"),
        ("PDF statements", "pdf"),
        ("Load under gunicorn (`./serve`)", "load"),
    )
    for title, group in sections:
        table = growth_table(group, sizes)
        if table:
            lines += [f"## {title}", "", *table, ""]
    lines += ["## Targets (issue 15)", "", *targets(R.rows), ""]
    all_sizes = sorted({*sizes, *(r["size"] for r in R.rows if r["group"] == "import")})
    lines += [f"## Ratios (this run; {CARRIED_MARK}: carried)", "", *ratios(all_sizes), ""]
    if made:
        lines += ["## Growth charts", ""] + [f"![{m}]({m})" for m in made] + [""]
    if R.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in R.notes], ""]
    if R.failures:
        lines += ["## Failures in this run", ""]
        for f in R.failures:
            lines += ["```", f, "```"]
        lines.append("")
    extra = BENCH / "RESULTS.notes.md"
    if extra.exists():
        lines += [extra.read_text(encoding="utf-8").strip(), ""]
    lines += ["## Raw output of the scripts", ""]
    for what, out in R.raw:
        lines += [
            f"<details><summary>{what}</summary>",
            "",
            "```",
            out.strip(),
            "```",
            "</details>",
        ]
    (BENCH / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (BENCH / "results.json").write_text(json.dumps(R.rows, indent=1), encoding="utf-8")
    print(f"wrote bench/RESULTS.md, charts: {', '.join(made) or 'none'}")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_reports":
        reports_child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg-admin", help="admin URL of a PostgreSQL primary (default: start our own)")
    ap.add_argument("--replica-url", help="admin URL of its streaming replica")
    ap.add_argument("--no-replica", action="store_true", help="do not start a replica")
    ap.add_argument("--quick", action="store_true", help="sizes 2,000 and 10k, short load runs")
    ap.add_argument("--sizes", help="comma-separated transaction counts (overrides the mode)")
    ap.add_argument(
        "--only",
        default="",
        help="comma-separated steps to run (default: all): import, log, merkle, verify, points, "
        "api, property, dividend, pdf, load",
    )
    ap.add_argument(
        "--carry",
        metavar="FILE",
        help="an earlier run's results.json: its per-size rows at sizes not run here, marked",
    )
    args = ap.parse_args()
    servers = []
    try:
        if not args.pg_admin:
            servers = start_servers(args)
        return run_all(args)
    finally:
        for server in reversed(servers):
            server.stop()
        if servers:
            shutil.rmtree(servers[0].data.parent, ignore_errors=True)


def start_servers(args) -> list:
    """Our own primary (and its streaming replica) for this run, stopped at the end."""
    sys.path.insert(0, str(BENCH))
    from pgserver import PgServer

    root = Path(tempfile.mkdtemp(prefix="commons-bench-pg-"))
    if os.geteuid() == 0:
        subprocess.run(["chown", "postgres:postgres", str(root)], check=True)
    primary = PgServer(root).init().start()
    servers = [primary]
    args.pg_admin = primary.url()
    args.pg_version = primary.version()
    print(f"PostgreSQL {args.pg_version}: primary on port {primary.port}", flush=True)
    if not args.no_replica and not args.replica_url:
        replica = primary.replica(root)
        replica.start()
        servers.append(replica)
        args.replica_url = replica.url()
        print(f"streaming replica on port {replica.port}", flush=True)
    return servers


def run_all(args) -> int:
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([2_000, 10_000] if args.quick else [2_000, 10_000, 100_000, 1_000_000])
    )
    only = set(filter(None, args.only.split(",")))

    def want(name: str) -> bool:
        return not only or name in only

    started, load0 = time.time(), os.getloadavg()
    env_lines = machine()
    if getattr(args, "pg_version", ""):
        env_lines.append(f"PostgreSQL {args.pg_version}")
    # our code byte-compiled, as an installed package has it (start-up is part of the import)
    subprocess.run([PY, "-m", "compileall", "-q", *(str(ROOT / d) for d in PACKAGES)])
    with tempfile.TemporaryDirectory(prefix="commons-bench-") as tmp:
        tmp_path = Path(tmp)
        for n in sizes:
            print(f"=== {n:,} transactions", flush=True)
            if want("import"):
                import_and_peers(n, tmp_path, args.pg_admin)
            if want("log"):
                log_bench(n, args.pg_admin)
            if want("merkle"):
                merkle_bench(n)
            if want("verify"):
                verify_bench(n)
            if want("points"):
                points_reconcile(n, args.pg_admin)
            for f in tmp_path.glob("*.sqlite3*"):
                f.unlink()
        if want("api"):
            api_post(100 if args.quick else 300)
        if want("points"):
            points_redeem(100 if args.quick else 200)
        if want("property"):
            property_bench(1 if args.quick else 5, args.pg_admin)
        if want("dividend"):
            dividend_bench(3 if args.quick else 5, 0 if args.quick else 1, args.pg_admin)
        if want("pdf"):
            pdf_bench()
        if want("load"):
            load_bench(args.pg_admin, args.replica_url, args.quick)
    if args.carry:
        carried = carry(R.rows, Path(args.carry))
        R.rows += carried
        print(f"carried {len(carried)} rows from {args.carry}", flush=True)
    write_results(args, sizes, started, load0, env_lines)
    return 1 if R.failures else 0


PACKAGES = (
    "core",
    "ledger",
    "transparency",
    "shareholders",
    "points",
    "funds",
    "property_trust",
    "tlog",
    "wsgi.py",
)

if __name__ == "__main__":
    sys.exit(main())
