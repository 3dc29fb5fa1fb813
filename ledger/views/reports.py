"""Reports (账簿与报表) as HTML, CSV and JSON."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from core import parse
from core.audit import note
from core.db import db
from core.downloads import csv_text, download
from core.errors import DomainError, InvalidInput
from core.i18n import amount
from core.jobs import JobContext, JobFile, register_job_kind, run_or_queue
from core.months import Month

from .. import (
    auditor_scope,  # noqa: F401  (which dates a report or voucher shows an auditor)
    policy,
    reports,
)
from .. import pdf as ledger_pdf
from ..audit_package import audit_package, package_filename
from ..entry import AccountLookup
from ..models import (
    Account,
    Book,
    Voucher,
    VoucherLine,
    VoucherStatus,
)
from ..reports.render import XLSX_MIMETYPE, to_xlsx
from .common import (
    _accounts,
    _funds,
    _locale,
    _open,
    _refused,
    bp,
)
from .periods import _months


@dataclass(frozen=True)
class ReportKind:
    title: object  # lazy string
    dates: str  # "range" (start–end) or "as_of"
    funds: bool  # takes a fund filter
    statement: bool = False  # needs a standard chart


REPORTS: dict[str, ReportKind] = {
    "trial-balance": ReportKind(_l("Trial balance"), "range", True),
    "balance-sheet": ReportKind(_l("Balance sheet"), "as_of", True, statement=True),
    "income-statement": ReportKind(
        _l("Income statement / statement of activities"), "range", True, statement=True
    ),
    "cash-flow": ReportKind(_l("Cash flow statement"), "range", False, statement=True),
    "general-ledger": ReportKind(_l("General ledger"), "range", True),
    "account-detail": ReportKind(_l("Account detail"), "range", True),
    "fund-statement": ReportKind(_l("Fund statement"), "range", False),
    "account-balances": ReportKind(_l("Account balances"), "as_of", True),
}


@dataclass
class ReportParams:
    """The period picker and filters of a report page, parsed from the query string."""

    start: dt.date
    end: dt.date
    as_of: dt.date
    fund_id: int | None = None
    account: Account | None = None
    account_text: str = ""
    level: int | None = None
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_args(cls, book: Book, args: Mapping | None = None) -> ReportParams:
        """From the query string (or ``args``: a background job's saved query)."""
        a = request.args if args is None else args
        today = dt.date.today()
        p = cls(start=today.replace(day=1), end=today, as_of=today)
        if a.get("month", "").strip():
            try:
                month = parse.month(a.get("month"), field="month")
                p.start, p.end = month.first_day, month.last_day
            except InvalidInput as e:
                p.errors["month"] = str(e.message)
        for name in ("start", "end", "as_of"):
            try:
                day = parse.optional_date(a.get(name), field=name)
            except InvalidInput as e:
                p.errors[name] = str(e.message)
                continue
            if day is not None:
                setattr(p, name, day)
        fund = a.get("fund", "").strip()
        if fund:
            ids = {f.id for f in _funds(book, active_only=False)}
            try:
                p.fund_id = parse.int_id(fund, field="fund")
                if p.fund_id not in ids:
                    raise InvalidInput()
            except InvalidInput:
                p.fund_id = None
                p.errors["fund"] = _("No such fund in this book.")
        try:
            p.account_text = parse.text(a.get("account", "")[:200], field="account", max_length=200)
        except InvalidInput as e:
            p.errors["account"] = str(e.message)
        if p.account_text:
            p.account = AccountLookup(book).find(p.account_text)
            if p.account is None:
                p.errors["account"] = _(
                    "No account %(text)s in this book.", text=p.account_text[:40]
                )
        level = a.get("level", "")
        if level:
            try:
                p.level = parse.bounded_int(level, 1, 9, field="level", message=_l("Out of range."))
            except InvalidInput as e:
                p.errors["level"] = str(e.message)
        return p

    def args(self, kind: ReportKind, **extra) -> dict:
        out: dict = {}
        if kind.dates == "range":
            out.update(start=self.start.isoformat(), end=self.end.isoformat())
        else:
            out["as_of"] = self.as_of.isoformat()
        if self.fund_id:
            out["fund"] = self.fund_id
        if self.account is not None:
            out["account"] = self.account.code
        if self.level:
            out["level"] = self.level
        out.update(extra)
        return out


def _run_report(name: str, book: Book, p: ReportParams):
    """Call the report function behind ``name`` (ledger.reports does the arithmetic)."""
    if name == "trial-balance":
        return reports.trial_balance(
            book, start=p.start, end=p.end, fund_id=p.fund_id, max_level=p.level
        )
    if name == "balance-sheet":
        return reports.balance_sheet(book, as_of=p.as_of, fund_id=p.fund_id)
    if name == "income-statement":
        return reports.income_statement(book, start=p.start, end=p.end, fund_id=p.fund_id)
    if name == "cash-flow":
        return reports.cash_flow_statement(book, start=p.start, end=p.end)
    if name == "general-ledger":
        ids = [p.account.id] if p.account is not None else None
        return reports.general_ledger(
            book, start=p.start, end=p.end, account_ids=ids, fund_id=p.fund_id
        )
    if name == "account-detail":
        if p.account is None:
            return None  # the page asks for an account first
        return reports.account_detail(book, p.account, start=p.start, end=p.end, fund_id=p.fund_id)
    if name == "fund-statement":
        return reports.fund_statement(book, start=p.start, end=p.end)
    return reports.account_balances(book, as_of=p.as_of, fund_id=p.fund_id)


def _available_reports(book: Book) -> dict[str, ReportKind]:
    from ..charts import STANDARDS, has_cash_flow

    return {
        k: v
        for k, v in REPORTS.items()
        if not v.statement
        or (book.chart in STANDARDS and (k != "cash-flow" or has_cash_flow(book.chart)))
    }


@bp.get("/<id:org_id>/reports")
@login_required
def reports_index(org_id: int):
    bv = _open(org_id)
    months = [m for m in _months(bv.book) if m.posted][-12:]
    return render_template(
        "ledger/reports.html",
        bv=bv,
        available=_available_reports(bv.book),
        months=list(reversed(months)),
    )


@bp.get("/<id:org_id>/reports/<name>")
@login_required
def report(org_id: int, name: str):
    """One report as HTML, or ``?format=csv`` (UTF-8 with BOM), ``xlsx``, ``pdf`` or ``json``.
    A big CSV or XLSX (more voucher lines than ``EXPORT_INLINE_MAX_LINES``) or PDF (more than
    ``PDF_INLINE_MAX_LINES``) is made in a background job: the answer is then the job's page
    (core.jobs)."""
    bv = _open(org_id)
    kind = _available_reports(bv.book).get(name)
    if kind is None:
        abort(404)
    p = ReportParams.from_args(bv.book)
    fmt = request.args.get("format", "html")
    if fmt not in ("html", "csv", "xlsx", "json", "pdf"):
        p.errors["format"] = _("Unknown format.")
    result, error, status = None, None, 200
    exporting = fmt in ("csv", "xlsx", "pdf") and (
        name != "account-detail" or p.account is not None
    )
    if p.errors:
        error, status = " ".join(dict.fromkeys(p.errors.values())), 422
    else:
        try:
            if exporting:  # computed inline, or in a background job when it is big
                return export_response(bv.org, bv.book, bv.user, name, p, fmt)
            result = _run_report(name, bv.book, p)
        except DomainError as e:
            error, status = e.message, _refused(e)
            p.errors.update(
                {k: "; ".join(v) if isinstance(v, list) else str(v) for k, v in e.errors.items()}
            )
    if status == 200 and result is not None and fmt == "json":
        return jsonify(reports.to_json(result))
    if fmt != "html" and status == 200:  # account detail without an account
        error, status = _("Choose an account."), 422
        p.errors["account"] = error
    if status >= 400:
        g.audit_outcome_detail = "invalid"
    loc = _locale()
    accounts = _accounts(bv.book) if name in ("account-detail", "general-ledger") else []
    cash_flow = _cash_flow_extras(bv, p) if name == "cash-flow" and result is not None else None
    return (
        render_template(
            "ledger/report.html",
            bv=bv,
            name=name,
            kind=kind,
            p=p,
            r=result,
            error=error,
            loc=loc,
            funds=_funds(bv.book, active_only=False),
            accounts=accounts,
            en=loc.startswith("en"),
            available=_available_reports(bv.book),
            cash_flow=cash_flow,
            csv_url=url_for(".report", org_id=org_id, name=name, **p.args(kind, format="csv")),
            json_url=url_for(".report", org_id=org_id, name=name, **p.args(kind, format="json")),
            xlsx_url=url_for(".report", org_id=org_id, name=name, **p.args(kind, format="xlsx")),
            pdf_url=url_for(".report", org_id=org_id, name=name, **p.args(kind, format="pdf")),
        ),
        status,
    )


def _cash_flow_extras(bv, p: ReportParams) -> dict:
    """What the cash-flow page shows under the statement: the unclassified movements (with a
    form to classify each, for those who post) and the counter-account rules."""
    return {
        "unclassified": reports.unclassified_cash_lines(bv.book, start=p.start, end=p.end),
        "choices": reports.classification_choices(bv.book),
        "rules": reports.cashflow.rules_table(bv.book),
        "can_classify": bv.can_post,
        "classified": reports.cashflow.classified_lines(bv.book, start=p.start, end=p.end),
    }


@bp.post("/<id:org_id>/reports/cash-flow/classify")
@login_required
def classify_cash_line(org_id: int):
    """Classify one cash line for the cash-flow statement (or clear it: an empty ``key``)."""
    bv = _open(org_id)
    policy.require(bv.org, "post", user=bv.user)
    form = request.form
    back: dict[str, Any] = {k: request.args[k] for k in ("start", "end") if request.args.get(k)}
    try:
        line_id = parse.int_id(form.get("line", ""), field="line")
        key = form.get("key", "").strip()[:60] or None
        row = reports.classify_cash_line(bv.book, line_id, key, actor=bv.user)
    except DomainError as e:
        status = _refused(e)
        flash(str(e.message), "error")
        page = report(org_id, "cash-flow")
        g.audit_outcome_detail = "invalid"
        return (page[0] if isinstance(page, tuple) else page), status
    note(voucher_line=line_id, cash_flow_line=key)
    flash(
        _("The cash movement is classified.") if row else _("The classification is removed."),
        "success",
    )
    return redirect(url_for(".report", org_id=org_id, name="cash-flow", **back))


# --- exports (CSV, XLSX): inline when small, a background job when big ----------------------

EXPORT_JOB = "ledger.report_export"
DEFAULT_INLINE_MAX_LINES = 5000
DEFAULT_PDF_INLINE_MAX_LINES = 1000


def export_size(book: Book, name: str, start: dt.date, end: dt.date, account=None) -> int:
    """How big an export is: the posted voucher lines of the period behind the ledgers (one
    COUNT; the statements and the trial balance read the balance table and are always small)."""
    if name not in ("general-ledger", "account-detail", "general_ledger", "account_detail"):
        return 0
    q = (
        sa.select(sa.func.count(VoucherLine.id))
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(
            Voucher.book_id == book.id,
            Voucher.status == VoucherStatus.POSTED.value,
            Voucher.date >= start,
            Voucher.date <= end,
        )
    )
    if account is not None:
        q = q.where(VoucherLine.account_id == account.id)
    return int(db.session.scalar(q) or 0)


def inline_max_lines(fmt: str = "csv") -> int:
    if fmt == "pdf":  # a PDF page holds ~45 lines and costs far more than a CSV row
        return int(current_app.config.get("PDF_INLINE_MAX_LINES", DEFAULT_PDF_INLINE_MAX_LINES))
    return int(current_app.config.get("EXPORT_INLINE_MAX_LINES", DEFAULT_INLINE_MAX_LINES))


def export_period(kind: ReportKind, p: ReportParams) -> str:
    """The period in a download's name and in its audit note: a day or ``start_end``."""
    if kind.dates == "as_of":
        return p.as_of.isoformat()
    return f"{p.start.isoformat()}_{p.end.isoformat()}"


def export_filename(name: str, kind: ReportKind, p: ReportParams, fmt: str) -> str:
    return f"{name}_{export_period(kind, p)}.{fmt}"


def export_file(
    book: Book, name: str, p: ReportParams, fmt: str, lang: str, progress=None, user=None
):
    """The export's bytes, name and type (the job function and the inline path share it)."""
    kind = REPORTS[name]
    result = _run_report(name, book, p)
    if progress:
        progress(30 if fmt == "pdf" else 60)
    filename = export_filename(name, kind, p, fmt)
    if fmt == "pdf":
        body = ledger_pdf.report_pdf(book, result, lang=lang, prepared_by=user)
        pdf_name = ledger_pdf.pdf_filename(book, name, export_period(kind, p))
        return JobFile(pdf_name, "application/pdf", body)
    if fmt == "xlsx":
        sheet = str(kind.title)
        return JobFile(filename, XLSX_MIMETYPE, to_xlsx(result, lang, sheet=sheet))
    return JobFile(filename, "text/csv", csv_text(reports.to_csv_rows(result, lang=lang)).encode())


def _export_job(ctx: JobContext) -> JobFile:
    from core.models import Organisation, User

    from .. import services as svc

    org = db.session.get(Organisation, ctx.params["org_id"])
    if org is None:
        raise InvalidInput()
    book = svc.book_for(org)
    ctx.progress(5)
    p = ReportParams.from_args(book, ctx.params["args"])
    if p.errors:
        raise InvalidInput(" ".join(dict.fromkeys(p.errors.values())))
    user = db.session.get(User, ctx.user_id) if ctx.user_id else None
    with force_locale("en" if ctx.params["lang"] == "en" else "zh_Hans_CN"):
        return export_file(
            book,
            ctx.params["report"],
            p,
            ctx.params["fmt"],
            ctx.params["lang"],
            ctx.progress,
            user=user,
        )


register_job_kind(EXPORT_JOB, _export_job)


def export_response(org, book: Book, user, name: str, p: ReportParams, fmt: str):
    """A CSV, XLSX or PDF download, or (big) a background job's page. A PDF download is in
    the audit trail with the checkpoint its figures come from."""
    kind = REPORTS[name]
    lang = "en" if _locale().startswith("en") else "zh"
    dates = [p.as_of] if kind.dates == "as_of" else [p.start, p.end]
    params = {
        "org_id": org.id,
        "report": name,
        "args": {k: str(v) for k, v in p.args(kind).items()},
        "fmt": fmt,
        "lang": lang,
        "dates": [d.isoformat() for d in dates],  # the auditor check of the download
    }
    size = export_size(book, name, p.start, p.end, p.account)
    if fmt == "pdf":
        proof = ledger_pdf.latest_checkpoint(book)
        note(
            statement=name,
            period=export_period(kind, p),
            log_size=proof.log_size,
            checkpoint=proof.size,
        )
    return run_or_queue(
        EXPORT_JOB,
        params,
        size=size,
        threshold=inline_max_lines(fmt),
        organisation=org,
        user=user,
        book_id=book.id,
    )


# --- PDFs and the audit package (ledger/pdf.py, ledger/audit_package.py) ----------------------


def _lang() -> str:
    return "en" if _locale().startswith("en") else "zh"


def _month_arg() -> Month:
    text = request.args.get("month", "").strip()
    if not text:
        raise InvalidInput(
            _l("Choose a month (YYYY-MM)."), errors={"month": [str(_l("Required."))]}
        )
    return parse.month(text, field="month")


@bp.get("/<id:org_id>/voucher-printout")
@login_required
def voucher_printout(org_id: int):
    """记账凭证 printout as PDF: the posted vouchers of ``month``, or the one ``voucher``
    (its number), two to an A4 page."""
    bv = _open(org_id)
    number = parse.text(request.args.get("voucher", "")[:40], field="voucher", max_length=40)
    month = _month_arg() if not number else None
    if month is None:
        vouchers = ledger_pdf.month_vouchers(bv.book, Month.of(dt.date.today()), number)
        label = vouchers[0].number or ""
    else:
        vouchers = ledger_pdf.month_vouchers(bv.book, month)
        label = str(month)
    proof = ledger_pdf.latest_checkpoint(bv.book)
    body = ledger_pdf.vouchers_pdf(
        bv.book, vouchers, lang=_lang(), prepared_by=bv.user, period_label=label
    )
    note(statement="voucher", period=label, log_size=proof.log_size, checkpoint=proof.size)
    return download(
        body,
        ledger_pdf.pdf_filename(bv.book, "voucher", label.replace("/", "-")),
        "application/pdf",
        private=True,
    )


@bp.get("/<id:org_id>/audit-package")
@login_required
def audit_package_download(org_id: int):
    """The audit package (zip) of ``month`` for an auditor: statements PDF, vouchers CSV
    with their attachments, trial balance, audit trail, disclosure bundles, README."""
    bv = _open(org_id)
    month = _month_arg()
    proof = ledger_pdf.latest_checkpoint(bv.book)
    body = audit_package(bv.book, month, lang=_lang(), actor=bv.user)
    note(
        statement="audit-package", period=str(month), log_size=proof.log_size, checkpoint=proof.size
    )
    return download(body, package_filename(bv.book, month), "application/zip", private=True)


@bp.app_template_filter("report_amount")
def report_amount(minor: int | None, exponent: int = 2, blank_zero: bool = False) -> str:
    """A report cell: "1,234.56"; empty for a heading (None) and, if asked, for zero."""
    return amount(minor, exponent, blank_zero)
