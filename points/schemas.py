"""Marshmallow schemas of the points API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.db import MAX_ID
from core.extensions import UtcDateTime


def Id(**kwargs) -> fields.Integer:  # noqa: N802
    """A database id, 1 … 2^63−1 (a JSON integer, or its digits)."""
    return fields.Integer(validate=validate.Range(1, MAX_ID), **kwargs)


class AttendeeIn(Schema):
    resident_id = Id(required=True)
    points = fields.Integer(strict=True, load_default=None, allow_none=True)


class GrantIn(Schema):
    activity_id = Id(required=True)
    activity_date = fields.Date(required=True)
    residents = fields.List(fields.Nested(AttendeeIn), load_default=list)
    attendance = fields.String(load_default="", validate=validate.Length(max=200_000))


class ObjectionIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ResolveIn(Schema):
    upheld = fields.Boolean(required=True)


class RedemptionIn(Schema):
    item_id = Id(required=True)
    resident_id = Id(required=True)
    points = fields.String(required=True, validate=validate.Length(min=1, max=40))
    scheme_id = Id(load_default=None, allow_none=True)


class ExpiryIn(Schema):
    as_of = fields.Date(required=True)


class AsOfQuery(Schema):
    as_of = fields.Date(load_default=None)
    deep = fields.Boolean(load_default=False)


class GrantOut(Schema):
    id = fields.Integer()
    scheme_id = fields.Integer()
    activity_id = fields.Integer()
    activity = fields.Function(lambda g: g.activity.name)
    activity_date = fields.Date()
    status = fields.String()
    people = fields.Integer()
    total_points = fields.Integer()
    approved_by_id = fields.Integer(allow_none=True)
    notice_from = fields.Date(allow_none=True)
    notice_until = fields.Date(allow_none=True)
    credited_on = fields.Date(allow_none=True)
    voucher_id = fields.Integer(allow_none=True)


class RedemptionOut(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    resident_id = fields.Integer()
    scheme_id = fields.Integer()
    date = fields.Date()
    points = fields.Integer()
    target_points = fields.Integer()
    rate = fields.Decimal(as_string=True)
    value_fen = fields.Integer()
    cash_fen = fields.Integer()
    funder = fields.String()
    settlement_fen = fields.Integer()
    voucher_id = fields.Integer()
    home_voucher_id = fields.Integer(allow_none=True)


class ReconciliationOut(Schema):
    issuer_id = fields.Integer()
    scheme_id = fields.Integer()
    scheme = fields.String()
    unit = fields.String()
    as_of = fields.Date(allow_none=True)
    holders_points = fields.Integer()
    control_points = fields.Integer()
    lots_points = fields.Integer(allow_none=True)
    negative_holders = fields.Integer()
    value_fen = fields.Integer()
    prepaid_lots_fen = fields.Integer(allow_none=True)
    prepaid_account_fen = fields.Integer(allow_none=True)
    ok = fields.Boolean()
    problems = fields.List(fields.String())


class ExpiryOut(Schema):
    scheme_id = fields.Integer()
    as_of = fields.Date()
    points = fields.Integer()
    holders = fields.Integer()
    voucher_id = fields.Integer(allow_none=True)


class SchemeIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(required=True, validate=validate.OneOf(["basic", "service"]))
    unit = fields.String(required=True, validate=validate.Length(min=1, max=24))
    value_fen = fields.Integer(strict=True, load_default=0)
    decimals = fields.Integer(strict=True, load_default=0)
    money_mode = fields.String(load_default="volunteer")
    expiry_rule = fields.String(load_default="none")
    validity_months = fields.Integer(strict=True, load_default=0)
    notice_days = fields.Integer(strict=True, load_default=3)


class ActivityIn(Schema):
    scheme_id = Id(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    points = fields.String(required=True, validate=validate.Length(min=1, max=40))
    tag = fields.String(load_default="charitable")
    approver_roles = fields.String(load_default="admin,reviewer", validate=validate.Length(max=100))


class ItemIn(Schema):
    scheme_id = Id(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    price_fen = fields.Integer(strict=True, required=True)
    max_points = fields.String(required=True, validate=validate.Length(min=1, max=40))
    funder = fields.String(load_default="issuer")
    fund_id = Id(load_default=None, allow_none=True)
    merchant_org_id = Id(load_default=None, allow_none=True)


class RateIn(Schema):
    from_scheme_id = Id(required=True)
    to_scheme_id = Id(required=True)
    rate = fields.String(required=True, validate=validate.Length(min=1, max=20))
    effective_from = fields.Date(required=True)


class SettlementIn(Schema):
    payee_org_id = Id(required=True)
    amount_fen = fields.Integer(strict=True, required=True)


class SchemePatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    notice_days = fields.Integer(strict=True, validate=validate.Range(0, 30))


class ActivityPatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    points = fields.String(validate=validate.Length(min=1, max=40))
    tag = fields.String(validate=validate.OneOf(["charitable", "public", "market"]))
    approver_roles = fields.String(validate=validate.Length(min=1, max=100))
    active = fields.Boolean()


class ItemPatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    price_fen = fields.Integer(strict=True, validate=validate.Range(1, 10**10))
    max_points = fields.String(validate=validate.Length(min=1, max=40))
    active = fields.Boolean()


class VolunteerIn(Schema):
    resident_id = Id(required=True)
    activity = fields.String(required=True, validate=validate.Length(min=1, max=200))
    date = fields.Date(required=True)
    hours = fields.String(required=True, validate=validate.Length(min=1, max=20))


class VolunteerGrantIn(Schema):
    activity_id = Id(required=True)


class VolunteerOut(Schema):
    id = fields.Integer()
    resident_id = fields.Integer()
    activity = fields.String()
    date = fields.Date()
    minutes = fields.Integer()
    hours = fields.Function(lambda r: f"{r.minutes / 60:.2f}")
    recorded_by_id = fields.Integer(allow_none=True)
    approved_by_id = fields.Integer(allow_none=True)
    approved_at = UtcDateTime(allow_none=True)


class ObjectionOut(Schema):
    id = fields.Integer()
    grant_id = fields.Integer()
    reason = fields.String()
    resolution = fields.String(allow_none=True)
    resolved_by_id = fields.Integer(allow_none=True)
