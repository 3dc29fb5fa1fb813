"""The voucher list and the reviewer's approval queue (审核)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import (
    g,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_login import login_required

from core import parse
from core.db import db
from core.errors import InvalidInput

from ..models import (
    Account,
    Book,
    Voucher,
    VoucherLine,
    VoucherStatus,
)
from .common import (
    STATUS_LABELS,
    _locale,
    _open,
    _posting_accounts,
    bp,
)


def _debit_totals(vouchers) -> dict[int, int]:
    """Total debit (base unit) per voucher on a page, in one query."""
    ids = [v.id for v in vouchers]
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(VoucherLine.voucher_id, sa.func.sum(VoucherLine.debit))
            .where(VoucherLine.voucher_id.in_(ids))
            .group_by(VoucherLine.voucher_id)
        ).all()
    )


PAGE_SIZE = 50


@dataclass
class VoucherFilters:
    status: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    text: str = ""
    account: str = ""
    page: int = 1
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_args(cls) -> VoucherFilters:
        a = request.args
        f = cls(status=a.get("status", "")[:20])
        for name, attr, size in (("q", "text", 100), ("account", "account", 40)):
            try:
                setattr(f, attr, parse.text(a.get(name, "")[:size], field=name, max_length=size))
            except InvalidInput as e:
                f.errors[name] = str(e.message)
        if f.status and f.status not in {s.value for s in VoucherStatus}:
            f.errors["status"] = _("Unknown status.")
            f.status = ""
        for name in ("date_from", "date_to"):
            try:
                setattr(f, name, parse.optional_date(a.get(name), field=name))
            except InvalidInput as e:
                f.errors[name] = str(e.message)
        try:
            f.page = parse.page(a.get("page"))
        except InvalidInput as e:
            f.errors["page"] = str(e.message)
        if f.account:  # "1002 银行存款" from the lookup → its code
            f.account = f.account.split()[0]
        return f

    def args(self, **override) -> dict:
        out = {
            "status": self.status,
            "q": self.text,
            "account": self.account,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "page": self.page,
        }
        out.update(override)
        return {k: v for k, v in out.items() if v not in ("", None)}


def _voucher_query(book: Book, f: VoucherFilters):
    q = sa.select(Voucher).where(Voucher.book_id == book.id)
    if f.status:
        q = q.where(Voucher.status == f.status)
    if f.date_from:
        q = q.where(Voucher.date >= f.date_from)
    if f.date_to:
        q = q.where(Voucher.date <= f.date_to)
    if f.text:
        q = q.where(
            sa.or_(
                Voucher.summary.contains(f.text, autoescape=True),
                Voucher.number.contains(f.text, autoescape=True),
            )
        )
    if f.account:
        q = q.where(
            sa.exists(
                sa.select(VoucherLine.id)
                .join(Account, Account.id == VoucherLine.account_id)
                .where(
                    VoucherLine.voucher_id == Voucher.id,
                    Account.code.startswith(f.account, autoescape=True),
                )
            )
        )
    return q


@bp.get("/<id:org_id>/vouchers")
@login_required
def vouchers(org_id: int):
    bv = _open(org_id)
    f = VoucherFilters.from_args()
    q = _voucher_query(bv.book, f)
    total = db.session.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(f.page, pages)
    rows = db.session.scalars(
        q.order_by(Voucher.date.desc(), Voucher.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    status = 422 if f.errors else 200
    if f.errors:
        g.audit_outcome_detail = "invalid"
    return (
        render_template(
            "ledger/vouchers.html",
            bv=bv,
            f=f,
            rows=rows,
            totals=_debit_totals(rows),
            total=total,
            page=page,
            pages=pages,
            status_labels=STATUS_LABELS,
            accounts=_posting_accounts(bv.book),
            loc=_locale(),
        ),
        status,
    )


@bp.get("/<id:org_id>/review")
@login_required
def review(org_id: int):
    """审核: submitted vouchers someone else prepared, then approved ones waiting to be posted."""
    bv = _open(org_id)
    waiting = db.session.scalars(
        sa.select(Voucher)
        .where(
            Voucher.book_id == bv.book.id,
            Voucher.status == VoucherStatus.SUBMITTED.value,
            sa.or_(Voucher.prepared_by_id != bv.user.id, Voucher.prepared_by_id.is_(None)),
        )
        .order_by(Voucher.date, Voucher.id)
    ).all()
    approved = db.session.scalars(
        sa.select(Voucher)
        .where(Voucher.book_id == bv.book.id, Voucher.status == VoucherStatus.APPROVED.value)
        .order_by(Voucher.date, Voucher.id)
    ).all()
    return render_template(
        "ledger/review.html",
        bv=bv,
        waiting=waiting,
        approved=approved,
        totals=_debit_totals([*waiting, *approved]),
        loc=_locale(),
    )


# --- periods (结账) ------------------------------------------------------------------------------
