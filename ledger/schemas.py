"""Marshmallow schemas of the ledger API: what a client may send, and what it gets back.

Input schemas refuse unknown fields (marshmallow's default RAISE), bound every string and
integer, and accept amounts only as text ("1234.56"): a JSON float is a binary fraction, not
money, and a JSON integer is ambiguous (fen or yuan?). The text is parsed exactly by
``ledger.amounts.parse_amount`` once the line's unit, and so its decimals, is known.

Output amounts are given twice: as exact decimal text in major units ("1234.56") and as an
integer in minor units (``debit_minor``), so no client has to do float arithmetic.
"""

from __future__ import annotations

from flask_babel import gettext
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core import parse
from core.db import MAX_ID
from core.extensions import UtcDateTime

from .models import VoucherStatus

MAX_LINES = 500  # a paper voucher has a handful; imports of big batches go through the CLI
MAX_PAGE = 1_000_000


def _storable(value: str) -> None:
    """Refuse text no database column can hold or no page should show as sent: NUL and other
    controls, lone surrogates, and bidi controls (``core.parse.text_problem``)."""
    problem = parse.text_problem(value)
    if problem is not None:
        raise ValidationError(str(problem))


class Text(fields.String):
    """A bounded string that a database can store."""

    def __init__(self, *, max_length: int, min_length: int | None = None, **kwargs):
        super().__init__(validate=validate.Length(min=min_length, max=max_length), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        _storable(text)
        return text


class Amount(fields.String):
    """An amount as text in the line's unit ("1234.56"); numbers are refused.

    A String subclass so that the OpenAPI description says ``type: string``."""

    def __init__(self, **kwargs):
        metadata = {
            "description": 'Decimal text in major units, e.g. "1234.56".',
            "example": "1234.56",
            **(kwargs.pop("metadata", None) or {}),
        }
        super().__init__(validate=validate.Length(max=40), metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(gettext('Give amounts as text such as "1234.56".'))
        _storable(value)
        return value


def Id(**kwargs) -> fields.Integer:  # noqa: N802  (reads like a field class)
    """A database id: a JSON integer from 1 to 2^63−1, never a float or a string."""
    return fields.Integer(strict=True, validate=validate.Range(1, MAX_ID), **kwargs)


# --- input ------------------------------------------------------------------------------------


class LineIn(Schema):
    account = Text(required=True, min_length=1, max_length=200, metadata={"example": "1002"})
    debit = Amount(allow_none=True, load_default=None)
    credit = Amount(allow_none=True, load_default=None)
    unit = Text(
        min_length=1,
        max_length=24,
        allow_none=True,
        load_default=None,
        metadata={"description": "CNY when omitted (the book's base unit)."},
    )
    fund = Text(
        min_length=1,
        max_length=40,
        allow_none=True,
        load_default=None,
        metadata={"description": "Fund code."},
    )
    memo = Text(max_length=300, load_default="")
    resident_id = Id(allow_none=True, load_default=None)
    counterparty_org_id = Id(allow_none=True, load_default=None)


class VoucherIn(Schema):
    date = parse.Date(required=True, metadata={"example": "2026-03-05"})
    summary = Text(required=True, max_length=300, metadata={"description": "摘要"})
    attachment_count = fields.Integer(strict=True, validate=validate.Range(0, 9999), load_default=0)
    lines = fields.List(
        fields.Nested(LineIn), required=True, validate=validate.Length(max=MAX_LINES)
    )


class NoteIn(Schema):
    note = Text(max_length=2000, load_default="")


class ReasonIn(Schema):
    reason = Text(max_length=2000, load_default="")


class ReverseIn(Schema):
    date = parse.Date(allow_none=True, load_default=None)
    summary = Text(max_length=300, allow_none=True, load_default=None)


class SubAccountIn(Schema):
    parent_code = Text(required=True, min_length=1, max_length=200)
    code = Text(required=True, min_length=1, max_length=200)
    name_zh = Text(required=True, max_length=200)
    name_en = Text(max_length=200, load_default="")


class AccountPatch(Schema):
    active = fields.Boolean(required=True)


class FundIn(Schema):
    code = Text(required=True, max_length=40)
    name = Text(required=True, max_length=200)
    restricted = fields.Boolean(required=True)
    endowment = fields.Boolean(load_default=False)
    purpose = Text(max_length=300, load_default="")


class VoucherQuery(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in VoucherStatus]))
    date_from = parse.Date()
    date_to = parse.Date()
    account = Text(
        min_length=1,
        max_length=200,
        metadata={"description": "Account code; includes its sub-accounts."},
    )
    q = Text(min_length=1, max_length=300, metadata={"description": "Text in the summary."})
    number = Text(
        min_length=1, max_length=24, metadata={"description": "Part of the voucher number."}
    )
    page = parse.Integer(1, MAX_PAGE, load_default=1)
    per_page = parse.Integer(1, 200, load_default=50)

    @validates_schema
    def _dates_in_order(self, data, **_kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError(gettext("The start date is after the end date."), "date_to")


class ReportQuery(Schema):
    start = parse.Date()
    end = parse.Date()
    as_of = parse.Date()
    fund = Text(min_length=1, max_length=40)
    unit = Text(min_length=1, max_length=24)
    account = Text(min_length=1, max_length=200)
    format = fields.String(validate=validate.OneOf(["json", "csv", "xlsx"]), load_default="json")


# --- output -----------------------------------------------------------------------------------


class AccountOut(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    type = fields.String()
    normal_side = fields.String()
    parent = fields.String(allow_none=True, metadata={"description": "Parent account code."})
    level = fields.Integer()
    active = fields.Boolean()
    has_children = fields.Boolean()
    restriction = fields.String(allow_none=True)


class FundOut(Schema):
    code = fields.String()
    name = fields.String()
    restricted = fields.Boolean()
    endowment = fields.Boolean()
    purpose = fields.String()
    active = fields.Boolean()


class PersonOut(Schema):
    id = fields.Integer()
    display_name = fields.String()


class LineOut(Schema):
    line_no = fields.Integer()
    account = fields.String(metadata={"description": "Account code."})
    account_name = fields.String(
        metadata={"description": "Account name in the request's language."}
    )
    fund = fields.String(allow_none=True)
    unit = fields.String()
    debit = fields.String(allow_none=True, metadata={"example": "1234.56"})
    credit = fields.String(allow_none=True)
    debit_minor = fields.Integer(metadata={"description": "Debit in minor units (fen)."})
    credit_minor = fields.Integer()
    memo = fields.String()
    resident_id = fields.Integer(allow_none=True)
    resident_name = fields.String(allow_none=True, metadata={"description": "Masked, e.g. 王*兰."})
    counterparty_org_id = fields.Integer(allow_none=True)


class EventOut(Schema):
    action = fields.String()
    user = fields.Nested(PersonOut, allow_none=True)
    at = UtcDateTime()
    note = fields.String()


class TotalOut(Schema):
    unit = fields.String()
    debit = fields.String()
    credit = fields.String()


class VoucherSummaryOut(Schema):
    id = fields.Integer()
    date = fields.Date()
    number = fields.String(allow_none=True, metadata={"example": "记-2026-03-0001"})
    summary = fields.String()
    status = fields.String()
    kind = fields.String()
    attachment_count = fields.Integer()
    totals = fields.List(fields.Nested(TotalOut))
    prepared_by = fields.Nested(PersonOut, allow_none=True)


class VoucherOut(VoucherSummaryOut):
    book_id = fields.Integer()
    source = fields.String()
    log_index = fields.Integer(allow_none=True)
    posted_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    reverses_id = fields.Integer(allow_none=True)
    reversed_by_id = fields.Integer(allow_none=True)
    approved_by = fields.Nested(PersonOut, allow_none=True)
    posted_by = fields.Nested(PersonOut, allow_none=True)
    lines = fields.List(fields.Nested(LineOut))
    history = fields.List(fields.Nested(EventOut))


class VoucherPage(Schema):
    items = fields.List(fields.Nested(VoucherSummaryOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class PeriodOut(Schema):
    year = fields.Integer()
    month = fields.Integer()
    label = fields.String(metadata={"example": "2026-03"})
    closed = fields.Boolean()
    voucher_count = fields.Integer()


class PeriodsOut(Schema):
    closed_through = fields.String(
        allow_none=True, metadata={"description": "Latest closed month."}
    )
    periods = fields.List(fields.Nested(PeriodOut))
