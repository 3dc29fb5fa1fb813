"""Which dates a ledger page or API answer shows, for the auditor's date range
(core.auditor_access): reports by their period, vouchers and attachments by the voucher's
date, voucher lists by their date filter (required of a limited auditor). The book's log size
(the tree size the figures come from) goes into each of an auditor's audit events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import auditor_access, parse
from core.db import db
from core.models import Organisation, Role

from . import nav
from .models import Book, Voucher

_AS_OF = frozenset({"balance-sheet", "account-balances"})


def _day(args: Mapping, name: str) -> dt.date | None:
    return parse.optional_date(args.get(name), field=name)


def report_dates(view_args: Mapping, args: Mapping) -> list[dt.date]:
    """The dates a report reads, defaults included (this month so far; as of today)."""
    name = str(view_args.get("name", "")).replace("_", "-")
    today = dt.date.today()
    if name in _AS_OF:
        return [_day(args, "as_of") or today]
    first, last = today.replace(day=1), today
    if args.get("month", "").strip():
        month = parse.month(args.get("month"), field="month")
        first, last = month.first_day, month.last_day
    return [_day(args, "start") or first, _day(args, "end") or last]


def voucher_dates(view_args: Mapping, _args: Mapping) -> list[dt.date]:
    day = db.session.scalar(
        sa.select(Voucher.date)
        .join(Book, Book.id == Voucher.book_id)
        .where(
            Voucher.id == view_args.get("voucher_id"), Book.organisation_id == view_args["org_id"]
        )
    )
    return [day] if day is not None else []


def list_dates(_view_args: Mapping, args: Mapping) -> list[dt.date] | None:
    """A voucher list shows every date unless filtered: a limited auditor must filter."""
    start, end = _day(args, "date_from"), _day(args, "date_to")
    return [start, end] if start and end else None


def _unbounded(_view_args: Mapping, _args: Mapping) -> None:
    return None


def tree_size(org: Organisation) -> dict:
    row = db.session.execute(
        sa.select(Book.id, Book.log_size).where(Book.organisation_id == org.id)
    ).first()
    return {"book_id": row.id, "tree_size": row.log_size} if row else {}


for endpoint in ("ledger.report", "ledger_api.report"):
    auditor_access.register_dates(endpoint, report_dates)
for endpoint in (
    "ledger.voucher",
    "ledger.download_attachment",
    "ledger_api.get_voucher",
):
    auditor_access.register_dates(endpoint, voucher_dates)
for endpoint in ("ledger.vouchers", "ledger_api.list_vouchers"):
    auditor_access.register_dates(endpoint, list_dates)
auditor_access.register_dates("ledger.review", _unbounded)
auditor_access.register_detail(tree_size)

# The admin's page of auditor grants, in the book's navigation.
nav.EXTRA_RULES["manage_auditors"] = lambda roles, _org, _subject: Role.ADMIN.value in roles
nav.BOOK_LINKS.append(
    nav.BookLink(
        "auditor_access.grants",
        _l("Auditor access"),
        action="manage_auditors",
        current_prefix="auditor_access.",
    )
)
