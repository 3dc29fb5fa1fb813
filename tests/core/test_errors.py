import sqlalchemy as sa

from core.db import db
from core.models import AuditEvent


def test_malformed_json_is_400_in_json(client_as):
    c = client_as("admin")
    r = c.post(
        "/api/v1/tokens",
        data="{not json",
        content_type="application/json",
        headers={"X-CSRFToken": c.csrf},
    )
    assert r.status_code == 400
    body = r.get_json()
    assert set(body) == {"code", "message", "errors"} and body["message"]


def test_schema_errors_name_the_field(client_as):
    c = client_as("admin")
    r = c.post(
        "/api/v1/tokens",
        json={"name": ""},
        headers={"X-CSRFToken": c.csrf, "Accept-Language": "en"},
    )
    assert r.status_code == 422
    assert "name" in r.get_json()["errors"]


def test_oversized_body_is_413(app, client_as):
    c = client_as("admin")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        r = c.post(
            "/api/v1/tokens",
            data="x" * 5000,
            content_type="application/json",
            headers={"X-CSRFToken": c.csrf},
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    assert r.status_code == 413


def test_id_past_2_63_is_404_not_500(client):
    for bad in ("9223372036854775808", "99999999999999999999999", "0"):
        r = client.get(f"/api/v1/organisations/{bad}")
        assert r.status_code == 404, bad
        assert r.get_json()["code"] == "not_found"


def test_existing_organisation_api(client, organisation):
    r = client.get(f"/api/v1/organisations/{organisation.id}")
    assert r.status_code == 200 and r.get_json()["standard"] == "SME_2011"


def test_html_404_is_localised(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "不存在" in r.get_data(as_text=True)
    r = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert "does not exist" in r.get_data(as_text=True)


def test_unexpected_error_is_a_localised_500_and_rolled_back(client_as):
    from core.models import Community

    c = client_as("admin")
    r = c.post("/__test/boom", headers={"Accept": "application/json", "X-CSRFToken": c.csrf})
    assert r.status_code == 500
    assert r.get_json()["message"] == "服务器内部错误，问题已记录。"
    assert db.session.scalar(sa.select(Community).where(Community.slug == "boom")) is None
    ev = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert ev.outcome == "error" and ev.status_code == 500


def test_openapi_description_is_served(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/me" in spec["paths"]


def test_deeply_nested_json_is_400(client_as):
    c = client_as("admin")
    body = "[" * 100000 + "]" * 100000
    r = c.post(
        "/api/v1/tokens",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": c.csrf},
    )
    assert r.status_code == 400 and r.get_json()["code"] == "bad_request"


def test_openapi_schema_names_are_unique(client):
    """Two schemas of one name (say a domain's ``PaymentIn`` and another's) make apispec rename
    one ``PaymentIn1``: a client generated from the description would get a puzzling type."""
    import re

    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    renamed = sorted(n for n in schemas if re.fullmatch(r"[A-Za-z]+[A-Za-z]\d+", n))
    assert not renamed, f"schema names made unique by apispec: {renamed}"
