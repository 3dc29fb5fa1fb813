"""tlog.jcs against the rfc8785 package (the server's canonicaliser) on random records."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from tlog import bundle_math, jcs, merkle

safe_ints = st.integers(min_value=-jcs.MAX_SAFE_INTEGER, max_value=jcs.MAX_SAFE_INTEGER)
# Any Unicode text except lone surrogates (which neither side can encode), with a bias towards
# the characters whose escaping differs between JSON printers.
tricky = st.sampled_from(list('"\\/\b\f\n\r\t\x00\x01\x1f\x7f\u2028\u2029\ufeff€收😀\U0010ffff'))
texts = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",))),
    st.lists(tricky, max_size=8).map("".join),
)
keys = st.one_of(texts, st.sampled_from(["a", "b", "aa", "A", "€", "😀", "\ufb33", "\u00e9"]))
json_values = st.recursive(
    st.none() | st.booleans() | safe_ints | texts,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=30,
)

line = st.fixed_dictionaries(
    {
        "account": st.text(alphabet="0123456789", min_size=4, max_size=8),
        "fund": st.none() | texts,
        "unit": st.sampled_from(["CNY", "pt", "股"]),
        "debit": safe_ints,
        "credit": safe_ints,
    }
)
record = st.fixed_dictionaries(
    {
        "v": st.just(1),
        "book": st.integers(1, 2**53 - 1),
        "index": st.integers(0, 2**40),
        "number": texts,
        "date": st.dates().map(lambda d: d.isoformat()),
        "kind": st.sampled_from(["normal", "reversal", "closing", "opening"]),
        "summary": texts,
        "lines": st.lists(line, max_size=6),
        "reverses": st.none() | st.integers(0, 2**40),
        "private": st.none()
        | st.lists(
            st.fixed_dictionaries(
                {
                    "line": st.integers(1, 2**40),
                    "commitment": st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
                }
            ),
            min_size=1,
            max_size=4,
        ),
    }
)
private = st.lists(
    st.fixed_dictionaries(
        {
            "line": st.integers(1, 50),
            "resident": st.integers(1, 10**9),
            "name": texts,
            "unit": texts,
        }
    ),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(record)
def test_records_match_rfc8785(rec):
    assert jcs.dumps(rec) == rfc8785.dumps(rec)


@settings(max_examples=400, deadline=None)
@given(record)
def test_fast_path_for_checked_records_matches_rfc8785(rec):
    """The verifier's fast path (stdlib C encoder) for records check_record accepted."""
    assert bundle_math.leaf_bytes(rec, checked=True) == rfc8785.dumps(rec)


def test_fast_path_refuses_lone_surrogates():
    rec = {
        "v": 1,
        "book": 1,
        "index": 0,
        "number": "1",
        "date": "2026-01-01",
        "kind": "normal",
        "summary": "\udc00",
        "lines": [],
        "reverses": None,
        "private": None,
    }
    with pytest.raises(jcs.CanonicalizationError):
        bundle_math.leaf_bytes(rec, checked=True)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 300), st.integers(0, 300))
def test_fold_log_matches_the_merkle_root(first, extra):
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(first + extra)]
    store = merkle.InMemoryNodeStore()
    for h in leaves:
        store.append(h)
    compact = [store.get_node(lv, ix) for lv, ix in merkle.compact_range(first)]
    size, root = bundle_math.fold_log(compact, first, leaves[first:])
    assert size == first + extra and root == merkle.root_hash(leaves)


@settings(max_examples=200, deadline=None)
@given(private)
def test_private_fields_match_rfc8785(p):
    assert jcs.dumps(p) == rfc8785.dumps(p)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_values_match_rfc8785(value):
    assert jcs.dumps(value) == rfc8785.dumps(value)


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_output_is_json_that_reads_back_to_the_same_value(value):
    assert json.loads(jcs.dumps(value)) == value


def test_keys_sort_by_utf16_code_units_not_code_points():
    # By code point U+FB33 < U+1F600, but the emoji's first UTF-16 unit is 0xD83D < 0xFB33,
    # and RFC 8785 sorts by UTF-16 units: the emoji comes first.
    value = {"\ufb33": 1, "😀": 2, "a": 3}
    assert jcs.dumps(value) == '{"a":3,"😀":2,"\ufb33":1}'.encode()
    assert jcs.dumps(value) == rfc8785.dumps(value)


def test_escapes_follow_ecmascript():
    assert jcs.dumps('\b\t\n\f\r\x00\x1f"\\/\x7f\u2028') == (
        b'"\\b\\t\\n\\f\\r\\u0000\\u001f\\"\\\\/\x7f\xe2\x80\xa8"'
    )


def test_rfc8785_example_subset():
    # The integer/string part of RFC 8785 §3.2.2's example.
    value = {"string": '€$\u000f\nA\'B"\\\\"/', "literals": [None, True, False], "numbers": [333]}
    assert jcs.dumps(value) == (
        b'{"literals":[null,true,false],"numbers":[333],'
        b'"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )


@pytest.mark.parametrize(
    "bad",
    [
        1.5,
        1.0,
        2**53,
        -(2**53),
        "\ud800",
        {"a": "x\udfff"},
        {1: "non-string key"},
        b"bytes",
        {"a": {1, 2}},
    ],
)
def test_values_outside_the_subset_are_refused(bad):
    with pytest.raises(jcs.CanonicalizationError):
        jcs.dumps(bad)


def test_deep_nesting_is_refused_not_a_crash():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(jcs.CanonicalizationError):
        jcs.dumps(deep)


def test_booleans_are_not_integers():
    assert jcs.dumps([True, 1, False, 0]) == b"[true,1,false,0]"
