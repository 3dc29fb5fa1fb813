"""Scanned receipts and invoices attached to a voucher (附件, the files behind 附单据 N 张).

Files live in the database (DESIGN.md §6: no local files hold state), are checked by their
first bytes rather than by the name or type the browser claims, and can be added or removed
only while the voucher is a draft: once posted, the database triggers freeze them with it.
"""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import defer

from core.auth import require_role
from core.db import db
from core.errors import Conflict, InvalidInput, NotFound
from core.models import User

from . import services as svc
from .models import Voucher, VoucherAttachment, VoucherEvent, VoucherStatus

# What a treasurer scans: PDFs and photos. Recognised by magic bytes, never by the claim.
_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
MAX_FILES_PER_VOUCHER = 50
# Controls, path and shell characters, and the bidi controls that make "invoice\u202efdp.exe"
# read as "invoiceexe.pdf" (core.parse.BIDI_CONTROLS).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def sniff_type(data: bytes) -> str | None:
    """The content type the bytes really are, or None if we do not accept them."""
    for sig, ctype, _ext in _SIGNATURES:
        if data.startswith(sig):
            return ctype
    return None


def clean_filename(name: str | None, content_type: str) -> str:
    """Keep the treasurer's (often Chinese) file name, minus any path and unsafe characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _UNSAFE.sub("_", base).strip(" ._")
    ext = next(e for _s, t, e in _SIGNATURES if t == content_type)
    if not base:
        base = "attachment" + ext
    if len(base) > 200:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[:190] + dot + suffix[:9]) if dot else base[:200]
    return base


def max_size() -> int:
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 16 * 1024 * 1024)


def add_attachment(
    voucher: Voucher, filename: str | None, content_type: str | None, data: bytes, actor: User
) -> VoucherAttachment:
    """Attach one PDF, JPEG or PNG file to a draft voucher.

    The stored type is the one the bytes show; a file that claims another type is refused,
    so nothing served back later can be HTML or script in disguise. The voucher's
    attachment count (附单据张数) is raised to at least the number of files.
    """
    require_role(svc.parent_org(voucher.book_id), *svc.PREPARE_ROLES, user=actor)
    _must_be_draft(voucher)
    if not data:
        raise InvalidInput(_l("The file is empty."), errors={"file": [str(_l("Empty file."))]})
    if len(data) > max_size():
        raise InvalidInput(_l("The file is too large."), errors={"file": [str(_l("Too large."))]})
    real = sniff_type(data)
    claimed = (content_type or "").split(";")[0].strip().lower()
    if claimed == "image/jpg":
        claimed = "image/jpeg"
    if real is None or (claimed and claimed != "application/octet-stream" and claimed != real):
        raise InvalidInput(
            _l("Only PDF, JPEG and PNG files can be attached."),
            errors={"file": [str(_l("Not a PDF, JPEG or PNG file."))]},
        )
    count = db.session.execute(
        sa.select(sa.func.count())
        .select_from(VoucherAttachment)
        .where(VoucherAttachment.voucher_id == voucher.id)
    ).scalar_one()
    if count >= MAX_FILES_PER_VOUCHER:
        raise Conflict(_l("A voucher can have at most %(n)d files.", n=MAX_FILES_PER_VOUCHER))
    att = VoucherAttachment(
        community_id=voucher.community_id,
        voucher_id=voucher.id,
        filename=clean_filename(filename, real),
        content_type=real,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by_id=actor.id,
    )
    db.session.add(att)
    if voucher.attachment_count < count + 1:
        voucher.attachment_count = count + 1
    db.session.add(
        VoucherEvent(
            community_id=voucher.community_id,
            voucher_id=voucher.id,
            action="attached",
            user_id=actor.id,
            note=att.filename,
        )
    )
    db.session.flush()
    return att


def remove_attachment(attachment: VoucherAttachment, actor: User) -> None:
    """Remove a file from a draft (a wrong scan); the history keeps its name and hash."""
    voucher = attachment.voucher
    require_role(svc.parent_org(voucher.book_id), *svc.PREPARE_ROLES, user=actor)
    _must_be_draft(voucher)
    db.session.add(
        VoucherEvent(
            community_id=voucher.community_id,
            voucher_id=voucher.id,
            action="detached",
            user_id=actor.id,
            note=f"{attachment.filename} sha256:{attachment.sha256}",
        )
    )
    db.session.delete(attachment)
    db.session.flush()


def list_attachments(voucher: Voucher) -> list[VoucherAttachment]:
    """The voucher's files without loading their bytes."""
    return list(
        db.session.scalars(
            sa.select(VoucherAttachment)
            .options(defer(VoucherAttachment.data))
            .where(VoucherAttachment.voucher_id == voucher.id)
            .order_by(VoucherAttachment.id)
        )
    )


def get_attachment(voucher: Voucher, attachment_id: int) -> VoucherAttachment:
    att = db.session.get(VoucherAttachment, attachment_id)
    if att is None or att.voucher_id != voucher.id:
        raise NotFound(_l("No such attachment."))
    return att


def _must_be_draft(voucher: Voucher) -> None:
    if voucher.status != VoucherStatus.DRAFT.value:
        raise Conflict(_l("Files can be attached or removed only while the voucher is a draft."))
