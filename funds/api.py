# SPDX-License-Identifier: AGPL-3.0-or-later
"""JSON API of community funds under /api/v1/organisations/<org>/…: funds, inflows,
disbursements, releases, allocations, projects and their steps, resolutions, the fund
statement, the statement = ledger check and the disclosure calendar.

Thin: parse with ``funds.schemas``, call ``funds.services`` (which check roles and rules and
never commit), present. Writes accept an ``Idempotency-Key`` header (core.idempotency)."""

from __future__ import annotations

import datetime as dt

from flask_smorest import Blueprint

from core import audit, auth
from core.db import db
from core.errors import InvalidInput, NotFound
from core.idempotency import OPENAPI_PARAMETER, idempotent
from core.models import Organisation, Resident, User
from ledger.amounts import format_minor, parse_amount

from . import schemas as s
from . import services as fs
from .models import Budget, CommunityFund, Council, Project, Resolution, ServiceCommitment

blp = Blueprint(
    "funds_api", __name__, url_prefix="/api/v1", description="Community funds and public finance"
)

ORG = "/organisations/<id:org_id>"
FUND = ORG + "/community-funds/<id:cf_id>"
WRITE_ROLES = ("admin", "preparer")


def _write(view):
    return idempotent(blp.doc(parameters=[OPENAPI_PARAMETER])(view))


def _open(org_id: int, *write_roles: str) -> tuple[Organisation, User]:
    """The organisation (any role reads; ``write_roles`` write) hosting community funds."""
    org = auth.get_organisation(org_id)
    user = auth.can_read(org)
    if write_roles:
        auth.require_role(org, *write_roles, user=user)
    fs.host_book(org)
    return org, user


def _yuan(fen: int) -> str:
    return format_minor(fen, 2)


def _fund_out(cf: CommunityFund, balance: int) -> dict:
    return {
        "id": cf.id,
        "code": cf.fund.code,
        "name": cf.fund.name,
        "founder_type": cf.founder_type,
        "purpose_tags": cf.tags,
        "restricted": cf.fund.restricted,
        "endowment": cf.fund.endowment,
        "public_finance": cf.public_finance,
        "active": cf.fund.active,
        "balance": _yuan(balance),
        "balance_minor": balance,
    }


def _record(rec, amount: int | None = None) -> dict:
    amount = getattr(rec, "amount", amount)
    return {
        "id": rec.id,
        "voucher_id": getattr(rec, "voucher_id", None),
        "amount": None if amount is None else _yuan(amount),
        "amount_minor": amount,
    }


def _get(model, rid: int | None, org: Organisation, field: str):
    if rid is None:
        return None
    obj = db.session.get(model, rid)
    if obj is None or obj.organisation_id != org.id:
        raise InvalidInput(
            NotFound.default_message, errors={field: [str(NotFound.default_message)]}
        )
    return obj


@blp.get(ORG + "/community-funds")
@blp.response(200, s.CfFundOut(many=True))
def list_funds(org_id: int):
    """The organisation's community funds with their ledger balances."""
    org, _user = _open(org_id)
    funds = fs.list_funds(org)
    if not funds:
        return []
    pos = fs.positions(fs.host_book(org), [cf.fund_id for cf in funds])
    return [_fund_out(cf, pos[cf.fund_id].balance) for cf in funds]


@blp.post(ORG + "/community-funds")
@_write
@blp.arguments(s.CfFundIn)
@blp.response(201, s.CfFundOut)
def create_fund(data: dict, org_id: int):
    """A community fund (CF-1/CF-2): founder type, purpose tags, restricted or endowment, rules."""
    org, user = _open(org_id, *WRITE_ROLES)
    rules = [
        (r["decision"], r["body"], parse_amount(r["over"], field="rules", allow_zero=True))
        for r in data.pop("rules")
    ]
    cf = fs.create_community_fund(org, rules=rules, actor=user, **data)
    audit.note(cf_id=cf.id)
    return _fund_out(cf, 0)


@blp.get(FUND + "/statement")
@blp.arguments(s.CfStatementQuery, location="query")
@blp.response(200, s.CfStatementOut)
def statement(query: dict, org_id: int, cf_id: int):
    """Opening, inflows by source, outflows by project, releases and closing of one fund."""
    org, _user = _open(org_id)
    cf = fs.get_fund(org, cf_id)
    end = query["end"] or dt.date.today()
    start = query["start"] or dt.date(end.year, 1, 1)
    st = fs.fund_statement(cf, start, end)
    return {
        "fund": cf.fund.code,
        "start": st.start,
        "end": st.end,
        "opening": _yuan(st.opening),
        "inflows": {k: _yuan(v) for k, v in st.inflows.items()},
        "outflows": {k: _yuan(v) for k, v in st.outflows.items()},
        "releases": _yuan(st.releases),
        "closing": _yuan(st.closing),
        "consistent": st.consistent,
    }


def _enterprise(org: Organisation, enterprise_id: int) -> Organisation:
    ent = next((o for o in fs.transfer_sources(org) if o.id == enterprise_id), None)
    if ent is None:
        raise InvalidInput(
            NotFound.default_message, errors={"enterprise_id": [str(NotFound.default_message)]}
        )
    return ent


@blp.post(FUND + "/inflows")
@_write
@blp.arguments(s.CfInflowIn)
@blp.response(201, s.CfRecordOut)
def add_inflow(data: dict, org_id: int, cf_id: int):
    """A donation, grant, transfer from the community economy or an endowment's return."""
    org, user = _open(org_id, *WRITE_ROLES)
    cf = fs.get_fund(org, cf_id)
    resident = None
    if data["resident_id"] is not None:
        resident = db.session.get(Resident, data["resident_id"])
        if resident is None or resident.community_id != org.community_id:
            raise InvalidInput(
                NotFound.default_message,
                errors={"resident_id": [str(NotFound.default_message)]},
            )
    if data["kind"] == "transfer" and data["enterprise_id"] is not None:
        i = fs.record_transfer(
            cf,
            enterprise=_enterprise(org, data["enterprise_id"]),
            amount=parse_amount(data["amount"]),
            date=data["date"],
            note=data["source_name"],
            actor=user,
        )
        audit.note(inflow_id=i.id, voucher_id=i.voucher_id, source_voucher_id=i.source_voucher_id)
        return _record(i)
    i = fs.record_inflow(
        cf,
        kind=data["kind"],
        amount=parse_amount(data["amount"]),
        date=data["date"],
        source_name=data["source_name"],
        resident=resident,
        anonymous=data["anonymous"],
        publish_name=data["publish_name"],
        actor=user,
    )
    audit.note(inflow_id=i.id, voucher_id=i.voucher_id)
    return _record(i)


@blp.post(FUND + "/disbursements")
@_write
@blp.arguments(s.CfDisbursementIn)
@blp.response(201, s.CfRecordOut)
def add_disbursement(data: dict, org_id: int, cf_id: int):
    """Spend from a fund: every rule of the fund, its budget, project step and the negative list."""
    org, user = _open(org_id, *WRITE_ROLES)
    cf = fs.get_fund(org, cf_id)
    d = fs.disburse(
        cf,
        amount=parse_amount(data["amount"]),
        date=data["date"],
        category_code=data["category"],
        purpose=data["purpose"],
        payee=data["payee"],
        project=_get(Project, data["project_id"], org, "project_id"),
        budget=_get(Budget, data["budget_id"], org, "budget_id"),
        resolution=_get(Resolution, data["resolution_id"], org, "resolution_id"),
        memo=data["memo"],
        actor=user,
    )
    audit.note(disbursement_id=d.id, voucher_id=d.voucher_id)
    return _record(d)


@blp.post(FUND + "/releases")
@_write
@blp.arguments(s.CfReleaseIn)
@blp.response(201, s.CfRecordOut)
def add_release(data: dict, org_id: int, cf_id: int):
    """A restricted purpose met: 3102 → 3101, citing the decision."""
    org, user = _open(org_id, *WRITE_ROLES)
    cf = fs.get_fund(org, cf_id)
    r = fs.release(
        cf,
        amount=parse_amount(data["amount"]),
        date=data["date"],
        resolution=_get(Resolution, data["resolution_id"], org, "resolution_id"),
        reason=data["reason"],
        actor=user,
    )
    audit.note(release_id=r.id, voucher_id=r.voucher_id)
    return _record(r)


@blp.post(FUND + "/allocations")
@_write
@blp.arguments(s.CfAllocationIn)
@blp.response(201, s.CfRecordOut)
def add_allocation(data: dict, org_id: int, cf_id: int):
    """The year's 社区保障资金 by formula (CF-4), posted into the community's fund."""
    org, user = _open(org_id, *WRITE_ROLES)
    cf = fs.get_fund(org, cf_id)
    a = fs.record_allocation(cf, actor=user, **data)
    audit.note(allocation_id=a.id, voucher_id=a.voucher_id)
    return _record(a)


@blp.get(ORG + "/community-funds/check")
@blp.response(200, s.CfCheckOut(many=True))
def check(org_id: int):
    """Every fund's statement by its records against the ledger's balances for that fund."""
    org, _user = _open(org_id)
    return [
        {
            "fund": c.cf.fund.code,
            "records": _yuan(c.records),
            "ledger": _yuan(c.ledger),
            "principal": _yuan(c.principal),
            "ok": c.ok,
        }
        for c in fs.check_statements(org)
    ]


def _project_out(p: Project) -> dict:
    return {
        "id": p.id,
        "title": p.title,
        "step": p.step,
        "fund": p.fund.fund.code,
        "start": p.start,
        "end": p.end,
        "budget": _yuan(p.budget_fen),
    }


@blp.get(ORG + "/fund-projects")
@blp.response(200, s.CfProjectOut(many=True))
def list_projects(org_id: int):
    org, _user = _open(org_id)
    return [_project_out(p) for p in fs.list_projects(org)]


@blp.post(ORG + "/fund-projects")
@_write
@blp.arguments(s.CfProjectIn)
@blp.response(201, s.CfProjectOut)
def create_project(data: dict, org_id: int):
    """A project at step ① (proposed)."""
    org, user = _open(org_id, *WRITE_ROLES)
    cf = _get(CommunityFund, data.pop("cf_id"), org, "cf_id")
    budget = parse_amount(data.pop("budget"), field="budget", allow_zero=True)
    p = fs.create_project(cf, budget_fen=budget, actor=user, **data)
    audit.note(project_id=p.id)
    return _project_out(p)


@blp.post(ORG + "/fund-projects/<id:project_id>/steps")
@_write
@blp.arguments(s.CfStepIn)
@blp.response(200, s.CfProjectOut)
def add_step(data: dict, org_id: int, project_id: int):
    """The next of the five steps (② needs the council's resolution on the project)."""
    org, user = _open(org_id, *WRITE_ROLES)
    p = fs.get_project(org, project_id)
    resolution = _get(Resolution, data.pop("resolution_id"), org, "resolution_id")
    fs.advance_project(p, resolution=resolution, actor=user, **data)
    return _project_out(p)


@blp.post(ORG + "/resolutions")
@_write
@blp.arguments(s.CfResolutionIn)
@blp.response(201, s.CfResolutionOut)
def add_resolution(data: dict, org_id: int):
    """A council resolution or committee decision: attendance, quorum, votes, text."""
    org, user = _open(org_id, *WRITE_ROLES, "council_secretary")
    r = fs.record_resolution(
        org,
        body=data["body"],
        council=_get(Council, data["council_id"], org, "council_id"),
        cf=_get(CommunityFund, data["cf_id"], org, "cf_id"),
        project=_get(Project, data["project_id"], org, "project_id"),
        meeting_date=data["meeting_date"],
        present=data["present"],
        votes_for=data["votes_for"],
        votes_against=data["votes_against"],
        votes_abstain=data["votes_abstain"],
        text=data["text"],
        actor=user,
    )
    audit.note(resolution_id=r.id)
    return r


@blp.get(ORG + "/disclosure-calendar")
@blp.response(200, s.CfDisclosureOut(many=True))
def calendar(org_id: int):
    """Charity-law disclosures due (CF-8), with the overdue ones flagged."""
    org, _user = _open(org_id)
    today = dt.date.today()
    return [
        {
            "id": x.id,
            "project_id": x.project_id,
            "kind": x.kind,
            "due": x.due,
            "met_on": x.met_on,
            "overdue": x.met_on is None and x.due < today,
        }
        for x in fs.disclosure_calendar(org)
    ]


@blp.post(ORG + "/councils")
@_write
@blp.arguments(s.CfCouncilIn)
@blp.response(201, s.CfRecordOut)
def create_council(data: dict, org_id: int):
    """A residents' council with its seated members and quorum rule."""
    org, user = _open(org_id, *WRITE_ROLES)
    c = fs.create_council(
        org,
        name=data["name"],
        members=[(m, data["seated_from"]) for m in data["members"]],
        quorum=(data["quorum_num"], data["quorum_den"]),
        actor=user,
    )
    return {"id": c.id, "voucher_id": None, "amount": None, "amount_minor": None}


@blp.post(FUND + "/committee")
@_write
@blp.arguments(s.CfCommitteeMemberIn)
@blp.response(201, s.CfRecordOut)
def add_committee_member(data: dict, org_id: int, cf_id: int):
    """A member of the fund's management committee (管委会), with role and term."""
    org, user = _open(org_id, *WRITE_ROLES)
    m = fs.add_committee_member(fs.get_fund(org, cf_id), actor=user, **data)
    return {"id": m.id, "voucher_id": None, "amount": None, "amount_minor": None}


def _budget_out(line: fs.BudgetLine) -> dict:
    b = line.budget
    return {
        "id": b.id,
        "fund": db.session.get_one(CommunityFund, b.cf_id).fund.code,
        "project_id": b.project_id,
        "year": b.year,
        "label": b.label,
        "budget": _yuan(b.amount),
        "actual": _yuan(line.actual),
        "remaining": _yuan(line.remaining),
    }


@blp.post(FUND + "/budgets")
@_write
@blp.arguments(s.CfBudgetIn)
@blp.response(201, s.CfBudgetOut)
def add_budget(data: dict, org_id: int, cf_id: int):
    """A budget line of a fund."""
    org, user = _open(org_id, *WRITE_ROLES)
    b = fs.create_budget(
        fs.get_fund(org, cf_id),
        year=data["year"],
        label=data["label"],
        amount=parse_amount(data["amount"]),
        actor=user,
    )
    return _budget_out(fs.BudgetLine(b, 0))


@blp.get(ORG + "/budgets")
@blp.arguments(s.CfBudgetQuery, location="query")
@blp.response(200, s.CfBudgetOut(many=True))
def budgets(query: dict, org_id: int):
    """Budget vs actual of every budget line, at ``as_of`` (default: everything)."""
    org, _user = _open(org_id)
    return [_budget_out(line) for line in fs.budget_vs_actual(org, query["as_of"])]


def _commitment_out(c) -> dict:
    return {
        "id": c.id,
        "tenant": c.tenant,
        "premises": c.premises,
        "year": c.year,
        "rent": _yuan(c.rent_fen),
        "rent_voucher_id": c.rent_voucher_id,
        "sessions_promised": c.sessions_promised,
        "sessions_delivered": sum(d.sessions for d in c.deliveries),
        "sessions_verified": sum(d.sessions for d in c.deliveries if d.verified_by),
        "value_claimed": _yuan(c.value_claimed_fen),
    }


@blp.get(ORG + "/service-commitments")
@blp.response(200, s.CfCommitmentOut(many=True))
def commitments(org_id: int):
    """The ¥1-rent register: promised, delivered and verified sessions (never income)."""
    org, _user = _open(org_id)
    return [_commitment_out(c) for c in fs.list_commitments(org)]


@blp.post(ORG + "/service-commitments")
@_write
@blp.arguments(s.CfCommitmentIn)
@blp.response(201, s.CfCommitmentOut)
def add_commitment(data: dict, org_id: int):
    """A ¥1-rent lease: the rent is booked; the promised services are registered."""
    org, user = _open(org_id, *WRITE_ROLES)
    c = fs.record_commitment(
        org,
        tenant=data["tenant"],
        premises=data["premises"],
        year=data["year"],
        date=data["date"],
        sessions_promised=data["sessions_promised"],
        value_claimed_fen=parse_amount(
            data["value_claimed"], field="value_claimed", allow_zero=True
        ),
        rent_fen=parse_amount(data["rent"], field="rent"),
        actor=user,
    )
    return _commitment_out(c)


@blp.post(ORG + "/service-commitments/<id:commitment_id>/deliveries")
@_write
@blp.arguments(s.CfDeliveryIn)
@blp.response(201, s.CfCommitmentOut)
def add_delivery(data: dict, org_id: int, commitment_id: int):
    """Sessions delivered under a commitment, and who verified them."""
    org, user = _open(org_id, *WRITE_ROLES)
    c = db.session.get(ServiceCommitment, commitment_id)
    if c is None or c.organisation_id != org.id:
        raise NotFound()
    fs.record_delivery(c, actor=user, **data)
    db.session.expire(c, ["deliveries"])
    return _commitment_out(c)
