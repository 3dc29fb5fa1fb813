"""tlog.merkle.nodes_to_store_on_appends (the batch append both ledger writers use) against the
one-leaf nodes_to_store_on_append, leaf by leaf."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlog import merkle


def _leaf(i: int) -> bytes:
    return merkle.leaf_hash(b"leaf %d" % i)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 300), st.integers(0, 70))
def test_batch_append_stores_what_one_leaf_appends_store(size_before, count):
    store = merkle.InMemoryNodeStore()
    for i in range(size_before):
        store.append(_leaf(i))
    frontier = [store.get_node(lv, ix) for lv, ix in merkle.compact_range(size_before)]
    new = [_leaf(size_before + i) for i in range(count)]

    rows, after = merkle.nodes_to_store_on_appends(size_before, frontier, new)

    expected = []
    for leaf in new:
        expected += store.append(leaf)
    assert rows == expected
    assert after == [store.get_node(lv, ix) for lv, ix in merkle.compact_range(store.size)]
    assert merkle.root_from_compact_range(after) == merkle.root_hash(
        [_leaf(i) for i in range(size_before + count)]
    )


def test_batch_append_refuses_a_frontier_of_the_wrong_size():
    with pytest.raises(ValueError, match="compact range for size 3"):
        merkle.nodes_to_store_on_appends(3, [_leaf(0)], [_leaf(3)])


def test_batch_append_refuses_a_leaf_hash_that_is_not_32_bytes():
    with pytest.raises(ValueError, match="new leaf 1"):
        merkle.nodes_to_store_on_appends(0, [], [_leaf(0), hashlib.sha256(b"x").hexdigest()])
