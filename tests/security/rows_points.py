"""Authorization-matrix rows of the points domain (see tests/security/authz_matrix.py)."""

from __future__ import annotations

from tests.security.rows import Row

_GRANT = {
    "activity_id": "{activity_id}",
    "activity_date": "2026-11-02",
    "residents": [{"resident_id": "{payer_id}"}],
}
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
]
# fmt: on
