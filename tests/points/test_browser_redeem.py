"""The staff phone redemption page at 390 px in headless Chromium: find the resident by
masked name and the last 4 digits of the phone, pick the item, confirm — three taps."""

from __future__ import annotations

import pytest

from core.db import db
from points import services as svc
from tests.browser.conftest import browser, live_server  # noqa: F401  (fixtures)
from tests.points.conftest import build_world, credited

pytestmark = pytest.mark.browser


def test_three_taps_at_phone_width(live_server, browser):  # noqa: F811
    server = live_server
    with server.app.app_context():
        w = build_world("br", exchange=False)
        credited(w, [w.residents[1]], points=30)
        w.staff.username = "pointsdesk"
        org_id, rid, scheme_id = w.org.id, w.residents[1].id, w.service.id
        db.session.commit()
        db.session.remove()
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto(server.url + "/login")
    page.fill("input[name=username]", "pointsdesk")
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    page.goto(f"{server.url}/points/{org_id}/redeem")
    page.fill("input[name=name]", "李")
    page.fill("input[name=last4]", "0001")
    page.click("text=查找")
    # Tap 1: the resident, shown masked.
    page.click("text=李**")
    # Tap 2: the item.
    page.click("text=理发")
    assert "积分抵扣 ¥20.00；需付现金 ¥10.00。" in page.inner_text("main")
    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Tap 3: confirm.
    page.click("#confirm")
    page.wait_for_url(f"**/points/{org_id}/redeem")
    assert "已兑换 20 积分（¥20.00）；需付现金 ¥10.00。" in page.inner_text("main")
    with server.app.app_context():
        assert svc.balance(svc.get_scheme(scheme_id), rid) == 10
        db.session.remove()
