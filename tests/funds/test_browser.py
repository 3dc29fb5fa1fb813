"""A resident on a phone follows a 社区保障资金 project from the community's public page to its
council decision (vote counts and text, no voters' names) and its spending."""

from __future__ import annotations

import datetime as dt
import os
import threading

import flask_migrate
import pytest
from werkzeug.serving import make_server

from core.db import db
from funds import services as fs
from ledger import services as ledger
from tests import factories
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import make_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
]


def _world(today: dt.date) -> tuple[str, int]:
    community = factories.CommunityFactory(name="望平社区", slug="wangping")
    org = factories.OrganisationFactory(
        community=community, kind="foundation", name="成华区社区发展基金会"
    )
    ledger.create_book(org)
    prep = factories.member(org, "preparer")
    council = fs.create_council(
        org,
        name="望平社区居民议事会",
        members=[(f"议事员{i}", dt.date(2025, 1, 1)) for i in range(9)],
        actor=prep,
    )
    pf = fs.create_community_fund(
        org,
        code="PF",
        name="社区保障资金",
        founder_type="COMMUNITY",
        purpose_tags=["public_services"],
        public_finance=True,
        actor=prep,
    )
    fs.record_allocation(
        pf,
        year=today.year,
        date=today,
        kind="urban",
        population=8000,
        population_basis="resident",
        part_hundreds="floor",
        actor=prep,
    )
    p = fs.create_project(
        pf,
        title="睦邻花园改造",
        start=today,
        end=today + dt.timedelta(days=90),
        proposed_by="社区党委",
        proposed_on=today,
        budget_fen=50_000_00,
        actor=prep,
    )
    vote = fs.record_resolution(
        org,
        body="council",
        council=council,
        project=p,
        meeting_date=today,
        present=8,
        votes_for=7,
        votes_against=1,
        votes_abstain=0,
        text="同意实施睦邻花园改造，预算五万元。",
        actor=prep,
    )
    fs.advance_project(p, to="voted", who="居民议事会", on=today, resolution=vote, actor=prep)
    fs.advance_project(p, to="implementation", who="居委会", on=today, actor=prep)
    fs.disburse(
        pf,
        amount=12_345_00,
        date=today,
        category_code="community_building",
        purpose="public_services",
        payee="花木公司",
        project=p,
        resolution=vote,
        actor=prep,
    )
    return community.slug, p.id


def test_resident_on_a_phone_follows_a_project(tmp_path):
    from playwright.sync_api import sync_playwright

    app = make_app("sqlite:///" + str(tmp_path / "b.sqlite3"), str(tmp_path / "instance"))
    with app.app_context():
        flask_migrate.upgrade()
        slug, project_id = _world(dt.date.today())
        db.session.commit()
        db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with sync_playwright() as pw:
                b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    ctx = b.new_context(
                        locale="zh-CN",
                        viewport={"width": 390, "height": 844},
                        is_mobile=True,
                        has_touch=True,
                        java_script_enabled=False,
                    )
                    page = ctx.new_page()
                    page.goto(f"http://127.0.0.1:{server.server_port}/public/c/{slug}")
                    section = page.locator("#community-funds")
                    assert "社区保障资金" in section.inner_text()
                    section.get_by_role("link", name="睦邻花园改造").tap()
                    page.wait_for_url(f"**/public/funds/p/{project_id}")
                    assert "③ 居委会组织实施" in page.locator("#project-stage").inner_text()
                    decision = page.locator("#decision").inner_text()
                    assert "应到 9 人，实到 8 人" in decision
                    assert "赞成 7、反对 1、弃权 0" in decision
                    assert "同意实施睦邻花园改造" in decision
                    assert "议事员" not in page.content()  # never a voter's name
                    spending = page.locator("#spending").inner_text()
                    assert "12,345.00" in spending and "50,000.00" in spending
                    assert "花木公司" not in spending
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= 390, width  # readable on the phone without scrolling sideways
                finally:
                    b.close()
        finally:
            server.shutdown()
            thread.join(timeout=10)
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
