# SPDX-License-Identifier: AGPL-3.0-or-later
"""Signing checkpoints (签名检查点) of a book's log.

Before signing a new (size, root), the server proves to itself, with the same RFC 9162
consistency check a verifier runs, that the new tree extends the latest signed one. A log
rewritten in the database (triggers disabled, rows edited) therefore stops the signing
instead of producing a second, contradicting signature.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import Conflict, NotFound
from core.models import Organisation
from ledger import log
from ledger.models import Book
from tlog import merkle, notes

from .keys import ensure_key, origin, private_key_for
from .models import Checkpoint


class LogInconsistent(Conflict):
    code = "log_inconsistent"


def locked_log_size(book: Book) -> int:
    """The book's log size, holding its head row until commit (PostgreSQL: posting waits).

    SQLite ignores FOR UPDATE; there a writing transaction already holds the database's
    write lock (core.db starts it with BEGIN IMMEDIATE).
    """
    return db.session.execute(
        sa.select(Book.log_size).where(Book.id == book.id).with_for_update()
    ).scalar_one()


def latest_checkpoint(book_id: int) -> Checkpoint | None:
    return db.session.scalar(
        sa.select(Checkpoint)
        .where(Checkpoint.book_id == book_id)
        .order_by(Checkpoint.size.desc())
        .limit(1)
    )


def checkpoint_at(book_id: int, size: int) -> Checkpoint | None:
    return db.session.scalar(
        sa.select(Checkpoint).where(Checkpoint.book_id == book_id, Checkpoint.size == size)
    )


def checkpoint_history(book_id: int) -> list[Checkpoint]:
    return list(
        db.session.scalars(
            sa.select(Checkpoint).where(Checkpoint.book_id == book_id).order_by(Checkpoint.size)
        )
    )


def _root(book: Book, size: int) -> bytes:
    try:
        return log.root(book.id, size)
    except LookupError:
        raise LogInconsistent(
            _l(
                "The log of book %(book)d is missing stored hashes. Run the tamper audit.",
                book=book.id,
            )
        ) from None


def _check_extends(book: Book, latest: Checkpoint, size: int, root: bytes) -> None:
    old_root = bytes(latest.root)
    rewritten = LogInconsistent(
        _l(
            "The log of book %(book)d no longer matches its signed checkpoint of size %(size)d: "
            "it was changed. Nothing was signed. Run the tamper audit.",
            book=book.id,
            size=latest.size,
        )
    )
    if latest.size > size:
        raise rewritten
    if latest.size == size:
        if old_root != root:
            raise rewritten
        return
    if latest.size == 0:
        return  # every tree extends the empty one
    try:
        proof = log.consistency_proof(book.id, latest.size, size)
        merkle.verify_consistency(latest.size, size, old_root, root, proof)
    except (LookupError, merkle.VerificationError):
        raise rewritten from None


def sign_checkpoint(book: Book) -> Checkpoint:
    """Sign the book's current (size, root), or return the latest checkpoint if nothing was
    posted since. Refuses when the log does not extend the latest signed checkpoint."""
    size = locked_log_size(book)
    if size is None:
        raise NotFound(_l("No such book."))
    root = _root(book, size)
    latest = latest_checkpoint(book.id)
    if latest is not None:
        _check_extends(book, latest, size, root)
        if latest.size == size:
            return latest
    organisation = db.session.get_one(Organisation, book.organisation_id)
    key = ensure_key(organisation)
    if key.name != origin(book.id):
        raise Conflict(_l("The organisation's signing key is named for another book."))
    note = notes.sign_checkpoint(key.name, size, root, private_key_for(key))
    checkpoint = Checkpoint(
        community_id=book.community_id,
        book_id=book.id,
        key_id=key.id,
        size=size,
        root=root,
        note=note,
    )
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint


def checkpoint_covering(book: Book, index: int) -> Checkpoint:
    """The latest signed checkpoint that contains leaf ``index``, signing one if none does."""
    latest = latest_checkpoint(book.id)
    if latest is not None and latest.size > index:
        return latest
    checkpoint = sign_checkpoint(book)
    if checkpoint.size <= index:
        raise NotFound(_l("Record %(index)d is not in the log yet.", index=index))
    return checkpoint
