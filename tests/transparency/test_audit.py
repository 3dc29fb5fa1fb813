"""Tamper audit: a posted row changed behind the application's back is named, with its number."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from core.db import db
from ledger.models import Account
from tests.ledger.conftest import lines
from tests.transparency.helpers import disable_triggers, without_triggers
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
    named = [f for f in result.findings if f.index is not None]
    assert [(f.number, f.index) for f in named] == [(number, index)]
    assert "no longer matches its leaf" in named[0].what
    others = [f.what for f in result.findings if f.index is None]
    if what in ("amount", "account"):  # the balances no longer add up to the lines
        assert others and all("per-period balance" in w for w in others), others
    else:
        assert others == []


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
    named = [f for f in audit_book(book).findings if f.index is not None]
    assert len(named) == 1
    assert change in named[0].what


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


# --- issue 9 item 7: derived rows, and the triggers guarding them -----------------------------


def refused(stmt: str, **params) -> bool:
    try:
        with db.session.begin_nested():
            db.session.execute(sa.text(stmt), params)
    except sa.exc.DatabaseError as e:
        assert "append-only" in str(e), (stmt, e)
        return True
    return False


def raw(stmt: str, **params) -> int:
    n = db.session.execute(sa.text(stmt), params).rowcount
    db.session.expire_all()
    return n


def closing_totals(book):
    from ledger.reports.trial_balance import trial_balance

    tb = trial_balance(book, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31))
    return tb.totals


MILLION_YUAN = 1_000_000 * 100


def test_a_raised_balance_row_changes_the_trial_balance_and_the_audit_names_it(
    app, runner, book, posted
):
    before = closing_totals(book)
    disable_triggers("account_period_balances")
    n = raw(
        "UPDATE account_period_balances SET debit = debit + :m "
        "WHERE book_id = :b AND account_id = :a AND period_key = 202503",
        m=MILLION_YUAN,
        b=book.id,
        a=other_account(book, "1002"),
    )
    assert n == 1
    assert closing_totals(book) != before  # what the staff pages show has changed
    result = audit_book(book)
    assert [f.what for f in result.findings] == [
        "per-period balance of account 1002 CNY 2025-03: stored debit 100015000 credit 0, "
        "the posted lines give debit 15000 credit 0"
    ]
    db.session.commit()
    bad = runner.invoke(args=["transparency", "audit", "--book", str(book.id)])
    assert bad.exit_code == 1 and "per-period balance of account 1002" in bad.output


def test_a_deleted_or_added_balance_row_is_named(app, book, posted):
    disable_triggers("account_period_balances")
    assert (
        raw(
            "DELETE FROM account_period_balances WHERE book_id = :b AND account_id = :a",
            b=book.id,
            a=other_account(book, "5001"),
        )
        == 1
    )
    raw(
        "INSERT INTO account_period_balances "
        "(book_id, account_id, fund_key, unit, period_key, community_id, debit, credit) "
        "VALUES (:b, :a, 0, 'CNY', 202504, :c, 0, 500)",
        b=book.id,
        a=other_account(book, "1001"),
        c=book.community_id,
    )
    whats = sorted(f.what for f in audit_book(book).findings)
    assert whats == [
        "per-period balance of account 1001 CNY 2025-04: stored debit 0 credit 500, "
        "the posted lines give debit 0 credit 0",
        "per-period balance of account 5001 CNY 2025-03: stored no row, "
        "the posted lines give debit 0 credit 15000",
    ]


def test_a_changed_log_size_is_named(app, book, posted):
    disable_triggers("books")
    raw("UPDATE books SET log_size = 3 WHERE id = :b", b=book.id)
    whats = [f.what for f in audit_book(book).findings]
    assert "the book's log size is 3 but 5 leaves are stored (the last at index 4)" in whats


def test_a_moved_closed_through_mark_is_named(app, book, people, posted):
    from ledger import services as svc

    svc.close_period(book, 2025, 3, actor=people["reviewer"])
    assert audit_book(book).ok
    disable_triggers("books")
    raw("UPDATE books SET closed_through = NULL WHERE id = :b", b=book.id)
    assert [f.what for f in audit_book(book).findings] == [
        "the book is marked closed through none, its closing and reopening history gives 2025-03"
    ]


def test_reopening_through_the_service_keeps_the_audit_ok(app, book, people, posted):
    from ledger import services as svc

    svc.close_period(book, 2025, 3, actor=people["reviewer"])
    svc.close_period(book, 2025, 4, actor=people["reviewer"])
    svc.reopen_period(book, 2025, 4, "a late invoice", actor=people["admin"])
    result = audit_book(book)
    assert result.ok, result.findings


# The triggers: what the database itself refuses.


def test_balance_rows_cannot_be_deleted_rekeyed_or_written_in_a_closed_month(
    app, book, people, posted, acct, post
):
    from ledger import services as svc

    b, a = book.id, other_account(book, "1002")
    where = "book_id = :b AND account_id = :a AND period_key = 202503"
    assert refused(f"DELETE FROM account_period_balances WHERE {where}", b=b, a=a)
    assert refused(
        f"UPDATE account_period_balances SET period_key = 202504 WHERE {where}", b=b, a=a
    )
    assert refused(f"UPDATE account_period_balances SET unit = 'USD' WHERE {where}", b=b, a=a)
    # An open month's amounts still change: that is how posting adds (the audit guards them).
    assert not refused(f"UPDATE account_period_balances SET debit = debit WHERE {where}", b=b, a=a)
    svc.close_period(book, 2025, 3, actor=people["reviewer"])
    assert refused(
        f"UPDATE account_period_balances SET debit = debit + 100 WHERE {where}", b=b, a=a
    )
    assert refused(
        "INSERT INTO account_period_balances "
        "(book_id, account_id, fund_key, unit, period_key, community_id, debit, credit) "
        "VALUES (:b, :a, 0, 'CNY', 202502, :c, 100, 0)",
        b=b,
        a=other_account(book, "1001"),
        c=book.community_id,
    )
    # Posting in the next open month still works.
    post(lines((acct("1002"), 700, 0), (acct("5001"), 0, 700)), date=dt.date(2025, 4, 2))
    assert audit_book(book).ok


def test_a_line_cannot_be_moved_under_a_posted_voucher(app, book, people, posted, acct):
    from ledger import services as svc

    draft = svc.create_voucher(
        book,
        svc.VoucherInput(
            dt.date(2025, 3, 9), "草稿", lines((acct("1002"), 1, 0), (acct("5001"), 0, 1))
        ),
        actor=people["preparer"],
    )
    db.session.flush()
    stmt = "UPDATE voucher_lines SET voucher_id = :to WHERE voucher_id = :v"
    assert refused(stmt, to=posted[0].id, v=draft.id)
    assert refused(
        "UPDATE voucher_attachments SET voucher_id = :to WHERE voucher_id = :v",
        to=posted[0].id,
        v=draft.id,
    ) in (True, False)  # no attachment rows: nothing to refuse, and no error either
    # With the trigger off, the audit names the voucher (its leaf) and the balances.
    disable_triggers("voucher_lines")
    assert raw(stmt, to=posted[0].id, v=draft.id) == 2
    result = audit_book(book)
    assert {(f.number, f.index) for f in result.findings if f.index is not None} == {
        (posted[0].number, posted[0].log_index)
    }


def test_accounts_books_and_residents_keep_what_records_rely_on(
    app, book, people, posted, resident_factory, community_factory
):
    from ledger import services as svc

    cash = other_account(book, "1002")
    assert refused("UPDATE accounts SET code = '1002X' WHERE id = :a", a=cash)
    assert refused("UPDATE accounts SET normal_side = 'credit' WHERE id = :a", a=cash)
    assert refused("UPDATE accounts SET book_id = book_id + 1 WHERE id = :a", a=cash)
    assert not refused("UPDATE accounts SET name_en = 'Bank' WHERE id = :a", a=cash)
    unused = other_account(book, "1001")
    assert not refused("UPDATE accounts SET code = code WHERE id = :a", a=unused)

    assert refused("UPDATE books SET log_size = log_size - 1 WHERE id = :b", b=book.id)
    assert refused("UPDATE books SET chart = 'other' WHERE id = :b", b=book.id)
    assert refused("UPDATE books SET base_unit = 'USD' WHERE id = :b", b=book.id)
    assert refused("DELETE FROM books WHERE id = :b", b=book.id)
    assert not refused("UPDATE books SET max_future_days = 3 WHERE id = :b", b=book.id)

    svc.close_period(book, 2025, 3, actor=people["reviewer"])
    publish_report(book, "2025-03", actor=people["reviewer"])
    assert refused("UPDATE books SET closed_through = NULL WHERE id = :b", b=book.id)
    assert refused("UPDATE books SET closed_through = 202502 WHERE id = :b", b=book.id)
    svc.close_period(book, 2025, 4, actor=people["reviewer"])
    assert not refused("UPDATE books SET closed_through = 202503 WHERE id = :b", b=book.id)

    resident = resident_factory(community_id=book.community_id)
    db.session.flush()
    elsewhere = community_factory()
    db.session.flush()
    assert refused(
        "UPDATE residents SET community_id = :c WHERE id = :r", c=elsewhere.id, r=resident.id
    )
    assert not refused("UPDATE residents SET unit = '2栋' WHERE id = :r", r=resident.id)


def test_the_demo_books_pass_the_whole_audit(app):
    """No false alarm on realistic data (closings, reversals, residents, funds)."""
    from core.demo import load_demo
    from ledger.models import Book

    load_demo()
    books = db.session.scalars(sa.select(Book)).all()
    assert books
    for b in books:
        result = audit_book(b)
        assert result.ok, (b.id, result.findings)
