"""Fuzzing the JSON API (issue 9, item 4): schemathesis reads ``/api/v1/openapi.json`` and
generates requests for every operation, sent through the WSGI app (no server) with a bearer
token of each role of the authorization matrix's world (tests/security/world.py). Every answer
must be no 5xx, of a documented status and content type, and its body must match the
documented schema (flask-smorest documents the error shape as every operation's ``default``).

Three in four examples fill the URL with the ids of real records of the roles' own organisation (so
that requests get past "not found" into validation and the services), the rest are generated.
Both valid (positive) and invalid (negative) requests are generated. Each request runs inside a
savepoint rolled back afterwards, as the matrix's requests do.

Bounded for CI: ``FUZZ_EXAMPLES`` examples per operation × role × mode (default 4), seeded and
derandomised; a longer run: ``FUZZ_EXAMPLES=200 pytest tests/security/test_fuzz_api.py``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.auth import create_api_token
from core.db import db
from tests.security.world import ROLES, World

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
TRIED: Counter[str] = Counter()  # requests sent, per operation (the closing note's figures)
STATUSES: Counter[int] = Counter()  # answers by status code


def _operations(app) -> list[tuple[str, str]]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    out = []
    for result in schema.get_all_operations():
        op = result.ok()
        out.append((op.method.upper(), op.path))
    return out


def _schema_and_ops():
    import tempfile

    from tests.conftest import make_app  # the operations are known without a database

    tmp = tempfile.mkdtemp(prefix="fuzz-openapi-")
    app = make_app("sqlite:///" + tmp + "/x.sqlite3", tmp)
    return _operations(app)


OPERATIONS = _schema_and_ops()


@pytest.fixture(scope="module")
def tokens(_app, world: World) -> dict[str, str]:
    """A bearer token per role of the world (none for anonymous)."""
    out = {}
    for role in ROLES:
        if role == "anonymous":
            continue
        _row, token = create_api_token(world.users[role], "fuzz")
        out[role] = token
    db.session.commit()
    return out


@pytest.fixture(scope="module")
def api_schema(_app, world: World):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app)


def _real_ids(world: World, path: str) -> dict[str, Any]:
    ids = world.own.ids
    values = {
        "org_id": ids["org_id"],
        "community_id": ids["community_id"],
        "voucher_id": ids["draft_id"] if "/submit" in path or path.endswith("}") else ids["id"],
        "code": "1002",
        "year": 2025,
        "month": 3,
        "book_id": ids["book_id"],
        "report_id": ids["report_id"],
        "name": "trial_balance",
        "resident_id": ids["resident_id"],
    }
    # The domains' ids (sh_id, grant_id, cf_id …) where the authorization world made one;
    # any other placeholder gets 1 (an id that answers 404) or the first word of its choices.
    values = {**{k: v for k, v in ids.items() if isinstance(v, int)}, **values}
    values.setdefault("action", "approve")
    return {k: values.get(k, 1) for k in (m.group(1) for m in re.finditer(r"{(\w+)}", path))}


def _send(world: World, case, headers: dict[str, str]):
    """One request inside a savepoint rolled back afterwards (see test_authz_matrix.request_as)."""
    conn = world.conn
    db.session.remove()
    conn.exec_driver_sql("SAVEPOINT fuzz_request")
    try:
        return case.call_and_validate(headers=headers, checks=CHECKS)
    finally:
        db.session.rollback()
        db.session.remove()
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT fuzz_request")
        conn.exec_driver_sql("RELEASE SAVEPOINT fuzz_request")


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: f"{o[0]} {o[1]}")
def test_api_operation_as_role(_app, world: World, tokens, api_schema, operation, role):
    method, path = operation
    op = api_schema[path][method]
    real = _real_ids(world, path)
    # Real ids three times out of four: random ids mostly stop at "not found".
    positive = op.as_strategy(GenerationMode.POSITIVE, path_parameters=real)
    negative = op.as_strategy(GenerationMode.NEGATIVE, path_parameters=real)
    strategy = st.one_of(
        positive,
        negative,
        positive,
        op.as_strategy(GenerationMode.POSITIVE),
        negative,
        op.as_strategy(GenerationMode.NEGATIVE),
    )
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}

    @seed(20261203)
    @settings(
        max_examples=EXAMPLES * 2,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        TRIED[f"{method} {path}"] += 1
        resp = _send(world, case, headers)
        STATUSES[resp.status_code] += 1
        if os.environ.get("FUZZ_TRACE"):
            print(resp.status_code, case.method, case.formatted_path, case.query)

    run()


def test_every_operation_is_fuzzed(_app):
    """The list above is the live schema's (a new endpoint is fuzzed without a change here)."""
    assert len(OPERATIONS) >= 40
    assert set(OPERATIONS) == set(_operations(_app))


@pytest.fixture(scope="module", autouse=True)
def _figures():
    """Prints the figures of the run (requests per operation) for the closing note."""
    yield
    if TRIED:
        print(
            f"\nfuzzed {len(TRIED)} operations × {len(ROLES)} roles: {sum(TRIED.values())} requests, answers {dict(sorted(STATUSES.items()))}"
        )


# --- regressions the fuzzing found ------------------------------------------------------------

WRITES = [(m, p) for m, p in OPERATIONS if m in ("POST", "PUT", "PATCH")]


@pytest.mark.parametrize("operation", WRITES, ids=lambda o: f"{o[0]} {o[1]}")
@pytest.mark.parametrize("text", ["\ud800", "a\x00b", "\udfff"], ids=["high", "nul", "low"])
def test_unstorable_text_in_a_json_body_is_refused(_app, world: World, tokens, operation, text):
    """JSON's ``\\ud800`` and ``\\u0000`` escapes reached the database through
    ``POST /api/v1/tokens`` (and any other string field not checked by its schema): the
    driver raised, a 500 whose handler failed again. Every JSON write now refuses them (422)."""
    method, path = operation
    url = path.format(**{**_ANY_IDS, **_real_ids(world, path)})
    body = {"name": text, "summary": text, "lines": [{"account": text, "memo": text}], text: 1}
    for role in ("platform_admin", "admin"):
        conn = world.conn
        db.session.remove()
        conn.exec_driver_sql("SAVEPOINT fuzz_request")
        try:
            resp = _app.test_client().open(
                url, method=method, json=body, headers={"Authorization": f"Bearer {tokens[role]}"}
            )
        finally:
            db.session.rollback()
            db.session.remove()
            conn.exec_driver_sql("ROLLBACK TO SAVEPOINT fuzz_request")
            conn.exec_driver_sql("RELEASE SAVEPOINT fuzz_request")
        assert resp.status_code in (401, 403, 404, 422), (role, resp.status_code)
        if resp.status_code == 422:  # naming the field, as any refused field is named
            assert resp.get_json()["code"] == "invalid" and resp.get_json()["errors"]


_ANY_IDS = {"year": 2025, "month": 3, "code": "1002", "name": "trial_balance"}
