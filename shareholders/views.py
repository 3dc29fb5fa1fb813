# SPDX-License-Identifier: AGPL-3.0-or-later
"""HTML pages of the register of shareholders (under a book, /books/<org>/shareholders/) and a
shareholder's own pages (/my/shares). Thin: parse (shareholders.forms), call the services,
render. A refused step is a translated 4xx page; nothing it flushed is kept."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from core import audit
from core.auth import authenticated_user, can_read, get_organisation
from core.db import db
from core.downloads import csv_response, download
from core.errors import DomainError, NotFound
from core.i18n import money
from core.models import Organisation, Resident, Role, User
from core.pdf import render_pdf
from ledger.views.common import BookView

from . import forms
from . import services as svc
from .models import Shareholder
from .render import register_rows, statement

bp = Blueprint("shareholders", __name__)
BASE = "/books/<id:org_id>/shareholders"


def _bv(org_id: int) -> BookView:
    user = authenticated_user()
    org = get_organisation(org_id)
    can_read(org, user)
    book = svc.book_of(org)
    roles = (
        frozenset(r.value for r in Role)
        if user.is_platform_admin
        else frozenset(user.roles_in(org.id))
    )
    audit.note(book_id=book.id)
    return BookView(org=org, book=book, user=user, roles=roles)


def _holder_access(org_id: int, sh_id: int) -> tuple[Organisation, User, Shareholder, bool]:
    """Staff of the organisation, or the shareholder themself (a resident with this login).
    The flag says whether it is staff (who see the register's pages around it)."""
    user = authenticated_user()
    org = get_organisation(org_id)
    sh = db.session.get(Shareholder, sh_id)
    resident = (
        db.session.get(Resident, sh.resident_id)
        if sh is not None and sh.organisation_id == org.id and sh.resident_id is not None
        else None
    )
    own = resident is not None and resident.user_id == user.id
    if not own:
        can_read(org, user)
    sh = svc.get_shareholder(org, sh_id)
    staff = user.is_platform_admin or bool(user.roles_in(org.id))
    return org, user, sh, staff


def _done(message: str, endpoint: str, **values):
    flash(message, "success")
    return redirect(url_for(endpoint, **values), code=303)


def _run(fn):
    """Call a service; on a refusal undo what it flushed and let the error page answer."""
    try:
        return fn()
    except DomainError:
        db.session.rollback()
        raise


def _as_of() -> dt.date | None:
    return forms.optional_date(request.args.get("as_of"), "as_of")


@bp.get(BASE + "/")
@login_required
def register(org_id: int):
    bv = _bv(org_id)
    as_of = _as_of()
    arts = svc.articles(bv.org)
    return render_template(
        "shareholders/register.html",
        bv=bv,
        as_of=as_of,
        articles=arts,
        holdings=svc.holders(bv.org, as_of),
        everyone=svc.shareholders(bv.org),
        overdue=svc.overdue_subscriptions(bv.org),
        differences=svc.check_register(bv.org, as_of),
        transfers=svc.transfers(bv.org),
        residents=db.session.query(Resident)
        .filter(Resident.community_id == bv.org.community_id)
        .order_by(Resident.id)
        .all(),
        organisations=db.session.query(Organisation)
        .filter(Organisation.id != bv.org.id)
        .order_by(Organisation.name)
        .all(),
        warning=svc.count_warning(bv.org),
        can_write=bv.can_prepare,
        today=dt.date.today(),
    )


@bp.post(BASE + "/articles")
@login_required
def set_articles(org_id: int):
    bv = _bv(org_id)
    f = request.form
    _run(
        lambda: svc.set_articles(
            bv.org,
            registered_capital=forms.amount(f.get("registered_capital"), "registered_capital"),
            company_type=f.get("company_type") or "llc",
            residents_only=forms.flag(f.get("residents_only")),
            lockup_days=forms.count(f.get("lockup_days"), "lockup_days"),
            preemption_waived=forms.flag(f.get("preemption_waived")),
            preemption_days=forms.count(f.get("preemption_days") or "30", "preemption_days"),
            dividend_cap_pct=forms.percent(f.get("dividend_cap_pct"), "dividend_cap_pct"),
            dividend_cap_citation=forms.text(
                f.get("dividend_cap_citation"), "dividend_cap_citation"
            ),
            reinvestment_min_pct=forms.percent(
                f.get("reinvestment_min_pct"), "reinvestment_min_pct"
            ),
            reinvestment_citation=forms.text(
                f.get("reinvestment_citation"), "reinvestment_citation"
            ),
            actor=bv.user,
        )
    )
    return _done(
        _("The articles of association are recorded."), "shareholders.register", org_id=org_id
    )


@bp.post(BASE + "/subscribe")
@login_required
def subscribe(org_id: int):
    bv = _bv(org_id)
    f = request.form

    def run():
        if f.get("holder_org_id"):
            sh = svc.add_shareholder(
                bv.org, holder_org=forms.organisation(f.get("holder_org_id")), actor=bv.user
            )
        else:
            sh = svc.add_shareholder(
                bv.org, resident=forms.resident(f.get("resident_id")), actor=bv.user
            )
        day = forms.date(f.get("date"), "date", dt.date.today())
        return svc.subscribe(
            bv.org,
            sh,
            amount=forms.amount(f.get("amount"), "amount"),
            date=day,
            due_date=forms.date(f.get("due_date"), "due_date", day),
            actor=bv.user,
        )

    sub, warning = _run(run)
    if warning:
        flash(warning, "warning")
    return _done(
        _("Subscription recorded."),
        "shareholders.shareholder",
        org_id=org_id,
        sh_id=sub.shareholder_id,
    )


@bp.get(BASE + "/<id:sh_id>")
@login_required
def shareholder(org_id: int, sh_id: int):
    org, user, sh, staff = _holder_access(org_id, sh_id)
    bv = _bv(org_id) if staff else None
    return render_template(
        "shareholders/shareholder.html",
        bv=bv,
        org=org,
        sh=sh,
        st=statement(org, sh),
        staff=staff,
        can_write=bool(bv and bv.can_prepare),
        today=dt.date.today(),
    )


@bp.post(BASE + "/<id:sh_id>/pay")
@login_required
def pay(org_id: int, sh_id: int):
    bv = _bv(org_id)
    sh = svc.get_shareholder(bv.org, sh_id)
    f = request.form
    _run(
        lambda: svc.pay_in(
            bv.org,
            sh,
            amount=forms.amount(f.get("amount"), "amount"),
            date=forms.date(f.get("date"), "date", dt.date.today()),
            actor=bv.user,
        )
    )
    return _done(_("Payment posted."), "shareholders.shareholder", org_id=org_id, sh_id=sh_id)


@bp.post(BASE + "/<id:sh_id>/certificate")
@login_required
def issue_certificate(org_id: int, sh_id: int):
    bv = _bv(org_id)
    sh = svc.get_shareholder(bv.org, sh_id)
    _run(
        lambda: svc.issue_certificate(
            bv.org,
            sh,
            date=forms.date(request.form.get("date"), "date", dt.date.today()),
            actor=bv.user,
        )
    )
    return _done(_("Certificate issued."), "shareholders.shareholder", org_id=org_id, sh_id=sh_id)


def _pdf(template: str, filename: str, **ctx):
    body = render_pdf(render_template(template, generated_at=dt.datetime.now(dt.UTC), **ctx))
    audit.note(export=filename)
    return download(body, filename, "application/pdf", inline=True, private=True)


@bp.get(BASE + "/<id:sh_id>/statement.pdf")
@login_required
def statement_pdf(org_id: int, sh_id: int):
    org, _user, sh, _staff = _holder_access(org_id, sh_id)
    return _pdf(
        "pdf/shareholders_statement.html",
        f"statement-{org.id}-{sh.id}.pdf",
        org=org,
        sh=sh,
        st=statement(org, sh),
    )


@bp.get(BASE + "/<id:sh_id>/certificate.pdf")
@login_required
def certificate_pdf(org_id: int, sh_id: int):
    org, _user, sh, _staff = _holder_access(org_id, sh_id)
    cert = svc.current_certificate(sh)
    if cert is None:
        raise NotFound(_("This shareholder has no certificate in force."))
    return _pdf(
        "pdf/shareholders_certificate.html",
        f"certificate-{cert.label}.pdf",
        org=org,
        sh=sh,
        cert=cert,
        capital=svc.registered_capital(org),
    )


@bp.get(BASE + "/register.csv")
@login_required
def register_csv(org_id: int):
    bv = _bv(org_id)
    as_of = _as_of()
    audit.note(export="register.csv")
    return csv_response(register_rows(bv.org, as_of), f"register-{bv.org.id}.csv")


@bp.get(BASE + "/register.pdf")
@login_required
def register_pdf(org_id: int):
    bv = _bv(org_id)
    as_of = _as_of()
    return _pdf(
        "pdf/shareholders_register.html",
        f"register-{bv.org.id}.pdf",
        org=bv.org,
        as_of=as_of or dt.date.today(),
        holdings=svc.holders(bv.org, as_of),
        capital=svc.registered_capital(bv.org),
    )


# --- transfers ------------------------------------------------------------------------------------


@bp.post(BASE + "/transfers")
@login_required
def propose_transfer(org_id: int):
    bv = _bv(org_id)
    f = request.form

    def run():
        seller = svc.get_shareholder(bv.org, forms.count(f.get("seller_id"), "seller_id"))
        kw: dict = {}
        if f.get("buyer_id"):
            kw["buyer"] = svc.get_shareholder(bv.org, forms.count(f.get("buyer_id"), "buyer_id"))
        elif f.get("outsider_org_id"):
            kw["outsider_org"] = forms.organisation(f.get("outsider_org_id"), "outsider_org_id")
        else:
            kw["outsider_resident"] = forms.resident(
                f.get("outsider_resident_id"), "outsider_resident_id"
            )
        return svc.propose_transfer(
            bv.org,
            seller,
            amount=forms.amount(f.get("amount"), "amount"),
            price=forms.amount(f.get("price") or "0", "price", allow_zero=True),
            payment_terms=forms.text(f.get("payment_terms"), "payment_terms"),
            date=forms.date(f.get("date"), "date", dt.date.today()),
            actor=bv.user,
            **kw,
        )

    t, warning = _run(run)
    if warning:
        flash(warning, "warning")
    return _done(_("Transfer recorded."), "shareholders.transfer", org_id=org_id, transfer_id=t.id)


@bp.get(BASE + "/transfers/<id:transfer_id>")
@login_required
def transfer(org_id: int, transfer_id: int):
    bv = _bv(org_id)
    t = svc.get_transfer(bv.org, transfer_id)
    return render_template(
        "shareholders/transfer.html",
        bv=bv,
        t=t,
        holdings=svc.holders(bv.org),
        can_write=bv.can_prepare,
        today=dt.date.today(),
    )


@bp.post(BASE + "/transfers/<id:transfer_id>/<any(claim, complete, filing):action>")
@login_required
def transfer_action(org_id: int, transfer_id: int, action: str):
    bv = _bv(org_id)
    t = svc.get_transfer(bv.org, transfer_id)
    f = request.form
    day = forms.date(f.get("date"), "date", dt.date.today())

    def run():
        if action == "claim":
            sh = svc.get_shareholder(bv.org, forms.count(f.get("shareholder_id"), "shareholder_id"))
            svc.claim_preemption(bv.org, t, sh, date=day, actor=bv.user)
            return None
        if action == "complete":
            return svc.complete_transfer(bv.org, t, date=day, actor=bv.user)
        svc.record_filing(bv.org, t, date=day, actor=bv.user)
        return None

    warning = _run(run)
    if warning:
        flash(warning, "warning")
    return _done(_("Saved."), "shareholders.transfer", org_id=org_id, transfer_id=transfer_id)


# --- dividends ------------------------------------------------------------------------------------


@bp.get(BASE + "/dividends")
@login_required
def dividends(org_id: int):
    bv = _bv(org_id)
    year = dt.date.today().year - 1
    figures = None
    try:
        figures = svc.dividend_figures(bv.org, profit_year=year, date=dt.date.today())
    except DomainError:
        figures = None
    return render_template(
        "shareholders/dividends.html",
        bv=bv,
        resolutions=svc.dividends(bv.org),
        figures=figures,
        year=year,
        can_write=bv.can_prepare,
        today=dt.date.today(),
    )


@bp.post(BASE + "/dividends")
@login_required
def declare_dividend(org_id: int):
    bv = _bv(org_id)
    f = request.form
    r = _run(
        lambda: svc.declare_dividend(
            bv.org,
            resolution_date=forms.date(f.get("resolution_date"), "resolution_date"),
            record_date=forms.date(f.get("record_date"), "record_date"),
            profit_year=forms.count(f.get("profit_year"), "profit_year"),
            amount=forms.amount(f.get("amount"), "amount"),
            reserve=forms.amount(f.get("reserve") or "0", "reserve", allow_zero=True),
            votes_for=forms.count(f.get("votes_for"), "votes_for"),
            votes_against=forms.count(f.get("votes_against"), "votes_against"),
            votes_abstain=forms.count(f.get("votes_abstain"), "votes_abstain"),
            agreed_weights=forms.weights(f.get("agreed_weights")),
            agreement_note=forms.text(f.get("agreement_note"), "agreement_note"),
            actor=bv.user,
        )
    )
    return _done(
        _("Dividend declared and posted."), "shareholders.dividend", org_id=org_id, dividend_id=r.id
    )


@bp.get(BASE + "/dividends/<id:dividend_id>")
@login_required
def dividend(org_id: int, dividend_id: int):
    bv = _bv(org_id)
    return render_template(
        "shareholders/dividend.html",
        bv=bv,
        r=svc.get_dividend(bv.org, dividend_id),
        can_write=bv.can_prepare,
        today=dt.date.today(),
        tax=svc.income_tax,
    )


@bp.post(BASE + "/dividends/<id:dividend_id>/lines/<id:line_id>/pay")
@login_required
def pay_dividend(org_id: int, dividend_id: int, line_id: int):
    bv = _bv(org_id)
    line = svc.get_dividend_line(bv.org, line_id)
    if line.resolution_id != dividend_id:
        raise NotFound()
    _run(
        lambda: svc.pay_dividend(
            bv.org,
            line,
            date=forms.date(request.form.get("date"), "date", dt.date.today()),
            actor=bv.user,
        )
    )
    return _done(
        _("Dividend paid."), "shareholders.dividend", org_id=org_id, dividend_id=dividend_id
    )


@bp.post(BASE + "/dividends/<id:dividend_id>/pay-all")
@login_required
def pay_all_dividends(org_id: int, dividend_id: int):
    """Pay every unpaid line of a resolution at once (one posting, one voucher per line)."""
    bv = _bv(org_id)
    r = svc.get_dividend(bv.org, dividend_id)
    paid = _run(
        lambda: svc.pay_dividends(
            bv.org,
            r,
            date=forms.date(request.form.get("date"), "date", dt.date.today()),
            actor=bv.user,
        )
    )
    return _done(
        _(
            "Dividend lines paid: %(count)d, %(total)s in all (income tax withheld %(tax)s).",
            count=len(paid),
            total=money(sum(ln.amount for ln in paid)),
            tax=money(sum(ln.tax for ln in paid)),
        ),
        "shareholders.dividend",
        org_id=org_id,
        dividend_id=dividend_id,
    )


# --- a shareholder's own pages ------------------------------------------------------------------


@bp.get("/my/shares")
@login_required
def mine():
    user = authenticated_user()
    own = svc.holdings_of_user(user)
    return render_template(
        "shareholders/mine.html",
        items=[(sh, statement(sh.organisation, sh)) for sh in own],
    )


def personal_links(user) -> list[tuple[str, str]]:
    """ "My shares" in the top bar for a resident who is a shareholder somewhere."""
    if not svc.holdings_of_user(user):
        return []
    return [(url_for("shareholders.mine"), _("My shares"))]
