# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tests for tlog.merkle (RFC 9162 §2.1 Merkle tree maths).

Three kinds of evidence:

* published known-answer vectors (copied, with their source, below);
* an independent, deliberately naive implementation of the RFC recursions
  (MTH / PATH / SUBPROOF on Python lists, hashing with hashlib directly)
  that every generated proof is compared against, exhaustively for small
  trees and with Hypothesis for larger ones;
* must-reject probes (modelled on the corruption probes of the CT and
  transparency-dev verifier tests, written afresh) that outnumber the
  must-pass cases, each checking *which* check failed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlog import merkle
from tlog.merkle import (
    EMPTY_ROOT,
    InMemoryNodeStore,
    VerificationError,
    compact_range,
    compact_range_append,
    consistency_proof,
    consistency_proof_from_nodes,
    consistency_proof_plan,
    hashes_from_plan,
    inclusion_proof,
    inclusion_proof_from_nodes,
    inclusion_proof_plan,
    leaf_hash,
    node_hash,
    nodes_to_store_on_append,
    root_from_compact_range,
    root_from_nodes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def h(hex_str: str) -> bytes:
    return bytes.fromhex(hex_str)


# ---------------------------------------------------------------------------
# Known-answer vectors.
#
# Leaf inputs, roots, inclusion paths and consistency proofs are copied from
# google/certificate-transparency cpp/merkletree/merkle_tree_test.cc
# (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs) and identical in
# transparency-dev/merkle proof/verify_test.go (leaves, roots,
# inclusionProofs, consistencyProofs).  Complete-subtree hashes and compact
# ranges are from transparency-dev/merkle testonly/constants.go (NodeHashes,
# CompactTrees).  Hasher vectors are from transparency-dev/merkle
# rfc6962/rfc6962_test.go.
# ---------------------------------------------------------------------------

RFC_LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]

# kSHA256EmptyTreeHash / EmptyRootHash(): SHA-256 of the empty string.
RFC_EMPTY_ROOT = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

# kSHA256Roots: roots of the trees of sizes 1..8 (index 0 is size 1).
RFC_ROOTS = [
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# NodeHashes(): [level][index] hashes of all complete subtrees of the 8-leaf tree.
RFC_NODE_HASHES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [
        h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    ],
]

# CompactTrees(): compact range of each size 0..8, as (level, index) into
# NodeHashes (the reference lists the hashes nh[level][index]).
RFC_COMPACT_TREES = [
    [],
    [(0, 0)],
    [(1, 0)],
    [(1, 0), (0, 2)],
    [(2, 0)],
    [(2, 0), (0, 4)],
    [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)],
    [(3, 0)],
]

# kSHA256Paths / inclusionProofs: (leaf, tree size, path).  NOTE: the
# reference numbers leaves from 1; we convert to 0-based index in the test.
RFC_INCLUSION_PATHS_1_BASED = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        3,
        3,
        [
            h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        ],
    ),
    (
        2,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]

# kSHA256Proofs / consistencyProofs: (old size, new size, proof); the
# (6, 7) vector appears only in transparency-dev/merkle proof/verify_test.go.
RFC_CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

RFC_LEAF_HASHES = [leaf_hash(d) for d in RFC_LEAF_INPUTS]


# ---------------------------------------------------------------------------
# Independent reference: RFC 9162 §2.1 recursions, literally, on lists.
# ---------------------------------------------------------------------------


def _ref_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _ref_k(n: int) -> int:
    """Largest power of two smaller than n (n > 1), by counting."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: Sequence[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = _ref_k(n)
    return _ref_node(ref_mth(leaves[:k]), ref_mth(leaves[k:]))


def ref_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _ref_k(n)
    if m < k:
        return ref_path(m, leaves[:k]) + [ref_mth(leaves[k:])]
    return ref_path(m - k, leaves[k:]) + [ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [ref_mth(leaves)]
    k = _ref_k(n)
    if m <= k:
        return ref_subproof(m, leaves[:k], b) + [ref_mth(leaves[k:])]
    return ref_subproof(m - k, leaves[k:], False) + [ref_mth(leaves[:k])]


def ref_proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    return ref_subproof(m, leaves, True)


# ---------------------------------------------------------------------------
# Shared fixtures
# ---------------------------------------------------------------------------

MAX_EXHAUSTIVE = 40
SIZES = range(1, MAX_EXHAUSTIVE + 1)


def make_leaves(n: int) -> list[bytes]:
    """The 8 RFC inputs first, then generated entries."""
    data = list(RFC_LEAF_INPUTS) + [b"entry %d" % i for i in range(8, n)]
    return [leaf_hash(d) for d in data[:n]]


LEAVES = make_leaves(MAX_EXHAUSTIVE)


@cache
def store_of(n: int) -> InMemoryNodeStore:
    store = InMemoryNodeStore()
    for lh in make_leaves(n):
        store.append(lh)
    return store


@cache
def ref_roots(n: int) -> tuple[bytes, ...]:
    return tuple(ref_mth(LEAVES[:s]) for s in range(n + 1))


def flip(b: bytes, bit: int = 3) -> bytes:
    """Flip one bit; ``bit`` counts from the start of the value."""
    out = bytearray(b)
    out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


class CountingGetter:
    """Wraps a NodeGetter, counting calls and refusing incomplete nodes."""

    def __init__(self, inner: Callable[[int, int], bytes], size: int) -> None:
        self.inner = inner
        self.size = size
        self.calls = 0

    def __call__(self, level: int, index: int) -> bytes:
        assert level >= 0 and index >= 0
        assert (index + 1) << level <= self.size, (
            f"({level}, {index}) not complete in size {self.size}"
        )
        self.calls += 1
        return self.inner(level, index)


def assert_rejected(check: set[str], fn: Callable[..., bool], *args: object) -> VerificationError:
    with pytest.raises(VerificationError) as info:
        fn(*args)
    err = info.value
    assert err.check in check, f"expected one of {sorted(check)}, got {err}"
    assert str(err).startswith(err.check + ": ")
    assert isinstance(err, ValueError)
    return err


# ---------------------------------------------------------------------------
# Known answers
# ---------------------------------------------------------------------------


def test_hasher_vectors() -> None:
    # transparency-dev/merkle rfc6962/rfc6962_test.go TestRFC6962Hasher.
    assert EMPTY_ROOT == RFC_EMPTY_ROOT == root_hash([])
    assert leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(b"L123456") == h(
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert node_hash(b"N123", b"N456") == h(
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_domain_separation() -> None:
    a, b = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert a != b
    assert node_hash(a, b) != leaf_hash(a + b)
    assert node_hash(a, b) != node_hash(b, a)


@pytest.mark.parametrize("size", range(1, 9))
def test_known_roots(size: int) -> None:
    assert root_hash(RFC_LEAF_HASHES[:size]) == RFC_ROOTS[size - 1]
    assert root_from_nodes(size, store_of(8).get_node) == RFC_ROOTS[size - 1]


def test_known_complete_subtrees_and_compact_ranges() -> None:
    store = store_of(8)
    expected = {
        (level, index): value
        for level, row in enumerate(RFC_NODE_HASHES)
        for index, value in enumerate(row)
    }
    assert store.nodes == expected
    for size, ids in enumerate(RFC_COMPACT_TREES):
        assert compact_range(size) == ids
        hashes = [RFC_NODE_HASHES[lvl][idx] for lvl, idx in ids]
        assert root_from_compact_range(hashes) == (RFC_ROOTS[size - 1] if size else RFC_EMPTY_ROOT)


@pytest.mark.parametrize(("leaf_1based", "size", "path"), RFC_INCLUSION_PATHS_1_BASED)
def test_known_inclusion_paths(leaf_1based: int, size: int, path: list[bytes]) -> None:
    index = leaf_1based - 1
    assert inclusion_proof(RFC_LEAF_HASHES[:size], index) == path
    assert inclusion_proof_from_nodes(size, index, store_of(8).get_node) == path
    assert verify_inclusion(RFC_LEAF_HASHES[index], index, size, path, RFC_ROOTS[size - 1]) is True


@pytest.mark.parametrize(("old", "new", "proof"), RFC_CONSISTENCY_PROOFS)
def test_known_consistency_proofs(old: int, new: int, proof: list[bytes]) -> None:
    assert consistency_proof(RFC_LEAF_HASHES[:new], old) == proof
    assert consistency_proof_from_nodes(old, new, store_of(8).get_node) == proof
    assert verify_consistency(old, new, RFC_ROOTS[old - 1], RFC_ROOTS[new - 1], proof) is True


# ---------------------------------------------------------------------------
# Exhaustive small trees: everything that should pass, passes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_roots_all_ways_agree(size: int) -> None:
    leaves = LEAVES[:size]
    want = ref_mth(leaves)
    assert root_hash(leaves) == want
    assert root_from_nodes(size, store_of(MAX_EXHAUSTIVE).get_node) == want
    assert store_of(size).root() == want
    frontier = [store_of(size).get_node(lvl, idx) for lvl, idx in compact_range(size)]
    assert len(frontier) == size.bit_count()
    assert root_from_compact_range(frontier) == want


@pytest.mark.parametrize("size", SIZES)
def test_every_inclusion_proof(size: int) -> None:
    leaves = LEAVES[:size]
    root = ref_roots(MAX_EXHAUSTIVE)[size]
    big = store_of(MAX_EXHAUSTIVE)
    for index in range(size):
        want = ref_path(index, leaves)
        assert inclusion_proof(leaves, index) == want
        assert inclusion_proof_from_nodes(size, index, big.get_node) == want
        assert len(want) == merkle._expected_inclusion_len(index, size)
        assert verify_inclusion(leaves[index], index, size, want, root) is True


@pytest.mark.parametrize("new", SIZES)
def test_every_consistency_proof(new: int) -> None:
    leaves = LEAVES[:new]
    roots = ref_roots(MAX_EXHAUSTIVE)
    big = store_of(MAX_EXHAUSTIVE)
    for old in range(1, new + 1):
        want = ref_proof(old, leaves)
        assert consistency_proof(leaves, old) == want
        assert consistency_proof_from_nodes(old, new, big.get_node) == want
        if old < new:
            assert len(want) == merkle._expected_consistency_len(old, new)
        assert verify_consistency(old, new, roots[old], roots[new], want) is True


def test_append_stores_exactly_the_complete_subtrees() -> None:
    store = InMemoryNodeStore()
    frontier: list[bytes] = []
    for n in range(1, MAX_EXHAUSTIVE + 1):
        rows = store.append(LEAVES[n - 1])
        # One row for the leaf plus one per trailing one-bit of the old size.
        trailing_ones = ((n - 1) ^ n).bit_length() - 1
        assert len(rows) == 1 + trailing_ones
        assert [(lvl, idx) for lvl, idx, _ in rows] == sorted((lvl, idx) for lvl, idx, _ in rows)
        complete = {
            (level, index) for level in range(n.bit_length()) for index in range(n >> level)
        }
        assert set(store.nodes) == complete
        for (level, index), value in store.nodes.items():
            assert value == ref_mth(LEAVES[index << level : (index + 1) << level])
        frontier = compact_range_append(frontier, n - 1, LEAVES[n - 1])
        assert frontier == [store.get_node(lvl, idx) for lvl, idx in compact_range(n)]
        assert root_from_compact_range(frontier) == ref_mth(LEAVES[:n])


def test_nodes_to_store_on_append_reads_only_left_siblings() -> None:
    store = store_of(MAX_EXHAUSTIVE)
    for size_before in range(MAX_EXHAUSTIVE):
        getter = CountingGetter(store.get_node, size_before)
        rows = nodes_to_store_on_append(size_before, LEAVES[size_before], getter)
        assert getter.calls == len(rows) - 1 <= max(size_before, 1).bit_length()
        for level, index, value in rows:
            assert store.nodes[(level, index)] == value


def test_verifier_extends_previous_compact_range() -> None:
    """The report workflow: ship the compact range before the period, the
    verifier appends the period's leaves and must reach the new root, and a
    consistency proof links the two published roots."""
    store = store_of(MAX_EXHAUSTIVE)
    for before in range(0, MAX_EXHAUSTIVE):
        shipped = [store.get_node(lvl, idx) for lvl, idx in compact_range(before)]
        assert root_from_compact_range(shipped) == ref_roots(MAX_EXHAUSTIVE)[before]
        for after in range(before, MAX_EXHAUSTIVE + 1):
            rng = list(shipped)
            for i in range(before, after):
                rng = compact_range_append(rng, i, LEAVES[i])
            assert root_from_compact_range(rng) == ref_roots(MAX_EXHAUSTIVE)[after]


def test_plan_lengths_and_read_counts_for_wider_sizes() -> None:
    """Plans agree with the closed-form proof lengths the verifier uses, and
    never need more than 2 * ceil(log2(n)) node reads."""
    for size in range(1, 300):
        bound = 2 * math.ceil(math.log2(size)) if size > 1 else 0
        for index in range(size):
            plan = inclusion_proof_plan(size, index)
            assert len(plan) == merkle._expected_inclusion_len(index, size)
            assert sum(len(element) for element in plan) <= bound
        for old in range(1, size):
            plan = consistency_proof_plan(old, size)
            assert len(plan) == merkle._expected_consistency_len(old, size)
            assert sum(len(element) for element in plan) <= bound


# ---------------------------------------------------------------------------
# Larger trees, with Hypothesis
# ---------------------------------------------------------------------------

HYPO_MAX = 1500


@cache
def hypo_leaves() -> list[bytes]:
    return [leaf_hash(b"h%d" % i) for i in range(HYPO_MAX)]


@cache
def hypo_store() -> InMemoryNodeStore:
    store = InMemoryNodeStore()
    for lh in hypo_leaves():
        store.append(lh)
    return store


hypo_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@hypo_settings
@given(st.data())
def test_hypothesis_inclusion_matches_reference(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, HYPO_MAX), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    leaves = hypo_leaves()[:size]
    getter = CountingGetter(hypo_store().get_node, size)
    proof = inclusion_proof_from_nodes(size, index, getter)
    assert proof == ref_path(index, leaves)
    assert getter.calls <= 2 * math.ceil(math.log2(size))
    root = root_from_nodes(size, hypo_store().get_node)
    assert verify_inclusion(leaves[index], index, size, proof, root)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        bad = list(proof)
        bad[j] = flip(bad[j], bit)
        assert_rejected({"root_mismatch"}, verify_inclusion, leaves[index], index, size, bad, root)


@hypo_settings
@given(st.data())
def test_hypothesis_consistency_matches_reference(data: st.DataObject) -> None:
    new = data.draw(st.integers(1, HYPO_MAX), label="new")
    old = data.draw(st.integers(1, new), label="old")
    leaves = hypo_leaves()[:new]
    getter = CountingGetter(hypo_store().get_node, new)
    proof = consistency_proof_from_nodes(old, new, getter)
    assert proof == ref_proof(old, leaves)
    assert getter.calls <= 2 * math.ceil(math.log2(new))
    old_root = root_from_nodes(old, hypo_store().get_node)
    new_root = root_from_nodes(new, hypo_store().get_node)
    assert verify_consistency(old, new, old_root, new_root, proof)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        bad = list(proof)
        bad[j] = flip(bad[j], bit)
        assert_rejected(
            {"old_root_mismatch", "new_root_mismatch"},
            verify_consistency,
            old,
            new,
            old_root,
            new_root,
            bad,
        )


# ---------------------------------------------------------------------------
# O(log n) node reads
# ---------------------------------------------------------------------------


class UniformTree:
    """A virtual, internally consistent tree of ``size`` identical leaves:
    every complete subtree at a level has the same hash, so any node is O(1)
    and a 2**20-leaf store needs no memory.  Proofs from it still verify."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.level_hashes = [leaf_hash(b"same")]
        for _ in range(64):
            self.level_hashes.append(node_hash(self.level_hashes[-1], self.level_hashes[-1]))

    def __call__(self, level: int, index: int) -> bytes:
        return self.level_hashes[level]


def test_node_reads_are_logarithmic_for_a_big_tree() -> None:
    n = 2**20 + 12345
    limit = 4 * math.log2(n)
    tight = 2 * math.ceil(math.log2(n))
    tree = UniformTree(n)

    getter = CountingGetter(tree, n)
    root = root_from_nodes(n, getter)
    assert getter.calls == n.bit_count() <= limit

    for index in (0, 1, 12345, 2**19 + 7, 2**20 - 1, 2**20, 2**20 + 1, n - 2, n - 1):
        getter = CountingGetter(tree, n)
        proof = inclusion_proof_from_nodes(n, index, getter)
        assert getter.calls <= tight <= limit
        assert verify_inclusion(tree.level_hashes[0], index, n, proof, root)

    for old in (1, 2, 3, 777, 2**19, 2**20 - 1, 2**20, 2**20 + 1, 2**20 + 4096, n - 1, n):
        getter = CountingGetter(tree, n)
        proof = consistency_proof_from_nodes(old, n, getter)
        assert getter.calls <= tight <= limit
        old_root = root_from_nodes(old, tree)
        assert verify_consistency(old, n, old_root, root, proof)

    getter = CountingGetter(tree, n + 1)
    rows = nodes_to_store_on_append(n, tree.level_hashes[0], getter)
    assert getter.calls == len(rows) - 1 <= math.log2(n)


def test_plan_allows_one_batched_fetch() -> None:
    """A database can fetch every node a proof needs in one query."""
    store = store_of(MAX_EXHAUSTIVE)
    plan = consistency_proof_plan(13, 37)
    wanted = {nid for element in plan for nid in element}
    fetched = {nid: store.nodes[nid] for nid in wanted}
    proof = hashes_from_plan(plan, lambda lvl, idx: fetched[(lvl, idx)])
    assert proof == ref_proof(13, LEAVES[:37])


# ---------------------------------------------------------------------------
# Must-reject: inclusion
# ---------------------------------------------------------------------------

Z32 = bytes(32)
MISMATCH = {"root_mismatch"}
WRONG_POSITION = {"bad_size", "index_out_of_range", "proof_length", "root_mismatch"}


def inclusion_probes(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> list[tuple[str, set[str], tuple[object, ...]]]:
    """(description, acceptable failed checks, verify_inclusion args)."""
    probes: list[tuple[str, set[str], tuple[object, ...]]] = [
        ("index-1", WRONG_POSITION, (leaf, index - 1, size, proof, root)),
        ("index+1", WRONG_POSITION, (leaf, index + 1, size, proof, root)),
        ("index^2", WRONG_POSITION, (leaf, index ^ 2, size, proof, root)),
        ("index=size", {"index_out_of_range"}, (leaf, size, size, proof, root)),
        ("index>size", {"index_out_of_range"}, (leaf, size + 5, size, proof, root)),
        ("size*2", WRONG_POSITION, (leaf, index, size * 2, proof, root)),
        ("size//2", WRONG_POSITION, (leaf, index, size // 2, proof, root)),
        ("size=0", {"index_out_of_range"}, (leaf, index, 0, proof, root)),
        ("flipped leaf", MISMATCH, (flip(leaf), index, size, proof, root)),
        ("flipped leaf last bit", MISMATCH, (flip(leaf, 255), index, size, proof, root)),
        ("flipped root", MISMATCH, (leaf, index, size, proof, flip(root, 77))),
        ("empty-tree root", MISMATCH, (leaf, index, size, proof, EMPTY_ROOT)),
        ("short leaf", {"hash_length"}, (b"WrongLeaf", index, size, proof, root)),
        ("long root", {"hash_length"}, (leaf, index, size, proof, root + b"\x00")),
        ("hex root", {"hash_length"}, (leaf, index, size, proof, root.hex())),
        ("extended with root", {"proof_length"}, (leaf, index, size, [*proof, root], root)),
        ("extended with zeros", {"proof_length"}, (leaf, index, size, [*proof, Z32], root)),
        ("prepended root", {"proof_length"}, (leaf, index, size, [root, *proof], root)),
        ("trailing empty", {"hash_length"}, (leaf, index, size, [*proof, b""], root)),
        ("preceding empty", {"hash_length"}, (leaf, index, size, [b"", *proof], root)),
    ]
    if size > 1:
        probes.append(("leaf as root", MISMATCH, (leaf, index, size, proof, leaf)))
    if proof:
        probes.append(("truncated", {"proof_length"}, (leaf, index, size, proof[:-1], root)))
        probes.append(("first dropped", {"proof_length"}, (leaf, index, size, proof[1:], root)))
        probes.append(
            (
                "short element",
                {"hash_length"},
                (leaf, index, size, [proof[0][:31], *proof[1:]], root),
            )
        )
        probes.append(
            (
                "replaced by empty root",
                MISMATCH,
                (leaf, index, size, [EMPTY_ROOT, *proof[1:]], root),
            )
        )
    for j in range(len(proof)):
        bad = list(proof)
        bad[j] = flip(bad[j], 8 * j + 3)
        probes.append((f"flipped proof[{j}]", MISMATCH, (leaf, index, size, bad, root)))
    if len(proof) > 1 and proof[0] != proof[1]:
        probes.append(
            (
                "swapped proof[0:2]",
                MISMATCH,
                (leaf, index, size, [proof[1], proof[0], *proof[2:]], root),
            )
        )
    return probes


@pytest.mark.parametrize("size", SIZES)
def test_inclusion_rejects_every_corruption(size: int) -> None:
    leaves = LEAVES[:size]
    root = ref_roots(MAX_EXHAUSTIVE)[size]
    rejected = 0
    for index in range(size):
        proof = inclusion_proof(leaves, index)
        for desc, checks, args in inclusion_probes(leaves[index], index, size, proof, root):
            try:
                assert_rejected(checks, verify_inclusion, *args)
            except AssertionError as exc:  # pragma: no cover - diagnostic only
                raise AssertionError(f"size {size} index {index} probe {desc!r}: {exc}") from exc
            rejected += 1
    assert rejected >= 20 * size  # far more must-reject than must-pass cases


def test_inclusion_reports_which_check_failed() -> None:
    leaves, root = RFC_LEAF_HASHES, RFC_ROOTS[7]
    proof = inclusion_proof(leaves, 5)
    err = assert_rejected({"root_mismatch"}, verify_inclusion, leaves[4], 5, 8, proof, root)
    assert "root" in str(err)
    err = assert_rejected({"proof_length"}, verify_inclusion, leaves[5], 5, 8, proof[:2], root)
    assert "needs 3 hashes, got 2" in str(err)
    err = assert_rejected({"index_out_of_range"}, verify_inclusion, leaves[5], 8, 8, proof, root)
    assert "index 8 >= tree_size 8" in str(err)
    err = assert_rejected(
        {"hash_length"}, verify_inclusion, leaves[5], 5, 8, [proof[0], b"x", proof[2]], root
    )
    assert "proof[1]" in str(err)
    assert_rejected({"proof_format"}, verify_inclusion, leaves[5], 5, 8, proof[0], root)
    assert_rejected({"proof_format"}, verify_inclusion, leaves[5], 5, 8, None, root)
    # Binary columns may come back as memoryview/bytearray: accepted.
    assert verify_inclusion(memoryview(leaves[5]), 5, 8, [bytearray(p) for p in proof], root)
    assert_rejected({"bad_size"}, verify_inclusion, leaves[5], 5.0, 8, proof, root)
    assert_rejected({"bad_size"}, verify_inclusion, leaves[5], True, 8, proof, root)
    assert_rejected({"index_out_of_range"}, verify_inclusion, leaves[0], 0, 0, [], EMPTY_ROOT)


def test_inclusion_single_leaf_tree() -> None:
    # After transparency-dev TestVerifyInclusionSingleEntry: root == leaf hash.
    lh = leaf_hash(b"data")
    assert verify_inclusion(lh, 0, 1, [], lh)
    assert_rejected({"hash_length"}, verify_inclusion, lh, 0, 1, [], b"")
    assert_rejected({"hash_length"}, verify_inclusion, b"", 0, 1, [], lh)
    assert_rejected({"root_mismatch"}, verify_inclusion, lh, 0, 1, [], leaf_hash(b"other"))
    assert_rejected({"proof_length"}, verify_inclusion, lh, 0, 1, [lh], lh)


def test_inclusion_tree_size_is_bound_only_through_proof_shape() -> None:
    """Documented RFC property, not a bug: leaf 0's path in a 3-leaf tree has
    the same shape as in a 4-leaf tree, so the same (proof, root) verifies
    for both sizes.  Size is bound to the root by the signed tree head, which
    is why callers must take (size, root) together from a signed checkpoint."""
    leaves = LEAVES[:3]
    proof, root = inclusion_proof(leaves, 0), root_hash(leaves)
    assert verify_inclusion(leaves[0], 0, 3, proof, root)
    assert verify_inclusion(leaves[0], 0, 4, proof, root)


def test_rfc_loop_checks_are_live_behind_the_length_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the up-front length check neutralised, the RFC's own steps (4a/5
    of §2.1.3.2, 6a/7 of §2.1.4.2) still reject too-long and too-short
    proofs: the length check is an extra, clearer error, not the only guard."""

    def lenient(proof: list[bytes]) -> list[bytes]:
        """Make the expected length whatever this proof's length is."""
        monkeypatch.setattr(merkle, "_expected_inclusion_len", lambda index, size: len(proof))
        monkeypatch.setattr(merkle, "_expected_consistency_len", lambda old, new: len(proof))
        return proof

    leaves = LEAVES[:11]
    root = root_hash(leaves)
    proof = inclusion_proof(leaves, 6)
    assert verify_inclusion(leaves[6], 6, 11, lenient(proof), root)
    too_long = lenient([*proof, Z32])
    assert_rejected({"proof_too_long"}, verify_inclusion, leaves[6], 6, 11, too_long, root)
    too_short = lenient(proof[:-1])
    assert_rejected({"proof_too_short"}, verify_inclusion, leaves[6], 6, 11, too_short, root)

    old_root = root_hash(leaves[:6])
    cproof = consistency_proof(leaves, 6)
    assert len(cproof) > 1
    assert verify_consistency(6, 11, old_root, root, lenient(cproof))
    too_long = lenient([*cproof, Z32])
    assert_rejected({"proof_too_long"}, verify_consistency, 6, 11, old_root, root, too_long)
    too_short = lenient(cproof[:-1])
    assert_rejected({"proof_too_short"}, verify_consistency, 6, 11, old_root, root, too_short)


# ---------------------------------------------------------------------------
# Must-reject: consistency
# ---------------------------------------------------------------------------

ROOTS_MISMATCH = {"old_root_mismatch", "new_root_mismatch"}
SHORTENED = {"proof_length", "proof_empty"}  # a 1-hash proof shortens to empty
WRONG_SIZES = {
    "old_size_zero",
    "old_size_gt_new_size",
    "equal_sizes_nonempty_proof",
    "proof_length",
    "old_root_mismatch",
    "new_root_mismatch",
}


def consistency_probes(
    old: int, new: int, r1: bytes, r2: bytes, proof: list[bytes]
) -> list[tuple[str, set[str], tuple[object, ...]]]:
    """(description, acceptable failed checks, verify_consistency args) for a
    non-trivial proof (0 < old < new)."""
    probes: list[tuple[str, set[str], tuple[object, ...]]] = [
        ("old-1", WRONG_SIZES, (old - 1, new, r1, r2, proof)),
        ("old+1", WRONG_SIZES, (old + 1, new, r1, r2, proof)),
        ("old^2", WRONG_SIZES, (old ^ 2, new, r1, r2, proof)),
        ("new*2", WRONG_SIZES, (old, new * 2, r1, r2, proof)),
        ("new//2", WRONG_SIZES, (old, new // 2, r1, r2, proof)),
        ("old=0", {"old_size_zero"}, (0, new, r1, r2, proof)),
        ("old=0 empty proof", {"old_size_zero"}, (0, new, EMPTY_ROOT, r2, [])),
        ("old>new", {"old_size_gt_new_size"}, (new, old, r2, r1, proof)),
        ("equal sizes with proof", {"equal_sizes_nonempty_proof"}, (new, new, r2, r2, proof)),
        ("equal sizes, other root", {"equal_sizes_root_mismatch"}, (new, new, r2, r1, [])),
        ("flipped old root", ROOTS_MISMATCH, (old, new, flip(r1), r2, proof)),
        ("flipped new root", {"new_root_mismatch"}, (old, new, r1, flip(r2, 200), proof)),
        ("swapped roots", ROOTS_MISMATCH, (old, new, r2, r1, proof)),
        ("empty-tree old root", ROOTS_MISMATCH, (old, new, EMPTY_ROOT, r2, proof)),
        ("short old root", {"hash_length"}, (old, new, b"WrongRoot", r2, proof)),
        ("short new root", {"hash_length"}, (old, new, r1, b"WrongRoot", proof)),
        ("empty proof", {"proof_empty"}, (old, new, r1, r2, [])),
        ("truncated", SHORTENED, (old, new, r1, r2, proof[:-1])),
        ("first dropped", SHORTENED, (old, new, r1, r2, proof[1:])),
        ("trailing root1", {"proof_length"}, (old, new, r1, r2, [*proof, r1])),
        ("trailing root2", {"proof_length"}, (old, new, r1, r2, [*proof, r2])),
        ("trailing empty", {"hash_length"}, (old, new, r1, r2, [*proof, b""])),
        ("preceding empty", {"hash_length"}, (old, new, r1, r2, [b"", *proof])),
        ("preceding root1", {"proof_length"}, (old, new, r1, r2, [r1, *proof])),
        ("preceding root2", {"proof_length"}, (old, new, r1, r2, [r2, *proof])),
        ("preceding proof[0]", {"proof_length"}, (old, new, r1, r2, [proof[0], *proof])),
        ("short element", {"hash_length"}, (old, new, r1, r2, [*proof[:-1], proof[-1][:31]])),
    ]
    for j in range(len(proof)):
        bad = list(proof)
        bad[j] = flip(bad[j], 8 * j + 4)
        probes.append((f"flipped proof[{j}]", ROOTS_MISMATCH, (old, new, r1, r2, bad)))
        bad = list(proof)
        bad[j] = EMPTY_ROOT
        probes.append((f"proof[{j}] replaced", ROOTS_MISMATCH, (old, new, r1, r2, bad)))
    return probes


@pytest.mark.parametrize("new", range(2, MAX_EXHAUSTIVE + 1))
def test_consistency_rejects_every_corruption(new: int) -> None:
    leaves = LEAVES[:new]
    roots = ref_roots(MAX_EXHAUSTIVE)
    rejected = 0
    for old in range(1, new):
        proof = consistency_proof(leaves, old)
        for desc, checks, args in consistency_probes(old, new, roots[old], roots[new], proof):
            try:
                assert_rejected(checks, verify_consistency, *args)
            except AssertionError as exc:  # pragma: no cover - diagnostic only
                raise AssertionError(f"{old}->{new} probe {desc!r}: {exc}") from exc
            rejected += 1
    assert rejected >= 25 * (new - 1)


def test_consistency_edge_cases() -> None:
    # After the CT / transparency-dev TestVerifyConsistency edge cases, with
    # our stricter rule that size 0 is never accepted.
    r = RFC_ROOTS
    assert verify_consistency(1, 1, r[0], r[0], [])
    assert verify_consistency(8, 8, r[7], r[7], [])
    assert_rejected({"old_size_zero"}, verify_consistency, 0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert_rejected({"old_size_zero"}, verify_consistency, 0, 1, EMPTY_ROOT, r[0], [])
    assert_rejected({"old_size_gt_new_size"}, verify_consistency, 1, 0, r[0], EMPTY_ROOT, [])
    assert_rejected({"old_size_gt_new_size"}, verify_consistency, 2, 1, r[1], r[0], [])
    assert_rejected({"proof_empty"}, verify_consistency, 1, 2, r[0], r[1], [])
    assert_rejected({"equal_sizes_root_mismatch"}, verify_consistency, 1, 1, EMPTY_ROOT, r[0], [])
    assert_rejected(
        {"equal_sizes_nonempty_proof"}, verify_consistency, 1, 1, r[0], r[0], [EMPTY_ROOT]
    )
    assert_rejected({"bad_size"}, verify_consistency, -1, 1, r[0], r[0], [])
    assert_rejected({"hash_length"}, verify_consistency, 1, 1, r[0].hex(), r[0], [])


def test_consistency_reports_which_check_failed() -> None:
    r = RFC_ROOTS
    proof = consistency_proof(RFC_LEAF_HASHES, 6)
    err = assert_rejected({"old_root_mismatch"}, verify_consistency, 6, 8, r[4], r[7], proof)
    assert "old root" in str(err)
    err = assert_rejected({"new_root_mismatch"}, verify_consistency, 6, 8, r[5], r[6], proof)
    assert "new root" in str(err)
    err = assert_rejected({"proof_length"}, verify_consistency, 6, 8, r[5], r[7], proof[:2])
    assert "from 6 to 8 needs 3 hashes, got 2" in str(err)


# ---------------------------------------------------------------------------
# Generator and storage argument errors
# ---------------------------------------------------------------------------


def test_generators_refuse_bad_arguments() -> None:
    leaves = LEAVES[:5]
    with pytest.raises(ValueError):
        inclusion_proof(leaves, 5)
    with pytest.raises(ValueError):
        inclusion_proof([], 0)
    with pytest.raises(ValueError):
        inclusion_proof(leaves, -1)
    with pytest.raises(ValueError):
        consistency_proof(leaves, 0)
    with pytest.raises(ValueError):
        consistency_proof(leaves, 6)
    with pytest.raises(TypeError):
        compact_range(2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        root_hash([*leaves, b"short"])
    with pytest.raises(ValueError):
        compact_range_append([], 1, leaves[0])  # size 1 needs one hash
    with pytest.raises(ValueError):
        compact_range_append([leaves[0]], 1, b"short")
    with pytest.raises(ValueError):
        root_from_compact_range([leaves[0], b"short"])
    with pytest.raises(ValueError):
        root_from_nodes(3, lambda level, index: b"corrupt row")
    with pytest.raises(ValueError):
        nodes_to_store_on_append(1, leaves[1], lambda level, index: leaves[0].hex().encode())
    with pytest.raises(ValueError):
        store_of(5).root(6)
    assert consistency_proof(leaves, 5) == []
    assert (
        root_from_nodes(0, lambda level, index: pytest.fail("no reads for the empty tree"))
        == EMPTY_ROOT
    )
