# SPDX-License-Identifier: AGPL-3.0-or-later
"""Owners' votes, budgets, payments out of the trust fund, supervision and remuneration.

Payments out of the fund use the ledger's ordinary approval flow (draft → submitted → approved
→ posted, four eyes): the trustee's preparer drafts, the reviewer (业委会) approves. This module
adds only what the trust needs on top, and enforces it through the ledger's ``voucher_posting``
signal: a voucher a supervisor holds, or one above the committee threshold without its N-of-M
signatures, cannot be posted. Every payment references a budget line; an unbudgeted one is
refused unless marked emergency, and an emergency goes to the supervisors first (held).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.auth import require_role
from core.db import db
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Role, User
from core.months import Month
from ledger import services as ledger
from ledger import signals
from ledger.models import Book, Voucher, VoucherStatus

from . import remuneration as rem
from .models import (
    Budget,
    BudgetAdjustment,
    BudgetLine,
    Compound,
    Expense,
    Payment,
    PublicRevenue,
    RemunerationRun,
    Signature,
    SupervisorNote,
    Vote,
)
from .services import (
    BANK,
    _closed_check,
    _require,
    account_id,
    book_of,
    compound_for_book,
    compound_totals,
    organisation_of,
    yuan,
)
from .votes import VoteKind, decide

EXPENSE_CODES = ("5101", "5102", "5103", "5104", "5105", "5106", "5107", "5108", "5109")
NOTE_ACTIONS = ("comment", "flag", "hold", "release", "finding")


# --- votes ----------------------------------------------------------------------------------


def record_vote(
    compound: Compound,
    subject: str,
    kind: str,
    held_on: dt.date,
    *,
    voted_area,
    voted_owners: int,
    yes_area,
    yes_owners: int,
    actor: User,
) -> Vote:
    """An owners' vote with its tallies by area and by headcount, decided by ``votes.decide``
    against the compound's exclusive area and owners."""
    _require(compound, "prepare", actor)
    subject = (subject or "").strip()
    if not subject:
        raise InvalidInput(_l("Say what the vote was about."), errors={"subject": ["Required."]})
    total_area, total_owners = compound_totals(compound)
    d = decide(kind, total_area, total_owners, voted_area, voted_owners, yes_area, yes_owners)
    v = Vote(
        community_id=compound.community_id,
        compound_id=compound.id,
        subject=subject[:300],
        kind=str(d.kind),
        held_on=held_on,
        total_area=total_area,
        total_owners=total_owners,
        voted_area=Decimal(str(voted_area)),
        voted_owners=voted_owners,
        yes_area=Decimal(str(yes_area)),
        yes_owners=yes_owners,
        quorum_met=d.quorum_met,
        passed=d.passed,
        created_by_id=actor.id,
    )
    db.session.add(v)
    db.session.flush()
    return v


def vote_decision(v: Vote):
    return decide(
        v.kind, v.total_area, v.total_owners, v.voted_area, v.voted_owners, v.yes_area, v.yes_owners
    )


# --- budgets ----------------------------------------------------------------------------------


def create_budget(
    compound: Compound,
    year: int,
    lines: list[tuple[str, str, int]],
    *,
    actor: User,
    vote: Vote | None = None,
    expected_collection_rate: Decimal = Decimal("0.95"),
) -> Budget:
    """The annual budget (TP-7): lines by TP-6 category, approved by a passed owners' vote of
    the kind the compound's setting names (ordinary by default)."""
    _require(compound, "prepare", actor)
    if db.session.scalar(
        sa.select(Budget.id).where(Budget.compound_id == compound.id, Budget.year == year)
    ):
        raise Conflict(_l("The compound already has a budget for %(year)d.", year=year))
    if vote is None or vote.compound_id != compound.id or not vote.passed:
        raise Conflict(_l("A budget is approved by a passed owners' vote of this compound."))
    if vote.kind != compound.budget_vote_kind:
        raise Conflict(
            _l(
                "This compound's budget needs a %(needed)s vote; the vote was %(kind)s.",
                needed=compound.budget_vote_kind,
                kind=vote.kind,
            )
        )
    if not lines:
        raise InvalidInput(_l("A budget needs at least one line."))
    for code, _name, amount in lines:
        if code not in EXPENSE_CODES and code != "5901":
            raise InvalidInput(
                _l("Budget line %(code)s is not an expense category of the trust book.", code=code)
            )
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InvalidInput(_l("A budget line is a non-negative amount."))
    b = Budget(
        community_id=compound.community_id,
        compound_id=compound.id,
        year=year,
        vote_id=vote.id,
        expected_collection_rate=expected_collection_rate,
    )
    db.session.add(b)
    db.session.flush()
    for code, name, amount in lines:
        db.session.add(
            BudgetLine(
                community_id=compound.community_id,
                budget_id=b.id,
                account_code=code,
                name=name.strip()[:200],
                amount=amount,
            )
        )
    db.session.flush()
    return b


def adjust_budget_line(
    line: BudgetLine, delta: int, reason: str, *, actor: User, vote: Vote | None = None
) -> BudgetAdjustment:
    """可依法调整: a recorded adjustment with its reason; a line never goes below zero."""
    budget = db.session.get_one(Budget, line.budget_id)
    compound = db.session.get_one(Compound, budget.compound_id)
    _require(compound, "review", actor)
    if not (reason or "").strip():
        raise InvalidInput(
            _l("A budget adjustment states its reason."), errors={"reason": ["Required."]}
        )
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise InvalidInput(_l("An adjustment changes the line by a non-zero amount."))
    if line.amount + delta < 0:
        raise InvalidInput(
            _l(
                "The line has ¥%(amount)s; lowering it by ¥%(delta)s would make it negative.",
                amount=yuan(line.amount),
                delta=yuan(-delta),
            )
        )
    adj = BudgetAdjustment(
        community_id=line.community_id,
        line_id=line.id,
        delta=delta,
        reason=reason.strip()[:500],
        vote_id=getattr(vote, "id", None),
        created_by_id=actor.id,
    )
    line.amount += delta
    db.session.add(adj)
    db.session.flush()
    return adj


def line_spent(line: BudgetLine) -> int:
    """What payments drafted against the line commit (discarded vouchers do not count)."""
    return int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Expense.amount), 0))
            .join(Voucher, Voucher.id == Expense.voucher_id)
            .where(
                Expense.budget_line_id == line.id,
                Voucher.status != VoucherStatus.DISCARDED.value,
            )
        )
        or 0
    )


@dataclass
class BudgetRow:
    line: BudgetLine
    budget: int
    actual: int  # posted payments up to the date

    @property
    def remaining(self) -> int:
        return self.budget - self.actual


def budget_vs_actual(budget: Budget, as_of: dt.date) -> list[BudgetRow]:
    """Budget against the books up to ``as_of`` (the year-end 决算 at 31 December): each line
    gets the posted payments that reference it; what the category's account moved besides
    those (the monthly remuneration on 5901, a voucher entered in the ledger directly) goes to
    the category's first line, so each category's actual is the ledger's."""
    from ledger.reports.balances import Filters, range_sums

    compound = db.session.get_one(Compound, budget.compound_id)
    book = book_of(compound)
    rows = []
    for line in budget.lines:
        actual = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Expense.amount), 0))
            .join(Voucher, Voucher.id == Expense.voucher_id)
            .where(
                Expense.budget_line_id == line.id,
                Voucher.status == VoucherStatus.POSTED.value,
                Voucher.date >= dt.date(budget.year, 1, 1),
                Voucher.date <= as_of,
            )
        )
        rows.append(BudgetRow(line=line, budget=line.amount, actual=int(actual or 0)))
    start = dt.date(budget.year, 1, 1)
    if as_of < start:
        return rows
    codes = sorted({r.line.account_code for r in rows})
    ids = {account_id(book, code): code for code in codes}
    booked: dict[str, int] = {}
    for (acc, *_rest), (dr, cr) in range_sums(
        book, start, as_of, Filters(account_ids=list(ids)), exclude_closing=True
    ).items():
        booked[ids[acc]] = booked.get(ids[acc], 0) + dr - cr
    for code in codes:
        of_code = [r for r in rows if r.line.account_code == code]
        of_code[0].actual += booked.get(code, 0) - sum(r.actual for r in of_code)
    return rows


# --- payments out of the fund -----------------------------------------------------------------


def prepare_expense(
    compound: Compound,
    *,
    account_code: str,
    amount: int,
    day: dt.date,
    summary: str,
    actor: User,
    budget_line: BudgetLine | None = None,
    emergency: bool = False,
    attachment_count: int = 0,
    submit: bool = True,
) -> Expense:
    """A payment out of the trust fund (Dr the TP-6 category, Cr 1002) as a draft voucher
    submitted for review in the ledger's ordinary flow. It must reference a budget line with
    enough left, unless marked emergency: then it goes to the supervisors first (held)."""
    _require(compound, "prepare", actor)
    if account_code not in EXPENSE_CODES:
        raise InvalidInput(
            _l("%(code)s is not an expense category (TP-6) of the trust book.", code=account_code),
            errors={"account_code": [str(_l("Unknown."))]},
        )
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput(_l("A payment is a positive amount."))
    book = book_of(compound)
    _closed_check(book, day, _l("a payment"))
    if budget_line is not None:
        budget = db.session.get_one(Budget, budget_line.budget_id)
        if budget.compound_id != compound.id:
            raise NotFound(_l("No such budget line in this compound."))
        if budget.year != day.year:
            raise InvalidInput(
                _l(
                    "The budget line is of %(year)d; the payment is dated %(date)s.",
                    year=budget.year,
                    date=day.isoformat(),
                )
            )
        left = budget_line.amount - line_spent(budget_line)
        if amount > left and not emergency:
            raise InvalidInput(
                _l(
                    "无预算不支出: the payment of ¥%(amount)s exceeds what is left on budget line "
                    "“%(line)s” (¥%(left)s). Adjust the budget first, or mark it an emergency.",
                    amount=yuan(amount),
                    line=budget_line.name,
                    left=yuan(left),
                ),
                errors={"amount": [str(_l("Over budget."))]},
            )
    elif not emergency:
        raise InvalidInput(
            _l(
                "无预算不支出: a payment of ¥%(amount)s must reference a budget line, unless it "
                "is an emergency (which goes to the supervisors first).",
                amount=yuan(amount),
            ),
            errors={"budget_line": [str(_l("Required."))]},
        )
    data = ledger.VoucherInput(
        date=day,
        summary=(summary or "").strip()[:300],
        attachment_count=attachment_count,
        lines=[
            ledger.LineInput(account_id=account_id(book, account_code), debit=amount),
            ledger.LineInput(account_id=account_id(book, BANK), credit=amount),
        ],
    )
    voucher = ledger.create_voucher(book, data, actor=actor, source="property_expense")
    if submit:  # else the preparer attaches the invoice first, then submits
        ledger.submit_voucher(voucher, actor=actor)
    e = Expense(
        community_id=compound.community_id,
        compound_id=compound.id,
        budget_line_id=getattr(budget_line, "id", None),
        emergency=emergency,
        amount=amount,
        voucher_id=voucher.id,
        created_by_id=actor.id,
    )
    db.session.add(e)
    db.session.flush()
    if emergency:
        _note(compound, voucher.id, "hold", str(_l("Emergency payment: supervisors first.")), None)
    elif compound.supervisor_review == "before":
        _note(compound, voucher.id, "hold", str(_l("Supervisor review before payment.")), None)
    return e


def sign_expense(expense: Expense, *, actor: User) -> Signature:
    """One of the N-of-M signatories on the common-fund account signs the payment."""
    compound = db.session.get_one(Compound, expense.compound_id)
    _require(compound, "review", actor)
    if db.session.scalar(
        sa.select(Signature.id).where(
            Signature.expense_id == expense.id, Signature.user_id == actor.id
        )
    ):
        raise Conflict(_l("You have already signed this payment."))
    s = Signature(community_id=expense.community_id, expense_id=expense.id, user_id=actor.id)
    db.session.add(s)
    db.session.flush()
    return s


# --- supervision ------------------------------------------------------------------------------


def _note(
    compound: Compound,
    voucher_id: int | None,
    action: str,
    text: str,
    user: User | None,
    month: int | None = None,
) -> SupervisorNote:
    n = SupervisorNote(
        community_id=compound.community_id,
        compound_id=compound.id,
        voucher_id=voucher_id,
        month=month,
        action=action,
        text=text[:1000],
        user_id=getattr(user, "id", None),
    )
    db.session.add(n)
    db.session.flush()
    return n


def supervise(
    compound: Compound,
    action: str,
    *,
    actor: User,
    voucher: Voucher | None = None,
    text: str = "",
    month: Month | None = None,
) -> SupervisorNote:
    """A supervisor (监察人) comments on, flags, holds or releases a voucher, or records a
    finding for a month's owners' statement."""
    require_role(organisation_of(compound), Role.SUPERVISOR, user=actor)
    if action not in NOTE_ACTIONS:
        raise InvalidInput(_l("Unknown supervision action."), errors={"action": ["Unknown."]})
    text = (text or "").strip()
    if action in ("flag", "hold", "finding") and not text:
        raise InvalidInput(
            _l("Say why: a flag, hold or finding states its reason."),
            errors={"text": [str(_l("Required."))]},
        )
    if action == "finding":
        if month is None:
            raise InvalidInput(_l("A finding belongs to a month's statement."))
        return _note(compound, None, action, text, actor, month=month.key)
    if voucher is None or voucher.book_id != book_of(compound).id:
        raise NotFound(_l("No such voucher in this book."))
    held = is_held(voucher.id)
    if action == "hold":
        if voucher.status == VoucherStatus.POSTED.value:
            raise Conflict(_l("A posted voucher cannot be held; flag it instead."))
        if held:
            raise Conflict(_l("The voucher is already held."))
    if action == "release" and not held:
        raise Conflict(_l("The voucher is not held."))
    return _note(compound, voucher.id, action, text, actor)


def is_held(voucher_id: int) -> bool:
    last = db.session.scalar(
        sa.select(SupervisorNote.action)
        .where(
            SupervisorNote.voucher_id == voucher_id,
            SupervisorNote.action.in_(("hold", "release")),
        )
        .order_by(SupervisorNote.id.desc())
        .limit(1)
    )
    return last == "hold"


def notes_for(voucher_id: int) -> list[SupervisorNote]:
    return list(
        db.session.scalars(
            sa.select(SupervisorNote)
            .where(SupervisorNote.voucher_id == voucher_id)
            .order_by(SupervisorNote.id)
        )
    )


def _refuse_held_or_unsigned(book: Book, *, voucher: Voucher, actor=None, **_kw) -> None:
    """Receiver of ``ledger.signals.voucher_posting``: a held voucher is not posted, nor a
    payment above the committee threshold without its N-of-M signatures."""
    if book.standard != "TRUST_FUND":
        return  # a compound is only ever made on a trust-fund book (create_compound): no query
    compound = compound_for_book(book)
    if compound is None:
        return
    if is_held(voucher.id):
        raise Conflict(
            _l("Voucher held by a supervisor: it cannot be posted until a supervisor releases it.")
        )
    e = db.session.scalar(sa.select(Expense).where(Expense.voucher_id == voucher.id))
    if e is not None and compound.committee_threshold and e.amount > compound.committee_threshold:
        signed = db.session.scalar(
            sa.select(sa.func.count(Signature.id)).where(Signature.expense_id == e.id)
        )
        if (signed or 0) < compound.signatories_required:
            raise Conflict(
                _l(
                    "A payment above ¥%(threshold)s needs %(n)d of %(m)d signatures; it has %(signed)d.",
                    threshold=yuan(compound.committee_threshold),
                    n=compound.signatories_required,
                    m=compound.signatories_total,
                    signed=signed or 0,
                )
            )


def install() -> None:
    signals.voucher_posting.connect(_refuse_held_or_unsigned)


# --- remuneration -----------------------------------------------------------------------------


def run_remuneration(compound: Compound, month: Month, *, actor: User | None) -> RemunerationRun:
    """The month's 酬金 from the books (fees collected that month, plus the month's net public
    revenue where the mode includes it and an owners' resolution allows it), posted as a system
    voucher (Dr 5901 / Cr 220901). Once per month."""
    if actor is not None:
        _require(compound, "prepare", actor)
    if db.session.scalar(
        sa.select(RemunerationRun.id).where(
            RemunerationRun.compound_id == compound.id, RemunerationRun.month == month.key
        )
    ):
        raise Conflict(
            _l("The remuneration of %(month)s has already been posted.", month=str(month))
        )
    mode = rem.Mode(compound.remuneration_mode)
    if mode is rem.Mode.PCT_INCL_PUBLIC_REVENUE:
        vote = (
            db.session.get(Vote, compound.remuneration_vote_id)
            if compound.remuneration_vote_id
            else None
        )
        if vote is None or not vote.passed or vote.compound_id != compound.id:
            raise Conflict(
                _l(
                    "TP-5: remuneration on public revenue (PCT_INCL_PUBLIC_REVENUE) needs a "
                    "recorded, passed owners' resolution; this compound has none."
                )
            )
    first, last = month.first_day, month.last_day
    collected = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0)).where(
            Payment.compound_id == compound.id, Payment.date.between(first, last)
        )
    )
    public = db.session.scalar(
        sa.select(
            sa.func.coalesce(sa.func.sum(PublicRevenue.gross - PublicRevenue.deductions), 0)
        ).where(PublicRevenue.compound_id == compound.id, PublicRevenue.date.between(first, last))
    )
    try:
        calc = rem.calculate(
            mode,
            collected_fees=int(collected or 0),
            public_revenue=int(public or 0),
            rate=Decimal(compound.remuneration_rate)
            if compound.remuneration_rate is not None
            else None,
            fixed=compound.remuneration_fixed,
            cap=compound.remuneration_cap,
            floor=compound.remuneration_floor,
        )
    except ValueError as err:
        raise Conflict(
            _l("The compound's remuneration settings are incomplete: %(why)s", why=str(err))
        ) from None
    book = book_of(compound)
    vid = None
    if calc.amount:
        (vid,) = ledger.post_vouchers(
            book,
            [
                ledger.VoucherInput(
                    date=last,
                    summary=str(_l("Property manager's remuneration %(month)s", month=str(month))),
                    lines=[
                        ledger.LineInput(account_id=account_id(book, "5901"), debit=calc.amount),
                        ledger.LineInput(account_id=account_id(book, "220901"), credit=calc.amount),
                    ],
                )
            ],
            source="property_remun",
            actor=actor,
        )
    r = RemunerationRun(
        community_id=compound.community_id,
        compound_id=compound.id,
        month=month.key,
        mode=str(mode),
        collected_fees=int(collected or 0),
        public_revenue=int(public or 0) if mode is rem.Mode.PCT_INCL_PUBLIC_REVENUE else 0,
        base=calc.base,
        rate=calc.rate,
        product=calc.product,
        floor=calc.floor,
        cap=calc.cap,
        bound=calc.bound,
        amount=calc.amount,
        voucher_id=vid,
    )
    db.session.add(r)
    db.session.flush()
    return r


def set_remuneration(
    compound: Compound,
    mode: str,
    *,
    actor: User,
    rate: Decimal | None = None,
    fixed: int | None = None,
    cap: int | None = None,
    floor: int | None = None,
    vote: Vote | None = None,
) -> Compound:
    """The contract's remuneration terms; PCT_INCL_PUBLIC_REVENUE only with a passed resolution."""
    _require(compound, "manage", actor)
    try:
        m = rem.Mode(mode)
        rem.calculate(m, collected_fees=0, rate=rate, fixed=fixed, cap=cap, floor=floor)
    except ValueError as err:
        raise InvalidInput(
            _l("The remuneration terms are incomplete: %(why)s", why=str(err))
        ) from None
    if m is rem.Mode.PCT_INCL_PUBLIC_REVENUE and (
        vote is None or not vote.passed or vote.compound_id != compound.id
    ):
        raise InvalidInput(
            _l(
                "TP-5: remuneration on public revenue (PCT_INCL_PUBLIC_REVENUE) needs a recorded, "
                "passed owners' resolution."
            ),
            errors={"vote": [str(_l("Required."))]},
        )
    compound.remuneration_mode = str(m)
    compound.remuneration_rate = rate
    compound.remuneration_fixed = fixed
    compound.remuneration_cap = cap
    compound.remuneration_floor = floor
    compound.remuneration_vote_id = getattr(vote, "id", None)
    db.session.flush()
    return compound


__all__ = ["VoteKind"]


def set_approval_chain(
    compound: Compound,
    *,
    actor: User,
    committee_threshold: int,
    signatories_required: int,
    signatories_total: int,
    supervisor_review: str,
    budget_vote_kind: str,
) -> Compound:
    """The compound's approval chain (TP-4, TP-9) and the kind of its budget votes (TP-8):
    above ``committee_threshold`` (fen; 0: never) a payment needs N of M signatures; the
    supervisors review before or after payment."""
    _require(compound, "manage", actor)
    if isinstance(committee_threshold, bool) or committee_threshold < 0:
        raise InvalidInput(
            _l("The committee threshold is an amount of zero or more."),
            errors={"committee_threshold": [str(_l("Not an amount."))]},
        )
    if not (1 <= signatories_required <= signatories_total <= 20):
        raise InvalidInput(
            _l(
                "N of M signatures: 1 ≤ N ≤ M ≤ 20; %(n)d of %(m)d is not.",
                n=signatories_required,
                m=signatories_total,
            ),
            errors={"signatories_required": [str(_l("Out of range."))]},
        )
    if supervisor_review not in ("before", "after"):
        raise InvalidInput(
            _l("Supervisors review before or after payment."),
            errors={"supervisor_review": [str(_l("Unknown."))]},
        )
    if budget_vote_kind not in tuple(VoteKind):
        raise InvalidInput(
            _l("A budget vote is ordinary or major."),
            errors={"budget_vote_kind": [str(_l("Unknown."))]},
        )
    compound.committee_threshold = committee_threshold
    compound.signatories_required = signatories_required
    compound.signatories_total = signatories_total
    compound.supervisor_review = supervisor_review
    compound.budget_vote_kind = budget_vote_kind
    db.session.flush()
    return compound
