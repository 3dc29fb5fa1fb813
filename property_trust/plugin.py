# SPDX-License-Identifier: AGPL-3.0-or-later
"""How this domain plugs into the application (DESIGN.md §3a, docs/architecture.md). core/app.py
calls ``register(app)`` for every app: import the tables, connect the receivers of the ledger's
signals, add the CLI group, import the demo module (its ``@demo_step``). It calls
``register_http(app, api)`` only for an app that answers requests (not for a ``flask`` command):
the blueprints and API blueprints, the links (ledger.nav.BOOK_LINKS) and the public sections
(core.sections). Nothing a command runs may depend on register_http."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

_installed = False


def public_section(organisation) -> Markup | None:
    """Aggregate arrears and the collection rate on the organisation's public page (TP-16)."""
    from flask import render_template

    from . import services as pt
    from .access import compound_of

    compound = compound_of(organisation)
    if compound is None:
        return None
    from .statement import published

    a = pt.ageing(compound, dt.date.today())
    return Markup(
        render_template(
            "property_trust/public_section.html",
            compound=compound,
            org=organisation,
            a=a,
            yuan=pt.yuan,
            statements=published(compound, 12),
        )
    )


def personal_links(user) -> list[tuple[str, str]]:
    """ "My property fees" for a signed-in owner."""
    import sqlalchemy as sa
    from flask import url_for

    from core.db import db
    from core.models import Resident

    from .models import Compound, Unit, UnitOwner

    rows = db.session.execute(
        sa.select(Compound.organisation_id)
        .join(Unit, Unit.compound_id == Compound.id)
        .join(UnitOwner, UnitOwner.unit_id == Unit.id)
        .join(Resident, Resident.id == UnitOwner.resident_id)
        .where(Resident.user_id == user.id, UnitOwner.role == "owner")
        .distinct()
    ).scalars()
    return [(url_for("property.mine", org_id=o), str(_l("My property fees"))) for o in rows]


def register(app) -> None:
    global _installed
    from ledger import signals

    from . import cli, demo, governance, models, statement  # noqa: F401

    app.cli.add_command(cli.group)
    if not _installed:  # module-level registries: once per process, not per create_app
        governance.install()
        # The month's owners' statement is frozen when the book's disclosure report is published.
        signals.report_published.connect(statement.publish_statements)
        _installed = True


def register_http(app, api) -> None:
    from core import sections
    from ledger.nav import BOOK_LINKS, BookLink

    from . import api as property_api
    from . import pages, views  # noqa: F401  (the pages' routes)

    app.register_blueprint(views.bp)
    api.register_blueprint(property_api.blp)
    sections.add_once(
        BOOK_LINKS, BookLink("property.dashboard", _l("Property trust"), "read", ("TRUST_FUND",))
    )
    sections.add_once(sections.PUBLIC_ORGANISATION, public_section)
    sections.add_once(sections.PERSONAL, personal_links)
