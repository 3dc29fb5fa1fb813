"""Points pages: the issuer's desk (grants, notices, reconciliation, expiry), the staff
phone redemption page (three taps), the resident's own points, and the public section."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup

from core import auth, parse
from core.db import db
from core.errors import DomainError, InvalidInput, NotFound
from core.models import Organisation, Resident
from core.people import my_resident_records

from . import services as svc
from .models import (
    ExchangeRate,
    GrantStatus,
    PointActivity,
    PointGrant,
    PointIssuer,
    RedemptionItem,
)

bp = Blueprint("points", __name__, url_prefix="/points")


def _open(org_id: int):
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise NotFound()
    user = auth.can_read(org)
    return org, user, svc.issuer_for(org)


def _id(value, field: str) -> int:
    return parse.int_id(value, field=field) if value not in (None, "") else 0


@bp.get("/<id:org_id>/")
@login_required
def home(org_id: int):
    org, user, issuer = _open(org_id)
    schemes = svc.schemes_of(issuer)
    grants = (
        db.session.query(PointGrant)
        .filter(PointGrant.scheme_id.in_([x.id for x in schemes] or [0]))
        .order_by(PointGrant.id.desc())
        .limit(50)
        .all()
    )
    activities = (
        db.session.query(PointActivity)
        .filter(PointActivity.scheme_id.in_([x.id for x in schemes] or [0]), PointActivity.active)
        .all()
    )
    soon = {x.id: svc.expiring_soon(x) for x in schemes}
    reminders = {k: len(v) for k, v in soon.items()}
    is_staff = user.is_platform_admin or bool(
        {r.value for r in svc.STAFF} & set(user.roles_in(org.id))
    )
    # The reminder list (PT-7: remind before clearing): staff see whom to tell, masked.
    people = svc.all_residents(r[0] for v in soon.values() for r in v) if is_staff else {}
    return render_template(
        "points/home.html",
        org=org,
        issuer=issuer,
        schemes=schemes,
        grants=grants,
        activities=activities,
        items=svc.items_of(issuer),
        recs=svc.reconcile(issuer.id),
        reminders=reminders,
        may_manage=user.is_platform_admin or "admin" in user.roles_in(org.id),
        is_staff=is_staff,
        soon=soon if is_staff else {},
        people=people,
        today=dt.date.today(),
        fmt_points=svc.fmt_points,
        fmt_fen=svc.fmt_fen,
    )


def _back(org_id: int):
    return redirect(url_for("points.home", org_id=org_id))


@bp.post("/<id:org_id>/grants")
@login_required
def request_grant(org_id: int):
    org, user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    # Bad input is refused with its translated message (a 4xx page), nothing stored.
    activity_id = parse.int_id(request.form.get("activity_id"), field="activity_id")
    activity = svc.owned(PointActivity, activity_id, issuer)
    day = parse.date(request.form.get("activity_date"), field="activity_date")
    text = request.form.get("attendance", "")
    upload = request.files.get("attendance_file")
    if upload is not None and upload.filename:
        raw = upload.read(2_000_001)
        if len(raw) > 2_000_000:
            raise InvalidInput(_l("An attendance file is at most 2 MB."))
        try:
            text = (text + "\n" if text.strip() else "") + raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(_l("Save the attendance list as CSV in UTF-8.")) from None
    people = svc.parse_attendance(issuer.community_id, activity.scheme, text)
    g = svc.request_grant(activity, activity_date=day, residents=people, actor=user)
    flash(_("Grant requested for %(n)d people.", n=g.people), "success")
    return _back(org_id)


@bp.post("/<id:org_id>/grants/<id:grant_id>/<any(approve,reject,credit):action>")
@login_required
def grant_action(org_id: int, grant_id: int, action: str):
    org, user, issuer = _open(org_id)
    grant = svc.owned(PointGrant, grant_id, issuer)
    if action == "approve":
        svc.approve_grant(grant, actor=user)
    elif action == "reject":
        svc.reject_grant(grant, actor=user)
    else:
        svc.credit_grant(grant, actor=user)
    flash(_("Done."), "success")
    return _back(org_id)


@bp.post("/<id:org_id>/grants/<id:grant_id>/objections")
@login_required
def object_to_grant(org_id: int, grant_id: int):
    org, user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    grant = svc.owned(PointGrant, grant_id, issuer)
    svc.object_to_grant(grant, request.form.get("reason", ""), actor=user)
    flash(_("Objection recorded: the grant is held."), "success")
    return _back(org_id)


@bp.post("/<id:org_id>/expire")
@login_required
def expire(org_id: int):
    org, user, issuer = _open(org_id)
    auth.require_role(org, *svc.MANAGE, user=user)
    day = parse.date(request.form.get("as_of"), field="as_of")
    runs = svc.expire_all(day, actor=user, issuer_id=issuer.id)
    flash(_("Expired %(n)d points.", n=sum(r.points for r in runs)), "success")
    return _back(org_id)


# --- the staff phone page: find the resident, pick the item, confirm ---------------------------


@bp.route("/<id:org_id>/redeem", methods=["GET", "POST"])
@login_required
def redeem(org_id: int):
    org, user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    args = request.values
    name, last4 = args.get("name", "")[:20], args.get("last4", "")[:4]
    resident = item = None
    found: list[Resident] = []
    error = None
    today = dt.date.today()
    # Points of another community (PT-2): a visitor pays with their own issuer's SERVICE
    # points at the platform's rate; without ``scheme_id``, this issuer's own points.
    partners = svc.exchange_schemes(issuer, day=today)
    pay = None
    sid = _id(args.get("scheme_id"), "scheme_id")
    if sid:
        pay = next((x for x in partners if x.id == sid), None)
        if pay is None:
            raise NotFound(_l("No exchange rate lets these points be spent here."))
    community_id = pay.community_id if pay is not None else issuer.community_id
    items = svc.items_of(issuer)
    if pay is not None:
        rated = {
            i.id
            for i in items
            if db.session.scalar(
                sa.select(ExchangeRate.id).where(
                    ExchangeRate.from_scheme_id == pay.id,
                    ExchangeRate.to_scheme_id == i.scheme_id,
                    ExchangeRate.effective_from <= today,
                    sa.or_(ExchangeRate.effective_to.is_(None), ExchangeRate.effective_to > today),
                )
            )
        }
        items = [i for i in items if i.id in rated]
    try:
        rid = _id(args.get("resident_id"), "resident_id")
        iid = _id(args.get("item_id"), "item_id")
        if rid:
            resident = db.session.get(Resident, rid)
            if resident is None or resident.community_id != community_id:
                raise NotFound(_l("No such resident in this community."))
        if iid:
            item = svc.owned(RedemptionItem, iid, issuer, via_scheme=False)
            if item.id not in {i.id for i in items}:
                raise NotFound(_l("No exchange rate lets these points be spent here."))
        if not resident and last4:
            found = svc.find_residents(community_id, name, last4)
            if not found:
                error = _("Nobody found. Check the name and the last 4 digits.")
    except NotFound:
        raise
    except DomainError as e:
        error = str(e.message)
    spend = pay if pay is not None else (item.scheme if item else None)
    held = svc.available(spend, resident.id, today) if (resident and item and spend) else None
    suggested = None
    q = None
    if resident and item and spend is not None and held is not None:
        try:
            suggested = svc.exchange_cap(item, spend, held, today)
            if suggested > 0:
                q = svc.quote(item, spend, svc.fmt_points(suggested, spend.decimals), day=today)
        except DomainError as e:
            error = str(e.message)
    if request.method == "POST" and resident and item:
        try:
            red = svc.redeem(
                item, resident.id, request.form.get("points", ""), scheme=pay, actor=user
            )
        except DomainError as e:
            if e.status == 403:
                raise
            error = str(e.message)
        else:
            assert spend is not None
            flash(
                _(
                    "Redeemed %(points)s points (%(value)s); cash to pay %(cash)s.",
                    points=svc.fmt_points(red.points, spend.decimals),
                    value=svc.fmt_fen(red.value_fen),
                    cash=svc.fmt_fen(red.cash_fen),
                ),
                "success",
            )
            return redirect(
                url_for("points.redeem", org_id=org_id, scheme_id=pay.id if pay else None)
            )
    return render_template(
        "points/redeem.html",
        org=org,
        issuer=issuer,
        name=name,
        last4=last4,
        found=found,
        resident=resident,
        item=item,
        items=items,
        held=held,
        suggested=suggested,
        quote=q,
        error=error,
        pay=pay,
        spend=spend,
        partners=partners,
        keep={"scheme_id": pay.id} if pay is not None else {},
        fmt_points=svc.fmt_points,
        fmt_fen=svc.fmt_fen,
    ), (422 if error and request.method == "POST" else 200)


# --- the resident's own points ------------------------------------------------------------------


@bp.get("/me")
@login_required
def mine():
    user = auth.authenticated_user()
    rows = [row for r in my_resident_records(user) for row in svc.my_points(r)]
    return render_template(
        "points/mine.html",
        rows=rows,
        today=dt.date.today(),
        fmt_points=svc.fmt_points,
        fmt_fen=svc.fmt_fen,
        value_of=svc.value_of,
    )


def personal_links(user) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from .models import PointHolding

    ids = [r.id for r in my_resident_records(user)]
    if ids and db.session.scalar(
        select(PointHolding.id).where(PointHolding.resident_id.in_(ids)).limit(1)
    ):
        return [(url_for("points.mine"), str(_l("My points")))]
    return []


def public_section(organisation) -> Markup | None:
    issuer = db.session.query(PointIssuer).filter_by(organisation_id=organisation.id).one_or_none()
    if issuer is None:
        return None
    rows = [r for r in svc.public_months(issuer) if r["scheme"].type == "service"]
    return Markup(
        render_template(
            "points/_public.html",
            rows=rows,
            notices=[
                g for g in svc.notices(issuer.community_id) if g.scheme.issuer_id == issuer.id
            ],
            fmt_points=svc.fmt_points,
            fmt_fen=svc.fmt_fen,
            GrantStatus=GrantStatus,
        )
    )
