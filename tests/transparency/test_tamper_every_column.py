"""Issue 9, Build item 6: every column of every money and disclosure table, changed in SQL with
the database's triggers off, is named by the tamper audit (``flask transparency audit``).

The list of tables and columns comes from the models' metadata: every column is either in
``CASES`` (how to change it, and what the audit must then say) or in ``NOT_COVERED`` (why its
value carries no money and nothing published), so a new column without a decision fails here.

One world is built, then each change is made and audited inside a SAVEPOINT that is rolled
back, so the whole table runs in seconds on both databases.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from core.db import db
from core.models import Community
from ledger import services as svc
from ledger.attachments import add_attachment
from ledger.models import (
    Account,
    AccountPeriodBalance,
    Book,
    Fund,
    LogNode,
    Period,
    PeriodEvent,
    Voucher,
    VoucherAttachment,
    VoucherEvent,
    VoucherLine,
)
from tests.ledger.conftest import lines
from tests.transparency.helpers import disable_triggers
from transparency.audit import audit_book
from transparency.checkpoints import sign_checkpoint
from transparency.disclosure import publish_report
from transparency.models import Checkpoint, DisclosureReport, SigningKey

pytestmark = pytest.mark.usefixtures("english")  # the findings are matched in English

MODELS = (
    Voucher,
    VoucherLine,
    VoucherAttachment,
    VoucherEvent,
    AccountPeriodBalance,
    Account,
    Fund,
    Book,
    Period,
    PeriodEvent,
    LogNode,
    Checkpoint,
    SigningKey,
    DisclosureReport,
)
TABLES = [m.__table__.name for m in MODELS]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass(frozen=True)
class Case:
    """``UPDATE table SET column = value WHERE where`` must change exactly one row, and then
    some finding of the audit must contain ``expect`` (a voucher's number, a table's name …)."""

    where: str
    value: str
    expect: str


# What a change of these columns would alter: nothing that is money or published.
NOT_COVERED = {
    "id": "a row's identity: every reference to it is a column checked below",
    "created_at": "when the row was written: not money, not in any record or report",
    "vouchers.attachment_count": "附单据张数 as the preparer typed it (paper documents too): "
    "not in the record, nothing to recompute it from (the stored files are checked by hash)",
    "vouchers.source": "how the voucher was entered (ui, import): not money, not published",
    "voucher_lines.memo": "the line's free-text note: not in the public record (it may name "
    "people), not money",
    "voucher_lines.counterparty_org_id": "an entry-time link for the staff pages: not in the "
    "record, no report reads it",
    "voucher_attachments.voucher_id": "attachments are not committed to in the record: one "
    "moved off a posted voucher (onto a draft) leaves nothing to compare (a known hole)",
    "voucher_attachments.filename": "a label; the bytes are checked by their hash",
    "voucher_attachments.content_type": "sniffed from the bytes at upload; the bytes are "
    "checked by their hash",
    "voucher_attachments.uploaded_by_id": "who uploaded it while a draft: not money",
    "voucher_events.note": "free text of a history step (a rejection's reason)",
    "accounts.name_zh": "a label: renaming is allowed, records carry the code",
    "accounts.name_en": "a label: renaming is allowed, records carry the code",
    "accounts.from_standard": "where the account came from: not money",
    "accounts.active": "whether new entries may use it: posted lines are unaffected",
    "accounts.restriction": "an entry-time rule (restricted revenue needs a restricted fund); "
    "posted lines carry their fund",
    "funds.name": "a label: records carry the code",
    "funds.purpose": "a label",
    "funds.active": "whether new entries may use it",
    "funds.restricted": "read by NPO statements and year-end closing, but no record or report "
    "holds it yet (a known hole: the bundle has no fund list)",
    "funds.endowment": "不动本: as funds.restricted, nothing published holds it (a known hole)",
    "books.name": "a label",
    "books.max_future_days": "an entry-time rule for dates",
    "books.base_unit": "guarded by a trigger once anything is posted; no report holds it "
    "(a known hole)",
    "period_events.reason": "free text of a closing or reopening",
    "period_events.user_id": "who closed or reopened: not money",
    "period_events.at": "when: not money",
    "disclosure_reports.published_by_id": "who pressed publish: not in the signed bundle",
    "disclosure_reports.published_at": "when: not in the signed bundle",
    "disclosure_reports.publisher_note": "the publisher's note: shown beside the report, not in "
    "the signed bundle (the append-only trigger refuses an edit)",
    "disclosure_reports.sanity_warnings": "the pre-publication warnings, recomputable from the "
    "signed statements: not in the signed bundle",
}
# voucher_events: only the steps the voucher copies (created, approved, posted) are money-
# relevant; the history of a draft (edited, submitted, rejected) is not checked.


def excluded(table: str, column: str) -> str | None:
    return NOT_COVERED.get(f"{table}.{column}") or NOT_COVERED.get(column)


def cases() -> dict[tuple[str, str], Case]:
    """Per (table, column): the row to change and how. Parameters come from the world."""
    posted_event = "voucher_id = :pv AND action = 'posted'"
    line = "voucher_id = :pv AND line_no = 1"
    fund_line = "voucher_id = :pv AND fund_id IS NOT NULL"
    bal = "book_id = :b AND account_id = :bank AND period_key = 202503"
    leaf = 'book_id = :b AND level = 0 AND "index" = 2'
    checkpoint = "id = :cp2"
    report = "id = :r2"
    out = {
        ("vouchers", "community_id"): Case("id = :pv", ":oc", "vouchers are in another community"),
        ("vouchers", "book_id"): Case("id = :pv", ":ob", "have no posted voucher"),
        ("vouchers", "date"): Case("id = :pv", "'2025-03-28'", "{pv}"),
        ("vouchers", "summary"): Case("id = :pv", "'改过的摘要'", "{pv}"),
        ("vouchers", "kind"): Case("id = :pv", "'closing'", "{pv}"),
        ("vouchers", "status"): Case("id = :pv", "'approved'", "{pv}"),
        ("vouchers", "reverses_id"): Case("id = :red", ":pv", "{red}"),
        ("vouchers", "prepared_by_id"): Case("id = :pv", ":other_user", "{pv}"),
        ("vouchers", "approved_by_id"): Case("id = :pv", ":other_user", "{pv}"),
        ("vouchers", "posted_by_id"): Case("id = :pv", ":other_user", "{pv}"),
        ("vouchers", "period_id"): Case("id = :pv", ":april", "{pv}"),
        ("vouchers", "number"): Case("id = :pv", "'记-2025-03-0099'", "记-2025-03-0099"),
        ("vouchers", "log_index"): Case("id = :pv", "99", "outside the log"),
        ("vouchers", "posted_at"): Case("id = :pv", ":later", "{pv}"),
        ("vouchers", "private_salt"): Case("id = :pv", ":salt", "{pv}"),
        ("vouchers", "private_json"): Case("id = :pv", ":private", "{pv}"),
        ("voucher_lines", "community_id"): Case(line, ":oc", "voucher_lines are in another"),
        ("voucher_lines", "voucher_id"): Case(line, ":v1", "{pv}"),
        ("voucher_lines", "line_no"): Case(line, "9", "{pv}"),
        ("voucher_lines", "account_id"): Case(line, ":cash", "{pv}"),
        ("voucher_lines", "fund_id"): Case(fund_line, "NULL", "{pv}"),
        ("voucher_lines", "unit"): Case(line, "'USD'", "{pv}"),
        ("voucher_lines", "debit"): Case(line + " AND debit <> 0", "debit + 1", "{pv}"),
        ("voucher_lines", "credit"): Case(
            "voucher_id = :pv AND credit <> 0 AND line_no = 2", "credit + 1", "{pv}"
        ),
        ("voucher_lines", "resident_id"): Case(
            "voucher_id = :pv AND resident_id IS NOT NULL", ":other_resident", "{pv}"
        ),
        ("voucher_attachments", "community_id"): Case(
            "voucher_id = :av", ":oc", "voucher_attachments are in another"
        ),
        ("voucher_attachments", "size"): Case("voucher_id = :av", "size + 1", "{av}"),
        ("voucher_attachments", "sha256"): Case("voucher_id = :av", ":sha", "{av}"),
        ("voucher_attachments", "data"): Case("voucher_id = :av", ":pdf2", "{av}"),
        ("voucher_events", "community_id"): Case(posted_event, ":oc", "voucher_events"),
        ("voucher_events", "voucher_id"): Case(posted_event, ":v1", "{pv}"),
        ("voucher_events", "action"): Case(posted_event, "'edited'", "{pv}"),
        ("voucher_events", "user_id"): Case(posted_event, ":other_user", "{pv}"),
        ("voucher_events", "at"): Case(posted_event, ":later", "{pv}"),
        ("account_period_balances", "book_id"): Case(bal, ":ob", "per-period balance"),
        ("account_period_balances", "account_id"): Case(bal, ":cash", "per-period balance"),
        ("account_period_balances", "fund_key"): Case(bal, ":fund", "per-period balance"),
        ("account_period_balances", "unit"): Case(bal, "'USD'", "per-period balance"),
        ("account_period_balances", "period_key"): Case(bal, "202502", "per-period balance"),
        ("account_period_balances", "community_id"): Case(bal, ":oc", "account_period_balances"),
        ("account_period_balances", "debit"): Case(bal, "debit + 1", "per-period balance"),
        ("account_period_balances", "credit"): Case(bal, "credit + 1", "per-period balance"),
        ("accounts", "community_id"): Case("id = :bank", ":oc", "accounts are in another"),
        ("accounts", "book_id"): Case("id = :bank", ":ob", "{v1}"),
        ("accounts", "code"): Case("id = :bank", "'100209'", "{v1}"),
        ("accounts", "type"): Case("id = :bank", "'liability'", "account 100201: type"),
        ("accounts", "normal_side"): Case("id = :bank", "'credit'", "account 100201: normal_side"),
        ("accounts", "parent_id"): Case("id = :bank", ":cash", "account 100201"),
        ("accounts", "level"): Case("id = :bank", "3", "account 100201: its level"),
        ("accounts", "has_children"): Case("id = :bank", ":yes", "account 100201: its has-"),
        ("funds", "community_id"): Case("id = :fund", ":oc", "funds are in another"),
        ("funds", "book_id"): Case("id = :fund", ":ob", "{pv}"),
        ("funds", "code"): Case("id = :fund", "'F9'", "{pv}"),
        ("books", "community_id"): Case("id = :b", ":oc", "in another community"),
        ("books", "organisation_id"): Case("id = :b", ":oo", "another organisation"),
        ("books", "standard"): Case("id = :b", "'NPO'", "the book's standard"),
        ("books", "chart"): Case("id = :b", "'CUSTOM'", "the book's chart"),
        ("books", "log_size"): Case("id = :b", "log_size - 1", "the book's log size"),
        ("books", "single_person_mode"): Case("id = :b", ":yes", "single-person mode"),
        ("books", "closed_through"): Case("id = :b", "202503", "marked closed through 2025-03"),
        ("books", "opening_state"): Case("id = :b", "'posted'", "openings are marked"),
        ("periods", "community_id"): Case("id = :march", ":oc", "periods are in another"),
        ("periods", "book_id"): Case("id = :march", ":ob", "{pv}"),
        ("periods", "year"): Case("id = :march", "2024", "{pv}"),
        ("periods", "month"): Case("id = :march", "12", "{pv}"),
        ("periods", "voucher_count"): Case("id = :march", "voucher_count + 1", "period 2025-03"),
        ("period_events", "community_id"): Case("id = :close4", ":oc", "period_events"),
        ("period_events", "period_id"): Case("id = :close4", ":march", "closed through"),
        ("period_events", "action"): Case("id = :close4", "'reopen'", "closed through"),
        ("log_nodes", "book_id"): Case(leaf, ":ob", "missing"),
        ("log_nodes", "level"): Case(leaf, "9", "missing"),
        ("log_nodes", "index"): Case(leaf, "999", "missing"),
        ("log_nodes", "community_id"): Case(leaf, ":oc", "log_nodes are in another"),
        ("log_nodes", "hash"): Case(leaf, ":h", "index 2"),
        ("checkpoints", "community_id"): Case(checkpoint, ":oc", "checkpoints are in another"),
        ("checkpoints", "book_id"): Case(checkpoint, ":ob", "of different books"),
        ("checkpoints", "key_id"): Case(checkpoint, ":fake_key", "checkpoint of size"),
        ("checkpoints", "size"): Case(checkpoint, "size + 100", "checkpoint of size"),
        ("checkpoints", "root"): Case(checkpoint, ":h", "checkpoint of size"),
        ("checkpoints", "note"): Case(checkpoint, "note || ' '", "checkpoint of size"),
        ("signing_keys", "community_id"): Case("id = :key", ":oc", "signing_keys"),
        ("signing_keys", "organisation_id"): Case("id = :key", ":oo", "another organisation"),
        ("signing_keys", "name"): Case("id = :key", "'commons-ledger/x'", "checkpoint of size"),
        ("signing_keys", "public_key"): Case("id = :key", ":h", "checkpoint of size"),
        ("signing_keys", "fingerprint"): Case("id = :key", ":sha", "its fingerprint is wrong"),
        ("disclosure_reports", "community_id"): Case(report, ":oc", "disclosure_reports"),
        ("disclosure_reports", "book_id"): Case(report, ":ob", "of different books"),
        ("disclosure_reports", "period_start"): Case(report, "'2025-02-01'", "bundle covers"),
        ("disclosure_reports", "period_end"): Case(report, "'2025-05-31'", "bundle covers"),
        ("disclosure_reports", "checkpoint_id"): Case(report, ":cp1", "another checkpoint"),
        ("disclosure_reports", "previous_id"): Case(report, "NULL", "another previous report"),
        ("disclosure_reports", "bundle"): Case(
            report, "REPLACE(bundle, '四月', '五月')", "no longer hash"
        ),
        ("disclosure_reports", "bundle_sha256"): Case(report, ":sha", "no longer hash"),
    }
    return out


CASES = cases()


def test_every_column_has_a_decision():
    """A new column of a money or disclosure table must be covered or excluded, with a reason."""
    undecided, both = [], []
    for table in TABLES:
        for column in db.metadata.tables[table].columns.keys():
            covered, reason = (table, column) in CASES, excluded(table, column)
            if not covered and not reason:
                undecided.append(f"{table}.{column}")
            if covered and reason:
                both.append(f"{table}.{column}")
    assert undecided == [] and both == []
    stale = [k for k in CASES if k[1] not in db.metadata.tables[k[0]].columns]
    stale += [
        k
        for k in NOT_COVERED
        if "." in k
        and (
            k.split(".")[0] not in TABLES
            or k.split(".")[1] not in db.metadata.tables[k.split(".")[0]].columns
        )
    ]
    assert stale == []


@pytest.fixture
def world(app, book, people, acct, post, organisation_factory, resident_factory):
    """A book with a sub-account, a fund, a resident's payment, an attachment, a reversal, two
    closed months and two published reports; and what tampered values point to elsewhere."""
    admin, preparer, reviewer = people["admin"], people["preparer"], people["reviewer"]
    bank = svc.add_sub_account(acct("1002"), "100201", "工行", actor=preparer)
    fund = svc.create_fund(book, "F1", "助老基金", restricted=False)
    db.session.flush()
    community = db.session.get_one(Community, book.community_id)
    payer, other_resident = (resident_factory(community=community) for _ in range(2))
    db.session.flush()

    def voucher(ls, day, summary, attach=False):
        v = svc.create_voucher(
            book, svc.VoucherInput(dt.date(2025, 3, day), summary, ls), actor=preparer
        )
        if attach:
            add_attachment(v, "receipt.pdf", "application/pdf", PDF, actor=preparer)
        svc.submit_voucher(v, actor=preparer)
        svc.approve_voucher(v, actor=reviewer)
        return svc.post_voucher(v, actor=reviewer)

    v1 = voucher(lines((bank, 1_000, 0), (acct("5001"), 0, 1_000)), 1, "销售")
    pv = voucher(
        lines(
            (bank, 2_500, 0, {"resident_id": payer.id}),
            (acct("5001"), 0, 2_500, {"fund_id": fund.id}),
        ),
        2,
        "物业费",
    )
    av = voucher(lines((bank, 300, 0), (acct("5001"), 0, 300)), 3, "附件", attach=True)
    red = svc.reverse_voucher(v1, actor=preparer, date=dt.date(2025, 3, 4))
    svc.submit_voucher(red, actor=preparer)
    svc.approve_voucher(red, actor=reviewer)
    svc.post_voucher(red, actor=reviewer)
    sign_checkpoint(book)
    svc.close_period(book, 2025, 3, actor=reviewer)
    r1 = publish_report(book, "2025-03", actor=reviewer)
    post(lines((bank, 700, 0), (acct("5001"), 0, 700)), date=dt.date(2025, 4, 2), summary="四月")
    svc.close_period(book, 2025, 4, actor=reviewer)
    r2 = publish_report(book, "2025-04", actor=reviewer)

    other_org = organisation_factory()
    db.session.flush()
    other_book = svc.create_book(organisation_factory())
    periods = {
        (p.year, p.month): p.id
        for p in db.session.scalars(sa.select(Period).where(Period.book_id == book.id))
    }
    close4 = db.session.scalar(
        sa.select(PeriodEvent.id)
        .where(PeriodEvent.period_id == periods[(2025, 4)], PeriodEvent.action == "close")
        .order_by(PeriodEvent.id.desc())
    )
    fake_key = SigningKey(
        community_id=book.community_id,
        organisation_id=book.organisation_id,
        name=r2.checkpoint.key.name,
        public_key=hashlib.sha256(b"another key").digest(),
        fingerprint=hashlib.sha256(hashlib.sha256(b"another key").digest()).hexdigest(),
    )
    db.session.add(fake_key)
    db.session.flush()
    private = json.loads(pv.private_json)
    private[0]["name"] += "（改）"
    assert audit_book(book).ok, audit_book(book).findings
    disable_triggers(*TABLES)
    params = {
        "b": book.id,
        "ob": other_book.id,
        "oc": other_book.community_id,
        "oo": other_org.id,
        "v1": v1.id,
        "pv": pv.id,
        "av": av.id,
        "red": red.id,
        "bank": bank.id,
        "cash": acct("1001").id,
        "fund": fund.id,
        "march": periods[(2025, 3)],
        "april": periods[(2025, 4)],
        "close4": close4,
        "cp1": r1.checkpoint_id,
        "cp2": r2.checkpoint_id,
        "r2": r2.id,
        "key": r2.checkpoint.key_id,
        "fake_key": fake_key.id,
        "other_user": admin.id,
        "other_resident": other_resident.id,
        "later": dt.datetime(2025, 3, 2, 12, 0, 0),
        "salt": b"\x01" * 16,
        "private": json.dumps(private, ensure_ascii=False),
        "sha": hashlib.sha256(b"x").hexdigest(),
        "pdf2": PDF + b"% changed\n",
        "h": hashlib.sha256(b"x").digest(),
        "yes": True,
    }
    numbers = {"v1": v1.number, "pv": pv.number, "av": av.number, "red": red.number}
    return book, params, numbers


def test_every_covered_column_change_is_named_by_the_audit(world):
    book, params, numbers = world
    missed = []
    for (table, column), case in CASES.items():
        expect = case.expect.format(**numbers)
        nested = db.session.begin_nested()
        try:
            before = db.session.execute(
                sa.text(f'SELECT "{column}" FROM {table} WHERE {case.where}'), params
            ).all()
            after = db.session.execute(
                sa.text(
                    f'UPDATE {table} SET "{column}" = {case.value} WHERE {case.where} '
                    f'RETURNING "{column}"'
                ),
                params,
            ).all()
            n = len(after) if after != before else 0  # one row, really changed
            db.session.expire_all()
            findings = [str(f) for f in audit_book(db.session.get_one(Book, book.id)).findings]
        finally:
            nested.rollback()
            db.session.expire_all()
        if n != 1 or not any(expect in f for f in findings):
            missed.append((f"{table}.{column}", n, expect, findings))
    assert missed == [], [m[0] for m in missed]
    assert audit_book(book).ok  # every change was rolled back
