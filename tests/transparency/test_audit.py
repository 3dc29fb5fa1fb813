"""Tamper audit: a posted row changed behind the application's back is named, with its number."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from core.db import db
from ledger.models import Account
from tests.ledger.conftest import lines
from tests.transparency.helpers import without_triggers
from transparency.audit import audit_book
from transparency.checkpoints import sign_checkpoint
from transparency.disclosure import publish_report

pytestmark = pytest.mark.usefixtures("english")  # these tests match the English messages


@pytest.fixture
def posted(book, acct, post):
    out = [
        post(
            lines((acct("1002"), n * 1_000, 0), (acct("5001"), 0, n * 1_000)),
            date=dt.date(2025, 3, n),
            summary=f"销售 {n}",
        )
        for n in range(1, 6)
    ]
    sign_checkpoint(book)
    return out


def other_account(book, code):
    return db.session.scalar(
        sa.select(Account.id).where(Account.book_id == book.id, Account.code == code)
    )


TAMPERING = {
    "amount": (
        "voucher_lines",
        "UPDATE voucher_lines SET debit = debit + 100 WHERE voucher_id = :v AND debit > 0",
    ),
    "account": (
        "voucher_lines",
        "UPDATE voucher_lines SET account_id = :other WHERE voucher_id = :v AND debit > 0",
    ),
    "date": ("vouchers", "UPDATE vouchers SET date = :d WHERE id = :v"),
    "summary": ("vouchers", "UPDATE vouchers SET summary = '销售 3（已改）' WHERE id = :v"),
}


def tamper(book, voucher, what):
    table, stmt = TAMPERING[what]
    without_triggers(table)
    n = db.session.execute(
        sa.text(stmt),
        {"v": voucher.id, "other": other_account(book, "1001"), "d": dt.date(2025, 3, 28)},
    ).rowcount
    assert n == 1
    db.session.expire_all()


def test_an_untouched_book_passes(app, book, posted):
    result = audit_book(book)
    assert result.ok, result.findings
    assert (result.checked, result.checkpoints) == (5, 1)


@pytest.mark.parametrize("what", sorted(TAMPERING))
def test_a_changed_posted_row_is_named(app, book, posted, what):
    victim = posted[2]
    number, index = victim.number, victim.log_index
    tamper(book, victim, what)
    result = audit_book(book)
    assert not result.ok
    assert [(f.number, f.index) for f in result.findings] == [(number, index)]
    assert "no longer matches its leaf" in result.findings[0].what


@pytest.mark.parametrize(
    "what,change",
    [
        ("amount", "line 1 debit 3000 → 3100"),
        ("account", "line 1 account '1002' → '1001'"),
        ("date", "date '2025-03-03' → '2025-03-28'"),
        ("summary", "summary '销售 3' → '销售 3（已改）'"),
    ],
)
def test_the_audit_says_what_changed_when_a_report_holds_the_original(
    app, book, people, posted, what, change
):
    from ledger import services as svc

    svc.close_period(book, 2025, 3, actor=people["reviewer"])
    publish_report(book, "2025-03", actor=people["reviewer"])
    tamper(book, posted[2], what)
    result = audit_book(book)
    assert len(result.findings) == 1
    assert change in result.findings[0].what


def test_a_changed_log_node_breaks_the_tree_check(app, book, posted):
    without_triggers("log_nodes")
    db.session.execute(
        sa.text('UPDATE log_nodes SET hash = :h WHERE book_id = :b AND level = 1 AND "index" = 0'),
        {"h": hashlib.sha256(b"x").digest(), "b": book.id},
    )
    result = audit_book(book)
    whats = " ".join(str(f) for f in result.findings)
    assert "do not fold to the root" in whats


def test_a_changed_leaf_is_caught_twice(app, book, posted):
    without_triggers("log_nodes")
    db.session.execute(
        sa.text('UPDATE log_nodes SET hash = :h WHERE book_id = :b AND level = 0 AND "index" = 4'),
        {"h": hashlib.sha256(b"x").digest(), "b": book.id},
    )
    result = audit_book(book)
    whats = [str(f) for f in result.findings]
    assert any(
        posted[4].number in w for w in whats
    )  # the voucher no longer matches the stored leaf
    assert any(
        "root signed at size 5" in w for w in whats
    )  # and the leaves no longer give the signed root


def test_cli_audit_exit_codes(app, runner, book, posted):
    db.session.commit()  # the command rolls its session back when done (test: to this point)
    ok = runner.invoke(args=["transparency", "audit", "--book", str(book.id)])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output and "5 records" in ok.output
    tamper(book, posted[1], "amount")
    db.session.commit()
    bad = runner.invoke(args=["transparency", "audit", "--book", str(book.id)])
    assert bad.exit_code == 1
    assert f"MISMATCH {posted[1].number} index 1:" in bad.output
    assert runner.invoke(args=["transparency", "audit", "--book", "999999"]).exit_code == 1
