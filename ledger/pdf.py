"""Statements, books and vouchers as PDF (账簿与报表 PDF), in the layouts auditors sign.

One entry point per use: :func:`statement_pdf` for a statement of a month (the CLI, the API,
the audit package), :func:`report_pdf` for a report object already computed (the staff report
pages, which take any dates), :func:`vouchers_pdf` for 记账凭证 printouts. Every PDF goes
through ``core.pdf.render_pdf`` with the templates under ``templates/pdf/ledger/`` and the page
rules of ``templates/pdf/ledger/ledger.css``: A4 portrait or landscape per statement, the
header (organisation, statement, form number, period, 单位：元), the footer 第 N 页 / 共 M 页,
table headers on every page, the 单位负责人 / 会计机构负责人 / 制表人 lines, the time it was
made, and the checkpoint the figures come from with a QR code to the verification page.

Any :class:`~ledger.reports.Statement` renders through one generic template (balance sheets
side by side, flow statements with their comparison columns), so statements added later (the
cash-flow statement) need no template of their own.

The ledger may not import ``transparency``: the latest signed checkpoint is read from its
table by name (:func:`latest_checkpoint`), and the verification URL is built by endpoint name
with a plain path as fallback.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from core.db import db
from core.errors import InvalidInput, NotFound
from core.months import Month
from core.pdf import (
    parallel_available,
    qr_data_uri,
    render_pdf,
    render_pdf_chunks,
    rmb_capital,
)

from . import log
from . import reports as rep
from .models import Account, Book, Voucher, VoucherStatus

__all__ = [
    "PDF_STATEMENTS",
    "Proof",
    "latest_checkpoint",
    "pdf_filename",
    "period_report",
    "report_pdf",
    "statement_pdf",
    "vouchers_pdf",
]

# The names the CLI, the API and the pages accept (the CLI's --statement choices).
PDF_STATEMENTS = (
    "balance-sheet",
    "income-statement",
    "cash-flow",
    "trial-balance",
    "general-ledger",
    "account-detail",
    "fund-statement",
    "voucher",
)
LANGS = {"zh": "zh_Hans_CN", "en": "en"}
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "pdf" / "ledger"

# Read by name: the table belongs to transparency (which ledger may not import).
_checkpoints = sa.table(
    "checkpoints",
    sa.column("book_id"),
    sa.column("key_id"),
    sa.column("size", sa.BigInteger),
    sa.column("root", sa.LargeBinary),
    sa.column("created_at", sa.DateTime),
)
_signing_keys = sa.table("signing_keys", sa.column("id"), sa.column("fingerprint", sa.String))


@dataclass(frozen=True)
class Proof:
    """What the figures of a PDF rest on: the book's log when it was printed and the latest
    checkpoint the organisation signed (None before the first one)."""

    log_size: int
    log_root: str  # base64, as checkpoints print it
    size: int | None  # the signed checkpoint's tree size
    root: str | None
    fingerprint: str | None  # the signing key's, in full
    signed_at: dt.datetime | None
    url: str  # the verification page the QR code opens

    @property
    def short_fingerprint(self) -> str:
        return (self.fingerprint or "")[:16]

    @property
    def covered(self) -> bool:
        """The signed checkpoint covers every voucher posted when this was printed."""
        return self.size is not None and self.size >= self.log_size


def _verify_url(book: Book) -> str:
    try:
        return url_for("public.organisation", org_id=book.organisation_id, _external=True)
    except (BuildError, RuntimeError):
        base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
        return f"{base}/public/o/{book.organisation_id}"


def latest_checkpoint(book: Book) -> Proof:
    """The book's log now and its latest signed checkpoint (tree size, root, key)."""
    size = int(book.log_size or 0)
    root = base64.b64encode(log.root(book.id, size)).decode() if size else ""
    row = db.session.execute(
        sa.select(
            _checkpoints.c.size,
            _checkpoints.c.root,
            _checkpoints.c.created_at,
            _signing_keys.c.fingerprint,
        )
        .join(_signing_keys, _signing_keys.c.id == _checkpoints.c.key_id)
        .where(_checkpoints.c.book_id == book.id)
        .order_by(_checkpoints.c.size.desc())
        .limit(1)
    ).first()
    return Proof(
        log_size=size,
        log_root=root,
        size=None if row is None else int(row.size),
        root=None if row is None else base64.b64encode(bytes(row.root)).decode(),
        fingerprint=None if row is None else row.fingerprint,
        signed_at=None if row is None else row.created_at,
        url=_verify_url(book),
    )


# --- which report ------------------------------------------------------------------------------


def _refuse(message) -> InvalidInput:
    return InvalidInput(message, errors={"statement": [str(message)]})


def period_report(
    book: Book,
    statement: str,
    month: Month,
    *,
    account_code: str | None = None,
    fund_id: int | None = None,
):
    """The report object behind ``statement`` for ``month`` (a balance sheet at its last
    day, the other reports over the month). Refuses a statement the book's chart has no
    layout for, with the reason."""
    start, end = month.first_day, month.last_day
    if statement == "balance-sheet":
        return rep.balance_sheet(book, as_of=end, fund_id=fund_id)
    if statement == "income-statement":
        return rep.income_statement(book, start=start, end=end, fund_id=fund_id)
    if statement == "cash-flow":
        return rep.cash_flow_statement(book, start=start, end=end)
    if statement == "trial-balance":
        return rep.trial_balance(book, start=start, end=end, fund_id=fund_id)
    if statement == "general-ledger":
        ids = None
        if account_code:
            ids = [_account(book, account_code).id]
        return rep.general_ledger(book, start=start, end=end, account_ids=ids, fund_id=fund_id)
    if statement == "account-detail":
        if not account_code:
            raise InvalidInput(
                _l("Choose an account."), errors={"account": [str(_l("Choose an account."))]}
            )
        return rep.account_detail(
            book, _account(book, account_code), start=start, end=end, fund_id=fund_id
        )
    if statement == "fund-statement":
        return rep.fund_statement(book, start=start, end=end)
    raise _refuse(_l("No such statement: %(name)s.", name=statement[:40]))


def _account(book: Book, code: str) -> Account:
    account = db.session.scalar(
        sa.select(Account).where(Account.book_id == book.id, Account.code == code)
    )
    if account is None:
        raise InvalidInput(
            _l("No account %(code)s in this book.", code=code[:40]),
            errors={"account": [str(_l("No such account."))]},
        )
    return account


def month_vouchers(book: Book, month: Month, number: str | None = None) -> list[Voucher]:
    """The posted vouchers of ``month`` in number order, or the one numbered ``number``."""
    q = sa.select(Voucher).where(
        Voucher.book_id == book.id, Voucher.status == VoucherStatus.POSTED.value
    )
    if number:
        q = q.where(Voucher.number == number)
    else:
        q = q.where(Voucher.date >= month.first_day, Voucher.date <= month.last_day)
    found = list(db.session.scalars(q.order_by(Voucher.log_index)))
    if number and not found:
        raise NotFound(_l("No posted voucher %(number)s in this book.", number=number[:40]))
    return found


# --- rendering ---------------------------------------------------------------------------------


def _css(landscape: bool, en: bool) -> str:
    """The page rules: the paper's orientation and the page numbers' words."""
    css = (TEMPLATE_DIR / "ledger.css").read_text(encoding="utf-8")
    css = css.replace("/*PAGE-SIZE*/A4", "A4 landscape" if landscape else "A4 portrait")
    if en:
        css = css.replace(
            '/*PAGE-NUMBERS*/"第 " counter(page) " 页 / 共 " counter(pages) " 页"',
            '"Page " counter(page) " of " counter(pages)',
        )
    return css


def _split_numbers(css: str) -> tuple[str, str]:
    """(the pages' CSS without page numbers, the page numbers' own CSS) for chunked renders."""
    head, _, rest = css.partition("/*NUMBERS*/")
    numbers, _, tail = rest.partition("/*END-NUMBERS*/")
    return head + tail, numbers


# Above this many table rows a general ledger renders in parallel chunks (core.pdf).
PARALLEL_MIN_ROWS = 600
CHUNK_ROWS = 1000


def _statement_rows(report: rep.Statement):
    """A balance sheet's two sides paired row by row; other statements one line a row."""
    if any(ln.side for ln in report.lines):
        left = [ln for ln in report.lines if ln.side != "right"]
        right = [ln for ln in report.lines if ln.side == "right"]
        return list(zip_longest(left, right))
    return [(ln, None) for ln in report.lines]


def _column_groups(report: rep.Statement) -> tuple[list[tuple[str, str, int]], list | None]:
    """The header rows of a statement's amount columns: consecutive columns of one period
    under one heading ``(zh, en, span)``, and each column's own label (限定性 …) under it
    when the columns split by restriction (``None`` when no column does)."""
    groups: list[tuple[str, str, int]] = []
    subs: list[tuple[str, str]] = []
    split = False
    for c in report.columns:
        zh, _sep, vzh = c.label_zh.partition("·")
        en, _sep2, ven = c.label_en.partition(": ")
        split = split or bool(vzh or ven)
        subs.append((vzh, ven))
        if groups and groups[-1][:2] == (zh, en):
            groups[-1] = (zh, en, groups[-1][2] + 1)
        else:
            groups.append((zh, en, 1))
    return groups, (subs if split else None)


_KIND_TEMPLATES: dict[type, tuple[str, str, bool]] = {
    # report type → (template, statement key, landscape)
    rep.TrialBalance: ("pdf/ledger/trial_balance.html", "trial-balance", True),
    rep.GeneralLedger: ("pdf/ledger/general_ledger.html", "general-ledger", False),
    rep.AccountDetail: ("pdf/ledger/account_detail.html", "account-detail", False),
    rep.FundStatement: ("pdf/ledger/fund_statement.html", "fund-statement", True),
}
_TITLES = {
    # statement key → (zh, en) for reports that carry no title of their own
    "trial-balance": ("科目余额表", "Trial balance"),
    "general-ledger": ("总账", "General ledger"),
    "account-detail": ("明细账", "Account detail"),
    "fund-statement": ("基金收支表", "Fund statement"),
    "voucher": ("记账凭证", "Accounting voucher"),
}


def _period_label(report, en: bool) -> str:
    start = getattr(report, "start", None)
    end = report.end
    if start is None:  # a balance sheet: a point in time
        return end.isoformat() if en else f"{end.year}年{end.month}月{end.day}日"
    if start.day == 1 and (end + dt.timedelta(days=1)).day == 1 and start.month == end.month:
        return f"{start:%Y-%m}" if en else f"{start.year}年{start.month}月"
    return (
        f"{start.isoformat()} – {end.isoformat()}"
        if en
        else f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日"
    )


def _people(prepared_by) -> str:
    if prepared_by is None:
        return ""
    return getattr(prepared_by, "display_name", "") or getattr(prepared_by, "username", "")


def report_pdf(book: Book, report, *, lang: str = "zh", prepared_by=None) -> bytes:
    """Any report object of ``ledger.reports`` (a Statement of any kind, the trial balance,
    general ledger, account detail, fund statement) as a PDF."""
    en = lang == "en"
    with force_locale(LANGS.get(lang, LANGS["zh"])):
        if isinstance(report, rep.Statement):
            template, key, landscape = "pdf/ledger/statement.html", report.statement, True
            title = report.title_en if en else report.title_zh
            form_code = report.form_code
            groups, subs = _column_groups(report)
            extra: dict = {"rows": _statement_rows(report), "groups": groups, "subs": subs}
            two_sided = any(ln.side for ln in report.lines)
            landscape = two_sided or len(report.columns) > 3
            extra["two_sided"] = two_sided
        else:
            found = _KIND_TEMPLATES.get(type(report))
            if found is None:
                raise TypeError(f"no PDF layout for {type(report).__name__}")
            template, key, landscape = found
            zh, english = _TITLES[key]
            title, form_code, extra = (english if en else zh), None, {}
        proof = latest_checkpoint(book)
        context = dict(
            r=report,
            en=en,
            book=book,
            organisation=book.organisation,
            title=title,
            form_code=form_code,
            period_label=_period_label(report, en),
            proof=proof,
            qr=qr_data_uri(proof.url),
            prepared_by=_people(prepared_by),
            generated_at=dt.datetime.now(dt.UTC),
            statement_key=key,
            **extra,
        )
        css = _css(landscape, en)
        if isinstance(report, rep.GeneralLedger):
            chunks = _ledger_chunks(report.accounts)
            if len(chunks) > 1 and parallel_available():
                # Long: chunks of accounts laid out in parallel processes, joined, numbered.
                parts = [
                    render_template(
                        template,
                        **{**context, "accounts": chunk},
                        show_head=i == 0,
                        show_tail=i == len(chunks) - 1,
                    )
                    for i, chunk in enumerate(chunks)
                ]
                pages_css, numbers_css = _split_numbers(css)
                return render_pdf_chunks(parts, stylesheet=pages_css, page_numbers=numbers_css)
            context["accounts"] = report.accounts
        return render_pdf(render_template(template, **context), stylesheet=css)


def _ledger_chunks(accounts: Sequence[rep.LedgerAccount]) -> list[Sequence[rep.LedgerAccount]]:
    """Accounts in runs of about CHUNK_ROWS table rows (a whole account never splits); one
    run when the ledger is short."""
    rows = sum(1 + 2 * len(la.months) for la in accounts)
    if rows < PARALLEL_MIN_ROWS:
        return [accounts]
    # Runs of about CHUNK_ROWS: the worker pool (one a core) takes them in turn, so a worker's
    # memory stays that of one run however long the ledger is.
    n = max(2, -(-rows // CHUNK_ROWS))
    per = -(-rows // n)
    out: list[Sequence[rep.LedgerAccount]] = []
    start, count = 0, 0
    for i, la in enumerate(accounts):
        count += 1 + 2 * len(la.months)
        if count >= per and len(out) < n - 1:
            out.append(accounts[start : i + 1])
            start, count = i + 1, 0
    out.append(accounts[start:])
    return [c for c in out if c]


def vouchers_pdf(
    book: Book,
    vouchers: Sequence[Voucher],
    *,
    lang: str = "zh",
    prepared_by=None,
    per_page: int = 2,
    period_label: str = "",
) -> bytes:
    """记账凭证 printouts: two vouchers per A4 page (``per_page=2``, a voucher of many lines
    takes a page of its own) or one per page; the total in Chinese capitals (大写), the
    attachments count and the preparer, reviewer and poster of each."""
    en = lang == "en"
    with force_locale(LANGS.get(lang, LANGS["zh"])):
        accounts = {
            a.id: a
            for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
        }
        items = []
        for v in vouchers:
            debit = sum(ln.debit for ln in v.lines)
            credit = sum(ln.credit for ln in v.lines)
            items.append(
                {
                    "v": v,
                    "lines": [(ln, accounts.get(ln.account_id)) for ln in v.lines],
                    "debit": debit,
                    "credit": credit,
                    "capital": rmb_capital(debit),
                    "tall": len(v.lines) > 7 or per_page == 1,
                }
            )
        proof = latest_checkpoint(book)
        html = render_template(
            "pdf/ledger/voucher.html",
            items=items,
            en=en,
            book=book,
            organisation=book.organisation,
            title=_TITLES["voucher"][1 if en else 0],
            form_code=None,
            period_label=period_label,
            proof=proof,
            qr=qr_data_uri(proof.url),
            prepared_by=_people(prepared_by),
            generated_at=dt.datetime.now(dt.UTC),
            statement_key="voucher",
            per_page=per_page,
            exponent=2,
        )
        return render_pdf(html, stylesheet=_css(False, en))


def statement_pdf(
    book: Book,
    statement: str,
    month: Month,
    *,
    voucher_number: str | None = None,
    account_code: str | None = None,
    lang: str = "zh",
    prepared_by=None,
) -> bytes:
    """``statement`` (one of :data:`PDF_STATEMENTS`) of ``book`` for ``month`` as a PDF."""
    if statement == "voucher":
        vouchers = month_vouchers(book, month, voucher_number)
        label = str(month) if lang == "en" else f"{month.year}年{month.month}月"
        return vouchers_pdf(book, vouchers, lang=lang, prepared_by=prepared_by, period_label=label)
    report = period_report(book, statement, month, account_code=account_code)
    return report_pdf(book, report, lang=lang, prepared_by=prepared_by)


def pdf_filename(book: Book, statement: str, period: str, voucher_number: str | None = None) -> str:
    tail = f"_{voucher_number}" if voucher_number else ""
    return f"book{book.id}_{statement}_{period}{tail}.pdf"
