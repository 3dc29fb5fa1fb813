"""Authorization-matrix rows of the points domain (see tests/security/authz_matrix.py)."""

from __future__ import annotations

from tests.security.rows import Row

_GRANT = {
    "activity_id": "{activity_id}",
    "activity_date": "2026-11-02",
    "residents": [{"resident_id": "{payer_id}"}],
}
_SCHEME = {"name": "测试积分", "type": "basic", "unit": "PTB2", "decimals": "0", "notice_days": "3"}
_HOURS = {"resident_id": "{payer_id}", "activity": "助老送餐", "date": "2026-11-02", "hours": "1.5"}
_REDEEM = {"item_id": "{item_id}", "resident_id": "{payer_id}", "points": "5"}

# fmt: off
ROWS: list[Row] = [
    #    own                  other                (columns: anon padm admin prep rev aud sup sec res)
    # --- Points pages ------------------------------------------------------------------------------
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/points/<id:org_id>/"),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/points/<id:org_id>/grants", why='staff only; an empty form is refused as bad input'),
    Row("L O O F O F F F F", "L O F F F F F F F", "POST",  "/points/<id:org_id>/grants/<id:grant_id>/<any(approve,reject,credit):action>", why='approvers of the activity (admin, reviewer); the preparer requested it'),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/points/<id:org_id>/grants/<id:grant_id>/objections", why='staff only; an empty reason is refused'),
    Row("L V V F F F F F F", "L V F F F F F F F", "POST",  "/points/<id:org_id>/expire", why='admin only; no date is refused'),
    Row("L O O O O F F F F", "L O F F F F F F F", "GET",   "/points/<id:org_id>/redeem"),
    Row("L O O O O F F F F", "L O F F F F F F F", "POST",  "/points/<id:org_id>/redeem", why='no resident or item chosen: the page again'),
    Row("L O O O O O O O O", "L O O O O O O O O", "GET",   "/points/me", why="the login's own points only"),
    # --- The treasurer's points pages (catalogue, volunteer hours, objections, exchange, rates) ----
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/points/<id:org_id>/catalogue"),
    Row("L O O F F F F F F", "L O F F F F F F F", "POST",  "/points/<id:org_id>/schemes", body=_SCHEME, why='admin only'),
    Row("L O O F F F F F F", "L O F F F F F F F", "POST",  "/points/<id:org_id>/schemes/<id:scheme_id>", body={"name": "服务积分", "notice_days": "3"}, why='admin only'),
    Row("L O O F F F F F F", "L O F F F F F F F", "POST",  "/points/<id:org_id>/activities", body={"scheme_id": "{scheme_id}", "name": "活动", "points": "5", "approver_roles": "admin,reviewer"}, why='admin only'),
    Row("L O O F F F F F F", "L O F F F F F F F", "POST",  "/points/<id:org_id>/activities/<id:activity_id>", body={"name": "助老送餐", "points": "10", "approver_roles": "admin,reviewer", "active": "1"}, why='admin only'),
    Row("L O O F F F F F F", "L O F F F F F F F", "POST",  "/points/<id:org_id>/items", body={"scheme_id": "{scheme_id}", "name": "理发", "price": "10.00", "max_points": "5"}, why='admin only'),
    Row("L O O F F F F F F", "L O F F F F F F F", "POST",  "/points/<id:org_id>/items/<id:item_id>", body={"name": "理发", "price": "30.00", "max_points": "20", "active": "1"}, why='admin only'),
    Row("L O O O O F F F F", "L O F F F F F F F", "GET",   "/points/<id:org_id>/volunteer", why='staff only: volunteer records are private'),
    Row("L O O O O F F F F", "L O F F F F F F F", "POST",  "/points/<id:org_id>/volunteer", body=_HOURS, why='staff only'),
    Row("L O O F O F F F F", "L O F F F F F F F", "POST",  "/points/<id:org_id>/volunteer/<id:volunteer_record_id>/approve", why='admin or reviewer, not who recorded it'),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/points/<id:org_id>/volunteer/<id:volunteer_record_id>/grant", body={"activity_id": "{activity_id}"}, why='staff only; the record is not approved yet: 409'),
    Row("L O O O O F F F F", "L O F F F F F F F", "GET",   "/points/<id:org_id>/objections", why='staff only'),
    Row("L O O F O F F F F", "L O F F F F F F F", "POST",  "/points/<id:org_id>/objections/<id:objection_id>/resolve", body={"outcome": "dismissed"}, why='approvers of the activity (admin, reviewer)'),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/points/<id:org_id>/exchange"),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/points/<id:org_id>/settlements", body={"amount": "1.00"}, why='staff only; no payee named: 422'),
    Row("L O F F F F F F F", "L O F F F F F F F", "GET",   "/points/rates", why='the platform sets rates'),
    Row("L V F F F F F F F", "L V F F F F F F F", "POST",  "/points/rates", body={"from_scheme_id": "{scheme_id}", "to_scheme_id": "{scheme_id}", "rate": "0.5", "effective_from": "2026-11-02"}, why='platform admins only; a scheme with itself is refused'),
    # --- Points API --------------------------------------------------------------------------------
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/points"),
    Row("L O O O O F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/grants", body=_GRANT),
    Row("L O O F O F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/grants/<id:grant_id>/<any(approve,reject,credit):action>"),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/grants/<id:grant_id>/objections", body={"reason": "未参加"}, why='the grant is not on notice yet: 409'),
    Row("L O O F O F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/objections/<id:objection_id>/resolve", body={"upheld": False}),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/redemptions", body=_REDEEM, why='the resident holds no points: 409'),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/points/reconciliation"),
    Row("L O O F F F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/expiry", body={"as_of": "2026-11-02"}),
    Row("L O O O O O O O O", "L O O O O O O O O", "GET",   "/api/v1/points/me"),
    Row("L O O F F F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/schemes", body={"name": "测试积分", "type": "basic", "unit": "PTB2"}),
    Row("L O O F F F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/activities", body={"scheme_id": "{points_scheme_id}", "name": "活动", "points": "5"}),
    Row("L O O F F F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/items", body={"scheme_id": "{points_scheme_id}", "name": "理发", "price_fen": 1000, "max_points": "5"}),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/settlements", body={"payee_org_id": "{org_id}", "amount_fen": 100}, why='nothing is owed: 422'),
    Row("L V F F F F F F F", "L V F F F F F F F", "POST",  "/api/v1/points/rates", body={"from_scheme_id": "{points_scheme_id}", "to_scheme_id": "{points_scheme_id}", "rate": "0.5", "effective_from": "2026-11-02"}, why='platform admins only; a scheme with itself is refused'),
    Row("L O O F F F F F F", "L O F F F F F F F", "PATCH", "/api/v1/organisations/<id:org_id>/points/schemes/<id:scheme_id>", body={"notice_days": 3}),
    Row("L O O F F F F F F", "L O F F F F F F F", "PATCH", "/api/v1/organisations/<id:org_id>/points/activities/<id:activity_id>", body={"points": "10"}),
    Row("L O O F F F F F F", "L O F F F F F F F", "PATCH", "/api/v1/organisations/<id:org_id>/points/items/<id:item_id>", body={"max_points": "20"}),
    Row("L O O O O F F F F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/points/volunteer-records", why='staff only: volunteer records are private'),
    Row("L O O O O F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/volunteer-records", body=_HOURS),
    Row("L O O F O F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/volunteer-records/<id:volunteer_record_id>/approve", why='admin or reviewer, not who recorded it'),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/points/volunteer-records/<id:volunteer_record_id>/grant", body={"activity_id": "{activity_id}"}, why='the record is not approved yet: 409'),
    Row("L O O O O F F F F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/points/objections"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/points/settlements"),
    Row("L O O O O O O O O", "L O O O O O O O O", "GET",   "/api/v1/points/rates", why='the platform table: scheme ids and rates, no person'),
]
# fmt: on
