# SPDX-License-Identifier: AGPL-3.0-or-later
"""Demo: each demo book publishes a disclosure report for each month it has closed, so a
newcomer can download two chained bundles and a receipt and verify them."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import db
from core.demo import DemoContext, demo_step
from core.errors import Conflict
from ledger.models import Book, Voucher, VoucherStatus

from .disclosure import first_day, month_key, next_month, publish_report

DEMO_NOTE = (
    "演示数据：本月出库成本的结转先于进货入账，存货暂时显示为负数；进货凭证将在下月补记，"
    "届时存货恢复为正。"
)


@demo_step(50)
def publish_demo_reports(ctx: DemoContext) -> None:
    # Every demo book that has closed months (the domains' demos add books of their own).
    books = db.session.scalars(
        sa.select(Book).where(Book.closed_through.is_not(None)).order_by(Book.id)
    ).all()
    for book in books:
        first = db.session.scalar(
            sa.select(sa.func.min(Voucher.date)).where(
                Voucher.book_id == book.id, Voucher.status == VoucherStatus.POSTED.value
            )
        )
        closed = book.closed_through
        if first is None or closed is None:
            continue
        month = month_key(first)
        while month <= closed:
            label = first_day(month).strftime("%Y-%m")
            try:
                with db.session.begin_nested():
                    publish_report(book, label, label, actor=ctx.users["reviewer"])
            except Conflict as e:
                if e.code != "needs_note":
                    raise
                # The demo shows what a resident then sees: the warning and the note.
                publish_report(
                    book, label, label, actor=ctx.users["reviewer"], publisher_note=DEMO_NOTE
                )
            month = next_month(month)
