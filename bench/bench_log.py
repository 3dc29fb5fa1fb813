# SPDX-License-Identifier: AGPL-3.0-or-later
"""Benchmark of the database-backed log (ledger/log.py) with a million leaves (a script, not a test).

Fills one book's ``log_nodes`` with the stored nodes of N leaves (computed in memory with
``tlog.merkle.nodes_to_store_on_append`` and bulk-inserted: posting a million vouchers
would measure the voucher path, not the log), then times through ``ledger.log``, each inside
the application's session like a request does:

- appending one leaf (``log.append`` + flush),
- the root of the current size,
- an inclusion proof (random index) and a consistency proof (random old size).

Target (issue 4): each under 5 ms on SQLite and on PostgreSQL.

Usage::

    .venv/bin/python bench/bench_log.py [--leaves 1000000] [--repeat 300]
    .venv/bin/python bench/bench_log.py --postgres postgresql+psycopg://postgres@127.0.0.1:55432/postgres

With ``--postgres`` a throwaway database is created next to the given one and dropped after.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from core.app import create_app  # noqa: E402
from core.db import db  # noqa: E402
from tlog import merkle  # noqa: E402

BATCH = 50_000


def generate_nodes(n: int):
    """Yield (level, index, hash) of every stored node of an n-leaf log, in append order,
    keeping only the compact range in memory."""
    frontier: dict[tuple[int, int], bytes] = {}
    for i in range(n):
        lh = merkle.leaf_hash(b"bench leaf %d" % i)
        rows = merkle.nodes_to_store_on_append(i, lh, lambda lv, ix: frontier[(lv, ix)])
        yield from rows
        # The compact range of i+1 leaves is all a later append will read.
        keep = set(merkle.compact_range(i + 1))
        top_level, top_index, top_hash = rows[-1]
        frontier[(top_level, top_index)] = top_hash
        for key in [k for k in frontier if k not in keep]:
            del frontier[key]


def fill(engine: sa.Engine, book_id: int, community_id: int, n: int) -> None:
    t0 = time.perf_counter()
    count = 0
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cur.copy(
                'COPY log_nodes (book_id, level, "index", community_id, hash) FROM STDIN'
            ) as copy:
                for level, index, h in generate_nodes(n):
                    copy.write_row((book_id, level, index, community_id, h))
                    count += 1
        else:
            batch = []
            sql = 'INSERT INTO log_nodes (book_id, level, "index", community_id, hash) VALUES (?, ?, ?, ?, ?)'
            cur.execute("BEGIN")
            for level, index, h in generate_nodes(n):
                batch.append((book_id, level, index, community_id, h))
                if len(batch) >= BATCH:
                    cur.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            cur.executemany(sql, batch)
            count += len(batch)
        cur.execute(f"UPDATE books SET log_size = {int(n)} WHERE id = {int(book_id)}")
        raw.commit()
    finally:
        raw.close()
    print(f"  stored {count:,} nodes for {n:,} leaves in {time.perf_counter() - t0:.1f} s")


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def report(name: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    verdict = "ok" if statistics.median(samples) < 5 else "SLOW"
    print(
        f"  {name:<20} median {statistics.median(samples):6.3f} ms   p99 {p99:6.3f} ms   "
        f"max {samples[-1]:6.3f} ms   [{verdict}]"
    )


def run(url: str, leaves: int, repeat: int, instance: str) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "bench",
            "FIELD_KEY": Fernet.generate_key().decode(),
            "TESTING": True,
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        from core.models import Community, Organisation
        from ledger import log
        from ledger.models import Book

        community = Community(name="bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
        db.session.add(community)
        db.session.flush()
        org = Organisation(
            community_id=community.id,
            name="bench",
            slug="bench",
            kind="enterprise",
            standard="SME_2011",
        )
        db.session.add(org)
        db.session.flush()
        book = Book(
            community_id=community.id,
            organisation_id=org.id,
            name="bench",
            standard="SME_2011",
            chart="CUSTOM",
            base_unit="CNY",
            log_size=0,
        )
        db.session.add(book)
        db.session.flush()
        book_id, community_id = book.id, community.id
        db.session.commit()
        db.session.close()  # the bulk load below uses a connection of its own

        print(f"{db.engine.dialect.name}: {leaves:,} leaves")
        fill(db.engine, book_id, community_id, leaves)

        size = leaves
        assert log.root(book_id, size) == _expected_root(leaves), (
            "the stored log gives a wrong root"
        )
        db.session.commit()

        rng = random.Random(2026)

        def append():
            nonlocal size
            log.append(book_id, community_id, size, b"appended %d" % size)
            db.session.flush()
            size += 1

        def root():
            log.root(book_id, size)

        def inclusion():
            log.inclusion_proof(book_id, rng.randrange(size), size)

        def consistency():
            log.consistency_proof(book_id, rng.randrange(1, size), size)

        report("append leaf + flush", timed(append, repeat))
        db.session.commit()
        report("root", timed(root, repeat))
        report("inclusion proof", timed(inclusion, repeat))
        report("consistency proof", timed(consistency, repeat))
        # Sanity: a proof from the database verifies against the database's roots.
        i, old = rng.randrange(size), rng.randrange(1, size)
        assert merkle.verify_inclusion(
            log.leaf_hash_at(book_id, i),
            i,
            size,
            log.inclusion_proof(book_id, i, size),
            log.root(book_id, size),
        )
        assert merkle.verify_consistency(
            old,
            size,
            log.root(book_id, old),
            log.root(book_id, size),
            log.consistency_proof(book_id, old, size),
        )
        db.session.remove()
        db.engine.dispose()


def _expected_root(n: int) -> bytes:
    frontier: list[bytes] = []
    for i in range(n):
        frontier = merkle.compact_range_append(frontier, i, merkle.leaf_hash(b"bench leaf %d" % i))
    return merkle.root_from_compact_range(frontier)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument(
        "--postgres", metavar="URL", help="a PostgreSQL server URL (a throwaway database is made)"
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_sqlite:
            run(f"sqlite:///{tmp}/bench.sqlite3", args.leaves, args.repeat, tmp)
        if args.postgres:
            name = "bench_" + uuid.uuid4().hex[:10]
            admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.exec_driver_sql(f'CREATE DATABASE "{name}"')
            try:
                url = (
                    sa.engine.make_url(args.postgres)
                    .set(database=name)
                    .render_as_string(hide_password=False)
                )
                run(url, args.leaves, args.repeat, tmp)
            finally:
                with admin.connect() as c:
                    c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()


if __name__ == "__main__":
    main()
