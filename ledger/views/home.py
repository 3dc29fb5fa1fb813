"""The book's home page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from core.audit import note
from core.db import db
from core.errors import DomainError

from .. import services as svc
from ..models import (
    Voucher,
    VoucherStatus,
)
from .common import (
    STATUS_LABELS,
    _open,
    _period_label,
    _refused,
    bp,
)
from .periods import _months


@bp.get("/<id:org_id>/")
@login_required
def home(org_id: int):
    bv = _open(org_id)
    counts = dict(
        db.session.execute(
            sa.select(Voucher.status, sa.func.count())
            .where(Voucher.book_id == bv.book.id)
            .group_by(Voucher.status)
        ).all()
    )
    to_review = 0
    if bv.can_review:
        to_review = db.session.execute(
            sa.select(sa.func.count())
            .select_from(Voucher)
            .where(
                Voucher.book_id == bv.book.id,
                Voucher.status == VoucherStatus.SUBMITTED.value,
                Voucher.prepared_by_id != bv.user.id,
            )
        ).scalar_one()
    recent = db.session.scalars(
        sa.select(Voucher).where(Voucher.book_id == bv.book.id).order_by(Voucher.id.desc()).limit(8)
    ).all()
    return render_template(
        "ledger/home.html",
        bv=bv,
        counts=counts,
        to_review=to_review,
        recent=recent,
        months=_months(bv.book)[-6:],
        closed_through=_period_label(bv.book.closed_through),
        status_labels=STATUS_LABELS,
    )


# --- accounts -----------------------------------------------------------------------------------


@bp.route("/<id:org_id>/single-person", methods=["GET", "POST"])
@login_required
def single_person(org_id: int):
    """Single-person mode (一人记账): the book's admin lets the preparer approve their own
    vouchers, with a reason kept in the book's history."""
    bv = _open(org_id)
    if request.method == "POST":
        enabled = request.form.get("single_person_mode") == "on"
        try:
            svc.set_single_person_mode(
                bv.book, enabled, request.form.get("reason", ""), actor=bv.user
            )
        except DomainError as e:
            status = _refused(e)
            bv = _open(org_id)
            page = render_template(
                "ledger/single_person.html", bv=bv, error=e.message, form=request.form
            )
            return page, status
        note(single_person_mode=enabled)
        flash(_("Saved."), "success")
        return redirect(url_for("ledger.home", org_id=org_id))
    return render_template("ledger/single_person.html", bv=bv, error=None, form={})
