# SPDX-License-Identifier: AGPL-3.0-or-later
"""Merkle tree maths for the Commons Ledger transparency log (RFC 9162 §2.1).

This module is deliberately self-contained: it imports only the standard
library and nothing from the project, so that the standalone report verifier
can ship this single file and check a report without trusting our code base.

Hashing (RFC 9162 §2.1.1), SHA-256 throughout::

    leaf_hash(d)      = SHA-256(0x00 || d)
    node_hash(l, r)   = SHA-256(0x01 || l || r)
    MTH({})           = SHA-256("")                (the empty tree)
    MTH(D[n])         = node_hash(MTH(D[0:k]), MTH(D[k:n])),
                        k = largest power of two smaller than n

The 0x00 / 0x01 prefixes give domain separation between leaves and interior
nodes, which is what stops a second-preimage attack that presents an interior
node as a leaf.

List-based API (all leaf hashes in memory)
-----------------------------------------
``root_hash(leaf_hashes)``
    MTH of the leaves (§2.1.1).
``inclusion_proof(leaf_hashes, index)``
    PATH(index, D[n]) of §2.1.3.1, leaf-to-root order.
``consistency_proof(leaf_hashes, old_size)``
    PROOF(old_size, D[n]) = SUBPROOF(old_size, D[n], true) of §2.1.4.1.

Verification
------------
``verify_inclusion(leaf_hash, index, tree_size, proof, root)``
    §2.1.3.2, step by step.
``verify_consistency(old_size, new_size, old_root, new_root, proof)``
    §2.1.4.2, step by step.

Both return ``True`` or raise :class:`VerificationError` (a ``ValueError``).
The error's ``check`` attribute is a short stable identifier of the check that
failed (e.g. ``"root_mismatch"``) and its message explains it.  Where the RFC
is silent we are strict: hashes must be exactly 32 bytes, proofs must have
exactly the length the sizes imply, ``index >= tree_size`` is rejected, a
consistency proof *from* size 0 is rejected (there is nothing to be
consistent with; the RFC only defines 0 < first < second), ``old_size >
new_size`` is rejected, and equal sizes pass only with an empty proof and
identical roots.

Node-store API (what the database-backed log uses)
--------------------------------------------------
The log stores only leaf hashes and the hashes of *complete* subtrees.  A
complete subtree is named by ``NodeId = (level, index)``: it covers leaves
``[index * 2**level, (index + 1) * 2**level)``.  Level 0 nodes are the leaf
hashes themselves.  Complete subtrees never change once they exist, so they
can be written once and cached forever; every RFC tree hash of any size is a
right-to-left fold of at most ``log2(n) + 1`` of them.

``NodeGetter = Callable[[int, int], bytes]``
    ``get_node(level, index)`` returns the stored hash of that subtree.
``nodes_to_store_on_append(size_before, new_leaf, get_node)``
    The ``(level, index, hash)`` rows that become complete when leaf number
    ``size_before`` is appended: the leaf itself plus one row per trailing
    one-bit of ``size_before``.  Uses exactly that many ``get_node`` calls.
``compact_range(size)``
    The NodeIds of the complete subtrees that make up the first ``size``
    leaves, left to right (largest first): one per set bit of ``size``.
``root_from_nodes(size, get_node)``,
``inclusion_proof_from_nodes(size, index, get_node)``,
``consistency_proof_from_nodes(old_size, new_size, get_node)``
    Same results as the list-based functions, with O(log n) ``get_node``
    calls (never more than ``2 * ceil(log2(n))``; the tests check this).

The proof *shape* has a single source of truth, the planning functions:

``inclusion_proof_plan(size, index)``, ``consistency_proof_plan(old, new)``
    Return a :data:`ProofPlan`: one tuple of NodeIds per proof element.  Each
    element's hash is the right-to-left fold of its NodeIds' hashes
    (:func:`hashes_from_plan`).  A database layer can collect every NodeId in
    a plan, fetch them all in one query, and then call ``hashes_from_plan``
    with a dict-backed getter, instead of making one round trip per node.

The ``*_from_nodes`` functions are ``hashes_from_plan(plan, get_node)``, and
the list-based functions are the ``*_from_nodes`` functions over a memoised
getter that computes complete subtrees from the in-memory leaf list.

Compact ranges (for the verifier)
---------------------------------
A report ships the compact range (the hashes of ``compact_range(size)``) of
the log before its period.  The verifier appends the period's leaves with
``compact_range_append(range_hashes, size, leaf_hash)`` and folds the result
with ``root_from_compact_range(hashes)``; if that equals the published new
root, the period's leaves are exactly what was appended.

:class:`InMemoryNodeStore` is a dict-backed reference implementation of the
storage contract, used by tests and the benchmark and handy for tooling.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

__all__ = [
    "HASH_SIZE",
    "EMPTY_ROOT",
    "NodeId",
    "NodeGetter",
    "ProofPlan",
    "VerificationError",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "inclusion_proof",
    "consistency_proof",
    "verify_inclusion",
    "verify_consistency",
    "compact_range",
    "nodes_to_store_on_append",
    "nodes_to_store_on_appends",
    "inclusion_proof_plan",
    "consistency_proof_plan",
    "hashes_from_plan",
    "root_from_nodes",
    "inclusion_proof_from_nodes",
    "consistency_proof_from_nodes",
    "root_from_compact_range",
    "compact_range_append",
    "InMemoryNodeStore",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1)."""

NodeId = tuple[int, int]
"""``(level, index)`` of a complete subtree covering
``[index * 2**level, (index + 1) * 2**level)``."""

NodeGetter = Callable[[int, int], bytes]
"""``get_node(level, index)`` -> stored hash of that complete subtree."""

ProofPlan = list[tuple[NodeId, ...]]
"""One tuple of NodeIds per proof element; each element's hash is the
right-to-left fold of the listed complete subtrees."""


class VerificationError(ValueError):
    """A proof or its inputs failed a verification check.

    ``check`` is a short, stable identifier of the failed check so callers
    (and the verifier's report) can react to it without parsing English.
    """

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(f"{check}: {detail}")
        self.check = check
        self.detail = detail


# --------------------------------------------------------------------------
# Hashing (RFC 9162 §2.1.1)
# --------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one log entry."""
    # update() rather than bytes(data): bytes(5) would silently hash five
    # zero bytes, whereas update() refuses anything that is not a buffer.
    digest = hashlib.sha256(b"\x00")
    digest.update(data)
    return digest.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


# --------------------------------------------------------------------------
# Small helpers: bit arithmetic and argument checks
# --------------------------------------------------------------------------


def _split_point(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n >= 2``): the
    RFC's ``k`` that splits D[n] into D[0:k] and D[k:n]."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_size_arg(name: str, value: int) -> None:
    """Reject non-integers (including bool) and negatives for generators."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


_BYTES_LIKE = (bytes, bytearray, memoryview)


def _check_stored_hash(value: object, what: str) -> bytes:
    """Storage or callers handed us a hash: make sure it is 32 bytes, because
    a truncated or hex-encoded value would silently produce a wrong root.
    bytearray / memoryview (what some database drivers return for binary
    columns) are accepted and copied to bytes."""
    if not isinstance(value, _BYTES_LIKE):
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {type(value).__name__}")
    value = bytes(value)
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")
    return value


# --------------------------------------------------------------------------
# Complete subtrees and compact ranges
# --------------------------------------------------------------------------


def _aligned_range_nodes(start: int, end: int) -> tuple[NodeId, ...]:
    """NodeIds of the complete subtrees that make up leaves [start, end),
    largest first.

    Every range the RFC recursion visits starts at a multiple of a power of
    two that is >= its length, so the binary decomposition of ``end - start``
    laid out from ``start`` yields aligned, complete subtrees, and MTH of the
    range is their right-to-left fold (each RFC split takes the largest power
    of two as the left child).
    """
    nodes: list[NodeId] = []
    pos = start
    remaining = end - start
    while remaining:
        level = remaining.bit_length() - 1
        if pos & ((1 << level) - 1):
            raise AssertionError(f"range [{start}, {end}) is not aligned")
        nodes.append((level, pos >> level))
        pos += 1 << level
        remaining -= 1 << level
    return tuple(nodes)


def compact_range(size: int) -> list[NodeId]:
    """The compact range (frontier) of a tree of ``size`` leaves.

    One complete subtree per set bit of ``size``, left to right, largest
    first.  Folding their hashes right to left gives the RFC root, which is
    why this is all a verifier needs to carry forward between reports.
    """
    _check_size_arg("size", size)
    return list(_aligned_range_nodes(0, size))


def nodes_to_store_on_append(
    size_before: int, new_leaf: bytes, get_node: NodeGetter
) -> list[tuple[int, int, bytes]]:
    """Rows ``(level, index, hash)`` that become complete when leaf number
    ``size_before`` is appended, lowest level first.

    Appending leaf ``i`` completes the leaf itself and then one more subtree
    for each trailing one-bit of ``i`` (the left siblings it now pairs with),
    so this costs exactly ``trailing_ones(size_before)`` ``get_node`` calls,
    at most log2(n).  Writing these rows in the same transaction as the leaf
    keeps the store's invariant: every complete subtree is stored.
    """
    _check_size_arg("size_before", size_before)
    h = _check_stored_hash(new_leaf, "new_leaf")
    rows = [(0, size_before, h)]
    level, index = 0, size_before
    while index & 1:
        left = _check_stored_hash(get_node(level, index - 1), f"node ({level}, {index - 1})")
        h = node_hash(left, h)
        level, index = level + 1, index >> 1
        rows.append((level, index, h))
    return rows


def nodes_to_store_on_appends(
    size_before: int, frontier: Sequence[bytes], new_leaves: Sequence[bytes]
) -> tuple[list[tuple[int, int, bytes]], list[bytes]]:
    """Batch form of :func:`nodes_to_store_on_append`: append ``new_leaves`` (leaf hashes)
    after the first ``size_before`` leaves, given the hashes of ``compact_range(size_before)``
    (``frontier``, left to right).

    Returns the rows ``(level, index, hash)`` to store, in append order (each leaf's rows
    lowest level first, exactly what one call per leaf would return), and the hashes of the
    compact range after the last leaf. No storage reads: a complete subtree's left sibling is
    always on the frontier, which is updated as leaves are appended.
    """
    _check_size_arg("size_before", size_before)
    if len(frontier) != size_before.bit_count():
        raise ValueError(
            f"compact range for size {size_before} must have {size_before.bit_count()} "
            f"hashes, got {len(frontier)}"
        )
    stack = [_check_stored_hash(h, f"compact range hash {i}") for i, h in enumerate(frontier)]
    rows: list[tuple[int, int, bytes]] = []
    add, pop, push = rows.append, stack.pop, stack.append
    sha256 = hashlib.sha256
    size = size_before
    for i, leaf in enumerate(new_leaves):
        h = leaf if type(leaf) is bytes and len(leaf) == HASH_SIZE else None
        if h is None:
            h = _check_stored_hash(leaf, f"new leaf {i}")
        add((0, size, h))
        level, index = 0, size
        while index & 1:
            h = sha256(b"\x01" + pop() + h).digest()  # node_hash(left sibling, h)
            level, index = level + 1, index >> 1
            add((level, index, h))
        push(h)
        size += 1
    return rows, stack


# --------------------------------------------------------------------------
# Proof plans: the single source of truth for proof shape
# --------------------------------------------------------------------------


def inclusion_proof_plan(size: int, index: int) -> ProofPlan:
    """Shape of PATH(index, D[size]) (RFC 9162 §2.1.3.1), leaf-to-root order.

    Walks the RFC recursion from the root down, recording at each split the
    subtree on the *other* side, then reverses (the RFC lists the deepest
    sibling first).  Every sibling is a complete subtree except possibly one
    right-hand range, which is folded from its compact decomposition.
    """
    _check_size_arg("size", size)
    _check_size_arg("index", index)
    if index >= size:
        raise ValueError(f"index {index} out of range for tree size {size}")
    plan: ProofPlan = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split_point(end - start)
        if index < mid:
            plan.append(_aligned_range_nodes(mid, end))
            end = mid
        else:
            plan.append(_aligned_range_nodes(start, mid))
            start = mid
    plan.reverse()
    return plan


def consistency_proof_plan(old_size: int, new_size: int) -> ProofPlan:
    """Shape of PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1).

    SUBPROOF(m, D[n], b): if m == n the result is empty when b is true (the
    verifier already has that root) and [MTH(D[n])] otherwise; if m <= k it
    is SUBPROOF(m, D[0:k], b) : MTH(D[k:n]); else SUBPROOF(m-k, D[k:n],
    false) : MTH(D[0:k]).  We walk that recursion iteratively with absolute
    leaf positions and reverse at the end.  ``old_size == new_size`` gives
    the empty proof; ``old_size == 0`` is refused because there is no
    meaningful proof from the empty tree (and the verifier rejects it).
    """
    _check_size_arg("old_size", old_size)
    _check_size_arg("new_size", new_size)
    if old_size == 0:
        raise ValueError("consistency proof from size 0 is not defined")
    if old_size > new_size:
        raise ValueError(f"old_size {old_size} > new_size {new_size}")
    plan: ProofPlan = []
    if old_size == new_size:
        return plan
    start, end = 0, new_size
    have_root = True  # the RFC's b: is this subtree's hash the old root?
    while end != old_size:
        mid = start + _split_point(end - start)
        if old_size <= mid:
            plan.append(_aligned_range_nodes(mid, end))
            end = mid
        else:
            plan.append(_aligned_range_nodes(start, mid))
            start = mid
            have_root = False
    if not have_root:
        plan.append(_aligned_range_nodes(start, end))
    plan.reverse()
    return plan


def _fold(nodes: Sequence[NodeId], get_node: NodeGetter) -> bytes:
    """Right-to-left fold of complete-subtree hashes into one MTH."""
    hashes = [_check_stored_hash(get_node(lvl, idx), f"node ({lvl}, {idx})") for lvl, idx in nodes]
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def hashes_from_plan(plan: ProofPlan, get_node: NodeGetter) -> list[bytes]:
    """Turn a proof plan into proof hashes, calling ``get_node`` once per
    NodeId in the plan."""
    return [_fold(element, get_node) for element in plan]


# --------------------------------------------------------------------------
# Node-store API
# --------------------------------------------------------------------------


def root_from_nodes(size: int, get_node: NodeGetter) -> bytes:
    """MTH of the first ``size`` leaves from popcount(size) stored nodes."""
    _check_size_arg("size", size)
    if size == 0:
        return EMPTY_ROOT
    return _fold(compact_range(size), get_node)


def inclusion_proof_from_nodes(size: int, index: int, get_node: NodeGetter) -> list[bytes]:
    """PATH(index, D[size]) from stored complete subtrees (O(log n) reads)."""
    return hashes_from_plan(inclusion_proof_plan(size, index), get_node)


def consistency_proof_from_nodes(old_size: int, new_size: int, get_node: NodeGetter) -> list[bytes]:
    """PROOF(old_size, D[new_size]) from stored complete subtrees
    (O(log n) reads)."""
    return hashes_from_plan(consistency_proof_plan(old_size, new_size), get_node)


# --------------------------------------------------------------------------
# List-based API: thin wrappers over the node-store API
# --------------------------------------------------------------------------


class _ListNodes:
    """A NodeGetter over an in-memory leaf list, computing complete subtrees
    on demand and memoising them so each is hashed at most once."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        for i, h in enumerate(leaf_hashes):
            _check_stored_hash(h, f"leaf_hashes[{i}]")
        self._leaves = leaf_hashes
        self._memo: dict[NodeId, bytes] = {}

    def __call__(self, level: int, index: int) -> bytes:
        if (index + 1) << level > len(self._leaves):
            raise KeyError(f"node ({level}, {index}) is not a complete subtree")
        if level == 0:
            return self._leaves[index]
        key = (level, index)
        cached = self._memo.get(key)
        if cached is None:
            cached = node_hash(self(level - 1, 2 * index), self(level - 1, 2 * index + 1))
            self._memo[key] = cached
        return cached


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the given leaf hashes (RFC 9162 §2.1.1); the empty list
    gives SHA-256 of the empty string."""
    return root_from_nodes(len(leaf_hashes), _ListNodes(leaf_hashes))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) for the tree of all given leaves (§2.1.3.1)."""
    return inclusion_proof_from_nodes(len(leaf_hashes), index, _ListNodes(leaf_hashes))


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) from the first ``old_size`` leaves to all of
    them (§2.1.4.1)."""
    return consistency_proof_from_nodes(old_size, len(leaf_hashes), _ListNodes(leaf_hashes))


# --------------------------------------------------------------------------
# Compact ranges
# --------------------------------------------------------------------------


def root_from_compact_range(hashes: Sequence[bytes]) -> bytes:
    """Fold a compact range's hashes (left-to-right order, as returned for
    :func:`compact_range`) right to left into the tree root."""
    if not hashes:
        return EMPTY_ROOT
    checked = [_check_stored_hash(h, f"compact range hash {i}") for i, h in enumerate(hashes)]
    acc = checked[-1]
    for h in reversed(checked[:-1]):
        acc = node_hash(h, acc)
    return acc


def compact_range_append(range_hashes: Sequence[bytes], size: int, leaf_hash: bytes) -> list[bytes]:
    """Compact range of the tree of ``size + 1`` leaves, given the compact
    range hashes of the tree of ``size`` leaves and the new leaf's hash.

    The new leaf merges with one trailing subtree per trailing one-bit of
    ``size``, exactly like :func:`nodes_to_store_on_append`.  The length
    check guards against a report pairing a compact range with the wrong
    size, which would otherwise just produce a confusing root mismatch.
    """
    _check_size_arg("size", size)
    if len(range_hashes) != size.bit_count():
        raise ValueError(
            f"compact range for size {size} must have {size.bit_count()} hashes, got {len(range_hashes)}"
        )
    new = [_check_stored_hash(h, f"compact range hash {i}") for i, h in enumerate(range_hashes)]
    acc = _check_stored_hash(leaf_hash, "leaf_hash")
    s = size
    while s & 1:
        acc = node_hash(new.pop(), acc)
        s >>= 1
    new.append(acc)
    return new


# --------------------------------------------------------------------------
# Verification (RFC 9162 §2.1.3.2 and §2.1.4.2)
# --------------------------------------------------------------------------


def _require_size(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise VerificationError("bad_size", f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise VerificationError("bad_size", f"{name} must be >= 0, got {value}")
    return value


def _require_hash(name: str, value: object) -> bytes:
    if not isinstance(value, _BYTES_LIKE):
        raise VerificationError(
            "hash_length", f"{name} must be {HASH_SIZE} bytes, got {type(value).__name__}"
        )
    value = bytes(value)
    if len(value) != HASH_SIZE:
        raise VerificationError(
            "hash_length", f"{name} must be {HASH_SIZE} bytes, got {len(value)}"
        )
    return value


def _require_proof(proof: Sequence[bytes]) -> list[bytes]:
    # A lone hash (or a hex string) is a Sequence too; iterating it would
    # give ints or characters, so refuse it explicitly.
    if isinstance(proof, (*_BYTES_LIKE, str)) or not isinstance(proof, Sequence):
        raise VerificationError(
            "proof_format", f"proof must be a list of hashes, got {type(proof).__name__}"
        )
    return [_require_hash(f"proof[{i}]", p) for i, p in enumerate(proof)]


def _expected_inclusion_len(index: int, size: int) -> int:
    """Length of PATH(index, D[size]) in closed form, independent of the
    generator: levels below the point where index's path and the last leaf's
    path diverge each contribute a sibling ("inner"), and above it one
    sibling per left-hand subtree on the right border ("border")."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def _expected_consistency_len(old_size: int, new_size: int) -> int:
    """Length of PROOF(old_size, D[new_size]) for 0 < old < new in closed
    form: the inclusion path of leaf old-1 minus the levels inside the
    largest complete subtree ending at old, plus that subtree's hash unless
    it is the whole old tree (then the verifier already holds it)."""
    shift = (old_size & -old_size).bit_length() - 1  # trailing zeros
    length = _expected_inclusion_len(old_size - 1, new_size) - shift
    if old_size != 1 << shift:
        length += 1
    return length


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of
    ``tree_size`` leaves whose root is ``root`` (RFC 9162 §2.1.3.2).

    Returns True or raises :class:`VerificationError`.
    """
    index = _require_size("index", index)
    tree_size = _require_size("tree_size", tree_size)
    leaf = _require_hash("leaf_hash", leaf_hash)
    root = _require_hash("root", root)
    path = _require_proof(proof)

    # Step 1: leaf_index >= tree_size fails.
    if index >= tree_size:
        raise VerificationError("index_out_of_range", f"index {index} >= tree_size {tree_size}")
    expected = _expected_inclusion_len(index, tree_size)
    if len(path) != expected:
        raise VerificationError(
            "proof_length",
            f"inclusion proof for index {index} in size {tree_size} needs {expected} hashes, got {len(path)}",
        )

    # Step 2: fn = leaf_index, sn = tree_size - 1.  Step 3: r = hash.
    fn, sn = index, tree_size - 1
    r = leaf
    # Step 4: for each p in the inclusion path.
    for p in path:
        # 4a: sn == 0 means the path is longer than the tree is tall.
        if sn == 0:
            raise VerificationError(
                "proof_too_long", "inclusion proof has more hashes than the tree has levels"
            )
        # 4b
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        # 4c
        fn >>= 1
        sn >>= 1
    # Step 5: sn must be 0 and r must equal the root.
    if sn != 0:
        raise VerificationError("proof_too_short", "inclusion proof ended before reaching the root")
    if r != root:
        raise VerificationError(
            "root_mismatch", "root computed from the inclusion proof does not match root"
        )
    return True


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check that the tree of ``new_size`` leaves with root ``new_root`` is an
    append-only extension of the tree of ``old_size`` leaves with root
    ``old_root`` (RFC 9162 §2.1.4.2).

    Returns True or raises :class:`VerificationError`.
    """
    old_size = _require_size("old_size", old_size)
    new_size = _require_size("new_size", new_size)
    first_hash = _require_hash("old_root", old_root)
    second_hash = _require_hash("new_root", new_root)
    path = _require_proof(proof)

    if old_size == 0:
        raise VerificationError(
            "old_size_zero",
            "a consistency proof from the empty tree is not accepted (old_size must be > 0)",
        )
    if old_size > new_size:
        raise VerificationError(
            "old_size_gt_new_size", f"old_size {old_size} > new_size {new_size}"
        )
    if old_size == new_size:
        if path:
            raise VerificationError(
                "equal_sizes_nonempty_proof",
                f"sizes are equal but the proof has {len(path)} hashes",
            )
        if first_hash != second_hash:
            raise VerificationError(
                "equal_sizes_root_mismatch", "sizes are equal but the roots differ"
            )
        return True

    # Step 1: an empty consistency path fails.
    if not path:
        raise VerificationError("proof_empty", "consistency proof is empty but old_size < new_size")
    expected = _expected_consistency_len(old_size, new_size)
    if len(path) != expected:
        raise VerificationError(
            "proof_length",
            f"consistency proof from {old_size} to {new_size} needs {expected} hashes, got {len(path)}",
        )

    # Step 2: if first is an exact power of 2, prepend first_hash.
    if old_size & (old_size - 1) == 0:
        path = [first_hash, *path]
    # Step 3: fn = first - 1, sn = second - 1.
    fn, sn = old_size - 1, new_size - 1
    # Step 4: if LSB(fn) is set, shift both right until it is not.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5: fr = sr = first value of the path.
    fr = sr = path[0]
    # Step 6: for each subsequent value c.
    for c in path[1:]:
        # 6a
        if sn == 0:
            raise VerificationError(
                "proof_too_long", "consistency proof has more hashes than the tree has levels"
            )
        # 6b
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        # 6c
        fn >>= 1
        sn >>= 1
    # Step 7: fr == first_hash, sr == second_hash, sn == 0.
    if sn != 0:
        raise VerificationError(
            "proof_too_short", "consistency proof ended before reaching the new root"
        )
    if fr != first_hash:
        raise VerificationError(
            "old_root_mismatch", "old root computed from the consistency proof does not match"
        )
    if sr != second_hash:
        raise VerificationError(
            "new_root_mismatch", "new root computed from the consistency proof does not match"
        )
    return True


# --------------------------------------------------------------------------
# Reference node store
# --------------------------------------------------------------------------


class InMemoryNodeStore:
    """Dict-backed implementation of the storage contract.

    It is what the database-backed log does, minus the database: append
    writes the rows from :func:`nodes_to_store_on_append`, reads go through
    :meth:`get_node`.  Useful for tests, benchmarks and offline tooling.
    """

    def __init__(self) -> None:
        self.size = 0
        self.nodes: dict[NodeId, bytes] = {}

    def get_node(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; returns the rows written."""
        rows = nodes_to_store_on_append(self.size, leaf, self.get_node)
        for level, index, h in rows:
            self.nodes[(level, index)] = h
        self.size += 1
        return rows

    def root(self, size: int | None = None) -> bytes:
        """Root of the first ``size`` leaves (default: all)."""
        size = self.size if size is None else size
        if size > self.size:
            raise ValueError(f"size {size} > log size {self.size}")
        return root_from_nodes(size, self.get_node)
