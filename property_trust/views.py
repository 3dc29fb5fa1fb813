# SPDX-License-Identifier: AGPL-3.0-or-later
"""HTML pages of the property trust: the compound's dashboard (staff), billing and payments,
the staff-only arrears list, the monthly owners' statement (page and PDF), an owner's own page,
and trust vouchers with their attachments and the supervisors' notes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from core import audit, parse, pdf
from core.db import db
from core.downloads import download
from core.errors import InvalidInput, NotFound
from core.months import Month
from ledger import services as ledger
from ledger.entry import parse_amount_text
from ledger.models import Voucher, VoucherAttachment, VoucherStatus

from . import governance as gv
from . import services as pt
from .access import Seat, seat
from .models import Bill, BillingRun, Payment, Unit
from .statement import monthly_statement, trust_vouchers

bp = Blueprint("property", __name__, url_prefix="/property")

ORG = "/<id:org_id>"


KIND_LABELS = {
    "parking": _l("Parking"),
    "advertising": _l("Advertising"),
    "venue": _l("Venue rent"),
    "other": _l("Other"),
}
ACTION_LABELS = {
    "comment": _l("Comment"),
    "flag": _l("Flag"),
    "hold": _l("Hold"),
    "release": _l("Release"),
    "finding": _l("Finding"),
}


MODE_LABELS = {
    "FIXED": _l("Fixed amount"),
    "PCT_OF_COLLECTED_FEES": _l("Share of the fees collected"),
    "PCT_INCL_PUBLIC_REVENUE": _l("Share of fees and public revenue (needs a resolution)"),
}


def _ctx(s: Seat, **kw):
    return {
        "seat": s,
        "compound": s.compound,
        "org": s.org,
        "yuan": pt.yuan,
        "kind_labels": KIND_LABELS,
        "action_labels": ACTION_LABELS,
        "mode_labels": MODE_LABELS,
        **kw,
    }


def _today_month() -> Month:
    return Month.of(dt.date.today())


def _month(year: int, month: int) -> Month:
    try:
        return Month(year, month)
    except ValueError:
        abort(404)


@bp.get(ORG + "/")
@login_required
def dashboard(org_id: int):
    s = seat(org_id)
    assert s.compound is not None
    c = s.compound
    runs = db.session.scalars(
        sa.select(BillingRun)
        .where(BillingRun.compound_id == c.id)
        .order_by(BillingRun.month.desc())
        .limit(24)
    ).all()
    units = db.session.scalar(sa.select(sa.func.count(Unit.id)).where(Unit.compound_id == c.id))
    area, owners = pt.compound_totals(c)
    held = db.session.scalars(
        sa.select(Voucher)
        .where(
            Voucher.book_id == pt.book_of(c).id,
            Voucher.status.in_((VoucherStatus.SUBMITTED.value, VoucherStatus.APPROVED.value)),
        )
        .order_by(Voucher.date)
        .limit(100)
    ).all()
    pending = [(v, gv.is_held(v.id)) for v in held]
    return render_template(
        "property_trust/dashboard.html",
        **_ctx(
            s,
            runs=runs,
            units=units,
            area=area,
            owners=owners,
            ageing=pt.ageing(c, dt.date.today()),
            pending=pending,
            this_month=_today_month(),
        ),
    )


@bp.post(ORG + "/bill")
@login_required
def bill(org_id: int):
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    month = parse.month(request.form.get("month", ""), field="month")
    res = pt.bill_month(s.compound, month, actor=s.user)
    audit.note(month=str(month), bills=res.bills)
    flash(
        _(
            "%(month)s billed: %(bills)d bills, ¥%(total)s.",
            month=str(month),
            bills=res.bills,
            total=pt.yuan(res.total),
        ),
        "success",
    )
    return redirect(url_for(".dashboard", org_id=org_id))


@bp.post(ORG + "/payments")
@login_required
def payment(org_id: int):
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    unit = pt.get_unit(s.compound, parse.int_id(request.form.get("unit_id"), field="unit_id"))
    amount = parse_amount_text(request.form.get("amount", ""), 2)
    day = parse.date(request.form.get("date", ""), field="date")
    p = pt.record_payment(
        s.compound, unit, amount, day, actor=s.user, advance=bool(request.form.get("advance"))
    )
    audit.note(payment_id=p.id)
    flash(_("Payment of ¥%(amount)s recorded.", amount=pt.yuan(p.amount)), "success")
    return redirect(url_for(".dashboard", org_id=org_id))


@bp.get(ORG + "/arrears")
@login_required
def arrears(org_id: int):
    """The room-level list: staff who prepare only, every look logged (TP-16)."""
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    as_of = dt.date.today()
    rows = pt.arrears_by_unit(s.compound, as_of, actor=s.user)
    return render_template("property_trust/arrears.html", **_ctx(s, rows=rows, as_of=as_of))


@bp.get(ORG + "/statement/<int(max=9999):year>/<int(max=99):month>")
@login_required
def statement(org_id: int, year: int, month: int):
    s = seat(org_id, owners=True)
    assert s.compound is not None
    from .models import PublishedStatement

    st = monthly_statement(s.compound, _month(year, month))
    published = db.session.scalar(
        sa.select(PublishedStatement).where(
            PublishedStatement.compound_id == s.compound.id,
            PublishedStatement.month == st.month.key,
        )
    )
    return render_template("property_trust/statement.html", **_ctx(s, st=st, published=published))


@bp.get(ORG + "/statement/<int(max=9999):year>/<int(max=99):month>.pdf")
@login_required
def statement_pdf(org_id: int, year: int, month: int):
    s = seat(org_id, owners=True)
    assert s.compound is not None
    st = monthly_statement(s.compound, _month(year, month))
    body = pdf.render_pdf(
        render_template(
            "pdf/property_statement.html", **_ctx(s, st=st, generated_at=dt.datetime.now(dt.UTC))
        )
    )
    audit.note(export="property statement pdf", month=str(st.month))
    return download(
        body, f"owners-statement-{st.month}.pdf", "application/pdf", inline=True, private=True
    )


@bp.get(ORG + "/mine")
@login_required
def mine(org_id: int):
    """An owner's page: their own bills and payments, the month's statement and every trust
    voucher; never another owner's name, unit or arrears."""
    s = seat(org_id, owners=True)
    assert s.compound is not None
    try:
        month = (
            parse.month(request.args["month"], field="month") if "month" in request.args else None
        )
    except InvalidInput:
        month = None
    month = month or _latest_month(s)
    bills = db.session.scalars(
        sa.select(Bill)
        .where(Bill.compound_id == s.compound.id, Bill.resident_id.in_(s.owner_ids))
        .order_by(Bill.month.desc())
        .limit(36)
    ).all()
    payments = db.session.scalars(
        sa.select(Payment)
        .where(Payment.compound_id == s.compound.id, Payment.resident_id.in_(s.owner_ids))
        .order_by(Payment.date.desc())
        .limit(36)
    ).all()
    units = {
        u.id: pt.unit_label(u)
        for u in db.session.scalars(
            sa.select(Unit).where(
                Unit.id.in_({b.unit_id for b in bills} | {p.unit_id for p in payments})
            )
        )
    }
    return render_template(
        "property_trust/mine.html",
        **_ctx(
            s,
            month=month,
            bills=bills,
            payments=payments,
            units=units,
            vouchers=trust_vouchers(s.compound, month=month, limit=500),
        ),
    )


def _latest_month(s: Seat) -> Month:
    assert s.compound is not None
    key = db.session.scalar(
        sa.select(sa.func.max(BillingRun.month)).where(BillingRun.compound_id == s.compound.id)
    )
    return Month.from_key(key) if key else _today_month()


def _trust_voucher(s: Seat, voucher_id: int) -> Voucher:
    assert s.compound is not None
    v = ledger.get_voucher(pt.book_of(s.compound), voucher_id)
    if not s.staff and v.status != VoucherStatus.POSTED.value:
        raise NotFound()
    return v


@bp.get(ORG + "/vouchers/<id:voucher_id>")
@login_required
def voucher(org_id: int, voucher_id: int):
    s = seat(org_id, owners=True)
    v = _trust_voucher(s, voucher_id)
    atts = db.session.scalars(
        sa.select(VoucherAttachment)
        .options(sa.orm.defer(VoucherAttachment.data))
        .where(VoucherAttachment.voucher_id == v.id)
        .order_by(VoucherAttachment.id)
    ).all()
    return render_template(
        "property_trust/voucher.html",
        **_ctx(s, v=v, atts=atts, notes=gv.notes_for(v.id), held=gv.is_held(v.id)),
    )


@bp.get(ORG + "/vouchers/<id:voucher_id>/attachments/<id:attachment_id>")
@login_required
def attachment(org_id: int, voucher_id: int, attachment_id: int):
    s = seat(org_id, owners=True)
    v = _trust_voucher(s, voucher_id)
    att = db.session.get(VoucherAttachment, attachment_id)
    if att is None or att.voucher_id != v.id:
        raise NotFound()
    return download(att.data, att.filename, att.content_type, etag=att.sha256, private=True)


@bp.post(ORG + "/vouchers/<id:voucher_id>/supervise")
@login_required
def supervise(org_id: int, voucher_id: int):
    s = seat(org_id, "supervisor")
    assert s.compound is not None
    v = _trust_voucher(s, voucher_id)
    gv.supervise(
        s.compound,
        request.form.get("action", ""),
        voucher=v,
        text=request.form.get("text", ""),
        actor=s.user,
    )
    flash(_("Recorded."), "success")
    return redirect(url_for(".voucher", org_id=org_id, voucher_id=v.id))


@bp.get(ORG + "/published/<int(max=9999):year>/<int(max=99):month>")
def published_statement(org_id: int, year: int, month: int):
    """The month's owners' statement as published with the disclosure report (public, no
    login): aggregates only, frozen at publication, linked to the report that verifies it."""
    import json

    from core.auth import get_organisation

    from .access import compound_of
    from .models import PublishedStatement
    from .statement import from_snapshot

    org = get_organisation(org_id)
    compound = compound_of(org)
    m = _month(year, month)
    row = (
        None
        if compound is None
        else db.session.scalar(
            sa.select(PublishedStatement).where(
                PublishedStatement.compound_id == compound.id, PublishedStatement.month == m.key
            )
        )
    )
    if row is None:
        raise NotFound(_l("No owners' statement has been published for this month."))
    return render_template(
        "property_trust/published.html",
        org=org,
        community=org.community,
        compound=compound,
        row=row,
        st=from_snapshot(json.loads(row.figures)),
        yuan=pt.yuan,
        kind_labels=KIND_LABELS,
        mode_labels=MODE_LABELS,
    )
