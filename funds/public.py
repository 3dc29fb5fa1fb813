# SPDX-License-Identifier: AGPL-3.0-or-later
"""The community page's funds section: each fund's balance and the projects with their stage
(aggregates only; the project pages show vote counts and decision text, never voters)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from markupsafe import Markup

from core.db import db

from . import services as fs
from .models import CommunityFund, Project
from .views import labels


def community_section(community) -> Markup | None:
    """The funds for a community, on its public page."""
    return _section(
        sa.select(CommunityFund)
        .where(CommunityFund.beneficiary_community_id == community.id)
        .order_by(CommunityFund.id)
    )


def organisation_section(organisation) -> Markup | None:
    """The community funds a foundation holds in its books, on its public page and its
    reports ("what the money is for")."""
    from ledger.models import Book

    return _section(
        sa.select(CommunityFund)
        .join(Book, Book.id == CommunityFund.book_id)
        .where(Book.organisation_id == organisation.id)
        .order_by(CommunityFund.id)
    )


def _section(query) -> Markup | None:
    funds = list(db.session.scalars(query))
    if not funds:
        return None
    rows = []
    by_book: dict[int, list[CommunityFund]] = {}
    for cf in funds:
        by_book.setdefault(cf.book_id, []).append(cf)
    from ledger.models import Book

    balances: dict[int, int] = {}
    for book_id, group in by_book.items():
        pos = fs.positions(db.session.get_one(Book, book_id), [cf.fund_id for cf in group])
        balances.update({cf.id: pos[cf.fund_id].balance for cf in group})
    rows = [(cf, balances[cf.id]) for cf in funds]
    projects = list(
        db.session.scalars(
            sa.select(Project)
            .where(Project.cf_id.in_([cf.id for cf in funds]))
            .order_by(Project.id)
        )
    )
    return Markup(
        render_template("funds/_public_section.html", funds=rows, projects=projects, **labels())
    )
