"""PII crawl of the public pages with the demo's 300-unit compound loaded: no owner's name
(full or masked), phone (full or masked), unit or unit number shows anywhere public, while the
compound's aggregate arrears section does."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.crypto import mask_name, mask_phone
from core.db import db
from core.demo import load_demo
from property_trust import services as pt
from property_trust.models import Unit, UnitOwner
from tests.transparency import test_privacy_crawl as base
from tests.transparency.publicdata import requires_poppler

pytestmark = [pytest.mark.slow, requires_poppler]


def owner_strings() -> dict[str, str]:
    out: dict[str, str] = {}
    rows = db.session.execute(
        sa.select(Unit, UnitOwner.resident_id).join(UnitOwner, UnitOwner.unit_id == Unit.id)
    ).all()
    from core.models import Resident

    residents = {
        r.id: r
        for r in db.session.scalars(
            sa.select(Resident).where(Resident.id.in_([rid for _u, rid in rows]))
        )
    }
    for unit, rid in rows:
        r = residents[rid]
        who = f"owner of {pt.unit_label(unit)}"
        for value, what in (
            (r.name, "name"),
            (mask_name(r.name), "masked name"),
            (r.phone, "phone"),
            (mask_phone(r.phone), "masked phone"),
            (r.unit, "unit"),
            ("-".join(re.findall(r"\d+", r.unit or "")), "unit"),
            (pt.unit_label(unit), "unit"),
        ):
            if value and len(value) >= 2:
                out[value] = f"{who}: {what}"
    return out


def test_no_public_page_shows_an_owner(app, tmp_path, monkeypatch):
    ctx = load_demo()
    db.session.commit()
    forbidden = {**base.forbidden_strings(), **owner_strings()}
    assert len(forbidden) > 1500
    monkeypatch.setattr(base, "forbidden_strings", lambda: forbidden)
    result = base.crawl(app, tmp_path)
    assert result.leaks == []
    assert result.refused == []
    # the compound's public section was on a crawled page: aggregates only
    org_pages = [u for u in result.seen if u.startswith("/public/o/")]
    client = app.test_client()
    shown = [client.get(u).get_data(as_text=True) for u in org_pages]
    assert any("玉林北路示范小区" in page and "收缴率" in page for page in shown), org_pages
    # the owners' statements published with the reports: linked from the public page, open
    # without a login, and naming no owner either
    published = sorted(u for u in result.outside if "/published/" in u)
    assert len(published) >= 6, sorted(result.outside)
    for url in published:
        one = base.crawl(app, tmp_path, start=url, follow=False)
        assert one.leaks == [] and one.refused == [], url
    assert ctx.community.slug
