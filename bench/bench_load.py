# SPDX-License-Identifier: AGPL-3.0-or-later
"""Load benchmarks under the production server (``./serve``: gunicorn) on PostgreSQL.

(a) Concurrent posting: vouchers are created, submitted and approved through the JSON API
    (not timed), then 8 clients post them (``POST …/vouchers/<id>/post``) as fast as the server
    answers: all into one book, then one client per book into 8 books. Afterwards the rows are
    checked (``tests/reliability/harness.check_books``: gapless numbers per month, log indexes
    0..n-1, one leaf per voucher, balances) and ``flask transparency audit`` runs on each book.
    Targets: ≥ 300 vouchers/s into one book, ≥ 1,000 vouchers/s across 8 books.
(b) Public pages: the demo community (``flask demo load``), then wrk (Debian's ``wrk``, a C
    load generator on one thread) on loopback over the community pages, the organisations'
    pages and the published reports in turn, after a warm-up, in two load shapes, each named in
    its rows: *paced* (``PACED_RATE`` req/s offered on 100 connections, Poisson arrivals:
    ``WRK_PACED``), the figure the target is judged on, with the achieved rate, p50/p90/p99/max
    and the sends made late because every connection was busy; and *maximum throughput* (a
    closed loop: each connection sends again as soon as it is answered). Any answer that is not
    2xx/3xx or any failed connection is an error. With ``--replica-url`` the same again with
    ``COMMONS_REPLICA_URL`` set (the public pages read from the streaming replica).
    Target: p99 < 50 ms while ≥ 500 requests/s are achieved at 100 connections.

Usage::

    .venv/bin/python bench/bench_load.py --pg-admin postgresql+psycopg://postgres@127.0.0.1:55460/postgres
        [--replica-url postgresql+psycopg://postgres@127.0.0.1:55461/postgres] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

ROWS: list[dict] = []
logging.getLogger("httpx").setLevel(logging.WARNING)


def row(group, measure, backend, size, samples, unit) -> None:
    ROWS.append(
        dict(group=group, measure=measure, backend=backend, size=size, samples=samples, unit=unit)
    )
    shown = (
        " / ".join(f"{x:.4g}" for x in samples)
        if len(samples) <= 4
        else (f"{statistics.median(samples):.4g}")
    )
    print(f"  {measure}: {shown} {unit}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(url: str, instance: Path, replica: str | None = None) -> dict:
    from suite import app_env as base

    env = base(url, instance)
    env["COMMONS_PUBLIC_HOST"] = "bench.example.org"
    if replica:
        env["COMMONS_REPLICA_URL"] = replica
    return env


def pg_database(admin: str, name: str) -> str:
    from suite import pg_database as make

    return make(admin, name)


def flask(env: dict, *args: str) -> str:
    r = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)}: {r.stdout[-1500:]}{r.stderr[-1500:]}")
    return r.stdout


class Server:
    """``./serve`` on a free loopback port, stopped with its whole process group."""

    def __init__(self, env: dict, log: Path, args: tuple[str, ...] = ()):
        self.port = free_port()
        self.env = dict(env, COMMONS_BIND=f"127.0.0.1:{self.port}")
        self.log = log
        self.args = args  # further gunicorn arguments (./serve passes them on)

    def __enter__(self) -> Server:
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [str(ROOT / "serve"), *self.args],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"./serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/public/", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("./serve did not answer")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)


# --- (a) concurrent posting -----------------------------------------------------------------


def make_books(env: dict, books: int) -> list[dict]:
    """One community, ``books`` SME organisations with a book, a preparer and a reviewer each."""
    from cryptography.fernet import Fernet  # noqa: F401  (the env carries the key)

    from core.app import create_app

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        app = create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    app.config["ARGON2_FAST"] = True
    out = []
    with app.app_context():
        from core.auth import create_api_token, create_user, grant_role
        from core.db import db
        from core.models import Community, Organisation
        from ledger import services as svc

        community = Community(name="负载测试社区", slug="load")
        db.session.add(community)
        db.session.flush()
        for i in range(books):
            org = Organisation(
                community_id=community.id,
                name=f"负载测试企业{i}",
                slug=f"load-{i}",
                kind="enterprise",
                standard="SME_2011",
                first_month=202601,
            )
            db.session.add(org)
            db.session.flush()
            book = svc.create_book(org)
            tokens = {}
            for role in ("preparer", "reviewer"):
                u = create_user(f"{role}-{i}", "a long load-test passphrase")
                grant_role(u, org, role)
                tokens[role] = create_api_token(u, "load")[1]
            out.append(dict(org=org.id, book=book.id, **tokens))
        db.session.commit()
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return out


def voucher_body(i: int) -> dict:
    amount = 100 + (i * 7919) % 500_000
    return {
        "date": f"2026-{1 + i % 11:02d}-{1 + i % 28:02d}",
        "summary": f"负载测试 {i}",
        "attachment_count": 0,
        "lines": [
            {"account": "1002", "unit": "CNY", "debit": f"{amount / 100:.2f}"},
            {"account": "5001", "unit": "CNY", "credit": f"{amount / 100:.2f}"},
        ],
    }


async def prepare(base: str, book: dict, count: int, start: int) -> list[int]:
    """``count`` approved vouchers in ``book`` (not timed)."""
    org = f"/api/v1/organisations/{book['org']}"
    prep = {"Authorization": f"Bearer {book['preparer']}"}
    rev = {"Authorization": f"Bearer {book['reviewer']}"}
    ids: list[int] = []
    limits = httpx.Limits(max_connections=4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def one(i: int) -> None:
            r = await client.post(f"{org}/vouchers", json=voucher_body(i), headers=prep)
            assert r.status_code == 201, r.text
            vid = r.json()["id"]
            r = await client.post(f"{org}/vouchers/{vid}/submit", headers=prep)
            assert r.status_code == 200, r.text
            r = await client.post(f"{org}/vouchers/{vid}/approve", headers=rev)
            assert r.status_code == 200, r.text
            ids.append(vid)

        for k in range(0, count, 4):
            await asyncio.gather(*(one(start + i) for i in range(k, min(count, k + 4))))
    return ids


async def post_all(base: str, work: list[tuple[dict, list[int]]]) -> tuple[float, list[float]]:
    """One client per (book, ids) entry posts its vouchers; wall seconds and latencies (ms)."""
    latencies: list[float] = []

    async def client_run(book: dict, ids: list[int]) -> None:
        headers = {"Authorization": f"Bearer {book['reviewer']}"}
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for vid in ids:
                t = time.perf_counter()
                r = await client.post(
                    f"/api/v1/organisations/{book['org']}/vouchers/{vid}/post", headers=headers
                )
                latencies.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200 and r.json()["status"] == "posted", r.text

    t0 = time.perf_counter()
    await asyncio.gather(*(client_run(b, ids) for b, ids in work))
    return time.perf_counter() - t0, latencies


def _cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU seconds of each live process in ``pids`` (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


class CpuMeter:
    """CPU seconds spent by the server (gunicorn and its workers) and by the database backends
    serving it, over a phase: a figure the shared machine's contention stretches much less
    than wall time (it counts the work, not the waiting)."""

    def __init__(self, server_pid: int, url: str):
        self.server_pid = server_pid
        self.engine = sa.create_engine(url)

    def _pids(self) -> tuple[list[int], list[int]]:
        children = [
            int(p)
            for p in Path(f"/proc/{self.server_pid}/task/{self.server_pid}/children")
            .read_text()
            .split()
        ]
        with self.engine.connect() as c:
            backends = list(
                c.execute(
                    sa.text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()"
                    )
                ).scalars()
            )
        return [self.server_pid, *children], backends

    def __enter__(self) -> CpuMeter:
        server, backends = self._pids()
        self.start = _cpu_seconds(server), _cpu_seconds(backends)
        return self

    def __exit__(self, *exc) -> None:
        server, backends = self._pids()
        end = _cpu_seconds(server), _cpu_seconds(backends)
        self.server, self.database = (
            sum(v - before.get(pid, 0.0) for pid, v in after.items())
            for before, after in zip(self.start, end, strict=True)
        )
        self.engine.dispose()


def posting(admin: str, tmp: Path, per_scenario: int) -> None:
    from tests.reliability.harness import check_books

    url = pg_database(admin, "bench_load_post")
    env = app_env(url, tmp / "instance-post")
    flask(env, "db", "upgrade")
    books = make_books(env, 9)
    with Server(env, tmp / "serve-post.log") as server:
        # one book, 8 clients (a shared list split in 8)
        one = books[0]
        ids = asyncio.run(prepare(server.base, one, per_scenario, 0))
        work = [(one, ids[i::8]) for i in range(8)]
        with CpuMeter(server.proc.pid, url) as cpu:
            wall, lat = asyncio.run(post_all(server.base, work))
        _cpu_rows("8 clients into one book", cpu, len(ids))
        row("load", "posting: 8 clients into one book, vouchers/s", "postgresql", len(ids),
            [len(ids) / wall], "vouchers/s")  # fmt: skip
        row("load", "posting: 8 clients into one book, latency p50/p99", "postgresql", len(ids),
            _p50_p99(lat), "ms")  # fmt: skip
        # 8 books, one client each
        per = max(8, per_scenario // 8)
        work = [(b, asyncio.run(prepare(server.base, b, per, 0))) for b in books[1:]]
        total = sum(len(i) for _b, i in work)
        with CpuMeter(server.proc.pid, url) as cpu:
            wall, lat = asyncio.run(post_all(server.base, work))
        _cpu_rows("8 clients into 8 books", cpu, total)
        row("load", "posting: 8 clients into 8 books, vouchers/s", "postgresql", total,
            [total / wall], "vouchers/s")  # fmt: skip
        row("load", "posting: 8 clients into 8 books, latency p50/p99", "postgresql", total,
            _p50_p99(lat), "ms")  # fmt: skip
    problems = []
    for b in books:
        problems += [f"book {b['book']}: {p}" for p in check_books(url, b["book"])]
        out = subprocess.run(
            [str(Path(sys.executable).parent / "flask"), "transparency", "audit", "--book",
             str(b["book"])],
            env=env, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if out.returncode != 0:
            problems.append(f"audit of book {b['book']}: {out.stdout[-500:]}{out.stderr[-500:]}")
    print("rows checked and audit:", "OK" if not problems else problems, flush=True)
    row("load", "posting: books failing the row checks or the audit afterwards", "postgresql",
        len(books), [len(problems)], "books")  # fmt: skip
    if problems:
        raise RuntimeError("; ".join(problems)[:2000])


def _cpu_rows(scenario: str, cpu: CpuMeter, count: int) -> None:
    for who, seconds in (("server", cpu.server), ("database", cpu.database)):
        row("load", f"posting: {scenario}, CPU ms per voucher ({who})", "postgresql", count,
            [1000 * seconds / count], "ms")  # fmt: skip


def _p50_p99(lat: list[float]) -> list[float]:
    lat = sorted(lat)
    return [lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]]


# --- (b) public pages -----------------------------------------------------------------------


def public_urls(url: str) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as c:
        slugs = [r[0] for r in c.execute(sa.text("SELECT slug FROM communities"))]
        orgs = [r[0] for r in c.execute(sa.text("SELECT id FROM organisations"))]
        reports = [r[0] for r in c.execute(sa.text("SELECT id FROM disclosure_reports"))]
    engine.dispose()
    return (
        [f"/public/c/{s}" for s in slugs]
        + [f"/public/o/{o}" for o in orgs]
        + [f"/public/r/{r}" for r in reports]
    )


# The paths in turn, and what wrk measured (its ``done`` hook runs in wrk's main Lua state: the
# paced script's own counters are read from the thread's state with ``thread:get``).
WRK_COMMON = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local i = 0
late, late_max_ms = 0, 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], {["Accept-Language"] = "zh-CN"})
end
local threads = {}
setup = function(thread) threads[#threads + 1] = thread end
done = function(summary, latency, requests)
  local late_n, late_max = 0, 0
  for _, t in ipairs(threads) do
    late_n = late_n + t:get("late")
    late_max = math.max(late_max, t:get("late_max_ms"))
  end
  io.write(string.format('WRK {"requests": %d, "duration_us": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"late": %d, "late_max_ms": %.1f}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    late_n, late_max))
end
"""

# Paced (open-loop) arrivals for wrk 4 (Debian's wrk has no ``-R``: that is wrk2): one Poisson
# process of WRK_RATE requests/s for the thread, drawn from a fixed seed. A connection that has
# its answer asks ``delay()`` for the next arrival time and waits until then, so the offered load
# is WRK_RATE whatever the server's latency, and arrivals are random, not in lock-step. A
# connection freed only after its arrival time has passed sends at once: such a late send is
# counted (``late``, ``late_max_ms``): had all connections been busy, the queueing in the client
# would not be in wrk's latencies. LuaJIT's ffi gives the monotonic clock in ms (wrk's delay
# unit).
WRK_PACED = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } commons_timespec;
int clock_gettime(int clk, commons_timespec *ts);
]]
local ts = ffi.new("commons_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local rate = tonumber(os.getenv("WRK_RATE"))
math.randomseed(tonumber(os.getenv("WRK_SEED") or "15"))
local next_at = nil
delay = function()
  local t = now_ms()
  if next_at == nil then next_at = t end
  next_at = next_at - math.log(1 - math.random()) * 1000 / rate
  local wait = next_at - t
  if wait < 0 then
    if wait < -1 then late = late + 1 end
    if -wait > late_max_ms then late_max_ms = -wait end
    return 0
  end
  return wait
end
"""


def hammer(
    base: str, paths: list[str], seconds: int, conns: int, tmp: Path, rate: int | None = None
) -> dict:
    """wrk (C, one thread: the load generator must not take the server's cores) over ``paths``
    in turn for ``seconds`` on ``conns`` connections; what it measured. Without ``rate`` a
    closed loop (each connection sends its next request as soon as it has the last answer:
    the server's maximum throughput); with ``rate`` paced, ``rate`` requests/s offered in all
    (``WRK_PACED``). wrk's latencies run from a request's send to its answer."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("the public-page load needs wrk: apt-get install wrk")
    (tmp / "paths.txt").write_text("\n".join(paths) + "\n")
    script = WRK_COMMON + (WRK_PACED if rate else "")
    (tmp / "paths.lua").write_text(script)
    env = dict(os.environ, WRK_PATHS=str(tmp / "paths.txt"), WRK_RATE=str(rate or 0))
    out = subprocess.run(
        [wrk, "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(tmp / "paths.lua"), base],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK "))
    return json.loads(line[4:])


CONNECTIONS = 100
#: The paced load's offered rate: the target is ≥ 500 req/s achieved with p99 < 50 ms, and a
#: Poisson count over 30 s varies by ~1 % (and wrk's start-up takes a little), so 5 % more is
#: offered: a server that keeps up achieves ≥ 500.
PACED_RATE = 525
#: The two load shapes, as the rows (and bench/RESULTS.md) name them.
PACED = f"paced {PACED_RATE} req/s offered on {CONNECTIONS} connections (Poisson arrivals)"
SATURATION = f"maximum throughput (closed loop, {CONNECTIONS} connections)"


def public_pages(admin: str, replica: str | None, tmp: Path, duration: int) -> None:
    url = pg_database(admin, "bench_load_public")
    env = app_env(url, tmp / "instance-public")
    flask(env, "db", "upgrade")
    t0 = time.perf_counter()
    flask(env, "demo", "load")
    print(f"  demo loaded in {time.perf_counter() - t0:.0f} s", flush=True)
    paths = public_urls(url)
    print(f"  {len(paths)} public pages", flush=True)
    configs: list[tuple[str, str | None]] = [("primary only", None)]
    if replica:
        from pgserver import PgServer  # noqa: F401  (servers come from bench/run)

        rurl = sa.engine.make_url(replica).set(database="bench_load_public")
        configs.append(("with the read replica", rurl.render_as_string(hide_password=False)))
        _wait_caught_up(url, rurl.render_as_string(hide_password=False))
    for label, rep in configs:
        with Server(app_env(url, tmp / "instance-public", rep), tmp / "serve-public.log") as s:
            hammer(s.base, paths, 20, 8, tmp)  # warm-up: every worker renders every page
            paced = hammer(s.base, paths, duration, CONNECTIONS, tmp, rate=PACED_RATE)
            closed = hammer(s.base, paths, duration, CONNECTIONS, tmp)
        for shape, got in ((PACED, paced), (SATURATION, closed)):
            n = got["requests"]
            row("load", f"public pages, {shape}: achieved req/s ({label})", "postgresql", n,
                [n / (got["duration_us"] / 1e6)], "req/s")  # fmt: skip
            row("load", f"public pages, {shape}: latency p50/p90/p99/max ({label})",
                "postgresql", n,
                [got[k] / 1000 for k in ("p50_us", "p90_us", "p99_us", "max_us")],
                "ms")  # fmt: skip
        row("load", f"public pages, {PACED}: sends later than their arrival time ({label})",
            "postgresql", paced["requests"], [paced["late"], paced["late_max_ms"]],
            "requests, ms")  # fmt: skip
        for got in (paced, closed):
            if got["status_errors"] or got["socket_errors"]:
                raise RuntimeError(
                    f"{got['status_errors']} answers were not 2xx/3xx and "
                    f"{got['socket_errors']} connections failed or timed out"
                )


def _wait_caught_up(primary: str, replica: str, timeout: float = 120) -> None:
    p, r = sa.create_engine(primary), sa.create_engine(replica)
    deadline = time.monotonic() + timeout
    try:
        with p.connect() as pc:
            lsn = pc.execute(sa.text("SELECT pg_current_wal_lsn()")).scalar()
        while time.monotonic() < deadline:
            try:
                with r.connect() as rc:
                    if rc.execute(
                        sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:l AS pg_lsn)"), {"l": lsn}
                    ).scalar():
                        return
            except sa.exc.OperationalError:
                pass  # the database's creation not replayed yet
            time.sleep(0.1)
        raise TimeoutError("the replica did not catch up")
    finally:
        p.dispose()
        r.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg-admin", required=True)
    ap.add_argument("--replica-url")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON (last line)")
    ap.add_argument("--only", choices=["posting", "public"])
    args = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory(prefix="commons-load-") as tmp:
        tmp_path = Path(tmp)
        if args.only in (None, "posting"):
            try:
                posting(args.pg_admin, tmp_path, 400 if args.quick else 2000)
            except Exception as exc:  # noqa: BLE001
                failures.append(f"posting: {exc}")
        if args.only in (None, "public"):
            try:
                public_pages(args.pg_admin, args.replica_url, tmp_path, 30 if args.quick else 60)
            except Exception as exc:  # noqa: BLE001
                failures.append(f"public pages: {exc}")
    for f in failures:
        print("FAILED", f[:3000], flush=True)
    if args.json:
        print(json.dumps(ROWS))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
