"""The standalone verifier: must-pass bundles and receipts, and must-reject tampering, each
failing the specific check that should catch it. Bundles come from tests/transparency/bundlegen.py
(no database)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rfc8785
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.auth import grant_role
from core.db import db
from ledger import services as svc
from ledger.models import Account
from tests.ledger.conftest import lines as ledger_lines
from tests.transparency.bundlegen import SyntheticBook, b64
from tlog import bundle_math as bm
from tlog import notes
from transparency.disclosure import publish_report
from transparency.receipts import build_receipt
from transparency.verify import (
    FAIL,
    PASS,
    SKIP,
    WARN,
    Report,
    TrustedKey,
    main,
    parse_json_bytes,
    verify,
    verify_bundle,
    verify_receipt,
)

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def world():
    """A book with three monthly reports (Oct–Dec, so December has year-end closing entries),
    pending records carried once and twice, and another book for cross-book mistakes."""
    book = SyntheticBook(book_id=7, seed=11)
    bundles = book.monthly_reports(months=3, per_month=25, early=2, far=1)
    other = SyntheticBook(book_id=8, seed=12)
    other_bundles = other.monthly_reports(months=2, per_month=10)
    return book, bundles, other, other_bundles


@pytest.fixture
def book(world):
    return world[0]


@pytest.fixture
def bundles(world):
    return copy.deepcopy(world[1])


@pytest.fixture
def key(book) -> TrustedKey:
    raw = notes.public_key_bytes(book.key)
    return TrustedKey(raw, notes.fingerprint(raw), "test", book.origin)


def check(bundle, previous=None, key=None, receipt=None) -> Report:
    report, bv = verify_bundle(bundle, previous=previous, key=key)
    if receipt is not None:
        verify_receipt(receipt, key=key, bundle=bv, report=report)
    return report


def statuses(report: Report) -> dict[str, str]:
    return {c.check: c.status for c in report.checks}


def failed(report: Report) -> set[str]:
    return {c.check for c in report.failed}


def message(report: Report, name: str) -> str:
    return next(c.message for c in report.checks if c.check == name)


def resign(
    book: SyntheticBook, bundle: dict, size: int | None = None, root: bytes | None = None
) -> None:
    """Replace the bundle's checkpoint by a *validly signed* one with another size/root, so
    only the log checks can notice."""
    cp = notes.parse_checkpoint(notes.parse_note(bundle["checkpoint"]).text)
    bundle["checkpoint"] = book.checkpoint(
        cp.size if size is None else size, cp.root if root is None else root
    )
    book.sign_bundle(bundle)


def rebalance(record: dict, delta: int) -> None:
    """Change a record's amounts but keep it balanced, so only the log root can tell."""
    record["lines"][0]["debit" if record["lines"][0]["debit"] else "credit"] += delta
    record["lines"][1]["debit" if record["lines"][1]["debit"] else "credit"] += delta


# --------------------------------------------------------------------------- must pass


def test_every_report_of_the_series_verifies_with_the_key(bundles, key):
    for i, b in enumerate(bundles):
        r = check(b, previous=bundles[i - 1] if i else None, key=key)
        assert not r.failed, r.text()
        assert r.exit_code == 0
        st_ = statuses(r)
        assert st_["key"] == PASS
        for name in (
            "checkpoint_signature",
            "log_root",
            "closing_balances",
            "statement.balance_sheet",
            "statement.income_expenditure",
            "balance_sheet_balances",
            "opening_balances",
        ):
            assert st_[name] == PASS, (i, name, r.text())
        if i:
            for name in (
                "consistency_proof",
                "compact_range",
                "carried_records",
                "carried_vs_previous",
                "previous_bundle",
                "previous.log_root",
            ):
                assert st_[name] == PASS, (i, name)


def test_the_series_exercises_what_it_should(bundles):
    # Records carried once and twice, closing entries in December, several units.
    assert bundles[1]["carried_records"] and bundles[2]["carried_records"]
    dec = bundles[2]
    assert any(r["kind"] == "closing" for r in dec["log"]["records"])
    assert any(ln["unit"] == "pt" for r in dec["log"]["records"] for ln in r["lines"])
    income = next(s for s in dec["statements"] if s["statement"] == "income_expenditure")
    total_income = next(ln for ln in income["lines"] if ln["key"] == "total_income")
    assert total_income["amount"] > 0  # closing entries were left out of the movements
    twice = {c["record"]["index"] for c in bundles[1]["carried_records"]} & {
        c["record"]["index"] for c in bundles[2]["carried_records"]
    }
    assert twice, "a far-dated record should be carried through two reports"


def test_without_a_key_it_is_only_partly_checked(bundles):
    r = check(bundles[0])
    assert statuses(r)["key"] == WARN
    key_check = next(c for c in r.checks if c.check == "key")
    assert "fingerprint" in key_check.message and "--key" in key_check.action
    assert statuses(r)["checkpoint_origin"] == SKIP  # nothing to compare the origin with
    assert not r.failed
    assert r.exit_code == 3 and r.verdict == "partly_checked"
    assert "PARTLY CHECKED" in r.text() and "VERIFIED" not in r.text().replace("NOT VERIFIED", "")


def test_a_fingerprint_without_the_origin_is_partly_checked(bundles, book):
    raw = notes.public_key_bytes(book.key)
    r = check(bundles[0], key=TrustedKey(raw, notes.fingerprint(raw), "--key"))
    assert statuses(r)["key"] == PASS and statuses(r)["checkpoint_origin"] == SKIP
    assert "--origin ledger.test/commons-ledger/7" in r.text()
    assert r.exit_code == 3
    r, _ = verify_bundle(
        bundles[0], key=TrustedKey(raw, notes.fingerprint(raw), "--key"), origin=book.origin
    )
    assert r.exit_code == 0 and r.verdict == "verified", r.text()


def test_an_origin_other_than_the_organisation_page_states_fails(bundles, book):
    raw = notes.public_key_bytes(book.key)
    key = TrustedKey(raw, notes.fingerprint(raw), "--key", "other.example/commons-ledger/7")
    r = check(bundles[0], key=key)
    assert {"key", "checkpoint_signature", "checkpoint_origin"} <= failed(r)
    assert "other.example/commons-ledger/7" in message(r, "key")


def test_first_report_has_nothing_before_it_and_is_fully_checked(bundles, key):
    r = check(bundles[0], key=key)
    st_ = statuses(r)
    assert st_["previous_checkpoint"] == PASS and st_["consistency_proof"] == PASS
    assert "first report" in message(r, "consistency_proof")
    assert st_["opening_balances"] == PASS  # a first report opens from zero
    assert r.verdict == "verified"


def test_later_report_without_previous_is_partly_checked_and_says_what_to_add(bundles, key):
    r = check(bundles[1], key=key)
    st_ = statuses(r)
    assert st_["opening_balances"] == SKIP
    assert st_["consistency_proof"] == PASS  # needs only the embedded previous checkpoint
    opening = next(c for c in r.checks if c.check == "opening_balances")
    assert "--previous" in opening.action and bundles[0]["period"]["end"] in opening.action
    assert r.exit_code == 3 and not r.failed


def test_the_key_can_be_given_as_fingerprint_vkey_base64_json_or_file(book, bundles, tmp_path):
    raw = notes.public_key_bytes(book.key)
    forms = [
        notes.fingerprint(raw),
        notes.fingerprint(raw).upper(),
        notes.vkey(book.origin, raw),
        base64.b64encode(raw).decode(),
        json.dumps(book.public_key()),
    ]
    kf = tmp_path / "key.txt"
    kf.write_text(notes.fingerprint(raw) + "\n")
    bf = tmp_path / "b.json"
    bf.write_text(json.dumps(bundles[0], ensure_ascii=False), encoding="utf-8")
    named = {notes.vkey(book.origin, raw), json.dumps(book.public_key())}
    for form in [*forms, str(kf)]:
        # The verifier key and the JSON key name the origin; the other forms need --origin.
        r = verify(str(bf), key=form, origin=None if form in named else book.origin)
        assert r.exit_code == 0, (form, r.text())
        assert statuses(r)["key"] == PASS


def test_receipt_verifies_alone_and_with_the_bundle(book, bundles, key):
    size = notes.parse_checkpoint(notes.parse_note(bundles[1]["checkpoint"]).text).size
    idx = [i for i in book.private_indices() if i < size][0]
    receipt = book.receipt(idx, size=size)
    r = verify_receipt(receipt, key=key)
    assert not r.failed, r.text()
    assert {"receipt_signature", "receipt_inclusion", "receipt_commitment"} <= {
        c.check for c in r.checks if c.status == PASS
    }
    r = check(bundles[2], key=key, receipt=receipt)
    assert not r.failed, r.text()
    assert "older" in message(r, "receipt_vs_bundle")


def test_receipt_rechecked_against_a_later_checkpoint(book, key):
    idx = book.private_indices()[0]
    assert not verify_receipt(book.receipt(idx, size=idx + 1), key=key).failed
    assert not verify_receipt(book.receipt(idx, size=len(book.posted)), key=key).failed


def test_receipt_of_a_record_inside_the_bundle_is_matched_with_it(book, bundles, key):
    b = bundles[2]
    first = b["log"]["first_index"]
    size = first + len(b["log"]["records"])
    idx = next(i for i in book.private_indices() if i >= first)
    r = check(b, key=key, receipt=book.receipt(idx, size=size))
    assert not r.failed
    assert "same record" in message(r, "receipt_vs_bundle")


# --------------------------------------------------------------------------- must reject: log


def test_changed_amount_fails_the_log_root(bundles, key):
    b = bundles[1]
    rebalance(b["log"]["records"][3], 100)
    r = check(b, key=key)
    assert "log_root" in failed(r)
    assert statuses(r)["records"] == PASS
    assert statuses(r)["checkpoint_signature"] == PASS


def test_changed_amount_that_unbalances_a_record_fails_records_too(bundles, key):
    b = bundles[0]
    line = b["log"]["records"][0]["lines"][0]
    line["debit" if line["debit"] else "credit"] += 1
    r = check(b, key=key)
    assert {"records", "log_root"} <= failed(r)
    assert "does not balance" in message(r, "records")


@pytest.mark.parametrize(
    "field,values",
    [
        ("summary", ["收取物业费（改）", "x"]),
        ("date", ["2026-10-02", "2026-10-03"]),
        ("number", ["记-X", "记-Y"]),
        ("private", [None, "0" * 64]),
        ("kind", ["opening", "normal"]),
        ("reverses", [0, None]),
    ],
)
def test_any_changed_record_field_fails_the_log_root(bundles, key, field, values):
    b = bundles[0]
    rec = b["log"]["records"][5]
    rec[field] = values[0] if rec[field] != values[0] else values[1]
    assert "log_root" in failed(check(b, key=key))


def test_dropped_record_fails_records_and_root(bundles, key):
    b = bundles[1]
    del b["log"]["records"][4]
    r = check(b, key=key)
    assert {"records", "log_root"} <= failed(r)
    assert "checkpoint size is" in message(r, "log_root")


def test_reordered_records_fail(bundles, key):
    b = bundles[1]
    recs = b["log"]["records"]
    recs[2], recs[3] = recs[3], recs[2]
    r = check(b, key=key)
    assert {"records", "log_root"} <= failed(r)
    assert "position says" in message(r, "records")


def test_reordered_records_with_fixed_indices_still_fail_the_root(bundles, key):
    b = bundles[1]
    recs = b["log"]["records"]
    recs[2], recs[3] = recs[3], recs[2]
    recs[2]["index"], recs[3]["index"] = recs[3]["index"], recs[2]["index"]
    r = check(b, key=key)
    assert "log_root" in failed(r) and statuses(r)["records"] == PASS


def test_duplicated_record_fails(bundles, key):
    b = bundles[0]
    b["log"]["records"].insert(5, copy.deepcopy(b["log"]["records"][5]))
    r = check(b, key=key)
    assert {"records", "log_root"} <= failed(r)


def test_added_record_with_a_resigned_bigger_checkpoint_still_fails_the_root(book, bundles, key):
    b = bundles[0]
    extra = copy.deepcopy(b["log"]["records"][-1])
    extra["index"] += 1
    b["log"]["records"].append(extra)
    resign(book, b, size=len(b["log"]["records"]))
    r = check(b, key=key)
    assert statuses(r)["checkpoint_signature"] == PASS
    assert failed(r) >= {"log_root"}


def test_changed_checkpoint_size_breaks_the_signature(bundles, key):
    b = bundles[0]
    b["checkpoint"] = b["checkpoint"].replace(
        f"\n{len(b['log']['records'])}\n", f"\n{len(b['log']['records']) + 1}\n"
    )
    r = check(b, key=key)
    assert {"checkpoint_signature", "log_root"} <= failed(r)


def test_resigned_checkpoint_with_another_size_fails_the_root(book, bundles, key):
    b = bundles[1]
    cp = notes.parse_checkpoint(notes.parse_note(b["checkpoint"]).text)
    resign(book, b, size=cp.size - 1)
    r = check(b, key=key)
    assert statuses(r)["checkpoint_signature"] == PASS
    assert "log_root" in failed(r)


def test_resigned_checkpoint_with_another_root_fails_root_and_consistency(book, bundles, key):
    b = bundles[1]
    resign(book, b, root=bytes(32))
    r = check(b, key=key)
    assert {"log_root", "consistency_proof"} <= failed(r)
    assert statuses(r)["checkpoint_signature"] == PASS


def test_compact_range_tampered_fails(bundles, key):
    b = bundles[1]
    h = bytearray(base64.b64decode(b["log"]["compact_range"][0]))
    h[0] ^= 1
    b["log"]["compact_range"][0] = b64(bytes(h))
    r = check(b, key=key)
    assert {"compact_range", "log_root"} <= failed(r)


def test_compact_range_of_the_wrong_length_fails(bundles, key):
    b = bundles[1]
    b["log"]["compact_range"].append(b["log"]["compact_range"][0])
    r = check(b, key=key)
    assert {"compact_range", "log_root"} <= failed(r)


def test_record_of_another_book_fails_records(bundles, key):
    b = bundles[0]
    b["log"]["records"][0]["book"] = 8
    r = check(b, key=key)
    assert {"records", "log_root"} <= failed(r)
    assert "book is 8" in message(r, "records")


def test_record_with_an_unexpected_field_fails_records(bundles, key):
    b = bundles[0]
    b["log"]["records"][0]["resident_name"] = "张秀英"
    assert "unexpected resident_name" in message(check(b, key=key), "records")


# --------------------------------------------------------------------------- must reject: keys


def test_wrong_key_fails_key_and_signature(bundles):
    other = Ed25519PrivateKey.generate().public_key()
    raw = notes.public_key_bytes(other)
    r = check(bundles[0], key=TrustedKey(raw, notes.fingerprint(raw), "--key"))
    assert {"key", "checkpoint_signature"} <= failed(r)


def test_wrong_fingerprint_fails_and_nothing_is_trusted(bundles):
    r = check(bundles[0], key=TrustedKey(None, "00" * 32, "--key"))
    assert {"key", "checkpoint_signature"} <= failed(r)
    assert "no trusted key" in message(r, "checkpoint_signature")


def test_bundle_whose_own_key_was_swapped_fails_against_the_real_key(book, bundles, key):
    """A forger re-signs everything with their own key and ships it in the bundle: it is
    internally consistent, so only the out-of-band key catches it."""
    forger = SyntheticBook(book_id=7, seed=11)
    forged = forger.monthly_reports(months=1, per_month=25, early=2, far=1)[0]
    assert check(forged).exit_code == 3  # consistent on its own, but only partly checked
    r = check(forged, key=key)
    assert {"key", "checkpoint_signature"} <= failed(r)


def test_public_key_with_a_wrong_fingerprint_field_fails(bundles):
    b = bundles[0]
    b["public_key"]["fingerprint"] = "ab" * 32
    assert "key" in failed(check(b))


def test_checkpoint_signed_under_another_key_name_fails(book, bundles, key):
    b = bundles[0]
    cp = notes.parse_checkpoint(notes.parse_note(b["checkpoint"]).text)
    b["checkpoint"] = book.checkpoint(cp.size, cp.root, origin="commons-ledger/8")
    r = check(b, key=key)
    assert {"checkpoint_signature", "checkpoint_origin"} <= failed(r)
    assert "commons-ledger/8" in message(r, "checkpoint_origin")


def test_another_books_bundle_is_an_origin_mismatch(world, key):
    _, _, _, other_bundles = world
    b = copy.deepcopy(other_bundles[0])
    b["book"]["id"] = 7  # claims to be book 7, but its checkpoint is book 8's
    r = check(b)
    assert {"checkpoint_origin", "records"} <= failed(r)
    assert "commons-ledger/8" in message(r, "checkpoint_origin")
    r = check(b, key=key)  # with the organisation's key and origin, everything fails
    assert {"key", "checkpoint_signature", "checkpoint_origin", "records"} <= failed(r)


# --------------------------------------------------------------------------- must reject: bundle signature


def test_valid_bundle_signature_passes(bundles, key):
    r = check(bundles[1], key=key)
    assert statuses(r)["bundle_signature"] == PASS
    assert "2026-11-01..2026-11-30" in message(r, "bundle_signature")


@pytest.mark.parametrize(
    "mangle",
    [
        # A relabelled line: every amount still recomputes, only the signature can tell.
        lambda b: _line(b, "balance_sheet", "cash").update(
            label_zh="应收账款", label_en="Receivables"
        ),
        # Which accounts a line sums, changed consistently with its amount and the totals.
        lambda b: _line(b, "income_expenditure", "fee_income").update(accounts=[]),
        lambda b: b["accounts"].pop(),
        lambda b: b["accounts"][0].update(name_zh="改名"),
        lambda b: b["book"].update(organisation="另一个业委会"),
        lambda b: b.update(extra=1),
    ],
    ids=[
        "relabel",
        "line accounts",
        "account dropped",
        "account renamed",
        "organisation",
        "extra field",
    ],
)
def test_changed_bundle_content_fails_the_bundle_signature(bundles, key, mangle):
    b = bundles[1]
    mangle(b)
    r = check(b, key=key)
    assert "bundle_signature" in failed(r)
    assert "changed after it was signed" in message(r, "bundle_signature")


def test_relabelled_line_fails_only_the_bundle_signature(bundles, key):
    b = bundles[1]
    _line(b, "balance_sheet", "cash").update(label_zh="应收账款", label_en="Receivables")
    assert failed(check(b, key=key)) == {"bundle_signature"}


def test_changed_period_fails_the_bundle_signature(book, bundles, key):
    b = copy.deepcopy(bundles[0])
    b["period"]["end"] = "2026-11-30"
    assert "bundle_signature" in failed(check(b, key=key))
    # Re-hashed but signed for another period line: the period check names it.
    b = bundles[0]
    book.sign_bundle(b, period=("2026-10-01", "2026-10-30"))
    r = check(b, key=key)
    assert failed(r) == {"bundle_signature"}
    assert "period" in message(r, "bundle_signature")


def test_bundle_signature_for_another_book_fails(book, bundles, key):
    b = bundles[0]
    book.sign_bundle(b, book_id=8)
    r = check(b, key=key)
    assert failed(r) == {"bundle_signature"}
    assert "commons-ledger/8/report" in message(r, "bundle_signature")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b.pop("signature"),
        lambda b: b.update(signature=None),
        lambda b: b.update(signature=b["checkpoint"]),  # a real signed note, but not of this bundle
        lambda b: b.update(signature="garbage"),
    ],
    ids=["missing", "null", "checkpoint instead", "garbage"],
)
def test_missing_or_wrong_bundle_signature_fails(bundles, key, mangle):
    b = bundles[1]
    mangle(b)
    r = check(b, key=key)
    assert failed(r) == {"bundle_signature"}


def test_bundle_signed_by_another_key_fails(bundles, key):
    b = bundles[1]
    other = SyntheticBook(book_id=7, seed=99)
    other.sign_bundle(b)
    assert failed(check(b, key=key)) == {"bundle_signature"}


def test_previous_bundle_is_signature_checked_too(bundles, key):
    prev = bundles[0]
    _line(prev, "balance_sheet", "cash")["label_en"] = "Money"
    assert "previous.bundle_signature" in failed(check(bundles[1], previous=prev, key=key))


# --------------------------------------------------------------------------- must reject: previous


def test_another_books_bundle_as_previous_fails(world, bundles, key):
    _, _, _, other_bundles = world
    r = check(bundles[1], previous=copy.deepcopy(other_bundles[0]), key=key)
    assert "previous_bundle" in failed(r)
    assert "book 8" in message(r, "previous_bundle")


def test_a_previous_that_is_not_the_named_one_fails(bundles, key):
    r = check(bundles[2], previous=bundles[0], key=key)
    assert "previous_bundle" in failed(r)


def test_opening_not_equal_to_previous_closing_fails(bundles, key):
    b = bundles[1]
    b["opening_balances"][0]["balance"] += 1
    r = check(b, previous=bundles[0], key=key)
    assert "opening_balances" in failed(r)
    assert "closing_balances" in failed(r)  # closing = opening + records no longer holds


def test_opening_changed_consistently_with_closing_is_caught_only_by_previous(bundles, key):
    b = bundles[1]
    both = {x["account"] for x in b["opening_balances"]} & {
        x["account"] for x in b["closing_balances"]
    }
    account = sorted(both)[0]
    for side in ("opening_balances", "closing_balances"):
        row = next(x for x in b[side] if x["account"] == account)
        row["balance"] += 500
    r_alone = check(b, key=key)
    assert "closing_balances" not in failed(r_alone)
    r = check(b, previous=bundles[0], key=key)
    assert "opening_balances" in failed(r)


def test_consistency_proof_tampered_fails(bundles, key):
    b = bundles[2]
    p = bytearray(base64.b64decode(b["previous"]["consistency_proof"][0]))
    p[5] ^= 4
    b["previous"]["consistency_proof"][0] = b64(bytes(p))
    assert "consistency_proof" in failed(check(b, key=key))


def test_consistency_proof_truncated_fails(bundles, key):
    b = bundles[2]
    b["previous"]["consistency_proof"].pop()
    assert "consistency_proof" in failed(check(b, key=key))


def test_dropped_carried_record_fails_against_previous(bundles, key):
    b = bundles[2]
    dropped = b["carried_records"].pop(0)["record"]
    r = check(b, previous=bundles[1], key=key)
    assert "carried_vs_previous" in failed(r)
    assert "not carried" in message(r, "carried_vs_previous")
    # The dropped record is dated inside this report's period, so it is missing from the
    # closing balances too; a record dated after the period would not be.
    assert b["period"]["start"] <= dropped["date"] <= b["period"]["end"]
    assert "closing_balances" in failed(r)
    assert "closing balances differ" in message(r, "closing_balances")


def test_dropped_carried_record_dated_after_the_period_keeps_the_closing_balances(bundles, key):
    b = bundles[2]
    later = [
        n for n, c in enumerate(b["carried_records"]) if c["record"]["date"] > b["period"]["end"]
    ]
    assert later, "the synthetic book carries a record dated after December"
    del b["carried_records"][later[0]]
    r = check(b, previous=bundles[1], key=key)
    assert "carried_vs_previous" in failed(r)
    assert statuses(r)["closing_balances"] == PASS


def test_carried_record_with_a_bad_inclusion_proof_fails(bundles, key):
    b = bundles[2]
    proof = b["carried_records"][0]["inclusion_proof"]
    proof[-1] = b64(bytes(32))
    r = check(b, key=key)
    assert "carried_records" in failed(r)
    assert "inclusion proof fails" in message(r, "carried_records")


def test_carried_record_changed_fails(bundles, key):
    b = bundles[2]
    rebalance(b["carried_records"][0]["record"], 7)
    assert "carried_records" in failed(check(b, key=key))


def test_carried_records_out_of_order_or_duplicated_fail(bundles, key):
    b = bundles[2]
    assert len(b["carried_records"]) >= 2
    c = copy.deepcopy(b)
    c["carried_records"].reverse()
    assert "carried_records" in failed(check(c, key=key))
    d = copy.deepcopy(b)
    d["carried_records"].append(copy.deepcopy(d["carried_records"][-1]))
    assert "carried_records" in failed(check(d, key=key))


def test_carried_record_dated_in_the_previous_period_fails(book, bundles, key):
    b = bundles[1]
    prev_end = b["previous"]["period_end"]
    # Take an early record of the previous segment that is *not* pending and carry it.
    rec = next(r for r in bundles[0]["log"]["records"] if r["date"] <= prev_end)
    size = notes.parse_checkpoint(notes.parse_note(b["checkpoint"]).text).size
    from tlog import merkle

    proof = merkle.inclusion_proof_from_nodes(size, rec["index"], book.store.get_node)
    b["carried_records"].insert(0, {"record": rec, "inclusion_proof": [b64(h) for h in proof]})
    r = check(b, key=key)
    assert "carried_records" in failed(r)
    assert "not after the previous period" in message(r, "carried_records")


def test_first_report_with_carried_records_fails(bundles, key):
    b = bundles[0]
    b["carried_records"] = copy.deepcopy(bundles[1]["carried_records"])
    assert "carried_records" in failed(check(b, key=key))


def test_first_report_with_opening_balances_fails(bundles, key):
    b = bundles[0]
    b["opening_balances"] = [{"account": "1001", "fund": None, "unit": "CNY", "balance": 5}]
    assert "opening_balances" in failed(check(b, key=key))


def test_dropping_previous_from_a_later_report_fails(bundles, key):
    b = bundles[1]
    b["previous"] = None
    r = check(b, key=key)
    assert "previous_checkpoint" in failed(r)


# --------------------------------------------------------------------------- must reject: balances


def test_closing_balance_changed_fails(book, bundles, key):
    b = bundles[0]
    b["closing_balances"][0]["balance"] += 1
    book.sign_bundle(b)  # signed as tampered: only the arithmetic can tell
    r = check(b, key=key)
    assert failed(r) == {"closing_balances"}
    assert "recomputed" in message(r, "closing_balances")


def test_closing_balance_dropped_fails(book, bundles, key):
    b = bundles[0]
    del b["closing_balances"][1]
    book.sign_bundle(b)  # signed as tampered: only the arithmetic can tell
    assert failed(check(b, key=key)) == {"closing_balances"}


def test_zero_or_unsorted_or_duplicate_balance_entries_fail(bundles, key):
    for mangle in (
        lambda rows: rows.append({"account": "9999", "fund": None, "unit": "CNY", "balance": 0}),
        lambda rows: rows.reverse(),
        lambda rows: rows.append(copy.deepcopy(rows[-1])),
    ):
        b = copy.deepcopy(bundles[0])
        mangle(b["closing_balances"])
        assert "closing_balances" in failed(check(b, key=key))


def test_period_end_moved_earlier_fails_the_closing_balances(bundles, key):
    b = bundles[0]
    b["period"]["end"] = "2026-10-15"
    assert "closing_balances" in failed(check(b, key=key))


# --------------------------------------------------------------------------- must reject: statements


def _line(bundle, statement, key):
    st_ = next(s for s in bundle["statements"] if s["statement"] == statement)
    return next(ln for ln in st_["lines"] if ln["key"] == key)


def test_statement_amount_changed_fails_that_statement_only(book, bundles, key):
    b = bundles[1]
    _line(b, "balance_sheet", "cash")["amount"] += 1
    book.sign_bundle(b)  # signed as tampered: only the arithmetic can tell
    r = check(b, key=key)
    assert failed(r) == {"statement.balance_sheet"}
    assert "line cash: recomputed" in message(r, "statement.balance_sheet")


def test_income_statement_amount_changed_fails(book, bundles, key):
    b = bundles[2]
    _line(b, "income_expenditure", "fee_income")["amount"] -= 100
    book.sign_bundle(b)  # signed as tampered: only the arithmetic can tell
    assert failed(check(b, key=key)) == {"statement.income_expenditure"}


def test_total_changed_fails(bundles, key):
    b = bundles[0]
    _line(b, "income_expenditure", "surplus")["amount"] += 1
    assert "statement.income_expenditure" in failed(check(b, key=key))


def test_memo_line_summed_into_a_total_is_rejected(bundles, key):
    b = bundles[0]
    _line(b, "income_expenditure", "total_income")["sum"].append("parking_income")
    r = check(b, key=key)
    assert "statement.income_expenditure" in failed(r)
    assert "memo" in message(r, "statement.income_expenditure")


def test_statement_including_closing_entries_fails(bundles, key):
    """December's revenue with the year-end closing entries counted would be zero."""
    b = bundles[2]
    _line(b, "income_expenditure", "fee_income")["amount"] = 0
    assert "statement.income_expenditure" in failed(check(b, key=key))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda ln: ln.update(kind="chapter"),
        lambda ln: ln["accounts"].append({"code": "1001", "sign": 2}),
        lambda ln: ln.update(amount="12"),
        lambda ln: ln.update(amount=None),
        lambda ln: ln.pop("amount"),
        lambda ln: ln.update(accounts="1001"),
    ],
)
def test_malformed_statement_lines_fail_the_statement(bundles, key, mangle):
    b = bundles[0]
    mangle(_line(b, "balance_sheet", "cash"))
    r = check(b, key=key)
    assert "statement.balance_sheet" in failed(r)


def test_sum_cycle_is_rejected(bundles, key):
    b = bundles[0]
    _line(b, "income_expenditure", "total_income")["sum"].append("surplus")
    assert "cycle" in message(check(b, key=key), "statement.income_expenditure")


def test_unbalanced_balance_sheet_fails_its_own_check(book, bundles, key):
    """Drop the cash account from the cash line and restate consistently: every line then
    matches its own definition, but assets no longer equal liabilities plus net assets."""
    b = bundles[1]
    cash = _line(b, "balance_sheet", "cash")
    cash["accounts"] = [a for a in cash["accounts"] if a["code"] != "1002"]
    _restate(b, "balance_sheet")
    book.sign_bundle(b)  # signed as tampered: only the arithmetic can tell
    r = check(b, key=key)
    assert statuses(r)["statement.balance_sheet"] == PASS
    assert failed(r) == {"balance_sheet_balances"}


def _restate(bundle, name):
    accounts = bm.accounts_from_json(bundle["accounts"], "accounts")
    closing = bm.balances_from_json(bundle["closing_balances"], "closing")
    st_ = next(s for s in bundle["statements"] if s["statement"] == name)
    lines = bm.parse_statement_lines(st_["lines"], "lines")
    amounts = bm.evaluate_lines(
        lines, bm.rolled_up(bm.normal_balances(closing, accounts), accounts)
    )
    for ln in st_["lines"]:
        if ln["kind"] != "heading":
            ln["amount"] = amounts[ln["key"]]


def test_balance_sheet_totals_found_without_side(bundles, key):
    b = bundles[0]
    for st_ in b["statements"]:
        for ln in st_["lines"]:
            ln.pop("side", None)
    r = check(b, key=key)
    assert statuses(r)["balance_sheet_balances"] == PASS


def test_record_using_an_unlisted_account_fails_accounts(bundles, key):
    b = bundles[0]
    b["accounts"] = [a for a in b["accounts"] if a["code"] != "5103"]
    used = {ln["account"] for r in b["log"]["records"] for ln in r["lines"]}
    assert "5103" in used
    assert "accounts" in failed(check(b, key=key))


def test_account_parent_not_listed_fails_accounts(bundles, key):
    b = bundles[0]
    b["accounts"] = [a for a in b["accounts"] if a["code"] != "4201"]
    assert "parent 4201 is not listed" in message(check(b, key=key), "accounts")


def test_flipped_normal_side_fails_statements(bundles, key):
    b = bundles[1]
    acc = next(a for a in b["accounts"] if a["code"] == "1002")
    acc["normal_side"] = "credit"
    assert "statement.balance_sheet" in failed(check(b, key=key))


def test_custom_chart_without_statements_passes(book, bundles, key):
    b = bundles[0]
    b["book"]["chart"] = "CUSTOM"
    b["statements"] = []
    book.sign_bundle(b)
    r = check(b, key=key)
    assert statuses(r)["statements"] == PASS and r.exit_code == 0


# --------------------------------------------------------------------------- receipts


@pytest.fixture
def receipt(book):
    return book.receipt(book.private_indices()[0])


def test_receipt_with_a_wrong_salt_fails_the_commitment(receipt, key):
    salt = bytearray(base64.b64decode(receipt["private"][0]["salt"]))
    salt[0] ^= 1
    receipt["private"][0]["salt"] = b64(bytes(salt))
    r = verify_receipt(receipt, key=key)
    assert failed(r) == {"receipt_commitment"}


def test_receipt_with_a_changed_private_name_fails_the_commitment(receipt, key):
    receipt["private"][0]["name"] = "李四"
    assert failed(verify_receipt(receipt, key=key)) == {"receipt_commitment"}


def test_receipt_with_a_wrong_index_fails(receipt, key):
    receipt["index"] += 1
    r = verify_receipt(receipt, key=key)
    assert {"receipt_record", "receipt_inclusion"} <= failed(r)


def test_receipt_with_a_changed_record_fails_inclusion(receipt, key):
    rebalance(receipt["record"], 1)
    assert failed(verify_receipt(receipt, key=key)) == {"receipt_inclusion"}


def test_receipt_with_a_short_salt_fails(receipt, key):
    receipt["private"][0]["salt"] = b64(b"short")
    assert "receipt_commitment" in failed(verify_receipt(receipt, key=key))


@pytest.fixture(scope="module")
def copay():
    """A voucher paid by two residents (co-payers) on lines 1 and 2, and one more record."""
    from tests.transparency.bundlegen import RESIDENTS

    b = SyntheticBook(book_id=9, seed=5)
    b.post(
        dt.date(2026, 8, 3),
        [("1002", 300, 0), ("1002", 200, 0), ("4101", 0, 500)],
        summary="合付物业费",
        residents={1: RESIDENTS[0], 2: RESIDENTS[1]},
    )
    b.post(dt.date(2026, 8, 4), [("5101", 9, 0), ("1002", 0, 9)])
    return b


def test_a_receipt_carries_only_its_residents_line(copay):
    mine, theirs = copay.receipt(0, resident=3), copay.receipt(0, resident=4)
    raw = notes.public_key_bytes(copay.key)
    k = TrustedKey(raw, notes.fingerprint(raw), "test")
    for r, who, other in ((mine, "张秀英", "李建国"), (theirs, "李建国", "张秀英")):
        assert not verify_receipt(r, key=k).failed
        text = json.dumps(r, ensure_ascii=False)
        assert who in text and other not in text  # never the co-payer's name or unit
        assert len(r["private"]) == 1 and set(r["private"][0]) == {
            "line",
            "resident",
            "name",
            "unit",
            "salt",
        }
    assert [c["line"] for c in mine["record"]["private"]] == [1, 2]
    # One line's salt does not open the other line's commitment.
    forged = copy.deepcopy(mine)
    forged["private"][0].update(line=2, resident=4, name="李建国", unit=RESIDENT_UNIT_4)
    assert failed(verify_receipt(forged, key=k)) == {"receipt_commitment"}
    # Opening someone else's line with a guessed salt fails too; both lines with their own
    # salts (what the server never hands out together) pass.
    both = copy.deepcopy(mine)
    both["private"] += theirs["private"]
    assert not verify_receipt(both, key=k).failed
    both["private"][1]["salt"] = mine["private"][0]["salt"]
    assert "line 2" in message(verify_receipt(both, key=k), "receipt_commitment")


RESIDENT_UNIT_4 = "1栋2单元502"


def test_line_salts_follow_the_format(copay):
    p = copay.posted[0]
    for c in p.record["private"]:
        entry = next(e for e in p.private if e["line"] == c["line"])
        salt_n = hmac.new(p.salt, b"line:%d" % c["line"], hashlib.sha256).digest()[:16]
        assert bm.line_salt(p.salt, c["line"]) == salt_n
        assert hashlib.sha256(salt_n + rfc8785.dumps(entry)).hexdigest() == c["commitment"]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda r: r.update(private=[]),
        lambda r: r.update(private="ab" * 32),  # the old single commitment
        lambda r: r["private"].append(copy.deepcopy(r["private"][0])),  # line twice
        lambda r: r["private"].reverse(),  # not ascending
        lambda r: r["private"][0].update(line=0),
        lambda r: r["private"][0].update(line=4),
        lambda r: r["private"][0].update(commitment="AB" * 32),
        lambda r: r["private"][0].update(extra=1),
        lambda r: r["private"][0].pop("line"),
    ],
    ids=[
        "empty",
        "string",
        "duplicate",
        "order",
        "line 0",
        "line out of range",
        "upper hex",
        "extra",
        "no line",
    ],
)
def test_malformed_private_commitments_fail_the_record_shape(copay, mangle):
    rec = copy.deepcopy(copay.posted[0].record)
    mangle(rec)
    with pytest.raises(bm.ShapeError):
        bm.check_record(rec, "r")


def test_fast_leaf_bytes_match_rfc8785_with_line_commitments(copay):
    for p in copay.posted:
        bm.check_record(p.record, "r")
        assert bm.leaf_bytes(p.record, checked=True) == rfc8785.dumps(p.record)


def test_receipt_entry_with_extra_or_missing_fields_fails(copay):
    raw = notes.public_key_bytes(copay.key)
    k = TrustedKey(raw, notes.fingerprint(raw), "test")
    r = copay.receipt(0, resident=3)
    r["private"][0]["phone"] = "138"
    assert failed(verify_receipt(r, key=k)) == {"receipt_commitment"}
    r = copay.receipt(0, resident=3)
    del r["private"][0]["salt"]
    assert failed(verify_receipt(r, key=k)) == {"receipt_commitment"}


def test_receipt_with_a_private_line_outside_the_record_fails(book, key):
    rec = book.receipt(book.private_indices()[0])
    rec["private"][0]["line"] = 99
    assert "receipt_commitment" in failed(verify_receipt(rec, key=key))


def test_receipt_of_a_record_without_commitment_fails(book, key):
    idx = next(i for i, p in enumerate(book.posted) if not p.private)
    rec = book.receipt(idx)
    assert "receipt_commitment" in failed(verify_receipt(rec, key=key))


def test_receipt_with_the_wrong_key_fails(receipt):
    raw = notes.public_key_bytes(Ed25519PrivateKey.generate())
    r = verify_receipt(receipt, key=TrustedKey(raw, notes.fingerprint(raw), "--key"))
    assert {"receipt_key", "receipt_signature"} <= failed(r)


def test_receipt_of_another_book_with_a_bundle_fails(world, bundles):
    _, _, other, _ = world
    receipt = other.receipt(other.private_indices()[0])
    r = check(bundles[0], receipt=receipt)
    assert failed(r) & {"receipt_key", "receipt_vs_bundle"}


def test_receipt_with_a_forked_checkpoint_fails_against_the_bundle(book, bundles, key):
    b = bundles[0]
    size = notes.parse_checkpoint(notes.parse_note(b["checkpoint"]).text).size
    receipt = book.receipt(book.private_indices()[0], size=size)
    b2 = copy.deepcopy(b)
    resign(book, b2, root=bytes(32))
    r = check(b2, key=key, receipt=receipt)
    assert "receipt_vs_bundle" in failed(r)
    assert "forked" in message(r, "receipt_vs_bundle")


def test_receipt_whose_record_differs_from_the_bundles_fails(book, bundles, key):
    b = bundles[0]
    size = notes.parse_checkpoint(notes.parse_note(b["checkpoint"]).text).size
    receipt = book.receipt(book.private_indices()[0], size=size)
    rebalance(b["log"]["records"][receipt["index"]], 3)
    assert "receipt_vs_bundle" in failed(check(b, key=key, receipt=receipt))


# --------------------------------------------------------------------------- never a crash


def _mutations():
    junk = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.text(max_size=5),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
    return st.lists(
        st.tuples(st.integers(0, 10**6), st.sampled_from(["delete", "replace"]), junk),
        min_size=1,
        max_size=4,
    )


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from _paths(v, (*prefix, i))


def _apply(doc, path, op, junk):
    if not path:
        return junk
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    if op == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = junk
    return doc


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_mutations())
def test_mutated_bundles_never_crash_the_verifier(world, muts):
    book, bundles, _, _ = world
    doc = copy.deepcopy(bundles[1])
    prev = copy.deepcopy(bundles[0])
    receipt = book.receipt(book.private_indices()[0])
    for n, op, junk in muts:
        target = [doc, prev, receipt][n % 3]
        paths = list(_paths(target))
        path = paths[n % len(paths)]
        mutated = _apply(target, path, op, junk)
        if not path:
            if n % 3 == 0:
                doc = mutated
            elif n % 3 == 1:
                prev = mutated
            else:
                receipt = mutated
    r = check(doc, previous=prev, receipt=receipt)
    assert r.exit_code in (0, 1, 3)
    assert all(c.status in (PASS, FAIL, WARN, SKIP) for c in r.checks)
    assert not any("unexpected error" in c.message for c in r.checks), r.text()


@pytest.mark.parametrize(
    "doc",
    [
        [],
        "string",
        12,
        None,
        {},
        {"format": "commons-ledger/disclosure/1"},
        {"format": "commons-ledger/disclosure/1", "book": {"id": "7"}},
        {"format": "commons-ledger/disclosure/1", "book": {"id": True}, "period": {"start": 1}},
    ],
)
def test_skeleton_bundles_fail_cleanly(doc):
    r = check(doc)
    assert r.exit_code == 1
    assert not any("unexpected error" in c.message for c in r.checks), r.text()


def test_huge_and_weird_values_fail_cleanly(bundles, key):
    b = bundles[0]
    b["log"]["records"][0]["lines"][0]["debit"] = 10**30
    b["log"]["first_index"] = 10**30
    b["closing_balances"][0]["balance"] = 2**64
    b["checkpoint"] = "x" * 100_000
    r = check(b, key=key)
    assert r.exit_code == 1
    assert not any("unexpected error" in c.message for c in r.checks), r.text()


# --------------------------------------------------------------------------- reading input


@pytest.mark.parametrize(
    "data,why",
    [
        (b'{"format": "commons-ledger/disclosure/1", "book": ', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"format": "commons-ledger/disclosure/1", "a": NaN}', "NaN"),
        (b'{"format": "commons-ledger/disclosure/1", "a": 1, "a": 2}', "twice"),
        (b"[" * 100_000 + b"]" * 100_000, "deeply"),
        (b'{"a": ' + b"1" * 5000 + b"}", "digits"),
    ],
)
def test_unreadable_json_is_an_input_error(data, why):
    from transparency.verify import InputError

    with pytest.raises(InputError, match=why):
        parse_json_bytes(data, "bundle")


def _cli(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "transparency.verify", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


@pytest.fixture
def files(tmp_path, bundles, book):
    def write(name, doc):
        p = tmp_path / name
        p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        return str(p)

    return write


def test_cli_exit_codes_and_output(files, bundles, book):
    fp = notes.vkey(book.origin, notes.public_key_bytes(book.key))  # names the origin
    good = files("b1.json", bundles[1])
    prev = files("b0.json", bundles[0])
    res = _cli(good, "--previous", prev, "--key", fp)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.splitlines()[-1].startswith("VERIFIED")
    assert all(line.split()[0] in ("PASS", "WARN", "VERIFIED:") for line in res.stdout.splitlines())
    # The fingerprint alone leaves the origin unchecked until --origin names it.
    res = _cli(good, "--previous", prev, "--key", notes.fingerprint(book.key))
    assert res.returncode == 3 and "\nPARTLY CHECKED" in res.stdout
    res = _cli(
        good, "--previous", prev, "--key", notes.fingerprint(book.key), "--origin", book.origin
    )
    assert res.returncode == 0, res.stdout

    bad = copy.deepcopy(bundles[1])
    _line(bad, "balance_sheet", "cash")["amount"] += 1
    res = _cli(files("bad.json", bad), "--key", fp)
    assert res.returncode == 1
    assert "FAIL statement.balance_sheet: " in res.stdout
    assert res.stderr == ""

    res = _cli(good, "--previous", prev, "--key", fp, "--json")
    out = json.loads(res.stdout)
    assert out["ok"] is True and out["exit_code"] == 0
    assert {"check": "log_root", "status": "PASS"}.items() <= next(
        c for c in out["checks"] if c["check"] == "log_root"
    ).items()


def test_cli_receipt_alone_and_as_positional(files, book):
    receipt = files("r.json", book.receipt(book.private_indices()[0]))
    fp = notes.vkey(book.origin, notes.public_key_bytes(book.key))
    assert _cli("--receipt", receipt, "--key", fp).returncode == 0
    res = _cli(receipt, "--key", fp)
    assert res.returncode == 0 and "PASS receipt_commitment" in res.stdout


@pytest.mark.parametrize(
    "content,arg_key",
    [
        (b'{"format": "commons-ledger/disclosure/1", "bo', None),  # truncated
        (b'{"format": "commons-ledger/disclosure/2"}', None),  # wrong version
        (b'{"no": "format"}', None),
        (b"", None),
        (None, None),  # missing file
        (b'{"format": "commons-ledger/disclosure/1"}', "not-a-key"),
    ],
)
def test_cli_unreadable_input_exits_2_without_traceback(tmp_path, content, arg_key):
    path = tmp_path / "in.json"
    if content is not None:
        path.write_bytes(content)
    args = [str(path)] + (["--key", arg_key] if arg_key else [])
    res = _cli(*args)
    assert res.returncode == 2, res.stdout
    assert "Traceback" not in res.stderr and "FAIL input:" in res.stdout


def test_cli_refuses_an_oversized_file_without_reading_it(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as fh:
        fh.truncate(512 * 1024 * 1024 + 1)  # sparse: no real disk use
    res = _cli(str(path))
    assert res.returncode == 2
    assert "512 MiB" in res.stdout


def test_cli_on_garbage_shapes_exits_1_without_traceback(files):
    for doc in (
        {"format": "commons-ledger/disclosure/1"},
        {"format": "commons-ledger/disclosure/1", "book": [], "log": "x", "statements": {}},
        {"format": "commons-ledger/receipt/1", "record": {"book": 7}, "index": "0"},
    ):
        res = _cli(files("g.json", doc))
        assert res.returncode == 1, res.stdout
        assert "Traceback" not in res.stderr and "FAIL " in res.stdout


def test_main_returns_the_exit_code(files, bundles, capsys):
    assert main([files("b.json", bundles[0])]) == 3
    assert "WARN key" in capsys.readouterr().out


def test_verifier_imports_nothing_but_stdlib_and_cryptography():
    code = (
        "import sys\n"
        "for m in ('flask', 'sqlalchemy', 'rfc8785', 'core', 'ledger', 'flask_babel', 'hypothesis'):\n"
        "    sys.modules[m] = None\n"
        "before = set(sys.modules)\n"
        "import transparency.verify\n"
        "allowed = ('transparency', 'tlog', 'cryptography', '_cffi_backend', '_openssl', '_rust')\n"
        "new = {n for n in set(sys.modules) - before if sys.modules[n] is not None}\n"
        "third = sorted({n.split('.')[0] for n in new} - set(sys.stdlib_module_names))\n"
        "bad = [n for n in third if not n.startswith(allowed)]\n"
        "assert not bad, bad\n"
        "assert 'transparency.verify' in new and 'cryptography' in {n.split('.')[0] for n in new}\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=60,
    )
    assert res.returncode == 0, res.stderr


# --------------------------------------------------------------------------- the server's own output
# Bundles and receipts made by transparency.disclosure / transparency.receipts from posted
# vouchers in the database (both backends): the contract holds between the two sides.


@pytest.fixture
def server_world(app, tmp_path, monkeypatch, organisation, resident_factory, user_factory):
    """Three monthly reports of an SME book (a May voucher posted early and carried twice, a
    record posted after March's report) and a resident's fee receipt, all made by the server."""
    monkeypatch.setitem(app.config, "KEYS_DIR", str(tmp_path / "keys"))
    people = {}
    for role in ("preparer", "reviewer"):
        people[role] = user_factory(username=f"v_{role}_{organisation.id}")
        grant_role(people[role], organisation, role)
    bk = svc.create_book(organisation)
    payer = resident_factory(community=organisation.community, name="张秀英", unit="1栋1单元101")

    def acc(code):
        return db.session.scalar(
            sa.select(Account).where(Account.book_id == bk.id, Account.code == code)
        )

    def post(ls, date, summary="测试凭证"):
        v = svc.create_voucher(bk, svc.VoucherInput(date, summary, ls), actor=people["preparer"])
        svc.submit_voucher(v, actor=people["preparer"])
        svc.approve_voucher(v, actor=people["reviewer"])
        svc.post_voucher(v, actor=people["reviewer"])
        return v

    def publish(month):
        return json.loads(publish_report(bk, month, actor=people["reviewer"]).bundle)

    D = dt.date
    post(ledger_lines((acc("1002"), 50_000_00, 0), (acc("3001"), 0, 50_000_00)), D(2025, 3, 2))
    fee = post(
        ledger_lines(
            (acc("1002"), 4_096_00, 0, {"resident_id": payer.id}),
            (acc("5001"), 0, 4_096_00, {"resident_id": payer.id}),
        ),
        D(2025, 3, 12),
        "收取物业费",
    )
    post(
        ledger_lines((acc("5602"), 300_00, 0), (acc("1001"), 0, 300_00)), D(2025, 5, 6), "五月预付"
    )
    post(ledger_lines((acc("1122"), 5_000_00, 0), (acc("5001"), 0, 5_000_00)), D(2025, 4, 11))
    for m in (3, 4):
        svc.close_period(bk, 2025, m, actor=people["reviewer"])
    march = publish("2025-03")
    post(ledger_lines((acc("1001"), 100_00, 0), (acc("1002"), 0, 100_00)), D(2025, 5, 20))
    april = publish("2025-04")
    svc.close_period(bk, 2025, 5, actor=people["reviewer"])
    may = publish("2025-05")
    receipt = build_receipt(fee, payer)
    raw = base64.b64decode(march["public_key"]["ed25519"])
    origin = march["public_key"]["name"]
    assert origin == f"localhost/commons-ledger/{bk.id}"  # the test app's public host
    return [march, april, may], receipt, TrustedKey(raw, notes.fingerprint(raw), "--key", origin)


def test_server_bundles_and_receipt_verify(server_world):
    (march, april, may), receipt, key = server_world
    for b, prev in ((march, None), (april, march), (may, april)):
        r = check(b, previous=prev, key=key)
        assert not r.failed, r.text()
        assert statuses(r)["log_root"] == PASS and statuses(r)["closing_balances"] == PASS
    assert april["carried_records"] and may["carried_records"]  # pending records were carried
    r = check(may, key=key, receipt=receipt)
    assert not r.failed, r.text()
    assert statuses(r)["receipt_commitment"] == PASS
    assert statuses(r)["bundle_signature"] == PASS


def test_server_bundle_tampered_fails(server_world):
    (march, april, _), receipt, key = server_world
    bad = copy.deepcopy(april)
    rebalance(bad["carried_records"][0]["record"], 1)
    assert "carried_records" in failed(check(bad, previous=march, key=key))
    bad = copy.deepcopy(march)
    rebalance(bad["log"]["records"][0], 1)
    assert "log_root" in failed(check(bad, key=key))
    bad = copy.deepcopy(march)
    bad["statements"][0]["lines"][1]["label_en"] = "Something else"
    assert failed(check(bad, key=key)) == {"bundle_signature"}
    r = copy.deepcopy(receipt)
    r["private"][0]["unit"] = "2栋"
    assert failed(verify_receipt(r, key=key)) == {"receipt_commitment"}


def test_server_bundle_through_the_cli(server_world, tmp_path):
    (march, april, _), receipt, key = server_world
    paths = {}
    for name, doc in (("march", march), ("april", april), ("receipt", receipt)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    res = _cli(
        str(paths["april"]),
        "--previous",
        str(paths["march"]),
        "--receipt",
        str(paths["receipt"]),
        "--key",
        key.fingerprint,
        "--origin",
        key.name,
    )
    assert res.returncode == 0, res.stdout


# --------------------------------------------------------------------------- the downloadable file


def test_the_verifier_downloads_as_one_file_that_runs_alone(client, tmp_path, book, bundles):
    """GET /verify/commons_verify.py: one file, built from transparency/verify.py and tlog/,
    that runs with Python and cryptography only, outside the repository."""
    import ast

    resp = client.get("/verify/commons_verify.py")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    tree = ast.parse(text)
    sources = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SOURCES"
    )
    # The one source, not a copy: the modules as they are in this installation.
    assert sources["transparency.verify"] == (ROOT / "transparency/verify.py").read_text()
    assert sources["tlog.notes"] == (ROOT / "tlog/notes.py").read_text()
    for banned in ("import flask", "from flask", "from core", "from ledger", "sqlalchemy"):
        assert banned not in text, banned
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "commons_verify.py").write_text(text, encoding="utf-8")
    for name, doc in (("b0.json", bundles[0]), ("b1.json", bundles[1])):
        (folder / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    vkey = notes.vkey(book.origin, notes.public_key_bytes(book.key))
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-I", "commons_verify.py", *args],
            cwd=folder,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    res = run("b1.json", "--previous", "b0.json", "--key", vkey)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.splitlines()[-1].startswith("VERIFIED")
    res = run("b1.json")  # no key, no previous: partly checked, saying what completes it
    assert res.returncode == 3 and "--previous" in res.stdout and "--key" in res.stdout
    bad = copy.deepcopy(bundles[1])
    _line(bad, "balance_sheet", "cash")["amount"] += 1
    (folder / "bad.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    res = run("bad.json", "--previous", "b0.json", "--key", vkey)
    assert res.returncode == 1 and "FAIL statement.balance_sheet" in res.stdout
    assert "¥" in res.stdout  # amounts in yuan, not fen
    # The Chinese templates travel in the one file: the detail too is in Chinese.
    res = run("bad.json", "--previous", "b0.json", "--key", vkey, "--lang", "zh")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "未通过 重算报表（statement.balance_sheet）" in res.stdout
    assert "（详情：第 cash 行：重新计算为 ¥" in res.stdout and "报告上写 ¥" in res.stdout
    assert "recomputed" not in res.stdout and "the report says" not in res.stdout
