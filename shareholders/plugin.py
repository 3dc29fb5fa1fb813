# SPDX-License-Identifier: AGPL-3.0-or-later
"""How this domain plugs into the application (DESIGN.md §3a): core/app.py calls
``register(app, api)`` once. Register here this domain's blueprints and API blueprints, its
CLI group, its subscriptions to the ledger's signals, its links (ledger.nav.BOOK_LINKS) and its
public sections (core.sections); import its demo module so its ``@demo_step`` runs."""

from __future__ import annotations


def register(app, api) -> None:
    from . import models  # noqa: F401  (the tables)
