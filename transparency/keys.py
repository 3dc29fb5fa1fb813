# SPDX-License-Identifier: AGPL-3.0-or-later
"""Organisations' Ed25519 signing keys.

The private key is a PKCS8 PEM file ``KEYS_DIR/org-<id>-<fingerprint>.ed25519.pem`` (mode
0600) and never enters the database (DESIGN.md §4): a database dump or replica must not be
able to sign. The public key, its name and its fingerprint are in ``signing_keys`` for
everyone to see.

The file's name carries the key's fingerprint, so a file is only ever read for the public key
it was made for: a key written by a transaction that then failed (a killed import) stays an
orphan instead of becoming the key of the next organisation given the same id. A key file is
never adopted by an organisation that has no key row. Files named ``org-<id>.ed25519.pem``
(before fingerprints) are still read when their key matches the row.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import Conflict
from core.models import Organisation
from ledger.services import book_for
from tlog import notes

from .models import SigningKey


def origin(book_id: int) -> str:
    """A book's checkpoint origin, which is also its key's name (FORMAT.md §2): a schema-less
    URL naming this deployment and the book, ``<public host>/commons-ledger/<book id>``
    (C2SP tlog-checkpoint), so that two installations' book 7 never share an origin."""
    return notes.origin_for(current_app.config["PUBLIC_HOST"], book_id)


def keys_dir() -> Path:
    return Path(current_app.config["KEYS_DIR"])


def key_path(organisation_id: int, fingerprint: str | None = None) -> Path:
    """The file of the organisation's key with ``fingerprint`` (its current key when None)."""
    if fingerprint is None:
        key = current_key(organisation_id)
        if key is None:
            return keys_dir() / f"org-{organisation_id}-<none>.ed25519.pem"
        fingerprint = key.fingerprint
    return keys_dir() / f"org-{organisation_id}-{fingerprint}.ed25519.pem"


def _legacy_path(organisation_id: int) -> Path:
    return keys_dir() / f"org-{organisation_id}.ed25519.pem"


def _write_new_private_key(organisation_id: int) -> Ed25519PrivateKey:
    """A fresh key in a file of its own (named by its fingerprint, created exclusively)."""
    directory = keys_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fingerprint = notes.fingerprint(notes.public_key_bytes(key))
    fd = os.open(
        key_path(organisation_id, fingerprint), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
    )
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def _read_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise Conflict(_l("The signing key file %(path)s is not an Ed25519 key.", path=path.name))
    return key


def current_key(organisation_id: int) -> SigningKey | None:
    return db.session.scalar(
        sa.select(SigningKey)
        .where(SigningKey.organisation_id == organisation_id)
        .order_by(SigningKey.id.desc())
        .limit(1)
    )


def ensure_key(organisation: Organisation) -> SigningKey:
    """The organisation's signing key, created (file and public row) if it has none. Any key
    file already in the folder for this organisation id is left alone: without a row it is
    nobody's published key (see the module docstring)."""
    existing = current_key(organisation.id)
    if existing is not None:
        return existing
    book = book_for(organisation)
    private = _write_new_private_key(organisation.id)
    public = notes.public_key_bytes(private)
    row = SigningKey(
        community_id=organisation.community_id,
        organisation_id=organisation.id,
        name=origin(book.id),
        public_key=public,
        fingerprint=notes.fingerprint(public),
    )
    db.session.add(row)
    db.session.flush()
    return row


def private_key_for(key: SigningKey) -> Ed25519PrivateKey:
    """Load the private half of ``key``, refusing a file that holds a different key."""
    path = key_path(key.organisation_id, key.fingerprint)
    if not path.exists() and _legacy_path(key.organisation_id).exists():
        path = _legacy_path(key.organisation_id)
    if not path.exists():
        raise Conflict(
            _l(
                "The private signing key of this organisation is missing (%(path)s). Restore it from the backup.",
                path=path.name,
            )
        )
    private = _read_private_key(path)
    if notes.public_key_bytes(private) != bytes(key.public_key):
        raise Conflict(
            _l(
                "The signing key file %(path)s does not match the published public key.",
                path=path.name,
            )
        )
    return private


def public_key_json(key: SigningKey) -> dict:
    """The key as bundles and receipts show it (FORMAT.md §2)."""
    return notes.public_key_json(key.name, bytes(key.public_key))
