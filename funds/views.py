# SPDX-License-Identifier: AGPL-3.0-or-later
"""Staff pages of community funds (under /funds/<org>/): the dashboard (funds and balances, the
statement = ledger check, overdue disclosures, projects), a fund's statement (page, CSV,
PDF), a project's five steps with its resolution and spending, budget vs actual, the
allocation calculator (which also posts the year's allocation), the ¥1-rent register, the
residents' councils and the PDF donation acknowledgement; forms set up funds, councils and
their members, committee members, budgets, projects, decisions, commitments and deliveries,
and record a transfer from the community economy in both books.

Forms post to thin handlers: parse, call ``funds.services``, redirect; a refused request
re-renders its page with the translated message and the error's status."""

from __future__ import annotations

import datetime as dt
import decimal
import re

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import parse, pdf, residents
from core.db import db
from core.downloads import csv_response, download
from core.errors import DomainError, InvalidInput, NotFound
from core.models import Organisation, Resident
from ledger.amounts import format_minor, parse_amount
from ledger.views.common import BookView, _open, _refused

from . import allocation as formula
from . import services as fs
from .models import (
    STEP_ORDER,
    Allocation,
    Budget,
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
MODE_LABELS = {
    "floor": _l("Whole hundreds only"),
    "ceil": _l("A part of a hundred counts as a hundred"),
    "proportional": _l("Proportional, rounded to the fen"),
}
KIND_LABELS = {"urban": _l("Urban community"), "rural": _l("Rural community")}
WRITE_ROLES = ("admin", "preparer")


def labels() -> dict:
    return {
        "step_labels": STEP_LABELS,
        "inflow_labels": INFLOW_LABELS,
        "founder_labels": FOUNDER_LABELS,
        "disclosure_labels": DISCLOSURE_LABELS,
        "mode_labels": MODE_LABELS,
        "kind_labels": KIND_LABELS,
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
            enterprises=fs.transfer_sources(bv.org),
            residents=list(residents.list_residents(bv.org.community))[:2000] if funds else [],
            founder_types=list(FOUNDER_LABELS),
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
            councils=_councils(bv.org),
            budgets=db.session.scalars(
                sa.select(Budget).where(Budget.cf_id == cf.id).order_by(Budget.year, Budget.id)
            ).all(),
            today=dt.date.today(),
            can_minute=bv.user.is_platform_admin or bv.has(*WRITE_ROLES, "council_secretary"),
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


def _minutes() -> tuple[str, str, bytes] | None:
    upload = request.files.get("minutes")
    if not (upload and upload.filename):
        return None
    data = upload.read(5_000_001)
    if len(data) > 5_000_000:
        raise InvalidInput(_l("The minutes file is larger than 5 MB."))
    return (upload.filename[:200], upload.mimetype or "application/octet-stream", data)


def _votes() -> dict:
    def count(name: str) -> int:
        return parse.bounded_int(request.form.get(name, "").strip(), 0, 100_000, field=name)

    return {
        "meeting_date": _form_date("meeting_date"),
        "present": count("present"),
        "votes_for": count("votes_for"),
        "votes_against": count("votes_against"),
        "votes_abstain": count("votes_abstain"),
        "text": request.form.get("text", "")[:4000],
    }


def _council(org: Organisation) -> Council | None:
    cid = _form_id("council_id")
    council = db.session.get(Council, cid) if cid else None
    return council if council is None or council.organisation_id == org.id else None


@bp.post("/<id:org_id>/projects/<id:project_id>/resolutions")
def add_resolution(org_id: int, project_id: int):
    bv = _writer(org_id, "council_secretary")
    p = fs.get_project(bv.org, project_id)
    try:
        fs.record_resolution(
            bv.org,
            body="council",
            council=_council(bv.org),
            project=p,
            minutes=_minutes(),
            actor=bv.user,
            **_votes(),
        )
    except DomainError as e:
        return _project_page(bv, project_id, e.message, _refused(e))
    return redirect(url_for("funds.project", org_id=org_id, project_id=project_id))


@bp.post("/<id:org_id>/f/<id:cf_id>/resolutions")
def add_fund_resolution(org_id: int, cf_id: int):
    """A decision on a fund (its committee's, or the residents' council's), optionally on one
    of its budget lines: what a disbursement or a release the fund's rules require cites."""
    bv = _writer(org_id, "council_secretary")
    cf = fs.get_fund(bv.org, cf_id)
    try:
        body = request.form.get("body", "")
        bid = _form_id("budget_id")
        budget = db.session.get(Budget, bid) if bid else None
        if budget is not None and budget.cf_id != cf.id:
            raise InvalidInput(
                _l("The budget line belongs to another fund."),
                errors={"budget_id": [_("The budget line belongs to another fund.")]},
            )
        fs.record_resolution(
            bv.org,
            body=body,
            council=_council(bv.org) if body == "council" else None,
            cf=cf,
            budget=budget,
            minutes=_minutes(),
            actor=bv.user,
            **_votes(),
        )
    except DomainError as e:
        return _fund_page(bv, cf_id, e.message, _refused(e))
    return redirect(url_for("funds.fund", org_id=org_id, cf_id=cf_id) + "#decisions")


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


def _table_pdf(bv: BookView, title, subtitle: str, headers, rows, numeric, name: str):
    body = pdf.render_pdf(
        render_template(
            "pdf/funds_table.html",
            org=bv.org,
            title=title,
            subtitle=subtitle,
            headers=headers,
            rows=rows,
            numeric=numeric,
        )
    )
    return download(body, name + ".pdf", "application/pdf", inline=True)


@bp.get("/<id:org_id>/projects.<any(csv,pdf):fmt>")
def project_list(org_id: int, fmt: str):
    """The project status list: each project's fund, step, budget and what it has spent."""
    bv = _host(org_id)
    spent = dict(
        db.session.execute(
            sa.select(Disbursement.project_id, sa.func.sum(Disbursement.amount))
            .where(Disbursement.organisation_id == bv.org.id)
            .group_by(Disbursement.project_id)
        ).all()
    )
    headers = [_("Project"), _("Fund"), _("Step"), _("Starts"), _("Ends"), _("Budget"), _("Spent")]
    rows = [
        [
            p.title,
            p.fund.fund.code,
            str(STEP_LABELS.get(p.step, p.step)),
            p.start.isoformat(),
            p.end.isoformat(),
            format_minor(p.budget_fen, 2),
            format_minor(int(spent.get(p.id) or 0), 2),
        ]
        for p in fs.list_projects(bv.org)
    ]
    today = dt.date.today()
    if fmt == "csv":
        return csv_response([headers, *rows], f"projects-{today}.csv")
    return _table_pdf(bv, _("Project status"), str(today), headers, rows, {5, 6}, "projects")


@bp.get("/<id:org_id>/budgets")
def budgets(org_id: int):
    return _budgets_page(_host(org_id))


def _budgets_page(bv: BookView, error=None, status: int = 200):
    as_of = parse.optional_date(request.args.get("as_of"), field="as_of") or dt.date.today()
    lines = fs.budget_vs_actual(bv.org, as_of)
    fmt = request.args.get("format")
    if fmt in ("csv", "pdf"):
        headers = [_("Fund"), _("Budget line"), _("Budget"), _("Actual"), _("Remaining")]
        rows = [
            [
                db.session.get_one(CommunityFund, b.budget.cf_id).fund.code,
                b.budget.label,
                format_minor(b.budget.amount, 2),
                format_minor(b.actual, 2),
                format_minor(b.remaining, 2),
            ]
            for b in lines
        ]
        name = f"budget-vs-actual-{as_of}"
        if fmt == "csv":
            return csv_response([headers, *rows], name + ".csv")
        return _table_pdf(bv, _("Budget vs actual"), str(as_of), headers, rows, {2, 3, 4}, name)
    return (
        render_template(
            "funds/budgets.html",
            bv=bv,
            lines=lines,
            as_of=as_of,
            funds=[cf for cf in fs.list_funds(bv.org) if cf.fund.active],
            projects=fs.list_projects(bv.org),
            can_write=bv.user.is_platform_admin or bv.has(*WRITE_ROLES),
            today=dt.date.today(),
            error=error,
            **labels(),
        ),
        status,
    )


@bp.get("/<id:org_id>/allocation")
def allocation_page(org_id: int):
    """The allocation calculator (CF-4) with the basis and rounding shown."""
    return _allocation_page(_host(org_id))


def _allocation_page(bv: BookView, post_error=None, status: int = 200):
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
            bases=formula.BASES,
            error=error,
            post_error=post_error,
            can_write=bv.user.is_platform_admin or bv.has(*WRITE_ROLES),
            today=dt.date.today(),
            **labels(),
        ),
        status if post_error else (422 if error else 200),
    )


def _population(raw: str) -> object:
    """A population from a form: a whole number as int; anything else is handed on as it was
    typed (a decimal or text) for the formula to refuse with the figure."""
    raw = raw.strip()
    if re.fullmatch(r"[0-9]{1,12}", raw):
        return int(raw)
    try:
        return decimal.Decimal(raw) if re.fullmatch(r"-?[0-9]{1,12}(\.[0-9]{1,6})?", raw) else raw
    except decimal.InvalidOperation:
        return raw


@bp.post("/<id:org_id>/allocation")
def post_allocation(org_id: int):
    """Record the year's allocation (CF-4): the receivable and the grant income are posted into
    the community's public-finance fund; the page then shows the allocation and its voucher."""
    bv = _writer(org_id)
    try:
        cf = fs.get_fund(bv.org, _form_id("cf_id") or 0)
        a = fs.record_allocation(
            cf,
            year=parse.bounded_int(request.form.get("year", ""), 2000, 2100, field="year"),
            date=_form_date(),
            kind=request.form.get("kind", ""),
            population=_population(request.form.get("population", "")[:40]),
            population_basis=request.form.get("population_basis", ""),
            part_hundreds=request.form.get("part_hundreds", ""),
            actor=bv.user,
        )
    except DomainError as e:
        return _allocation_page(bv, e.message, _refused(e))
    return redirect(url_for("funds.allocation_page", org_id=org_id, posted=a.id) + f"#a{a.id}")


def _commitments_page(bv: BookView, error=None, status: int = 200):
    return (
        render_template(
            "funds/commitments.html",
            bv=bv,
            commitments=fs.list_commitments(bv.org),
            can_write=bv.user.is_platform_admin or bv.has(*WRITE_ROLES),
            today=dt.date.today(),
            error=error,
            **labels(),
        ),
        status,
    )


@bp.get("/<id:org_id>/commitments")
def commitments(org_id: int):
    return _commitments_page(_host(org_id))


def _form_count(name: str, lo: int = 0, hi: int = 100_000) -> int:
    return parse.bounded_int(request.form.get(name, "").strip(), lo, hi, field=name)


@bp.post("/<id:org_id>/commitments")
def add_commitment(org_id: int):
    """A ¥1-rent lease: the rent is booked; the promised sessions and their claimed value are a
    commitment, never income (CF-7)."""
    bv = _writer(org_id)
    try:
        rent = (request.form.get("rent") or "").strip()
        fs.record_commitment(
            bv.org,
            tenant=request.form.get("tenant", "")[:200],
            premises=request.form.get("premises", "")[:200],
            year=parse.bounded_int(request.form.get("year", ""), 2000, 2100, field="year"),
            date=_form_date(),
            sessions_promised=_form_count("sessions_promised"),
            value_claimed_fen=parse_amount(
                request.form.get("value_claimed", "") or "0", field="value_claimed"
            ),
            rent_fen=parse_amount(rent, field="rent") if rent else 100,
            actor=bv.user,
        )
    except DomainError as e:
        return _commitments_page(bv, e.message, _refused(e))
    return redirect(url_for("funds.commitments", org_id=org_id))


@bp.post("/<id:org_id>/commitments/<id:commitment_id>/deliveries")
def add_delivery(org_id: int, commitment_id: int):
    bv = _writer(org_id)
    c = next((x for x in fs.list_commitments(bv.org) if x.id == commitment_id), None)
    if c is None:
        raise NotFound()
    try:
        fs.record_delivery(
            c,
            date=_form_date(),
            sessions=_form_count("sessions"),
            description=request.form.get("description", "")[:300],
            verified_by=request.form.get("verified_by", "")[:100],
            actor=bv.user,
        )
    except DomainError as e:
        return _commitments_page(bv, e.message, _refused(e))
    return redirect(url_for("funds.commitments", org_id=org_id))


# --- councils, funds, committees, budgets, projects, transfers ----------------------------------


def _councils(org: Organisation) -> list[Council]:
    return list(
        db.session.scalars(
            sa.select(Council).where(Council.organisation_id == org.id).order_by(Council.id)
        )
    )


def _councils_page(bv: BookView, error=None, status: int = 200):
    today = dt.date.today()
    return (
        render_template(
            "funds/councils.html",
            bv=bv,
            councils=_councils(bv.org),
            seated={c.id: fs.seated_on(c, today) for c in _councils(bv.org)},
            can_write=bv.user.is_platform_admin or bv.has(*WRITE_ROLES),
            today=today,
            error=error,
            **labels(),
        ),
        status,
    )


@bp.get("/<id:org_id>/councils")
def councils(org_id: int):
    """The residents' councils (居民议事会): members seated and the quorum rule."""
    return _councils_page(_host(org_id))


def _names(text: str) -> list[str]:
    return [n.strip()[:100] for n in re.split(r"[\n,，、;；]+", text or "") if n.strip()]


@bp.post("/<id:org_id>/councils")
def add_council(org_id: int):
    bv = _writer(org_id)
    try:
        since = _form_date("seated_from")
        members = _names(request.form.get("members", "")[:20_000])
        if len(members) > 500:
            raise InvalidInput(_l("A council seats at most 500 members."))
        fs.create_council(
            bv.org,
            name=request.form.get("name", "")[:200],
            members=[(m, since) for m in members],
            quorum=(_form_count("quorum_num", 1, 100), _form_count("quorum_den", 1, 100)),
            actor=bv.user,
        )
    except DomainError as e:
        return _councils_page(bv, e.message, _refused(e))
    return redirect(url_for("funds.councils", org_id=org_id))


@bp.post("/<id:org_id>/councils/<id:council_id>/members")
def add_council_member(org_id: int, council_id: int):
    bv = _writer(org_id)
    council = db.session.get(Council, council_id)
    if council is None or council.organisation_id != bv.org.id:
        raise NotFound()
    try:
        fs.seat_member(
            council,
            name=request.form.get("name", "")[:100],
            seated_from=_form_date("seated_from"),
            actor=bv.user,
        )
    except DomainError as e:
        return _councils_page(bv, e.message, _refused(e))
    return redirect(url_for("funds.councils", org_id=org_id))


def _tags(text: str) -> list[str]:
    return [t.strip()[:40] for t in re.split(r"[,，、;；\s]+", text or "") if t.strip()]


@bp.post("/<id:org_id>/funds")
def add_fund(org_id: int):
    """A community fund (CF-1): a ledger fund of the foundation's book with its founder,
    purpose tags, kind and rules."""
    bv = _writer(org_id)
    try:
        rules: list[tuple[str, str, int]] = []
        for decision in ("disburse", "release"):
            body = request.form.get(f"{decision}_body") or ""
            if body:
                over = (request.form.get(f"{decision}_over") or "").strip()
                rules.append(
                    (decision, body, parse_amount(over, field=f"{decision}_over") if over else 0)
                )
        cf = fs.create_community_fund(
            bv.org,
            code=request.form.get("code", "").strip()[:20],
            name=request.form.get("name", "").strip()[:100],
            founder_type=request.form.get("founder_type", ""),
            founder_name=request.form.get("founder_name", "")[:200],
            purpose_tags=_tags(request.form.get("purpose_tags", "")[:300]),
            restricted=bool(request.form.get("restricted")),
            endowment=bool(request.form.get("endowment")),
            public_finance=bool(request.form.get("public_finance")),
            rules=rules,
            actor=bv.user,
        )
    except DomainError as e:
        return _dashboard(bv, e.message, _refused(e))
    return redirect(url_for("funds.fund", org_id=org_id, cf_id=cf.id))


@bp.post("/<id:org_id>/f/<id:cf_id>/committee")
def add_committee_member(org_id: int, cf_id: int):
    bv = _writer(org_id)
    cf = fs.get_fund(bv.org, cf_id)
    try:
        fs.add_committee_member(
            cf,
            name=request.form.get("name", "")[:100],
            role=request.form.get("role", "")[:60],
            term_start=_form_date("term_start"),
            term_end=parse.optional_date(request.form.get("term_end"), field="term_end"),
            actor=bv.user,
        )
    except DomainError as e:
        return _fund_page(bv, cf_id, e.message, _refused(e))
    return redirect(url_for("funds.fund", org_id=org_id, cf_id=cf_id))


@bp.post("/<id:org_id>/budgets")
def add_budget(org_id: int):
    bv = _writer(org_id)
    try:
        cf = fs.get_fund(bv.org, _form_id("cf_id") or 0)
        pid = _form_id("project_id")
        fs.create_budget(
            cf,
            year=parse.bounded_int(request.form.get("year", ""), 2000, 2100, field="year"),
            label=request.form.get("label", "")[:200],
            amount=_form_amount(),
            project=fs.get_project(bv.org, pid) if pid else None,
            actor=bv.user,
        )
    except DomainError as e:
        return _budgets_page(bv, e.message, _refused(e))
    return redirect(url_for("funds.budgets", org_id=org_id))


@bp.post("/<id:org_id>/projects")
def add_project(org_id: int):
    """A project at step ① (proposed by the Party organisation), with its budget."""
    bv = _writer(org_id)
    try:
        cf = fs.get_fund(bv.org, _form_id("cf_id") or 0)
        budget = (request.form.get("budget") or "").strip()
        p = fs.create_project(
            cf,
            title=request.form.get("title", "")[:200],
            description=request.form.get("description", "")[:4000],
            start=_form_date("start"),
            end=_form_date("end"),
            proposed_by=request.form.get("proposed_by", "")[:200],
            proposed_on=_form_date("proposed_on"),
            budget_fen=parse_amount(budget, field="budget") if budget else 0,
            priority_tags=request.form.getlist("priority_tags")[:20],
            documents=request.form.get("documents", "")[:2000],
            related_party=bool(request.form.get("related_party")),
            actor=bv.user,
        )
    except DomainError as e:
        return _dashboard(bv, e.message, _refused(e))
    return redirect(url_for("funds.project", org_id=org_id, project_id=p.id))


@bp.post("/<id:org_id>/transfers")
def add_transfer(org_id: int):
    """A transfer from the community economy: the enterprise's book and the foundation's book
    each get their voucher, both or neither."""
    bv = _writer(org_id)
    try:
        cf = fs.get_fund(bv.org, _form_id("cf_id") or 0)
        eid = _form_id("enterprise_id")
        ent = next((o for o in fs.transfer_sources(bv.org) if o.id == eid), None)
        if ent is None:
            raise InvalidInput(
                _l("Choose the community enterprise that pays."),
                errors={"enterprise_id": [_("Choose the community enterprise that pays.")]},
            )
        fs.record_transfer(
            cf,
            enterprise=ent,
            amount=_form_amount(),
            date=_form_date(),
            note=request.form.get("note", "")[:100],
            actor=bv.user,
        )
    except DomainError as e:
        return _dashboard(bv, e.message, _refused(e))
    return redirect(url_for("funds.fund", org_id=org_id, cf_id=cf.id))


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
