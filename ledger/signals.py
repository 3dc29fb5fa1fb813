"""The ledger's extension points (blinker signals): the layers above the ledger (transparency,
the domains) subscribe; the ledger never imports them (DESIGN.md §1, §3a).

Receivers run inside the caller's transaction. A receiver of ``period_reopening`` or
``period_closing`` refuses the step by raising a ``core.errors.DomainError``.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

book_created = _signals.signal(
    "book-created", doc="sender: the new Book, after its chart is loaded"
)
voucher_posted = _signals.signal(
    "voucher-posted",
    doc="sender: the Book; kwargs voucher_ids (in log order), source, actor",
)
voucher_posting = _signals.signal(
    "voucher-posting",
    doc="sender: the Book; kwargs voucher (approved, about to be posted), actor. A receiver "
    "refuses the posting by raising a core.errors.DomainError (e.g. a supervisor's hold)",
)
report_published = _signals.signal(
    "report-published",
    doc="sender: the Book; kwargs report_id, period_start, period_end (datetime.date), actor. "
    "Sent by the transparency layer when it has stored a disclosure report (inside the same "
    "transaction), so a domain can publish what belongs with the report (e.g. the property "
    "trust's monthly owners' statement) without importing transparency",
)
period_closing = _signals.signal(
    "period-closing", doc="sender: the Book; kwargs month (core.months.Month), actor"
)
period_reopening = _signals.signal(
    "period-reopening", doc="sender: the Book; kwargs month (core.months.Month), actor"
)
