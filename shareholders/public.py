# SPDX-License-Identifier: AGPL-3.0-or-later
"""The shareholders' section of an organisation's public page (core.sections): aggregates only
(number of shareholders, capital, the share held by residents and by organisations, dividends
paid per year) and the names of residents whose ``publish_name`` consent is in force on the day
the page is served (DOMAIN.md DP-3, DP-5)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from flask import render_template
from markupsafe import Markup

from core.models import Organisation

from . import services as svc


@dataclass
class PublicFigures:
    count: int
    capital: int
    paid_in: int
    resident_pct: str
    org_pct: str
    dividends: list[tuple[int, int]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def figures(org: Organisation, today: dt.date | None = None) -> PublicFigures | None:
    if svc.articles(org) is None:
        return None
    today = today or dt.date.today()
    hs = svc.holders(org, today)
    paid = sum(h.paid_in for h in hs)
    by_residents = sum(h.paid_in for h in hs if h.shareholder.is_person)
    per_year: dict[int, int] = defaultdict(int)
    for r in svc.dividends(org):
        for ln in r.lines:
            if ln.paid_on is not None:
                per_year[ln.paid_on.year] += ln.amount
    names = sorted(
        h.shareholder.resident.name
        for h in hs
        if h.shareholder.resident_id and svc.publish_name_in_force(h.shareholder.resident_id, today)
    )
    return PublicFigures(
        count=len(hs),
        capital=svc.registered_capital(org),
        paid_in=paid,
        resident_pct=f"{by_residents * 100 / paid:.1f}" if paid else "0.0",
        org_pct=f"{(paid - by_residents) * 100 / paid:.1f}" if paid else "0.0",
        dividends=sorted(per_year.items()),
        names=names,
    )


def section(org: Organisation) -> Markup | None:
    p = figures(org)
    if p is None:
        return None
    return Markup(render_template("shareholders/_public.html", p=p))
