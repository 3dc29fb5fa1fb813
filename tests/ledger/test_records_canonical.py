"""The ledger's records, private fields and commitments through the one encoder (tlog.jcs),
against the rfc8785 package (a test oracle only), for every line shape: units, funds,
residents and the strings people type."""

from __future__ import annotations

import datetime as dt
import hashlib

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import log
from tlog import bundle_math, jcs

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
amounts = st.integers(-(10**15), 10**15)
record_line = st.tuples(
    st.text(alphabet="0123456789", min_size=4, max_size=10),
    st.none() | texts,
    st.sampled_from(["CNY", "USD", "JPY", "PTS", "股", "积分😀"]),
    amounts,
    amounts,
)
resident = st.builds(
    lambda i, name, unit: type("R", (), {"id": i, "name": name, "unit": unit})(),
    st.integers(1, 2**40),
    texts,
    st.none() | texts,
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(record_line, min_size=2, max_size=6),
    residents=st.lists(st.tuples(st.integers(1, 6), resident), max_size=3),
    summary=texts,
    number=texts,
    kind=st.sampled_from(["normal", "reversal", "closing", "opening"]),
    reverses=st.none() | st.integers(0, 2**40),
    salt=st.binary(min_size=16, max_size=16),
    day=st.dates(dt.date(1900, 1, 1), dt.date(9999, 12, 31)),
)
def test_records_leaves_and_commitments_match_rfc8785(
    lines, residents, summary, number, kind, reverses, salt, day
):
    private = log.private_entries(dict(residents).items())
    record = log.make_record(
        book=7,
        index=12345,
        number=number,
        date=day,
        kind=kind,
        summary=summary,
        lines=lines,
        reverses=reverses,
        private=private,
        salt=salt,
    )
    assert log.leaf_bytes(record) == rfc8785.dumps(record)
    assert bundle_math.leaf_bytes(record) == rfc8785.dumps(record)
    assert log.private_json(private) == (rfc8785.dumps(private).decode() if private else "null")
    for entry, committed in zip(
        sorted(private or [], key=lambda p: p["line"]), record["private"] or [], strict=True
    ):
        salt_n = log.line_salt(salt, entry["line"])
        assert committed["commitment"] == hashlib.sha256(salt_n + rfc8785.dumps(entry)).hexdigest()


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["a", "é", "😀", "\uff61", "z", "\ue000", "Z"]),
        st.none() | texts | st.integers(-(2**53) + 1, 2**53 - 1),
        max_size=7,
    )
)
def test_non_ascii_keys_take_the_exact_path(value):
    assert jcs.dumps(value) == rfc8785.dumps(value)
