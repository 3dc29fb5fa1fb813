"""The one posting engine: its two writers store the same rows, and the four-eyes rule."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
import sqlalchemy as sa

from core.db import db
from core.errors import NotPermitted
from core.models import Community
from ledger import log
from ledger import services as svc
from ledger.models import (
    AccountPeriodBalance,
    LogNode,
    Period,
    Voucher,
    VoucherEvent,
    VoucherLine,
)
from tests.ledger.conftest import lines
from tlog import merkle

V, L, E = Voucher.__table__, VoucherLine.__table__, VoucherEvent.__table__


def _stored(book) -> dict:
    """Every stored column of what posting wrote, ids and timestamps replaced by what they
    stand for (a voucher by its log index, a period by its month)."""
    conn = db.session.connection()
    index_of = {
        vid: ix
        for vid, ix in conn.execute(sa.select(V.c.id, V.c.log_index).where(V.c.book_id == book.id))
    }
    month_of = {
        p.id: (p.year, p.month)
        for p in db.session.scalars(sa.select(Period).where(Period.book_id == book.id))
    }
    vouchers = []
    for row in conn.execute(sa.select(V).where(V.c.book_id == book.id).order_by(V.c.log_index)):
        r = dict(row._mapping)
        if r["source"] == "billing":  # posted as it is stored
            assert r["posted_at"] == r["created_at"]
        for k in ("id", "created_at", "posted_at"):
            del r[k]
        r["period_id"] = month_of[r["period_id"]]
        vouchers.append(r)
    line_rows = sorted(
        (
            index_of[r.voucher_id],
            r.line_no,
            *(v for k, v in r._mapping.items() if k not in ("id", "voucher_id", "line_no")),
        )
        for r in conn.execute(sa.select(L).where(L.c.voucher_id.in_(index_of)))
    )
    events = sorted(
        (index_of[r.voucher_id], r.id, r.action, r.user_id, r.note, r.community_id)
        for r in conn.execute(sa.select(E).where(E.c.voucher_id.in_(index_of)))
    )
    events = [(i, a, u, n, c) for i, _id, a, u, n, c in events]
    nodes = sorted(
        (n.level, n.index, n.community_id, bytes(n.hash))
        for n in db.session.scalars(sa.select(LogNode).where(LogNode.book_id == book.id))
    )
    balances = sorted(
        (b.account_id, b.fund_key, b.unit, b.period_key, b.debit, b.credit, b.community_id)
        for b in db.session.scalars(
            sa.select(AccountPeriodBalance).where(AccountPeriodBalance.book_id == book.id)
        )
    )
    periods = sorted(
        (p.year, p.month, p.voucher_count)
        for p in db.session.scalars(sa.select(Period).where(Period.book_id == book.id))
    )
    return {
        "vouchers": vouchers,
        "lines": line_rows,
        "events": events,
        "nodes": nodes,
        "balances": balances,
        "periods": periods,
        "size": book.log_size,
    }


def test_single_and_bulk_writers_store_the_same_rows(
    app, book, acct, people, resident_factory, organisation_factory, post, monkeypatch
):
    # Deterministic salts, so records with private fields have the same leaves both ways.
    monkeypatch.setattr(secrets, "token_bytes", lambda n: bytes(i % 16 for i in range(n)))
    resident = resident_factory(community=db.session.get(Community, book.community_id))
    other = organisation_factory()
    fund = svc.create_fund(book, "F1", "维修基金", restricted=False)
    svc.declare_unit(book, "PTS", "积分")
    cash, revenue, receivable = acct("1002"), acct("5001"), acct("1122")
    for _ in range(3):  # a log that is not empty, and not a power of two
        post(lines((cash, 100, 0), (revenue, 0, 100)))
    inputs = []
    for i in range(11):
        d = dt.date(2026, 3 + i % 2, 1 + i)
        inputs.append(
            svc.VoucherInput(
                d,
                f'  第{i}笔 "引号" \\ \n',
                [
                    svc.LineInput(receivable.id, debit=1000 + i, resident_id=resident.id)
                    if i % 3 == 0
                    else svc.LineInput(cash.id, debit=1000 + i, fund_id=fund.id, memo="备注"),
                    svc.LineInput(revenue.id, credit=1000 + i, counterparty_org_id=other.id),
                    svc.LineInput(cash.id, debit=5, unit="PTS"),
                    svc.LineInput(revenue.id, credit=5, unit="PTS"),
                ],
                attachment_count=i,
            )
        )
    db.session.flush()

    outer = db.session.begin_nested()
    for data in inputs:
        svc.post_system_voucher(
            book, data, kind=svc.VoucherKind.NORMAL, actor=people["admin"], source="billing"
        )
    db.session.flush()
    single = _stored(book)
    outer.rollback()
    db.session.expire_all()

    ids = svc.post_vouchers(
        book, inputs, source="billing", actor=people["admin"], batch_size=4, bulk=True
    )
    db.session.expire_all()
    bulk = _stored(book)

    assert len(ids) == 11 and single["size"] == bulk["size"] == 14
    for part in ("vouchers", "lines", "events", "nodes", "balances", "periods"):
        assert single[part] == bulk[part], part
    # and they are what the records of the stored rows say
    stored = db.session.scalars(
        sa.select(Voucher).where(Voucher.book_id == book.id).order_by(Voucher.log_index)
    ).all()
    leaves = [merkle.leaf_hash(log.leaf_bytes(log.public_record(v))) for v in stored]
    assert [h for lv, _i, _c, h in bulk["nodes"] if lv == 0] == leaves
    assert log.root(book.id, 14) == merkle.root_hash(leaves)
    assert log.public_record(stored[3])["private"] is not None


def test_admin_who_edited_a_draft_cannot_approve_it(book, acct, people):
    """Four eyes: whoever shaped the voucher's content may not review it (issue 9)."""
    cash, revenue = acct("1002"), acct("5001")
    d = dt.date(2026, 3, 5)
    v = svc.create_voucher(
        book,
        svc.VoucherInput(d, "原稿", lines((cash, 100, 0), (revenue, 0, 100))),
        actor=people["preparer"],
    )
    svc.update_voucher(
        v,
        svc.VoucherInput(d, "改稿", lines((cash, 99_900, 0), (revenue, 0, 99_900))),
        actor=people["admin"],
    )
    svc.submit_voucher(v, actor=people["admin"])
    with pytest.raises(NotPermitted):
        svc.approve_voucher(v, actor=people["admin"])
    assert svc.shaped_by(v) == [people["preparer"].id, people["admin"].id]
    assert svc.voucher_editors(v) == [people["preparer"], people["admin"]]
    svc.approve_voucher(v, actor=people["reviewer"])  # someone who did not touch it
    assert svc.post_voucher(v, actor=people["reviewer"]).is_posted


def test_single_person_mode_lets_the_editor_approve(book, acct, people):
    cash, revenue = acct("1002"), acct("5001")
    d = dt.date(2026, 3, 5)
    svc.set_single_person_mode(book, True, "小基金，一人记账", actor=people["admin"])
    v = svc.create_voucher(
        book,
        svc.VoucherInput(d, "原稿", lines((cash, 100, 0), (revenue, 0, 100))),
        actor=people["preparer"],
    )
    svc.update_voucher(
        v,
        svc.VoucherInput(d, "改稿", lines((cash, 200, 0), (revenue, 0, 200))),
        actor=people["admin"],
    )
    svc.submit_voucher(v, actor=people["admin"])
    assert svc.approve_voucher(v, actor=people["admin"]).approved_by_id == people["admin"].id


def test_voucher_posted_and_period_reopening_signals(book, acct, people, post):
    from core.errors import Conflict
    from ledger import signals

    cash, revenue = acct("1002"), acct("5001")
    seen = []

    def on_posted(sender, **kw):
        seen.append((sender.id, kw["voucher_ids"], kw["source"]))

    def refuse(sender, **kw):
        raise Conflict("a domain refuses")

    signals.voucher_posted.connect(on_posted)
    signals.period_reopening.connect(refuse)
    try:
        v = post(lines((cash, 100, 0), (revenue, 0, 100)), date=dt.date(2026, 1, 5))
        ids = svc.post_vouchers(
            book,
            [svc.VoucherInput(dt.date(2026, 1, 6), "批量", lines((cash, 1, 0), (revenue, 0, 1)))],
            source="billing",
            actor=people["admin"],
        )
        assert seen == [(book.id, [v.id], "ui"), (book.id, ids, "billing")]
        svc.close_period(book, 2026, 1, actor=people["admin"])
        with pytest.raises(Conflict):
            svc.reopen_period(book, 2026, 1, "改错", actor=people["admin"])
    finally:
        signals.voucher_posted.disconnect(on_posted)
        signals.period_reopening.disconnect(refuse)


def test_a_voucher_sent_back_meanwhile_is_not_posted_and_nothing_is_written(book, acct, people):
    """The posting writes are conditional on the voucher still being approved (another request
    may have sent it back after this one read it): nothing of the posting is written then."""
    from core.errors import Conflict

    cash, revenue = acct("1002"), acct("5001")
    v = svc.create_voucher(
        book,
        svc.VoucherInput(dt.date(2026, 3, 5), "退回", lines((cash, 100, 0), (revenue, 0, 100))),
        actor=people["preparer"],
    )
    svc.submit_voucher(v, actor=people["preparer"])
    svc.approve_voucher(v, actor=people["reviewer"])
    db.session.flush()

    def written():
        return [
            db.session.execute(sa.select(table).where(table.c.book_id == book.id)).all()
            for table in (LogNode.__table__, AccountPeriodBalance.__table__)
        ]

    before = written()
    # Another transaction's rejection, as this session would see it: the row, not the object.
    db.session.execute(sa.update(V).where(V.c.id == v.id).values(status="draft"))
    with pytest.raises(Conflict):
        svc.post_voucher(v, actor=people["reviewer"])
    assert written() == before
    assert not db.session.scalar(
        sa.select(sa.func.count()).where(E.c.voucher_id == v.id, E.c.action == "posted")
    )
    assert db.session.scalar(sa.select(V.c.status).where(V.c.id == v.id)) == "draft"
