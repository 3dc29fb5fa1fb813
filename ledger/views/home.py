"""The book's home page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    render_template,
)
from flask_login import login_required

from core.db import db

from ..models import (
    Voucher,
    VoucherStatus,
)
from .common import (
    STATUS_LABELS,
    _open,
    _period_label,
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
        to_review = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Voucher)
            .where(
                Voucher.book_id == bv.book.id,
                Voucher.status == VoucherStatus.SUBMITTED.value,
                Voucher.prepared_by_id != bv.user.id,
            )
        )
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
