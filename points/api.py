"""The points API under /api/v1 (flask-smorest). Writes accept an Idempotency-Key header
(core.idempotency): a retried redemption never spends twice. Endpoints are thin: read the
organisation (any role there to read), call a service, present."""

from __future__ import annotations

import datetime as dt

from flask_smorest import Blueprint

from core import audit, auth
from core.db import db
from core.errors import NotFound
from core.idempotency import OPENAPI_PARAMETER, idempotent
from core.models import Organisation
from core.people import my_resident_records

from . import schemas as s
from . import services as svc
from .models import (
    PointActivity,
    PointGrant,
    PointObjection,
    PointScheme,
    RedemptionItem,
    VolunteerRecord,
)

blp = Blueprint(
    "points_api", __name__, url_prefix="/api/v1", description="Points (积分): grants, redemptions"
)

BASE = "/organisations/<id:org_id>/points"


def _write(view):
    return idempotent(blp.doc(parameters=[OPENAPI_PARAMETER])(view))


def _open(org_id: int):
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise NotFound()
    user = auth.can_read(org)
    return user, svc.issuer_for(org)


@blp.get(BASE)
@blp.response(200)
def catalogue(org_id: int):
    """The issuer, its schemes, its activity catalogue and its redemption items."""
    _user, issuer = _open(org_id)
    schemes = svc.schemes_of(issuer)
    return {
        "issuer": {"id": issuer.id, "name": issuer.name, "kind": issuer.kind},
        "schemes": [
            {
                "id": x.id,
                "name": x.name,
                "type": x.type,
                "unit": x.unit,
                "decimals": x.decimals,
                "value_fen": x.value_fen,
                "money_mode": x.money_mode,
                "expiry_rule": x.expiry_rule,
                "validity_months": x.validity_months,
                "notice_days": x.notice_days,
                "activities": [
                    {"id": a.id, "name": a.name, "tag": a.tag, "points": a.points}
                    for a in db.session.query(PointActivity).filter_by(scheme_id=x.id, active=True)
                ],
            }
            for x in schemes
        ],
        "items": [
            {
                "id": i.id,
                "name": i.name,
                "scheme_id": i.scheme_id,
                "price_fen": i.price_fen,
                "max_points": i.max_points,
                "funder": i.funder,
            }
            for i in svc.items_of(issuer)
        ],
    }


@blp.post(BASE + "/grants")
@_write
@blp.arguments(s.GrantIn)
@blp.response(201, s.GrantOut)
def request_grant(data: dict, org_id: int):
    """Request points for an activity's attendees: a list, or an attendance list as CSV text
    (``resident id[, points]`` per line)."""
    user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    activity = svc.owned(PointActivity, data["activity_id"], issuer)
    people = [(r["resident_id"], r["points"]) for r in data["residents"]]
    if data["attendance"].strip():
        people += svc.parse_attendance(issuer.community_id, activity.scheme, data["attendance"])
    grant = svc.request_grant(
        activity, activity_date=data["activity_date"], residents=people, actor=user
    )
    audit.note(grant_id=grant.id)
    return grant


@blp.post(BASE + "/grants/<id:grant_id>/<any(approve,reject,credit):action>")
@_write
@blp.response(200, s.GrantOut)
def grant_action(org_id: int, grant_id: int, action: str):
    """Approve (publicise for the notice period), reject, or credit after the notice."""
    user, issuer = _open(org_id)
    grant = svc.owned(PointGrant, grant_id, issuer)
    audit.note(grant_id=grant.id)
    if action == "approve":
        return svc.approve_grant(grant, actor=user)
    if action == "reject":
        return svc.reject_grant(grant, actor=user)
    return svc.credit_grant(grant, actor=user)


@blp.post(BASE + "/grants/<id:grant_id>/objections")
@_write
@blp.arguments(s.ObjectionIn)
@blp.response(201)
def object_to_grant(data: dict, org_id: int, grant_id: int):
    """Record an objection during the notice period: it holds the grant."""
    user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    grant = svc.owned(PointGrant, grant_id, issuer)
    o = svc.object_to_grant(grant, data["reason"], actor=user)
    return {"id": o.id, "grant_id": grant.id, "status": grant.status}, 201


@blp.post(BASE + "/objections/<id:objection_id>/resolve")
@_write
@blp.arguments(s.ResolveIn)
@blp.response(200, s.GrantOut)
def resolve_objection(data: dict, org_id: int, objection_id: int):
    user, issuer = _open(org_id)
    o = db.session.get(PointObjection, objection_id)
    if o is None:
        raise NotFound()
    svc.owned(PointGrant, o.grant_id, issuer)
    return svc.resolve_objection(o, upheld=data["upheld"], actor=user)


@blp.post(BASE + "/redemptions")
@_write
@blp.arguments(s.RedemptionIn)
@blp.response(201, s.RedemptionOut)
def redeem(data: dict, org_id: int):
    """Points + cash against an item of this issuer. ``scheme_id``: another issuer's SERVICE
    points, exchanged at the platform's rate."""
    user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    item = svc.owned(RedemptionItem, data["item_id"], issuer, via_scheme=False)
    scheme = svc.get_scheme(data["scheme_id"]) if data["scheme_id"] else None
    red = svc.redeem(item, data["resident_id"], data["points"], scheme=scheme, actor=user)
    audit.note(redemption_id=red.id)
    return red


@blp.get(BASE + "/reconciliation")
@blp.arguments(s.AsOfQuery, location="query")
@blp.response(200, s.ReconciliationOut(many=True))
def reconciliation(query: dict, org_id: int):
    """Holders' balances against the control account, per scheme, in points and value."""
    _user, issuer = _open(org_id)
    return svc.reconcile(issuer.id, query["as_of"], deep=query["deep"])


@blp.post(BASE + "/expiry")
@_write
@blp.arguments(s.ExpiryIn)
@blp.response(200, s.ExpiryOut(many=True))
def expire(data: dict, org_id: int):
    """Post the expiry of lapsed lots up to ``as_of`` (idempotent per date)."""
    user, issuer = _open(org_id)
    auth.require_role(issuer.organisation, *svc.MANAGE, user=user)
    return svc.expire_all(data["as_of"], actor=user, issuer_id=issuer.id)


@blp.get("/points/me")
@blp.response(200)
def my_points():
    """The signed-in resident's own balances, lots and expiries (nobody else's)."""
    user = auth.authenticated_user()
    out = []
    for r in my_resident_records(user):
        for row in svc.my_points(r):
            x: PointScheme = row["scheme"]
            out.append(
                {
                    "scheme_id": x.id,
                    "scheme": x.name,
                    "unit": x.unit,
                    "balance": row["balance"],
                    "value_fen": svc.value_of(x, row["balance"]),
                    "lots": [
                        {
                            "earned_on": lot.earned_on.isoformat(),
                            "expires_on": lot.expires_on.isoformat() if lot.expires_on else None,
                            "remaining": lot.remaining,
                        }
                        for lot in row["lots"]
                    ],
                }
            )
    return {"as_of": dt.date.today().isoformat(), "balances": out}


@blp.post(BASE + "/schemes")
@_write
@blp.arguments(s.SchemeIn)
@blp.response(201)
def create_scheme(data: dict, org_id: int):
    """A scheme: its points unit declared in the issuer's book, its accounts opened (admin)."""
    user, issuer = _open(org_id)
    x = svc.create_scheme(issuer, actor=user, **data)
    return {"id": x.id, "unit": x.unit, "type": x.type}, 201


@blp.post(BASE + "/activities")
@_write
@blp.arguments(s.ActivityIn)
@blp.response(201)
def create_activity(data: dict, org_id: int):
    """An activity of the catalogue with its points per person and who may approve (admin)."""
    user, issuer = _open(org_id)
    scheme = svc.owned(PointScheme, data.pop("scheme_id"), issuer)
    a = svc.create_activity(scheme, actor=user, **data)
    return {"id": a.id, "points": a.points}, 201


@blp.post(BASE + "/items")
@_write
@blp.arguments(s.ItemIn)
@blp.response(201)
def create_item(data: dict, org_id: int):
    """A redemption item: price, per-redemption cap and who bears the points' value (admin)."""
    user, issuer = _open(org_id)
    scheme = svc.owned(PointScheme, data.pop("scheme_id"), issuer)
    it = svc.create_item(issuer, scheme, actor=user, **data)
    return {"id": it.id, "max_points": it.max_points}, 201


@blp.post(BASE + "/settlements")
@_write
@blp.arguments(s.SettlementIn)
@blp.response(201)
def settle(data: dict, org_id: int):
    """Pay another issuer what exchanged points cost it: bank to bank, both books."""
    user, issuer = _open(org_id)
    payee_org = db.session.get(Organisation, data["payee_org_id"])
    if payee_org is None:
        raise NotFound()
    payee = svc.issuer_for(payee_org)
    a, b = svc.settle_exchange(issuer, payee, data["amount_fen"], actor=user)
    return {"voucher_ids": [a, b], "owed_fen": svc.settlement_owed(issuer, payee)}, 201


@blp.post("/points/rates")
@_write
@blp.arguments(s.RateIn)
@blp.response(201)
def set_rate(data: dict):
    """The platform's exchange rate between two issuers' SERVICE schemes (platform admins)."""
    user = auth.authenticated_user()
    rate = svc.set_rate(
        svc.get_scheme(data["from_scheme_id"]),
        svc.get_scheme(data["to_scheme_id"]),
        data["rate"],
        effective_from=data["effective_from"],
        actor=user,
    )
    return {"id": rate.id, "rate": str(rate.rate)}, 201


# --- editing the catalogue --------------------------------------------------------------------


@blp.patch(BASE + "/schemes/<id:scheme_id>")
@_write
@blp.arguments(s.SchemePatch)
@blp.response(200)
def edit_scheme(data: dict, org_id: int, scheme_id: int):
    """Rename a scheme or change its notice period (admin); the rest is fixed."""
    user, issuer = _open(org_id)
    auth.require_role(issuer.organisation, *svc.MANAGE, user=user)
    x = svc.update_scheme(svc.owned(PointScheme, scheme_id, issuer), actor=user, **data)
    return {"id": x.id, "name": x.name, "notice_days": x.notice_days}


@blp.patch(BASE + "/activities/<id:activity_id>")
@_write
@blp.arguments(s.ActivityPatch)
@blp.response(200)
def edit_activity(data: dict, org_id: int, activity_id: int):
    """Change an activity of the catalogue (admin); grants already requested keep theirs."""
    user, issuer = _open(org_id)
    auth.require_role(issuer.organisation, *svc.MANAGE, user=user)
    a = svc.update_activity(svc.owned(PointActivity, activity_id, issuer), actor=user, **data)
    return {"id": a.id, "name": a.name, "points": a.points, "active": a.active}


@blp.patch(BASE + "/items/<id:item_id>")
@_write
@blp.arguments(s.ItemPatch)
@blp.response(200)
def edit_item(data: dict, org_id: int, item_id: int):
    """Change an item's name, price, cap or whether it is offered (admin)."""
    user, issuer = _open(org_id)
    auth.require_role(issuer.organisation, *svc.MANAGE, user=user)
    it = svc.owned(RedemptionItem, item_id, issuer, via_scheme=False)
    it = svc.update_item(it, actor=user, **data)
    return {
        "id": it.id,
        "price_fen": it.price_fen,
        "max_points": it.max_points,
        "active": it.active,
    }


# --- volunteer-hour records (PT-6) ------------------------------------------------------------


def _record(issuer, record_id: int) -> VolunteerRecord:
    rec = db.session.get(VolunteerRecord, record_id)
    if rec is None or rec.issuer_id != issuer.id:
        raise NotFound()
    return rec


@blp.get(BASE + "/volunteer-records")
@blp.response(200, s.VolunteerOut(many=True))
def volunteer_records(org_id: int):
    """The issuer's volunteer-hour records (staff): who, activity, hours, recorded and
    approved by whom. Private: never on a public page."""
    user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    return svc.volunteer_records(issuer)


@blp.post(BASE + "/volunteer-records")
@_write
@blp.arguments(s.VolunteerIn)
@blp.response(201, s.VolunteerOut)
def record_volunteer(data: dict, org_id: int):
    """Record hours of volunteer service (staff); a second person approves them."""
    user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    return svc.record_volunteer_hours(
        issuer.community_id,
        data["resident_id"],
        activity=data["activity"],
        date=data["date"],
        minutes=svc.parse_hours(data["hours"]),
        actor=user,
        issuer=issuer,
    ), 201


@blp.post(BASE + "/volunteer-records/<id:volunteer_record_id>/approve")
@_write
@blp.response(200, s.VolunteerOut)
def approve_volunteer(org_id: int, volunteer_record_id: int):
    """Approve a record (admin or reviewer, not who recorded it)."""
    user, issuer = _open(org_id)
    return svc.approve_volunteer_record(_record(issuer, volunteer_record_id), actor=user)


@blp.post(BASE + "/volunteer-records/<id:volunteer_record_id>/grant")
@_write
@blp.arguments(s.VolunteerGrantIn)
@blp.response(201, s.GrantOut)
def grant_for_volunteer(data: dict, org_id: int, volunteer_record_id: int):
    """Request an activity's catalogue points for an approved record (the grant references
    it; approval, notice and crediting as for any grant)."""
    user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    rec = _record(issuer, volunteer_record_id)
    activity = svc.owned(PointActivity, data["activity_id"], issuer)
    return svc.request_grant_for_record(rec, activity, actor=user), 201


# --- objections and settlements (read) --------------------------------------------------------


@blp.get(BASE + "/objections")
@blp.response(200, s.ObjectionOut(many=True))
def objections(org_id: int):
    """Objections to this issuer's grants, open ones first (staff)."""
    user, issuer = _open(org_id)
    svc.require_staff(issuer, user)
    return svc.objections_of(issuer)


@blp.get(BASE + "/settlements")
@blp.response(200)
def settlements(org_id: int):
    """Per issuer linked by a rate: what this issuer owes it and it owes this one (fen)."""
    _user, issuer = _open(org_id)
    return [
        {
            "issuer_id": p["issuer"].id,
            "organisation_id": p["issuer"].organisation_id,
            "name": p["issuer"].name,
            "we_owe_fen": p["we_owe_fen"],
            "they_owe_fen": p["they_owe_fen"],
        }
        for p in svc.exchange_partners(issuer)
    ]


@blp.get("/points/rates")
@blp.response(200)
def rates():
    """The platform's exchange-rate table (any signed-in user with a role may read it)."""
    auth.authenticated_user()
    return [
        {
            "id": r.id,
            "from_scheme_id": r.from_scheme_id,
            "to_scheme_id": r.to_scheme_id,
            "rate": str(r.rate),
            "effective_from": r.effective_from.isoformat(),
            "effective_to": r.effective_to.isoformat() if r.effective_to else None,
        }
        for r in svc.rates_of()
    ]
