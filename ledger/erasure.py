"""What the ledger holds on a resident, for their export, and what it drops when their personal
data is erased (core/personal_data.py).

On erasure each posted voucher naming the resident loses the resident's private fields and its
salt (``log.erased_private_fields``): the erased lines keep their commitment, so the public
record, its leaf and every published bundle stay what they were; a co-payer's lines keep their
own line salt, so their receipts can still be issued. The database allows this one change of a
posted voucher only with a confirmed erasure row for one of its residents (migration
``20261203_d7a1e5c3b9f2_resident_erasures``). Drafts simply stop naming the person.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core import personal_data
from core.db import db
from core.models import Resident

from . import log
from .models import Book, Voucher, VoucherLine, VoucherStatus


def _vouchers_of(resident: Resident) -> list[Voucher]:
    ids = sa.select(VoucherLine.voucher_id).where(VoucherLine.resident_id == resident.id)
    return list(
        db.session.scalars(
            sa.select(Voucher).where(Voucher.id.in_(ids)).order_by(Voucher.book_id, Voucher.id)
        )
    )


@personal_data.resident_erasing.connect
def _erase(resident: Resident, erasure: Any = None, **_kw) -> None:
    for v in _vouchers_of(resident):
        if v.status != VoucherStatus.POSTED:
            db.session.execute(
                sa.update(VoucherLine)
                .where(VoucherLine.voucher_id == v.id, VoucherLine.resident_id == resident.id)
                .values(resident_id=None)
            )
            continue
        private = log.private_fields(v) or []
        salt = bytes(v.private_salt) if v.private_salt is not None else None
        kept = log.erased_private_fields(salt, private, resident.id)
        # A Core statement: the ORM's guard on posted vouchers refuses every change; the
        # database trigger admits this one (see the module docstring).
        db.session.execute(
            sa.update(Voucher.__table__)
            .where(Voucher.__table__.c.id == v.id)
            .values(private_json=log.private_json(kept), private_salt=None)
        )
    db.session.expire_all()


def _export(resident: Resident) -> tuple[str, Any] | None:
    out = []
    for v in _vouchers_of(resident):
        if v.status != VoucherStatus.POSTED:
            continue
        book = db.session.get(Book, v.book_id)
        mine = [p for p in (log.private_fields(v) or []) if p.get("resident") == resident.id]
        out.append(
            {
                "organisation_id": book.organisation_id if book else None,
                "book_id": v.book_id,
                "number": v.number,
                "log_index": v.log_index,
                "date": v.date.isoformat(),
                "summary": v.summary,
                "lines": [
                    {
                        "line": ln.line_no,
                        "account": ln.account.code,
                        "unit": ln.unit,
                        "debit": ln.debit,
                        "credit": ln.credit,
                    }
                    for ln in v.lines
                    if ln.resident_id == resident.id
                ],
                "private_fields": [
                    {k: p[k] for k in ("line", "name", "unit") if k in p} for p in mine
                ],
                "receipt": f"/books/{book.organisation_id}/vouchers/{v.id}/receipt/{resident.id}"
                if book and any("commitment" not in p for p in mine)
                else None,
            }
        )
    return "vouchers", out


personal_data.EXPORT_SECTIONS.append(_export)
