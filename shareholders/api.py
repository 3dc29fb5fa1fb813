# SPDX-License-Identifier: AGPL-3.0-or-later
"""JSON API of the register of shareholders under /api/v1/organisations/<org>/shareholders.

Reads need any role in the organisation; writes need the role the services ask for (admin or
preparer). Writes accept an ``Idempotency-Key`` header (core.idempotency). Amounts are text in
yuan ("1234.56") in, and both text and integer fen out."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from core import audit, auth, parse
from core.auth import get_organisation
from core.db import MAX_ID
from core.idempotency import OPENAPI_PARAMETER, idempotent
from core.models import Organisation, User
from ledger.amounts import format_minor
from ledger.schemas import Amount, Text

from . import forms
from . import services as svc

blp = Blueprint(
    "shareholders_api", __name__, url_prefix="/api/v1", description="Register of shareholders"
)
ORG = "/organisations/<id:org_id>/shareholders"


def Id(**kwargs) -> fields.Integer:  # noqa: N802  (reads like a field class)
    """A database id: an integer (or its ASCII digits) from 1 to 2^63−1."""
    return fields.Integer(validate=validate.Range(1, MAX_ID), **kwargs)


def _write(view):
    return idempotent(blp.doc(parameters=[OPENAPI_PARAMETER])(view))


def _open(org_id: int) -> tuple[Organisation, User]:
    org = get_organisation(org_id)
    user = auth.can_read(org)
    audit.note(organisation_id=org.id)
    return org, user


def _money(fen: int) -> dict:
    return {"text": format_minor(fen, 2), "minor": fen}


class AsOfQuery(Schema):
    as_of = parse.Date(load_default=None, allow_none=True)


def _percent(value) -> None:
    if not 0 <= value <= 100:
        raise ValidationError(_l("A percentage from 0 to 100."))


class Percent(fields.Decimal):
    """A percentage 0–100 with two decimals. Its bounds are checked by a function and stated
    as numbers in the OpenAPI document (``validate.Range`` on a Decimal field would state them
    as the strings "0.00" and "100.00", which is not valid JSON Schema)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", _percent)
        kwargs.setdefault("metadata", {"minimum": 0, "maximum": 100})
        super().__init__(**kwargs)


class ArticlesIn(Schema):
    registered_capital = Amount(required=True)
    company_type = fields.String(load_default="llc", validate=validate.OneOf(["llc", "jsc"]))
    residents_only = fields.Boolean(load_default=False)
    lockup_days = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, 36500))
    preemption_waived = fields.Boolean(load_default=False)
    preemption_days = fields.Integer(strict=True, load_default=30, validate=validate.Range(0, 365))
    dividend_cap_pct = Percent(load_default=None, allow_none=True, places=2)
    dividend_cap_citation = Text(max_length=300, load_default="")
    reinvestment_min_pct = Percent(load_default=None, allow_none=True, places=2)
    reinvestment_citation = Text(max_length=300, load_default="")


class SubscribeIn(Schema):
    resident_id = Id(load_default=None, allow_none=True)
    holder_org_id = Id(load_default=None, allow_none=True)
    amount = Amount(required=True)
    date = parse.Date(required=True)
    due_date = parse.Date(required=True)


class CapitalPaymentIn(Schema):
    amount = Amount(required=True)
    date = parse.Date(required=True)


class TransferIn(Schema):
    seller_id = Id(required=True)
    buyer_id = Id(load_default=None, allow_none=True)
    outsider_resident_id = Id(load_default=None, allow_none=True)
    outsider_org_id = Id(load_default=None, allow_none=True)
    amount = Amount(required=True)
    price = Amount(load_default="0")
    payment_terms = Text(max_length=300, load_default="")
    date = parse.Date(required=True)


class DateIn(Schema):
    date = parse.Date(required=True)


class ClaimIn(Schema):
    shareholder_id = Id(required=True)
    date = parse.Date(required=True)


class DividendIn(Schema):
    resolution_date = parse.Date(required=True)
    record_date = parse.Date(required=True)
    profit_year = fields.Integer(strict=True, required=True, validate=validate.Range(1900, 9999))
    amount = Amount(required=True)
    reserve = Amount(load_default="0")
    votes_for = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, 10**6))
    votes_against = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, 10**6))
    votes_abstain = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, 10**6))
    agreed_weights = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[0-9]{1,18}$")),
        values=fields.Integer(strict=True, validate=validate.Range(1, 10**15)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata={"description": "shareholder id → weight, when all shareholders agreed otherwise"},
    )
    agreement_note = Text(max_length=300, load_default="")


def _holding(h: svc.Holding) -> dict:
    sh = h.shareholder
    return {
        "id": sh.id,
        "kind": "resident" if sh.is_person else "organisation",
        "resident_id": sh.resident_id,
        "organisation_id": sh.holder_org_id,
        "name": sh.name,
        "subscribed": _money(h.subscribed),
        "paid_in": _money(h.paid_in),
    }


def _transfer(t) -> dict:
    return {
        "id": t.id,
        "status": t.status,
        "seller_id": t.seller_id,
        "buyer_id": t.buyer_id,
        "amount": _money(t.amount),
        "price": _money(t.price),
        "notice_date": t.notice_date.isoformat(),
        "window_ends": t.window_ends.isoformat(),
        "completed_on": t.completed_on.isoformat() if t.completed_on else None,
        "filing_pending": t.filing_pending,
        "claims": [
            {"shareholder_id": c.shareholder_id, "allocated": c.allocated} for c in t.claims
        ],
    }


def _dividend(r) -> dict:
    return {
        "id": r.id,
        "resolution_date": r.resolution_date.isoformat(),
        "record_date": r.record_date.isoformat(),
        "profit_year": r.profit_year,
        "amount": _money(r.amount),
        "reserve": _money(r.reserve),
        "lines": [_dividend_line(ln) for ln in r.lines],
    }


def _dividend_line(ln) -> dict:
    return {
        "id": ln.id,
        "shareholder_id": ln.shareholder_id,
        "amount": _money(ln.amount),
        "tax": _money(ln.tax),
        "paid_on": ln.paid_on.isoformat() if ln.paid_on else None,
    }


@blp.get(ORG)
@blp.arguments(AsOfQuery, location="query")
@blp.response(200)
def register(args, org_id: int):
    """The register as of a date (all of history when omitted)."""
    org, _user = _open(org_id)
    hs = svc.holders(org, args["as_of"])
    return {
        "as_of": args["as_of"].isoformat() if args["as_of"] else None,
        "registered_capital": _money(svc.registered_capital(org)),
        "articles": _articles(svc.articles(org)),
        "shareholders": [_holding(h) for h in hs],
    }


@blp.post(ORG + "/articles")
@_write
@blp.arguments(ArticlesIn)
@blp.response(201)
def set_articles(data, org_id: int):
    """The articles of association as data (a new version; the latest counts)."""
    org, user = _open(org_id)
    a = svc.set_articles(
        org,
        registered_capital=forms.amount(data.pop("registered_capital"), "registered_capital"),
        actor=user,
        **data,
    )
    return _articles(a)


def _articles(a) -> dict | None:
    if a is None:
        return None
    return {
        "registered_capital": _money(a.registered_capital),
        "company_type": a.company_type,
        "residents_only": a.residents_only,
        "lockup_days": a.lockup_days,
        "preemption_waived": a.preemption_waived,
        "preemption_days": a.preemption_days,
        "dividend_cap_pct": str(a.dividend_cap_pct) if a.dividend_cap_pct is not None else None,
        "dividend_cap_citation": a.dividend_cap_citation,
        "reinvestment_min_pct": (
            str(a.reinvestment_min_pct) if a.reinvestment_min_pct is not None else None
        ),
        "reinvestment_citation": a.reinvestment_citation,
    }


@blp.get(ORG + "/check")
@blp.arguments(AsOfQuery, location="query")
@blp.response(200)
def check(args, org_id: int):
    """Differences between the register and the books (3001, 2232): empty when they agree."""
    org, _user = _open(org_id)
    diffs = svc.check_register(org, args["as_of"])
    return {
        "ok": not diffs,
        "differences": [
            {
                "account": d.account,
                "counterparty": d.counterparty,
                "register": d.register,
                "books": d.books,
            }
            for d in diffs
        ],
    }


@blp.post(ORG)
@_write
@blp.arguments(SubscribeIn)
@blp.response(201)
def subscribe(data, org_id: int):
    """A subscription (认缴) by a resident or an organisation (made a shareholder if new)."""
    org, user = _open(org_id)
    if data["holder_org_id"]:
        sh = svc.add_shareholder(
            org, holder_org=forms.organisation(data["holder_org_id"]), actor=user
        )
    else:
        sh = svc.add_shareholder(org, resident=forms.resident(data["resident_id"]), actor=user)
    sub, warning = svc.subscribe(
        org,
        sh,
        amount=forms.amount(data["amount"], "amount"),
        date=data["date"],
        due_date=data["due_date"],
        actor=user,
    )
    return {"shareholder_id": sh.id, "subscription_id": sub.id, "warning": warning}


@blp.post(ORG + "/<id:sh_id>/payments")
@_write
@blp.arguments(CapitalPaymentIn)
@blp.response(201)
def pay(data, org_id: int, sh_id: int):
    """A payment of capital (实缴): posts Dr 1002 / Cr 3001."""
    org, user = _open(org_id)
    sh = svc.get_shareholder(org, sh_id)
    e = svc.pay_in(
        org, sh, amount=forms.amount(data["amount"], "amount"), date=data["date"], actor=user
    )
    return {"event_id": e.id, "voucher_id": e.voucher_id}


@blp.get(ORG + "/transfers")
@blp.response(200)
def list_transfers(org_id: int):
    org, _user = _open(org_id)
    return {"transfers": [_transfer(t) for t in svc.transfers(org)]}


@blp.post(ORG + "/transfers")
@_write
@blp.arguments(TransferIn)
@blp.response(201)
def propose_transfer(data, org_id: int):
    """A transfer: between shareholders at once; to an outsider after the pre-emption window."""
    org, user = _open(org_id)
    seller = svc.get_shareholder(org, data["seller_id"])
    kw: dict = {}
    if data["buyer_id"]:
        kw["buyer"] = svc.get_shareholder(org, data["buyer_id"])
    elif data["outsider_org_id"]:
        kw["outsider_org"] = forms.organisation(data["outsider_org_id"], "outsider_org_id")
    else:
        kw["outsider_resident"] = forms.resident(
            data["outsider_resident_id"], "outsider_resident_id"
        )
    t, warning = svc.propose_transfer(
        org,
        seller,
        amount=forms.amount(data["amount"], "amount"),
        price=forms.amount(data["price"], "price", allow_zero=True),
        payment_terms=data["payment_terms"],
        date=data["date"],
        actor=user,
        **kw,
    )
    return {**_transfer(t), "warning": warning}


@blp.post(ORG + "/transfers/<id:transfer_id>/claims")
@_write
@blp.arguments(ClaimIn)
@blp.response(201)
def claim(data, org_id: int, transfer_id: int):
    org, user = _open(org_id)
    t = svc.get_transfer(org, transfer_id)
    sh = svc.get_shareholder(org, data["shareholder_id"])
    svc.claim_preemption(org, t, sh, date=data["date"], actor=user)
    return _transfer(t)


@blp.post(ORG + "/transfers/<id:transfer_id>/complete")
@_write
@blp.arguments(DateIn)
@blp.response(200)
def complete(data, org_id: int, transfer_id: int):
    org, user = _open(org_id)
    t = svc.get_transfer(org, transfer_id)
    warning = svc.complete_transfer(org, t, date=data["date"], actor=user)
    return {**_transfer(t), "warning": warning}


@blp.post(ORG + "/transfers/<id:transfer_id>/filing")
@_write
@blp.arguments(DateIn)
@blp.response(200)
def filing(data, org_id: int, transfer_id: int):
    org, user = _open(org_id)
    t = svc.get_transfer(org, transfer_id)
    svc.record_filing(org, t, date=data["date"], actor=user)
    return _transfer(t)


@blp.get(ORG + "/dividends")
@blp.response(200)
def list_dividends(org_id: int):
    org, _user = _open(org_id)
    return {"dividends": [_dividend(r) for r in svc.dividends(org)]}


@blp.post(ORG + "/dividends")
@_write
@blp.arguments(DividendIn)
@blp.response(201)
def declare(data, org_id: int):
    """A shareholders' resolution, checked against the books before anything is posted."""
    org, user = _open(org_id)
    r = svc.declare_dividend(
        org,
        resolution_date=data["resolution_date"],
        record_date=data["record_date"],
        profit_year=data["profit_year"],
        amount=forms.amount(data["amount"], "amount"),
        reserve=forms.amount(data["reserve"], "reserve", allow_zero=True),
        votes_for=data["votes_for"],
        votes_against=data["votes_against"],
        votes_abstain=data["votes_abstain"],
        agreed_weights={int(k): v for k, v in (data["agreed_weights"] or {}).items()} or None,
        agreement_note=data["agreement_note"],
        actor=user,
    )
    return _dividend(r)


@blp.post(ORG + "/dividends/<id:dividend_id>/lines/<id:line_id>/payment")
@_write
@blp.arguments(DateIn)
@blp.response(200)
def pay_dividend(data, org_id: int, dividend_id: int, line_id: int):
    org, user = _open(org_id)
    line = svc.get_dividend_line(org, line_id)
    if line.resolution_id != dividend_id:
        from core.errors import NotFound

        raise NotFound()
    svc.pay_dividend(org, line, date=data["date"], actor=user)
    return _dividend(line.resolution)


@blp.post(ORG + "/dividends/<id:dividend_id>/pay-all")
@_write
@blp.arguments(DateIn)
@blp.response(200)
def pay_all_dividends(data, org_id: int, dividend_id: int):
    """Pay every unpaid line of a dividend at once: one posting, the same voucher per
    shareholder as paying a line. Answers the resolution, the lines this call paid (``paid``)
    and their totals; 409 when nothing is left unpaid."""
    org, user = _open(org_id)
    r = svc.get_dividend(org, dividend_id)
    paid = svc.pay_dividends(org, r, date=data["date"], actor=user)
    return {
        **_dividend(r),
        "paid": [_dividend_line(ln) for ln in paid],
        "paid_total": _money(sum(ln.amount for ln in paid)),
        "paid_tax": _money(sum(ln.tax for ln in paid)),
    }
