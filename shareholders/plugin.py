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
    from . import cli, demo, models  # noqa: F401  (tables, demo step)

    cli.register_cli(app)


def register_http(app, api) -> None:
    from core import sections
    from ledger import nav

    from . import api as shareholders_api
    from . import public, views

    app.register_blueprint(views.bp)
    api.register_blueprint(shareholders_api.blp)
    sections.add_once(
        nav.BOOK_LINKS,
        nav.BookLink(
            "shareholders.register", _l("Shareholders"), "read", ("SME_2011",), "shareholders."
        ),
    )
    sections.add_once(sections.PUBLIC_ORGANISATION, public.section)
    sections.add_once(sections.PERSONAL, views.personal_links)
