"""ORM hooks: the second of three locks on posted data (service, ORM, database trigger)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event

from core.db import ImmutableRowError, guard_append_only

from .models import (
    BookPolicyChange,
    LogNode,
    PeriodEvent,
    Voucher,
    VoucherAttachment,
    VoucherEvent,
    VoucherLine,
    VoucherStatus,
)

for _append_only in (VoucherEvent, PeriodEvent, BookPolicyChange, LogNode):
    guard_append_only(_append_only)


def _was_posted(voucher: Voucher) -> bool:
    hist = sa.inspect(voucher).attrs.status.history
    old = hist.deleted[0] if hist.deleted else voucher.status
    return old == VoucherStatus.POSTED


@event.listens_for(Voucher, "before_update")
def _voucher_update(_mapper, _conn, target: Voucher):
    if _was_posted(target):
        raise ImmutableRowError(f"voucher {target.number} is posted and never changes")


@event.listens_for(Voucher, "before_delete")
def _voucher_delete(_mapper, _conn, target: Voucher):
    if _was_posted(target):
        raise ImmutableRowError(f"voucher {target.number} is posted and is never deleted")


def _line_guard(_mapper, _conn, target):
    v = target.voucher
    if (
        v is not None
        and _was_posted(v)
        and v.status == VoucherStatus.POSTED
        and sa.inspect(v).persistent
    ):
        hist = sa.inspect(v).attrs.status.history
        if not hist.added:  # the voucher was posted before this flush
            raise ImmutableRowError(f"lines of posted voucher {v.number} never change")


for _model in (VoucherLine, VoucherAttachment):
    event.listen(_model, "before_update", _line_guard)
    event.listen(_model, "before_delete", _line_guard)
