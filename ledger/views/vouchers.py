"""Voucher entry (记账凭证录入), one voucher, its actions and attachments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from core import parse
from core.audit import note
from core.auth import require_role
from core.db import db
from core.downloads import download
from core.errors import DomainError, InvalidInput, NotFound
from core.models import User

from .. import attachments
from .. import services as svc
from ..entry import EntryText, LineText, parse_amount_text, parse_entry
from ..models import (
    Book,
    Voucher,
    VoucherEvent,
    VoucherKind,
    VoucherStatus,
)
from .common import (
    EVENT_LABELS,
    STATUS_LABELS,
    BookView,
    _amount_formatter,
    _exponent,
    _funds,
    _locale,
    _open,
    _posting_accounts,
    _refused,
    bp,
    plain_amount,
)

NEW_FORM_ROWS = 4  # empty lines on a fresh voucher: enough without JavaScript


@dataclass
class LineRow:
    """One line of the entry form, as the treasurer typed it."""

    account: str = ""
    debit: str = ""
    credit: str = ""
    fund: str = ""
    memo: str = ""

    @property
    def blank(self) -> bool:
        return not any(s.strip() for s in (self.account, self.debit, self.credit, self.memo))


@dataclass
class VoucherForm:
    date: str = ""
    summary: str = ""
    attachment_count: str = "0"
    rows: list[LineRow] = field(default_factory=list)
    allow_negative: bool = False  # a red reversal's amounts are negative

    @classmethod
    def from_request(cls, *, allow_negative: bool = False) -> VoucherForm:
        f = request.form
        cols = {k: f.getlist(k) for k in ("account", "debit", "credit", "fund", "memo")}
        n = max((len(v) for v in cols.values()), default=0)

        def cell(k: str, i: int) -> str:
            v = cols[k]
            return (v[i] if i < len(v) else "")[:300]

        return cls(
            date=f.get("date", "").strip(),
            summary=f.get("summary", ""),
            attachment_count=f.get("attachment_count", "0").strip(),
            rows=[
                LineRow(*(cell(k, i) for k in ("account", "debit", "credit", "fund", "memo")))
                for i in range(n)
            ],
            allow_negative=allow_negative,
        )

    @classmethod
    def from_voucher(cls, voucher: Voucher, exponent: int, *, copy: bool = False) -> VoucherForm:
        loc = _locale()
        return cls(
            date=dt.date.today().isoformat() if copy else voucher.date.isoformat(),
            summary=voucher.summary,
            attachment_count="0" if copy else str(voucher.attachment_count),
            rows=[
                LineRow(
                    account=ln.account.label(loc),
                    debit=plain_amount(ln.debit, exponent),
                    credit=plain_amount(ln.credit, exponent),
                    fund=str(ln.fund_id or ""),
                    memo=ln.memo,
                )
                for ln in voucher.lines
            ],
            allow_negative=not copy and voucher.kind == VoucherKind.REVERSAL,
        )


def _totals(form: VoucherForm, exponent: int) -> dict:
    """Debit and credit totals of the amounts that parse, for the re-rendered form."""
    dr = cr = 0
    for row in form.rows:
        for text, side in ((row.debit, "dr"), (row.credit, "cr")):
            try:
                v = parse_amount_text(text, exponent, allow_negative=form.allow_negative)
            except InvalidInput:
                continue
            if side == "dr":
                dr += v
            else:
                cr += v
    return {"debit": dr, "credit": cr, "difference": dr - cr}


def _parse_voucher_form(book: Book, form: VoucherForm) -> svc.VoucherInput:
    """Form text → VoucherInput through the one parser (``ledger.entry``). Blank rows are
    dropped (and dropped from ``form`` too, so the service's line numbers match the rows
    shown). Every problem is reported at once."""
    form.rows = [r for r in form.rows if not r.blank]
    entry = EntryText(
        date=form.date,
        summary=form.summary,
        attachment_count=form.attachment_count,
        lines=[
            LineText(account=r.account, debit=r.debit, credit=r.credit, fund=r.fund, memo=r.memo)
            for r in form.rows
        ],
    )
    return parse_entry(
        book, entry, allow_negative=form.allow_negative, accounts="typed", funds="id"
    )


def _by_row(errors: dict | None) -> dict:
    """The parser keys a cell's problem ``lines.N.debit``; the form shows them under its row."""
    out: dict = {}
    for key, messages in (errors or {}).items():
        parts = str(key).split(".")
        if len(parts) == 3 and parts[0] == "lines":
            key = ".".join(parts[:2])
        out.setdefault(key, [])
        out[key] += messages if isinstance(messages, list) else [messages]
    return out


def _render_form(
    bv: BookView,
    form: VoucherForm,
    *,
    voucher: Voucher | None = None,
    error=None,
    errors: dict | None = None,
    status: int = 200,
    copied_from: Voucher | None = None,
):
    exponent = _exponent(bv.book)
    while len(form.rows) < 2:
        form.rows.append(LineRow())
    return (
        render_template(
            "ledger/voucher_form.html",
            bv=bv,
            form=form,
            voucher=voucher,
            error=error,
            errors=_by_row(errors),
            accounts=_posting_accounts(bv.book),
            funds=_funds(bv.book),
            loc=_locale(),
            totals=_totals(form, exponent),
            exponent=exponent,
            copied_from=copied_from,
            files=attachments.list_attachments(voucher) if voucher else [],
            max_upload=attachments.max_size(),
        ),
        status,
    )


def _base_unit_only(bv: BookView, voucher: Voucher) -> None:
    if any(ln.unit != bv.book.base_unit for ln in voucher.lines):
        raise InvalidInput(
            _l(
                "This voucher has lines in other units than %(unit)s; the entry form handles %(unit)s only.",
                unit=bv.book.base_unit,
            )
        )


def _attach_uploads(voucher: Voucher, user: User) -> int:
    n = 0
    for f in request.files.getlist("files"):
        if not f or not f.filename:
            continue
        attachments.add_attachment(voucher, f.filename, f.mimetype, f.read(), user)
        n += 1
    return n


@bp.route("/<id:org_id>/vouchers/new", methods=["GET", "POST"])
@login_required
def new_voucher(org_id: int):
    bv = _open(org_id)
    require_role(bv.org, *svc.PREPARE_ROLES, user=bv.user)
    if request.method == "GET":
        copied = None
        copy_id = request.args.get("copy", "")
        if copy_id:
            copied = svc.get_voucher(bv.book, parse.int_id(copy_id, missing=NotFound))
            _base_unit_only(bv, copied)
            form = VoucherForm.from_voucher(copied, _exponent(bv.book), copy=True)
        else:
            form = VoucherForm(
                date=dt.date.today().isoformat(), rows=[LineRow() for _ in range(NEW_FORM_ROWS)]
            )
        return _render_form(bv, form, copied_from=copied)
    form = VoucherForm.from_request()
    if request.form.get("do") == "add_line":  # the no-JavaScript way to get another line
        form.rows.append(LineRow())
        return _render_form(bv, form)
    try:
        data = _parse_voucher_form(bv.book, form)
        voucher = svc.create_voucher(bv.book, data, actor=bv.user)
        _attach_uploads(voucher, bv.user)
        if request.form.get("do") == "submit":
            svc.submit_voucher(voucher, actor=bv.user)
    except DomainError as e:
        status = _refused(e)
        return _render_form(_open(org_id), form, error=e.message, errors=e.errors, status=status)
    note(voucher_id=voucher.id)
    if request.form.get("do") == "save_new":
        flash(_("Voucher saved as a draft. Enter the next one."), "success")
        return redirect(url_for(".new_voucher", org_id=org_id))
    flash(
        _("Voucher submitted for review.")
        if voucher.status == VoucherStatus.SUBMITTED
        else _("Voucher saved as a draft."),
        "success",
    )
    return redirect(url_for(".voucher", org_id=org_id, voucher_id=voucher.id))


@bp.route("/<id:org_id>/vouchers/<id:voucher_id>/edit", methods=["GET", "POST"])
@login_required
def edit_voucher(org_id: int, voucher_id: int):
    bv = _open(org_id)
    require_role(bv.org, *svc.PREPARE_ROLES, user=bv.user)
    voucher = svc.get_voucher(bv.book, voucher_id)
    if voucher.status != VoucherStatus.DRAFT.value:
        flash(_("Only a draft can be edited."), "error")
        return redirect(url_for(".voucher", org_id=org_id, voucher_id=voucher_id))
    _base_unit_only(bv, voucher)
    if request.method == "GET":
        return _render_form(
            bv, VoucherForm.from_voucher(voucher, _exponent(bv.book)), voucher=voucher
        )
    form = VoucherForm.from_request(allow_negative=voucher.kind == VoucherKind.REVERSAL)
    if request.form.get("do") == "add_line":
        form.rows.append(LineRow())
        return _render_form(bv, form, voucher=voucher)
    try:
        data = _parse_voucher_form(bv.book, form)
        svc.update_voucher(voucher, data, actor=bv.user)
        _attach_uploads(voucher, bv.user)
        if request.form.get("do") == "submit":
            svc.submit_voucher(voucher, actor=bv.user)
    except DomainError as e:
        status = _refused(e)
        bv = _open(org_id)
        return _render_form(
            bv,
            form,
            voucher=svc.get_voucher(bv.book, voucher_id),
            error=e.message,
            errors=e.errors,
            status=status,
        )
    note(voucher_id=voucher.id)
    flash(
        _("Voucher submitted for review.")
        if voucher.status == VoucherStatus.SUBMITTED
        else _("Voucher saved."),
        "success",
    )
    return redirect(url_for(".voucher", org_id=org_id, voucher_id=voucher.id))


# --- one voucher --------------------------------------------------------------------------------


def _render_voucher(bv: BookView, voucher: Voucher, *, error=None, errors=None, status: int = 200):
    events = db.session.scalars(
        sa.select(VoucherEvent)
        .where(VoucherEvent.voucher_id == voucher.id)
        .order_by(VoucherEvent.id)
    ).all()
    reversed_by = db.session.scalar(
        sa.select(Voucher).where(
            Voucher.reverses_id == voucher.id, Voucher.status != VoucherStatus.DISCARDED.value
        )
    )
    units = {ln.unit for ln in voucher.lines}
    totals = {
        u: (
            sum(ln.debit for ln in voucher.lines if ln.unit == u),
            sum(ln.credit for ln in voucher.lines if ln.unit == u),
        )
        for u in sorted(units)
    }
    return (
        render_template(
            "ledger/voucher.html",
            bv=bv,
            v=voucher,
            events=events,
            reversed_by=reversed_by,
            totals=totals,
            files=attachments.list_attachments(voucher),
            loc=_locale(),
            status_labels=STATUS_LABELS,
            event_labels=EVENT_LABELS,
            error=error,
            errors=errors or {},
            today=dt.date.today().isoformat(),
            fmt=_amount_formatter(bv.book),
        ),
        status,
    )


def _voucher_refused(org_id: int, voucher_id: int, e: DomainError):
    """The voucher page again, as it now is, with what the refused step said."""
    status = _refused(e)
    bv = _open(org_id)
    return _render_voucher(
        bv, svc.get_voucher(bv.book, voucher_id), error=e.message, errors=e.errors, status=status
    )


@bp.get("/<id:org_id>/vouchers/<id:voucher_id>")
@login_required
def voucher(org_id: int, voucher_id: int):
    bv = _open(org_id)
    return _render_voucher(bv, svc.get_voucher(bv.book, voucher_id))


def _do_reverse(v: Voucher, user: User) -> Voucher:
    date = parse.optional_date(request.form.get("date"), field="date")
    return svc.reverse_voucher(v, actor=user, date=date)


def _note() -> str:
    """The reviewer's note on a rejection or a discard: bounded text without NUL or bidi."""
    return parse.text(request.form.get("note", ""), field="note", max_length=2000)


_ACTIONS = {
    "submit": (lambda v, u: svc.submit_voucher(v, actor=u), _l("Voucher submitted for review.")),
    "approve": (lambda v, u: svc.approve_voucher(v, actor=u), _l("Voucher approved.")),
    "reject": (
        lambda v, u: svc.reject_voucher(v, _note(), actor=u),
        _l("Voucher returned to the preparer for correction."),
    ),
    "post": (lambda v, u: svc.post_voucher(v, actor=u), _l("Voucher posted.")),
    "discard": (
        lambda v, u: svc.discard_voucher(v, actor=u, note=_note()),
        _l("Voucher discarded."),
    ),
    "reverse": (
        _do_reverse,
        _l("A red reversal draft was created. Review and post it like any voucher."),
    ),
}


@bp.post(
    "/<id:org_id>/vouchers/<id:voucher_id>/<any(submit,approve,reject,post,discard,reverse):action>"
)
@login_required
def voucher_action(org_id: int, voucher_id: int, action: str):
    bv = _open(org_id)
    v = svc.get_voucher(bv.book, voucher_id)
    run, done = _ACTIONS[action]
    try:
        result = run(v, bv.user)
    except DomainError as e:
        return _voucher_refused(org_id, voucher_id, e)
    note(voucher_id=v.id, number=v.number)
    flash(
        str(done) + (f" {result.number}" if action == "post" and result.number else ""), "success"
    )
    back = request.form.get("next", "")
    if action == "reverse":
        return redirect(url_for(".voucher", org_id=org_id, voucher_id=result.id))
    if back == "review":
        return redirect(url_for(".review", org_id=org_id))
    return redirect(url_for(".voucher", org_id=org_id, voucher_id=v.id))


@bp.post("/<id:org_id>/vouchers/<id:voucher_id>/attachments")
@login_required
def upload_attachment(org_id: int, voucher_id: int):
    bv = _open(org_id)
    v = svc.get_voucher(bv.book, voucher_id)
    try:
        n = _attach_uploads(v, bv.user)
        if not n:
            raise InvalidInput(
                _l("Choose a file to attach."), errors={"file": [str(_l("Required."))]}
            )
    except DomainError as e:
        return _voucher_refused(org_id, voucher_id, e)
    note(voucher_id=v.id, files=n)
    flash(_("%(n)d file(s) attached.", n=n), "success")
    return redirect(url_for(".voucher", org_id=org_id, voucher_id=v.id) + "#files")


@bp.get("/<id:org_id>/vouchers/<id:voucher_id>/attachments/<id:attachment_id>")
@login_required
def download_attachment(org_id: int, voucher_id: int, attachment_id: int):
    bv = _open(org_id)
    att = attachments.get_attachment(svc.get_voucher(bv.book, voucher_id), attachment_id)
    return download(att.data, att.filename, att.content_type, etag=att.sha256, private=True)


@bp.post("/<id:org_id>/vouchers/<id:voucher_id>/attachments/<id:attachment_id>/delete")
@login_required
def delete_attachment(org_id: int, voucher_id: int, attachment_id: int):
    bv = _open(org_id)
    v = svc.get_voucher(bv.book, voucher_id)
    try:
        att = attachments.get_attachment(v, attachment_id)
        name = att.filename
        attachments.remove_attachment(att, bv.user)
    except DomainError as e:
        return _voucher_refused(org_id, voucher_id, e)
    note(voucher_id=v.id, removed=name)
    flash(_("File %(name)s removed.", name=name), "success")
    return redirect(url_for(".voucher", org_id=org_id, voucher_id=v.id) + "#files")


# --- lists --------------------------------------------------------------------------------------
