"""What core announces to the layers above it (blinker signals, like ``ledger.signals``).

Core knows no domain (DESIGN.md §1): when a platform admin creates an organisation, core says
so, and the ledger (which subscribes) opens its book. A receiver returns what it made, so the
caller can show it (the CLI prints the new book's id)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the new Organisation (flushed); keyword: actor. Receivers return what they made.
organisation_created = _signals.signal("organisation-created")
