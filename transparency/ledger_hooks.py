"""What transparency adds to the ledger's life cycle, through the ledger's signals
(``ledger.signals``): a book's organisation gets its signing key when the book is opened
(issue 4: "key created with the organisation"), and a month covered by a published report is
never reopened, since published reports never change."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import Conflict
from core.months import Month
from ledger import nav as ledger_nav
from ledger import signals

from .keys import ensure_key
from .models import DisclosureReport
from .receipts import RECEIPT_ROLES


def _key_with_book(book, **_kwargs) -> None:
    ensure_key(book.organisation)


def _refuse_reopening_published(book, *, month, **_kwargs) -> None:
    latest_end = db.session.scalar(
        sa.select(sa.func.max(DisclosureReport.period_end)).where(
            DisclosureReport.book_id == book.id
        )
    )
    if latest_end is not None and Month.of(latest_end) >= month:
        raise Conflict(
            _l(
                "A published report covers %(period)s, and published reports never change. "
                "Correct the mistake in the current month with a red reversal instead.",
                period=str(month),
            )
        )


def _published_reports(book) -> dict[int, list[tuple[str, str]]]:
    """The periods page links, for each month, the published reports that cover it (their
    public page and PDF), so an auditor finds what residents were shown."""
    out: dict[int, list[tuple[str, str]]] = {}
    reports = db.session.scalars(
        sa.select(DisclosureReport)
        .where(DisclosureReport.book_id == book.id)
        .order_by(DisclosureReport.id)
    )
    for r in reports:
        month, last = Month.of(r.period_start), Month.of(r.period_end)
        links = [
            (
                url_for("public.report", report_id=r.id),
                str(_l("Report %(period)s", period=r.label)),
            ),
            (url_for("public.report_pdf", report_id=r.id), "PDF"),
        ]
        while month <= last:
            out.setdefault(month.key, []).extend(links)
            month = month.next()
    return out


def install() -> None:
    # Strong references: these are module-level functions, connected once (blinker ignores
    # a second connect of the same receiver).
    signals.book_created.connect(_key_with_book, weak=False)
    signals.period_reopening.connect(_refuse_reopening_published, weak=False)
    # The voucher page offers a resident's receipt only to those who may fetch it.
    if _published_reports not in ledger_nav.MONTH_LINKS:
        ledger_nav.MONTH_LINKS.append(_published_reports)
    ledger_nav.EXTRA_RULES["receipt"] = lambda roles, org, v: bool(roles & set(RECEIPT_ROLES))
