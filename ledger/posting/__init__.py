"""The posting engine: the one path money takes into the books (DESIGN.md §3).

``post_new`` posts vouchers the system computed or imported (one or 100,000: the same plan,
a writer chosen by size); ``post_approved`` posts a voucher a reviewer approved. Services
(``ledger.services``) call these after their permission checks; nothing else writes posted
vouchers, their lines, their history's ``posted`` event, log nodes or balances.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from core import privacy
from core.db import db
from core.errors import Conflict

from ..models import Book, Voucher, VoucherKind, VoucherLine, VoucherStatus
from .engine import (
    VOUCHER_PREFIX,
    Entry,
    Plan,
    check,
    plan,
    seal,
    take_head,
    voucher_number,
    write_existing,
    write_new,
)
from .inputs import LineInput, Problems, VoucherInput, as_input
from .rules import BookFacts, unit_exponent, validate_voucher

__all__ = [
    "VOUCHER_PREFIX",
    "BookFacts",
    "Entry",
    "LineInput",
    "Plan",
    "Problems",
    "VoucherInput",
    "as_input",
    "check_new",
    "plan",
    "post_approved",
    "post_new",
    "seal",
    "take_head",
    "unit_exponent",
    "validate_voucher",
    "voucher_number",
]


def post_new(
    book: Book,
    inputs: Sequence[VoucherInput],
    *,
    kind: str,
    source: str,
    actor_id: int | None,
    allow_negative: bool = False,
    today: dt.date | None = None,
    batch_size: int = 25_000,
    bulk: bool | None = None,
    parallel: bool | None = None,
    keyed: bool = True,
) -> list[int]:
    """Post new vouchers in order, approved by the rule or workflow that made them (recorded
    as the ``source`` event, then ``posted``). Nothing is written unless every voucher passes
    the rules (problems keyed ``vouchers.<i>.<field>``, or, ``keyed=False`` with one voucher,
    under its own keys); returns the new ids in order."""
    inputs = list(inputs)
    if not inputs:
        return []
    db.session.flush()
    # What the rules read (the chart, residents, the community's personal-data terms) before
    # the head row's lock, which then covers only the numbering and the writes. The book's own
    # posting policy is re-read under the lock (``take_head``), and the rules run there.
    facts = BookFacts.read(book, inputs, today=today)
    privacy.terms_for_community(book.community_id)
    first = take_head(book, len(inputs))
    entries = [
        Entry(
            data=data,
            kind=str(kind),
            source=source,
            allow_negative=allow_negative,
            prepared_by_id=actor_id,
            approved_by_id=actor_id,
        )
        for data in inputs
    ]
    p = plan(book, entries, first_index=first, facts=facts, actor_id=actor_id, keyed=keyed)
    return write_new(p, batch_size=batch_size, bulk=bulk, parallel=parallel)


def check_new(
    book: Book,
    inputs: Sequence[VoucherInput],
    *,
    kind: str,
    allow_negative: bool = False,
    today: dt.date | None = None,
) -> None:
    """What ``post_new`` checks, without posting: the same InvalidInput for the same
    problems, keyed ``vouchers.<i>.<field>``; nothing is written."""
    inputs = list(inputs)
    if not inputs:
        return
    facts = BookFacts.read(book, inputs, today=today)
    entries = [
        Entry(data=data, kind=str(kind), source="", allow_negative=allow_negative)
        for data in inputs
    ]
    check(book, entries, facts=facts)


_LINES_WITH_ACCOUNTS = (
    sa.select(VoucherLine)
    .where(VoucherLine.voucher_id == sa.bindparam("v_id"))
    .order_by(VoucherLine.line_no)
    .options(joinedload(VoucherLine.account), joinedload(VoucherLine.fund))
)


def _facts_of(voucher: Voucher, today: dt.date | None) -> BookFacts:
    """The accounts and funds of the voucher's lines, reading the lines with them in one query
    unless they are in memory already (``get_voucher(with_lines=True)``)."""
    book = voucher.book
    if "lines" in sa.inspect(voucher).unloaded:
        lines = db.session.scalars(_LINES_WITH_ACCOUNTS, {"v_id": voucher.id}).unique().all()
        set_committed_value(voucher, "lines", lines)
    elif any({"account", "fund"} & sa.inspect(ln).unloaded for ln in voucher.lines):
        return BookFacts.read(book, [as_input(voucher)], today=today)
    lines = voucher.lines
    facts = BookFacts(
        book,
        {ln.account.id: ln.account for ln in lines},
        {ln.fund.id: ln.fund for ln in lines if ln.fund is not None},
        today=today,
    )
    facts.read_residents(ln.resident_id for ln in lines)
    return facts


def post_approved(
    voucher: Voucher, *, actor_id: int | None, today: dt.date | None = None
) -> Voucher:
    """Post an approved voucher: number it, log it, update balances. It never changes again."""
    book = voucher.book
    with db.session.no_autoflush:  # what the rules read, before the lock (as ``post_new``)
        facts = _facts_of(voucher, today)
    privacy.terms_for_community(book.community_id)
    first = take_head(book, 1)  # serialises posting in this book from here to commit
    reversal = voucher.kind == VoucherKind.REVERSAL
    if reversal and voucher.reverses is not None and not voucher.reverses.is_posted:
        raise Conflict(_l("Only a posted voucher can be reversed."))
    reverses = voucher.reverses if voucher.reverses_id else None
    entry = Entry(
        data=as_input(voucher),
        kind=voucher.kind,
        source=voucher.source,
        allow_negative=reversal,
        voucher=voucher,
        reverses_id=voucher.reverses_id,
        reverses_index=reverses.log_index if reverses is not None else None,
    )
    p = plan(book, [entry], first_index=first, facts=facts, actor_id=actor_id, keyed=False)
    db.session.flush()  # anything pending (the history so far) is written before what follows
    if not write_existing(p):
        now = db.session.scalar(
            sa.select(Voucher.__table__.c.status).where(Voucher.__table__.c.id == voucher.id)
        )
        raise Conflict(
            _l(
                "The voucher is %(status)s; this step is not possible now.",
                status=status_label(now or VoucherStatus.DISCARDED.value),
            )
        )
    return voucher


def status_label(status: str) -> str:
    labels = {
        "draft": _l("a draft"),
        "submitted": _l("submitted"),
        "approved": _l("approved"),
        "posted": _l("posted"),
        "discarded": _l("discarded"),
    }
    return str(labels.get(status, status))
