"""JSON API of a book's opening balances (期初余额): GET and PUT the draft, POST to submit.

``/api/v1/organisations/<id>/opening``. Approval and posting go through the ordinary voucher
endpoints (the openings are a voucher of kind ``opening``).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from core import audit, auth
from core.db import db
from core.errors import NotFound
from core.idempotency import OPENAPI_PARAMETER, idempotent
from core.models import Organisation

from . import opening
from . import services as svc
from .amounts import format_minor
from .models import Book
from .schemas import Amount, Id, Text

blp = Blueprint(
    "opening_api", __name__, url_prefix="/api/v1", description="Opening balances (期初余额)"
)

MAX_ROWS = 20000
PATH = "/organisations/<id:org_id>/opening"


class OpeningRowIn(Schema):
    account = Text(required=True, min_length=1, max_length=200, metadata={"example": "1002"})
    debit = Amount(load_default="")
    credit = Amount(load_default="")
    unit = Text(max_length=24, load_default="")
    fund = Text(max_length=40, load_default="", metadata={"description": "Fund code."})
    resident_id = Id(allow_none=True, load_default=None)
    counterparty_org_id = Id(allow_none=True, load_default=None)


class OpeningIn(Schema):
    date = fields.Date(
        allow_none=True,
        load_default=None,
        metadata={"description": "Default: the first day of the book's first month."},
    )
    rows = fields.List(
        fields.Nested(OpeningRowIn), required=True, validate=validate.Length(max=MAX_ROWS)
    )


def _open(org_id: int, *write_roles: str):
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise NotFound(_l("No such organisation."))
    user = auth.can_read(org)
    if write_roles:
        auth.require_role(org, *write_roles, user=user)
    book = db.session.scalar(sa.select(Book).where(Book.organisation_id == org.id))
    if book is None:
        raise NotFound(_l("This organisation has no book yet."))
    return user, book


def present(book: Book) -> dict:
    """The book's openings: the draft (or the posted ones) with the trial balance per unit."""
    draft = opening.opening_draft(book)
    shown = draft or opening.posted_opening(book)
    rows = opening.rows_of(shown) if shown is not None else []
    totals = []
    if shown is not None:
        for unit, (dr, cr) in opening.totals_of(shown.lines).items():
            exp = svc.unit_exponent(book, unit) or 0
            totals.append(
                {
                    "unit": unit,
                    "debit": format_minor(dr, exp),
                    "credit": format_minor(cr, exp),
                    "difference": format_minor(dr - cr, exp),
                    "balanced": dr == cr,
                }
            )
    return {
        "book_id": book.id,
        "state": book.opening_state,
        "voucher_id": shown.id if shown is not None else None,
        "status": shown.status if shown is not None else None,
        "kind": "opening",
        "number": shown.number if shown is not None else None,
        "date": (shown.date if shown is not None else opening.default_date(book)).isoformat(),
        "rows": [
            {
                "account": r.account,
                "debit": r.debit,
                "credit": r.credit,
                "unit": r.unit,
                "fund": r.fund,
                "resident_id": r.resident_id,
                "counterparty_org_id": r.counterparty_org_id,
            }
            for r in rows
        ],
        "totals": totals,
    }


@blp.route(PATH, methods=["GET"])
@blp.response(200)
def get_opening(org_id: int):
    """The opening balances of the organisation's book: the draft or the posted ones."""
    _user, book = _open(org_id)
    return present(book)


@blp.route(PATH, methods=["PUT"])
@idempotent
@blp.doc(parameters=[OPENAPI_PARAMETER])
@blp.arguments(OpeningIn)
@blp.response(200)
def put_opening(data: dict, org_id: int):
    """Enter or replace the draft. Refused, storing nothing, unless it balances per unit."""
    user, book = _open(org_id, *svc.PREPARE_ROLES)
    rows = [
        opening.OpeningRow(
            account=r["account"],
            debit=r["debit"] or "",
            credit=r["credit"] or "",
            unit=r["unit"] or "",
            fund=r["fund"] or "",
            resident_id=r["resident_id"],
            counterparty_org_id=r["counterparty_org_id"],
            line=n,
        )
        for n, r in enumerate(data["rows"], start=1)
    ]
    v = opening.save_opening(book, rows, actor=user, date=data["date"])
    audit.note(voucher_id=v.id, opening=True)
    return present(book)


@blp.route(PATH + "/submit", methods=["POST"])
@idempotent
@blp.doc(parameters=[OPENAPI_PARAMETER])
@blp.response(200)
def submit_opening(org_id: int):
    """Submit the draft for review by a second person."""
    user, book = _open(org_id, *svc.PREPARE_ROLES)
    v = opening.submit_opening(book, actor=user)
    audit.note(voucher_id=v.id, opening=True)
    return present(book)
