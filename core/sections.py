# SPDX-License-Identifier: AGPL-3.0-or-later
"""Places where a domain adds to pages it does not own (DESIGN.md §3a: "public summaries plug
into the public pages the same way").

The public pages, the top bar and the book navigation belong to core, transparency and the
ledger; the domains (shareholders, points, funds, property_trust) sit above them and may not be
imported by them. So a domain appends a function here from its ``plugin.register``, and the page
asks each one in turn:

- ``PUBLIC_ORGANISATION``: ``fn(organisation) -> Markup | None``, a section of the organisation's
  public page (rendered by the domain from its own template; None when it has nothing to show).
  It runs for anonymous visitors: aggregates and consented names only (core.privacy).
- ``PUBLIC_COMMUNITY``: ``fn(community) -> Markup | None``, the same on the community's page.
- ``PERSONAL``: ``fn(user) -> list[(url, label)]``, links in the top bar for a signed-in person
  ("My shares", "My points", "My bills" …), usually only when the user is linked to a resident
  who has something there.

Each function is called inside the request; an exception in one is a bug (it is not hidden).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup

PUBLIC_ORGANISATION: list[Callable[[Any], Markup | None]] = []
PUBLIC_COMMUNITY: list[Callable[[Any], Markup | None]] = []
PERSONAL: list[Callable[[Any], list[tuple[str, str]]]] = []


def add_once(registry: list, item) -> None:
    """Append ``item`` to a module-level registry (these lists, ``ledger.nav.BOOK_LINKS``) unless
    it is there: ``create_app`` runs every domain's ``register_http`` for each app it builds, and
    a process may build several (the tests build dozens)."""
    if item not in registry:
        registry.append(item)


def public_sections(place: list[Callable[[Any], Markup | None]], subject) -> list[Markup]:
    out = []
    for fn in place:
        html = fn(subject)
        if html:
            out.append(Markup(html))
    return out


def register(app) -> None:
    """Jinja globals: ``public_organisation_sections(org)``, ``public_community_sections(c)``,
    ``personal_links()``."""
    from flask_login import current_user

    app.add_template_global(
        lambda org: public_sections(PUBLIC_ORGANISATION, org), "public_organisation_sections"
    )
    app.add_template_global(
        lambda community: public_sections(PUBLIC_COMMUNITY, community),
        "public_community_sections",
    )

    def personal_links() -> list[tuple[str, str]]:
        if not current_user.is_authenticated:
            return []
        return [link for fn in PERSONAL for link in fn(current_user)]

    app.add_template_global(personal_links, "personal_links")
