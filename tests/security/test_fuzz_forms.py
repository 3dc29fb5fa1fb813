"""Fuzzing the HTML pages and forms (issue 9, item 4): every page and form of the
authorization matrix that is not the JSON API, as the own organisation's admin (who may do the
most) and as the resident, with hostile values in every field the page's form names and in the
query parameters pages read (page, month, year, period, date, fund, level, copy …). The answer
is never a 5xx. Each request runs in a savepoint rolled back afterwards (as the matrix's).

``FUZZ_EXAMPLES`` scales the examples per route (default 4), seeded and derandomised.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.security import authz_matrix as matrix
from tests.security.rows import Row
from tests.security.test_authz_matrix import request_as
from tests.security.world import World, url_for_rule

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
TRIED: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()

QUERY_NAMES = (
    "page",
    "month",
    "year",
    "period",
    "date",
    "from",
    "to",
    "start",
    "end",
    "fund",
    "level",
    "copy",
    "status",
    "q",
    "account",
    "size",
    "resident",
    "format",
)
HOSTILE = st.one_of(
    st.sampled_from(
        [
            "",
            "²",
            "３",
            "٣",
            "1" * 4301,
            "9" * 25,
            "-1",
            "0",
            "0001-01-01",
            "9999-12-31",
            "9999-12",
            "0001-01",
            "10000-01",
            "2025-02-30",
            "a\x00b",
            "\u202e",
            "'; --",
            "%",
            "_",
            "<script>",
            "=1+1",
            "1e309",
            "NaN",
            "¥-0.001",
        ]
    ),
    st.text(max_size=30),
    st.integers(-(2**70), 2**70).map(str),
)
_NAME = re.compile(r'name="([A-Za-z_][A-Za-z0-9_.\-\[\]]*)"')

PAGES = [r for r in matrix.ROWS if not r.rule.startswith(("/api/", "/static/"))]


def _form_fields(app, world: World, row: Row) -> list[str]:
    """The fields the page of ``row``'s address (its GET) names, plus the row's own body."""
    names = set(row.body) | set(row.query)
    get = Row(row.own, row.other, "GET", row.rule, row.args)
    if any(r.method == "GET" and r.rule == row.rule for r in matrix.ROWS):
        page = request_as(app, world, "admin", get, "own")
        names |= set(_NAME.findall(page.get_data(as_text=True)))
    return sorted(names - {"csrf_token"})


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin", "resident"])
@pytest.mark.parametrize("row", PAGES, ids=lambda r: f"{r.method} {r.rule}")
def test_hostile_form_and_query_values_never_give_a_5xx(_app, world: World, row: Row, role):
    fields = _form_fields(_app, world, row) if row.method == "POST" else []
    names = st.sampled_from(fields) if fields else st.nothing()

    @seed(20261203)
    @settings(
        max_examples=EXAMPLES * 2,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        body=st.dictionaries(names, st.one_of(HOSTILE, st.lists(HOSTILE, max_size=3)), max_size=8)
        if fields
        else st.just({}),
        query=st.dictionaries(st.sampled_from(QUERY_NAMES), HOSTILE, max_size=4),
        keep=st.booleans(),
    )
    def run(body, query, keep):
        TRIED[f"{row.method} {row.rule}"] += 1
        # Half the time the row's valid body is the base (so the form gets past its first check).
        # request_as fills "{…}" with ids: hostile braces are escaped to reach the app as typed.
        body, query = _escape(body), _escape(query)
        sent = Row(
            row.own,
            row.other,
            row.method,
            row.rule,
            row.args,
            {**(row.body if keep else {}), **body},
            {**row.query, **query},
        )
        resp = request_as(_app, world, role, sent, "own")
        STATUSES[resp.status_code] += 1
        url = url_for_rule(row.rule, world.own, row.args)
        assert resp.status_code < 500, f"{row.method} {url} {query} {body}: {resp.status_code}"

    run()


def _escape(value):
    if isinstance(value, str):
        return value.replace("{", "{{").replace("}", "}}")
    if isinstance(value, list):
        return [_escape(v) for v in value]
    return {k: _escape(v) for k, v in value.items()}


@pytest.fixture(scope="module", autouse=True)
def _figures():
    yield
    if TRIED:
        print(
            f"\nforms fuzzed: {len(TRIED)} routes, {sum(TRIED.values())} requests, "
            f"answers {dict(sorted(STATUSES.items()))}"
        )
