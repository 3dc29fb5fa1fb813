# SPDX-License-Identifier: AGPL-3.0-or-later
"""Benchmark for tlog.merkle's node-store API (a script, not a test).

Builds the node store of a log of N leaves in a dict, exactly as the
database-backed log would fill its table (one ``nodes_to_store_on_append``
per leaf), then times root / inclusion proof / consistency proof generation
from stored nodes, and proof verification, over many random queries.  It
reports the median and 99th percentile per operation and the number of node
reads, which is what matters once every read is a database round trip.

Usage::

    .venv/bin/python bench/bench_merkle.py [--leaves 1000000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tlog.merkle import (  # noqa: E402
    InMemoryNodeStore,
    consistency_proof_from_nodes,
    inclusion_proof_from_nodes,
    leaf_hash,
    root_from_nodes,
    verify_consistency,
    verify_inclusion,
)


class CountingGetter:
    def __init__(self, store: InMemoryNodeStore) -> None:
        self.nodes = store.nodes
        self.calls = 0

    def __call__(self, level: int, index: int) -> bytes:
        self.calls += 1
        return self.nodes[(level, index)]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Microseconds per call, one sample per call."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def report(name: str, samples: list[float], reads: list[int] | None = None) -> None:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    line = f"{name:<34} median {statistics.median(samples):8.1f} us   p99 {p99:8.1f} us"
    if reads:
        line += f"   node reads median {statistics.median(reads):.0f} max {max(reads)}"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=9162)
    args = parser.parse_args()
    n, q = args.leaves, args.queries
    rng = random.Random(args.seed)

    start = time.perf_counter()
    leaves = [leaf_hash(b"entry %d" % i) for i in range(n)]
    hashed = time.perf_counter() - start
    store = InMemoryNodeStore()
    start = time.perf_counter()
    for lh in leaves:
        store.append(lh)
    built = time.perf_counter() - start
    print(f"leaves: {n:,}   stored nodes: {len(store.nodes):,}")
    print(
        f"hash leaves: {hashed:.2f} s   build node store (append): {built:.2f} s "
        f"({built / n * 1e6:.2f} us/append)"
    )

    root = root_from_nodes(n, store.get_node)

    sizes = [rng.randint(1, n) for _ in range(q)]
    it = iter(sizes)
    report(
        "root_from_nodes(random size)", timed(lambda: root_from_nodes(next(it), store.get_node), q)
    )

    reads: list[int] = []
    indices = [rng.randrange(n) for _ in range(q)]

    def one_inclusion() -> list[bytes]:
        getter = CountingGetter(store)
        proof = inclusion_proof_from_nodes(n, indices[len(reads)], getter)
        reads.append(getter.calls)
        return proof

    report("inclusion_proof_from_nodes", timed(one_inclusion, q), reads)

    proofs = [inclusion_proof_from_nodes(n, i, store.get_node) for i in indices]
    it2 = iter(range(q))

    def one_verify_inclusion() -> None:
        k = next(it2)
        verify_inclusion(leaves[indices[k]], indices[k], n, proofs[k], root)

    report("verify_inclusion", timed(one_verify_inclusion, q))

    reads = []
    olds = [rng.randint(1, n - 1) for _ in range(q)]

    def one_consistency() -> list[bytes]:
        getter = CountingGetter(store)
        proof = consistency_proof_from_nodes(olds[len(reads)], n, getter)
        reads.append(getter.calls)
        return proof

    report("consistency_proof_from_nodes", timed(one_consistency, q), reads)

    cproofs = [consistency_proof_from_nodes(m, n, store.get_node) for m in olds]
    old_roots = [root_from_nodes(m, store.get_node) for m in olds]
    it3 = iter(range(q))

    def one_verify_consistency() -> None:
        k = next(it3)
        verify_consistency(olds[k], n, old_roots[k], root, cproofs[k])

    report("verify_consistency", timed(one_verify_consistency, q))


if __name__ == "__main__":
    main()
