"""JSON API for the ledger under /api/v1 (issue 3 item 8): chart, funds, vouchers, periods.

Every route is scoped to one organisation and its book (账套). Endpoints are thin: parse with
a schema (``ledger.schemas``), translate codes to ids, call ``ledger.services`` (which checks
the roles and the rules and never commits), present the result. The request commits once
(core.app). Reads need any role in the organisation; writes need the role the service asks for.

Writes accept an ``Idempotency-Key`` header (core.idempotency): a retried POST never posts twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import NamedTuple, Protocol

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload
from webargs.flaskparser import FlaskParser

from core import audit, auth, parse
from core.db import db
from core.downloads import csv_response, csv_text, download
from core.errors import InvalidInput, NotFound
from core.idempotency import OPENAPI_PARAMETER, idempotent
from core.jobs import JobContext, JobFile, register_job_kind, run_or_queue
from core.models import Organisation, User
from core.months import Month

from . import reports
from . import schemas as s
from . import services as svc
from .amounts import format_minor
from .entry import EntryText, LineText, closable_month, parse_entry
from .models import Account, Book, Fund, Period, Voucher, VoucherEvent, VoucherKind, VoucherLine
from .reports.render import XLSX_MIMETYPE, to_xlsx
from .views.reports import export_size, inline_max_lines


class _Parser(FlaskParser):
    """webargs' parser, except that JSON nested past Python's recursion limit ("[[[[…") is
    malformed input (400) rather than a RecursionError and a 500."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            raise json.JSONDecodeError("JSON nested too deeply", "[", 0) from None


class _Blueprint(Blueprint):
    ARGUMENTS_PARSER = _Parser()


blp = _Blueprint(
    "ledger_api", __name__, url_prefix="/api/v1", description="Books, accounts, vouchers, reports"
)

ORG = "/organisations/<id:org_id>"
VOUCHER = ORG + "/vouchers/<id:voucher_id>"
MONTH = ORG + "/periods/<int(max=9999):year>/<int(max=99):month>"


def _write(view):
    """A write endpoint: documented and protected by the Idempotency-Key header."""
    return idempotent(blp.doc(parameters=[OPENAPI_PARAMETER])(view))


_ORG_AND_BOOK = (
    sa.select(Organisation, Book)
    .outerjoin(Book, Book.organisation_id == Organisation.id)
    .where(Organisation.id == sa.bindparam("org_id"))
)


def _open(org_id: int, *write_roles: str) -> tuple[Organisation, User, Book]:
    """The organisation, the user (any role there, or one of ``write_roles``) and its book,
    read in one query (every API call starts here)."""
    row = db.session.execute(_ORG_AND_BOOK, {"org_id": org_id}).first()
    if row is None:
        raise NotFound(_l("No such organisation."))
    org, book = row
    user = auth.can_read(org)
    if write_roles:
        auth.require_role(org, *write_roles, user=user)
    if book is None:
        raise NotFound(_l("This organisation has no book yet."))
    return org, user, book


def _voucher(org_id: int, voucher_id: int) -> tuple[User, Voucher]:
    """The user (any role in the organisation) and the voucher with its book, organisation,
    lines and their accounts and funds: one query when they all exist, else the 404 or 403
    that ``_open`` and ``get_voucher`` give."""
    voucher = svc.voucher_in_organisation(org_id, voucher_id)
    if voucher is not None:
        user = auth.can_read(voucher.book.organisation)
    else:
        _org, user, book = _open(org_id)
        voucher = svc.get_voucher(book, voucher_id, with_lines=True)
    audit.note(voucher_id=voucher.id)
    return user, voucher


# --- input: codes and amount text → ids and minor units --------------------------------------


def _voucher_input(book: Book, data: dict, *, allow_negative: bool = False) -> svc.VoucherInput:
    """The schema's data → ``VoucherInput`` through the one parser (``ledger.entry``): account
    and fund codes resolved, amounts parsed in each line's unit, every problem reported at
    once, keyed by line (``lines.1``, ``lines.1.debit``) like the services do."""
    entry = EntryText(
        date=data["date"],
        summary=data["summary"],
        attachment_count=data["attachment_count"],
        lines=[
            LineText(
                account=r["account"],
                debit=r["debit"],
                credit=r["credit"],
                fund=r["fund"],
                unit=r["unit"],
                memo=r["memo"],
                resident_id=r["resident_id"],
                counterparty_org_id=r["counterparty_org_id"],
            )
            for r in data["lines"]
        ],
    )
    return parse_entry(book, entry, allow_negative=allow_negative, accounts="code", funds="code")


# --- output -----------------------------------------------------------------------------------


class _Exponents(dict):
    """Minor-unit digits per unit of one book, looked up once per unit."""

    def __init__(self, book: Book):
        super().__init__()
        self.book = book

    def __missing__(self, unit: str) -> int:
        exp = svc.unit_exponent(self.book, unit)
        self[unit] = 2 if exp is None else exp
        return self[unit]


def _english() -> bool:
    return str(get_locale() or "").startswith("en")


class _Person(Protocol):
    """A user as ``_person`` shows them: a ``User`` or a ``_Named`` row."""

    @property
    def id(self) -> int: ...

    @property
    def display_name(self) -> str: ...


def _person(user: _Person | None) -> dict | None:
    return None if user is None else {"id": user.id, "display_name": user.display_name}


def _totals(voucher: Voucher, exps: _Exponents) -> list[dict]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ln in voucher.lines:
        sums[ln.unit][0] += ln.debit
        sums[ln.unit][1] += ln.credit
    return [
        {"unit": u, "debit": format_minor(dr, exps[u]), "credit": format_minor(cr, exps[u])}
        for u, (dr, cr) in sorted(sums.items())
    ]


def _summary(voucher: Voucher, exps: _Exponents, *, prepared_by: _Person | None = None) -> dict:
    return {
        "id": voucher.id,
        "date": voucher.date,
        "number": voucher.number,
        "summary": voucher.summary,
        "status": voucher.status,
        "kind": voucher.kind,
        "attachment_count": voucher.attachment_count,
        "totals": _totals(voucher, exps),
        "prepared_by": _person(prepared_by or voucher.prepared_by),
    }


def _line(ln: VoucherLine, exps: _Exponents, english: bool) -> dict:
    exp = exps[ln.unit]
    acc = ln.account
    return {
        "line_no": ln.line_no,
        "account": acc.code,
        "account_name": (acc.name_en or acc.name_zh) if english else acc.name_zh,
        "fund": ln.fund_code,
        "unit": ln.unit,
        "debit": format_minor(ln.debit, exp) if ln.debit else None,
        "credit": format_minor(ln.credit, exp) if ln.credit else None,
        "debit_minor": ln.debit,
        "credit_minor": ln.credit,
        "memo": ln.memo,
        "resident_id": ln.resident_id,
        "resident_name": ln.resident.masked_name if ln.resident_id else None,
        "counterparty_org_id": ln.counterparty_org_id,
    }


_HISTORY = (
    sa.select(
        VoucherEvent.action,
        VoucherEvent.at,
        VoucherEvent.note,
        VoucherEvent.user_id,
        User.display_name,
    )
    .outerjoin(User, User.id == VoucherEvent.user_id)
    .where(VoucherEvent.voucher_id == sa.bindparam("v_id"))
    .order_by(VoucherEvent.id)
)


class _Named(NamedTuple):
    """What ``_person`` shows of a user named in a voucher's history."""

    id: int
    display_name: str


def present_voucher(voucher: Voucher, *, just_posted: bool = False) -> dict:
    """A voucher with its lines and history, as the API shows it (VoucherOut).

    ``just_posted``: posted in this request, so no reversal can point at it yet (one query less
    on the hot path of the API)."""
    exps = _Exponents(voucher.book)
    english = _english()
    # The history and the names in it in one query (columns, not ORM objects); anyone else
    # named on the voucher in one more.
    rows = db.session.execute(_HISTORY, {"v_id": voucher.id}).all()
    users: dict[int | None, _Person] = {
        r.user_id: _Named(r.user_id, r.display_name) for r in rows if r.user_id is not None
    }
    missing = (
        {voucher.prepared_by_id, voucher.approved_by_id, voucher.posted_by_id} - set(users) - {None}
    )
    if missing:
        users.update(
            (u.id, u) for u in db.session.scalars(sa.select(User).where(User.id.in_(missing)))
        )
    reversed_by = None
    if voucher.is_posted and not just_posted:  # only a posted voucher can have been reversed
        reversed_by = db.session.scalar(
            sa.select(Voucher.id).where(Voucher.reverses_id == voucher.id)
        )
    return {
        **_summary(voucher, exps, prepared_by=users.get(voucher.prepared_by_id)),
        "book_id": voucher.book_id,
        "source": voucher.source,
        "log_index": voucher.log_index,
        "posted_at": voucher.posted_at,
        "created_at": voucher.created_at,
        "reverses_id": voucher.reverses_id,
        "reversed_by_id": reversed_by,
        "approved_by": _person(users.get(voucher.approved_by_id)),
        "posted_by": _person(users.get(voucher.posted_by_id)),
        "lines": [_line(ln, exps, english) for ln in voucher.lines],
        "history": [
            {"action": r.action, "user": _person(users.get(r.user_id)), "at": r.at, "note": r.note}
            for r in rows
        ],
    }


def _account_out(acc: Account, codes: dict[int, str]) -> dict:
    return {
        "code": acc.code,
        "name_zh": acc.name_zh,
        "name_en": acc.name_en,
        "type": acc.type,
        "normal_side": acc.normal_side,
        "parent": codes.get(acc.parent_id) if acc.parent_id else None,
        "level": acc.level,
        "active": acc.active,
        "has_children": acc.has_children,
        "restriction": acc.restriction,
    }


# --- chart of accounts (会计科目) ----------------------------------------------------------------


@blp.get(ORG + "/accounts")
@blp.response(200, s.AccountOut(many=True))
def list_accounts(org_id: int):
    """The book's chart of accounts, by code."""
    _org, _user, book = _open(org_id)
    accounts = db.session.scalars(
        sa.select(Account).where(Account.book_id == book.id).order_by(Account.code)
    ).all()
    codes = {a.id: a.code for a in accounts}
    return [_account_out(a, codes) for a in accounts]


@blp.post(ORG + "/accounts")
@_write
@blp.arguments(s.SubAccountIn)
@blp.response(201, s.AccountOut)
def add_sub_account(data: dict, org_id: int):
    """Add a sub-account (明细科目) under any account; its code extends the parent's."""
    _org, user, book = _open(org_id, *svc.PREPARE_ROLES)
    parent = svc.account_by_code(book, data["parent_code"])
    if parent is None:
        raise InvalidInput(
            _l("No account %(code)s in this book.", code=data["parent_code"]),
            errors={"parent_code": [str(_l("No such account."))]},
        )
    acc = svc.add_sub_account(parent, data["code"], data["name_zh"], data["name_en"], actor=user)
    audit.note(account=acc.code)
    return _account_out(acc, {parent.id: parent.code})


@blp.patch(ORG + "/accounts/<code>")
@_write
@blp.arguments(s.AccountPatch)
@blp.response(200, s.AccountOut)
def set_account_active(data: dict, org_id: int, code: str):
    """Deactivate or reactivate an account. Accounts are never deleted."""
    _org, user, book = _open(org_id)
    acc = svc.account_by_code(book, code)
    if acc is None:
        raise NotFound(_l("No account %(code)s in this book.", code=code[:200]))
    svc.set_account_active(acc, data["active"], actor=user)
    audit.note(account=acc.code, active=data["active"])
    parent = acc.parent if acc.parent_id else None
    return _account_out(acc, {parent.id: parent.code} if parent is not None else {})


# --- funds (基金) -----------------------------------------------------------------------------


def _fund_out(f: Fund) -> dict:
    return {
        "code": f.code,
        "name": f.name,
        "restricted": f.restricted,
        "endowment": f.endowment,
        "purpose": f.purpose,
        "active": f.active,
    }


@blp.get(ORG + "/funds")
@blp.response(200, s.FundOut(many=True))
def list_funds(org_id: int):
    """The book's funds (restricted or not), by code."""
    _org, _user, book = _open(org_id)
    return [
        _fund_out(f)
        for f in db.session.scalars(
            sa.select(Fund).where(Fund.book_id == book.id).order_by(Fund.code)
        )
    ]


@blp.post(ORG + "/funds")
@_write
@blp.arguments(s.FundIn)
@blp.response(201, s.FundOut)
def create_fund(data: dict, org_id: int):
    """Open a fund."""
    _org, user, book = _open(org_id, *svc.PREPARE_ROLES)
    fund = svc.create_fund(
        book,
        data["code"],
        data["name"],
        restricted=data["restricted"],
        endowment=data["endowment"],
        purpose=data["purpose"],
        actor=user,
    )
    audit.note(fund=fund.code)
    return _fund_out(fund)


# --- vouchers (记账凭证) -------------------------------------------------------------------------


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _with_descendants(book: Book, code: str) -> set[int]:
    """The account with ``code`` and every sub-account below it."""
    rows = db.session.execute(
        sa.select(Account.id, Account.code, Account.parent_id).where(Account.book_id == book.id)
    ).all()
    root = next((r.id for r in rows if r.code == code), None)
    if root is None:
        raise InvalidInput(
            _l("No account %(code)s in this book.", code=code),
            errors={"account": [str(_l("No such account."))]},
        )
    children: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        if r.parent_id:
            children[r.parent_id].append(r.id)
    found, todo = set(), [root]
    while todo:
        a = todo.pop()
        found.add(a)
        todo.extend(children[a])
    return found


@blp.get(ORG + "/vouchers")
@blp.arguments(s.VoucherQuery, location="query")
@blp.response(200, s.VoucherPage)
def list_vouchers(query: dict, org_id: int):
    """Vouchers of the book, filtered, in date order (then entry order), a page at a time."""
    _org, _user, book = _open(org_id)
    cond = [Voucher.book_id == book.id]
    if "status" in query:
        cond.append(Voucher.status == query["status"])
    if "date_from" in query:
        cond.append(Voucher.date >= query["date_from"])
    if "date_to" in query:
        cond.append(Voucher.date <= query["date_to"])
    if "q" in query:
        cond.append(Voucher.summary.ilike(_like(query["q"]), escape="\\"))
    if "number" in query:
        cond.append(Voucher.number.ilike(_like(query["number"]), escape="\\"))
    if "account" in query:
        ids = _with_descendants(book, query["account"])
        cond.append(
            Voucher.id.in_(sa.select(VoucherLine.voucher_id).where(VoucherLine.account_id.in_(ids)))
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(*cond))
    page, per_page = query["page"], query["per_page"]
    vouchers = db.session.scalars(
        sa.select(Voucher)
        .where(*cond)
        .order_by(Voucher.date, Voucher.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(selectinload(Voucher.lines), selectinload(Voucher.prepared_by))
    ).all()
    exps = _Exponents(book)
    return {
        "items": [_summary(v, exps) for v in vouchers],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


@blp.post(ORG + "/vouchers")
@_write
@blp.arguments(s.VoucherIn)
@blp.response(201, s.VoucherOut)
def create_voucher(data: dict, org_id: int):
    """Enter a draft voucher. Amounts are text in the line's unit ("1234.56")."""
    _org, user, book = _open(org_id, *svc.PREPARE_ROLES)
    voucher = svc.create_voucher(book, _voucher_input(book, data), actor=user, source="api")
    audit.note(voucher_id=voucher.id)
    return present_voucher(voucher)


@blp.get(VOUCHER)
@blp.response(200, s.VoucherOut)
def get_voucher(org_id: int, voucher_id: int):
    """One voucher with its lines and history."""
    _user, voucher = _voucher(org_id, voucher_id)
    return present_voucher(voucher)


@blp.put(VOUCHER)
@_write
@blp.arguments(s.VoucherIn)
@blp.response(200, s.VoucherOut)
def replace_voucher(data: dict, org_id: int, voucher_id: int):
    """Replace a draft's date, summary and lines. Submitted vouchers are rejected back first;
    posted ones never change (409)."""
    user, voucher = _voucher(org_id, voucher_id)
    reversal = voucher.kind == VoucherKind.REVERSAL
    svc.update_voucher(
        voucher, _voucher_input(voucher.book, data, allow_negative=reversal), actor=user
    )
    return present_voucher(voucher)


@blp.post(VOUCHER + "/submit")
@_write
@blp.response(200, s.VoucherOut)
def submit_voucher(org_id: int, voucher_id: int):
    """Submit a draft for review."""
    user, voucher = _voucher(org_id, voucher_id)
    return present_voucher(svc.submit_voucher(voucher, actor=user))


@blp.post(VOUCHER + "/approve")
@_write
@blp.response(200, s.VoucherOut)
def approve_voucher(org_id: int, voucher_id: int):
    """Approve a submitted voucher (审核). The preparer cannot approve their own."""
    user, voucher = _voucher(org_id, voucher_id)
    return present_voucher(svc.approve_voucher(voucher, actor=user))


@blp.post(VOUCHER + "/reject")
@_write
@blp.arguments(s.NoteIn)
@blp.response(200, s.VoucherOut)
def reject_voucher(data: dict, org_id: int, voucher_id: int):
    """Send a submitted or approved voucher back to draft, saying what to correct."""
    user, voucher = _voucher(org_id, voucher_id)
    return present_voucher(svc.reject_voucher(voucher, data["note"], actor=user))


@blp.post(VOUCHER + "/post")
@_write
@blp.response(200, s.VoucherOut)
def post_voucher(org_id: int, voucher_id: int):
    """Post an approved voucher (记账): it gets its number and never changes again."""
    user, voucher = _voucher(org_id, voucher_id)
    svc.post_voucher(voucher, actor=user)
    audit.note(number=voucher.number)
    return present_voucher(voucher, just_posted=True)


@blp.post(VOUCHER + "/discard")
@_write
@blp.arguments(s.NoteIn)
@blp.response(200, s.VoucherOut)
def discard_voucher(data: dict, org_id: int, voucher_id: int):
    """Discard an unposted voucher; it is kept with its history, never deleted."""
    user, voucher = _voucher(org_id, voucher_id)
    return present_voucher(svc.discard_voucher(voucher, actor=user, note=data["note"]))


@blp.post(VOUCHER + "/reverse")
@_write
@blp.arguments(s.ReverseIn)
@blp.response(201, s.VoucherOut)
def reverse_voucher(data: dict, org_id: int, voucher_id: int):
    """Draft a red reversal (红字冲销) of a posted voucher; review and post it like any other."""
    user, voucher = _voucher(org_id, voucher_id)
    reversal = svc.reverse_voucher(
        voucher, actor=user, date=data["date"], summary=data["summary"] or None
    )
    audit.note(reversal_id=reversal.id)
    return present_voucher(reversal)


# --- periods (会计期间) --------------------------------------------------------------------------


def _label(key: int | None) -> str | None:
    return None if key is None else str(Month.from_key(key))


def _month(year: int, month: int) -> Month:
    """The month of a ``/periods/<year>/<month>`` address: years 1900–9999, months 1–12."""
    try:
        return Month(year, month)
    except ValueError:
        raise InvalidInput(
            _l("No such month. Use YYYY-MM."), errors={"month": [str(_l("No such month."))]}
        ) from None


def _period_out(p: Period) -> dict:
    return {
        "year": p.year,
        "month": p.month,
        "label": p.label,
        "closed": p.closed,
        "voucher_count": p.voucher_count,
    }


@blp.get(ORG + "/periods")
@blp.response(200, s.PeriodsOut)
def list_periods(org_id: int):
    """Months that have postings, and the latest closed month."""
    _org, _user, book = _open(org_id)
    periods = db.session.scalars(
        sa.select(Period).where(Period.book_id == book.id).order_by(Period.year, Period.month)
    ).all()
    return {
        "closed_through": _label(book.closed_through),
        "periods": [_period_out(p) for p in periods],
    }


@blp.post(MONTH + "/close")
@_write
@blp.response(200, s.PeriodOut)
def close_period(org_id: int, year: int, month: int):
    """Close a month (结账): months close in order, with nothing unposted left in them."""
    _org, user, book = _open(org_id)
    m = _month(year, month)
    closable_month(book, m)
    return _period_out(svc.close_period(book, m.year, m.month, actor=user))


@blp.post(MONTH + "/reopen")
@_write
@blp.arguments(s.ReasonIn)
@blp.response(200, s.PeriodOut)
def reopen_period(data: dict, org_id: int, year: int, month: int):
    """Reopen the latest closed month (admins, with a reason kept in the history)."""
    _org, user, book = _open(org_id)
    m = _month(year, month)
    return _period_out(svc.reopen_period(book, m.year, m.month, data["reason"], actor=user))


@blp.post(ORG + "/year-end/<int(min=1, max=9999):year>")
@_write
@blp.response(201, s.VoucherOut(many=True))
def year_end_closing(org_id: int, year: int):
    """Generate and post the year-end closing entries (年末结转) of the book's standard."""
    _org, user, book = _open(org_id)
    year = parse.year(year)
    vouchers = svc.generate_year_end_closing(book, year, actor=user)
    audit.note(year=year, vouchers=[v.number for v in vouchers])
    return [present_voucher(v) for v in vouchers]


# --- reports (账簿与报表) ------------------------------------------------------------------------

# name → (needs a date range rather than an as-of date, takes a unit, takes an account)
REPORTS = {
    "trial_balance": (True, True, False),
    "balance_sheet": (False, False, False),
    "income_statement": (True, False, False),
    "cash_flow": (True, False, False),
    "general_ledger": (True, True, True),
    "account_detail": (True, True, True),
    "fund_statement": (True, True, False),
    "account_balances": (False, True, False),
}


def _run_report(name: str, book: Book, q: dict):
    """Call ``ledger.reports`` for ``name`` with the query's dates, fund, unit and account."""
    ranged, takes_unit, takes_account = REPORTS[name]
    today = dt.date.today()
    start, end, as_of = (
        q.get("start", today.replace(day=1)),
        q.get("end", today),
        q.get("as_of", today),
    )
    kw: dict = {"start": start, "end": end} if ranged else {"as_of": as_of}
    if "fund" in q:
        fund_id = db.session.scalar(
            sa.select(Fund.id).where(Fund.book_id == book.id, Fund.code == q["fund"])
        )
        if fund_id is None:
            raise InvalidInput(
                _l("No such fund in this book."),
                errors={"fund": [str(_l("No such fund in this book."))]},
            )
        kw["fund_id"] = fund_id
    if takes_unit and "unit" in q:
        kw["unit"] = q["unit"]
    account = None
    if takes_account and "account" in q:
        account = svc.account_by_code(book, q["account"])
        if account is None:
            raise InvalidInput(
                _l("No account %(code)s in this book.", code=q["account"]),
                errors={"account": [str(_l("No such account."))]},
            )
    if name == "trial_balance":
        return reports.trial_balance(book, **kw)
    if name == "balance_sheet":
        return reports.balance_sheet(book, **kw)
    if name == "income_statement":
        return reports.income_statement(book, **kw)
    if name == "cash_flow":
        if "fund_id" in kw:
            raise InvalidInput(
                _l("The cash-flow statement covers the whole book, not one fund."),
                errors={"fund": [str(_l("Not for this report."))]},
            )
        return reports.cash_flow_statement(book, **kw)
    if name == "general_ledger":
        return reports.general_ledger(book, account_ids=[account.id] if account else None, **kw)
    if name == "account_detail":
        if account is None:
            raise InvalidInput(_l("Choose an account."), errors={"account": [str(_l("Required."))]})
        return reports.account_detail(book, account, **kw)
    if name == "fund_statement":
        return reports.fund_statement(book, **kw)
    return reports.account_balances(book, **kw)


@blp.get(ORG + "/reports/<name>")
@blp.arguments(s.ReportQuery, location="query")
@blp.response(
    200,
    description=(
        "The report as JSON: amounts in minor units with unit and exponent. With format=csv: "
        "text/csv (UTF-8 with BOM), amounts as plain decimals in major units. With "
        "format=xlsx: a workbook, amounts as numbers. A big CSV or XLSX is answered 202 with "
        "a background job (status_url, then download_url)."
    ),
)
@blp.alt_response(202, description="A background job makes the file (big exports).")
def report(query: dict, org_id: int, name: str):
    """A report of the book: trial_balance, balance_sheet, income_statement, cash_flow
    (现金流量表; ``checks.every_cash_movement_classified`` is false while cash movements are
    unclassified), general_ledger, account_detail (needs ``account``), fund_statement or
    account_balances.

    Ranges default to this month so far (``start``, ``end``); balances to today (``as_of``).
    ``fund`` is a fund code, ``account`` an account code (its sub-accounts included)."""
    _org, _user, book = _open(org_id)
    key = name.replace("-", "_")
    if key not in REPORTS:
        raise NotFound(_l("No such report."))
    if query["format"] in ("csv", "xlsx"):
        return _export(_org, _user, book, key, query)
    result = _run_report(key, book, query)
    if query["format"] == "csv":
        ranged = REPORTS[key][0]
        today = dt.date.today()
        period = (
            f"{query.get('start', today.replace(day=1))}_{query.get('end', today)}"
            if ranged
            else str(query.get("as_of", today))
        )
        return csv_response(
            reports.to_csv_rows(result, lang="en" if _english() else "zh"), f"{key}_{period}.csv"
        )
    return reports.to_json(result)


EXPORT_JOB = "ledger.api_report_export"


def _export_file(book: Book, key: str, query: dict, lang: str) -> JobFile:
    result = _run_report(key, book, query)
    ranged = REPORTS[key][0]
    today = dt.date.today()
    period = (
        f"{query.get('start', today.replace(day=1))}_{query.get('end', today)}"
        if ranged
        else str(query.get("as_of", today))
    )
    if query["format"] == "xlsx":
        return JobFile(f"{key}_{period}.xlsx", XLSX_MIMETYPE, to_xlsx(result, lang, sheet=key))
    data = csv_text(reports.to_csv_rows(result, lang=lang)).encode()
    return JobFile(f"{key}_{period}.csv", "text/csv", data)


def _export_job(ctx: JobContext) -> JobFile:
    org = db.session.get(Organisation, ctx.params["org_id"])
    if org is None:
        raise NotFound()
    book = svc.book_for(org)
    ctx.progress(5)
    query = s.ReportQuery().load(ctx.params["query"])
    return _export_file(book, ctx.params["report"], query, ctx.params["lang"])


register_job_kind(EXPORT_JOB, _export_job)


def _export(org: Organisation, user: User, book: Book, key: str, query: dict):
    """CSV or XLSX: the file, or (big) 202 with the background job that makes it."""
    ranged, _unit, _account = REPORTS[key]
    today = dt.date.today()
    start, end = query.get("start", today.replace(day=1)), query.get("end", today)
    dates = [start, end] if ranged else [query.get("as_of", today)]
    account = svc.account_by_code(book, query["account"]) if "account" in query else None
    if "account" in query and account is None:
        raise InvalidInput(
            _l("No account %(code)s in this book.", code=query["account"]),
            errors={"account": [str(_l("No such account."))]},
        )
    if key == "account_detail" and account is None:
        raise InvalidInput(_l("Choose an account."), errors={"account": [str(_l("Required."))]})
    params = {
        "org_id": org.id,
        "report": key,
        "query": s.ReportQuery().dump(query),
        "lang": "en" if _english() else "zh",
        "dates": [d.isoformat() for d in dates],
    }
    size = export_size(book, key, start, end, account) if ranged else 0
    return run_or_queue(
        EXPORT_JOB,
        params,
        size=size,
        threshold=inline_max_lines(),
        organisation=org,
        user=user,
        book_id=book.id,
        api=True,
    )


class PdfQuery(Schema):
    period = fields.String(
        required=True, metadata={"description": "The month, YYYY-MM.", "example": "2025-03"}
    )
    voucher = s.Text(min_length=1, max_length=40, metadata={"description": "One voucher's number."})
    account = s.Text(min_length=1, max_length=200, metadata={"description": "Account code."})
    lang = fields.String(validate=validate.OneOf(["zh", "en"]), load_default="zh")


@blp.get(ORG + "/pdf/<name>")
@blp.arguments(PdfQuery, location="query")
@blp.response(
    200,
    description=(
        "A statement, book or voucher printout of one month as PDF: balance-sheet, "
        "income-statement, cash-flow, trial-balance, general-ledger, account-detail (needs "
        "account), fund-statement or voucher (all posted vouchers of the month, or one)."
    ),
)
def report_pdf(query: dict, org_id: int, name: str):
    """One month's statement as the PDF an auditor signs (ledger/pdf.py)."""
    from . import pdf as ledger_pdf

    _org, user, book = _open(org_id)
    if name not in ledger_pdf.PDF_STATEMENTS:
        raise NotFound(_l("No such report."))
    month = parse.month(query["period"], field="period")
    proof = ledger_pdf.latest_checkpoint(book)
    body = ledger_pdf.statement_pdf(
        book,
        name,
        month,
        voucher_number=query.get("voucher"),
        account_code=query.get("account"),
        lang=query["lang"],
        prepared_by=user,
    )
    audit.note(statement=name, period=str(month), log_size=proof.log_size, checkpoint=proof.size)
    return download(
        body,
        ledger_pdf.pdf_filename(book, name, str(month), query.get("voucher")),
        "application/pdf",
        private=True,
    )


__all__ = ["blp", "present_voucher"]
