# SPDX-License-Identifier: AGPL-3.0-or-later
"""How this domain plugs into the application (DESIGN.md §3a, docs/architecture.md). core/app.py
calls ``register(app)`` for every app: import the tables, connect the receivers of the ledger's
signals, add the CLI group, import the demo module (its ``@demo_step``). It calls
``register_http(app, api)`` only for an app that answers requests (not for a ``flask`` command):
the blueprints and API blueprints, the links (ledger.nav.BOOK_LINKS) and the public sections
(core.sections). Nothing a command runs may depend on register_http."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


def register(app) -> None:
    from . import demo, models  # noqa: F401  (tables, the demo step)
    from .cli import points_cli

    app.cli.add_command(points_cli)


def register_http(app, api) -> None:
    from core import sections
    from ledger import nav

    from . import desk  # noqa: F401  (the desk's routes)
    from .api import blp
    from .views import bp, personal_links, public_section

    app.register_blueprint(bp)
    api.register_blueprint(blp)
    sections.add_once(sections.PERSONAL, personal_links)
    sections.add_once(sections.PUBLIC_ORGANISATION, public_section)
    sections.add_once(
        nav.BOOK_LINKS,
        nav.BookLink("points.home", _l("Points"), standards=("SME_2011", "NPO_2004", "NPO_2024")),
    )
