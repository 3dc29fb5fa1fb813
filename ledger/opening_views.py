"""The opening-balances grid (期初余额录入): the chart laid out like a 科目余额表, one row per
posting account (and extra rows per fund, unit or counterparty), with the trial balance of the
openings shown live (static/js/opening.js) and recomputed by the server on every save."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from core.audit import note
from core.db import db
from core.errors import DomainError, InvalidInput

from . import opening
from . import services as svc
from .amounts import format_minor
from .models import Account, Book, VoucherStatus
from .views.common import BookView, _open, _refused

bp = Blueprint("opening", __name__, url_prefix="/books")

EXTRA_ROWS = 5  # blank rows for a fund, another unit or a counterparty
MAX_FORM_ROWS = 5000
_ROW_FIELD = re.compile(r"^rows-([0-9]{1,5})-account$")


def _optional_id(text: str, n: int) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,18}", text):
        raise InvalidInput(
            _l("Row %(n)d: %(value)s is not an id.", n=n, value=text[:40]),
            errors={
                f"rows.{n}": [str(_l("Row %(n)d: %(value)s is not an id.", n=n, value=text[:40]))]
            },
        )
    return int(text)


def rows_from_form(form) -> list[opening.OpeningRow]:
    numbers = sorted(
        int(m.group(1)) for m in (_ROW_FIELD.match(k) for k in form.keys()) if m is not None
    )
    if len(numbers) > MAX_FORM_ROWS:
        raise InvalidInput(_l("Too many rows."))
    rows = []
    for n in numbers:
        f = f"rows-{n}-"
        rows.append(
            opening.OpeningRow(
                account=form.get(f + "account", "")[:200],
                debit=form.get(f + "debit", "")[:60],
                credit=form.get(f + "credit", "")[:60],
                unit=form.get(f + "unit", "")[:24],
                fund=form.get(f + "fund", "")[:40],
                resident_id=_optional_id(form.get(f + "resident", ""), n),
                counterparty_org_id=_optional_id(form.get(f + "org", ""), n),
                line=n,
            )
        )
    return rows


@dataclass
class GridRow:
    n: int
    account: Account | None  # a chart row (fixed account) or None for an extra row
    heading: bool
    row: opening.OpeningRow


def _grid(book: Book, typed: list[opening.OpeningRow] | None) -> list[GridRow]:
    """Chart rows in code order (parents as headings), then the extra rows. ``typed`` (the
    rows of a refused form, or of the draft) fills them in."""
    accounts = db.session.scalars(
        sa.select(Account)
        .where(Account.book_id == book.id, Account.active.is_(True))
        .order_by(Account.code)
    ).all()
    leaves = {a.code for a in accounts if not a.has_children}
    plain: dict[str, opening.OpeningRow] = {}
    extra: list[opening.OpeningRow] = []
    for r in typed or []:
        simple = (
            not r.fund
            and (not r.unit or r.unit == book.base_unit)
            and r.resident_id is None
            and r.counterparty_org_id is None
        )
        if simple and r.account in leaves and r.account not in plain:
            plain[r.account] = r
        else:
            extra.append(r)
    blanks = sum(1 for r in extra if not (r.account or r.debit or r.credit))
    extra += [opening.OpeningRow(account="")] * max(0, EXTRA_ROWS - blanks)
    out, n = [], 0
    for acc in accounts:
        if acc.has_children:
            out.append(GridRow(0, acc, True, opening.OpeningRow(account=acc.code)))
            continue
        n += 1
        out.append(GridRow(n, acc, False, plain.get(acc.code) or opening.OpeningRow(acc.code)))
    for r in extra:
        n += 1
        out.append(GridRow(n, None, False, r))
    return out


def _totals(book: Book, lines) -> list[dict]:
    out = []
    for unit, (dr, cr) in opening.totals_of(lines).items():
        exp = svc.unit_exponent(book, unit) or 0
        out.append(
            {
                "unit": unit,
                "debit": format_minor(dr, exp),
                "credit": format_minor(cr, exp),
                "difference": format_minor(abs(dr - cr), exp),
                "balanced": dr == cr,
            }
        )
    return out


def _render(bv: BookView, *, typed=None, error=None, errors=None, date=None, status=200):
    book = bv.book
    draft = opening.opening_draft(book)
    posted = opening.posted_opening(book)
    shown = draft or posted
    if typed is None and shown is not None:
        typed = opening.rows_of(shown)
    editable = bv.can_prepare and posted is None and (draft is None or draft.status == "draft")
    return (
        render_template(
            "ledger/opening/grid.html",
            bv=bv,
            grid=_grid(book, typed),
            draft=draft,
            posted=posted,
            shown=shown,
            editable=editable,
            totals=_totals(book, shown.lines) if shown is not None else [],
            date=date
            or (shown.date.isoformat() if shown else opening.default_date(book).isoformat()),
            error=error,
            errors=errors or {},
            can_approve=draft is not None
            and draft.status == VoucherStatus.SUBMITTED.value
            and bv.can_review
            and (draft.prepared_by_id != bv.user.id or book.single_person_mode),
            can_post=draft is not None
            and draft.status == VoucherStatus.APPROVED.value
            and bv.can_post,
        ),
        status,
    )


@bp.get("/<id:org_id>/opening")
@login_required
def grid(org_id: int):
    return _render(_open(org_id))


@bp.post("/<id:org_id>/opening")
@login_required
def save(org_id: int):
    bv = _open(org_id)
    form = request.form
    typed = None
    try:
        typed = rows_from_form(form)
        date = None
        if form.get("date", "").strip():
            try:
                date = dt.date.fromisoformat(form["date"].strip())
            except ValueError:
                raise InvalidInput(
                    _l("The date must be YYYY-MM-DD."), errors={"date": [str(_l("Not a date."))]}
                ) from None
        v = opening.save_opening(bv.book, typed, actor=bv.user, date=date)
        if form.get("action") == "submit":
            opening.submit_opening(bv.book, actor=bv.user)
    except DomainError as e:
        status = _refused(e)
        return _render(
            _open(org_id),
            typed=typed,
            error=e.message,
            errors=e.errors,
            date=form.get("date", "")[:20],
            status=status,
        )
    note(voucher_id=v.id, opening=True)
    flash(
        _("The opening balances are submitted for review.")
        if form.get("action") == "submit"
        else _("The opening balances are saved as a draft."),
        "success",
    )
    return redirect(url_for(".grid", org_id=org_id))


@bp.post("/<id:org_id>/opening/<any(approve, post, reverse):action>")
@login_required
def act(org_id: int, action: str):
    bv = _open(org_id)
    steps = {
        "approve": (opening.approve_opening, _l("The opening balances are approved.")),
        "post": (opening.post_opening, _l("The opening balances are posted.")),
        "reverse": (
            opening.reverse_opening,
            _l(
                "A reversal of the opening balances is drafted; review and post it, then enter them again."
            ),
        ),
    }
    step, done = steps[action]
    try:
        v = step(bv.book, actor=bv.user)
    except DomainError as e:
        status = _refused(e)
        return _render(_open(org_id), error=e.message, errors=e.errors, status=status)
    note(voucher_id=v.id, opening=True, action=action)
    flash(str(done), "success")
    return redirect(url_for(".grid", org_id=org_id))


@bp.post("/<id:org_id>/opening/state")
@login_required
def state(org_id: int):
    """An admin declares that the book starts from zero, or that it needs opening balances."""
    bv = _open(org_id)
    try:
        opening.set_opening_state(
            bv.book,
            request.form.get("state", ""),
            actor=bv.user,
            reason=request.form.get("reason", ""),
        )
    except DomainError as e:
        status = _refused(e)
        return _render(_open(org_id), error=e.message, errors=e.errors, status=status)
    note(opening_state=bv.book.opening_state)
    flash(_l("Saved."), "success")
    return redirect(url_for(".grid", org_id=org_id))
