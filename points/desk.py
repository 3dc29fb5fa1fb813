"""The treasurer's points pages (on the ``points`` blueprint): the catalogue (schemes,
activities, redemption items: create and edit), volunteer-hour records, residents'
objections, the exchange with other issuers (rates, open settlements, settling) and the
platform's rate table. Every write goes through the same services as the API; bad input is a
translated 4xx page and nothing is stored."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from core import auth, parse
from core.db import db
from core.errors import InvalidInput, NotFound, NotPermitted
from core.models import Organisation, Resident
from ledger.amounts import parse_amount

from . import services as svc
from .models import (
    PointActivity,
    PointGrant,
    PointObjection,
    PointScheme,
    RedemptionItem,
    VolunteerRecord,
)
from .views import bp


def _open(org_id: int):
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise NotFound()
    user = auth.can_read(org)
    return org, user, svc.issuer_for(org)


def _may_manage(user, org) -> bool:
    return bool(user.is_platform_admin or "admin" in user.roles_in(org.id))


def _is_staff(user, org) -> bool:
    return bool(user.is_platform_admin or set(user.roles_in(org.id)) & {r.value for r in svc.STAFF})


def _text(name: str, n: int) -> str:
    return parse.text(request.form.get(name), field=name, max_length=n)


def _opt_text(name: str, n: int) -> str | None:
    return _text(name, n) if name in request.form else None


def _int(name: str, lo: int, hi: int) -> int:
    return parse.bounded_int(request.form.get(name, ""), lo, hi, field=name)


def _fen(name: str) -> int:
    return parse_amount(request.form.get(name, ""), 2, field=name)


def _checked(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true")


def _common(org, user, issuer) -> dict:
    return {
        "org": org,
        "issuer": issuer,
        "may_manage": _may_manage(user, org),
        "is_staff": _is_staff(user, org),
        "is_platform": bool(user.is_platform_admin),
        "fmt_points": svc.fmt_points,
        "fmt_fen": svc.fmt_fen,
        "today": dt.date.today(),
    }


# --- the catalogue: schemes, activities, items ------------------------------------------------


@bp.get("/<id:org_id>/catalogue")
@login_required
def catalogue(org_id: int):
    org, user, issuer = _open(org_id)
    return render_template(
        "points/catalogue.html",
        schemes=svc.schemes_of(issuer),
        activities=svc.all_activities(issuer),
        items=svc.all_items(issuer),
        **_common(org, user, issuer),
    )


def _to_catalogue(org_id: int, anchor: str):
    return redirect(url_for("points.catalogue", org_id=org_id) + "#" + anchor)


@bp.post("/<id:org_id>/schemes")
@login_required
def new_scheme(org_id: int):
    org, user, issuer = _open(org_id)
    auth.require_role(org, *svc.MANAGE, user=user)
    kind = request.form.get("type", "")
    value = _fen("value") if request.form.get("value", "").strip() else 0
    rule = request.form.get("expiry_rule", "none")
    x = svc.create_scheme(
        issuer,
        name=_text("name", 100),
        type=kind,
        unit=_text("unit", 24).upper(),
        value_fen=value,
        decimals=_int("decimals", 0, 2),
        money_mode=request.form.get("money_mode", "volunteer"),
        expiry_rule=rule,
        validity_months=_int("validity_months", 0, 120) if rule != "none" else 0,
        notice_days=_int("notice_days", 0, 30),
        actor=user,
    )
    flash(_("Scheme %(name)s created.", name=x.name), "success")
    return _to_catalogue(org_id, f"scheme-{x.id}")


@bp.post("/<id:org_id>/schemes/<id:scheme_id>")
@login_required
def edit_scheme(org_id: int, scheme_id: int):
    org, user, issuer = _open(org_id)
    auth.require_role(org, *svc.MANAGE, user=user)
    x = svc.owned(PointScheme, scheme_id, issuer)
    svc.update_scheme(
        x, name=_text("name", 100), notice_days=_int("notice_days", 0, 30), actor=user
    )
    flash(_("Saved."), "success")
    return _to_catalogue(org_id, f"scheme-{x.id}")


@bp.post("/<id:org_id>/activities")
@login_required
def new_activity(org_id: int):
    org, user, issuer = _open(org_id)
    auth.require_role(org, *svc.MANAGE, user=user)
    scheme = svc.owned(
        PointScheme, parse.int_id(request.form.get("scheme_id"), field="scheme_id"), issuer
    )
    a = svc.create_activity(
        scheme,
        name=_text("name", 200),
        points=request.form.get("points", ""),
        tag=request.form.get("tag", "charitable"),
        approver_roles=_text("approver_roles", 100) or "admin,reviewer",
        actor=user,
    )
    flash(_("Activity %(name)s added.", name=a.name), "success")
    return _to_catalogue(org_id, f"activity-{a.id}")


@bp.post("/<id:org_id>/activities/<id:activity_id>")
@login_required
def edit_activity(org_id: int, activity_id: int):
    org, user, issuer = _open(org_id)
    auth.require_role(org, *svc.MANAGE, user=user)
    a = svc.owned(PointActivity, activity_id, issuer)
    svc.update_activity(
        a,
        name=_text("name", 200),
        points=request.form.get("points", ""),
        tag=request.form.get("tag", a.tag),
        approver_roles=_text("approver_roles", 100),
        active=_checked("active"),
        actor=user,
    )
    flash(_("Saved."), "success")
    return _to_catalogue(org_id, f"activity-{a.id}")


@bp.post("/<id:org_id>/items")
@login_required
def new_item(org_id: int):
    org, user, issuer = _open(org_id)
    auth.require_role(org, *svc.MANAGE, user=user)
    scheme = svc.owned(
        PointScheme, parse.int_id(request.form.get("scheme_id"), field="scheme_id"), issuer
    )
    funder = request.form.get("funder", "issuer")
    fund_id = request.form.get("fund_id") or None
    merchant = request.form.get("merchant_org_id") or None
    it = svc.create_item(
        issuer,
        scheme,
        name=_text("name", 200),
        price_fen=_fen("price"),
        max_points=request.form.get("max_points", ""),
        funder=funder,
        fund_id=parse.int_id(fund_id, field="fund_id") if fund_id else None,
        merchant_org_id=parse.int_id(merchant, field="merchant_org_id") if merchant else None,
        actor=user,
    )
    flash(_("Item %(name)s added.", name=it.name), "success")
    return _to_catalogue(org_id, f"item-{it.id}")


@bp.post("/<id:org_id>/items/<id:item_id>")
@login_required
def edit_item(org_id: int, item_id: int):
    org, user, issuer = _open(org_id)
    auth.require_role(org, *svc.MANAGE, user=user)
    it = svc.owned(RedemptionItem, item_id, issuer, via_scheme=False)
    svc.update_item(
        it,
        name=_text("name", 200),
        price_fen=_fen("price"),
        max_points=request.form.get("max_points", ""),
        active=_checked("active"),
        actor=user,
    )
    flash(_("Saved."), "success")
    return _to_catalogue(org_id, f"item-{it.id}")


# --- volunteer-hour records (志愿服务记录, PT-6) ---------------------------------------------------


@bp.get("/<id:org_id>/volunteer")
@login_required
def volunteer(org_id: int):
    org, user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    recs = svc.volunteer_records(issuer)
    people = svc.all_residents(r.resident_id for r in recs)
    from core.models import User

    ids = {r.recorded_by_id for r in recs} | {r.approved_by_id for r in recs}
    users = {
        u.id: u for u in db.session.query(User).filter(User.id.in_([i for i in ids if i] or [0]))
    }
    return render_template(
        "points/volunteer.html",
        records=recs,
        people=people,
        users=users,
        grants=svc.record_grants(r.id for r in recs),
        activities=[
            a for a in svc.all_activities(issuer) if a.active and a.scheme.type == "service"
        ],
        residents=db.session.query(Resident)
        .filter_by(community_id=issuer.community_id)
        .order_by(Resident.id)
        .limit(500)
        .all(),
        may_approve=user.is_platform_admin
        or bool({"admin", "reviewer"} & set(user.roles_in(org.id))),
        me=user,
        **_common(org, user, issuer),
    )


@bp.post("/<id:org_id>/volunteer")
@login_required
def record_volunteer(org_id: int):
    org, user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    rec = svc.record_volunteer_hours(
        issuer.community_id,
        parse.int_id(request.form.get("resident_id"), field="resident_id"),
        activity=_text("activity", 200),
        date=parse.date(request.form.get("date"), field="date"),
        minutes=svc.parse_hours(request.form.get("hours", "")),
        actor=user,
        issuer=issuer,
    )
    flash(_("Volunteer hours recorded; a second person approves them."), "success")
    return redirect(url_for("points.volunteer", org_id=org_id) + f"#record-{rec.id}")


def _record(issuer, record_id: int) -> VolunteerRecord:
    rec = db.session.get(VolunteerRecord, record_id)
    if rec is None or rec.issuer_id != issuer.id:
        raise NotFound()
    return rec


@bp.post("/<id:org_id>/volunteer/<id:volunteer_record_id>/approve")
@login_required
def approve_volunteer(org_id: int, volunteer_record_id: int):
    org, user, issuer = _open(org_id)
    rec = _record(issuer, volunteer_record_id)
    svc.approve_volunteer_record(rec, actor=user)
    flash(_("Volunteer record approved."), "success")
    return redirect(url_for("points.volunteer", org_id=org_id) + f"#record-{rec.id}")


@bp.post("/<id:org_id>/volunteer/<id:volunteer_record_id>/grant")
@login_required
def grant_for_volunteer(org_id: int, volunteer_record_id: int):
    org, user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    rec = _record(issuer, volunteer_record_id)
    activity = svc.owned(
        PointActivity, parse.int_id(request.form.get("activity_id"), field="activity_id"), issuer
    )
    g = svc.request_grant_for_record(rec, activity, actor=user)
    flash(_("Points requested (grant %(id)d): approve, notice, then credit.", id=g.id), "success")
    return redirect(url_for("points.home", org_id=org_id))


# --- residents' objections --------------------------------------------------------------------


@bp.get("/<id:org_id>/objections")
@login_required
def objections(org_id: int):
    org, user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    return render_template(
        "points/objections.html",
        objections=svc.objections_of(issuer),
        grants={g.id: g for g in (svc.get_grant(o.grant_id) for o in svc.objections_of(issuer))},
        **_common(org, user, issuer),
    )


@bp.post("/<id:org_id>/objections/<id:objection_id>/resolve")
@login_required
def resolve_objection(org_id: int, objection_id: int):
    org, user, issuer = _open(org_id)
    o = db.session.get(PointObjection, objection_id)
    if o is None:
        raise NotFound()
    svc.owned(PointGrant, o.grant_id, issuer)
    outcome = request.form.get("outcome", "")
    if outcome not in ("upheld", "dismissed"):
        raise InvalidInput(_("Choose whether the objection is upheld or dismissed."))
    svc.resolve_objection(o, upheld=outcome == "upheld", actor=user)
    flash(
        _("Objection upheld: the grant is rejected.")
        if outcome == "upheld"
        else _("Objection dismissed."),
        "success",
    )
    return redirect(url_for("points.objections", org_id=org_id))


# --- exchange with other issuers: rates, open settlements, settling --------------------------


@bp.get("/<id:org_id>/exchange")
@login_required
def exchange(org_id: int):
    org, user, issuer = _open(org_id)
    rates = svc.rates_of(issuer)
    return render_template(
        "points/exchange.html",
        rates=rates,
        schemes={
            x.id: x
            for x in (svc.get_scheme(i) for r in rates for i in (r.from_scheme_id, r.to_scheme_id))
        },
        partners=svc.exchange_partners(issuer),
        **_common(org, user, issuer),
    )


@bp.post("/<id:org_id>/settlements")
@login_required
def settle(org_id: int):
    org, user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    payee = svc.get_issuer(parse.int_id(request.form.get("payee_issuer_id"), field="payee"))
    amount = _fen("amount")
    svc.settle_exchange(issuer, payee, amount, actor=user)
    flash(
        _("Settled %(amount)s with %(name)s.", amount=svc.fmt_fen(amount), name=payee.name),
        "success",
    )
    return redirect(url_for("points.exchange", org_id=org_id))


@bp.route("/rates", methods=["GET", "POST"])
@login_required
def rates():
    """The platform's exchange-rate table (platform admins)."""
    user = auth.authenticated_user()
    if not user.is_platform_admin:
        raise NotPermitted(_("Only the platform sets exchange rates."))
    if request.method == "POST":
        r = svc.set_rate(
            svc.get_scheme(
                parse.int_id(request.form.get("from_scheme_id"), field="from_scheme_id")
            ),
            svc.get_scheme(parse.int_id(request.form.get("to_scheme_id"), field="to_scheme_id")),
            _text("rate", 20),
            effective_from=parse.date(request.form.get("effective_from"), field="effective_from"),
            actor=user,
        )
        flash(_("Rate %(rate)s set.", rate=str(r.rate)), "success")
        return redirect(url_for("points.rates"))
    schemes = svc.service_schemes()
    return render_template(
        "points/rates.html",
        rates=svc.rates_of(),
        schemes=schemes,
        by_id={x.id: x for x in schemes},
        today=dt.date.today(),
    )
