# SPDX-License-Identifier: AGPL-3.0-or-later
"""JSON API of the property trust under /api/v1/organisations/<org>/property: the compound,
billing runs, payments, aggregate arrears, votes, remuneration, supervision, the monthly
statement and the unit-balance check. Writes take an ``Idempotency-Key`` header."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from core import audit, parse
from core.db import db
from core.errors import NotFound
from core.idempotency import OPENAPI_PARAMETER, idempotent
from core.months import Month
from ledger import services as ledger
from ledger.entry import parse_amount_text

from . import governance as gv
from . import services as pt
from .access import seat
from .statement import monthly_statement, snapshot

blp = Blueprint(
    "property_api",
    __name__,
    url_prefix="/api/v1",
    description="Property trust (信托制物业): bills, payments, votes, supervision",
)
BASE = "/organisations/<id:org_id>/property"


def _write(view):
    return idempotent(blp.doc(parameters=[OPENAPI_PARAMETER])(view))


class MonthIn(ma.Schema):
    month = ma.fields.String(required=True, validate=ma.validate.Length(max=7))


class FeePaymentIn(ma.Schema):
    unit_id = ma.fields.Integer(required=True, strict=True)
    amount = ma.fields.String(required=True, validate=ma.validate.Length(max=40))
    date = ma.fields.Date(required=True)
    advance = ma.fields.Boolean(load_default=False)


class VoteIn(ma.Schema):
    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=300))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(["major", "ordinary"]))
    held_on = ma.fields.Date(required=True)
    voted_area = ma.fields.Decimal(required=True, as_string=True)
    voted_owners = ma.fields.Integer(required=True, strict=True)
    yes_area = ma.fields.Decimal(required=True, as_string=True)
    yes_owners = ma.fields.Integer(required=True, strict=True)


class SuperviseIn(ma.Schema):
    action = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["comment", "flag", "hold", "release"])
    )
    text = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))


def _month(text: str) -> Month:
    return parse.month(text, field="month")


def _ageing_out(a: pt.Ageing) -> dict:
    return {
        "as_of": a.as_of.isoformat(),
        "buckets": {
            "0-30": a.buckets[0],
            "31-90": a.buckets[1],
            "91-180": a.buckets[2],
            "over-180": a.buckets[3],
        },
        "households": a.households,
        "total": a.total,
        "billed": a.billed,
        "collected": a.collected,
        "collection_rate": str(a.collection_rate) if a.collection_rate is not None else None,
    }


@blp.get(BASE)
@blp.response(200)
def compound(org_id: int):
    """The compound: units, area, owners, remuneration terms, aggregate arrears today."""
    import datetime as dt

    s = seat(org_id)
    assert s.compound is not None
    c = s.compound
    area, owners = pt.compound_totals(c)
    return {
        "id": c.id,
        "name": c.name,
        "area": str(area),
        "owners": owners,
        "budget_vote_kind": c.budget_vote_kind,
        "remuneration": {
            "mode": c.remuneration_mode,
            "rate": str(c.remuneration_rate) if c.remuneration_rate is not None else None,
            "fixed": c.remuneration_fixed,
            "cap": c.remuneration_cap,
            "floor": c.remuneration_floor,
        },
        "arrears": _ageing_out(pt.ageing(c, dt.date.today())),
    }


@blp.post(BASE + "/bills")
@_write
@blp.arguments(MonthIn)
@blp.response(201)
def bill(data: dict, org_id: int):
    """The monthly billing run (once per month)."""
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    res = pt.bill_month(s.compound, _month(data["month"]), actor=s.user)
    audit.note(month=data["month"], bills=res.bills)
    return {
        "month": data["month"],
        "bills": res.bills,
        "total": res.total,
        "from_advance": res.from_advance,
    }


@blp.post(BASE + "/payments")
@_write
@blp.arguments(FeePaymentIn)
@blp.response(201)
def payment(data: dict, org_id: int):
    """A payment for a unit: full, partial, or with an advance when ``advance`` is true."""
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    unit = pt.get_unit(s.compound, data["unit_id"])
    p = pt.record_payment(
        s.compound,
        unit,
        parse_amount_text(data["amount"], 2),
        data["date"],
        actor=s.user,
        advance=data["advance"],
    )
    return {"id": p.id, "amount": p.amount, "advance": p.advance, "voucher_id": p.voucher_id}


@blp.get(BASE + "/arrears")
@blp.response(200)
def arrears(org_id: int):
    """Aggregate arrears (ageing buckets, households, total, collection rate)."""
    import datetime as dt

    s = seat(org_id)
    assert s.compound is not None
    return _ageing_out(pt.ageing(s.compound, dt.date.today()))


@blp.post(BASE + "/votes")
@_write
@blp.arguments(VoteIn)
@blp.response(201)
def vote(data: dict, org_id: int):
    """An owners' vote, decided by ``property_trust.votes.decide``."""
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    v = gv.record_vote(
        s.compound,
        data["subject"],
        data["kind"],
        data["held_on"],
        voted_area=data["voted_area"],
        voted_owners=data["voted_owners"],
        yes_area=data["yes_area"],
        yes_owners=data["yes_owners"],
        actor=s.user,
    )
    d = gv.vote_decision(v)
    return {
        "id": v.id,
        "kind": v.kind,
        "passed": v.passed,
        "quorum_met": v.quorum_met,
        "reasons": [str(r) for r in d.reasons],
    }


@blp.post(BASE + "/remuneration")
@_write
@blp.arguments(MonthIn)
@blp.response(201)
def remuneration(data: dict, org_id: int):
    """The month's remuneration, computed from the books and posted."""
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    r = gv.run_remuneration(s.compound, _month(data["month"]), actor=s.user)
    return {
        "month": data["month"],
        "mode": r.mode,
        "base": r.base,
        "rate": str(r.rate) if r.rate is not None else None,
        "product": r.product,
        "bound": r.bound,
        "amount": r.amount,
        "voucher_id": r.voucher_id,
    }


@blp.post(BASE + "/vouchers/<id:voucher_id>/supervision")
@_write
@blp.arguments(SuperviseIn)
@blp.response(201)
def supervise(data: dict, org_id: int, voucher_id: int):
    """A supervisor comments on, flags, holds or releases a voucher of the trust book."""
    s = seat(org_id, "supervisor")
    assert s.compound is not None
    v = ledger.get_voucher(pt.book_of(s.compound), voucher_id)
    n = gv.supervise(s.compound, data["action"], voucher=v, text=data["text"], actor=s.user)
    return {"id": n.id, "action": n.action, "held": gv.is_held(v.id)}


@blp.get(BASE + "/statements/<int(max=9999):year>/<int(max=99):month>")
@blp.response(200)
def statement(org_id: int, year: int, month: int):
    """The monthly owners' statement (owners may read it too)."""
    s = seat(org_id, owners=True)
    assert s.compound is not None
    try:
        m = Month(year, month)
    except ValueError:
        from core.errors import NotFound

        raise NotFound() from None
    st = monthly_statement(s.compound, m)
    # The figures as published (statement.snapshot), with the arrears' rate fields.
    return {**snapshot(st), "arrears": _ageing_out(st.arrears)}


@blp.get(BASE + "/check")
@blp.response(200)
def check(org_id: int):
    """Unit balances against the ledger's 1122 and 2203 per owner: the differences."""
    s = seat(org_id)
    assert s.compound is not None
    diffs = pt.check_consistency(s.compound)
    return {
        "ok": not diffs,
        "differences": [
            {
                "resident_id": d.resident_id,
                "account": d.account,
                "domain": d.domain,
                "ledger": d.ledger,
            }
            for d in diffs
        ],
    }


class DeductionIn(ma.Schema):
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=300))
    document = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    amount = ma.fields.String(required=True, validate=ma.validate.Length(max=40))


class RevenueIn(ma.Schema):
    kind = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["parking", "advertising", "venue", "other"])
    )
    date = ma.fields.Date(required=True)
    gross = ma.fields.String(required=True, validate=ma.validate.Length(max=40))
    deductions = ma.fields.List(
        ma.fields.Nested(DeductionIn), load_default=list, validate=ma.validate.Length(max=50)
    )
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=300))


class ExpenseIn(ma.Schema):
    account_code = ma.fields.String(required=True, validate=ma.validate.Length(max=20))
    amount = ma.fields.String(required=True, validate=ma.validate.Length(max=40))
    date = ma.fields.Date(required=True)
    summary = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=300))
    budget_line_id = ma.fields.Integer(load_default=None, allow_none=True, strict=True)
    emergency = ma.fields.Boolean(load_default=False)


class BudgetLineIn(ma.Schema):
    account_code = ma.fields.String(required=True, validate=ma.validate.Length(max=20))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    amount = ma.fields.String(required=True, validate=ma.validate.Length(max=40))


class BudgetIn(ma.Schema):
    year = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(2000, 2100))
    vote_id = ma.fields.Integer(required=True, strict=True)
    lines = ma.fields.List(
        ma.fields.Nested(BudgetLineIn), required=True, validate=ma.validate.Length(min=1, max=50)
    )


class AdjustIn(ma.Schema):
    line_id = ma.fields.Integer(required=True, strict=True)
    delta = ma.fields.String(required=True, validate=ma.validate.Length(max=40))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(max=500))


class ReminderIn(ma.Schema):
    unit_id = ma.fields.Integer(required=True, strict=True)
    sent_on = ma.fields.Date(required=True)
    deadline = ma.fields.Date(required=True)
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=300))


class EscalationIn(ma.Schema):
    unit_id = ma.fields.Integer(required=True, strict=True)
    status = ma.fields.String(required=True, validate=ma.validate.Length(max=20))
    date = ma.fields.Date(required=True)
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=300))


def _fen(text: str, *, negative: bool = False) -> int:
    return parse_amount_text(text, 2, allow_negative=negative)


@blp.post(BASE + "/revenue")
@_write
@blp.arguments(RevenueIn)
@blp.response(201)
def revenue(data: dict, org_id: int):
    """Public revenue (parking, advertising, venue rent, other) with documented deductions."""
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    pr = pt.record_public_revenue(
        s.compound,
        data["kind"],
        data["date"],
        _fen(data["gross"]),
        deductions=[
            (d["description"], d["document"], _fen(d["amount"])) for d in data["deductions"]
        ],
        description=data["description"],
        actor=s.user,
    )
    return {
        "id": pr.id,
        "gross": pr.gross,
        "deductions": pr.deductions,
        "repair_topup": pr.repair_topup,
        "voucher_id": pr.voucher_id,
    }


@blp.post(BASE + "/expenses")
@_write
@blp.arguments(ExpenseIn)
@blp.response(201)
def expense(data: dict, org_id: int):
    """A payment out of the trust fund, referencing a budget line (or marked emergency): a
    submitted voucher in the ledger's review queue."""
    from .models import Budget, BudgetLine

    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    line = None
    if data["budget_line_id"] is not None:
        line = db.session.get(BudgetLine, data["budget_line_id"])
        budget = db.session.get(Budget, line.budget_id) if line is not None else None
        if budget is None or budget.compound_id != s.compound.id:
            raise NotFound(_l("No such budget line in this compound."))
    e = gv.prepare_expense(
        s.compound,
        account_code=data["account_code"],
        amount=_fen(data["amount"]),
        day=data["date"],
        summary=data["summary"],
        budget_line=line,
        emergency=data["emergency"],
        actor=s.user,
    )
    return {"id": e.id, "voucher_id": e.voucher_id, "held": gv.is_held(e.voucher_id)}


@blp.post(BASE + "/expenses/<id:expense_id>/signatures")
@_write
@blp.response(201)
def sign(org_id: int, expense_id: int):
    """One of the N-of-M signatories signs a payment above the committee threshold."""
    from .models import Expense

    s = seat(org_id, *ledger.REVIEW_ROLES)
    assert s.compound is not None
    e = db.session.get(Expense, expense_id)
    if e is None or e.compound_id != s.compound.id:
        raise NotFound()
    sig = gv.sign_expense(e, actor=s.user)
    return {"id": sig.id}


@blp.post(BASE + "/budgets")
@_write
@blp.arguments(BudgetIn)
@blp.response(201)
def budget(data: dict, org_id: int):
    """The annual budget, approved by a passed owners' vote."""
    from .models import Vote

    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    vote = db.session.get(Vote, data["vote_id"])
    if vote is None or vote.compound_id != s.compound.id:
        raise NotFound()
    b = gv.create_budget(
        s.compound,
        data["year"],
        [(ln["account_code"], ln["name"], _fen(ln["amount"])) for ln in data["lines"]],
        vote=vote,
        actor=s.user,
    )
    return {
        "id": b.id,
        "lines": [
            {"id": ln.id, "account_code": ln.account_code, "amount": ln.amount} for ln in b.lines
        ],
    }


@blp.post(BASE + "/budgets/adjustments")
@_write
@blp.arguments(AdjustIn)
@blp.response(201)
def adjust(data: dict, org_id: int):
    """A budget adjustment with its reason."""
    from .models import Budget, BudgetLine

    s = seat(org_id, *ledger.REVIEW_ROLES)
    assert s.compound is not None
    line = db.session.get(BudgetLine, data["line_id"])
    b = db.session.get(Budget, line.budget_id) if line is not None else None
    if line is None or b is None or b.compound_id != s.compound.id:
        raise NotFound()
    adj = gv.adjust_budget_line(
        line, _fen(data["delta"], negative=True), data["reason"], actor=s.user
    )
    return {"id": adj.id, "line_amount": line.amount}


@blp.get(BASE + "/budgets/<int(max=9999):year>")
@blp.response(200)
def budget_vs_actual(org_id: int, year: int):
    """Budget against posted payments, up to today (the 决算 once the year is over)."""
    import datetime as dt

    import sqlalchemy as sa

    from .models import Budget

    s = seat(org_id, owners=True)
    assert s.compound is not None
    b = db.session.scalar(
        sa.select(Budget).where(Budget.compound_id == s.compound.id, Budget.year == year)
    )
    if b is None:
        raise NotFound()
    as_of = min(dt.date.today(), dt.date(year, 12, 31))
    return {
        "year": year,
        "as_of": as_of.isoformat(),
        "lines": [
            {
                "account_code": r.line.account_code,
                "name": r.line.name,
                "budget": r.budget,
                "actual": r.actual,
            }
            for r in gv.budget_vs_actual(b, as_of)
        ],
    }


@blp.post(BASE + "/reminders")
@_write
@blp.arguments(ReminderIn)
@blp.response(201)
def reminder(data: dict, org_id: int):
    """A reminder (催告) with its deadline."""
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    unit = pt.get_unit(s.compound, data["unit_id"])
    r = pt.add_reminder(
        s.compound, unit, data["sent_on"], data["deadline"], note=data["note"], actor=s.user
    )
    return {"id": r.id, "amount": r.amount}


@blp.post(BASE + "/escalations")
@_write
@blp.arguments(EscalationIn)
@blp.response(201)
def escalation(data: dict, org_id: int):
    """Litigation or arbitration (there is no utility cut-off)."""
    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    unit = pt.get_unit(s.compound, data["unit_id"])
    e = pt.escalate(s.compound, unit, data["status"], data["date"], note=data["note"], actor=s.user)
    return {"id": e.id, "status": e.status}


# --- settings, findings and lists (the same services as the pages) ------------------------------


class FindingIn(ma.Schema):
    month = ma.fields.String(required=True, validate=ma.validate.Length(max=7))
    text = ma.fields.String(required=True, validate=ma.validate.Length(max=1000))


class FeeRateIn(ma.Schema):
    unit_type = ma.fields.String(load_default="residential", validate=ma.validate.Length(1, 20))
    rate = ma.fields.String(required=True, validate=ma.validate.Length(max=20))
    effective_from = ma.fields.Date(required=True)


class RemunerationTermsIn(ma.Schema):
    mode = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["FIXED", "PCT_OF_COLLECTED_FEES", "PCT_INCL_PUBLIC_REVENUE"]),
    )
    rate = ma.fields.Decimal(load_default=None, allow_none=True, as_string=True, places=4)
    fixed = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=40)
    )
    cap = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=40))
    floor = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=40)
    )
    vote_id = ma.fields.Integer(load_default=None, allow_none=True, strict=True)


class ApprovalChainIn(ma.Schema):
    committee_threshold = ma.fields.String(required=True, validate=ma.validate.Length(max=40))
    signatories_required = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(1, 20)
    )
    signatories_total = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(1, 20)
    )
    supervisor_review = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["before", "after"])
    )
    budget_vote_kind = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["ordinary", "major"])
    )


class UnitIn(ma.Schema):
    building = ma.fields.String(required=True, validate=ma.validate.Length(1, 50))
    number = ma.fields.String(required=True, validate=ma.validate.Length(1, 30))
    area = ma.fields.Decimal(required=True, as_string=True)
    unit_type = ma.fields.String(load_default="residential", validate=ma.validate.Length(1, 20))
    owner_ids = ma.fields.List(
        ma.fields.Integer(strict=True), required=True, validate=ma.validate.Length(1, 10)
    )


def _optional_fen(text: str | None) -> int | None:
    return None if text is None or not text.strip() else _fen(text)


def _vote_of(compound, vote_id: int | None):
    from .models import Vote

    if vote_id is None:
        return None
    vote = db.session.get(Vote, vote_id)
    if vote is None or vote.compound_id != compound.id:
        raise NotFound(_l("No such vote in this compound."))
    return vote


@blp.post(BASE + "/findings")
@_write
@blp.arguments(FindingIn)
@blp.response(201)
def finding(data: dict, org_id: int):
    """A supervisor's finding for a month's owners' statement."""
    s = seat(org_id, "supervisor")
    assert s.compound is not None
    n = gv.supervise(
        s.compound, "finding", text=data["text"], month=_month(data["month"]), actor=s.user
    )
    return {"id": n.id, "month": data["month"]}


@blp.post(BASE + "/fee-rates")
@_write
@blp.arguments(FeeRateIn)
@blp.response(201)
def fee_rate(data: dict, org_id: int):
    """A fee rate (yuan per m² per month) for a unit type from a date on."""
    s = seat(org_id, "admin")
    assert s.compound is not None
    fr = pt.set_fee_rate(
        s.compound, data["unit_type"], data["rate"], data["effective_from"], actor=s.user
    )
    return {"id": fr.id, "rate": str(fr.rate)}


@blp.put(BASE + "/remuneration-terms")
@_write
@blp.arguments(RemunerationTermsIn)
@blp.response(200)
def remuneration_terms(data: dict, org_id: int):
    """The contract's remuneration terms (rate as a fraction, e.g. "0.12")."""
    s = seat(org_id, "admin")
    assert s.compound is not None
    c = gv.set_remuneration(
        s.compound,
        data["mode"],
        rate=data["rate"],
        fixed=_optional_fen(data["fixed"]),
        cap=_optional_fen(data["cap"]),
        floor=_optional_fen(data["floor"]),
        vote=_vote_of(s.compound, data["vote_id"]),
        actor=s.user,
    )
    return {"mode": c.remuneration_mode}


@blp.put(BASE + "/approval-chain")
@_write
@blp.arguments(ApprovalChainIn)
@blp.response(200)
def approval_chain(data: dict, org_id: int):
    """The approval chain: committee threshold, N of M signatures, supervisor review."""
    s = seat(org_id, "admin")
    assert s.compound is not None
    c = gv.set_approval_chain(
        s.compound,
        committee_threshold=_fen(data["committee_threshold"]),
        signatories_required=data["signatories_required"],
        signatories_total=data["signatories_total"],
        supervisor_review=data["supervisor_review"],
        budget_vote_kind=data["budget_vote_kind"],
        actor=s.user,
    )
    return {
        "committee_threshold": c.committee_threshold,
        "signatories_required": c.signatories_required,
        "signatories_total": c.signatories_total,
    }


@blp.post(BASE + "/units")
@_write
@blp.arguments(UnitIn)
@blp.response(201)
def unit(data: dict, org_id: int):
    """A unit with its exclusive area and its owners (residents of the community)."""
    from core.models import Resident

    s = seat(org_id, *ledger.PREPARE_ROLES)
    assert s.compound is not None
    owners = []
    for rid in data["owner_ids"]:
        r = db.session.get(Resident, rid)
        if r is None or r.community_id != s.compound.community_id:
            raise NotFound(_l("No such resident in this community."))
        owners.append(r)
    u = pt.add_unit(
        s.compound,
        data["building"],
        data["number"],
        area=data["area"],
        unit_type=data["unit_type"],
        owners=owners,
        actor=s.user,
    )
    return {"id": u.id, "area": str(u.area)}


@blp.get(BASE + "/votes")
@blp.response(200)
def votes(org_id: int):
    """Every owners' vote with its tallies and decision (owners may read them)."""
    import sqlalchemy as sa

    from .models import Vote

    s = seat(org_id, owners=True)
    assert s.compound is not None
    rows = db.session.scalars(
        sa.select(Vote).where(Vote.compound_id == s.compound.id).order_by(Vote.held_on, Vote.id)
    ).all()
    out = []
    for v in rows:
        d = gv.vote_decision(v)
        out.append(
            {
                "id": v.id,
                "subject": v.subject,
                "kind": v.kind,
                "held_on": v.held_on.isoformat(),
                "voted_area": str(v.voted_area),
                "voted_owners": v.voted_owners,
                "yes_area": str(v.yes_area),
                "yes_owners": v.yes_owners,
                "quorum_met": d.quorum_met,
                "passed": d.passed,
                "reasons": [str(r) for r in d.reasons],
            }
        )
    return {"votes": out}


@blp.get(BASE + "/published-statements")
@blp.response(200)
def published_statements(org_id: int):
    """The owners' statements published with the disclosure reports, with their figures."""
    import json

    from .statement import published

    s = seat(org_id, owners=True)
    assert s.compound is not None
    return {
        "statements": [
            {
                "month": f"{p.month // 100}-{p.month % 100:02d}",
                "report_id": p.report_id,
                "sha256": p.sha256,
                "figures": json.loads(p.figures),
            }
            for p in published(s.compound, 120)
        ]
    }
