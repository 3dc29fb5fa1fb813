# SPDX-License-Identifier: AGPL-3.0-or-later
"""HTML pages of the trust's governance (same blueprint as views.py): owners' votes, the
annual budget with its adjustments and budget against actual, public revenue (公共收益),
payments out of the fund with the supervisors' holds and the N-of-M signatures, arrears
reminders (催告) and escalations, the supervisors' findings and the monthly remuneration.

Every page calls the same services as the API (governance.py, services.py): no rule is written
twice here; a form only parses text into the services' arguments."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import flash as _flash
from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from core import audit, parse
from core.db import db
from core.errors import InvalidInput, NotFound
from core.models import User
from ledger import services as ledger
from ledger.entry import parse_amount_text
from ledger.models import Voucher
from ledger.views.common import STATUS_LABELS

from . import governance as gv
from . import services as pt
from .access import Seat, seat
from .models import (
    Budget,
    BudgetAdjustment,
    BudgetLine,
    Escalation,
    Expense,
    PublicRevenue,
    Reminder,
    RevenueDeduction,
    Signature,
    Unit,
    Vote,
)
from .views import ORG, _ctx, bp

VOTE_KINDS = {
    "ordinary": _l("Ordinary (more than half)"),
    "major": _l("Major (three quarters)"),
}
ESCALATION_LABELS = {
    "litigation": _l("Litigation"),
    "arbitration": _l("Arbitration"),
    "settled": _l("Settled"),
}
MAX_FORM_LINES = 50


def _fen(field: str, *, negative: bool = False) -> int:
    text = request.form.get(field, "")
    try:
        return parse_amount_text(text, 2, allow_negative=negative)
    except InvalidInput as err:
        raise InvalidInput(err.message, errors={field: [str(err.message)]}) from None


def _text(field: str, max_length: int) -> str:
    return parse.text(request.form.get(field, ""), field=field, max_length=max_length)


def _count(field: str) -> int:
    return parse.bounded_int(request.form.get(field, ""), 0, 10**9, field=field)


def _unit(s: Seat) -> Unit:
    assert s.compound is not None
    return pt.get_unit(s.compound, parse.int_id(request.form.get("unit_id"), field="unit_id"))


def _done(message: str, endpoint: str, org_id: int, **kw):
    _flash(message, "success")
    return redirect(url_for(endpoint, org_id=org_id, **kw))


# --- owners' votes ------------------------------------------------------------------------------


@bp.get(ORG + "/votes")
@login_required
def votes(org_id: int):
    """Every owners' vote with its tallies and the decision of ``votes.decide``."""
    s = seat(org_id, owners=True)
    assert s.compound is not None
    rows = db.session.scalars(
        sa.select(Vote)
        .where(Vote.compound_id == s.compound.id)
        .order_by(Vote.held_on.desc(), Vote.id.desc())
        .limit(200)
    ).all()
    area, owners = pt.compound_totals(s.compound)
    return render_template(
        "property_trust/votes.html",
        **_ctx(
            s,
            votes=[(v, gv.vote_decision(v)) for v in rows],
            area=area,
            owners=owners,
            vote_kinds=VOTE_KINDS,
            today=dt.date.today(),
        ),
    )


@bp.post(ORG + "/votes")
@login_required
def vote_create(org_id: int):
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    kind = request.form.get("kind", "")
    if kind not in VOTE_KINDS:
        raise InvalidInput(_l("A vote is ordinary or major."), errors={"kind": [_("Unknown.")]})
    v = gv.record_vote(
        s.compound,
        _text("subject", 300),
        kind,
        parse.date(request.form.get("held_on", ""), field="held_on"),
        voted_area=request.form.get("voted_area", ""),
        voted_owners=_count("voted_owners"),
        yes_area=request.form.get("yes_area", ""),
        yes_owners=_count("yes_owners"),
        actor=s.user,
    )
    audit.note(vote_id=v.id, passed=v.passed)
    message = _("The vote passed.") if v.passed else _("The vote did not pass.")
    return _done(message, ".votes", org_id)


# --- budgets ------------------------------------------------------------------------------------


@bp.get(ORG + "/budgets")
@login_required
def budgets(org_id: int):
    """The annual budget of a year: lines, budget against posted payments (the 决算 after the
    year's end) and every adjustment with its reason."""
    s = seat(org_id, owners=True)
    assert s.compound is not None
    today = dt.date.today()
    year = parse.year(request.args["year"], field="year") if "year" in request.args else today.year
    years = db.session.scalars(
        sa.select(Budget.year).where(Budget.compound_id == s.compound.id).order_by(Budget.year)
    ).all()
    budget = db.session.scalar(
        sa.select(Budget).where(Budget.compound_id == s.compound.id, Budget.year == year)
    )
    as_of = min(today, dt.date(year, 12, 31))
    rows = gv.budget_vs_actual(budget, as_of) if budget is not None else []
    adjustments: list = []
    if budget is not None:
        adjustments = list(
            db.session.execute(
                sa.select(BudgetAdjustment, BudgetLine.name)
                .join(BudgetLine, BudgetLine.id == BudgetAdjustment.line_id)
                .where(BudgetLine.budget_id == budget.id)
                .order_by(BudgetAdjustment.id)
            )
        )
    passed_votes = db.session.scalars(
        sa.select(Vote)
        .where(Vote.compound_id == s.compound.id, Vote.passed.is_(True))
        .order_by(Vote.held_on.desc())
        .limit(50)
    ).all()
    return render_template(
        "property_trust/budgets.html",
        **_ctx(
            s,
            year=year,
            years=years,
            budget=budget,
            vote=db.session.get(Vote, budget.vote_id) if budget and budget.vote_id else None,
            rows=rows,
            as_of=as_of,
            final=as_of < today,
            adjustments=adjustments,
            passed_votes=passed_votes,
            vote_kinds=VOTE_KINDS,
            expense_codes=gv.EXPENSE_CODES,
        ),
    )


def _budget_lines() -> list[tuple[str, str, int]]:
    """One line per row of the textarea: ``code name amount`` (amount in yuan)."""
    out = []
    rows = [r.strip() for r in request.form.get("lines", "").splitlines() if r.strip()]
    if len(rows) > MAX_FORM_LINES:
        raise InvalidInput(_l("A budget has at most %(n)d lines.", n=MAX_FORM_LINES))
    for n, row in enumerate(rows, 1):
        parts = row.split()
        if len(parts) < 3:
            raise InvalidInput(
                _l(
                    "Line %(n)d: write the category code, a name and the amount in yuan.",
                    n=n,
                ),
                errors={"lines": [_("Line %(n)d is incomplete.", n=n)]},
            )
        code, amount = parts[0], parts[-1]
        name = " ".join(parts[1:-1])
        try:
            fen = parse_amount_text(amount, 2)
        except InvalidInput as err:
            raise InvalidInput(
                _l("Line %(n)d: %(why)s", n=n, why=str(err.message)),
                errors={"lines": [str(err.message)]},
            ) from None
        out.append((code, parse.text(name, field="lines", max_length=200), fen))
    return out


@bp.post(ORG + "/budgets")
@login_required
def budget_create(org_id: int):
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    vote = db.session.get(Vote, parse.int_id(request.form.get("vote_id"), field="vote_id"))
    if vote is None or vote.compound_id != s.compound.id:
        raise NotFound(_l("No such vote in this compound."))
    year = parse.year(request.form.get("year", ""), field="year")
    b = gv.create_budget(s.compound, year, _budget_lines(), vote=vote, actor=s.user)
    audit.note(budget_id=b.id, year=year)
    return _done(_("The budget of %(year)d is recorded.", year=year), ".budgets", org_id, year=year)


@bp.post(ORG + "/budgets/adjustments")
@login_required
def budget_adjust(org_id: int):
    s = seat(org_id, *ledger.REVIEW_ROLES)
    assert s.compound is not None
    line = db.session.get(BudgetLine, parse.int_id(request.form.get("line_id"), field="line_id"))
    budget = db.session.get(Budget, line.budget_id) if line is not None else None
    if line is None or budget is None or budget.compound_id != s.compound.id:
        raise NotFound(_l("No such budget line in this compound."))
    adj = gv.adjust_budget_line(
        line, _fen("delta", negative=True), request.form.get("reason", ""), actor=s.user
    )
    audit.note(adjustment_id=adj.id)
    return _done(_("The adjustment is recorded."), ".budgets", org_id, year=budget.year)


# --- public revenue -----------------------------------------------------------------------------


@bp.get(ORG + "/revenue")
@login_required
def revenue(org_id: int):
    """The public-revenue ledger (TP-10): gross, documented deductions, repair-fund top-up."""
    s = seat(org_id, owners=True)
    assert s.compound is not None
    rows = db.session.scalars(
        sa.select(PublicRevenue)
        .where(PublicRevenue.compound_id == s.compound.id)
        .order_by(PublicRevenue.date.desc(), PublicRevenue.id.desc())
        .limit(200)
    ).all()
    deductions: dict[int, list[RevenueDeduction]] = {}
    if rows:
        for d in db.session.scalars(
            sa.select(RevenueDeduction)
            .where(RevenueDeduction.revenue_id.in_([r.id for r in rows]))
            .order_by(RevenueDeduction.id)
        ):
            deductions.setdefault(d.revenue_id, []).append(d)
    return render_template(
        "property_trust/revenue.html",
        **_ctx(
            s,
            rows=rows,
            deductions=deductions,
            today=dt.date.today(),
            totals=(sum(r.gross for r in rows), sum(r.deductions for r in rows)),
        ),
    )


@bp.post(ORG + "/revenue")
@login_required
def revenue_create(org_id: int):
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    deductions = []
    for i in range(3):
        desc = request.form.get(f"d{i}_description", "").strip()
        doc = request.form.get(f"d{i}_document", "").strip()
        amount = request.form.get(f"d{i}_amount", "").strip()
        if desc or doc or amount:
            deductions.append((desc, doc, _fen(f"d{i}_amount")))
    pr = pt.record_public_revenue(
        s.compound,
        request.form.get("kind", ""),
        parse.date(request.form.get("date", ""), field="date"),
        _fen("gross"),
        deductions=deductions,
        description=_text("description", 300),
        actor=s.user,
    )
    audit.note(revenue_id=pr.id)
    return _done(
        _("Public revenue of ¥%(amount)s booked as the owners' income.", amount=pt.yuan(pr.gross)),
        ".revenue",
        org_id,
    )


# --- payments out of the fund -------------------------------------------------------------------


@bp.get(ORG + "/expenses")
@login_required
def expenses(org_id: int):
    """Payments out of the trust fund: budget line, voucher status, a supervisor's hold and the
    N-of-M signatures, with the forms to prepare and sign."""
    s = seat(org_id)
    assert s.compound is not None
    c = s.compound
    rows = db.session.execute(
        sa.select(Expense, Voucher, BudgetLine)
        .join(Voucher, Voucher.id == Expense.voucher_id)
        .outerjoin(BudgetLine, BudgetLine.id == Expense.budget_line_id)
        .where(Expense.compound_id == c.id)
        .order_by(Voucher.date.desc(), Expense.id.desc())
        .limit(200)
    ).all()
    ids = [e.id for e, _v, _ln in rows]
    signers: dict[int, list[str]] = {}
    if ids:
        for expense_id, name in db.session.execute(
            sa.select(Signature.expense_id, User.username)
            .join(User, User.id == Signature.user_id)
            .where(Signature.expense_id.in_(ids))
            .order_by(Signature.id)
        ):
            signers.setdefault(expense_id, []).append(name)
    year = dt.date.today().year
    lines = db.session.execute(
        sa.select(BudgetLine, Budget.year)
        .join(Budget, Budget.id == BudgetLine.budget_id)
        .where(Budget.compound_id == c.id, Budget.year >= year - 1)
        .order_by(Budget.year.desc(), BudgetLine.account_code)
    ).all()
    return render_template(
        "property_trust/expenses.html",
        **_ctx(
            s,
            rows=[
                (
                    e,
                    v,
                    ln,
                    gv.is_held(v.id),
                    signers.get(e.id, []),
                    bool(c.committee_threshold and e.amount > c.committee_threshold),
                )
                for e, v, ln in rows
            ],
            lines=lines,
            today=dt.date.today(),
            expense_codes=gv.EXPENSE_CODES,
            status_labels=STATUS_LABELS,
        ),
    )


@bp.post(ORG + "/expenses")
@login_required
def expense_create(org_id: int):
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    line = None
    if request.form.get("budget_line_id", "").strip():
        line = db.session.get(
            BudgetLine, parse.int_id(request.form.get("budget_line_id"), field="budget_line_id")
        )
        budget = db.session.get(Budget, line.budget_id) if line is not None else None
        if line is None or budget is None or budget.compound_id != s.compound.id:
            raise NotFound(_l("No such budget line in this compound."))
    e = gv.prepare_expense(
        s.compound,
        account_code=request.form.get("account_code", ""),
        amount=_fen("amount"),
        day=parse.date(request.form.get("date", ""), field="date"),
        summary=_text("summary", 300),
        budget_line=line,
        emergency=bool(request.form.get("emergency")),
        actor=s.user,
    )
    audit.note(expense_id=e.id, voucher_id=e.voucher_id)
    message = (
        _("The payment is held for the supervisors first.")
        if gv.is_held(e.voucher_id)
        else _("The payment is submitted for review.")
    )
    return _done(message, ".expenses", org_id)


@bp.post(ORG + "/expenses/<id:expense_id>/sign")
@login_required
def expense_sign(org_id: int, expense_id: int):
    s = seat(org_id, *ledger.REVIEW_ROLES)
    assert s.compound is not None
    e = db.session.get(Expense, expense_id)
    if e is None or e.compound_id != s.compound.id:
        raise NotFound()
    sig = gv.sign_expense(e, actor=s.user)
    audit.note(signature_id=sig.id, expense_id=e.id)
    return _done(_("Signed."), ".expenses", org_id)


# --- arrears follow-up (催告) -------------------------------------------------------------------


@bp.get(ORG + "/reminders")
@login_required
def reminders(org_id: int):
    """The reminder log with deadlines and the escalations (staff who prepare only; logged)."""
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    c = s.compound
    arrears = pt.arrears_by_unit(c, dt.date.today(), actor=s.user)  # the look is logged
    log = db.session.execute(
        sa.select(Reminder, Unit)
        .join(Unit, Unit.id == Reminder.unit_id)
        .where(Reminder.compound_id == c.id)
        .order_by(Reminder.sent_on.desc(), Reminder.id.desc())
        .limit(300)
    ).all()
    escalations = db.session.execute(
        sa.select(Escalation, Unit)
        .join(Unit, Unit.id == Escalation.unit_id)
        .where(Escalation.compound_id == c.id)
        .order_by(Escalation.date.desc(), Escalation.id.desc())
        .limit(300)
    ).all()
    today = dt.date.today()
    return render_template(
        "property_trust/reminders.html",
        **_ctx(
            s,
            arrears=arrears,
            log=log,
            escalations=escalations,
            today=today,
            default_deadline=today + dt.timedelta(days=15),
            escalation_labels=ESCALATION_LABELS,
            unit_label=pt.unit_label,
        ),
    )


@bp.post(ORG + "/reminders")
@login_required
def reminder_create(org_id: int):
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    r = pt.add_reminder(
        s.compound,
        _unit(s),
        parse.date(request.form.get("sent_on", ""), field="sent_on"),
        parse.date(request.form.get("deadline", ""), field="deadline"),
        note=_text("note", 300),
        actor=s.user,
    )
    audit.note(reminder_id=r.id)
    return _done(
        _("Reminder recorded: ¥%(amount)s owed.", amount=pt.yuan(r.amount)), ".reminders", org_id
    )


@bp.post(ORG + "/escalations")
@login_required
def escalation_create(org_id: int):
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    e = pt.escalate(
        s.compound,
        _unit(s),
        request.form.get("status", ""),
        parse.date(request.form.get("date", ""), field="date"),
        note=_text("note", 300),
        actor=s.user,
    )
    audit.note(escalation_id=e.id)
    return _done(_("Escalation recorded."), ".reminders", org_id)


# --- supervisors' findings and the remuneration -------------------------------------------------


@bp.post(ORG + "/findings")
@login_required
def finding(org_id: int):
    """A supervisor's finding for a month's owners' statement."""
    s = seat(org_id, "supervisor")
    assert s.compound is not None
    month = parse.month(request.form.get("month", ""), field="month")
    gv.supervise(
        s.compound, "finding", text=request.form.get("text", ""), month=month, actor=s.user
    )
    return _done(_("Finding recorded."), ".statement", org_id, year=month.year, month=month.month)


@bp.post(ORG + "/remuneration")
@login_required
def remuneration(org_id: int):
    """The month's remuneration, computed from the books and posted (once per month)."""
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    month = parse.month(request.form.get("month", ""), field="month")
    r = gv.run_remuneration(s.compound, month, actor=s.user)
    audit.note(remuneration_id=r.id, month=str(month))
    return _done(
        _("Remuneration of %(month)s: ¥%(amount)s.", month=str(month), amount=pt.yuan(r.amount)),
        ".statement",
        org_id,
        year=month.year,
        month=month.month,
    )


# --- settings: fee schedule, remuneration terms, approval chain, units ---------------------------


@bp.get(ORG + "/settings")
@login_required
def settings(org_id: int):
    """The compound's fee schedule, remuneration terms, approval chain and units (staff)."""
    from .models import FeeRate, TrustArrangement, TrustSupervisor

    s = seat(org_id)
    assert s.compound is not None
    c = s.compound
    rates = db.session.scalars(
        sa.select(FeeRate)
        .where(FeeRate.compound_id == c.id)
        .order_by(FeeRate.effective_from.desc(), FeeRate.id.desc())
    ).all()
    units = db.session.scalar(sa.select(sa.func.count(Unit.id)).where(Unit.compound_id == c.id))
    area, owners = pt.compound_totals(c)
    return render_template(
        "property_trust/settings.html",
        **_ctx(
            s,
            rates=rates,
            units=units,
            area=area,
            owners=owners,
            arrangement=db.session.scalar(
                sa.select(TrustArrangement).where(TrustArrangement.compound_id == c.id)
            ),
            supervisors=db.session.scalars(
                sa.select(TrustSupervisor).where(TrustSupervisor.compound_id == c.id)
            ).all(),
            passed_votes=db.session.scalars(
                sa.select(Vote)
                .where(Vote.compound_id == c.id, Vote.passed.is_(True))
                .order_by(Vote.held_on.desc())
                .limit(50)
            ).all(),
            vote_kinds=VOTE_KINDS,
            today=dt.date.today(),
        ),
    )


def _optional_fen(field: str) -> int | None:
    return _fen(field) if request.form.get(field, "").strip() else None


@bp.post(ORG + "/settings/fees")
@login_required
def fee_rate(org_id: int):
    s = seat(org_id, "admin")
    assert s.compound is not None
    unit_type = _text("unit_type", 20) or "residential"
    fr = pt.set_fee_rate(
        s.compound,
        unit_type,
        request.form.get("rate", ""),
        parse.date(request.form.get("effective_from", ""), field="effective_from"),
        actor=s.user,
    )
    audit.note(fee_rate_id=fr.id)
    return _done(_("The fee rate is recorded."), ".settings", org_id)


@bp.post(ORG + "/settings/remuneration")
@login_required
def remuneration_terms(org_id: int):
    from decimal import Decimal, InvalidOperation

    s = seat(org_id, "admin")
    assert s.compound is not None
    rate = None
    text = request.form.get("rate", "").strip()
    if text:
        try:
            rate = Decimal(text) / 100
        except InvalidOperation:
            raise InvalidInput(
                _l("%(value)s is not a percentage.", value=text[:20]),
                errors={"rate": [_("Not a percentage.")]},
            ) from None
        if not rate.is_finite() or not (0 <= rate <= 1):
            raise InvalidInput(
                _l("%(value)s is not a percentage.", value=text[:20]),
                errors={"rate": [_("Not a percentage.")]},
            )
    vote = None
    if request.form.get("vote_id", "").strip():
        vote = db.session.get(Vote, parse.int_id(request.form.get("vote_id"), field="vote_id"))
        if vote is None or vote.compound_id != s.compound.id:
            raise NotFound(_l("No such vote in this compound."))
    gv.set_remuneration(
        s.compound,
        request.form.get("mode", ""),
        rate=rate,
        fixed=_optional_fen("fixed"),
        cap=_optional_fen("cap"),
        floor=_optional_fen("floor"),
        vote=vote,
        actor=s.user,
    )
    audit.note(remuneration_mode=s.compound.remuneration_mode)
    return _done(_("The remuneration terms are recorded."), ".settings", org_id)


@bp.post(ORG + "/settings/approvals")
@login_required
def approval_chain(org_id: int):
    s = seat(org_id, "admin")
    assert s.compound is not None
    gv.set_approval_chain(
        s.compound,
        committee_threshold=_fen("committee_threshold"),
        signatories_required=parse.bounded_int(
            request.form.get("signatories_required", ""), 1, 20, field="signatories_required"
        ),
        signatories_total=parse.bounded_int(
            request.form.get("signatories_total", ""), 1, 20, field="signatories_total"
        ),
        supervisor_review=request.form.get("supervisor_review", ""),
        budget_vote_kind=request.form.get("budget_vote_kind", ""),
        actor=s.user,
    )
    audit.note(settings="approval chain")
    return _done(_("The approval chain is recorded."), ".settings", org_id)


@bp.post(ORG + "/units")
@login_required
def unit_create(org_id: int):
    """A unit with its exclusive area and its owners (resident numbers of the community's
    register, the first one billed; co-owners allowed)."""
    from core.models import Resident

    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    ids = [x for x in request.form.get("owner_ids", "").replace("，", ",").split(",") if x.strip()]
    if not ids or len(ids) > 10:
        raise InvalidInput(
            _l("A unit has one to ten owners (resident numbers, separated by commas)."),
            errors={"owner_ids": [_("Required.")]},
        )
    owners = []
    for raw in ids:
        r = db.session.get(Resident, parse.int_id(raw, field="owner_ids"))
        if r is None or r.community_id != s.compound.community_id:
            raise NotFound(_l("No such resident in this community."))
        owners.append(r)
    u = pt.add_unit(
        s.compound,
        _text("building", 50),
        _text("number", 30),
        area=request.form.get("area", ""),
        unit_type=_text("unit_type", 20) or "residential",
        owners=owners,
        actor=s.user,
    )
    audit.note(unit_id=u.id)
    return _done(_("Unit %(unit)s added.", unit=pt.unit_label(u)), ".settings", org_id)
