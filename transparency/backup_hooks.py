# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a backup says about the books, and what a restore checks (core/backup.py's signals).

The manifest records, read in the backup's own snapshot, every book's log size, its latest
signed checkpoint (size, root) and the SHA-256 of every published report's bundle. After a
restore each of those is compared with the restored rows, and the tamper audit runs on every
book (leaves, tree against every checkpoint, derived rows)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import sqlalchemy as sa

from core import backup
from core.db import db
from ledger.models import Book

from . import audit
from .models import Checkpoint, DisclosureReport


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data is not None else None


@backup.backup_describe.connect
def describe(conn: sa.Connection) -> dict[str, Any]:
    books = []
    for book_id, log_size in conn.execute(
        sa.select(Book.id, Book.log_size).order_by(Book.id)
    ).all():
        latest = conn.execute(
            sa.select(Checkpoint.size, Checkpoint.root)
            .where(Checkpoint.book_id == book_id)
            .order_by(Checkpoint.size.desc())
            .limit(1)
        ).first()
        books.append(
            {
                "id": book_id,
                "log_size": log_size,
                "checkpoint_size": latest.size if latest else None,
                "checkpoint_root": _b64(bytes(latest.root)) if latest else None,
            }
        )
    reports = [
        {"id": rid, "book_id": bid, "bundle_sha256": sha}
        for rid, bid, sha in conn.execute(
            sa.select(
                DisclosureReport.id, DisclosureReport.book_id, DisclosureReport.bundle_sha256
            ).order_by(DisclosureReport.id)
        ).all()
    ]
    return {"books": books, "reports": reports}


@backup.database_restored.connect
def check_restored(manifest: dict[str, Any]) -> list[backup.Check]:
    checks: list[backup.Check] = []
    expected = {b["id"]: b for b in manifest.get("books", [])}
    books = {b.id: b for b in db.session.scalars(sa.select(Book).order_by(Book.id))}
    if set(books) != set(expected):
        checks.append(
            backup.Check(
                False, f"books {sorted(books)} in the database, {sorted(expected)} in the manifest"
            )
        )
    for book_id, book in books.items():
        want = expected.get(book_id)
        latest = db.session.execute(
            sa.select(Checkpoint.size, Checkpoint.root)
            .where(Checkpoint.book_id == book_id)
            .order_by(Checkpoint.size.desc())
            .limit(1)
        ).first()
        got_cp = (latest.size, _b64(bytes(latest.root))) if latest else (None, None)
        if want is not None:
            want_cp = (want["checkpoint_size"], want["checkpoint_root"])
            same = book.log_size == want["log_size"] and got_cp == want_cp
            checks.append(
                backup.Check(
                    same,
                    f"book {book_id}: log size {book.log_size} (manifest {want['log_size']}), "
                    f"latest checkpoint {got_cp[0]} {got_cp[1] or '-'}"
                    + ("" if got_cp == want_cp else f" (manifest {want_cp[0]} {want_cp[1]})"),
                )
            )
        result = audit.audit_book(book)
        checks.append(
            backup.Check(
                result.ok,
                f"book {book_id} audit: {result.checked} records, "
                f"{result.checkpoints} checkpoints checked, {len(result.findings)} problem(s)",
            )
        )
        checks.extend(backup.Check(False, f"book {book_id}: {f}") for f in result.findings)
    for want in manifest.get("reports", []):
        bundle = db.session.scalar(
            sa.select(DisclosureReport.bundle).where(DisclosureReport.id == want["id"])
        )
        got = hashlib.sha256(bundle.encode()).hexdigest() if bundle is not None else None
        checks.append(
            backup.Check(
                got == want["bundle_sha256"],
                f"report {want['id']} (book {want['book_id']}): bundle sha256 {got or 'missing'}",
            )
        )
    db.session.rollback()
    return checks
