"""Signing keys and checkpoints: keys stay out of the database, notes follow C2SP, and a book
never signs two checkpoints that contradict each other."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import stat

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.db import db
from core.errors import Conflict
from ledger import log
from tests.ledger.conftest import lines
from tlog import merkle, notes
from transparency import keys
from transparency.checkpoints import LogInconsistent, checkpoint_covering, sign_checkpoint
from transparency.models import Checkpoint, SigningKey

pytestmark = pytest.mark.usefixtures("english")  # these tests match the English messages


@pytest.fixture
def three(book, acct, post):
    """Three posted vouchers."""
    return [
        post(
            lines((acct("1001"), n * 100, 0), (acct("1002"), 0, n * 100)), date=dt.date(2025, 3, n)
        )
        for n in (1, 2, 3)
    ]


def post_one(acct, post, n=9):
    return post(lines((acct("1001"), n, 0), (acct("1002"), 0, n)), date=dt.date(2025, 3, 9))


def checkpoints_of(book):
    return db.session.scalars(
        sa.select(Checkpoint).where(Checkpoint.book_id == book.id).order_by(Checkpoint.size)
    ).all()


def tamper_node(book, level, index):
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("ALTER TABLE log_nodes DISABLE TRIGGER USER"))
    else:
        db.session.execute(sa.text("DROP TRIGGER IF EXISTS log_nodes_no_update"))
    n = db.session.execute(
        sa.text(
            'UPDATE log_nodes SET hash = :h WHERE book_id = :b AND level = :l AND "index" = :i'
        ),
        {"h": hashlib.sha256(b"forged").digest(), "b": book.id, "l": level, "i": index},
    ).rowcount
    assert n == 1
    db.session.expire_all()


# --- keys ---------------------------------------------------------------------------------------


def test_a_key_is_made_once_and_its_private_half_stays_in_the_key_folder(
    app, organisation, book, keys_dir
):
    key = keys.ensure_key(organisation)
    path = keys_dir / f"org-{organisation.id}-{key.fingerprint}.ed25519.pem"
    assert keys.key_path(organisation.id) == path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8
    public = notes.public_key_bytes(private)
    assert bytes(key.public_key) == public and len(public) == 32
    assert key.fingerprint == hashlib.sha256(public).hexdigest()
    assert key.name == f"localhost/commons-ledger/{book.id}"  # the test app's public host
    assert keys.ensure_key(organisation).id == key.id
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(SigningKey)
            .where(SigningKey.organisation_id == organisation.id)
        )
        == 1
    )
    # Nothing in the row is the private key.
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    row = db.session.execute(sa.select(SigningKey.__table__).where(SigningKey.id == key.id)).one()
    assert not any(
        isinstance(v, bytes | str) and (raw_private in (v if isinstance(v, bytes) else v.encode()))
        for v in row
    )
    assert keys.public_key_json(key) == {
        "name": key.name,
        "ed25519": base64.b64encode(public).decode(),
        "fingerprint": key.fingerprint,
    }


def _pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_a_key_file_without_a_row_is_never_adopted(app, organisation, keys_dir):
    """Issue 9 item 8: a killed import left its new key on disk, and the next organisation
    given the same id took it as its own. Key files are named by their fingerprint now, and a
    file without a row is nobody's key."""
    from ledger import services as ledger_services

    keys_dir.mkdir(exist_ok=True)
    stale = Ed25519PrivateKey.generate()
    stale_fp = notes.fingerprint(notes.public_key_bytes(stale))
    for name in (
        f"org-{organisation.id}.ed25519.pem",  # the old name
        f"org-{organisation.id}-{stale_fp}.ed25519.pem",
    ):
        (keys_dir / name).write_bytes(_pem(stale))
    ledger_services.create_book(organisation)
    key = keys.current_key(organisation.id)
    assert key.fingerprint != stale_fp
    assert keys.private_key_for(key) is not None
    assert notes.public_key_bytes(keys.private_key_for(key)) == bytes(key.public_key)


def test_a_key_written_by_a_rolled_back_transaction_is_not_reused(
    app, organisation_factory, keys_dir
):
    from ledger import services as ledger_services

    nested = db.session.begin_nested()
    doomed = organisation_factory()
    ledger_services.create_book(doomed)
    doomed_id, doomed_fp = doomed.id, keys.current_key(doomed.id).fingerprint
    nested.rollback()
    assert keys.current_key(doomed_id) is None
    assert (keys_dir / f"org-{doomed_id}-{doomed_fp}.ed25519.pem").exists()  # left on disk
    org = organisation_factory()
    ledger_services.create_book(org)
    key = keys.current_key(org.id)
    assert key.fingerprint != doomed_fp
    assert notes.public_key_bytes(keys.private_key_for(key)) == bytes(key.public_key)


def test_a_key_file_of_the_old_name_still_signs_for_its_row(
    app, organisation, book, keys_dir, three
):
    key = keys.ensure_key(organisation)
    path = keys.key_path(organisation.id)
    path.rename(keys_dir / f"org-{organisation.id}.ed25519.pem")
    assert sign_checkpoint(book).key_id == key.id


def test_the_key_is_created_with_the_book(app, organisation):
    from ledger import services as ledger_services

    assert keys.current_key(organisation.id) is None
    ledger_services.create_book(organisation)
    assert keys.current_key(organisation.id) is not None


def test_signing_refuses_a_missing_or_foreign_key_file(app, organisation, book, keys_dir, three):
    key = keys.ensure_key(organisation)
    path = keys.key_path(organisation.id)
    path.unlink()
    with pytest.raises(Conflict, match="missing"):
        sign_checkpoint(book)
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(Conflict, match="does not match the published public key"):
        sign_checkpoint(book)
    assert checkpoints_of(book) == [] and key.id


def test_cli_keygen_prints_the_public_key(app, runner, organisation, book):
    result = runner.invoke(args=["transparency", "keygen", "--organisation", str(organisation.id)])
    assert result.exit_code == 0, result.output
    key = keys.current_key(organisation.id)
    assert (
        key.fingerprint in result.output and f"localhost/commons-ledger/{book.id}" in result.output
    )
    assert (
        runner.invoke(args=["transparency", "keygen", "--organisation", "no-such-org"]).exit_code
        == 1
    )


# --- checkpoints ----------------------------------------------------------------------------------


def test_a_checkpoint_is_a_c2sp_signed_note_of_the_logs_root(app, organisation, book, three):
    cp = sign_checkpoint(book)
    root = merkle.root_hash([log.leaf_hash_at(book.id, i) for i in range(3)])
    origin = f"localhost/commons-ledger/{book.id}"
    body = f"{origin}\n3\n{base64.b64encode(root).decode()}\n"
    assert cp.size == 3 and bytes(cp.root) == root
    assert cp.note.startswith(body + "\n\u2014 " + origin + " ")
    assert cp.note.endswith("\n") and cp.note.count("\n") == 5
    # The signature line: key id (4 bytes) + Ed25519 signature (64 bytes) over the body.
    blob = base64.b64decode(cp.note.split(" ")[-1])
    public = bytes(cp.key.public_key)
    assert blob[:4] == hashlib.sha256(origin.encode() + b"\n\x01" + public).digest()[:4]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], body.encode())
    assert notes.verify_note(cp.note, origin, public) == body
    with pytest.raises(notes.NoteError):
        notes.verify_note(cp.note.replace("\n3\n", "\n4\n"), origin, public)


def test_checkpoints_verify_with_the_verifiers_note_module(app, organisation, book, three):
    cp = sign_checkpoint(book)
    text = notes.verify_note(cp.note, cp.key.name, bytes(cp.key.public_key))
    parsed = notes.parse_checkpoint(text)
    assert (parsed.origin, parsed.size, parsed.root) == (cp.key.name, 3, bytes(cp.root))


def test_nothing_new_is_signed_while_nothing_is_posted(app, book, three):
    first = sign_checkpoint(book)
    assert sign_checkpoint(book).id == first.id
    assert len(checkpoints_of(book)) == 1


def test_an_empty_book_signs_size_zero(app, book):
    cp = sign_checkpoint(book)
    assert cp.size == 0 and bytes(cp.root) == hashlib.sha256(b"").digest()


def test_each_new_checkpoint_extends_the_previous(app, book, acct, post, three):
    old = sign_checkpoint(book)
    post_one(acct, post)
    post_one(acct, post, 10)
    new = sign_checkpoint(book)
    assert (old.size, new.size) == (3, 5)
    proof = log.consistency_proof(book.id, 3, 5)
    assert merkle.verify_consistency(3, 5, bytes(old.root), bytes(new.root), proof)


def test_a_rewritten_log_is_never_signed(app, book, acct, post, three):
    sign_checkpoint(book)
    tamper_node(book, 1, 0)  # the subtree of leaves 0 and 1: part of the signed root of size 3
    with pytest.raises(LogInconsistent, match="no longer matches its signed checkpoint of size 3"):
        sign_checkpoint(book)
    assert len(checkpoints_of(book)) == 1


def test_a_log_rewritten_before_new_posts_is_never_signed(app, book, acct, post, three):
    sign_checkpoint(book)
    tamper_node(book, 0, 2)  # leaf 2 (size 3's right edge): the next append folds it in
    post_one(acct, post)
    with pytest.raises(LogInconsistent):
        sign_checkpoint(book)
    assert [cp.size for cp in checkpoints_of(book)] == [3]


def test_checkpoint_covering_signs_only_when_needed(app, book, acct, post, three):
    cp = checkpoint_covering(book, 2)
    assert cp.size == 3
    v = post_one(acct, post)
    assert checkpoint_covering(book, 1).id == cp.id  # an older record: the latest will do
    assert checkpoint_covering(book, v.log_index).size == 4


def test_cli_checkpoint_prints_the_note(app, runner, book, three):
    result = runner.invoke(args=["transparency", "checkpoint", "--book", str(book.id)])
    assert result.exit_code == 0, result.output
    assert result.output == checkpoints_of(book)[0].note
    assert runner.invoke(args=["transparency", "checkpoint", "--book", "999999"]).exit_code == 1


# --- public API ------------------------------------------------------------------------------------


def test_public_checkpoint_endpoints(app, client, organisation, book, acct, post, three):
    base = f"/api/v1/public/books/{book.id}"
    old = sign_checkpoint(book)
    post_one(acct, post)
    post_one(acct, post, 11)
    new = sign_checkpoint(book)
    latest = client.get(f"{base}/checkpoint")
    assert latest.status_code == 200 and latest.mimetype == "text/plain"
    assert latest.get_data(as_text=True) == new.note
    history = client.get(f"{base}/checkpoints").get_json()
    assert [c["size"] for c in history["checkpoints"]] == [3, 5]
    assert history["checkpoints"][0]["note"] == old.note
    assert history["public_key"]["fingerprint"] == new.key.fingerprint
    assert (
        client.get(f"/api/v1/public/organisations/{organisation.id}/key").get_json()
        == history["public_key"]
    )
    # A fresh inclusion proof against a signed size.
    proof = client.get(f"{base}/proof?index=1&size=3").get_json()
    assert proof["checkpoint"] == old.note
    hashes = [base64.b64decode(h) for h in proof["inclusion_proof"]]
    assert merkle.verify_inclusion(log.leaf_hash_at(book.id, 1), 1, 3, hashes, bytes(old.root))
    assert client.get(f"{base}/proof?index=4").get_json()["size"] == 5  # default: the latest
    # Consistency between signed checkpoints.
    cons = client.get(f"{base}/consistency?old=3&new=5").get_json()
    hashes = [base64.b64decode(h) for h in cons["consistency_proof"]]
    assert merkle.verify_consistency(3, 5, bytes(old.root), bytes(new.root), hashes)
    assert client.get(f"{base}/consistency?old=3").get_json()["new"] == 5


@pytest.mark.parametrize(
    "query,status",
    [
        ("proof?index=3&size=3", 422),  # index outside the tree
        ("proof?index=0&size=4", 404),  # no checkpoint of that size
        ("proof?index=-1", 422),
        ("proof?index=abc", 422),
        ("proof", 422),
        ("proof?index=0&size=99999999999999999999999", 422),
        ("consistency?old=5&new=3", 422),
        ("consistency?old=0", 422),
        ("consistency?old=2&new=3", 404),  # 2 was never signed
        ("consistency", 422),
    ],
)
def test_bad_proof_requests_are_4xx(app, client, book, three, query, status):
    sign_checkpoint(book)
    resp = client.get(f"/api/v1/public/books/{book.id}/{query}")
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()["code"]


def test_a_book_that_never_signed_has_no_checkpoint(app, client, book, three):
    resp = client.get(f"/api/v1/public/books/{book.id}/checkpoint")
    assert resp.status_code == 404 and resp.get_json()["code"] == "not_found"


def test_unknown_books_are_404(app, client):
    for path in ("checkpoint", "checkpoints", "proof?index=0", "consistency?old=1", "reports"):
        assert client.get(f"/api/v1/public/books/999999/{path}").status_code == 404


# --- the log's origin names this deployment (issue 14 item 10) ---------------------------------


@pytest.fixture
def example_host(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_HOST", "ledger.example.org")


def test_the_origin_is_a_schema_less_url_naming_the_public_host_and_the_book(
    example_host, organisation, book
):
    cp = sign_checkpoint(book)
    origin = f"ledger.example.org/commons-ledger/{book.id}"
    assert cp.note.startswith(origin + "\n0\n")
    assert cp.key.name == origin  # key name = origin
    assert notes.book_of_origin(origin) == book.id
    assert notes.book_of_origin(f"commons-ledger/{book.id}") is None  # the old form is gone


def test_the_public_host_setting_is_checked(monkeypatch, tmp_path):
    from core.config import ConfigError, load_config

    monkeypatch.delenv("COMMONS_PUBLIC_HOST", raising=False)
    monkeypatch.delenv("SERVER_NAME", raising=False)
    assert load_config(str(tmp_path))["PUBLIC_HOST"] == "localhost"
    assert load_config(str(tmp_path), {"SERVER_NAME": "a.example:8080"})["PUBLIC_HOST"] == (
        "a.example:8080"
    )
    monkeypatch.setenv("COMMONS_PUBLIC_HOST", "Ledger.Example.ORG/")
    assert load_config(str(tmp_path))["PUBLIC_HOST"] == "ledger.example.org"
    for bad in ("https://ledger.example.org", "ledger example", "a/b c", ""):
        monkeypatch.setenv("COMMONS_PUBLIC_HOST", bad)
        if bad == "":
            assert load_config(str(tmp_path))["PUBLIC_HOST"] == "localhost"
            continue
        with pytest.raises(ConfigError):
            load_config(str(tmp_path))
