"""Browser test: an owner on a phone finds this month's owners' statement and a trust voucher
with its attachment (the real app over HTTP, headless Chromium)."""

from __future__ import annotations

import datetime as dt
import os
import threading

import flask_migrate
import pytest
from werkzeug.serving import make_server

from core.db import db
from core.months import Month
from ledger import attachments
from ledger import services as ledger
from ledger.models import Voucher
from property_trust import governance as gv
from property_trust import services as pt
from tests import factories
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import make_app
from tests.property_trust.conftest import make_trust

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
]

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4e90000000049454e44ae426082"
)


@pytest.fixture
def owner_server(tmp_path):
    app = make_app("sqlite:///" + str(tmp_path / "owner.sqlite3"), str(tmp_path / "instance"))
    with app.app_context():
        flask_migrate.upgrade()
        t = make_trust(factories.OrganisationFactory)
        month = Month.of(dt.date.today()).previous()
        prep, rev = t.people["preparer"], t.people["reviewer"]
        pt.bill_month(t.compound, month, actor=prep)
        pt.record_payment(
            t.compound, t.units[0], 22343, month.first_day.replace(day=10), actor=prep
        )
        vote = gv.record_vote(
            t.compound,
            "年度预算",
            "ordinary",
            month.first_day,
            voted_area="300",
            voted_owners=3,
            yes_area="200",
            yes_owners=2,
            actor=prep,
        )
        budget = gv.create_budget(
            t.compound, month.year, [("5103", "清洁", 100_000)], vote=vote, actor=prep
        )
        e = gv.prepare_expense(
            t.compound,
            account_code="5103",
            amount=12_000,
            day=month.first_day.replace(day=20),
            summary="清洁服务外包费",
            budget_line=budget.lines[0],
            actor=prep,
            submit=False,
        )
        v = db.session.get_one(Voucher, e.voucher_id)
        attachments.add_attachment(v, "清洁发票.png", "image/png", PNG, prep)
        ledger.submit_voucher(v, actor=prep)
        ledger.approve_voucher(v, actor=rev)
        ledger.post_voucher(v, actor=rev)
        owner = factories.UserFactory(username="owner1", display_name="业主一")
        t.owners[0].user_id = owner.id
        info = {"org_id": t.org.id, "month": month, "voucher": v.number, "other": t.owners[1].name}
        db.session.commit()
        db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", info
        finally:
            server.shutdown()
            thread.join(timeout=10)
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


def test_an_owner_on_a_phone_finds_the_statement_and_a_voucher_with_its_attachment(owner_server):
    from playwright.sync_api import sync_playwright

    url, info = owner_server
    month = info["month"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(
                locale="zh-CN",
                viewport={"width": 390, "height": 844},
                is_mobile=True,
                has_touch=True,
                accept_downloads=True,
            )
            page = ctx.new_page()
            page.goto(url + "/login")
            page.fill("input[name=username]", "owner1")
            page.fill("input[name=password]", factories.PASSWORD)
            page.click("button[type=submit]")
            page.click("text=我的物业费")
            assert page.locator("h1").inner_text().endswith("我的物业费")
            assert info["other"] not in page.content()
            page.click(f"text=业主月度报表 {month}")
            assert f"业主月度报表 {month}" in page.locator("h1").inner_text()
            assert "收缴率" in page.content()
            page.go_back()
            page.click(f"text={info['voucher']}")
            assert "清洁服务外包费" in page.content()
            with page.expect_download() as dl:
                page.click("text=清洁发票.png")
            path = dl.value.path()
            assert path is not None and open(path, "rb").read() == PNG
        finally:
            browser.close()
