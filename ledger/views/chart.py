"""The chart of accounts and the funds (科目与基金)."""

from __future__ import annotations

from flask import (
    flash,
    jsonify,
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
from core.db import db
from core.errors import DomainError, InvalidInput

from .. import services as svc
from ..models import (
    Account,
    Book,
)
from .common import (
    ACCOUNT_TYPE_LABELS,
    BookView,
    _accounts,
    _funds,
    _locale,
    _open,
    _posting_accounts,
    _refused,
    bp,
)


@bp.get("/<id:org_id>/accounts.json")
@login_required
def accounts_json(org_id: int):
    """Posting accounts for the entry form's lookup: code, name and "code name" label."""
    bv = _open(org_id)
    loc = _locale()
    return jsonify(
        [
            {
                "id": a.id,
                "code": a.code,
                "name": a.label(loc)[len(a.code) + 1 :],
                "label": a.label(loc),
                "restriction": a.restriction,
            }
            for a in _posting_accounts(bv.book)
        ]
    )


@bp.get("/<id:org_id>/accounts")
@login_required
def accounts(org_id: int):
    return _render_accounts(_open(org_id))


def _render_accounts(bv: BookView, *, error=None, errors=None, form=None, status: int = 200):
    return (
        render_template(
            "ledger/accounts.html",
            bv=bv,
            accounts=_accounts(bv.book),
            funds=_funds(bv.book, active_only=False),
            type_labels=ACCOUNT_TYPE_LABELS,
            error=error,
            errors=errors or {},
            form=form or {},
            loc=_locale(),
        ),
        status,
    )


def _account_in(book: Book, account_id) -> Account:
    try:
        acc = db.session.get(Account, parse.int_id(account_id, field="parent"))
    except InvalidInput:
        acc = None
    if acc is None or acc.book_id != book.id:
        raise InvalidInput(
            _l("No such account in this book."), errors={"parent": [str(_l("Choose an account."))]}
        )
    return acc


def _text(form, name: str, max_length: int = 1000) -> str:
    """A name or code as typed, refused when it holds NUL, controls or bidi characters (the
    service checks its own length and form rules)."""
    value = form.get(name, "")
    return parse.text(value[:max_length], field=name, max_length=max_length, strip=False)


@bp.post("/<id:org_id>/accounts")
@login_required
def add_account(org_id: int):
    bv = _open(org_id)
    form = request.form
    try:
        parent = _account_in(bv.book, form.get("parent_id"))
        acc = svc.add_sub_account(
            parent,
            _text(form, "code"),
            _text(form, "name_zh"),
            _text(form, "name_en"),
            actor=bv.user,
        )
    except DomainError as e:
        status = _refused(e)
        return _render_accounts(
            _open(org_id), error=e.message, errors=e.errors, form=form, status=status
        )
    note(account=acc.code)
    flash(_("Sub-account %(label)s added.", label=acc.label(_locale())), "success")
    return redirect(url_for(".accounts", org_id=org_id) + f"#acc-{acc.id}")


@bp.post("/<id:org_id>/accounts/<id:account_id>/active")
@login_required
def set_account_active(org_id: int, account_id: int):
    bv = _open(org_id)
    active = request.form.get("active") == "1"
    try:
        acc = _account_in(bv.book, account_id)
        svc.set_account_active(acc, active, actor=bv.user)
    except DomainError as e:
        status = _refused(e)
        return _render_accounts(_open(org_id), error=e.message, errors=e.errors, status=status)
    note(account=acc.code, active=active)
    flash(
        _("Account %(code)s is active again.", code=acc.code)
        if active
        else _("Account %(code)s is deactivated.", code=acc.code),
        "success",
    )
    return redirect(url_for(".accounts", org_id=org_id) + f"#acc-{acc.id}")


@bp.post("/<id:org_id>/funds")
@login_required
def add_fund(org_id: int):
    bv = _open(org_id)
    form = request.form
    try:
        fund = svc.create_fund(
            bv.book,
            _text(form, "fund_code"),
            _text(form, "fund_name"),
            restricted=form.get("restricted") == "1",
            endowment=form.get("endowment") == "1",
            purpose=_text(form, "purpose", 300),
            actor=bv.user,
        )
    except DomainError as e:
        status = _refused(e)
        return _render_accounts(
            _open(org_id), error=e.message, errors=e.errors, form=form, status=status
        )
    note(fund=fund.code)
    flash(_("Fund %(code)s added.", code=fund.code), "success")
    return redirect(url_for(".accounts", org_id=org_id) + "#funds")


# --- voucher entry ------------------------------------------------------------------------------
