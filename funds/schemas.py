# SPDX-License-Identifier: AGPL-3.0-or-later
"""Marshmallow schemas of the funds API. Amounts are text in yuan ("1234.56"), parsed exactly
by ``ledger.amounts.parse_amount``; ids are JSON integers; strings are bounded."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ledger.schemas import Amount, Id, Text

from .allocation import BASES, KINDS, MODES
from .models import FounderType, InflowKind, Step


class CfRuleIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["disburse", "release"]))
    body = fields.String(required=True, validate=validate.OneOf(["council", "committee"]))
    over = Amount(load_default="0")


class CfFundIn(Schema):
    code = Text(required=True, max_length=40)
    name = Text(required=True, max_length=200)
    founder_type = fields.String(
        required=True, validate=validate.OneOf([f.value for f in FounderType])
    )
    founder_name = Text(max_length=200, load_default="")
    purpose_tags = fields.List(
        Text(max_length=40), load_default=list, validate=validate.Length(max=20)
    )
    restricted = fields.Boolean(load_default=True)
    endowment = fields.Boolean(load_default=False)
    public_finance = fields.Boolean(load_default=False)
    rules = fields.List(
        fields.Nested(CfRuleIn), load_default=list, validate=validate.Length(max=10)
    )


class CfInflowIn(Schema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf([k.value for k in InflowKind if k != InflowKind.ALLOCATION]),
    )
    amount = Amount(required=True)
    date = fields.Date(required=True)
    source_name = Text(max_length=200, load_default="")
    resident_id = Id(load_default=None, allow_none=True)
    anonymous = fields.Boolean(load_default=False)
    publish_name = fields.Boolean(load_default=False)
    # A transfer from the community economy: the paying community enterprise (its book gets
    # its own voucher).
    enterprise_id = Id(load_default=None, allow_none=True)


class CfDisbursementIn(Schema):
    amount = Amount(required=True)
    date = fields.Date(required=True)
    category = Text(required=True, max_length=40)
    purpose = Text(max_length=60, load_default="")
    payee = Text(required=True, max_length=200)
    project_id = Id(load_default=None, allow_none=True)
    budget_id = Id(load_default=None, allow_none=True)
    resolution_id = Id(load_default=None, allow_none=True)
    memo = Text(max_length=300, load_default="")


class CfReleaseIn(Schema):
    amount = Amount(required=True)
    date = fields.Date(required=True)
    resolution_id = Id(required=True)
    reason = Text(required=True, max_length=300)


class CfAllocationIn(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    date = fields.Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    population = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10**9))
    population_basis = fields.String(required=True, validate=validate.OneOf(BASES))
    part_hundreds = fields.String(load_default="floor", validate=validate.OneOf(MODES))


class CfProjectIn(Schema):
    cf_id = Id(required=True)
    title = Text(required=True, max_length=200)
    description = Text(max_length=4000, load_default="")
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    proposed_by = Text(required=True, max_length=200)
    proposed_on = fields.Date(required=True)
    priority_tags = fields.List(
        Text(max_length=40), load_default=list, validate=validate.Length(max=10)
    )
    budget = Amount(load_default="0")
    documents = Text(max_length=2000, load_default="")
    related_party = fields.Boolean(load_default=False)


class CfStepIn(Schema):
    to = fields.String(required=True, validate=validate.OneOf([s.value for s in Step]))
    who = Text(required=True, max_length=200)
    on = fields.Date(required=True)
    documents = Text(max_length=2000, load_default="")
    resolution_id = Id(load_default=None, allow_none=True)


class CfResolutionIn(Schema):
    body = fields.String(required=True, validate=validate.OneOf(["council", "committee"]))
    council_id = Id(load_default=None, allow_none=True)
    cf_id = Id(load_default=None, allow_none=True)
    project_id = Id(load_default=None, allow_none=True)
    meeting_date = fields.Date(required=True)
    present = fields.Integer(required=True, strict=True, validate=validate.Range(0, 100_000))
    votes_for = fields.Integer(required=True, strict=True, validate=validate.Range(0, 100_000))
    votes_against = fields.Integer(required=True, strict=True, validate=validate.Range(0, 100_000))
    votes_abstain = fields.Integer(required=True, strict=True, validate=validate.Range(0, 100_000))
    text = Text(required=True, max_length=4000)


class CfStatementQuery(Schema):
    start = fields.Date(load_default=None)
    end = fields.Date(load_default=None)


# --- output -------------------------------------------------------------------------------------


class CfFundOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    founder_type = fields.String()
    purpose_tags = fields.List(fields.String())
    restricted = fields.Boolean()
    endowment = fields.Boolean()
    public_finance = fields.Boolean()
    active = fields.Boolean()
    balance = fields.String()
    balance_minor = fields.Integer()


class CfRecordOut(Schema):
    id = fields.Integer()
    voucher_id = fields.Integer(allow_none=True)
    amount = fields.String(allow_none=True)
    amount_minor = fields.Integer(allow_none=True)


class CfStatementOut(Schema):
    fund = fields.String()
    start = fields.Date()
    end = fields.Date()
    opening = fields.String()
    inflows = fields.Dict(keys=fields.String(), values=fields.String())
    outflows = fields.Dict(keys=fields.String(), values=fields.String())
    releases = fields.String()
    closing = fields.String()
    consistent = fields.Boolean()


class CfCheckOut(Schema):
    fund = fields.String()
    records = fields.String()
    ledger = fields.String()
    principal = fields.String()
    ok = fields.Boolean()


class CfProjectOut(Schema):
    id = fields.Integer()
    title = fields.String()
    step = fields.String()
    fund = fields.String()
    start = fields.Date()
    end = fields.Date()
    budget = fields.String()


class CfResolutionOut(Schema):
    id = fields.Integer()
    body = fields.String()
    meeting_date = fields.Date()
    seated = fields.Integer()
    present = fields.Integer()
    votes_for = fields.Integer()
    votes_against = fields.Integer()
    votes_abstain = fields.Integer()
    quorum_rule = fields.String()
    passed = fields.Boolean()
    text = fields.String()


class CfDisclosureOut(Schema):
    id = fields.Integer()
    project_id = fields.Integer(allow_none=True)
    kind = fields.String()
    due = fields.Date()
    met_on = fields.Date(allow_none=True)
    overdue = fields.Boolean()


class CfCouncilIn(Schema):
    name = Text(required=True, max_length=200)
    members = fields.List(
        Text(max_length=100), required=True, validate=validate.Length(min=1, max=500)
    )
    seated_from = fields.Date(required=True)
    quorum_num = fields.Integer(load_default=2, strict=True, validate=validate.Range(1, 100))
    quorum_den = fields.Integer(load_default=3, strict=True, validate=validate.Range(1, 100))


class CfCommitteeMemberIn(Schema):
    name = Text(required=True, max_length=100)
    role = Text(required=True, max_length=60)
    term_start = fields.Date(required=True)
    term_end = fields.Date(load_default=None, allow_none=True)


class CfBudgetIn(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    label = Text(required=True, max_length=200)
    amount = Amount(required=True)


class CfBudgetOut(Schema):
    id = fields.Integer()
    fund = fields.String()
    project_id = fields.Integer(allow_none=True)
    year = fields.Integer()
    label = fields.String()
    budget = fields.String()
    actual = fields.String()
    remaining = fields.String()


class CfBudgetQuery(Schema):
    as_of = fields.Date(load_default=None)


class CfCommitmentIn(Schema):
    tenant = Text(required=True, max_length=200)
    premises = Text(required=True, max_length=200)
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    date = fields.Date(required=True)
    sessions_promised = fields.Integer(
        required=True, strict=True, validate=validate.Range(1, 100_000)
    )
    value_claimed = Amount(required=True)
    rent = Amount(load_default="1.00")


class CfDeliveryIn(Schema):
    date = fields.Date(required=True)
    sessions = fields.Integer(required=True, strict=True, validate=validate.Range(1, 10_000))
    description = Text(required=True, max_length=300)
    verified_by = Text(load_default=None, allow_none=True, max_length=100)


class CfCommitmentOut(Schema):
    id = fields.Integer()
    tenant = fields.String()
    premises = fields.String()
    year = fields.Integer()
    rent = fields.String()
    rent_voucher_id = fields.Integer()
    sessions_promised = fields.Integer()
    sessions_delivered = fields.Integer()
    sessions_verified = fields.Integer()
    value_claimed = fields.String()
