# SPDX-License-Identifier: AGPL-3.0-or-later
"""Staff pages of community funds (under /funds/<org>/): the dashboard (funds and balances, the
statement = ledger check, overdue disclosures, projects), a fund's statement (page, CSV,
PDF), a project's five steps with its resolution and spending, budget vs actual, the
allocation calculator, the ¥1-rent register and the PDF donation acknowledgement.

Forms post to thin handlers: parse, call ``funds.services``, redirect; a refused request
re-renders its page with the translated message and the error's status."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import parse, pdf
from core.db import db
from core.downloads import csv_response, download
from core.errors import DomainError, InvalidInput, NotFound
from core.models import Resident
from ledger.amounts import format_minor, parse_amount
from ledger.views.common import BookView, _open, _refused

from . import allocation as formula
from . import services as fs
from .models import (
    STEP_ORDER,
    Allocation,
    CommunityFund,
    Council,
    Disbursement,
    Inflow,
    Project,
    Resolution,
    Step,
)

bp = Blueprint("funds", __name__, url_prefix="/funds")

STEP_LABELS = {
    "proposed": _l("① Proposed by the Party organisation"),
    "voted": _l("② Voted by the residents' council"),
    "implementation": _l("③ Implemented by the residents' committee"),
    "acceptance": _l("④ Reviewed and accepted"),
    "supervision": _l("⑤ Supervised by the supervisory committee"),
    "refused": _l("Refused by the residents' council"),
}
INFLOW_LABELS = {
    "donation": _l("Donations"),
    "grant": _l("Government grants"),
    "transfer": _l("Transfers from the community economy"),
    "allocation": _l("Community public finance"),
    "return": _l("Investment returns"),
}
FOUNDER_LABELS = {
    "RESIDENTS": _l("Residents"),
    "COMPANY": _l("Company"),
    "UNIT": _l("Local unit"),
    "COMMUNITY": _l("Community"),
}
DISCLOSURE_LABELS = {
    "quarterly": _l("Quarterly disclosure"),
    "final": _l("Final disclosure"),
    "related_party": _l("Related-party transaction"),
}
WRITE_ROLES = ("admin", "preparer")


def labels() -> dict:
    return {
        "step_labels": STEP_LABELS,
        "inflow_labels": INFLOW_LABELS,
        "founder_labels": FOUNDER_LABELS,
        "disclosure_labels": DISCLOSURE_LABELS,
        "yuan": lambda fen: format_minor(fen, 2),
    }


def _host(org_id: int) -> BookView:
    bv = _open(org_id)
    fs.host_book(bv.org)
    return bv


def _writer(org_id: int, *extra: str) -> BookView:
    bv = _host(org_id)
    if not bv.user.is_platform_admin and not bv.has(*WRITE_ROLES, *extra):
        from core.errors import NotPermitted

        raise NotPermitted()
    return bv


def _dates() -> tuple[dt.date, dt.date]:
    end = parse.optional_date(request.args.get("end"), field="end") or dt.date.today()
    start = parse.optional_date(request.args.get("start"), field="start") or dt.date(end.year, 1, 1)
    return start, end


# --- dashboard ----------------------------------------------------------------------------------


def _dashboard(bv: BookView, error=None, status: int = 200):
    funds = fs.list_funds(bv.org)
    pos = fs.positions(bv.book, [cf.fund_id for cf in funds]) if funds else {}
    today = dt.date.today()
    return (
        render_template(
            "funds/dashboard.html",
            bv=bv,
            funds=funds,
            pos=pos,
            checks=fs.check_statements(bv.org),
            overdue=fs.overdue(bv.org, today),
            calendar=fs.disclosure_calendar(bv.org),
            projects=fs.list_projects(bv.org),
            categories=fs.ensure_categories(bv.org) if funds else [],
            today=today,
            can_write=bv.user.is_platform_admin or bv.has(*WRITE_ROLES),
            error=error,
            **labels(),
        ),
        status,
    )


@bp.get("/<id:org_id>/")
def dashboard(org_id: int):
    return _dashboard(_host(org_id))


def _form_amount(name: str = "amount") -> int:
    return parse_amount(request.form.get(name, ""), field=name)


def _form_date(name: str = "date") -> dt.date:
    return parse.date(request.form.get(name, ""), field=name)


def _form_id(name: str) -> int | None:
    v = (request.form.get(name) or "").strip()
    return parse.int_id(v, field=name) if v else None


@bp.post("/<id:org_id>/inflows")
def add_inflow(org_id: int):
    bv = _writer(org_id)
    try:
        cf = fs.get_fund(bv.org, _form_id("cf_id") or 0)
        rid = _form_id("resident_id")
        resident = db.session.get(Resident, rid) if rid else None
        fs.record_inflow(
            cf,
            kind=request.form.get("kind", ""),
            amount=_form_amount(),
            date=_form_date(),
            source_name=request.form.get("source_name", "")[:200],
            resident=resident,
            anonymous=bool(request.form.get("anonymous")),
            publish_name=bool(request.form.get("publish_name")),
            actor=bv.user,
        )
    except DomainError as e:
        return _dashboard(bv, e.message, _refused(e))
    return redirect(url_for("funds.fund", org_id=org_id, cf_id=cf.id))


@bp.post("/<id:org_id>/disclosures")
def mark_disclosed(org_id: int):
    """A disclosure report was published: it meets every open disclosure due up to its date."""
    bv = _writer(org_id)
    try:
        fs.mark_disclosed(
            bv.org,
            through=_form_date("through"),
            on=dt.date.today(),
            note=request.form.get("note", "")[:300],
            actor=bv.user,
        )
    except DomainError as e:
        return _dashboard(bv, e.message, _refused(e))
    return redirect(url_for("funds.dashboard", org_id=org_id))


# --- a fund -------------------------------------------------------------------------------------


def _fund_page(bv: BookView, cf_id: int, error=None, status: int = 200):
    cf = fs.get_fund(bv.org, cf_id)
    start, end = _dates()
    return (
        render_template(
            "funds/fund.html",
            bv=bv,
            cf=cf,
            st=fs.fund_statement(cf, start, end),
            available=fs.available(cf),
            principal=fs.principal(cf),
            inflows=db.session.scalars(
                sa.select(Inflow).where(Inflow.cf_id == cf.id).order_by(Inflow.date, Inflow.id)
            ).all(),
            spending=db.session.scalars(
                sa.select(Disbursement)
                .where(Disbursement.cf_id == cf.id)
                .order_by(Disbursement.date, Disbursement.id)
            ).all(),
            resolutions=db.session.scalars(
                sa.select(Resolution).where(Resolution.cf_id == cf.id).order_by(Resolution.id)
            ).all(),
            categories=fs.ensure_categories(bv.org),
            projects=[p for p in fs.list_projects(bv.org) if p.cf_id == cf.id],
            can_write=bv.user.is_platform_admin or bv.has(*WRITE_ROLES),
            error=error,
            **labels(),
        ),
        status,
    )


@bp.get("/<id:org_id>/f/<id:cf_id>")
def fund(org_id: int, cf_id: int):
    return _fund_page(_host(org_id), cf_id)


def _statement_rows(st: fs.FundStatementView) -> list[list]:
    rows: list[list] = [[_("Fund"), st.cf.fund.code, st.cf.fund.name]]
    rows.append([_("Period"), st.start.isoformat(), st.end.isoformat()])
    rows.append([_("Opening balance"), "", format_minor(st.opening, 2)])
    for k, v in sorted(st.inflows.items()):
        rows.append([_("Inflow"), str(INFLOW_LABELS.get(k, k)), format_minor(v, 2)])
    for k, v in sorted(st.outflows.items()):
        rows.append([_("Outflow"), k or _("Not a project"), format_minor(-v, 2)])
    rows.append([_("Released from restriction"), "3102 → 3101", format_minor(st.releases, 2)])
    rows.append([_("Closing balance"), "", format_minor(st.closing, 2)])
    return rows


@bp.get("/<id:org_id>/f/<id:cf_id>/statement.csv")
def statement_csv(org_id: int, cf_id: int):
    bv = _host(org_id)
    cf = fs.get_fund(bv.org, cf_id)
    start, end = _dates()
    st = fs.fund_statement(cf, start, end)
    return csv_response(_statement_rows(st), f"fund-{cf.fund.code}-{start}-{end}.csv")


@bp.get("/<id:org_id>/f/<id:cf_id>/statement.pdf")
def statement_pdf(org_id: int, cf_id: int):
    bv = _host(org_id)
    cf = fs.get_fund(bv.org, cf_id)
    start, end = _dates()
    st = fs.fund_statement(cf, start, end)
    body = pdf.render_pdf(
        render_template("pdf/funds_statement.html", org=bv.org, st=st, cf=cf, **labels())
    )
    return download(body, f"fund-{cf.fund.code}-{start}-{end}.pdf", "application/pdf", inline=True)


@bp.post("/<id:org_id>/f/<id:cf_id>/disbursements")
def add_disbursement(org_id: int, cf_id: int):
    bv = _writer(org_id)
    cf = fs.get_fund(bv.org, cf_id)
    try:
        pid, rid = _form_id("project_id"), _form_id("resolution_id")
        fs.disburse(
            cf,
            amount=_form_amount(),
            date=_form_date(),
            category_code=request.form.get("category", ""),
            purpose=request.form.get("purpose", "")[:60],
            payee=request.form.get("payee", "")[:200],
            project=fs.get_project(bv.org, pid) if pid else None,
            resolution=fs.get_resolution(bv.org, rid) if rid else None,
            memo=request.form.get("memo", "")[:300],
            actor=bv.user,
        )
    except DomainError as e:
        return _fund_page(bv, cf_id, e.message, _refused(e))
    return redirect(url_for("funds.fund", org_id=org_id, cf_id=cf_id))


@bp.post("/<id:org_id>/f/<id:cf_id>/releases")
def add_release(org_id: int, cf_id: int):
    bv = _writer(org_id)
    cf = fs.get_fund(bv.org, cf_id)
    try:
        rid = _form_id("resolution_id")
        if rid is None:
            raise InvalidInput(_l("A release cites the decision that met the restriction."))
        fs.release(
            cf,
            amount=_form_amount(),
            date=_form_date(),
            resolution=fs.get_resolution(bv.org, rid),
            reason=request.form.get("reason", "")[:300],
            actor=bv.user,
        )
    except DomainError as e:
        return _fund_page(bv, cf_id, e.message, _refused(e))
    return redirect(url_for("funds.fund", org_id=org_id, cf_id=cf_id))


@bp.get("/<id:org_id>/inflows/<id:inflow_id>/acknowledgement.pdf")
def acknowledgement(org_id: int, inflow_id: int):
    """A donation acknowledgement (捐赠票据-style), clearly not a tax invoice or an official
    public-welfare donation receipt."""
    bv = _host(org_id)
    i = db.session.get(Inflow, inflow_id)
    if i is None or i.organisation_id != bv.org.id or i.kind != "donation":
        raise NotFound()
    donor = i.resident.name if i.resident_id else (i.source_name or _("Anonymous donor"))
    if i.anonymous:
        donor = _("Anonymous donor")
    body = pdf.render_pdf(
        render_template(
            "pdf/funds_acknowledgement.html",
            org=bv.org,
            i=i,
            cf=db.session.get(CommunityFund, i.cf_id),
            donor=donor,
            **labels(),
        )
    )
    return download(body, f"donation-{i.id}.pdf", "application/pdf", inline=True, private=True)


# --- projects -----------------------------------------------------------------------------------


def _project_page(bv: BookView, project_id: int, error=None, status: int = 200):
    p = fs.get_project(bv.org, project_id)
    current = Step(p.step)
    nxt = None
    if current in STEP_ORDER and current != Step.SUPERVISION:
        nxt = STEP_ORDER[STEP_ORDER.index(current) + 1].value
    councils = db.session.scalars(
        sa.select(Council).where(Council.organisation_id == bv.org.id).order_by(Council.id)
    ).all()
    return (
        render_template(
            "funds/project.html",
            bv=bv,
            p=p,
            next_step=nxt,
            councils=councils,
            resolutions=db.session.scalars(
                sa.select(Resolution).where(Resolution.project_id == p.id).order_by(Resolution.id)
            ).all(),
            spending=db.session.scalars(
                sa.select(Disbursement)
                .where(Disbursement.project_id == p.id)
                .order_by(Disbursement.date, Disbursement.id)
            ).all(),
            can_write=bv.user.is_platform_admin or bv.has(*WRITE_ROLES),
            can_minute=bv.user.is_platform_admin or bv.has(*WRITE_ROLES, "council_secretary"),
            error=error,
            **labels(),
        ),
        status,
    )


@bp.get("/<id:org_id>/projects/<id:project_id>")
def project(org_id: int, project_id: int):
    return _project_page(_host(org_id), project_id)


@bp.post("/<id:org_id>/projects/<id:project_id>/steps")
def add_step(org_id: int, project_id: int):
    bv = _writer(org_id)
    p = fs.get_project(bv.org, project_id)
    try:
        rid = _form_id("resolution_id")
        fs.advance_project(
            p,
            to=request.form.get("to", ""),
            who=request.form.get("who", "")[:200],
            on=_form_date("on"),
            documents=request.form.get("documents", "")[:2000],
            resolution=fs.get_resolution(bv.org, rid) if rid else None,
            actor=bv.user,
        )
    except DomainError as e:
        return _project_page(bv, project_id, e.message, _refused(e))
    return redirect(url_for("funds.project", org_id=org_id, project_id=project_id))


@bp.post("/<id:org_id>/projects/<id:project_id>/resolutions")
def add_resolution(org_id: int, project_id: int):
    bv = _writer(org_id, "council_secretary")
    p = fs.get_project(bv.org, project_id)
    try:
        cid = _form_id("council_id")
        council = db.session.get(Council, cid) if cid else None
        upload = request.files.get("minutes")
        minutes = None
        if upload and upload.filename:
            data = upload.read(5_000_001)
            if len(data) > 5_000_000:
                raise InvalidInput(_l("The minutes file is larger than 5 MB."))
            minutes = (upload.filename, upload.mimetype or "application/octet-stream", data)

        def count(name: str) -> int:
            return parse.bounded_int(request.form.get(name, ""), 0, 100_000, field=name)

        fs.record_resolution(
            bv.org,
            body="council",
            council=council,
            project=p,
            meeting_date=_form_date("meeting_date"),
            present=count("present"),
            votes_for=count("votes_for"),
            votes_against=count("votes_against"),
            votes_abstain=count("votes_abstain"),
            text=request.form.get("text", "")[:4000],
            minutes=minutes,
            actor=bv.user,
        )
    except DomainError as e:
        return _project_page(bv, project_id, e.message, _refused(e))
    return redirect(url_for("funds.project", org_id=org_id, project_id=project_id))


@bp.get("/<id:org_id>/resolutions/<id:resolution_id>/minutes")
def minutes(org_id: int, resolution_id: int):
    bv = _host(org_id)
    r = fs.get_resolution(bv.org, resolution_id)
    if r.minutes is None:
        raise NotFound()
    return download(
        r.minutes, r.minutes_name or "minutes", "application/octet-stream", private=True
    )


# --- budgets, allocation, commitments -----------------------------------------------------------


@bp.get("/<id:org_id>/budgets")
def budgets(org_id: int):
    bv = _host(org_id)
    as_of = parse.optional_date(request.args.get("as_of"), field="as_of") or dt.date.today()
    lines = fs.budget_vs_actual(bv.org, as_of)
    if request.args.get("format") == "csv":
        return csv_response(
            [[_("Fund"), _("Budget line"), _("Budget"), _("Actual"), _("Remaining")]]
            + [
                [
                    db.session.get_one(CommunityFund, b.budget.cf_id).fund.code,
                    b.budget.label,
                    format_minor(b.budget.amount, 2),
                    format_minor(b.actual, 2),
                    format_minor(b.remaining, 2),
                ]
                for b in lines
            ],
            f"budget-vs-actual-{as_of}.csv",
        )
    return render_template("funds/budgets.html", bv=bv, lines=lines, as_of=as_of, **labels())


@bp.get("/<id:org_id>/allocation")
def allocation_page(org_id: int):
    """The allocation calculator (CF-4) with the basis and rounding shown."""
    bv = _host(org_id)
    kind = request.args.get("kind") or bv.org.community.area_kind or "urban"
    mode = request.args.get("part_hundreds") or "floor"
    raw = request.args.get("population") or str(bv.org.community.population or "")
    amount, error = None, None
    if raw:
        try:
            amount = formula.public_finance(
                kind, parse.bounded_int(raw, 0, 10**9, field="population"), mode
            )
        except (ValueError, DomainError):
            error = _(
                "CF-4: the population must be a non-negative whole number, the kind urban or rural, the rounding floor, ceil or proportional."
            )
    allocations = db.session.scalars(
        sa.select(Allocation)
        .where(Allocation.organisation_id == bv.org.id)
        .order_by(Allocation.year)
    ).all()
    return (
        render_template(
            "funds/allocation.html",
            bv=bv,
            kind=kind,
            mode=mode,
            population=raw,
            amount=amount,
            allocations=allocations,
            funds=[cf for cf in fs.list_funds(bv.org) if cf.public_finance],
            kinds=formula.KINDS,
            modes=formula.MODES,
            error=error,
            **labels(),
        ),
        422 if error else 200,
    )


@bp.get("/<id:org_id>/commitments")
def commitments(org_id: int):
    bv = _host(org_id)
    return render_template(
        "funds/commitments.html", bv=bv, commitments=fs.list_commitments(bv.org), **labels()
    )


# --- public pages -------------------------------------------------------------------------------

public_bp = Blueprint("funds_public", __name__, url_prefix="/public/funds")


def _public_project(project_id: int) -> Project:
    p = db.session.get(Project, project_id) if 0 < project_id < 2**63 else None
    if p is None:
        raise NotFound()
    return p


@public_bp.get("/f/<id:cf_id>")
def public_fund(cf_id: int):
    """A fund's balance and flows; donors only with consent (DP-3, DP-5)."""
    cf = db.session.get(CommunityFund, cf_id) if 0 < cf_id < 2**63 else None
    if cf is None:
        raise NotFound()
    start, end = _dates()
    st = fs.fund_statement(cf, start, end)
    inflows = db.session.scalars(
        sa.select(Inflow)
        .where(Inflow.cf_id == cf.id, Inflow.kind == "donation")
        .order_by(Inflow.date)
    ).all()
    donors = sorted({n for n in (fs.public_donor(i) for i in inflows) if n})
    return render_template(
        "funds/public_fund.html",
        cf=cf,
        st=st,
        donors=donors,
        projects=db.session.scalars(
            sa.select(Project).where(Project.cf_id == cf.id).order_by(Project.id)
        ).all(),
        **labels(),
    )


@public_bp.get("/p/<id:project_id>")
def public_project(project_id: int):
    """A project's stage, its council decision (counts and text, never voters' names), its
    spending and budget vs actual."""
    p = _public_project(project_id)
    decision = db.session.scalar(
        sa.select(Resolution)
        .where(Resolution.project_id == p.id, Resolution.body == "council")
        .order_by(Resolution.id.desc())
        .limit(1)
    )
    spending = db.session.scalars(
        sa.select(Disbursement).where(Disbursement.project_id == p.id).order_by(Disbursement.date)
    ).all()
    return render_template(
        "funds/public_project.html",
        p=p,
        decision=decision,
        spending=spending,
        spent=sum(d.amount for d in spending),
        steps=STEP_ORDER,
        **labels(),
    )
