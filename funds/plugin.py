# SPDX-License-Identifier: AGPL-3.0-or-later
"""How this domain plugs into the application (DESIGN.md §3a, docs/architecture.md). core/app.py
calls ``register(app)`` for every app: import the tables, connect the receivers of the ledger's
signals, add the CLI group, import the demo module (its ``@demo_step``). It calls
``register_http(app, api)`` only for an app that answers requests (not for a ``flask`` command):
the blueprints and API blueprints, the links (ledger.nav.BOOK_LINKS) and the public sections
(core.sections). Nothing a command runs may depend on register_http."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from . import models  # noqa: F401  (the tables, for migrations and the ORM)


def register(app) -> None:
    from ledger import signals

    from . import cli, demo

    cli.register(app)
    # A published disclosure report meets the fund disclosures due by its period end (CF-8).
    signals.report_published.connect(_report_published)
    assert demo.funds_demo  # registered with @demo_step(40) on import


def register_http(app, api) -> None:
    from core import sections
    from ledger import nav
    from ledger.charts import NPO_STANDARDS

    from . import api as funds_api
    from . import public, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.public_bp)
    api.register_blueprint(funds_api.blp)
    sections.add_once(
        nav.BOOK_LINKS,
        nav.BookLink("funds.dashboard", _l("Community funds"), "read", NPO_STANDARDS, "funds."),
    )
    sections.add_once(sections.PUBLIC_COMMUNITY, public.community_section)
    sections.add_once(sections.PUBLIC_ORGANISATION, public.organisation_section)


def _report_published(book, *, period_end, **_kw) -> None:
    """Receiver of ``ledger.signals.report_published`` (a module-level function: blinker keeps
    only a weak reference to its receivers)."""
    from .services import on_report_published

    on_report_published(book, through=period_end)
