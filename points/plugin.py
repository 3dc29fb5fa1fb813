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

    from . import demo, desk, models  # noqa: F401  (tables, the demo step, the desk's routes)
    from .api import blp
    from .cli import points_cli
    from .views import bp, personal_links, public_section

    app.register_blueprint(bp)
    api.register_blueprint(blp)
    app.cli.add_command(points_cli)
    sections.PERSONAL.append(personal_links)
    sections.PUBLIC_ORGANISATION.append(public_section)
    nav.BOOK_LINKS.append(
        nav.BookLink("points.home", _l("Points"), standards=("SME_2011", "NPO_2004", "NPO_2024"))
    )
