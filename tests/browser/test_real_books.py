"""Real books from an empty database, in a browser (issue 17): the first platform admin sets
up, creates a community and an SME enterprise, invites a preparer and a reviewer; the preparer
enters the opening balances (期初余额), the reviewer approves and posts them; the first voucher
is entered, approved and posted; the trial balance then shows the openings.

Runs on the database of the suite's run: a SQLite file, or a fresh PostgreSQL database."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from core.db import db
from tests.browser.test_voucher_entry import watch_for_csp_errors

pytestmark = [pytest.mark.browser, pytest.mark.commits]

PASSWORDS = {
    "root": "copper kettle whistles 88",
    "cashier": "violet harbour lantern 52",
    "checker": "granite meadow sparrow 17",
}


@pytest.fixture
def empty_server(committing_app):
    """The app, served over HTTP, on a migrated database with nothing in it."""
    db.session.commit()
    db.session.remove()
    server = make_server("127.0.0.1", 0, committing_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _page(browser, problems: list[str]):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.on("dialog", lambda d: d.accept())  # the "are you sure?" of posting
    problems_here = watch_for_csp_errors(page)
    problems.append(problems_here)
    return page


def _log_in(page, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORDS[username])
    page.click("form button[type=submit].primary")
    expect(page).to_have_url(url + "/")


def _invite(admin, role: str, name: str) -> str:
    admin.fill("input[name=display_name]", name)
    admin.select_option("select[name=role]", role)
    admin.click("form:has(select[name=role]) button[type=submit]")
    return admin.inner_text("#invite-link").strip()


def _accept(page, link: str, username: str) -> None:
    page.goto(link)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORDS[username])
    page.fill("input[name=password2]", PASSWORDS[username])
    page.click("form button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/$"))


def _grid_cell(page, code: str, side: str):
    return page.locator(f"tr:has(input[name$='-account'][value='{code}']) input[data-side={side}]")


def test_a_community_starts_real_books_from_an_empty_database(empty_server, browser):
    url, seen = empty_server, []

    # 1. The first administrator, on the first-run page (the database has no user).
    admin = _page(browser, seen)
    admin.goto(url + "/setup")
    admin.fill("input[name=display_name]", "平台管理员")
    admin.fill("input[name=username]", "root")
    admin.fill("input[name=password]", PASSWORDS["root"])
    admin.fill("input[name=password2]", PASSWORDS["root"])
    admin.click("form button[type=submit].primary")
    admin.goto(url + "/login")
    if "/login" in admin.url:
        _log_in(admin, url, "root")

    # 2. A community, then an SME enterprise that keeps books from July.
    admin.goto(url + "/platform/communities")
    admin.fill("input[name=name]", "玉林北路社区")
    admin.fill("input[name=slug]", "yulin-beilu")
    admin.select_option("select[name=area_kind]", "urban")
    admin.click("form:has(select[name=area_kind]) button[type=submit]")
    admin.wait_for_url(re.compile(r".*/platform/communities/\d+$"))
    admin.fill("form:has(input[value=organisation]) input[name=name]", "玉林社区服务有限公司")
    admin.fill("form:has(input[value=organisation]) input[name=slug]", "yulin-enterprise")
    admin.select_option("select[name=kind]", "enterprise")
    admin.fill("input[name=first_month]", "2026-07")
    admin.click("form:has(input[value=organisation]) button[type=submit]")
    admin.wait_for_url(re.compile(r".*/orgs/\d+/people$"))
    org_id = int(re.search(r"/orgs/(\d+)/people", admin.url).group(1))

    # 3. Two invitations, each accepted by its person.
    cashier_link = _invite(admin, "preparer", "出纳 李红")
    checker_link = _invite(admin, "reviewer", "审核 张伟")
    cashier, checker = _page(browser, seen), _page(browser, seen)
    _accept(cashier, cashier_link, "cashier")
    _accept(checker, checker_link, "checker")

    # 4. Nothing posts before the openings: the preparer enters them in the grid.
    book = f"{url}/books/{org_id}"
    cashier.goto(book + "/opening")
    expect(cashier.locator(".opening-state")).to_contain_text("期初余额")
    cashier.fill("input[name=date]", "2026-07-01")
    _grid_cell(cashier, "1002", "debit").fill("50,000.00")
    _grid_cell(cashier, "1001", "debit").fill("1,200.50")
    _grid_cell(cashier, "3001", "credit").fill("51,200.50")
    expect(cashier.locator("#opening-totals")).to_contain_text("平衡")
    cashier.click("button[value=submit]")
    expect(cashier.locator(".flash-success")).to_be_visible()

    # 5. The reviewer approves and posts them, on the same grid.
    checker.goto(book + "/opening")
    checker.click("form[action$='/opening/approve'] button")
    expect(checker.locator(".flash-success")).to_be_visible()
    checker.click("form[action$='/opening/post'] button")
    expect(checker.locator(".opening-state")).to_contain_text("记-2026-07-0001")

    # 6. The first voucher: entered and submitted by the preparer ...
    cashier.goto(book + "/vouchers/new")
    expect(cashier.locator("#voucher-form")).to_have_attribute(
        "data-accounts-loaded", re.compile(".*")
    )
    cashier.fill("input[name=date]", "2026-07-15")
    cashier.fill("input[name=summary]", "支付七月水电费")
    accounts = cashier.locator("#lines-body input.account")
    accounts.nth(0).click()
    cashier.keyboard.type("5602")
    cashier.keyboard.press("Enter")
    cashier.keyboard.type("800")
    accounts.nth(1).click()
    cashier.keyboard.type("1002")
    cashier.keyboard.press("Enter")
    cashier.keyboard.press("Enter")
    cashier.keyboard.type("800")
    expect(cashier.locator("#difference")).not_to_have_class(re.compile(r"(^|\s)bad(\s|$)"))
    cashier.keyboard.press("Control+Shift+Enter")  # save and submit
    cashier.wait_for_url(re.compile(r".*/vouchers/\d+$"))
    voucher_url = cashier.url

    # ... approved and posted by the reviewer.
    checker.goto(voucher_url)
    checker.click("form[action$='/approve'] button")
    checker.click("form[action$='/post'] button")
    expect(checker.locator("main")).to_contain_text("记-2026-07-0002")

    # 7. The trial balance shows the openings brought forward and the month's movement.
    report = checker.request.get(
        book + "/reports/trial-balance?start=2026-07-01&end=2026-07-31&format=json"
    ).json()
    rows = {r["account"]["code"]: r for r in report["rows"]}
    assert report["balanced"]
    assert (rows["1002"]["debit"], rows["1002"]["credit"]) == (5_000_000, 80_000)
    assert rows["1001"]["debit"] == 120_050 and rows["3001"]["credit"] == 5_120_050
    assert rows["5602"]["debit"] == 80_000
    checker.goto(book + "/reports/trial-balance?start=2026-07-01&end=2026-07-31")
    expect(checker.locator("main")).to_contain_text("50,000.00")
    expect(checker.locator("main")).to_contain_text("51,200.50")
    assert [p for page_problems in seen for p in page_problems] == []
