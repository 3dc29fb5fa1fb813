"""The JSON API's core endpoints under /api/v1: who am I, communities, personal tokens."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from . import auth
from .db import db
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
    organisations = fields.Method("_orgs")

    def _orgs(self, c):
        return [
            {"id": o.id, "name": o.name, "kind": o.kind, "standard": o.standard}
            for o in c.organisations
        ]


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


@blp.get("/organisations/<id:org_id>")
@blp.response(200, OrganisationSchema)
def organisation(org_id: int):
    """One organisation (public)."""
    return auth.get_organisation(org_id)
