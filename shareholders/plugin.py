# SPDX-License-Identifier: AGPL-3.0-or-later
"""How this domain plugs into the application (DESIGN.md §3a): core/app.py calls
``register(app, api)`` once. Register here this domain's blueprints and API blueprints, its
CLI group, its subscriptions to the ledger's signals, its links (ledger.nav.BOOK_LINKS) and its
public sections (core.sections); import its demo module so its ``@demo_step`` runs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


def register(app, api) -> None:
    from core import sections
    from ledger import nav

    from . import api as shareholders_api
    from . import cli, demo, models, public, views  # noqa: F401  (tables, demo step)

    app.register_blueprint(views.bp)
    api.register_blueprint(shareholders_api.blp)
    cli.register_cli(app)
    link = nav.BookLink(
        "shareholders.register", _l("Shareholders"), "read", ("SME_2011",), "shareholders."
    )
    if link not in nav.BOOK_LINKS:
        nav.BOOK_LINKS.append(link)
    if public.section not in sections.PUBLIC_ORGANISATION:
        sections.PUBLIC_ORGANISATION.append(public.section)
    if views.personal_links not in sections.PERSONAL:
        sections.PERSONAL.append(views.personal_links)
