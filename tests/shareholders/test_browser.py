"""A shareholder (a resident with a login) signs in, opens "My shares" and downloads their own
statement as a PDF, in headless Chromium; another shareholder's statement is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from core.auth import grant_role
from core.db import db
from ledger import services as lsvc
from shareholders import services as ssvc
from tests import factories
from tests.transparency.publicdata import pdf_text, requires_poppler

pytestmark = [pytest.mark.browser, requires_poppler]


def test_a_shareholder_downloads_their_statement(live_server, browser, tmp_path):
    server = live_server
    with server.app.app_context():
        org = factories.OrganisationFactory(name="宜邻居民服务有限公司")
        lsvc.create_book(org)
        admin = factories.UserFactory()
        grant_role(admin, org, "admin")
        me = factories.UserFactory(username="gudong1")
        mine = factories.ResidentFactory(community=org.community, name="胡玉兰", user_id=me.id)
        theirs = factories.ResidentFactory(community=org.community, name="冯丽华")
        ssvc.set_articles(org, registered_capital=100_000_00, actor=admin)
        ids = {}
        for r, amount in ((mine, 15_000_00), (theirs, 20_000_00)):
            sh = ssvc.add_shareholder(org, resident=r, actor=admin)
            ssvc.subscribe(
                org,
                sh,
                amount=amount,
                date=dt.date(2025, 3, 1),
                due_date=dt.date(2025, 9, 30),
                actor=admin,
            )
            ssvc.pay_in(org, sh, amount=amount, date=dt.date(2025, 3, 20), actor=admin)
            ids[r.name] = sh.id
        org_id = org.id
        db.session.commit()
        db.session.remove()

    page = browser.new_context(locale="zh-CN", accept_downloads=True).new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=username]", "gudong1")
    page.fill("input[name=password]", server.password)
    page.click("form button[type=submit].primary")
    page.wait_for_url(server.url + "/")
    page.goto(server.url + "/my/shares")
    assert "宜邻居民服务有限公司" in page.content()
    assert "¥15,000.00" in page.inner_text("body")
    assert "冯丽华" not in page.content()
    link = page.locator("a", has_text="对账单（PDF）").first
    href = link.get_attribute("href")
    assert href == f"/books/{org_id}/shareholders/{ids['胡玉兰']}/statement.pdf"
    resp = page.context.request.get(server.url + href)
    assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"
    text, fonts, _pages = pdf_text(resp.body(), tmp_path)
    assert "胡玉兰" in text and "15,000.00" in text and "股东对账单" in text
    assert "冯丽华" not in text
    other = page.context.request.get(
        server.url + f"/books/{org_id}/shareholders/{ids['冯丽华']}/statement.pdf"
    )
    assert other.status == 403
