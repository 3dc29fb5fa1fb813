# SPDX-License-Identifier: AGPL-3.0-or-later
"""C2SP signed notes (c2sp.org/signed-note) with Ed25519, and tlog checkpoints in them.

A checkpoint (c2sp.org/tlog-checkpoint, FORMAT.md §2) is the note text::

    <public host>/commons-ledger/<book id>
    <tree size>
    <b64 root>

followed by a blank line and one signature line per signer::

    — <public host>/commons-ledger/<book id> <b64(key id ‖ Ed25519 signature over the text)>

The origin is a schema-less URL naming the deployment and the book, as tlog-checkpoint
recommends, so that witnesses and monitors (which keep state per origin) never confuse two
installations' book 7.

Both the server (which signs) and the standalone verifier (which checks) use this module, so
it imports only the standard library and ``cryptography``. Verification follows the
specification's rules: signatures from unknown keys (another name, or the same name with
another key id) are ignored, a signature from the expected key must verify, and a note with no
verifying signature from the expected key is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "ED25519_TYPE",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "Checkpoint",
    "Note",
    "NoteError",
    "NoteSignature",
    "b64decode",
    "fingerprint",
    "format_checkpoint",
    "key_id",
    "book_of_origin",
    "origin_for",
    "parse_checkpoint",
    "parse_note",
    "parse_vkey",
    "public_key_bytes",
    "public_key_json",
    "sign_checkpoint",
    "sign_note",
    "verify_note",
    "vkey",
]

ED25519_TYPE = b"\x01"
"""Signature type byte of Ed25519 in C2SP signed notes."""

MAX_SIGNATURES = 100
"""More signature lines than this makes the note suspicious; the spec asks for at least 16."""

MAX_NOTE_BYTES = 64 * 1024
"""A checkpoint is under 200 bytes; anything this large is not one of ours."""

_SIG_PREFIX = "\u2014 "  # em dash, space
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


class NoteError(ValueError):
    """A note, checkpoint or key is malformed or does not verify.

    ``check`` names what failed (``"note_format"``, ``"signature_missing"``,
    ``"signature_invalid"``, ``"checkpoint_format"``, ``"key_format"``), so callers can react
    without parsing English; ``code`` (default: ``check``) and ``params`` say precisely what,
    for a verifier's message in the reader's language.
    """

    def __init__(self, check: str, detail: str, code: str = "", **params: object) -> None:
        super().__init__(detail)
        self.check = check
        self.detail = detail
        self.code = code or check
        self.params = params


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


# --------------------------------------------------------------------------- origins

ORIGIN_MARK = "/commons-ledger/"
_ORIGIN = re.compile(r"([a-z0-9.\-\[\]:]+(?:/[a-z0-9._~\-]+)*)/commons-ledger/([1-9][0-9]{0,18})")


def origin_for(host: str, book_id: int) -> str:
    """A book's log origin and key name: ``<public host>/commons-ledger/<book id>``."""
    return f"{host}{ORIGIN_MARK}{book_id}"


def book_of_origin(origin: object) -> int | None:
    """The book id an origin names, or None when it is not ``<host>/commons-ledger/<id>``."""
    m = _ORIGIN.fullmatch(origin) if isinstance(origin, str) else None
    return int(m.group(2)) if m else None


# --------------------------------------------------------------------------- keys


def b64decode(value: str, what: str = "value") -> bytes:
    """Strict standard base64 with padding (RFC 4648 §4); anything else is a NoteError."""
    if not isinstance(value, str) or not value.isascii():
        raise NoteError("key_format", f"{what} is not base64 text", "not_base64", what=what)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(
            "key_format", f"{what} is not valid base64", "not_base64", what=what
        ) from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def public_key_bytes(key: Ed25519PublicKey | Ed25519PrivateKey | bytes) -> bytes:
    """The 32-byte RFC 8032 encoding of an Ed25519 public key (or of a private key's)."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    if isinstance(key, Ed25519PublicKey):
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    if isinstance(key, (bytes, bytearray)) and len(key) == 32:
        return bytes(key)
    raise NoteError("key_format", "an Ed25519 public key is 32 bytes", "key_length")


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError(
            "key_format", f"bad key name {name!r}: non-empty, no spaces, no '+'", "key_name"
        )
    return name


def key_id(name: str, public_key: Ed25519PublicKey | Ed25519PrivateKey | bytes) -> bytes:
    """C2SP key id: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4]."""
    _check_name(name)
    raw = public_key_bytes(public_key)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519_TYPE + raw).digest()[:4]


def fingerprint(public_key: Ed25519PublicKey | Ed25519PrivateKey | bytes) -> str:
    """What people compare by eye or paste into ``--key``: hex SHA-256 of the 32 key bytes."""
    return hashlib.sha256(public_key_bytes(public_key)).hexdigest()


def public_key_json(name: str, public_key: Ed25519PublicKey | Ed25519PrivateKey | bytes) -> dict:
    """The key as bundles and public pages show it (FORMAT.md §2)."""
    raw = public_key_bytes(public_key)
    return {"name": _check_name(name), "ed25519": _b64(raw), "fingerprint": fingerprint(raw)}


def vkey(name: str, public_key: Ed25519PublicKey | Ed25519PrivateKey | bytes) -> str:
    """The C2SP verifier-key string ``name+<hex key id>+<b64(0x01 ‖ key)>`` other tools read."""
    raw = public_key_bytes(public_key)
    return f"{name}+{key_id(name, raw).hex()}+{_b64(ED25519_TYPE + raw)}"


def parse_vkey(text: str) -> tuple[str, bytes]:
    """(name, 32-byte key) from a verifier-key string; the embedded key id must match."""
    # The base64 part may itself contain '+'; the name and the hex id cannot.
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("key_format", "a verifier key has the form name+keyid+base64", "vkey_form")
    name, hex_id, b64 = parts
    _check_name(name)
    blob = b64decode(b64, "verifier key")
    if len(blob) != 33 or blob[:1] != ED25519_TYPE:
        raise NoteError(
            "key_format", "verifier key is not an Ed25519 key (type 0x01 + 32 bytes)", "vkey_type"
        )
    raw = blob[1:]
    if hex_id.lower() != key_id(name, raw).hex():
        raise NoteError(
            "key_format", "verifier key's key id does not match its name and key", "vkey_id"
        )
    return name, raw


# --------------------------------------------------------------------------- notes


def _check_text(text: object) -> str:
    if not isinstance(text, str) or not text:
        raise NoteError("note_format", "note text is empty", "empty")
    if not text.endswith("\n"):
        raise NoteError("note_format", "note text must end with a newline", "newline")
    if _CONTROL.search(text):
        raise NoteError(
            "note_format", "note contains control characters other than newline", "control"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError("note_format", "note is not valid UTF-8 text", "utf8") from None
    return text


def parse_note(note: object) -> Note:
    """Split a signed note into its text and signature lines (no verification)."""
    if not isinstance(note, str):
        raise NoteError(
            "note_format",
            f"a signed note is text, got {type(note).__name__}",
            "not_text",
            got=type(note).__name__,
        )
    if len(note) > MAX_NOTE_BYTES:
        raise NoteError(
            "note_format",
            f"note is longer than {MAX_NOTE_BYTES} characters",
            "too_long",
            n=MAX_NOTE_BYTES,
        )
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError(
            "note_format", "note has no blank line before its signatures", "no_signatures"
        )
    text, sig_block = note[: split + 1], note[split + 2 :]
    if not sig_block:
        raise NoteError("note_format", "note has no signature lines", "no_signatures")
    sig_lines = sig_block[:-1].split("\n")  # sig_block ends with "\n" (checked above)
    if len(sig_lines) > MAX_SIGNATURES:
        raise NoteError(
            "note_format",
            f"note has more than {MAX_SIGNATURES} signatures",
            "too_many",
            n=MAX_SIGNATURES,
        )
    sigs = []
    for n, line in enumerate(sig_lines, 1):
        if not line.startswith(_SIG_PREFIX):
            raise NoteError(
                "note_format", f"signature line {n} does not start with '— '", "sig_line", n=n
            )
        name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not sep or " " in b64:
            raise NoteError(
                "note_format", f"signature line {n} is not '— <name> <base64>'", "sig_line", n=n
            )
        try:
            _check_name(name)
            blob = b64decode(b64, f"signature line {n}")
        except NoteError as e:
            raise NoteError("note_format", e.detail, "sig_line", n=n) from None
        if len(blob) <= 4:
            raise NoteError("note_format", f"signature line {n} is too short", "sig_line", n=n)
        sigs.append(NoteSignature(name=name, key_id=blob[:4], signature=blob[4:]))
    return Note(text=text, signatures=tuple(sigs))


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey | bytes) -> str:
    """The signed note: ``text``, a blank line, and one Ed25519 signature line by ``name``."""
    _check_text(text)
    _check_name(name)
    if isinstance(private_key, (bytes, bytearray)):
        private_key = Ed25519PrivateKey.from_private_bytes(bytes(private_key))
    sig = private_key.sign(text.encode("utf-8"))
    kid = key_id(name, private_key)
    return f"{text}\n{_SIG_PREFIX}{name} {_b64(kid + sig)}\n"


def verify_note(note: str | Note, name: str, public_key: Ed25519PublicKey | bytes) -> str:
    """The note's text if a signature by (``name``, ``public_key``) verifies; else NoteError.

    Signatures by other keys are ignored (C2SP), but one by this key that fails to verify
    rejects the note even if another line by the same key verifies.
    """
    parsed = note if isinstance(note, Note) else parse_note(note)
    raw = public_key_bytes(public_key)
    kid = key_id(name, raw)
    pub = Ed25519PublicKey.from_public_bytes(raw)
    message = parsed.text.encode("utf-8")
    found = False
    for sig in parsed.signatures:
        if sig.name != name or sig.key_id != kid:
            continue
        found = True
        try:
            pub.verify(sig.signature, message)
        except InvalidSignature:
            raise NoteError(
                "signature_invalid",
                f"the signature by {name} does not verify with this key",
                name=name,
            ) from None
    if not found:
        others = ", ".join(sorted({s.name for s in parsed.signatures}))
        raise NoteError(
            "signature_missing",
            f"no signature by {name} with key id {kid.hex()} (signed by: {others or 'nobody'})",
            name=name,
            signers=tuple(sorted({s.name for s in parsed.signatures})),
        )
    return parsed.text


# --------------------------------------------------------------------------- checkpoints


def format_checkpoint(origin: str, size: int, root: bytes) -> str:
    """The unsigned checkpoint text (FORMAT.md §2), three lines each ending in a newline."""
    _check_name(origin)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise NoteError("checkpoint_format", f"bad tree size {size!r}")
    if not isinstance(root, (bytes, bytearray)) or len(root) != 32:
        raise NoteError("checkpoint_format", "root must be 32 bytes")
    return f"{origin}\n{size}\n{_b64(bytes(root))}\n"


def sign_checkpoint(
    origin: str, size: int, root: bytes, private_key: Ed25519PrivateKey | bytes
) -> str:
    """A checkpoint note signed by the key named ``origin`` (key name = origin, FORMAT.md §2)."""
    return sign_note(format_checkpoint(origin, size, root), origin, private_key)


def parse_checkpoint(text: str) -> Checkpoint:
    """Origin, size and root from a checkpoint's note text (the part the signature covers).

    Strict: exactly three lines (FORMAT.md §2 defines no extension lines), a decimal size
    without leading zeros, and a base64 root of exactly 32 bytes.
    """
    _check_text(text)
    lines = text[:-1].split("\n")
    if len(lines) != 3:
        raise NoteError(
            "checkpoint_format",
            f"a checkpoint has 3 lines, this one has {len(lines)}",
            "checkpoint_lines",
            n=len(lines),
        )
    origin, size_s, root_s = lines
    if not origin or any(c.isspace() for c in origin):
        raise NoteError(
            "checkpoint_format",
            "checkpoint origin line is empty or has spaces",
            "checkpoint_origin",
        )
    if not _DECIMAL.fullmatch(size_s):
        raise NoteError(
            "checkpoint_format",
            f"checkpoint size {size_s[:40]!r} is not a decimal",
            "checkpoint_size",
            value=repr(size_s[:40]),
        )
    try:
        root = b64decode(root_s, "checkpoint root")
    except NoteError as e:
        raise NoteError("checkpoint_format", e.detail, "checkpoint_root") from None
    if len(root) != 32:
        raise NoteError(
            "checkpoint_format", f"checkpoint root is {len(root)} bytes, not 32", "checkpoint_root"
        )
    return Checkpoint(origin=origin, size=int(size_s), root=root)
