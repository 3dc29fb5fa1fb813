"""Fuzzing what comes from outside but not through the JSON API (issue 9, item 4): the bounded
parsers (core/parse.py), the entry form's parser (ledger/entry.py), the beancount reader and
importer, the signed-note and key parsers, and the bundle and receipt verifiers. Whatever the
input, the answer is a value or a clear refusal (the module's own error type), never an
unhandled exception.

Seeded and derandomised; ``FUZZ_EXAMPLES`` scales the number of examples (see test_fuzz_api.py).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from core import parse
from core.auth import create_api_token
from core.db import db
from core.errors import InvalidInput, NotFound
from ledger import beancount_import as bi
from ledger.entry import EntryText, LineText, parse_amount_text, parse_entry
from ledger.plaintext import PlainTextError, read_beancount
from tests.ledger.journal import generate_journal
from tests.transparency.bundlegen import SyntheticBook
from tlog import notes
from transparency.verify import InputError, parse_json_bytes, parse_key, verify_bundle

SCALE = int(os.environ.get("FUZZ_EXAMPLES", "4"))
TRIED: Counter[str] = Counter()


def fuzz(n: int):
    """Hypothesis settings of these tests: ``n`` × the scale, seeded, no example database."""

    def wrap(f):
        return seed(20261203)(
            settings(
                max_examples=max(n * SCALE // 4, 10),
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )(f)
        )

    return wrap


# What people (and attackers) type into a number, date or text field.
EDGE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "²",
        "３",
        "٣",
        "1e3",
        "1" * 4301,
        "9" * 20,
        "9223372036854775807",
        "9223372036854775808",
        "0001-01-01",
        "9999-12-31",
        "9999-12",
        "10000-01-01",
        "2025-02-30",
        "2025-13",
        "1899-12-31",
        "\x00",
        "\u202e1002",
        "\ud800",
        "NaN",
        "Infinity",
        "¥1,234.56",
        "－12",
        "1,,2",
        ".5",
        "1.",
    ]
)
ANY_TEXT = st.one_of(EDGE_TEXT, st.text(max_size=40), st.from_regex(r"-?[0-9.,¥ ]{0,25}"))
ANY_VALUE = st.one_of(
    ANY_TEXT,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(st.integers(), max_size=2),
    st.dates(),
)


# --- core.parse ------------------------------------------------------------------------------


@fuzz(400)
@given(value=ANY_VALUE, lo=st.integers(-(2**70), 2**70), span=st.integers(0, 2**70))
def test_bounded_numbers_answer_or_refuse(app, value, lo, span):
    TRIED["core.parse numbers"] += 1
    for f in (
        lambda: parse.bounded_int(value, lo, lo + span),
        lambda: parse.int_id(value),
        lambda: parse.page(value),
        lambda: parse.year(value),
    ):
        try:
            n = f()
        except InvalidInput:
            continue
        assert isinstance(n, int)
    try:
        parse.int_id(value, missing=NotFound)
    except NotFound:
        pass


@fuzz(400)
@given(value=ANY_VALUE)
def test_dates_months_and_text_answer_or_refuse(app, value):
    TRIED["core.parse dates, months, text"] += 1
    for f in (parse.date, parse.optional_date, parse.month):
        try:
            got = f(value)
        except InvalidInput:
            continue
        assert got is None or str(got)
    try:
        t = parse.text(value, field="summary", max_length=300)
    except InvalidInput:
        pass
    else:
        assert "\x00" not in t and not (set(t) & parse.BIDI_CONTROLS)
    for field in (parse.Date(), parse.Integer(1, 9999)):
        try:
            field.deserialize(value)
        except ValidationError:
            pass


# --- ledger.entry (the entry form's and the API's one parser) --------------------------------


@fuzz(400)
@given(text=ANY_TEXT, exponent=st.integers(0, 6), negative=st.booleans())
def test_amount_cells_answer_or_refuse(app, text, exponent, negative):
    TRIED["ledger.entry amounts"] += 1
    try:
        n = parse_amount_text(text, exponent, allow_negative=negative)
    except InvalidInput:
        return
    assert isinstance(n, int)
    assert negative or n >= 0


LINE = st.builds(
    LineText,
    account=st.one_of(
        st.sampled_from(["1002", "1122", "5001", "1002 银行存款", "银行存款"]), ANY_TEXT
    ),
    debit=st.one_of(st.none(), ANY_TEXT),
    credit=st.one_of(st.none(), ANY_TEXT),
    fund=st.one_of(st.none(), ANY_TEXT),
    unit=st.one_of(
        st.none(), st.sampled_from(["CNY", "POINTS", "XXX"]), st.text(max_size=30), EDGE_TEXT
    ),
    memo=ANY_TEXT,
)
ENTRY = st.builds(
    EntryText,
    date=st.one_of(ANY_TEXT, st.none(), st.dates()),
    summary=ANY_TEXT,
    lines=st.lists(LINE, max_size=5),
    attachment_count=st.one_of(ANY_TEXT, st.none(), st.integers()),
)


@pytest.fixture
def fuzz_book(app, organisation):
    from ledger import services as svc

    return svc.create_book(organisation)


@fuzz(200)
@given(
    entry=ENTRY, accounts=st.sampled_from(["code", "typed"]), funds=st.sampled_from(["code", "id"])
)
def test_entries_parse_or_list_their_problems(app, fuzz_book, entry, accounts, funds):
    TRIED["ledger.entry vouchers"] += 1
    try:
        got = parse_entry(fuzz_book, entry, accounts=accounts, funds=funds)
    except InvalidInput as e:
        assert e.errors  # every refusal names its fields
        return
    assert got.lines and isinstance(got.date, dt.date)


# --- beancount ----------------------------------------------------------------------------------

VALID_JOURNAL = generate_journal(12, seed=3)
JOURNAL_LINES = VALID_JOURNAL.splitlines()


@st.composite
def mangled_journals(draw) -> str:
    """A valid journal with lines dropped, duplicated, cut or overwritten with junk."""
    lines = list(JOURNAL_LINES)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "dup", "cut", "junk", "insert"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, max(len(lines[i]) - 1, 0)))]
        elif op == "junk":
            lines[i] = draw(st.one_of(EDGE_TEXT, st.text(max_size=60)))
        else:
            lines.insert(
                i,
                draw(
                    st.sampled_from(
                        [
                            "2025-01-01 open Assets:X",
                            "0001-01-01 open Assets:Old CNY",
                            '9999-12-31 * "far"\n  Assets:1001-库存现金  1 CNY\n  Equity:3001-实收资本',
                            '2025-01-01 * "x"\n  Assets:1001-库存现金  1e400 CNY\n  Equity:3001-实收资本',
                            '2025-01-01 * "x"\n  Assets:1001-库存现金  ' + "9" * 5000 + " CNY",
                            "2025-01-01 commodity " + "X" * 30,
                            'option "operating_currency" "ZZZ"',
                            'include "/etc/passwd"',
                            '2025-02-30 * "bad day"',
                            "2025-01-01 balance Assets:1001-库存现金 NaN CNY",
                        ]
                    )
                ),
            )
        if not lines:
            break
    return "\n".join(lines) + "\n"


@fuzz(120)
@given(text=st.one_of(mangled_journals(), st.text(max_size=200)))
def test_beancount_reader_and_importer_answer_or_refuse(app, text):
    TRIED["beancount"] += 1
    try:
        journal = read_beancount(text, "fuzz.beancount", exponents=bi._iso_exponents())
    except (PlainTextError, bi.ImportProblems):
        return
    try:
        bi.import_journal(journal, organisation_name="导入测试", today=dt.date(2026, 12, 3))
    except bi.ImportProblems as e:
        assert e.problems


def test_the_unmangled_journal_imports(app):
    """The seed the mutations start from is a journal the importer takes."""
    journal = read_beancount(VALID_JOURNAL, "fuzz.beancount", exponents=bi._iso_exponents())
    result = bi.import_journal(journal, organisation_name="导入测试")
    assert result.vouchers == 12


# --- signed notes, keys, JSON, bundles and receipts -----------------------------------------


@pytest.fixture(scope="module")
def synthetic():
    book = SyntheticBook(book_id=7, seed=11)
    bundles = book.monthly_reports(months=2, per_month=8)
    return book, bundles


def _mutate_text(draw, text: str) -> str:
    chars = list(text)
    for _ in range(draw(st.integers(1, 4))):
        if not chars:
            break
        i = draw(st.integers(0, len(chars) - 1))
        op = draw(st.sampled_from(["flip", "drop", "insert"]))
        c = draw(st.sampled_from(["\n", " ", "—", "=", "+", "/", "0", "\x00", "\u2028", "a"]))
        if op == "flip":
            chars[i] = c
        elif op == "drop":
            del chars[i]
        else:
            chars.insert(i, c)
    return "".join(chars)


@fuzz(300)
@given(data=st.data())
def test_signed_notes_and_keys_parse_or_refuse(synthetic, data):
    TRIED["signed notes, keys"] += 1
    book, bundles = synthetic
    note = bundles[0]["checkpoint"]
    text = data.draw(st.one_of(st.text(max_size=200), st.just(note)))
    text = _mutate_text(data.draw, text) if data.draw(st.booleans()) else text
    try:
        parsed = notes.parse_note(text)
        notes.parse_checkpoint(parsed.text)
        notes.verify_note(text, parsed.text.split("\n", 1)[0], notes.public_key_bytes(book.key))
    except notes.NoteError:
        pass
    try:
        notes.parse_vkey(text)
    except notes.NoteError:
        pass
    try:
        parse_key(text.replace("/", "_") if text.startswith("/") else text)
    except InputError:
        pass


@fuzz(300)
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_json_reader_parses_or_refuses(data):
    TRIED["verifier JSON reader"] += 1
    try:
        parse_json_bytes(data, "bundle")
    except InputError:
        pass


@fuzz(200)
@given(data=st.data())
def test_bundles_rebuilt_from_mangled_json_text_fail_cleanly(synthetic, data):
    """The bundle's JSON *text* mangled (not its structure: test_verify.py does that), parsed
    as the verifier reads files, then verified with the previous report and a receipt."""
    TRIED["bundle and receipt verifier"] += 1
    book, bundles = synthetic
    text = json.dumps(bundles[1], ensure_ascii=False)
    mangled = _mutate_text(data.draw, text)
    try:
        doc = parse_json_bytes(mangled.encode("utf-8", "surrogatepass"), "bundle")
    except InputError:
        return
    report, bv = verify_bundle(doc, previous=copy.deepcopy(bundles[0]))
    from transparency.verify import verify_receipt

    receipt = book.receipt(book.private_indices()[0])
    verify_receipt(receipt, bundle=bv, report=report)
    assert report.exit_code in (0, 1, 3)  # verified, failed, or partly checked (no key given)
    assert not any("unexpected error" in c.message for c in report.checks), report.text()


# --- regressions -------------------------------------------------------------------------------


def test_a_failed_flush_still_gets_a_clean_500(app, monkeypatch, user_factory):
    """An unexpected database error during a view leaves the session needing a rollback;
    the 500 handler read the user's language from it and failed a second time (a bare
    werkzeug 500 page). It rolls back first and answers with the API's error body."""
    from core import api as core_api
    from core.models import Community

    user = user_factory()
    _row, token = create_api_token(user, "t")
    db.session.commit()

    def failing(user, name):
        db.session.add(Community(name=None, slug=None))
        db.session.flush()

    monkeypatch.setattr(core_api.auth, "create_api_token", failing)
    resp = app.test_client().post(
        "/api/v1/tokens", json={"name": "x"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 500
    assert resp.get_json()["code"] == "server_error"


@pytest.fixture(scope="module", autouse=True)
def _figures():
    yield
    if TRIED:
        print(f"\ninputs tried: {sum(TRIED.values())} {dict(TRIED)}")
