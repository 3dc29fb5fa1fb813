# SPDX-License-Identifier: AGPL-3.0-or-later
"""JSON API of verifiable disclosure under /api/v1.

``/public/…`` needs no login: checkpoints, proofs, published bundles and their CSV are meant
for anyone, and contain no personal data (records carry only a salted commitment).
Publishing a report and handing out a resident's receipt need a role in the organisation.
"""

from __future__ import annotations

import base64

from flask import Response
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from core import parse
from core.audit import note
from core.auth import authenticated_user, get_organisation
from core.db import MAX_ID, db
from core.downloads import download
from core.errors import InvalidInput, NotFound
from core.extensions import UtcDateTime
from core.idempotency import OPENAPI_PARAMETER, idempotent
from ledger import log
from ledger.models import Book
from ledger.services import book_for, get_book, get_voucher

from . import checkpoints, disclosure, keys, receipts
from .models import Checkpoint
from .public import csv_summary_screen

blp = Blueprint(
    "transparency_api",
    __name__,
    url_prefix="/api/v1",
    description="Verifiable disclosure: checkpoints, proofs, reports, receipts",
)


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


# --- schemas ----------------------------------------------------------------------------------

Size = fields.Integer(validate=validate.Range(min=0, max=MAX_ID))


class CheckpointOut(Schema):
    size = fields.Integer()
    root = fields.Function(lambda cp: base64.b64encode(bytes(cp.root)).decode())
    note = fields.String(metadata={"description": "The C2SP signed note (tlog-checkpoint)."})
    created_at = UtcDateTime()


class PublicKeyOut(Schema):
    name = fields.String()
    ed25519 = fields.String(metadata={"description": "base64 of the 32-byte Ed25519 public key"})
    fingerprint = fields.String(metadata={"description": "hex SHA-256 of the 32-byte key"})


class CheckpointHistoryOut(Schema):
    book = fields.Integer()
    public_key = fields.Nested(PublicKeyOut, allow_none=True)
    checkpoints = fields.List(fields.Nested(CheckpointOut))


class ProofArgs(Schema):
    index = parse.Integer(0, MAX_ID, required=True)
    size = parse.Integer(
        1,
        MAX_ID,
        metadata={"description": "A size with a signed checkpoint (default: the latest)."},
    )


class ProofOut(Schema):
    index = fields.Integer()
    size = fields.Integer()
    inclusion_proof = fields.List(fields.String())
    checkpoint = fields.String()


class ConsistencyArgs(Schema):
    old = parse.Integer(1, MAX_ID, required=True)
    new = parse.Integer(
        1,
        MAX_ID,
        metadata={"description": "default: the latest signed size"},
    )


class ConsistencyOut(Schema):
    old = fields.Integer()
    new = fields.Integer()
    consistency_proof = fields.List(fields.String())
    old_checkpoint = fields.String()
    new_checkpoint = fields.String()


class ReportOut(Schema):
    id = fields.Integer()
    book_id = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date()
    checkpoint_size = fields.Function(lambda r: r.checkpoint.size)
    previous_id = fields.Integer(allow_none=True)
    bundle_sha256 = fields.String()
    published_at = UtcDateTime()
    bundle_url = fields.Function(lambda r: f"/api/v1/public/reports/{r.id}/bundle.json")
    csv_url = fields.Function(lambda r: f"/api/v1/public/reports/{r.id}.csv")


class PublishIn(Schema):
    period = fields.String(required=True, metadata={"description": "first month, YYYY-MM"})
    to = fields.String(
        load_default=None, metadata={"description": "last month, YYYY-MM (default: period)"}
    )
    note = fields.String(
        load_default=None,
        metadata={
            "description": "the publisher's note, needed when the pre-publication checks warn "
            "(a negative cash, inventory or fixed-asset line, an unbalanced balance sheet; "
            "409 needs_note names the lines); shown on the public page"
        },
    )


class ReceiptArgs(Schema):
    resident = parse.Integer(1, MAX_ID, required=True)


# --- public -----------------------------------------------------------------------------------


def _public_book(book_id: int) -> Book:
    return get_book(book_id)


def _signed(book_id: int, size: int) -> Checkpoint:
    cp = checkpoints.checkpoint_at(book_id, size)
    if cp is None:
        raise NotFound(
            _l("No checkpoint of size %(size)d has been signed for this book.", size=size)
        )
    return cp


def _latest(book_id: int) -> Checkpoint:
    cp = checkpoints.latest_checkpoint(book_id)
    if cp is None:
        raise NotFound(_l("No checkpoint has been signed for this book yet."))
    return cp


@blp.get("/public/books/<id:book_id>/checkpoints")
@blp.response(200, CheckpointHistoryOut)
def checkpoint_history(book_id: int):
    """Every checkpoint the book has signed, oldest first, and the key that signed them."""
    book = _public_book(book_id)
    key = keys.current_key(book.organisation_id)
    return {
        "book": book.id,
        "public_key": keys.public_key_json(key) if key else None,
        "checkpoints": checkpoints.checkpoint_history(book.id),
    }


@blp.get("/public/books/<id:book_id>/checkpoint")
@blp.doc(responses={200: {"description": "The latest signed note", "content": {"text/plain": {}}}})
def latest_checkpoint(book_id: int):
    """The latest signed checkpoint as a C2SP signed note (text/plain)."""
    book = _public_book(book_id)
    return Response(_latest(book.id).note, mimetype="text/plain")


@blp.get("/public/books/<id:book_id>/proof")
@blp.arguments(ProofArgs, location="query")
@blp.response(200, ProofOut)
def inclusion_proof(args, book_id: int):
    """A fresh inclusion proof of leaf ``index`` against a signed checkpoint (to re-check a receipt)."""
    book = _public_book(book_id)
    cp = _signed(book.id, args["size"]) if "size" in args else _latest(book.id)
    if args["index"] >= cp.size:
        raise InvalidInput(
            _l(
                "Index %(index)d is not in the tree of size %(size)d.",
                index=args["index"],
                size=cp.size,
            ),
            errors={"index": [str(_l("Out of range."))]},
        )
    proof = log.inclusion_proof(book.id, args["index"], cp.size)
    return {
        "index": args["index"],
        "size": cp.size,
        "inclusion_proof": _b64(proof),
        "checkpoint": cp.note,
    }


@blp.get("/public/books/<id:book_id>/consistency")
@blp.arguments(ConsistencyArgs, location="query")
@blp.response(200, ConsistencyOut)
def consistency_proof(args, book_id: int):
    """A consistency proof between two signed checkpoints of the book."""
    book = _public_book(book_id)
    new = _signed(book.id, args["new"]) if "new" in args else _latest(book.id)
    if args["old"] > new.size:
        raise InvalidInput(
            _l("The old size must not be larger than the new size."),
            errors={"old": [str(_l("Too large."))]},
        )
    old = _signed(book.id, args["old"])
    proof = log.consistency_proof(book.id, old.size, new.size)
    return {
        "old": old.size,
        "new": new.size,
        "consistency_proof": _b64(proof),
        "old_checkpoint": old.note,
        "new_checkpoint": new.note,
    }


@blp.get("/public/books/<id:book_id>/reports")
@blp.response(200, ReportOut(many=True))
def book_reports(book_id: int):
    """The book's published reports, oldest first."""
    return disclosure.reports_of(_public_book(book_id).id)


@blp.get("/public/organisations/<id:org_id>/key")
@blp.response(200, PublicKeyOut)
def organisation_key(org_id: int):
    """The organisation's public signing key and its fingerprint (compare it out of band)."""
    key = keys.current_key(get_organisation(org_id).id)
    if key is None:
        raise NotFound(_l("This organisation has no signing key yet."))
    return keys.public_key_json(key)


@blp.get("/public/reports/<id:report_id>/bundle.json")
@blp.doc(
    responses={
        200: {
            "description": "The disclosure bundle (FORMAT.md §3), byte for byte as published",
            "content": {"application/json": {}},
        }
    }
)
def report_bundle(report_id: int):
    """The bundle one verifies, exactly as published (its SHA-256 is in the report list)."""
    report = disclosure.get_report(report_id)
    return download(report.bundle, disclosure.bundle_filename(report), "application/json")


@blp.get("/public/reports/<id:report_id>.csv")
@blp.doc(
    responses={
        200: {
            "description": "The report's public records, one row per line",
            "content": {"text/csv": {}},
        }
    }
)
def report_csv(report_id: int):
    """The records the report's figures come from, as CSV for re-totalling: headers in the
    reader's language, account code and name, amounts in yuan."""
    report = disclosure.get_report(report_id)
    english = str(get_locale() or "zh").startswith("en")
    return download(
        disclosure.report_csv(report, csv_summary_screen(report.community_id), english=english),
        disclosure.bundle_filename(report, "csv"),
        "text/csv",
    )


# --- organisation staff and residents -----------------------------------------------------------


@blp.post("/organisations/<id:org_id>/reports")
@idempotent
@blp.doc(parameters=[OPENAPI_PARAMETER])
@blp.arguments(PublishIn)
@blp.response(201, ReportOut)
def publish(data, org_id: int):
    """Publish the disclosure report of closed months (admin or reviewer). Published reports never change."""
    user = authenticated_user()
    organisation = get_organisation(org_id)
    book = book_for(organisation)
    period = str(parse.month(data["period"], field="period"))  # ASCII YYYY-MM, 1900–9999
    to = str(parse.month(data["to"], field="to")) if data["to"] else None
    return disclosure.publish_report(book, period, to, actor=user, publisher_note=data["note"])


@blp.get("/organisations/<id:org_id>/vouchers/<id:voucher_id>/receipt")
@blp.arguments(ReceiptArgs, location="query")
@blp.doc(
    responses={
        200: {"description": "The receipt (FORMAT.md §4)", "content": {"application/json": {}}},
        409: {"description": "No signed checkpoint covers the voucher yet (code not_checkpointed)"},
    }
)
def receipt(args, org_id: int, voucher_id: int):
    """A resident's receipt for a posted voucher: staff of the organisation, or the resident
    themself. Read-only: proved against the latest signed checkpoint; 409 ``not_checkpointed``
    when none covers the voucher yet (POST to sign one)."""
    return _receipt_answer(args, org_id, voucher_id, sign=False)


@blp.post("/organisations/<id:org_id>/vouchers/<id:voucher_id>/receipt")
@idempotent
@blp.doc(parameters=[OPENAPI_PARAMETER])
@blp.arguments(ReceiptArgs, location="query")
@blp.doc(
    responses={
        200: {"description": "The receipt (FORMAT.md §4)", "content": {"application/json": {}}}
    }
)
def receipt_signed(args, org_id: int, voucher_id: int):
    """The receipt, signing a checkpoint first if none covers the voucher yet."""
    return _receipt_answer(args, org_id, voucher_id, sign=True)


def _receipt_answer(args, org_id: int, voucher_id: int, *, sign: bool):
    organisation = get_organisation(org_id)
    resident = receipts.authorize_receipt(organisation, args["resident"])
    voucher = get_voucher(book_for(organisation), voucher_id)
    note(
        organisation_id=organisation.id,
        community_id=organisation.community_id,
        voucher=voucher.id,
        resident=resident.id,
    )
    body = receipts.receipt_text(receipts.build_receipt(voucher, resident, sign=sign))
    if sign:
        db.session.flush()
    return download(
        body, receipts.receipt_filename(voucher, resident), "application/json", private=True
    )
