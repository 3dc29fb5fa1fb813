"""C2SP signed notes and checkpoints: golden vector from Go's sumdb/note, must-pass, must-reject."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tlog import notes

# golang.org/x/mod/sumdb/note's documented example: an independent implementation's output.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def go_private_key() -> Ed25519PrivateKey:
    blob = base64.b64decode(GO_SKEY.split("+", 4)[4])
    assert blob[0] == 1
    return Ed25519PrivateKey.from_private_bytes(blob[1:])


def test_sign_note_reproduces_the_go_reference_note_byte_for_byte():
    assert notes.sign_note(GO_TEXT, "PeterNeumann", go_private_key()) == GO_NOTE


def test_key_id_and_vkey_match_the_go_reference():
    key = go_private_key()
    assert notes.key_id("PeterNeumann", key).hex() == "c74f20a3"
    assert notes.vkey("PeterNeumann", key) == GO_VKEY
    name, raw = notes.parse_vkey(GO_VKEY)
    assert name == "PeterNeumann" and raw == notes.public_key_bytes(key)


def test_vkey_whose_base64_contains_a_plus_parses():
    # transparency-dev/formats' test key: the base64 has a '+' in it.
    name, raw = notes.parse_vkey("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")
    assert name == "TEST" and len(raw) == 32


def test_verify_note_accepts_the_go_reference_note():
    _, raw = notes.parse_vkey(GO_VKEY)
    assert notes.verify_note(GO_NOTE, "PeterNeumann", raw) == GO_TEXT


def test_key_id_is_sha256_of_name_newline_type_key():
    key = Ed25519PrivateKey.generate()
    raw = notes.public_key_bytes(key)
    expected = hashlib.sha256(b"ledger.test/commons-ledger/7\n\x01" + raw).digest()[:4]
    assert notes.key_id("ledger.test/commons-ledger/7", key) == expected
    pk = notes.public_key_json("ledger.test/commons-ledger/7", key)
    assert base64.b64decode(pk["ed25519"]) == raw
    assert pk["fingerprint"] == hashlib.sha256(raw).hexdigest()


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def checkpoint(key):
    return notes.sign_checkpoint("ledger.test/commons-ledger/7", 12, bytes(range(32)), key)


def test_checkpoint_round_trip(key, checkpoint):
    text = notes.verify_note(checkpoint, "ledger.test/commons-ledger/7", key.public_key())
    assert (
        text == f"ledger.test/commons-ledger/7\n12\n{base64.b64encode(bytes(range(32))).decode()}\n"
    )
    cp = notes.parse_checkpoint(text)
    assert cp == notes.Checkpoint("ledger.test/commons-ledger/7", 12, bytes(range(32)))


def test_signatures_by_other_keys_are_ignored_when_one_verifies(key, checkpoint):
    witness = Ed25519PrivateKey.generate()
    cosigned = notes.sign_note(checkpoint.split("\n\n")[0] + "\n", "witness.example", witness)
    both = checkpoint + cosigned.split("\n\n")[1]
    assert notes.verify_note(both, "ledger.test/commons-ledger/7", key.public_key())
    assert notes.verify_note(both, "witness.example", witness.public_key())


def test_wrong_key_is_rejected(checkpoint):
    other = Ed25519PrivateKey.generate()
    with pytest.raises(notes.NoteError) as e:
        notes.verify_note(checkpoint, "ledger.test/commons-ledger/7", other.public_key())
    assert e.value.check == "signature_missing"  # another key has another key id


def test_signature_by_another_key_name_is_rejected(key):
    note = notes.sign_checkpoint("ledger.test/commons-ledger/8", 12, bytes(32), key)
    with pytest.raises(notes.NoteError) as e:
        notes.verify_note(note, "ledger.test/commons-ledger/7", key.public_key())
    assert e.value.check == "signature_missing"
    assert "ledger.test/commons-ledger/8" in str(e.value)


def test_changed_text_is_rejected(key, checkpoint):
    tampered = checkpoint.replace("\n12\n", "\n13\n")
    with pytest.raises(notes.NoteError) as e:
        notes.verify_note(tampered, "ledger.test/commons-ledger/7", key.public_key())
    assert e.value.check == "signature_invalid"


def test_flipped_signature_bit_is_rejected(key, checkpoint):
    text, sig_line = checkpoint.split("\n\n")
    prefix, b64 = sig_line.rstrip("\n").rsplit(" ", 1)
    blob = bytearray(base64.b64decode(b64))
    blob[-1] ^= 1
    bad = f"{text}\n\n{prefix} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(notes.NoteError) as e:
        notes.verify_note(bad, "ledger.test/commons-ledger/7", key.public_key())
    assert e.value.check == "signature_invalid"


def test_a_failing_line_from_the_known_key_rejects_the_note_even_if_another_verifies(
    key, checkpoint
):
    text, sig_line = checkpoint.split("\n\n")
    prefix, b64 = sig_line.rstrip("\n").rsplit(" ", 1)
    blob = bytearray(base64.b64decode(b64))
    blob[10] ^= 0x80
    bad_line = f"{prefix} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(notes.NoteError) as e:
        notes.verify_note(checkpoint + bad_line, "ledger.test/commons-ledger/7", key.public_key())
    assert e.value.check == "signature_invalid"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda n: n.replace("\n\n", "\n"),  # no blank line
        lambda n: n[:-1],  # no final newline
        lambda n: n.replace("— ", "- "),  # hyphen, not em dash
        lambda n: n.replace(
            "— ledger.test/commons-ledger/7 ", "— ledger.test/commons-ledger/7  "
        ),  # two spaces
        lambda n: n.rstrip("\n") + "!!\n",  # bad base64
        lambda n: n.split("\n\n")[0] + "\n\n",  # no signatures
        lambda n: n.replace(
            "ledger.test/commons-ledger/7\n12", "ledger.test/commons-ledger/7\x0012"
        ),  # control char
        lambda n: "",
        lambda n: n + "— x AAAA\n",  # 3-byte signature blob
    ],
)
def test_malformed_notes_are_rejected_as_format_errors(key, checkpoint, mangle):
    with pytest.raises(notes.NoteError) as e:
        notes.verify_note(mangle(checkpoint), "ledger.test/commons-ledger/7", key.public_key())
    assert e.value.check == "note_format"


def test_non_string_note_is_a_format_error(key):
    for value in (None, 12, b"bytes", ["x"]):
        with pytest.raises(notes.NoteError) as e:
            notes.parse_note(value)
        assert e.value.check == "note_format"


def test_oversized_note_is_refused():
    with pytest.raises(notes.NoteError):
        notes.parse_note("a\n" * notes.MAX_NOTE_BYTES)


@pytest.mark.parametrize(
    "text",
    [
        "ledger.test/commons-ledger/7\n12\n",  # two lines
        "ledger.test/commons-ledger/7\n12\nAAAA\nextra\n",  # four lines
        "ledger.test/commons-ledger/7\n012\n"
        + base64.b64encode(bytes(32)).decode()
        + "\n",  # leading zero
        "ledger.test/commons-ledger/7\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "ledger.test/commons-ledger/7\n1e3\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "ledger.test/commons-ledger/7\n12\n"
        + base64.b64encode(bytes(31)).decode()
        + "\n",  # 31-byte root
        "ledger.test/commons-ledger/7\n12\n"
        + base64.b64encode(bytes(32)).decode().rstrip("=")
        + "\n",
        " commons-ledger/7\n12\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "ledger.test/commons-ledger/7\n12\n"
        + base64.b64encode(bytes(32)).decode(),  # no final newline
    ],
)
def test_malformed_checkpoints_are_rejected(text):
    with pytest.raises(notes.NoteError):
        notes.parse_checkpoint(text)


def test_checkpoint_size_zero_is_allowed():
    cp = notes.parse_checkpoint("o\n0\n" + base64.b64encode(bytes(32)).decode() + "\n")
    assert cp.size == 0


@pytest.mark.parametrize(
    "bad",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "PeterNeumann+c74f20a3+ApFc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong type
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
    ],
)
def test_malformed_vkeys_are_rejected(bad):
    with pytest.raises(notes.NoteError):
        notes.parse_vkey(bad)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there", None])
def test_bad_key_names_are_refused_when_signing(key, name):
    with pytest.raises(notes.NoteError):
        notes.sign_note("text\n", name, key)


def test_sign_note_refuses_text_without_final_newline(key):
    with pytest.raises(notes.NoteError):
        notes.sign_note("text", "n", key)


def test_sign_note_accepts_raw_private_bytes(key):
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    assert notes.sign_note("t\n", "n", raw) == notes.sign_note("t\n", "n", key)
