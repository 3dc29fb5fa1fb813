"""What transparency adds to the ledger's life cycle, through the ledger's extension points:
a book's organisation gets its signing key when the book is opened (issue 4: "key created
with the organisation"), and a month covered by a published report is never reopened, since
published reports never change."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import Conflict
from ledger import nav as ledger_nav
from ledger import services as ledger_services

from .keys import ensure_key
from .models import DisclosureReport
from .receipts import RECEIPT_ROLES


def _key_with_book(book) -> None:
    ensure_key(book.organisation)


def _refuse_reopening_published(book, period_key: int) -> None:
    latest_end = db.session.scalar(
        sa.select(sa.func.max(DisclosureReport.period_end)).where(
            DisclosureReport.book_id == book.id
        )
    )
    if latest_end is not None and latest_end.year * 100 + latest_end.month >= period_key:
        raise Conflict(
            _l(
                "A published report covers %(period)s, and published reports never change. "
                "Correct the mistake in the current month with a red reversal instead.",
                period=f"{period_key // 100}-{period_key % 100:02d}",
            )
        )


def install() -> None:
    if _key_with_book not in ledger_services.BOOK_CREATED_HOOKS:
        ledger_services.BOOK_CREATED_HOOKS.append(_key_with_book)
    if _refuse_reopening_published not in ledger_services.REOPEN_GUARDS:
        ledger_services.REOPEN_GUARDS.append(_refuse_reopening_published)
    # The voucher page offers a resident's receipt only to those who may fetch it.
    ledger_nav.EXTRA_RULES["receipt"] = lambda roles, org, v: bool(roles & set(RECEIPT_ROLES))
