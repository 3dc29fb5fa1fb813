import datetime as dt

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from core.db import ImmutableRowError, db
from core.errors import Conflict, InvalidInput, NotPermitted
from ledger import log
from ledger import services as svc
from ledger.models import AccountPeriodBalance, Voucher, VoucherEvent
from tests.ledger.conftest import lines
from tlog import merkle

D = dt.date(2026, 3, 5)


pytestmark = pytest.mark.usefixtures("english")  # these tests match the English messages


def test_messages_are_chinese_by_default(book, people, acct):
    with force_locale("zh_Hans_CN"):
        with pytest.raises(InvalidInput) as e:
            svc.create_voucher(
                book,
                svc.VoucherInput(D, "x", lines((acct("1002"), 100, 0), (acct("5001"), 0, 99))),
                actor=people["preparer"],
            )
        assert "不平" in str(e.value.message)


def test_posting_numbers_vouchers_gaplessly_per_period(post, acct):
    cash, revenue = acct("1002"), acct("5001")
    numbers = [post(lines((cash, 10000, 0), (revenue, 0, 10000))).number for _ in range(3)]
    other_month = post(lines((cash, 500, 0), (revenue, 0, 500)), date=dt.date(2026, 4, 1))
    assert numbers == ["记-2026-03-0001", "记-2026-03-0002", "记-2026-03-0003"]
    assert other_month.number == "记-2026-04-0001"


def test_posting_updates_balances_and_log(post, acct, book):
    cash, revenue = acct("1002"), acct("5001")
    vs = [post(lines((cash, 12345, 0), (revenue, 0, 12345))) for _ in range(5)]
    bal = db.session.scalar(
        sa.select(AccountPeriodBalance).where(AccountPeriodBalance.account_id == cash.id)
    )
    assert (bal.debit, bal.credit, bal.period_key) == (5 * 12345, 0, 202603)
    assert book.log_size == 5 and [v.log_index for v in vs] == [0, 1, 2, 3, 4]
    leaves = [merkle.leaf_hash(log.leaf_bytes(log.public_record(v))) for v in vs]
    assert log.root(book.id, 5) == merkle.root_hash(leaves)
    proof = log.inclusion_proof(book.id, 3, 5)
    assert merkle.verify_inclusion(leaves[3], 3, 5, proof, merkle.root_hash(leaves))


def test_many_proofs_read_together_match_the_rfc(post, acct, book, monkeypatch):
    """``leaves_with_proofs`` (a report's carried records) gives each leaf's stored hash and
    the RFC 9162 path, also when its nodes take several queries (``_FETCH`` made tiny)."""
    from tests.transparency.test_merkle import ref_path

    cash, revenue = acct("1002"), acct("5001")
    vs = [post(lines((cash, 100 + i, 0), (revenue, 0, 100 + i))) for i in range(13)]
    leaves = [merkle.leaf_hash(log.leaf_bytes(log.public_record(v))) for v in vs]
    monkeypatch.setattr(log, "_FETCH", 3)
    for size in (1, 2, 7, 8, 13):
        indices = list(range(size))[::-1]  # any order, answered in the order asked
        got = log.leaves_with_proofs(book.id, indices, size)
        assert [leaf for leaf, _ in got] == [leaves[i] for i in indices]
        assert [proof for _, proof in got] == [ref_path(i, leaves[:size]) for i in indices]
    assert log.leaves_with_proofs(book.id, [], 13) == []


@pytest.mark.parametrize(
    "bad, message",
    [
        ([(0, 100, 0), (1, 0, 99)], "differ"),
        ([(0, 100, 100), (1, 0, 100)], "either a debit or a credit"),
        ([(0, 0, 0), (1, 0, 0)], "either a debit or a credit"),
        ([(0, -100, 0), (1, -100, 0)], "never negative"),
        ([(0, 100, 0)], "at least two lines"),
        ([(0, 10**16, 0), (1, 0, 10**16)], "too large"),
    ],
)
def test_bad_vouchers_are_refused_and_nothing_is_stored(book, people, acct, bad, message):
    accs = [acct("1002"), acct("5001")]
    ls = [svc.LineInput(account_id=accs[i].id, debit=dr, credit=cr) for i, dr, cr in bad]
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher))
    with pytest.raises(InvalidInput) as e:
        svc.create_voucher(book, svc.VoucherInput(D, "x", ls), actor=people["preparer"])
    assert message in str(e.value.message) or message in str(e.value.errors)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == before


def test_float_amounts_are_refused(book, people, acct):
    ls = [
        svc.LineInput(account_id=acct("1002").id, debit=1.5),
        svc.LineInput(account_id=acct("5001").id, credit=1.5),
    ]
    with pytest.raises(InvalidInput, match="whole numbers"):
        svc.create_voucher(book, svc.VoucherInput(D, "x", ls), actor=people["preparer"])


def test_unknown_inactive_and_parent_accounts_are_refused(book, people, acct):
    cash = acct("1002")
    sub = svc.add_sub_account(cash, "100201", "工商银行")
    with pytest.raises(InvalidInput, match="sub-accounts"):
        svc.create_voucher(
            book,
            svc.VoucherInput(D, "x", lines((cash, 1, 0), (acct("5001"), 0, 1))),
            actor=people["preparer"],
        )
    svc.set_account_active(sub, False, actor=people["admin"])
    with pytest.raises(InvalidInput, match="inactive"):
        svc.create_voucher(
            book,
            svc.VoucherInput(D, "x", lines((sub, 1, 0), (acct("5001"), 0, 1))),
            actor=people["preparer"],
        )
    bogus = svc.LineInput(account_id=10**12, debit=1)
    with pytest.raises(InvalidInput, match="no such account"):
        svc.create_voucher(
            book,
            svc.VoucherInput(D, "x", [bogus, svc.LineInput(account_id=acct("5001").id, credit=1)]),
            actor=people["preparer"],
        )


def test_unknown_unit_refused_and_declared_unit_balances_separately(book, people, acct, post):
    with pytest.raises(InvalidInput, match="unknown unit"):
        svc.create_voucher(
            book,
            svc.VoucherInput(D, "x", lines((acct("1002"), 1, 0), (acct("5001"), 0, 1), unit="PTS")),
            actor=people["preparer"],
        )
    svc.declare_unit(book, "PTS", "服务积分", 0)
    v = post(
        lines((acct("1002"), 100, 0), (acct("5001"), 0, 100))
        + lines((acct("1221"), 7, 0), (acct("2241"), 0, 7), unit="PTS")
    )
    assert v.is_posted
    with pytest.raises(InvalidInput, match="PTS"):
        svc.create_voucher(
            book,
            svc.VoucherInput(
                D,
                "x",
                lines((acct("1002"), 100, 0), (acct("5001"), 0, 100))
                + lines((acct("1221"), 7, 0), (acct("2241"), 0, 6), unit="PTS"),
            ),
            actor=people["preparer"],
        )


def test_future_date_refused(book, people, acct):
    with pytest.raises(InvalidInput, match="future"):
        svc.create_voucher(
            book,
            svc.VoucherInput(
                dt.date.today() + dt.timedelta(days=3),
                "x",
                lines((acct("1002"), 1, 0), (acct("5001"), 0, 1)),
            ),
            actor=people["preparer"],
        )


def test_preparer_cannot_approve_own_voucher(book, people, acct):
    v = svc.create_voucher(
        book,
        svc.VoucherInput(D, "x", lines((acct("1002"), 1, 0), (acct("5001"), 0, 1))),
        actor=people["preparer"],
    )
    svc.submit_voucher(v, actor=people["preparer"])
    with pytest.raises(NotPermitted):
        svc.approve_voucher(v, actor=people["preparer"])
    assert v.status == "submitted"


def test_single_person_mode_is_an_admins_recorded_choice(book, people, acct):
    with pytest.raises(NotPermitted):
        svc.set_single_person_mode(book, True, "小基金只有一名出纳", actor=people["preparer"])
    with pytest.raises(InvalidInput):
        svc.set_single_person_mode(book, True, "  ", actor=people["admin"])
    svc.set_single_person_mode(book, True, "小基金只有一名出纳", actor=people["admin"])
    v = svc.create_voucher(
        book,
        svc.VoucherInput(D, "x", lines((acct("1002"), 1, 0), (acct("5001"), 0, 1))),
        actor=people["preparer"],
    )
    svc.submit_voucher(v, actor=people["preparer"])
    svc.approve_voucher(v, actor=people["preparer"])
    assert svc.post_voucher(v, actor=people["preparer"]).is_posted


def test_auditor_and_supervisor_cannot_write(book, people, acct):
    for role in ("auditor", "supervisor"):
        with pytest.raises(NotPermitted):
            svc.create_voucher(
                book,
                svc.VoucherInput(D, "x", lines((acct("1002"), 1, 0), (acct("5001"), 0, 1))),
                actor=people[role],
            )


def test_posting_twice_is_refused(post, acct, people):
    v = post(lines((acct("1002"), 1, 0), (acct("5001"), 0, 1)))
    with pytest.raises(Conflict, match="posted"):
        svc.post_voucher(v, actor=people["reviewer"])


def test_posted_voucher_cannot_change_by_service_orm_or_sql(post, acct, people):
    v = post(lines((acct("1002"), 100, 0), (acct("5001"), 0, 100)))
    with pytest.raises(Conflict):
        svc.update_voucher(
            v,
            svc.VoucherInput(D, "改", lines((acct("1002"), 1, 0), (acct("5001"), 0, 1))),
            actor=people["preparer"],
        )
    with pytest.raises(ImmutableRowError):
        with db.session.begin_nested():
            v.summary = "tampered"
            db.session.flush()
    db.session.expire_all()
    assert v.summary == "测试凭证"
    for stmt in (
        f"UPDATE vouchers SET summary = 'x' WHERE id = {v.id}",
        f"DELETE FROM vouchers WHERE id = {v.id}",
        f"UPDATE voucher_lines SET debit = 1 WHERE voucher_id = {v.id} AND debit > 0",
        f"DELETE FROM voucher_lines WHERE voucher_id = {v.id}",
        f"INSERT INTO voucher_lines (community_id, voucher_id, line_no, account_id, unit, debit, credit, memo)"
        f" VALUES ({v.community_id}, {v.id}, 9, {acct('1002').id}, 'CNY', 5, 0, '')",
        f"DELETE FROM voucher_events WHERE voucher_id = {v.id}",
    ):
        try:
            with db.session.begin_nested():
                db.session.execute(sa.text(stmt))
        except sa.exc.DatabaseError as e:
            assert "append-only" in str(e), stmt
        else:
            raise AssertionError(f"allowed: {stmt}")


def test_reversal_is_red_and_nets_to_zero(post, acct, people, book):
    cash, revenue = acct("1002"), acct("5001")
    original = post(lines((cash, 30000, 0), (revenue, 0, 30000)))
    red = svc.reverse_voucher(original, actor=people["preparer"], date=D)
    assert red.kind == "reversal" and red.reverses_id == original.id
    assert [ln.debit for ln in red.lines] == [-30000, 0]
    svc.submit_voucher(red, actor=people["preparer"])
    svc.approve_voucher(red, actor=people["reviewer"])
    svc.post_voucher(red, actor=people["reviewer"])
    total = db.session.scalar(
        sa.select(sa.func.sum(AccountPeriodBalance.debit - AccountPeriodBalance.credit)).where(
            AccountPeriodBalance.account_id == cash.id
        )
    )
    assert total == 0
    with pytest.raises(Conflict, match="already been reversed"):
        svc.reverse_voucher(original, actor=people["preparer"], date=D)
    with pytest.raises(Conflict):
        svc.reverse_voucher(red, actor=people["preparer"], date=D)


def test_reject_returns_to_draft_with_reason(book, people, acct):
    v = svc.create_voucher(
        book,
        svc.VoucherInput(D, "x", lines((acct("1002"), 1, 0), (acct("5001"), 0, 1))),
        actor=people["preparer"],
    )
    svc.submit_voucher(v, actor=people["preparer"])
    svc.reject_voucher(v, "附件不全", actor=people["reviewer"])
    assert v.status == "draft"
    ev = db.session.scalars(
        sa.select(VoucherEvent).where(VoucherEvent.voucher_id == v.id).order_by(VoucherEvent.id)
    ).all()
    assert [e.action for e in ev] == ["created", "submitted", "rejected"] and ev[
        -1
    ].note == "附件不全"


def test_period_close_rules(book, people, acct, post):
    post(lines((acct("1002"), 100, 0), (acct("5001"), 0, 100)), date=dt.date(2026, 1, 10))
    draft = svc.create_voucher(
        book,
        svc.VoucherInput(
            dt.date(2026, 1, 20), "未过账", lines((acct("1002"), 1, 0), (acct("5001"), 0, 1))
        ),
        actor=people["preparer"],
    )
    with pytest.raises(Conflict, match="not posted"):
        svc.close_period(book, 2026, 1, actor=people["reviewer"])
    svc.discard_voucher(draft, actor=people["preparer"])
    with pytest.raises(NotPermitted):
        svc.close_period(book, 2026, 1, actor=people["preparer"])
    svc.close_period(book, 2026, 1, actor=people["reviewer"])
    with pytest.raises(Conflict, match="in order"):
        svc.close_period(book, 2026, 3, actor=people["reviewer"])
    with pytest.raises(InvalidInput, match="closed"):
        svc.create_voucher(
            book,
            svc.VoucherInput(
                dt.date(2026, 1, 31), "x", lines((acct("1002"), 1, 0), (acct("5001"), 0, 1))
            ),
            actor=people["preparer"],
        )
    with pytest.raises(NotPermitted):
        svc.reopen_period(book, 2026, 1, "更正", actor=people["reviewer"])
    with pytest.raises(InvalidInput):
        svc.reopen_period(book, 2026, 1, "", actor=people["admin"])
    svc.reopen_period(book, 2026, 1, "发现漏记一笔收入", actor=people["admin"])
    assert book.closed_through is None


def test_closing_blocks_posting_of_an_already_approved_voucher(book, people, acct):
    v = svc.create_voucher(
        book,
        svc.VoucherInput(
            dt.date(2026, 2, 3), "x", lines((acct("1002"), 1, 0), (acct("5001"), 0, 1))
        ),
        actor=people["preparer"],
    )
    svc.submit_voucher(v, actor=people["preparer"])
    svc.approve_voucher(v, actor=people["reviewer"])
    with pytest.raises(Conflict):
        svc.close_period(book, 2026, 2, actor=people["reviewer"])


def test_a_voucher_sent_back_after_it_was_read_is_not_posted(book, people, acct):
    """Posting updates the voucher only if it is still approved: another request may have
    rejected or discarded it between this request's read and its lock."""
    v = svc.create_voucher(
        book,
        svc.VoucherInput(
            dt.date(2026, 3, 4), "x", lines((acct("1002"), 5, 0), (acct("5001"), 0, 5))
        ),
        actor=people["preparer"],
    )
    svc.submit_voucher(v, actor=people["preparer"])
    svc.approve_voucher(v, actor=people["reviewer"])
    db.session.flush()
    # as if another transaction had rejected it: the row changes, this session's object does not
    db.session.execute(sa.text("UPDATE vouchers SET status = 'draft' WHERE id = :id"), {"id": v.id})
    assert v.status == "approved"
    with pytest.raises(Conflict, match="draft"):
        svc.post_voucher(v, actor=people["reviewer"])
    assert db.session.scalar(sa.select(Voucher.status).where(Voucher.id == v.id)) == "draft"
    assert v.number is None and v.log_index is None


def test_sme_year_end_closing(book, people, acct, post):
    post(lines((acct("1002"), 100000, 0), (acct("5001"), 0, 100000)), date=dt.date(2025, 6, 1))
    post(lines((acct("5602"), 30000, 0), (acct("1002"), 0, 30000)), date=dt.date(2025, 7, 1))
    made = svc.generate_year_end_closing(book, 2025, actor=people["reviewer"])
    assert len(made) == 2 and all(v.kind == "closing" and v.is_posted for v in made)

    def bal(code):
        return db.session.scalar(
            sa.select(
                sa.func.coalesce(
                    sa.func.sum(AccountPeriodBalance.credit - AccountPeriodBalance.debit), 0
                )
            ).where(AccountPeriodBalance.account_id == acct(code).id)
        )

    assert bal("5001") == 0 and bal("5602") == 0 and bal("3103") == 0
    assert bal("3104") == 70000
    with pytest.raises(Conflict, match="Nothing to close"):
        svc.generate_year_end_closing(book, 2025, actor=people["reviewer"])


def test_a_discarded_red_draft_does_not_block_a_new_reversal(post, acct, people):
    original = post(lines((acct("1002"), 500, 0), (acct("5001"), 0, 500)))
    first = svc.reverse_voucher(original, actor=people["preparer"], date=D)
    svc.discard_voucher(first, actor=people["preparer"])
    second = svc.reverse_voucher(original, actor=people["preparer"], date=D)
    assert second.reverses_id == original.id and second.status == "draft"


@pytest.mark.parametrize("text", ["1e3", "١٢", "NaN", "Infinity", "1.2.3", "", "12元"])
def test_amount_text_must_be_plain_digits(text):
    from ledger.amounts import parse_amount

    with pytest.raises(InvalidInput):
        parse_amount(text)


@pytest.mark.parametrize(
    "text, fen", [("1,234.56", 123456), ("0.01", 1), ("12", 1200), (".5", 50), ("¥8", 800)]
)
def test_amount_text_parses_exactly(text, fen):
    from ledger.amounts import parse_amount

    assert parse_amount(text) == fen
