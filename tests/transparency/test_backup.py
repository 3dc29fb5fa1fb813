"""``flask backup`` / ``flask restore`` on the test's backend, with real commits: a backup taken
while another thread posts restores into a fresh database that passes the tamper audit, whose
checkpoints match the recomputed roots and whose published bundles are byte for byte the same."""

from __future__ import annotations

import datetime as dt
import io
import json
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import backup
from core.db import db
from core.models import AuditEvent, User
from ledger import log
from ledger import services as svc
from ledger.models import Book, Voucher
from tests.conftest import make_app, own_database
from tests.ledger.conftest import two_person_book
from transparency import audit
from transparency.disclosure import publish_report
from transparency.models import Checkpoint, DisclosureReport

pytestmark = pytest.mark.commits

D = dt.date
CONCURRENT = 8  # vouchers another thread posts while the backup runs


@dataclass
class World:
    book_id: int
    reviewer_id: int
    pending: list[int]  # approved vouchers of May, for the writer thread
    bundles: dict[int, str]  # report id → bundle text as published


def _world() -> World:
    """A community enterprise's book with two published reports (March, April 2025) and
    approved May vouchers waiting to be posted."""
    desk = two_person_book("备份", "backup")
    book, reviewer = desk.book, desk.reviewer
    for i, day in enumerate((D(2025, 3, 2), D(2025, 3, 20), D(2025, 4, 3), D(2025, 4, 20))):
        v = desk.approved_sale(day, f"便民超市销售 {i}", 1_000_00 + i)
        svc.post_voucher(v, actor=reviewer)
    for month in (3, 4):
        svc.close_period(book, 2025, month, actor=reviewer)
    march = publish_report(book, "2025-03", actor=reviewer)
    april = publish_report(book, "2025-04", actor=reviewer)
    pending = [
        desk.approved_sale(D(2025, 5, 1 + i), f"五月销售 {i}", 500 + i).id
        for i in range(CONCURRENT)
    ]
    world = World(book.id, reviewer.id, pending, {march.id: march.bundle, april.id: april.bundle})
    db.session.commit()
    return world


@pytest.fixture
def fresh_app(tmp_path):
    """A second app on an empty database of its own (no tables: restore creates them)."""
    with own_database(tmp_path / "restored.sqlite3") as url:
        app = make_app(url, str(tmp_path / "restored-instance"))
        yield app
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


def _post_in_thread(app, world: World, started: threading.Event, errors: list) -> None:
    with app.app_context():
        try:
            for n, vid in enumerate(world.pending):
                actor = db.session.get(User, world.reviewer_id)
                svc.post_voucher(db.session.get(Voucher, vid), actor=actor)
                db.session.commit()
                if n == 1:
                    started.set()
        except Exception as e:  # pragma: no cover - reported by the test
            db.session.rollback()
            errors.append(repr(e))
        finally:
            started.set()
            db.session.remove()


def _table_count(app) -> int:
    with app.app_context():
        return len(sa.inspect(db.engine).get_table_names())


def test_backup_while_posting_restores_into_a_fresh_database(committing_app, fresh_app, tmp_path):
    app = committing_app
    world = _world()
    keys_dir = app.config["KEYS_DIR"]
    target = tmp_path / "commons.backup"

    started, errors = threading.Event(), []
    writer = threading.Thread(target=_post_in_thread, args=(app, world, started, errors))
    writer.start()
    assert started.wait(60)
    result = app.test_cli_runner().invoke(args=["backup", str(target), "--keys", keys_dir])
    writer.join(120)
    assert not errors, errors
    assert result.exit_code == 0, result.output
    assert "signing keys" in result.output

    with tarfile.open(target) as tar:
        assert tar.getnames()[0] == backup.MANIFEST
        manifest = json.loads(tar.extractfile(backup.MANIFEST).read())
    assert manifest["format"] == backup.FORMAT
    assert manifest["format_version"] == backup.FORMAT_VERSION
    assert manifest["backend"] == db.engine.dialect.name
    assert (
        manifest["alembic_revision"]
        == db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    )
    (described,) = manifest["books"]
    # The manifest was read in the copy's snapshot: somewhere between the published four
    # records and all of the writer's.
    assert 4 <= described["log_size"] <= 4 + CONCURRENT
    assert {r["id"] for r in manifest["reports"]} == set(world.bundles)

    db.session.remove()
    with fresh_app.app_context():
        result = fresh_app.test_cli_runner().invoke(
            args=["restore", str(target), "--keys", str(tmp_path / "restored-keys")]
        )
        assert result.exit_code == 0, result.output
        assert "MISMATCH" not in result.output
        assert f"OK book {world.book_id} audit" in result.output

        book = db.session.get_one(Book, world.book_id)
        assert book.log_size == described["log_size"]
        posted = db.session.scalar(
            sa.select(sa.func.count()).where(Voucher.book_id == book.id, Voucher.status == "posted")
        )
        assert posted == book.log_size
        assert audit.audit_book(book).ok
        checkpoints = db.session.scalars(
            sa.select(Checkpoint).where(Checkpoint.book_id == book.id)
        ).all()
        assert checkpoints
        for cp in checkpoints:
            assert bytes(cp.root) == log.root(book.id, cp.size)
        reports = db.session.scalars(sa.select(DisclosureReport)).all()
        assert {r.id: r.bundle for r in reports} == world.bundles
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "cli restore")
        ).one()
        assert event.outcome == "ok"
        db.session.remove()

    restored_keys = sorted(p.name for p in (tmp_path / "restored-keys").iterdir())
    original_keys = sorted(p.name for p in Path(keys_dir).iterdir())
    assert restored_keys == original_keys and restored_keys
    for name in restored_keys:
        assert (tmp_path / "restored-keys" / name).read_bytes() == (
            Path(keys_dir) / name
        ).read_bytes()


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(committing_app, tmp_path):
    app = committing_app
    world = _world()
    target = tmp_path / "commons.backup"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "keys" in result.output and "separately" in result.output

    # More is posted after the backup; restoring without --force changes nothing.
    for vid in world.pending[:3]:
        svc.post_voucher(
            db.session.get(Voucher, vid), actor=db.session.get(User, world.reviewer_id)
        )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["restore", str(target)])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert db.session.get_one(Book, world.book_id).log_size == 7

    # Forced, the running app's database is the backup's again, and passes the audit.
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["restore", str(target), "--force"])
    assert result.exit_code == 0, result.output
    assert "MISMATCH" not in result.output
    book = db.session.get_one(Book, world.book_id)
    assert book.log_size == 4
    assert audit.audit_book(book).ok
    assert db.session.get_one(Voucher, world.pending[0]).status == "approved"


def _tar(path, manifest: dict | None, extra: dict[str, bytes] | None = None) -> None:
    with tarfile.open(path, "w") as tar:
        members = dict(extra or {})
        if manifest is not None:
            members = {backup.MANIFEST: json.dumps(manifest).encode(), **members}
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "no such file"),
        ("text", "is not a Commons Ledger backup"),
        ("no-manifest", "is not a Commons Ledger backup"),
        ("other-format", "is not a Commons Ledger backup"),
        ("version", "format version 99"),
        ("damaged", "does not match its checksum"),
        ("backend", "the app's database is"),
    ],
)
def test_bad_backup_files_change_nothing(fresh_app, tmp_path, kind, message):
    path = tmp_path / "bad.backup"
    with fresh_app.app_context():
        backend = db.engine.dialect.name
    member = "database.sqlite3" if backend == "sqlite" else "database.pgdump"
    good = {
        "format": backup.FORMAT,
        "format_version": backup.FORMAT_VERSION,
        "backend": backend,
        "alembic_revision": "c5be73b1da92",
        "database": {"member": member, "sha256": "0" * 64},
    }
    if kind == "text":
        path.write_text("SQLite format 3, honestly\n")
    elif kind == "no-manifest":
        _tar(path, None, {member: b"data"})
    elif kind == "other-format":
        _tar(path, {**good, "format": "something-else"}, {member: b"data"})
    elif kind == "version":
        _tar(path, {**good, "format_version": 99}, {member: b"data"})
    elif kind == "backend":
        _tar(path, {**good, "backend": "oracle"}, {member: b"data"})
    elif kind == "damaged":
        _tar(path, good, {member: b"not what the checksum says"})
    with fresh_app.app_context():
        result = fresh_app.test_cli_runner().invoke(args=["restore", str(path)])
        assert result.exit_code == 1
        assert message in result.output
        assert "Traceback" not in result.output
    assert _table_count(fresh_app) == 0


def test_restore_never_overwrites_a_different_key_file(committing_app, fresh_app, tmp_path):
    _world()
    keys_dir = Path(committing_app.config["KEYS_DIR"])
    with_keys, without_keys = tmp_path / "with.backup", tmp_path / "without.backup"
    runner = committing_app.test_cli_runner()
    assert runner.invoke(args=["backup", str(with_keys), "--keys", str(keys_dir)]).exit_code == 0
    assert runner.invoke(args=["backup", str(without_keys)]).exit_code == 0
    db.session.remove()
    (name,) = [p.name for p in keys_dir.iterdir()]
    other = tmp_path / "other-keys"
    other.mkdir()
    (other / name).write_bytes(b"another key\n")
    with fresh_app.app_context():
        runner = fresh_app.test_cli_runner()
        result = runner.invoke(args=["restore", str(with_keys), "--keys", str(other)])
        assert result.exit_code == 1
        assert "differs from the backup's copy" in result.output
        result = runner.invoke(args=["restore", str(without_keys), "--keys", str(other)])
        assert result.exit_code == 1
        assert "holds no keys" in result.output
    assert (other / name).read_bytes() == b"another key\n"
    assert _table_count(fresh_app) == 0
