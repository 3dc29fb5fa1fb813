"""Vouchers (记账凭证) and their approval: draft → submitted → approved → posted, with every
step in the voucher's history (VoucherEvent). Posting itself is ``ledger.posting``'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, joinedload

from core.db import db
from core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from core.models import Organisation, User

from .. import policy, posting, signals
from ..models import Book, Voucher, VoucherEvent, VoucherKind, VoucherLine, VoucherStatus
from ..posting import BookFacts, LineInput, VoucherInput, as_input, status_label, validate_voucher
from .books import parent_org

# The history actions that shape a voucher's content (date, summary, lines).
SHAPING_ACTIONS = ("created", "edited")


def _validate(
    book: Book,
    data: VoucherInput,
    *,
    allow_negative: bool = False,
    min_lines: int = 2,
    today: dt.date | None = None,
):
    """The rules (``ledger.posting.validate_voucher``) for one voucher, reading what they need."""
    facts = BookFacts.read(book, [data], today=today)
    return validate_voucher(facts, data, allow_negative=allow_negative, min_lines=min_lines)


def _event(voucher: Voucher, action: str, user: User | None, note: str = "") -> None:
    db.session.add(
        VoucherEvent(
            community_id=voucher.community_id,
            voucher_id=voucher.id,
            action=action,
            user_id=getattr(user, "id", None),
            note=note,
        )
    )


def _set_lines(voucher: Voucher, checked, base_unit: str = "CNY") -> None:
    voucher.lines = [
        VoucherLine(
            community_id=voucher.community_id,
            line_no=n,
            account_id=acc.id,
            fund_id=fund.id if fund else None,
            unit=li.unit or base_unit,
            debit=li.debit,
            credit=li.credit,
            memo=(li.memo or "")[:300],
            resident_id=li.resident_id,
            counterparty_org_id=li.counterparty_org_id,
        )
        for n, (li, acc, fund) in enumerate(checked, start=1)
    ]


def create_voucher(
    book: Book,
    data: VoucherInput,
    *,
    actor: User,
    source: str = "ui",
    kind: VoucherKind = VoucherKind.NORMAL,
) -> Voucher:
    """A draft 记账凭证 by a preparer."""
    policy.require(parent_org(book.id), "prepare", user=actor)
    checked = _validate(book, data)
    v = Voucher(
        community_id=book.community_id,
        book_id=book.id,
        date=data.date,
        summary=data.summary.strip(),
        attachment_count=int(data.attachment_count or 0),
        status=VoucherStatus.DRAFT.value,
        kind=VoucherKind(kind).value,
        source=source,
        prepared_by_id=actor.id,
    )
    db.session.add(v)
    _set_lines(v, checked, book.base_unit)
    db.session.flush()
    _event(v, "created", actor)
    db.session.flush()
    return v


def get_voucher(book: Book, voucher_id: int, *, with_lines: bool = False) -> Voucher:
    """The voucher, or NotFound. ``with_lines``: its lines, their accounts and funds too, in
    the same query (posting reads them all)."""
    if with_lines:
        v = (
            db.session.execute(_VOUCHER_WITH_LINES, {"v_id": voucher_id})
            .unique()
            .scalar_one_or_none()
        )
    else:
        v = db.session.get(Voucher, voucher_id)
    if v is None or v.book_id != book.id:
        raise NotFound(_l("No such voucher in this book."))
    return v


def _must_be(voucher: Voucher, *statuses: VoucherStatus) -> None:
    if voucher.status not in {s.value for s in statuses}:
        if voucher.status == VoucherStatus.POSTED:
            raise Conflict(
                _l(
                    "Voucher %(number)s is posted and can no longer change. Correct it with a reversal.",
                    number=voucher.number,
                )
            )
        raise Conflict(
            _l(
                "The voucher is %(status)s; this step is not possible now.",
                status=status_label(voucher.status),
            )
        )


def update_voucher(voucher: Voucher, data: VoucherInput, *, actor: User) -> Voucher:
    policy.require(parent_org(voucher.book_id), "prepare", user=actor)
    _must_be(voucher, VoucherStatus.DRAFT)
    checked = _validate(voucher.book, data, allow_negative=voucher.kind == VoucherKind.REVERSAL)
    voucher.date = data.date
    voucher.summary = data.summary.strip()
    voucher.attachment_count = int(data.attachment_count or 0)
    voucher.lines.clear()
    db.session.flush()
    _set_lines(voucher, checked, voucher.book.base_unit)
    _event(voucher, "edited", actor)
    db.session.flush()
    return voucher


def discard_voucher(voucher: Voucher, *, actor: User, note: str = "") -> Voucher:
    """An unposted voucher that should not be posted is discarded, not deleted: its history stays."""
    policy.require(parent_org(voucher.book_id), "prepare", user=actor)
    _must_be(voucher, VoucherStatus.DRAFT, VoucherStatus.SUBMITTED)
    voucher.status = VoucherStatus.DISCARDED.value
    _event(voucher, "discarded", actor, (note or "").strip())
    db.session.flush()
    return voucher


def submit_voucher(voucher: Voucher, *, actor: User) -> Voucher:
    policy.require(parent_org(voucher.book_id), "prepare", user=actor)
    _must_be(voucher, VoucherStatus.DRAFT)
    _validate(voucher.book, as_input(voucher), allow_negative=voucher.kind == VoucherKind.REVERSAL)
    voucher.status = VoucherStatus.SUBMITTED.value
    _event(voucher, "submitted", actor)
    db.session.flush()
    return voucher


def shaped_by(voucher: Voucher) -> list[int]:
    """Ids of everyone who shaped the voucher's content: its preparer and whoever created or
    edited it (its history), in order of first appearance. Four eyes: none of them reviews it."""
    ids = [voucher.prepared_by_id] if voucher.prepared_by_id is not None else []
    if voucher.id is not None:
        user_ids = db.session.scalars(
            sa.select(VoucherEvent.user_id)
            .where(
                VoucherEvent.voucher_id == voucher.id,
                VoucherEvent.action.in_(SHAPING_ACTIONS),
                VoucherEvent.user_id.is_not(None),
            )
            .order_by(VoucherEvent.id)
        ).all()
        ids += [u for u in user_ids if u is not None]  # (the query already leaves None out)
    return list(dict.fromkeys(ids))


def voucher_editors(voucher: Voucher) -> list[User]:
    """The people who shaped the voucher (``shaped_by``), for pages that show who did."""
    ids = shaped_by(voucher)
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
    return [users[i] for i in ids if i in users]


def approve_voucher(voucher: Voucher, *, actor: User) -> Voucher:
    """A reviewer (审核) who neither prepared nor edited the voucher approves it, unless the book
    is in single-person mode."""
    org = parent_org(voucher.book_id)
    policy.require(org, "review", "prepare", user=actor)
    _must_be(voucher, VoucherStatus.SUBMITTED)
    single = voucher.book.single_person_mode
    authors = shaped_by(voucher)
    if actor.id in authors and not single:
        if voucher.prepared_by_id == actor.id:
            raise NotPermitted(_l("You prepared this voucher, so another person must review it."))
        raise NotPermitted(_l("You edited this voucher, so another person must review it."))
    if actor.id not in authors or not single:
        policy.require(org, "review", user=actor)
    voucher.status = VoucherStatus.APPROVED.value
    voucher.approved_by_id = actor.id
    _event(voucher, "approved", actor)
    db.session.flush()
    return voucher


def reject_voucher(voucher: Voucher, note: str, *, actor: User) -> Voucher:
    policy.require(parent_org(voucher.book_id), "review", user=actor)
    _must_be(voucher, VoucherStatus.SUBMITTED, VoucherStatus.APPROVED)
    if not (note or "").strip():
        raise InvalidInput(
            _l("Say what must be corrected."), errors={"note": [str(_l("Required."))]}
        )
    voucher.status = VoucherStatus.DRAFT.value
    voucher.approved_by_id = None
    _event(voucher, "rejected", actor, note.strip())
    db.session.flush()
    return voucher


def post_voucher(voucher: Voucher, *, actor: User) -> Voucher:
    """Post an approved voucher: number it, log it, update balances. It never changes again."""
    # The organisation through the book (identity map) rather than parent_org's join query.
    policy.require(voucher.book.organisation, "post", user=actor)
    _must_be(voucher, VoucherStatus.APPROVED)
    if signals.voucher_posting.receivers:  # a layer above may refuse (e.g. a supervisor's hold)
        signals.voucher_posting.send(voucher.book, voucher=voucher, actor=actor)
    posting.post_approved(voucher, actor_id=actor.id)
    if signals.voucher_posted.receivers:
        signals.voucher_posted.send(
            voucher.book, voucher_ids=[voucher.id], source=voucher.source, actor=actor
        )
    return voucher


# A voucher's lines with their accounts and funds, in the voucher's own query.
_WITH_LINES = (
    joinedload(Voucher.lines).joinedload(VoucherLine.account),
    joinedload(Voucher.lines).joinedload(VoucherLine.fund),
)
_VOUCHER_WITH_LINES = (
    sa.select(Voucher).where(Voucher.id == sa.bindparam("v_id")).options(*_WITH_LINES)
)
_VOUCHER_IN_ORGANISATION = (
    sa.select(Voucher)
    .join(Voucher.book)
    .join(Book.organisation)
    .where(Organisation.id == sa.bindparam("org_id"), Voucher.id == sa.bindparam("v_id"))
    .options(contains_eager(Voucher.book).contains_eager(Book.organisation), *_WITH_LINES)
)


def voucher_in_organisation(org_id: int, voucher_id: int) -> Voucher | None:
    """The voucher with its book, the book's organisation, its lines and their accounts and
    funds, in one query (``voucher.book.organisation`` then reads nothing); None when any of
    them is missing or the voucher is in another book (then ``get_voucher`` on the book says
    which, after the caller's permission check)."""
    return (
        db.session.execute(_VOUCHER_IN_ORGANISATION, {"org_id": org_id, "v_id": voucher_id})
        .unique()
        .scalar_one_or_none()
    )


def reverse_voucher(
    original: Voucher, *, actor: User, date: dt.date | None = None, summary: str | None = None
) -> Voucher:
    """红字冲销: a draft voucher with the original's lines in red (negative), linked to it.
    It is reviewed and posted like any other voucher; then the corrected voucher is entered."""
    policy.require(parent_org(original.book_id), "prepare", user=actor)
    if not original.is_posted:
        raise Conflict(_l("Only a posted voucher can be reversed."))
    if original.kind == VoucherKind.REVERSAL:
        raise Conflict(_l("A reversal is not reversed again; enter a new voucher instead."))
    if db.session.scalar(
        sa.select(Voucher.id).where(
            Voucher.reverses_id == original.id, Voucher.status != VoucherStatus.DISCARDED.value
        )
    ):
        raise Conflict(_l("Voucher %(number)s has already been reversed.", number=original.number))
    d = date or dt.date.today()
    data = VoucherInput(
        date=d,
        summary=summary
        or str(
            _l(
                "Reversal of %(number)s: %(summary)s",
                number=original.number,
                summary=original.summary,
            )
        )[:300],
        attachment_count=0,
        lines=[
            LineInput(
                account_id=ln.account_id,
                debit=-ln.debit,
                credit=-ln.credit,
                unit=ln.unit,
                fund_id=ln.fund_id,
                memo=ln.memo,
                resident_id=ln.resident_id,
                counterparty_org_id=ln.counterparty_org_id,
            )
            for ln in original.lines
        ],
    )
    checked = _validate(original.book, data, allow_negative=True)
    v = Voucher(
        community_id=original.community_id,
        book_id=original.book_id,
        date=d,
        summary=data.summary,
        attachment_count=0,
        status=VoucherStatus.DRAFT.value,
        kind=VoucherKind.REVERSAL.value,
        reverses_id=original.id,
        source="reversal",
        prepared_by_id=actor.id,
    )
    db.session.add(v)
    _set_lines(v, checked, original.book.base_unit)
    db.session.flush()
    _event(v, "created", actor, note=f"reverses {original.number}")
    db.session.flush()
    return v


def post_system_voucher(
    book: Book,
    data: VoucherInput,
    *,
    kind: VoucherKind,
    actor: User | None,
    source: str,
    allow_negative: bool = False,
    today: dt.date | None = None,
) -> Voucher:
    """Post a voucher the system computed or imported (closing entries, imports): it is
    approved by the rule that made it, recorded as such, and posted at once."""
    (vid,) = _post_new(
        book,
        [data],
        kind=kind,
        actor=actor,
        source=source,
        allow_negative=allow_negative,
        today=today,
        keyed=False,
    )
    return db.session.get_one(Voucher, vid)


def post_vouchers(
    book: Book,
    inputs: Sequence[VoucherInput],
    *,
    kind: VoucherKind = VoucherKind.NORMAL,
    source: str,
    actor: User | None,
    allow_negative: bool = False,
    today: dt.date | None = None,
    batch_size: int = 25_000,
    bulk: bool | None = None,
    parallel: bool | None = None,
) -> list[int]:
    """Post new vouchers, in order, that a rule or a domain workflow approved (an import, a
    billing run, dividends, closing): every voucher checked by the same rules as the entry
    form, numbered, logged and added to the balances by the one engine. One voucher is
    written with Core statements, many with executemany / COPY (``bulk`` forces either).

    Problems are reported together in one InvalidInput keyed ``vouchers.<i>.<field>`` (``i``
    counts from 0; at most 200 vouchers, then ``vouchers``); nothing is written unless every
    voucher passes. Returns the new ids in order."""
    return _post_new(
        book,
        inputs,
        kind=kind,
        source=source,
        actor=actor,
        allow_negative=allow_negative,
        today=today,
        batch_size=batch_size,
        bulk=bulk,
        parallel=parallel,
        keyed=True,
    )


def _post_new(book, inputs, *, kind, source, actor, keyed, **options) -> list[int]:
    ids = posting.post_new(
        book,
        inputs,
        kind=str(kind),
        source=source,
        actor_id=getattr(actor, "id", None),
        keyed=keyed,
        **options,
    )
    if ids and signals.voucher_posted.receivers:
        signals.voucher_posted.send(book, voucher_ids=ids, source=source, actor=actor)
    return ids


def check_vouchers(
    book: Book,
    inputs: Sequence[VoucherInput],
    *,
    kind: VoucherKind = VoucherKind.NORMAL,
    allow_negative: bool = False,
    today: dt.date | None = None,
) -> None:
    """The problems ``post_vouchers`` would find in ``inputs`` (the same InvalidInput), with
    nothing posted: an import that already failed reads on to name the rest of its problems."""
    posting.check_new(book, inputs, kind=str(kind), allow_negative=allow_negative, today=today)


def post_imported_vouchers(
    book: Book,
    inputs: Sequence[VoucherInput],
    *,
    actor: User | None = None,
    source: str = "import",
    kind: VoucherKind = VoucherKind.NORMAL,
    allow_negative: bool = False,
    batch_size: int = 25_000,
    parallel: bool | None = None,
) -> list[int]:
    """``post_vouchers`` with an import's defaults."""
    return post_vouchers(
        book,
        inputs,
        kind=kind,
        source=source,
        actor=actor,
        allow_negative=allow_negative,
        batch_size=batch_size,
        parallel=parallel,
    )
