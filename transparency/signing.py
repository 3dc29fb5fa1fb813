# SPDX-License-Identifier: AGPL-3.0-or-later
"""C2SP signed notes for checkpoints (FORMAT.md §2): the server's signing side.

A checkpoint note is three lines (origin, tree size, base64 root), each ending in a newline,
then a blank line and one signature line ``— <key name> <b64(key id ‖ Ed25519 signature)>``.
The key id binds the signature to the key's name and algorithm, so a signature made for one
book's origin cannot be passed off as another's.

Only the standard library and ``cryptography``: nothing here knows the database.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ORIGIN_PREFIX = "commons-ledger/"
ALG_ED25519 = b"\x01"
SIGNATURE_DASH = "\u2014"  # the em dash that starts a C2SP signature line


def origin(book_id: int) -> str:
    return f"{ORIGIN_PREFIX}{book_id}"


def key_id(name: str, public_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte Ed25519 public key)."""
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public_key).digest()[:4]


def fingerprint(public_key: bytes) -> str:
    """What people compare out of band: hex SHA-256 of the raw public key."""
    return hashlib.sha256(public_key).hexdigest()


def checkpoint_body(name: str, size: int, root: bytes) -> str:
    return f"{name}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note: body, blank line, one signature line."""
    if not body.endswith("\n"):
        raise ValueError("a note body ends with a newline")
    public = raw_public_key(private_key.public_key())
    signature = private_key.sign(body.encode())
    sig = base64.b64encode(key_id(name, public) + signature).decode()
    return f"{body}\n{SIGNATURE_DASH} {name} {sig}\n"


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class NoteError(ValueError):
    """A signed note is malformed or its signature does not verify."""


def parse_checkpoint(note: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint note, without checking the signature."""
    body, sep, _sigs = note.partition("\n\n")
    if not sep:
        raise NoteError("the note has no signature block")
    lines = body.split("\n")
    if len(lines) != 3:
        raise NoteError("a checkpoint has exactly three lines")
    name, size_text, root_text = lines
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError("the tree size is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError:
        raise NoteError("the root is not base64") from None
    if len(root) != 32:
        raise NoteError("the root is not 32 bytes")
    return name, int(size_text), root


def verify_note(note: str, name: str, public_key: bytes) -> str:
    """Return the note's body if a signature line by ``name`` verifies under ``public_key``."""
    body, sep, sigs = note.partition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise NoteError("the note has no signature block")
    body += "\n"
    want = key_id(name, public_key)
    key = Ed25519PublicKey.from_public_bytes(public_key)
    for line in sigs[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != SIGNATURE_DASH or parts[1] != name:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except ValueError:
            continue
        if len(blob) != 4 + 64 or blob[:4] != want:
            continue
        try:
            key.verify(blob[4:], body.encode())
        except InvalidSignature:
            raise NoteError("the signature does not verify") from None
        return body
    raise NoteError(f"no signature by {name} with this key")
