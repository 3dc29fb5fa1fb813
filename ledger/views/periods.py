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
from flask_login import login_required

from core import parse
from core.audit import note
from core.db import db
from core.errors import DomainError
from core.models import User
from core.months import MAX_YEAR, Month

from .. import services as svc
from ..entry import closable_month
from ..models import (
    Book,
    Period,
    PeriodEvent,
    Voucher,
    VoucherStatus,
)
from ..nav import MONTH_LINKS
from .common import (
    BookView,
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
    def month(self) -> Month:
        return Month.from_key(self.key)

    @property
    def label(self) -> str:
        return str(self.month)

    @property
    def first_day(self) -> str:
        return self.month.first_day.isoformat()

    @property
    def last_day_date(self) -> dt.date:
        return self.month.last_day

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


def _month_links(book: Book) -> dict[int, list[tuple[str, str]]]:
    """What the layers above add to each month (ledger.nav.MONTH_LINKS)."""
    out: dict[int, list[tuple[str, str]]] = {}
    for fn in MONTH_LINKS:
        for key, links in fn(book).items():
            out.setdefault(key, []).extend(links)
    return out


def _render_periods(bv: BookView, *, error=None, errors=None, status: int = 200):
    months = _months(bv.book)
    closed = bv.book.closed_through
    if closed is not None:
        last = Month.from_key(closed)
        next_key = last.next().key if last.year < MAX_YEAR or last.month < 12 else None
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
            m.month.year
            for m in months
            if (closed is None or Month(m.month.year, 12).key > closed)
            and dt.date(m.month.year, 12, 31) <= latest
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
            month_links=_month_links(bv.book),
            error=error,
            errors=errors or {},
        ),
        status,
    )


@bp.get("/<id:org_id>/periods")
@login_required
def periods(org_id: int):
    return _render_periods(_open(org_id))


def _month_from_form() -> Month:
    return parse.month(request.form.get("period", ""), field="period")


@bp.post("/<id:org_id>/periods/<any(close,reopen,year_end):action>")
@login_required
def period_action(org_id: int, action: str):
    bv = _open(org_id)
    try:
        if action == "year_end":
            year = parse.year(request.form.get("year", ""))
            made = svc.generate_year_end_closing(bv.book, year, actor=bv.user)
            note(year=year, vouchers=[v.number for v in made])
            flash(
                _(
                    "Year-end closing entries posted: %(numbers)s",
                    numbers=", ".join(str(v.number) for v in made),  # posted: numbered
                ),
                "success",
            )
        else:
            month = _month_from_form()
            y, m = month.year, month.month
            if action == "close":
                closable_month(bv.book, month)
                svc.close_period(bv.book, y, m, actor=bv.user)
                flash(_("%(period)s is closed.", period=str(month)), "success")
            else:
                reason = parse.text(request.form.get("reason", ""), field="reason", max_length=2000)
                svc.reopen_period(bv.book, y, m, reason, actor=bv.user)
                flash(_("%(period)s is open again.", period=str(month)), "success")
            note(period=str(month))
    except DomainError as e:
        status = _refused(e)
        return _render_periods(_open(org_id), error=e.message, errors=e.errors, status=status)
    return redirect(url_for(".periods", org_id=org_id))


# --- reports (账簿与报表) -------------------------------------------------------------------------
