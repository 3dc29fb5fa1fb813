"""Broken copies of real published demo documents, for the verifiers' message tests (issue 14
item 3, "every message translated"): each is what a resident might be given — a truncated
download, a hand-edited amount, a forged key, a receipt with its salt cut short — built
programmatically from a bundle and a receipt the demo actually published.

``demo_documents`` (session scope: the demo loads once) gives the published bundles and a
receipt; ``cases(docs)`` the broken inputs, each a mapping of role (``bundle``, ``previous``,
``receipt``, ``key``) to the bytes a file would hold (``key``: text for the key field).
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import flask_migrate
import pytest
import sqlalchemy as sa

from core.db import db
from tlog import notes

__all__ = ["Case", "DemoDocuments", "cases", "demo_documents"]


@dataclass
class DemoDocuments:
    first: dict  # a book's first report (its log starts at 0, nothing before it)
    later: dict  # the report after it (it continues the first, with carried records)
    receipt: dict  # a demo resident's payment, as the receipt page gives it
    private_key: bytes  # the organisation's signing key (raw 32 bytes), to forge signed notes
    origin: str  # the log's origin = the key's name
    served: dict = field(default_factory=dict)  # {"url": …} while a module serves the app


@dataclass
class Case:
    name: str
    files: dict[str, bytes]  # role → file bytes; "key" → the key text (UTF-8)
    expect: str  # a check (or "input") that must fail, so the case tests what it says
    expect_browser: str = ""  # when the page fails another check (default: ``expect``)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _dump(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


_lock = threading.Lock()
_cache: dict[str, DemoDocuments] = {}


@pytest.fixture(scope="session")
def demo_documents(tmp_path_factory) -> Iterator[DemoDocuments]:
    """The demo loaded once into a SQLite file: the last two published reports of its busiest
    book, and a demo resident's receipt, as plain JSON documents."""
    from core.demo import load_demo
    from core.models import Resident
    from ledger.models import Book, Voucher, VoucherLine
    from tests.conftest import make_app
    from transparency import keys, receipts
    from transparency.models import DisclosureReport

    with _lock:
        if "docs" not in _cache:
            tmp = tmp_path_factory.mktemp("demo-messages")
            app = make_app("sqlite:///" + str(tmp / "db.sqlite3"), str(tmp / "instance"))
            with app.app_context():
                flask_migrate.upgrade()
                load_demo()
                db.session.commit()
                line = db.session.scalars(
                    sa.select(VoucherLine)
                    .join(Voucher, Voucher.id == VoucherLine.voucher_id)
                    .where(VoucherLine.resident_id.is_not(None), Voucher.log_index.is_not(None))
                    .order_by(Voucher.id)
                ).first()
                assert line is not None, "the demo has no resident's payment"
                # The book whose first report holds the most records, with the report after it,
                # and a resident's receipt (from whichever book they paid into).
                chosen: list[tuple[int, dict, dict, int]] = []
                for book in db.session.scalars(sa.select(Book)):
                    reports = db.session.scalars(
                        sa.select(DisclosureReport)
                        .where(DisclosureReport.book_id == book.id)
                        .order_by(DisclosureReport.period_start)
                    ).all()
                    if len(reports) >= 2:
                        first, later = (json.loads(r.bundle) for r in reports[:2])
                        n = len(first["log"]["records"])
                        chosen.append((n, first, later, book.organisation_id))
                _, first, later, organisation_id = max(chosen, key=lambda c: c[0])
                receipt = receipts.build_receipt(
                    db.session.get_one(Voucher, line.voucher_id),
                    db.session.get_one(Resident, line.resident_id),
                )
                signing = keys.current_key(organisation_id)
                assert signing is not None
                raw = keys.private_key_for(signing).private_bytes_raw()
                db.session.commit()
                db.session.remove()
                for engine in db.engines.values():
                    engine.dispose()
            _cache["docs"] = DemoDocuments(first, later, receipt, raw, first["public_key"]["name"])
    yield _cache["docs"]


def _changed(doc: dict, fn: Callable[[dict], object]) -> bytes:
    d = copy.deepcopy(doc)
    fn(d)
    return _dump(d)


def _set(path: str, value: object) -> Callable[[dict], None]:
    """A change at a dotted path (``log.records.0.lines.0.debit``)."""

    def apply(doc: dict) -> None:
        *parents, last = path.split(".")
        node: object = doc
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]  # type: ignore[index]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is _DELETE:
            del node[last]  # type: ignore[union-attr]
        else:
            node[last] = value  # type: ignore[index]

    return apply


_DELETE = object()


def _resign(docs: DemoDocuments, text: str) -> str:
    return notes.sign_note(text, docs.origin, docs.private_key)


def cases(docs: DemoDocuments) -> list[Case]:
    b, later, r = docs.first, docs.later, docs.receipt
    raw_b = _dump(b)
    raw_r = _dump(r)
    raw_later = _dump(later)
    rec = next(i for i, x in enumerate(b["log"]["records"]) if len(x["lines"]) >= 2)
    debit_line = next(
        n for n, ln in enumerate(b["log"]["records"][rec]["lines"]) if ln["debit"] > 0
    )
    sheet = next(i for i, s in enumerate(b["statements"]) if s["statement"] == "balance_sheet")
    sheet_line = next(i for i, ln in enumerate(b["statements"][sheet]["lines"]) if ln.get("amount"))
    cp_text = notes.parse_note(b["checkpoint"]).text
    sig_text = notes.parse_note(b["signature"]).text

    def tamper_record(d: dict) -> None:  # still balanced: only the signed log shows it
        lines = d["log"]["records"][rec]["lines"]
        for ln in lines:
            if ln["debit"]:
                ln["debit"] += 100
                break
        for ln in lines:
            if ln["credit"]:
                ln["credit"] += 100
                break

    out = [
        # unreadable files
        Case("truncated bundle", {"bundle": raw_b[: len(raw_b) // 2]}, "input"),
        Case("bundle not UTF-8", {"bundle": b'{"format": "\xff\xfe"}'}, "input"),
        Case(
            "duplicate key",
            {"bundle": b'{"format": "commons-ledger/disclosure/1", "a": 1, "a": 2}'},
            "input",
            "bundle_header",  # the browser's JSON.parse keeps the last key: no book, no period
        ),
        Case("NaN", {"bundle": b'{"format": "commons-ledger/disclosure/1", "a": NaN}'}, "input"),
        Case("nested too deeply", {"bundle": b"[" * 100_000 + b"]" * 100_000}, "input"),
        Case("other format", {"bundle": _changed(b, _set("format", "other/1"))}, "input"),
        Case("no format", {"bundle": _changed(b, _set("format", _DELETE))}, "input"),
        Case("not a key", {"bundle": raw_b, "key": b"not a key at all"}, "input"),
        Case("previous alone", {"previous": raw_b}, "input"),
        # wrong types and shapes
        Case("book id a string", {"bundle": _changed(b, _set("book.id", "7"))}, "bundle_header"),
        Case("book id zero", {"bundle": _changed(b, _set("book.id", 0))}, "bundle_header"),
        Case(
            "period a number",
            {"bundle": _changed(b, _set("period.start", 20261001))},
            "bundle_header",
        ),
        Case(
            "not a date", {"bundle": _changed(b, _set("period.end", "2026-02-30"))}, "bundle_header"
        ),
        Case("records an object", {"bundle": _changed(b, _set("log.records", {}))}, "records"),
        Case(
            "amount a string",
            {"bundle": _changed(b, _set(f"log.records.{rec}.lines.{debit_line}.debit", "100"))},
            "records",
        ),
        Case(
            "record field missing",
            {"bundle": _changed(b, _set(f"log.records.{rec}.summary", _DELETE))},
            "records",
        ),
        Case(
            "unknown record kind",
            {"bundle": _changed(b, _set(f"log.records.{rec}.kind", "bogus"))},
            "records",
        ),
        Case(
            "record unbalanced",
            {"bundle": _changed(b, _set(f"log.records.{rec}.lines.{debit_line}.debit", 1))},
            "records",
        ),
        Case("statements an object", {"bundle": _changed(b, _set("statements", {}))}, "statements"),
        Case(
            "accounts listed twice",
            {"bundle": _changed(b, lambda d: d["accounts"].append(d["accounts"][0]))},
            "accounts",
        ),
        Case(
            "closing balances unsorted",
            {"bundle": _changed(b, lambda d: d["closing_balances"].reverse())},
            "closing_balances",
        ),
        # signatures and keys
        Case(
            "no signature", {"bundle": _changed(b, _set("signature", _DELETE))}, "bundle_signature"
        ),
        Case(
            "signature not a note",
            {"bundle": _changed(b, _set("signature", "just some text\n"))},
            "bundle_signature",
        ),
        Case(
            "signature by nobody",
            {"bundle": _changed(b, _set("signature", sig_text + "\n"))},
            "bundle_signature",
        ),
        Case(
            "signed text of two lines",
            {
                "bundle": _changed(
                    b, _set("signature", _resign(docs, "\n".join(sig_text.split("\n")[:2]) + "\n"))
                )
            },
            "bundle_signature",
        ),
        Case(
            "key of 31 bytes",
            {"bundle": _changed(b, _set("public_key.ed25519", _b64(bytes(31))))},
            "key",
        ),
        Case(
            "key named for another log",
            {"bundle": _changed(b, _set("public_key.name", "evil.example/commons-ledger/1"))},
            "key",
        ),
        Case(
            "fingerprint of another key",
            {"bundle": _changed(b, _set("public_key.fingerprint", "ab" * 32))},
            "key",
        ),
        Case(
            "another key given",
            {"bundle": raw_b, "key": notes.vkey(docs.origin, bytes(range(32))).encode()},
            "key",
        ),
        Case(
            "checkpoint of four lines",
            {"bundle": _changed(b, _set("checkpoint", _resign(docs, cp_text + "extra\n")))},
            "checkpoint_signature",
        ),
        Case(
            "checkpoint signature changed",
            {"bundle": _changed(b, _set("checkpoint", b["checkpoint"].replace("— ", "— x", 1)))},
            "checkpoint_signature",
        ),
        # the log
        Case(
            "first_index negative", {"bundle": _changed(b, _set("log.first_index", -1))}, "records"
        ),
        Case(
            "first_index moved",
            {"bundle": _changed(later, _set("log.first_index", later["log"]["first_index"] + 1))},
            "log_root",
        ),
        Case(
            "first report not from zero",
            {"bundle": _changed(b, _set("log.first_index", 3))},
            "previous_checkpoint",
        ),
        Case("tampered record", {"bundle": _changed(b, tamper_record)}, "log_root"),
        Case(
            "compact range with an extra hash",
            {
                "bundle": _changed(
                    later, lambda d: d["log"]["compact_range"].append(_b64(bytes(32)))
                )
            },
            "compact_range",
        ),
        Case(
            "consistency proof with an extra hash",
            {
                "bundle": _changed(
                    later, lambda d: d["previous"]["consistency_proof"].append(_b64(bytes(32)))
                )
            },
            "consistency_proof",
        ),
        # amounts
        Case(
            "statement line changed",
            {
                "bundle": _changed(
                    b,
                    lambda d: d["statements"][sheet]["lines"][sheet_line].update(
                        amount=d["statements"][sheet]["lines"][sheet_line]["amount"] + 12345
                    ),
                )
            },
            "statement",
        ),
        Case(
            "opening balance changed",
            {
                "bundle": _changed(
                    later,
                    lambda d: d["opening_balances"][0].update(
                        balance=d["opening_balances"][0]["balance"] + 100
                    ),
                ),
                "previous": raw_b,
            },
            "opening_balances",
        ),
        Case(
            "the wrong previous report",
            {"bundle": raw_later, "previous": raw_later},
            "previous_bundle",
        ),
        # receipts
        Case("truncated receipt", {"receipt": raw_r[: len(raw_r) // 3]}, "input"),
        Case(
            "salt of 15 bytes",
            {"receipt": _changed(r, _set("private.0.salt", _b64(bytes(15))))},
            "receipt_commitment",
        ),
        Case(
            "salt not base64",
            {"receipt": _changed(r, _set("private.0.salt", "not base64!"))},
            "receipt_commitment",
        ),
        Case(
            "name on the receipt changed",
            {"receipt": _changed(r, _set("private.0.name", "李四"))},
            "receipt_commitment",
        ),
        Case(
            "receipt line out of range",
            {"receipt": _changed(r, _set("private.0.line", 99))},
            "receipt_commitment",
        ),
        Case(
            "receipt with an extra field",
            {"receipt": _changed(r, lambda d: d["private"][0].update(phone="138"))},
            "receipt_commitment",
        ),
        Case(
            "receipt without private fields",
            {"receipt": _changed(r, _set("private", []))},
            "receipt_commitment",
        ),
        Case(
            "receipt index differs",
            {"receipt": _changed(r, _set("index", r["index"] + 1))},
            "receipt_record",
        ),
        Case(
            "inclusion proof cut",
            {"receipt": _changed(r, lambda d: d["inclusion_proof"].pop())},
            "receipt_inclusion",
        ),
        Case(
            "receipt key named for another log",
            {"receipt": _changed(r, _set("public_key.name", "evil.example/commons-ledger/1"))},
            "receipt_key",
        ),
        Case(
            "receipt checkpoint unsigned",
            {"receipt": _changed(r, _set("checkpoint", notes.parse_note(r["checkpoint"]).text))},
            "receipt_signature",
        ),
        Case(
            "receipt record amount changed",
            {
                "receipt": _changed(
                    r,
                    lambda d: d["record"]["lines"][0].update(
                        debit=d["record"]["lines"][0]["debit"] + 1,
                        credit=d["record"]["lines"][0]["credit"],
                    ),
                )
            },
            "receipt_record",
        ),
    ]
    return out
