"""Posting is serialised per book (DESIGN.md §3): concurrent posts never share or skip a
number or a log index and never lose a line. Real commits, real concurrent connections."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from core.db import db
from core.models import User
from ledger import log
from ledger import services as svc
from ledger.models import AccountPeriodBalance, Voucher
from tests.ledger.conftest import two_person_book
from tlog import merkle

THREADS = 4
PER_THREAD = 6


@pytest.mark.commits
def test_concurrent_posting_is_gapless(committing_app):
    app = committing_app
    desk = two_person_book("并发", "conc")
    book, reviewer = desk.book, desk.reviewer
    # Approved vouchers, ready to post.
    ids = [
        desk.approved_sale(dt.date(2026, 3, 1 + i % 27), f"并发 {i}", 100 + i).id
        for i in range(THREADS * PER_THREAD)
    ]
    book_id, reviewer_id = book.id, reviewer.id
    db.session.commit()
    db.session.remove()

    errors = []
    barrier = threading.Barrier(THREADS)

    def worker(chunk):
        with app.app_context():
            try:
                barrier.wait()
                for vid in chunk:
                    actor = db.session.get(User, reviewer_id)
                    svc.post_voucher(db.session.get(Voucher, vid), actor=actor)
                    db.session.commit()
            except Exception as e:  # pragma: no cover - reported below
                db.session.rollback()
                errors.append(repr(e))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(ids[i::THREADS],)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors

    vouchers = db.session.scalars(sa.select(Voucher).where(Voucher.book_id == book_id)).all()
    assert all(v.status == "posted" for v in vouchers)
    assert sorted(v.log_index for v in vouchers) == list(range(len(ids)))
    numbers = sorted(int(v.number.rsplit("-", 1)[1]) for v in vouchers)
    assert numbers == list(range(1, len(ids) + 1))
    total = db.session.scalar(
        sa.select(sa.func.sum(AccountPeriodBalance.debit)).where(
            AccountPeriodBalance.book_id == book_id,
            AccountPeriodBalance.account_id == desk.codes["1002"],
        )
    )
    assert total == sum(100 + i for i in range(len(ids)))
    by_index = sorted(vouchers, key=lambda v: v.log_index)
    leaves = [merkle.leaf_hash(log.leaf_bytes(log.public_record(v, None))) for v in by_index]
    assert log.root(book_id, len(ids)) == merkle.root_hash(leaves)
