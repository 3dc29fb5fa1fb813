# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bank test's machinery, shared by tests/reliability/ and bench/bank.py (issue 9, items 2–3).

- ``PgServer``: a PostgreSQL server of our own in a temporary directory (so that it can be
  killed with SIGKILL and restarted). Commits are synchronous (``synchronous_commit=on``, the
  default): an acknowledged commit is in the WAL the OS holds before the client hears of it, so it
  must survive the death of every server process. ``fsync=off`` only gives up survival of a
  power cut, which killing processes does not simulate.
- ``AppServer``: the app under gunicorn (several sync workers, ``--preload wsgi:app``), started in a
  session of its own so that SIGKILL reaches the master and every worker at once.
- ``make_world``: an SME book with preparers, reviewers and an auditor, and their API tokens.
- ``Bank``: client threads posting random transfers (create → submit → approve → post, each
  with its own Idempotency-Key; some requests sent again with the same key, some given up by
  the client after a very short timeout and retried) and reader threads taking trial balances.
- ``check_books``: what must hold afterwards, from the database rows (independently of the app's
  own audit, which ``run_audit`` runs as ``flask transparency audit``).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pg_bin() -> Path | None:
    """The newest PostgreSQL server binaries, found the way ./test finds them."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parent.parent.name.split(".")],
    )
    return found[-1].parent if found else None


def gunicorn_bin() -> Path | None:
    exe = VENV_BIN / "gunicorn"
    return exe if exe.exists() else None


def wait_for(condition, timeout: float, what: str, step: float = 0.02):
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(step)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return out


class PgServer:
    """A throwaway PostgreSQL server on a free loopback port (runs as ``postgres`` under root)."""

    def __init__(self, root: Path, bindir: Path):
        self.bindir = bindir
        self.data = root / "pgdata"
        self.port = free_port()
        self.kills = 0

    def _as_pg(self, *args: str, **kw) -> subprocess.CompletedProcess:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    def init(self) -> PgServer:
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(self.data.parent)], check=True)
        self._as_pg(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        return self

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=on -c max_connections=100"
        )
        self._as_pg(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.data / "server.log"),
            "-w",
            "-t",
            "120",
            "-o",
            opts,
            "start",
        )

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def kill9(self) -> int:
        """SIGKILL the postmaster and every backend at once; return how many processes died."""
        pid = self.postmaster_pid()
        victims = [pid, *_children(pid)]
        for p in victims:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: not any(_alive(p) for p in victims), 30, "PostgreSQL to die")
        # A dead postmaster stays a zombie until whoever adopted it reaps it; while it does,
        # its pid still "exists" and the next start refuses the lock file. It is dead: after
        # a short wait for the reaper, the lock file is stale, as after a machine's crash.
        try:
            wait_for(lambda: not Path(f"/proc/{pid}").exists(), 5, "the postmaster to be reaped")
        except TimeoutError:
            (self.data / "postmaster.pid").unlink()
        self.kills += 1
        return len(victims)

    def stop(self) -> None:
        try:
            self._as_pg(
                str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"
            )
        except subprocess.CalledProcessError:
            pass

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        return self.url(name)


def app_env(db_url: str, instance: Path) -> dict[str, str]:
    """The environment of every process of one test's app: server, CLI and set-up alike."""
    from cryptography.fernet import Fernet

    key_file = instance / "field_key.test"
    instance.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        key_file.write_text(Fernet.generate_key().decode())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "COMMONS_"))}
    env.update(
        DATABASE_URL=db_url,
        SECRET_KEY="reliability-test",
        COMMONS_FIELD_KEY=key_file.read_text().strip(),
        COMMONS_INSTANCE_PATH=str(instance),
        FLASK_APP="wsgi",
        PYTHONPATH=str(ROOT),
    )
    return env


class AppServer:
    """gunicorn with ``workers`` sync workers serving wsgi:app on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 3):
        self.env = env
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> None:
        exe = gunicorn_bin()
        assert exe is not None
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [
                    str(exe),
                    "--workers",
                    str(self.workers),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "120",
                    "--graceful-timeout",
                    "5",
                    "--backlog",
                    "256",
                    # The app is built once in the master and forked (it opens no database
                    # connection before the fork): workers start in a fraction of the time.
                    "--preload",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._ready, 120, "gunicorn to answer", step=0.1)

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            c.request("GET", "/api/v1/communities")
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except OSError:
            return False

    def pids(self) -> list[int]:
        assert self.proc is not None
        return [self.proc.pid, *_children(self.proc.pid)]

    def kill9(self) -> int:
        """SIGKILL the master and all its workers (its whole process group) at once."""
        assert self.proc is not None
        victims = self.pids()
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        wait_for(lambda: not any(_alive(p) for p in victims), 30, "gunicorn workers to die")
        self.kills += 1
        return len(victims)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)


def flask(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "flask"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_audit(env: dict[str, str], book_id: int) -> subprocess.CompletedProcess:
    return flask(env, "transparency", "audit", "--book", str(book_id))


class Checkpointer:
    """Signs the book's checkpoint over and over (``flask transparency checkpoint``, a process
    of its own each time) while the load runs: the audit then checks every one against the log."""

    def __init__(self, env: dict[str, str], book_id: int):
        self.env, self.book_id = env, book_id
        self.signed = 0
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            r = flask(self.env, "transparency", "checkpoint", "--book", str(self.book_id))
            if r.returncode == 0:
                self.signed += 1
            else:
                self.failures.append(r.stderr[-300:])

    def __enter__(self) -> Checkpointer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(120)


def audited_checkpoints(audit: subprocess.CompletedProcess) -> int:
    m = re.search(r"(\d+) checkpoints checked", audit.stdout)
    assert m, audit.stdout
    return int(m.group(1))


def audited_records(audit: subprocess.CompletedProcess) -> int:
    """The number of records ``flask transparency audit`` says it checked."""
    m = re.search(r": (\d+) records", audit.stdout)
    assert m, audit.stdout
    return int(m.group(1))


# --- the world --------------------------------------------------------------------------------


@dataclass
class World:
    org_id: int
    book_id: int
    preparers: list[str]  # API tokens
    reviewers: list[str]
    reader: str


# Leaf accounts of the SME_2011 chart that take plain lines (no counterparty required).
ACCOUNTS = ["1001", "1002", "1012", "1221", "2241", "4001", "5001", "5051", "5601", "5602"]
UNITS = ["CNY", "USD"]
FIRST_MONTH = (2026, 1)


def make_world(env: dict[str, str], preparers: int = 2, reviewers: int = 2) -> World:
    """Migrate the database and make an SME book and its people (in this process)."""
    from core.app import create_app
    from core.auth import create_api_token, create_user, grant_role
    from core.db import db
    from core.models import Community, Organisation
    from ledger import services as svc

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        app = create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    app.config["ARGON2_FAST"] = True
    with app.app_context():
        import flask_migrate

        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        community = Community(name="银行测试社区", slug=f"bank-{uuid.uuid4().hex[:6]}")
        db.session.add(community)
        db.session.flush()
        org = Organisation(
            community_id=community.id,
            name="银行测试合作社",
            slug="bank-co",
            kind="enterprise",
            standard="SME_2011",
            first_month=FIRST_MONTH[0] * 100 + FIRST_MONTH[1],
        )
        db.session.add(org)
        db.session.flush()
        book = svc.create_book(org)

        def people(role: str, n: int) -> list[str]:
            tokens = []
            for i in range(n):
                u = create_user(f"{role}{i}", "a long bank-test passphrase")
                grant_role(u, org, role)
                tokens.append(create_api_token(u, "bank")[1])
            return tokens

        world = World(
            org.id,
            book.id,
            people("preparer", preparers),
            people("reviewer", reviewers),
            people("auditor", 1)[0],
        )
        db.session.commit()
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return world


# --- the load ---------------------------------------------------------------------------------


class Unanswered(Exception):
    """No answer the client can trust: a timeout, a refused or dropped connection, or a 5xx."""


@dataclass
class Figures:
    clients: int = 0
    readers: int = 0
    duration: float = 0.0
    requests: int = 0  # HTTP requests sent, retries and replays included
    acknowledged: int = 0  # transfers whose post was answered 200
    started: int = 0  # transfers begun
    retries: int = 0  # requests sent again with the same key after no (usable) answer
    client_timeouts: int = 0  # of which the client gave up waiting
    replays_checked: int = 0  # answered requests sent again on purpose; answer must be replayed
    duplicates_sent: int = 0  # requests sent twice at the same moment with one key
    conflicts_409: int = 0
    server_errors: int = 0  # 5xx answers (while a server was down or restarting)
    connection_errors: int = 0
    balance_reads: int = 0
    statuses: Counter = field(default_factory=Counter)  # of the 5xx answers
    faults: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.acknowledged / self.duration if self.duration else 0.0

    def line(self) -> str:
        return (
            f"clients {self.clients} (+{self.readers} readers), duration {self.duration:.1f} s, "
            f"requests {self.requests}, transfers started {self.started}, acknowledged "
            f"{self.acknowledged} ({self.throughput:.1f}/s), retries {self.retries} (client "
            f"timeouts {self.client_timeouts}), deliberate replays {self.replays_checked}, "
            f"concurrent duplicates {self.duplicates_sent}, "
            f"409s {self.conflicts_409}, 5xx {self.server_errors} {dict(self.statuses)}, connection errors "
            f"{self.connection_errors}, balance reads {self.balance_reads}, faults "
            f"{', '.join(self.faults) or 'none'}"
        )


@dataclass
class Ack:
    tag: str
    voucher_id: int
    number: str
    lines: list[tuple[str, str, int, int]]  # account, unit, debit fen, credit fen


def _fen_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


class Bank:
    """Client and reader threads against ``port``; ``run`` returns when the load stops.

    ``port`` is read before every request, so a restarted server on another port is found."""

    def __init__(
        self,
        world: World,
        port_of,
        *,
        clients: int = 8,
        readers: int = 2,
        seed: int = 9,
        replay_rate: float = 0.1,
        timeout_rate: float = 0.05,
        duplicate_rate: float = 0.03,
        request_timeout: float = 60.0,
    ):
        self.world = world
        self.port_of = port_of
        self.clients = clients
        self.readers = readers
        self.seed = seed
        self.replay_rate = replay_rate
        self.timeout_rate = timeout_rate
        self.duplicate_rate = duplicate_rate
        self.request_timeout = request_timeout
        self.figures = Figures(clients=clients, readers=readers)
        self.acks: list[Ack] = []
        self.tags: list[str] = []
        self.violations: list[str] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        today = dt.date.today()
        first = dt.date(*FIRST_MONTH, 1)
        self.days = [first + dt.timedelta(days=i) for i in range((today - first).days + 1)]
        self.base = f"/api/v1/organisations/{world.org_id}"

    # - one request -

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self.figures, name, getattr(self.figures, name) + n)

    def _send(self, method: str, path: str, token: str, body, key, timeout: float):
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        self._count("requests")
        conn = http.client.HTTPConnection("127.0.0.1", self.port_of(), timeout=timeout)
        try:
            conn.request(method, self.base + path, body=data, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
        except TimeoutError as e:
            self._count("client_timeouts")
            raise Unanswered("client timeout") from e
        except (OSError, http.client.HTTPException) as e:
            self._count("connection_errors")
            raise Unanswered(repr(e)) from e
        finally:
            conn.close()
        if resp.status >= 500:
            self._count("server_errors")
            with self._lock:
                self.figures.statuses[resp.status] += 1
            raise Unanswered(f"{resp.status}")
        if resp.status == 409 and key:  # the same key still in flight (or raced): retry
            self._count("conflicts_409")
            raise Unanswered("409")
        return resp.status, resp.getheader("Idempotent-Replayed"), payload

    def write(self, rng: random.Random, method: str, path: str, token: str, body, expect: int):
        """A write with its own Idempotency-Key, retried with that key until it is answered."""
        key = uuid.uuid4().hex
        twin: list = []
        twin_thread = None
        if rng.random() < self.duplicate_rate:  # the same request twice at once, same key
            twin_thread = threading.Thread(
                target=lambda: twin.append(self._retry_answered(method, path, token, body, key))
            )
            twin_thread.start()
        first = True
        while True:
            if self._hard_stop.is_set():
                raise Unanswered("load stopped")
            timeout = self.request_timeout
            if first and rng.random() < self.timeout_rate:
                timeout = rng.choice([0.001, 0.01, 0.05])  # the client gives up early
            try:
                status, replayed, payload = self._send(method, path, token, body, key, timeout)
                break
            except Unanswered:
                self._count("retries")
                first = False
                time.sleep(rng.uniform(0.01, 0.2))  # a client's back-off before its retry
        answer = json.loads(payload)
        if twin_thread is not None:
            twin_thread.join()
            self._count("duplicates_sent")
            if twin[0][0] is not None and (twin[0][0], twin[0][2]) != (status, answer):
                self.violations.append(
                    f"two concurrent {method} {path} with one key: {twin[0][0]} vs {status}"
                )
        if status != expect:
            self.violations.append(f"{method} {path}: {status} {payload[:300]!r}")
            raise Unanswered(f"unexpected {status}")
        if rng.random() < self.replay_rate:  # the same request again, on purpose
            again = self._retry_answered(method, path, token, body, key)
            self._count("replays_checked")
            if again[0] is not None and again != (status, "true", answer):
                self.violations.append(
                    f"replay of {method} {path} differs: {again[:2]} vs {status}"
                )
        return answer

    def _retry_answered(self, method, path, token, body, key):
        while True:
            try:
                status, replayed, payload = self._send(
                    method, path, token, body, key, self.request_timeout
                )
                return status, replayed, json.loads(payload)
            except Unanswered:
                self._count("retries")
                if self._hard_stop.is_set():
                    return None, None, None
                time.sleep(0.05)

    # - clients and readers -

    def transfer(self, rng: random.Random, client: int, seq: int) -> None:
        tag = f"bank c{client} t{seq}"
        unit = rng.choice(UNITS)
        n = rng.choice([2, 2, 2, 3, 4])
        accounts = rng.sample(ACCOUNTS, n)
        amounts = [rng.randint(1, 5_000_000) for _ in range(n - 1)]
        lines_ = [(a, unit, amt, 0) for a, amt in zip(accounts[:-1], amounts, strict=True)]
        lines_.append((accounts[-1], unit, 0, sum(amounts)))
        body = {
            "date": rng.choice(self.days).isoformat(),
            "summary": f"转账 {tag}",
            "attachment_count": 0,
            "lines": [
                {
                    "account": a,
                    "unit": u,
                    **({"debit": _fen_text(d)} if d else {}),
                    **({"credit": _fen_text(c)} if c else {}),
                }
                for a, u, d, c in lines_
            ],
        }
        with self._lock:
            self.tags.append(tag)
            self.figures.started += 1
        prep = rng.choice(self.world.preparers)
        rev = rng.choice(self.world.reviewers)
        made = self.write(rng, "POST", "/vouchers", prep, body, 201)
        vid = made["id"]
        self.write(rng, "POST", f"/vouchers/{vid}/submit", prep, None, 200)
        self.write(rng, "POST", f"/vouchers/{vid}/approve", rev, None, 200)
        posted = self.write(rng, "POST", f"/vouchers/{vid}/post", rev, None, 200)
        if posted["status"] != "posted" or not posted["number"]:
            self.violations.append(f"post of {vid} answered {posted['status']}")
            return
        with self._lock:
            self.acks.append(Ack(tag, vid, posted["number"], lines_))
            self.figures.acknowledged += 1

    def _client(self, i: int) -> None:
        rng = random.Random(self.seed * 1000 + i)
        seq = 0
        while not self.stop.is_set():
            try:
                self.transfer(rng, i, seq)
            except Unanswered:
                pass
            except Exception as e:  # noqa: BLE001 - reported as a violation
                self.violations.append(f"client {i}: {e!r}")
            seq += 1

    def read_balances(self, rng: random.Random) -> None:
        today = dt.date.today()
        unit = rng.choice(UNITS)
        start = rng.choice(self.days)
        end = rng.choice([d for d in self.days if d >= start] or [today])
        if rng.random() < 0.5:  # whole months (balances table) or days inside months (lines)
            start = start.replace(day=1)
        ranged = f"start={start}&end={end}&unit={unit}"
        for name, query in (("trial_balance", ranged), ("account_balances", f"unit={unit}")):
            try:
                status, _r, payload = self._send(
                    "GET", f"/reports/{name}?{query}", self.world.reader, None, None, 30
                )
            except Unanswered:
                time.sleep(rng.uniform(0.05, 0.2))  # the server is down: back off
                continue
            if status != 200:
                self.violations.append(f"GET {name}: {status} {payload[:200]!r}")
                continue
            report = json.loads(payload)
            self._count("balance_reads")
            self._check_report(name, unit, query, report)

    def _check_report(self, name: str, unit: str, query: str, report: dict) -> None:
        if name == "trial_balance":
            t = report["totals"]
            leaves = [r for r in report["rows"] if not r["rollup"]]
            sums = (
                sum(r["opening"] for r in leaves),
                sum(r["debit"] for r in leaves) - sum(r["credit"] for r in leaves),
                sum(r["closing"] for r in leaves),
            )
            ok = (
                report["balanced"]
                and t["opening_debit"] == t["opening_credit"]
                and t["debit"] == t["credit"]
                and t["closing_debit"] == t["closing_credit"]
                and sums == (0, 0, 0)
            )
        else:
            b = report["balances"]
            ok = sum(x["debit_total"] for x in b) == sum(x["credit_total"] for x in b)
        if not ok:
            self.violations.append(f"{name} ({query}) does not sum to zero in {unit}")

    def _reader(self, i: int) -> None:
        rng = random.Random(self.seed * 1000 + 500 + i)
        while not self.stop.is_set():
            self.read_balances(rng)

    def start(self) -> None:
        self._hard_stop = threading.Event()
        self._t0 = time.monotonic()
        self.threads = [
            threading.Thread(target=self._client, args=(i,), daemon=True)
            for i in range(self.clients)
        ] + [
            threading.Thread(target=self._reader, args=(i,), daemon=True)
            for i in range(self.readers)
        ]
        for t in self.threads:
            t.start()

    def finish(self, grace: float = 120) -> Figures:
        """Stop starting transfers; let those under way finish (retrying as clients do)."""
        self.stop.set()
        deadline = time.monotonic() + grace
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        self._hard_stop.set()
        for t in self.threads:
            t.join(30)
        self.figures.duration = time.monotonic() - self._t0
        return self.figures

    def acked(self) -> int:
        with self._lock:
            return self.figures.acknowledged


# --- what must hold afterwards ------------------------------------------------------------------


def check_books(db_url: str, book_id: int, bank: Bank | None = None) -> list[str]:
    """Every rule of items 2–3 that the rows can show, from plain SQL; [] when all hold."""
    problems: list[str] = []
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as c:
            q = lambda sql, **kw: c.execute(sa.text(sql), {"b": book_id, **kw}).all()  # noqa: E731
            empty = q(
                "SELECT v.id FROM vouchers v WHERE v.book_id = :b AND NOT EXISTS "
                "(SELECT 1 FROM voucher_lines l WHERE l.voucher_id = v.id)"
            )
            if empty:
                problems.append(f"vouchers without lines: {[r[0] for r in empty][:10]}")
            unbalanced = q(
                "SELECT v.id, l.unit FROM vouchers v JOIN voucher_lines l ON l.voucher_id = v.id "
                "WHERE v.book_id = :b GROUP BY v.id, l.unit HAVING sum(l.debit) <> sum(l.credit)"
            )
            if unbalanced:
                problems.append(f"unbalanced vouchers: {unbalanced[:10]}")
            posted = q(
                "SELECT id, number, log_index, summary FROM vouchers "
                "WHERE book_id = :b AND status = 'posted'"
            )
            log_size = q("SELECT log_size FROM books WHERE id = :b")[0][0]
            indexes = sorted(r.log_index for r in posted)
            if indexes != list(range(log_size)):
                problems.append(
                    f"log indexes of posted vouchers are not 0..{log_size - 1} "
                    f"({len(indexes)} posted)"
                )
            leaves = q("SELECT count(*) FROM log_nodes WHERE book_id = :b AND level = 0")[0][0]
            if leaves != log_size:
                problems.append(f"{leaves} leaves stored for a log of size {log_size}")
            unnumbered = q(
                "SELECT id FROM vouchers WHERE book_id = :b AND status <> 'posted' "
                "AND (number IS NOT NULL OR log_index IS NOT NULL)"
            )
            if unnumbered:
                problems.append(f"unposted vouchers with a number or index: {unnumbered[:10]}")
            by_month: dict[str, list[int]] = defaultdict(list)
            for r in posted:
                prefix, seq = r.number.rsplit("-", 1)
                by_month[prefix].append(int(seq))
            for month, seqs in sorted(by_month.items()):
                if sorted(seqs) != list(range(1, len(seqs) + 1)):
                    problems.append(f"numbers of {month} are not gapless: {sorted(seqs)[:20]}…")
            stored = {
                tuple(r[:4]): (r[4], r[5])
                for r in q(
                    "SELECT account_id, fund_key, unit, period_key, debit, credit "
                    "FROM account_period_balances WHERE book_id = :b"
                )
                if r[4] or r[5]
            }
            summed = {
                tuple(r[:4]): (r[4], r[5])
                for r in q(
                    "SELECT l.account_id, coalesce(l.fund_id, 0), l.unit, "
                    "CAST(to_char(v.date, 'YYYYMM') AS integer), sum(l.debit), sum(l.credit) "
                    "FROM voucher_lines l JOIN vouchers v ON v.id = l.voucher_id "
                    "WHERE v.book_id = :b AND v.status = 'posted' GROUP BY 1, 2, 3, 4"
                )
            }
            if stored != summed:
                diff = set(stored.items()) ^ set(summed.items())
                problems.append(f"balances differ from the sum of the lines: {sorted(diff)[:5]}")
            if bank is not None:
                # Each step of each transfer happened once, retries and replays included.
                steps = q(
                    "SELECT e.voucher_id, e.action, count(*) FROM voucher_events e "
                    "JOIN vouchers v ON v.id = e.voucher_id WHERE v.book_id = :b "
                    "GROUP BY 1, 2 HAVING count(*) > 1"
                )
                if steps:
                    problems.append(f"history steps recorded more than once: {steps[:10]}")
                history = {
                    r[0]: r[1]
                    for r in q(
                        "SELECT e.voucher_id, string_agg(e.action, ',' ORDER BY e.id) "
                        "FROM voucher_events e JOIN vouchers v ON v.id = e.voucher_id "
                        "WHERE v.book_id = :b AND v.status = 'posted' GROUP BY 1"
                    )
                }
                odd = {v: h for v, h in history.items() if h != "created,submitted,approved,posted"}
                if odd:
                    problems.append(
                        f"posted vouchers with another history: {list(odd.items())[:5]}"
                    )
                pending = c.execute(
                    sa.text("SELECT count(*) FROM idempotency_records WHERE status_code = 0")
                ).scalar_one()
                if pending:
                    problems.append(f"{pending} Idempotency-Key claims left pending")
                per_tag = Counter(
                    r.summary.removeprefix("转账 ")
                    for r in q("SELECT summary FROM vouchers WHERE book_id = :b")
                )
                twice = [t for t, n in per_tag.items() if n > 1]
                if twice:
                    problems.append(f"transfers entered more than once: {twice[:10]}")
                rows = {r.id: r for r in posted}
                lines = defaultdict(list)
                for r in q(
                    "SELECT l.voucher_id, a.code, l.unit, l.debit, l.credit FROM voucher_lines l "
                    "JOIN vouchers v ON v.id = l.voucher_id JOIN accounts a ON a.id = l.account_id "
                    "WHERE v.book_id = :b ORDER BY l.voucher_id, l.line_no"
                ):
                    lines[r[0]].append((r[1], r[2], r[3], r[4]))
                for ack in bank.acks:
                    row = rows.get(ack.voucher_id)
                    if row is None:
                        problems.append(f"acknowledged {ack.tag} (voucher {ack.voucher_id}) lost")
                    elif row.number != ack.number or row.summary != f"转账 {ack.tag}":
                        problems.append(f"acknowledged {ack.tag} differs: {row}")
                    elif lines[ack.voucher_id] != ack.lines:
                        problems.append(f"acknowledged {ack.tag} has other lines")
    finally:
        engine.dispose()
    return problems
