"""Monthly periods (会计期间): closing (结账) in order, and reopening the latest (反结账)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import Conflict, InvalidInput
from core.models import User
from core.months import Month

from .. import policy, signals
from ..models import Book, Period, PeriodEvent, Voucher, VoucherStatus
from .books import parent_org

UNPOSTED = (VoucherStatus.DRAFT.value, VoucherStatus.SUBMITTED.value, VoucherStatus.APPROVED.value)


def period_key(d: dt.date) -> int:
    """The stored ``yyyymm`` key of the month ``d`` falls in."""
    return Month.of(d).key


def _month(year: int, month: int) -> Month:
    try:
        return Month(year, month)
    except ValueError:
        raise InvalidInput(_l("No such month.")) from None


def _period(book: Book, month: Month) -> Period:
    period = db.session.scalar(
        sa.select(Period).where(
            Period.book_id == book.id, Period.year == month.year, Period.month == month.month
        )
    )
    if period is None:
        period = Period(
            community_id=book.community_id,
            book_id=book.id,
            year=month.year,
            month=month.month,
            voucher_count=0,
        )
        db.session.add(period)
        db.session.flush()
    return period


def close_period(book: Book, year: int, month: int, *, actor: User) -> Period:
    """Close a month (结账). Months close in order; nothing unposted may remain in them."""
    from .closing import needs_year_end_closing

    policy.require(parent_org(book.id), "close", user=actor)
    m = _month(year, month)
    if book.closed_through is not None:
        closed = Month.from_key(book.closed_through)
        if m <= closed:
            raise Conflict(_l("%(period)s is already closed.", period=str(m)))
        if m != closed.next():
            raise Conflict(
                _l("Close the months in order: %(period)s comes first.", period=str(closed.next()))
            )
    today = dt.date.today()
    if m.last_day > today + dt.timedelta(days=book.max_future_days) and m > Month.of(today):
        raise Conflict(_l("A month in the future cannot be closed."))
    pending = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Voucher)
        .where(
            Voucher.book_id == book.id,
            Voucher.status.in_(UNPOSTED),
            Voucher.date <= m.last_day,
        )
    )
    if pending:
        raise Conflict(
            _l(
                "%(n)d voucher(s) dated in or before this month are not posted yet. Post or move them first.",
                n=pending,
            )
        )
    if m.month == 12 and needs_year_end_closing(book, m.year):
        raise Conflict(
            _l(
                "Generate the year-end closing entries for %(year)d before closing December.",
                year=m.year,
            )
        )
    signals.period_closing.send(book, month=m, actor=actor)
    db.session.execute(sa.update(Book).where(Book.id == book.id).values(closed_through=m.key))
    db.session.refresh(book)
    period = _period(book, m)
    db.session.add(
        PeriodEvent(
            community_id=book.community_id, period_id=period.id, action="close", user_id=actor.id
        )
    )
    db.session.flush()
    return period


def reopen_period(book: Book, year: int, month: int, reason: str, *, actor: User) -> Period:
    """Reopen the latest closed month. Admins only, with a reason that stays in the history."""
    policy.require(parent_org(book.id), "reopen", user=actor)
    m = _month(year, month)
    if not (reason or "").strip():
        raise InvalidInput(
            _l("Say why the month is reopened."), errors={"reason": [str(_l("Required."))]}
        )
    if book.closed_through != m.key:
        raise Conflict(_l("Only the latest closed month can be reopened."))
    signals.period_reopening.send(book, month=m, actor=actor)
    prev = m.previous()
    first_activity = db.session.scalar(
        sa.select(sa.func.min(Voucher.date)).where(Voucher.book_id == book.id)
    )
    new_mark = prev.key if first_activity is not None and Month.of(first_activity) <= prev else None
    db.session.execute(sa.update(Book).where(Book.id == book.id).values(closed_through=new_mark))
    db.session.refresh(book)
    period = _period(book, m)
    db.session.add(
        PeriodEvent(
            community_id=book.community_id,
            period_id=period.id,
            action="reopen",
            reason=reason.strip(),
            user_id=actor.id,
        )
    )
    db.session.flush()
    return period
