"""The JSON API's core endpoints under /api/v1: who am I, communities and organisations
(platform admins create, rename and deactivate them), personal tokens."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from . import audit, auth, onboarding
from .db import db
from .idempotency import OPENAPI_PARAMETER, idempotent
from .models import Community

blp = Blueprint(
    "core_api", __name__, url_prefix="/api/v1", description="Users, communities, tokens"
)


class MembershipSchema(Schema):
    organisation_id = fields.Integer()
    role = fields.String()


class MeSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    is_platform_admin = fields.Boolean()
    memberships = fields.Method("_memberships")

    def _memberships(self, user):
        return [
            {"organisation_id": m.organisation_id, "role": m.role}
            for m in user.memberships
            if m.revoked_at is None
        ]


class CommunitySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    district = fields.String(allow_none=True)
    street = fields.String(allow_none=True)
    area_kind = fields.String()
    population = fields.Integer(allow_none=True)
    population_basis = fields.String(allow_none=True)
    active = fields.Boolean()
    organisations = fields.Method("_orgs")

    def _orgs(self, c):
        return [
            {"id": o.id, "name": o.name, "kind": o.kind, "standard": o.standard}
            for o in c.organisations
        ]


class CommunityIn(Schema):
    name = fields.String(required=True, validate=validate.Length(max=200))
    slug = fields.String(required=True, validate=validate.Length(max=64))
    area_kind = fields.String(load_default="urban", validate=validate.OneOf(["urban", "rural"]))
    district = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    street = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    population = fields.Integer(load_default=None, allow_none=True, strict=True)
    population_basis = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(["registered", "resident"])
    )


class CommunityPatch(Schema):
    name = fields.String(validate=validate.Length(max=200))
    district = fields.String(validate=validate.Length(max=200))
    street = fields.String(validate=validate.Length(max=200))
    active = fields.Boolean()


class OrganisationIn(Schema):
    name = fields.String(required=True, validate=validate.Length(max=200))
    slug = fields.String(required=True, validate=validate.Length(max=64))
    kind = fields.String(
        required=True, validate=validate.OneOf(["enterprise", "foundation", "trust_fund", "trust"])
    )
    standard = fields.String(
        load_default=None,
        validate=validate.OneOf(["SME_2011", "NPO_2004", "NPO_2024", "TRUST_FUND"]),
    )
    first_month = fields.String(
        required=True, metadata={"description": "The first month it keeps books here, YYYY-MM"}
    )


class OrganisationPatch(Schema):
    name = fields.String(validate=validate.Length(max=200))
    active = fields.Boolean()


def _write(view):
    """A write endpoint: documented and protected by the Idempotency-Key header."""
    return idempotent(blp.doc(parameters=[OPENAPI_PARAMETER])(view))


class TokenIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class TokenOut(Schema):
    id = fields.Integer()
    name = fields.String()
    token = fields.String(metadata={"description": "Shown once; only its hash is stored."})


@blp.get("/me")
@blp.response(200, MeSchema)
def me():
    """The logged-in user and their roles."""
    return auth.authenticated_user()


@blp.get("/communities")
@blp.response(200, CommunitySchema(many=True))
def communities():
    """Communities and their organisations (public)."""
    return db.session.scalars(sa.select(Community).order_by(Community.id)).all()


@blp.post("/tokens")
@blp.arguments(TokenIn)
@blp.response(201, TokenOut)
def create_token(data):
    """Create a personal API token for the logged-in user."""
    user = auth.authenticated_user()
    row, token = auth.create_api_token(user, data["name"])
    return {"id": row.id, "name": row.name, "token": token}


class OrganisationSchema(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    kind = fields.String()
    standard = fields.String()
    first_month = fields.Method("_first_month")
    base_currency = fields.String()
    active = fields.Boolean()

    def _first_month(self, o):
        return f"{o.first_month // 100:04d}-{o.first_month % 100:02d}" if o.first_month else None


class NewOrganisationOut(OrganisationSchema):
    book_id = fields.Integer()


@blp.get("/organisations/<id:org_id>")
@blp.response(200, OrganisationSchema)
def organisation(org_id: int):
    """One organisation (public)."""
    return auth.get_organisation(org_id)


@blp.post("/communities")
@_write
@blp.arguments(CommunityIn)
@blp.response(201, CommunitySchema)
def create_community(data: dict):
    """Create a community (platform admins)."""
    c = onboarding.create_community(**data, actor=auth.authenticated_user())
    audit.note(community_id=c.id, slug=c.slug)
    return c


@blp.patch("/communities/<id:community_id>")
@_write
@blp.arguments(CommunityPatch)
@blp.response(200, CommunitySchema)
def update_community(data: dict, community_id: int):
    """Rename a community or (de)activate it; communities are never deleted."""
    c = onboarding.get_community(community_id)
    audit.note(community_id=c.id)
    return onboarding.update_community(c, **data, actor=auth.authenticated_user())


@blp.post("/communities/<id:community_id>/organisations")
@_write
@blp.arguments(OrganisationIn)
@blp.response(201, NewOrganisationOut)
def create_organisation(data: dict, community_id: int):
    """Create an organisation and open its book (platform admins)."""
    c = onboarding.get_community(community_id)
    made = onboarding.create_organisation(c, **data, actor=auth.authenticated_user())
    org = made.organisation
    audit.note(community_id=c.id, organisation_id=org.id)
    # A plain attribute for the answer, not a column.
    setattr(org, "book_id", made.book_id)  # noqa: B010 (not a mapped attribute)
    return org


@blp.patch("/organisations/<id:org_id>")
@_write
@blp.arguments(OrganisationPatch)
@blp.response(200, OrganisationSchema)
def update_organisation(data: dict, org_id: int):
    """Rename an organisation or (de)activate it; organisations are never deleted."""
    org = auth.get_organisation(org_id)
    audit.note(community_id=org.community_id, organisation_id=org.id)
    return onboarding.update_organisation(org, **data, actor=auth.authenticated_user())
