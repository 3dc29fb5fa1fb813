# SPDX-License-Identifier: AGPL-3.0-or-later
"""Receipts (回执): a resident's proof that their own payment is in the book's log.

A receipt is the C2SP tlog-proof shape (index, inclusion proof, signed checkpoint) plus the
resident's own lines' private fields and per-line salts, with which the resident, and only
they, can open their line's commitment in the public record (FORMAT.md §4). A co-payer's
name or unit is never in another resident's receipt.
"""

from __future__ import annotations

import base64
import json
import zlib

from flask_babel import lazy_gettext as _l

from core.auth import authenticated_user, require_role
from core.db import db
from core.errors import Conflict, NotFound
from core.models import Organisation, Resident, Role, User
from ledger import log
from ledger.models import Book, Voucher
from tlog import merkle

from .audit import record_of
from .checkpoints import LogInconsistent, checkpoint_covering, latest_checkpoint
from .keys import public_key_json

RECEIPT_FORMAT = "commons-ledger/receipt/1"
# Who may hand out any resident's receipt of the organisation (the resident may get their own).
RECEIPT_ROLES = (Role.ADMIN, Role.PREPARER, Role.REVIEWER, Role.AUDITOR)


def authorize_receipt(
    organisation: Organisation, resident_id: int, user: User | None = None
) -> Resident:
    """Staff of the organisation may fetch any resident's receipt; a resident only their own,
    through the login linked to them. Others learn nothing, not even whether the id exists."""
    user = user or authenticated_user()
    resident = db.session.get(Resident, resident_id)
    if resident is not None and resident.community_id != organisation.community_id:
        resident = None
    own = resident is not None and resident.user_id is not None and resident.user_id == user.id
    if not own:
        require_role(organisation, *RECEIPT_ROLES, user=user)
    if resident is None:
        raise NotFound(_l("No such resident in this community."))
    return resident


class NotYetCovered(Conflict):
    """No signed checkpoint covers the voucher yet: its receipt cannot be proved until one is
    signed (the next scheduled checkpoint, a published report, or ``sign_now`` on a POST)."""

    code = "not_checkpointed"


def build_receipt(voucher: Voucher, resident: Resident, *, sign: bool = False) -> dict:
    """The receipt of ``resident`` for the posted ``voucher``, proved against the latest signed
    checkpoint. Reading a receipt (a GET) never writes: when no checkpoint covers the voucher
    yet this raises ``NotYetCovered``, unless ``sign`` (a POST, the command line) lets it sign
    one."""
    if not voucher.is_posted:
        raise Conflict(_l("Only a posted voucher has a receipt."))
    assert voucher.log_index is not None  # a posted voucher has its place in the log
    if not any(line.resident_id == resident.id for line in voucher.lines):
        raise NotFound(
            _l("Voucher %(number)s has no line for this resident.", number=voucher.number)
        )
    record = record_of(voucher)
    stored = log.leaf_hash_at(voucher.book_id, voucher.log_index)
    if stored is None or stored != merkle.leaf_hash(log.leaf_bytes(record)):
        raise LogInconsistent(
            _l(
                "Voucher %(number)s no longer matches its record in the log, so no receipt can be given. "
                "Run the tamper audit.",
                number=voucher.number,
            )
        )
    book = db.session.get_one(Book, voucher.book_id)
    latest = latest_checkpoint(book.id)
    if latest is not None and latest.size > voucher.log_index:
        checkpoint = latest
    elif sign:
        checkpoint = checkpoint_covering(book, voucher.log_index)
    else:
        raise NotYetCovered(
            _l(
                "Voucher %(number)s is not covered by a signed checkpoint yet, so its receipt "
                "cannot be proved. Try again after the next checkpoint.",
                number=voucher.number,
            )
        )
    proof = log.inclusion_proof(book.id, voucher.log_index, checkpoint.size)
    return {
        "format": RECEIPT_FORMAT,
        "index": voucher.log_index,
        "record": record,
        "private": receipt_private(voucher, resident),
        "inclusion_proof": [base64.b64encode(h).decode() for h in proof],
        "checkpoint": checkpoint.note,
        "public_key": public_key_json(checkpoint.key),
    }


def receipt_private(voucher: Voucher, resident: Resident) -> list[dict]:
    """The resident's own lines with each line's salt, and nothing about any co-payer: the
    record commits to every line separately (FORMAT.md §1), so one line opens on its own."""
    salt = bytes(voucher.private_salt) if voucher.private_salt is not None else None
    out = []
    for p in log.private_fields(voucher) or []:
        if p["resident"] != resident.id or "commitment" in p:
            continue  # another person's line, or one whose personal data was erased
        if "salt" in p:  # a co-payer's data was erased: each line keeps its own salt
            out.append(p)
        else:
            assert salt is not None  # a voucher with a resident line has its salt
            out.append({**p, "salt": base64.b64encode(log.line_salt(salt, p["line"])).decode()})
    return out


def receipt_text(receipt: dict) -> str:
    return json.dumps(receipt, ensure_ascii=False, indent=1) + "\n"


def fragment(receipt: dict) -> str:
    """The receipt packed for a URL fragment: compact JSON, raw DEFLATE, base64url without
    padding (the page unpacks it with the browser's DecompressionStream("deflate-raw")).
    A fragment is never sent to the server, so the receipt stays on the resident's phone."""
    text = json.dumps(receipt, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = packer.compress(text) + packer.flush()
    return "r=" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def receipt_filename(voucher: Voucher, resident: Resident) -> str:
    return f"receipt-{voucher.book_id}-{voucher.log_index}-{resident.id}.json"
