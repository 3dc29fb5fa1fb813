"""The audit package (审计资料包) of one month: what an auditor takes away, in one zip.

* ``statements/*.pdf``: the statements the book's standard has (balance sheet, income
  statement / 业务活动表, cash-flow statement once it exists), the 科目余额表, the 总账, the fund
  statement (a book with funds) and the month's 记账凭证 printout, as ledger/pdf.py prints them;
* ``trial-balance.csv`` and ``vouchers.csv`` (every posted line of the month) to re-total;
* ``attachments/<voucher number>/…``: the scanned receipts and invoices of those vouchers;
* ``audit-trail.csv``: every event the audit trail holds for the organisation in the month;
* ``disclosure/``: the published disclosure bundles covering the month, byte for byte as the
  public page serves them (read from their table by name: ledger does not import
  transparency), plus whatever the hooks in :data:`EXTRA_FILES` add;
* ``checkpoint.txt``: the book's log size and root when the package was made, and the latest
  signed checkpoint;
* ``SHA256SUMS``: a SHA-256 for every file; ``README.txt`` in Chinese and English.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from flask import url_for
from flask_babel import force_locale
from werkzeug.routing import BuildError

from core.db import db
from core.downloads import csv_text
from core.models import AuditEvent
from core.months import Month

from . import reports as rep
from .amounts import format_minor
from .charts import STANDARDS, has_cash_flow
from .models import Account, Book, Fund, Voucher, VoucherAttachment
from .pdf import (
    LANGS,
    Proof,
    latest_checkpoint,
    month_vouchers,
    report_pdf,
    vouchers_pdf,
)

__all__ = ["EXTRA_FILES", "audit_package", "package_filename"]

# Hooks: fn(book, month) → [(path inside the zip, bytes)]. The transparency package may
# append one that builds the disclosure bundle of an unpublished month (ledger cannot).
EXTRA_FILES: list[Callable[[Book, Month], Iterable[tuple[str, bytes]]]] = []

_disclosure_reports = sa.table(
    "disclosure_reports",
    sa.column("id"),
    sa.column("book_id"),
    sa.column("period_start", sa.Date),
    sa.column("period_end", sa.Date),
    sa.column("bundle", sa.Text),
)


def package_filename(book: Book, month: Month) -> str:
    return f"audit-package_book{book.id}_{month}.zip"


def _csv(rows: list[list]) -> bytes:
    """UTF-8 with BOM (spreadsheets read Chinese right), formula-looking cells neutralised."""
    return csv_text([["" if c is None else str(c) for c in row] for row in rows]).encode("utf-8")


def _safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z._\-\u4e00-\u9fff]", "_", name)[:120] or "file"


def _user_name(user) -> str:
    return "" if user is None else (user.display_name or user.username)


def _vouchers_csv(book: Book, vouchers: list[Voucher]) -> bytes:
    accounts = {
        a.id: a for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
    }
    funds = {f.id: f for f in db.session.scalars(sa.select(Fund).where(Fund.book_id == book.id))}
    rows: list[list] = [
        [
            "number",
            "date",
            "log_index",
            "summary",
            "line",
            "account_code",
            "account_name",
            "fund",
            "unit",
            "debit",
            "credit",
            "memo",
            "attachments",
            "prepared_by",
            "approved_by",
            "posted_by",
            "posted_at",
        ]
    ]
    for v in vouchers:
        for ln in v.lines:
            a = accounts.get(ln.account_id)
            f = funds.get(ln.fund_id) if ln.fund_id else None
            rows.append(
                [
                    v.number,
                    v.date.isoformat(),
                    v.log_index,
                    v.summary,
                    ln.line_no,
                    a.code if a else "",
                    a.name_zh if a else "",
                    f.code if f else "",
                    ln.unit,
                    format_minor(ln.debit, 2) if ln.debit else "",
                    format_minor(ln.credit, 2) if ln.credit else "",
                    ln.memo,
                    v.attachment_count,
                    _user_name(v.prepared_by),
                    _user_name(v.approved_by),
                    _user_name(v.posted_by),
                    v.posted_at.isoformat() if v.posted_at else "",
                ]
            )
    return _csv(rows)


def _audit_trail(book: Book, month: Month) -> bytes:
    import datetime as dt

    start = dt.datetime.combine(month.first_day, dt.time())
    end = dt.datetime.combine(month.next().first_day, dt.time())
    rows: list[list] = [
        ["occurred_at", "username", "action", "target", "outcome", "status_code", "detail"]
    ]
    for e in db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.organisation_id == book.organisation_id,
            AuditEvent.occurred_at >= start,
            AuditEvent.occurred_at < end,
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    ):
        rows.append(
            [
                e.occurred_at.isoformat(),
                e.username or "",
                e.action,
                e.target or "",
                e.outcome,
                e.status_code or "",
                e.detail or "",
            ]
        )
    return _csv(rows)


def _disclosure(book: Book, month: Month) -> list[tuple[str, bytes]]:
    t = _disclosure_reports
    out = []
    for row in db.session.execute(
        sa.select(t.c.id, t.c.period_start, t.c.period_end, t.c.bundle)
        .where(
            t.c.book_id == book.id,
            t.c.period_start <= month.last_day,
            t.c.period_end >= month.first_day,
        )
        .order_by(t.c.period_start)
    ):
        name = f"disclosure/report-{row.id}_{row.period_start}_{row.period_end}.json"
        out.append((name, row.bundle.encode("utf-8")))
    return out


def _checkpoint_text(proof: Proof) -> bytes:
    lines = [
        f"log_size: {proof.log_size}",
        f"log_root: {proof.log_root}",
        f"checkpoint_size: {'' if proof.size is None else proof.size}",
        f"checkpoint_root: {proof.root or ''}",
        f"key_fingerprint: {proof.fingerprint or ''}",
        f"signed_at: {proof.signed_at.isoformat() if proof.signed_at else ''}",
        f"verify_url: {proof.url}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


README = """审计资料包 / Audit package
==========================

单位 Organisation: {org}
账套 Book: {book_id} ({standard})
期间 Period: {month}
生成时间 Made at: {made_at}

【中文】
本资料包由社区公账（Commons Ledger）直接从账簿生成，内容如下：
  statements/      财务报表、科目余额表、总账、记账凭证打印件（PDF）
  trial-balance.csv 科目余额表（可在表格软件中重新合计）
  vouchers.csv     本月已过账凭证的每一条分录
  attachments/     凭证所附原始单据（按凭证号分目录）
  audit-trail.csv  本月本单位的操作日志
  disclosure/      覆盖本月的已公开披露包（JSON，可用验证程序核验）
  checkpoint.txt   生成时账簿日志的条数与根哈希，以及最近一次签名检查点
  SHA256SUMS       每个文件的 SHA-256

核验方法：
  1. 用 sha256sum -c SHA256SUMS 确认文件未被改动；
  2. 把 vouchers.csv 的借方、贷方分别合计，应与 trial-balance.csv 的本期发生额合计相等；
  3. 把 checkpoint.txt 中的检查点与单位公开页面 {verify_url}
     上公布的检查点及公钥指纹比对；
  4. 下载独立核验程序 {verifier_url}（只需 Python 3 和 cryptography），
     对 disclosure/ 中的每个披露包运行：
     python3 commons_verify.py <披露包>.json --key <公钥指纹> --lang zh
     该程序从记录本身重新计算根哈希、余额和每一行报表数字。
{no_disclosure_zh}
【English】
This package was made by Commons Ledger straight from the book:
  statements/      statements, trial balance, general ledger, voucher printouts (PDF)
  trial-balance.csv the trial balance, to re-total in your own tools
  vouchers.csv     every line of the month's posted vouchers
  attachments/     the scanned receipts and invoices, one folder per voucher number
  audit-trail.csv  the organisation's audit trail for the month
  disclosure/      the published disclosure bundles covering the month (JSON, verifiable)
  checkpoint.txt   the book's log size and root when this was made; the latest signed checkpoint
  SHA256SUMS       a SHA-256 of every file

How to verify:
  1. sha256sum -c SHA256SUMS shows that no file was changed;
  2. the debit and credit totals of vouchers.csv equal the period movements of trial-balance.csv;
  3. compare checkpoint.txt with the checkpoint and key fingerprint the organisation's public
     page {verify_url} shows;
  4. download the standalone verifier {verifier_url} (Python 3 and cryptography only)
     and run it on each bundle in disclosure/:
     python3 commons_verify.py <bundle>.json --key <key fingerprint> --lang en
     It recomputes the root, the balances and every statement line from the records alone.
{no_disclosure_en}"""


def _verifier_url(organisation_url: str) -> str:
    """Where the standalone verifier is downloaded: the same site as the organisation's page
    (the route belongs to transparency, which the ledger does not import)."""
    try:
        return url_for("transparency.verifier_download", _external=True)
    except (BuildError, RuntimeError):
        return organisation_url.split("/public/", 1)[0] + "/verify/commons_verify.py"


def audit_package(book: Book, month: Month, *, lang: str = "zh", actor=None) -> bytes:
    """The audit package of ``book`` for ``month`` as zip bytes (see the module text)."""
    import datetime as dt

    files: list[tuple[str, bytes]] = []
    with force_locale(LANGS.get(lang, LANGS["zh"])):
        start, end = month.first_day, month.last_day
        statements: list[tuple[str, object]] = []
        if book.chart in STANDARDS:
            statements.append(("balance-sheet", rep.balance_sheet(book, as_of=end)))
            statements.append(
                ("income-statement", rep.income_statement(book, start=start, end=end))
            )
            if has_cash_flow(book.chart):
                statements.append(
                    ("cash-flow", rep.cash_flow_statement(book, start=start, end=end))
                )
        tb = rep.trial_balance(book, start=start, end=end)
        statements.append(("trial-balance", tb))
        statements.append(("general-ledger", rep.general_ledger(book, start=start, end=end)))
        has_funds = db.session.scalar(
            sa.select(sa.func.count(Fund.id)).where(Fund.book_id == book.id)
        )
        if has_funds:
            statements.append(("fund-statement", rep.fund_statement(book, start=start, end=end)))
        for i, (name, report) in enumerate(statements, start=1):
            files.append(
                (
                    f"statements/{i:02d}-{name}.pdf",
                    report_pdf(book, report, lang=lang, prepared_by=actor),
                )
            )
        vouchers = month_vouchers(book, month)
        label = str(month) if lang == "en" else f"{month.year}年{month.month}月"
        files.append(
            (
                f"statements/{len(statements) + 1:02d}-vouchers.pdf",
                vouchers_pdf(book, vouchers, lang=lang, prepared_by=actor, period_label=label),
            )
        )
        files.append(("trial-balance.csv", _csv(rep.to_csv_rows(tb, lang=lang))))
        files.append(("vouchers.csv", _vouchers_csv(book, vouchers)))
        ids = [v.id for v in vouchers]
        numbers = {v.id: v.number or str(v.id) for v in vouchers}
        if ids:
            for att in db.session.scalars(
                sa.select(VoucherAttachment)
                .where(VoucherAttachment.voucher_id.in_(ids))
                .order_by(VoucherAttachment.voucher_id, VoucherAttachment.id)
            ):
                files.append(
                    (
                        f"attachments/{_safe(numbers[att.voucher_id])}/{att.id}_{_safe(att.filename)}",
                        bytes(att.data),
                    )
                )
        files.append(("audit-trail.csv", _audit_trail(book, month)))
        disclosure = _disclosure(book, month)
        for hook in EXTRA_FILES:
            disclosure.extend(hook(book, month))
        files.extend(disclosure)
        proof = latest_checkpoint(book)
        files.append(("checkpoint.txt", _checkpoint_text(proof)))
        none_zh = "" if disclosure else "\n注意：本月尚无已公开的披露包（disclosure/ 为空）。\n"
        none_en = (
            ""
            if disclosure
            else "\nNote: no disclosure bundle covering this month has been published yet.\n"
        )
        readme = README.format(
            org=book.organisation.name,
            book_id=book.id,
            standard=book.standard,
            month=month,
            made_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            no_disclosure_zh=none_zh,
            no_disclosure_en=none_en,
            verify_url=proof.url,
            verifier_url=_verifier_url(proof.url),
        )
        files.insert(0, ("README.txt", readme.encode("utf-8")))
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files)
    files.append(("SHA256SUMS", sums.encode("utf-8")))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(name, data)
    return buf.getvalue()
