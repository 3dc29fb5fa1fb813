"""PII crawl of the public pages with the shareholders' demo loaded (issue 10, Proof): no
shareholder's name, full or masked, appears on any public page, except the one resident whose
publish_name consent for the register is in force, and only while it is."""

from __future__ import annotations

import pytest

from core.crypto import mask_name
from core.db import db
from core.models import ResidentConsent
from shareholders import services as ssvc
from shareholders.models import Shareholder
from tests.transparency import test_privacy_crawl as crawler
from tests.transparency.publicdata import requires_poppler

pytestmark = [pytest.mark.slow, requires_poppler]


def _names(org) -> dict[str, str]:
    out = {}
    for sh in ssvc.shareholders(org):
        if sh.resident_id:
            out[sh.resident.name] = f"shareholder {sh.id}: name"
            out[mask_name(sh.resident.name)] = f"shareholder {sh.id}: masked name"
    return out


def test_public_pages_name_only_consenting_shareholders(app, tmp_path, monkeypatch):
    ctx = crawler.load_demo()
    db.session.commit()
    org = db.session.query(Shareholder).first().organisation
    consented = "周淑芬"
    names = _names(org)
    assert len({v.split(":")[0] for v in names.values()}) >= 28
    others = {k: v for k, v in names.items() if consented not in k and k != mask_name(consented)}
    forbidden = {**crawler.forbidden_strings(), **others}
    monkeypatch.setattr(crawler, "forbidden_strings", lambda: forbidden)
    result = crawler.crawl(app, tmp_path)
    assert f"/public/o/{org.id}" in result.seen
    assert result.leaks == []
    page = app.test_client().get(f"/public/o/{org.id}").get_data(as_text=True)
    assert consented in page and "28" in page
    # Withdrawn: gone from the next page served.
    person = next(
        sh.resident
        for sh in ssvc.shareholders(org)
        if sh.resident_id and sh.resident.name == consented
    )
    db.session.add(
        ResidentConsent(
            community_id=ctx.community.id,
            resident_id=person.id,
            kind="publish_name",
            action="withdraw",
            scope="股东名册公示",
        )
    )
    db.session.commit()
    assert consented not in app.test_client().get(f"/public/o/{org.id}").get_data(as_text=True)
