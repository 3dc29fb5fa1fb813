# SPDX-License-Identifier: AGPL-3.0-or-later
"""``flask transparency …``: keys, checkpoints, reports, receipts and the tamper audit."""

from __future__ import annotations

from typing import NoReturn

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from core.audit import audited_command, note
from core.cli import find_organisation
from core.db import db
from core.errors import DomainError
from core.models import Resident, User
from ledger.models import Book, Voucher
from ledger.services import get_book

from . import audit, checkpoints, disclosure, keys, receipts

transparency_cli = AppGroup(
    "transparency", help="Signing keys, checkpoints, disclosure reports, receipts, tamper audit."
)


def _fail(e: DomainError) -> NoReturn:
    db.session.rollback()
    raise click.ClickException(str(e.message))


def _book(book_id: int) -> Book:
    try:
        return get_book(book_id)
    except DomainError as e:
        _fail(e)


@transparency_cli.command("keygen")
@click.option("--organisation", "organisation_ref", required=True, help="Organisation id or slug.")
@audited_command("transparency keygen")
def keygen(organisation_ref):
    """Create the organisation's Ed25519 signing key (if it has none) and show the public key."""
    org = find_organisation(organisation_ref)
    note(organisation=org.id)
    try:
        key = keys.ensure_key(org)
    except DomainError as e:
        _fail(e)
    db.session.commit()
    public = keys.public_key_json(key)
    click.echo(f"name         {public['name']}")
    click.echo(f"ed25519      {public['ed25519']}")
    click.echo(f"fingerprint  {public['fingerprint']}")
    click.echo(f"private key  {keys.key_path(org.id)}")


@transparency_cli.command("checkpoint")
@click.option("--book", "book_id", type=int, required=True)
@audited_command("transparency checkpoint")
def checkpoint(book_id):
    """Sign the book's current checkpoint (nothing new is signed if nothing was posted)."""
    note(book=book_id)
    book = _book(book_id)
    try:
        cp = checkpoints.sign_checkpoint(book)
    except DomainError as e:
        _fail(e)
    db.session.commit()
    click.echo(cp.note, nl=False)


@transparency_cli.command("publish")
@click.option("--book", "book_id", type=int, required=True)
@click.option("--period", required=True, help="First month, YYYY-MM.")
@click.option("--to", "to", default=None, help="Last month, YYYY-MM (default: --period).")
@click.option("--user", "username", default=None, help="Publish as this user (checks their role).")
@click.option(
    "--note",
    "publisher_note",
    default=None,
    help="The publisher's note, needed when the pre-publication checks warn (shown publicly).",
)
@audited_command("transparency publish")
def publish(book_id, period, to, username, publisher_note):
    """Publish the disclosure report of closed months."""
    note(book=book_id, period=period, to=to)
    book = _book(book_id)
    actor = None
    if username:
        actor = db.session.scalar(sa.select(User).where(User.username == username))
        if actor is None:
            raise click.ClickException(f"no user {username!r}")
    try:
        report = disclosure.publish_report(
            book, period, to, actor=actor, publisher_note=publisher_note
        )
    except DomainError as e:
        _fail(e)
    db.session.commit()
    click.echo(
        f"report {report.id} {report.label}: checkpoint size {report.checkpoint.size}, "
        f"bundle sha256 {report.bundle_sha256}"
    )


@transparency_cli.command("audit")
@click.option("--book", "book_id", type=int, required=True)
@audited_command("transparency audit")
def audit_command(book_id):
    """Recompute every posted voucher's leaf, the tree's roots and the derived rows; exit 1 on any mismatch."""
    note(book=book_id)
    book = _book(book_id)
    result = audit.audit_book(book)
    note(findings=len(result.findings))
    click.echo(
        f"book {book.id}: {result.checked} records, {result.checkpoints} checkpoints checked"
    )
    for finding in result.findings:
        click.echo(f"MISMATCH {finding}")
    if not result.ok:
        click.echo(f"{len(result.findings)} problem(s) found", err=True)
        raise click.exceptions.Exit(1)
    click.echo(
        "OK: every posted voucher matches its leaf; the tree matches every checkpoint; "
        "the balances, log size and closed-through mark match the rows they come from"
    )


@transparency_cli.command("bundle")
@click.option("--report", "report_id", type=int, required=True)
def bundle(report_id):
    """Write a published report's bundle to standard output, byte for byte."""
    try:
        report = disclosure.get_report(report_id)
    except DomainError as e:
        _fail(e)
    click.echo(report.bundle, nl=False)


@transparency_cli.command("receipt")
@click.option("--voucher", "voucher_id", type=int, required=True)
@click.option("--resident", "resident_id", type=int, required=True)
@audited_command("transparency receipt")
def receipt(voucher_id, resident_id):
    """Write a resident's receipt for a posted voucher to standard output."""
    note(voucher=voucher_id, resident=resident_id)
    voucher = db.session.get(Voucher, voucher_id)
    resident = db.session.get(Resident, resident_id)
    if voucher is None:
        raise click.ClickException(f"no voucher {voucher_id}")
    if resident is None or resident.community_id != voucher.community_id:
        raise click.ClickException(f"no resident {resident_id} in the voucher's community")
    try:
        text = receipts.receipt_text(receipts.build_receipt(voucher, resident, sign=True))
    except DomainError as e:
        _fail(e)
    db.session.commit()  # a checkpoint may have been signed for it
    click.echo(text, nl=False)


def register(app: Flask) -> None:
    app.cli.add_command(transparency_cli)
