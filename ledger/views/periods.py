"""Periods (结账): month close, reopen, year-end closing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from core.audit import note
from core.db import db
from core.errors import DomainError, InvalidInput
from core.models import User

from .. import services as svc
from ..models import (
    Book,
    Period,
    PeriodEvent,
    Voucher,
    VoucherStatus,
)
from .common import (
    BookView,
    _next_month,
    _open,
    _period_label,
    _refused,
    bp,
)


@dataclass
class MonthRow:
    key: int
    posted: int = 0
    unposted: int = 0
    closed: bool = False
    events: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return _period_label(self.key)

    @property
    def first_day(self) -> str:
        return f"{self.label}-01"

    @property
    def last_day_date(self) -> dt.date:
        y, m = divmod(self.key, 100)
        nxt = dt.date(y + 1, 1, 1) if m == 12 else dt.date(y, m + 1, 1)
        return nxt - dt.timedelta(days=1)

    @property
    def last_day(self) -> str:
        return self.last_day_date.isoformat()


def _months(book: Book) -> list[MonthRow]:
    """Every month with a voucher (not discarded), oldest first, with counts and close state."""
    year, month = sa.extract("year", Voucher.date), sa.extract("month", Voucher.date)
    rows = db.session.execute(
        sa.select(year, month, Voucher.status, sa.func.count())
        .where(Voucher.book_id == book.id, Voucher.status != VoucherStatus.DISCARDED.value)
        .group_by(year, month, Voucher.status)
    ).all()
    months: dict[int, MonthRow] = {}
    for y, m, status, n in rows:
        key = int(y) * 100 + int(m)
        row = months.setdefault(key, MonthRow(key))
        if status == VoucherStatus.POSTED.value:
            row.posted += n
        else:
            row.unposted += n
    for p in db.session.scalars(sa.select(Period).where(Period.book_id == book.id)):
        months.setdefault(p.key, MonthRow(p.key))
    for row in months.values():
        row.closed = book.closed_through is not None and row.key <= book.closed_through
    return [months[k] for k in sorted(months)]


def _render_periods(bv: BookView, *, error=None, errors=None, status: int = 200):
    months = _months(bv.book)
    closed = bv.book.closed_through
    if closed is not None:
        next_key = _next_month(closed)
    else:
        next_key = months[0].key if months else None
    today_key = svc.period_key(dt.date.today())
    if next_key is not None and next_key > today_key:
        next_key = None
    events = db.session.execute(
        sa.select(PeriodEvent, Period, User)
        .join(Period, Period.id == PeriodEvent.period_id)
        .join(User, User.id == PeriodEvent.user_id)
        .where(Period.book_id == bv.book.id)
        .order_by(PeriodEvent.id.desc())
        .limit(20)
    ).all()
    latest = dt.date.today() + dt.timedelta(days=bv.book.max_future_days)
    years = sorted(
        {
            m.key // 100
            for m in months
            if (closed is None or m.key // 100 * 100 + 12 > closed)
            and dt.date(m.key // 100, 12, 31) <= latest
        }
    )
    return (
        render_template(
            "ledger/periods.html",
            bv=bv,
            months=months,
            next_key=next_key,
            next_label=_period_label(next_key),
            closed_label=_period_label(closed),
            events=events,
            years=years,
            error=error,
            errors=errors or {},
        ),
        status,
    )


@bp.get("/<id:org_id>/periods")
@login_required
def periods(org_id: int):
    return _render_periods(_open(org_id))


def _month_from_form() -> tuple[int, int]:
    text = request.form.get("period", "")
    y, _sep, m = text.partition("-")
    if not (y.isdigit() and m.isdigit() and len(y) == 4 and 1 <= int(m) <= 12):
        raise InvalidInput(_l("No such month."), errors={"period": [str(_l("Use YYYY-MM."))]})
    return int(y), int(m)


@bp.post("/<id:org_id>/periods/<any(close,reopen,year_end):action>")
@login_required
def period_action(org_id: int, action: str):
    bv = _open(org_id)
    try:
        if action == "year_end":
            text = request.form.get("year", "")
            if not (text.isdigit() and len(text) == 4):
                raise InvalidInput(_l("No such year."))
            made = svc.generate_year_end_closing(bv.book, int(text), actor=bv.user)
            note(year=int(text), vouchers=[v.number for v in made])
            flash(
                _(
                    "Year-end closing entries posted: %(numbers)s",
                    numbers=", ".join(v.number for v in made),
                ),
                "success",
            )
        else:
            y, m = _month_from_form()
            if action == "close":
                svc.close_period(bv.book, y, m, actor=bv.user)
                flash(_("%(period)s is closed.", period=f"{y}-{m:02d}"), "success")
            else:
                svc.reopen_period(bv.book, y, m, request.form.get("reason", ""), actor=bv.user)
                flash(_("%(period)s is open again.", period=f"{y}-{m:02d}"), "success")
            note(period=f"{y}-{m:02d}")
    except DomainError as e:
        status = _refused(e)
        return _render_periods(_open(org_id), error=e.message, errors=e.errors, status=status)
    return redirect(url_for(".periods", org_id=org_id))


# --- reports (账簿与报表) -------------------------------------------------------------------------
