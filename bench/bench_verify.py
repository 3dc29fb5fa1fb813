# SPDX-License-Identifier: AGPL-3.0-or-later
"""Benchmark: the standalone verifier on a large disclosure bundle (a script, not a test).

Generates a first report with N records (default 100,000) with tests/transparency/bundlegen.py
(no database), writes it to a temporary file, then times ``python -m transparency.verify`` on
it as a user would run it: a fresh interpreter, reading and parsing the file, every check.
Issue 4's target: under 10 s for 100,000 records.

Usage::

    .venv/bin/python bench/bench_verify.py [--records 100000] [--runs 3] [--keep FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.transparency.bundlegen import big_bundle  # noqa: E402
from tlog import notes  # noqa: E402

TARGET_SECONDS = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="also write the bundle to this path")
    args = parser.parse_args()

    t0 = time.perf_counter()
    book, bundle = big_bundle(args.records)
    data = json.dumps(bundle, ensure_ascii=False).encode("utf-8")
    gen = time.perf_counter() - t0
    print(
        f"generated a bundle of {args.records:,} records ({len(data) / 1e6:.1f} MB) in {gen:.1f} s"
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "bundle.json"
        path.write_bytes(data)
        cmd = [
            sys.executable,
            "-m",
            "transparency.verify",
            str(path),
            "--key",
            # the verifier key names the origin too, as the organisation's page shows it
            notes.vkey(book.origin, book.key),
        ]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        times, cpu = [], []
        for _ in range(args.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
            times.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if res.returncode != 0:
                print(res.stdout[-2000:], res.stderr[-2000:], sep="\n")
                print(f"FAILED: verifier exited {res.returncode}")
                return 1
    best, median = min(times), statistics.median(times)
    verdict = "OK" if median < TARGET_SECONDS else "SLOWER THAN TARGET"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"python -m transparency.verify on {args.records:,} records: wall median {median:.2f} s, "
        f"best {best:.2f} s; CPU (user+sys) median {statistics.median(cpu):.2f} s over "
        f"{args.runs} runs (target < {TARGET_SECONDS:.0f} s wall): {verdict}"
    )
    print(
        f"(load average {load:.1f} on {os.cpu_count()} CPUs: on a busy machine wall time > CPU time)"
    )
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
