# SPDX-License-Identifier: AGPL-3.0-or-later
"""How this domain plugs into the application (DESIGN.md §3a): core/app.py calls
``register(app, api)`` once. Register here this domain's blueprints and API blueprints, its
CLI group, its subscriptions to the ledger's signals, its links (ledger.nav.BOOK_LINKS) and its
public sections (core.sections); import its demo module so its ``@demo_step`` runs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from . import models  # noqa: F401  (the tables, for migrations and the ORM)


def register(app, api) -> None:
    from core import sections
    from ledger import nav, signals
    from ledger.charts import NPO_STANDARDS

    from . import api as funds_api
    from . import cli, demo, public, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.public_bp)
    api.register_blueprint(funds_api.blp)
    cli.register(app)
    link = nav.BookLink("funds.dashboard", _l("Community funds"), "read", NPO_STANDARDS, "funds.")
    if link not in nav.BOOK_LINKS:
        nav.BOOK_LINKS.append(link)
    if public.community_section not in sections.PUBLIC_COMMUNITY:
        sections.PUBLIC_COMMUNITY.append(public.community_section)
    if public.organisation_section not in sections.PUBLIC_ORGANISATION:
        sections.PUBLIC_ORGANISATION.append(public.organisation_section)
    # A published disclosure report meets the fund disclosures due by its period end (CF-8).
    signals.report_published.connect(_report_published)
    assert demo.funds_demo  # registered with @demo_step(40) on import


def _report_published(book, *, period_end, **_kw) -> None:
    """Receiver of ``ledger.signals.report_published`` (a module-level function: blinker keeps
    only a weak reference to its receivers)."""
    from .services import on_report_published

    on_report_published(book, through=period_end)
