"""A treasurer types a voucher with the keyboard in a real browser and it is stored exactly."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core.db import db
from ledger.models import Voucher

pytestmark = pytest.mark.browser

DATE = "2026-03-05"


def has_class(name: str) -> re.Pattern:
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def log_in(page, server, role: str) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=username]", server.users[role])
    page.fill("input[name=password]", server.password)
    page.click("form button[type=submit].primary")
    expect(page).to_have_url(server.url + "/")


def watch_for_csp_errors(page) -> list[str]:
    problems: list[str] = []
    # Chromium asks for /favicon.ico by itself; every other failed load is a real problem.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def test_voucher_typed_with_the_keyboard_is_stored_exactly(live_server, browser, tmp_path):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_for_csp_errors(page)
    log_in(page, live_server, "preparer")

    # From the home page to the book, then to a new voucher.
    page.click(f"a[href='/books/{live_server.org_id}/']")
    page.click(f"nav.booknav a[href='/books/{live_server.org_id}/vouchers/new']")
    # The account lookup is ready.
    expect(page.locator("#voucher-form")).to_have_attribute(
        "data-accounts-loaded", re.compile(".*")
    )

    page.fill("input[name=date]", DATE)
    page.click("input[name=summary]")
    page.keyboard.type("收到三月物业服务费")
    page.keyboard.press("Enter")  # → attachment count
    expect(page.locator("input[name=attachment_count]")).to_be_focused()
    page.keyboard.type("2")
    page.keyboard.press("Enter")  # → first line's account

    accounts = page.locator("#lines-body input.account")
    debit = page.locator("#lines-body input.debit")
    credit = page.locator("#lines-body input.credit")
    diff = page.locator("#difference")
    total_debit, total_credit = page.locator("#total-debit"), page.locator("#total-credit")

    # Line 1: type the code, Enter completes it to "code name" and moves to the debit cell.
    expect(accounts.nth(0)).to_be_focused()
    page.keyboard.type("1002")
    page.keyboard.press("Enter")
    expect(accounts.nth(0)).to_have_value(re.compile(r"^1002 "))
    expect(debit.nth(0)).to_be_focused()
    page.keyboard.type("1,234.56")
    expect(total_debit).to_have_text("1,234.56")
    expect(diff).to_contain_text("1,234.56")
    expect(diff).to_have_class(has_class("bad"))
    for _ in range(3):  # credit, memo, next line's account
        page.keyboard.press("Enter")

    # Line 2: a credit that leaves 234.56 open.
    page.keyboard.type("5001")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("1000")
    expect(total_credit).to_have_text("1,000.00")
    expect(diff).to_contain_text("234.56")
    page.keyboard.press("Enter")
    page.keyboard.type("现金部分")
    page.keyboard.press("Enter")

    # Line 3: "=" in the empty credit cell fills in exactly the balancing difference.
    page.keyboard.type("1001")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.press("=")
    expect(credit.nth(2)).to_have_value("234.56")
    expect(total_credit).to_have_text("1,234.56")
    expect(diff).to_have_class(has_class("ok"))
    expect(diff).not_to_contain_text("1,234.56")

    # A mistyped amount is marked at once and left out of the totals.
    debit.nth(3).fill("12.345")
    expect(debit.nth(3)).to_have_class(has_class("invalid"))
    expect(total_debit).to_have_text("1,234.56")
    debit.nth(3).fill("")

    # Tab past an empty last line leaves the table (to the files and buttons)...
    rows_before = page.locator("#lines-body tr.line").count()
    memo = page.locator("#lines-body input.memo").nth(rows_before - 1)
    memo.focus()
    page.keyboard.press("Tab")
    assert page.locator("#lines-body tr.line").count() == rows_before
    expect(page.locator("input[type=file][name=files]")).to_be_focused()
    # ... and past a last line that holds something, it adds a line and moves into it.
    memo.fill("备注")
    memo.focus()
    page.keyboard.press("Tab")
    assert page.locator("#lines-body tr.line").count() == rows_before + 1
    expect(page.locator("#lines-body input.account").last).to_be_focused()
    memo.fill("")

    screenshots = Path(os.environ.get("LEDGER_SCREENSHOTS", str(tmp_path)))
    page.screenshot(path=str(screenshots / "voucher-entry-desktop.png"), full_page=True)

    page.keyboard.press("Control+Enter")  # save
    expect(page).to_have_url(re.compile(rf"/books/{live_server.org_id}/vouchers/\d+$"))
    expect(page.locator("table.vp-lines tfoot")).to_contain_text("¥1,234.56")
    assert not problems, problems

    with live_server.app.app_context():
        v = db.session.scalars(sa.select(Voucher)).one()
        assert (v.date, v.summary, v.status, v.attachment_count) == (
            dt.date(2026, 3, 5),
            "收到三月物业服务费",
            "draft",
            2,
        )
        assert [(ln.account.code, ln.debit, ln.credit, ln.memo) for ln in v.lines] == [
            ("1002", 123456, 0, ""),
            ("5001", 0, 100000, "现金部分"),
            ("1001", 0, 23456, ""),
        ]
    context.close()


def test_entry_page_fits_a_phone(live_server, browser, tmp_path):
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        device_scale_factor=2,
        has_touch=True,
    )
    page = context.new_page()
    problems = watch_for_csp_errors(page)
    log_in(page, live_server, "preparer")
    page.goto(f"{live_server.url}/books/{live_server.org_id}/vouchers/new")
    expect(page.locator("html")).to_have_class(has_class("js"))  # the page's script has run
    page.locator("#lines-body input.account").first.fill("1002")
    page.locator("#lines-body input.debit").first.fill("88")
    # Nothing is wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("#lines-body input.debit").first.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    screenshots = Path(os.environ.get("LEDGER_SCREENSHOTS", str(tmp_path)))
    page.screenshot(path=str(screenshots / "voucher-entry-phone.png"), full_page=True)
    assert not problems, problems
    context.close()


def open_new_voucher(page, server) -> None:
    log_in(page, server, "preparer")
    page.goto(f"{server.url}/books/{server.org_id}/vouchers/new")
    page.wait_for_selector("#voucher-form[data-accounts-loaded]", state="attached")


def test_an_ambiguous_account_name_stops_enter_until_one_is_chosen(live_server, browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_for_csp_errors(page)
    open_new_voucher(page, live_server)
    account = page.locator("#lines-body input.account").first
    debit = page.locator("#lines-body input.debit").first

    account.focus()
    page.keyboard.type("费用")  # 销售费用, 管理费用, 财务费用, 制造费用 …
    page.keyboard.press("Enter")
    expect(account).to_be_focused()  # Enter did not move on
    expect(account).to_have_value("费用")
    expect(account).to_have_attribute("aria-invalid", "true")
    choices = page.locator("#lines-body .account-choices [role=option]")
    expect(choices.first).to_be_visible()
    labels = choices.all_text_contents()
    assert len(labels) > 1 and all("费用" in label for label in labels), labels
    message = page.locator("#lines-body .account-msg").first
    expect(message).to_be_visible()
    expect(message).to_contain_text("费用")
    expect(message).to_contain_text(f"{len(labels)} 个科目")  # why, in the page's language
    page.keyboard.press("Enter")  # a second Enter does not guess: nothing is highlighted yet
    expect(account).to_be_focused()
    expect(account).to_have_value("费用")
    page.keyboard.press("ArrowDown")  # the first choice
    page.keyboard.press("Enter")
    expect(account).to_have_value(labels[0])
    expect(debit).to_be_focused()

    # Typing more narrows the list; the arrows move the highlight; Enter takes it.
    account.fill("")
    account.focus()
    page.keyboard.type("费用")
    page.keyboard.press("Enter")
    page.keyboard.type("管理")  # "费用管理" matches nothing: the list closes, Enter still stops
    page.keyboard.press("Enter")
    expect(account).to_be_focused()
    expect(page.locator("#lines-body .account-msg").first).to_contain_text("没有这个")
    account.fill("费用")
    page.keyboard.press("Enter")
    expect(account).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(account).to_have_value(labels[1])
    expect(account).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lines-body .account-choices")).to_have_count(0)
    expect(debit).to_be_focused()

    # A code or a unique name still completes at once.
    second = page.locator("#lines-body input.account").nth(1)
    second.focus()
    page.keyboard.type("管理费用")
    page.keyboard.press("Enter")
    expect(second).to_have_value(re.compile(r"^5602 管理费用$"))
    assert not problems, problems
    context.close()


@pytest.mark.parametrize("bad", ["12.345", "1,2", "abc", "１２", "1.2.3", "12,34.5"])
def test_an_invalid_amount_keeps_the_difference_from_turning_green(live_server, browser, bad):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_for_csp_errors(page)
    open_new_voucher(page, live_server)
    accounts = page.locator("#lines-body input.account")
    debit = page.locator("#lines-body input.debit")
    credit = page.locator("#lines-body input.credit")
    diff = page.locator("#difference")

    accounts.nth(0).fill("1002")
    debit.nth(0).fill("1,000.00")
    accounts.nth(1).fill("5001")
    credit.nth(1).fill("1000")
    expect(diff).to_have_class(re.compile(r"\bok\b"))

    accounts.nth(2).fill("1001")
    debit.nth(2).fill(bad)  # line 3 holds something that is not an amount
    expect(diff).not_to_have_class(re.compile(r"\bok\b"))
    expect(diff).to_have_class(re.compile(r"\bbad\b"))
    expect(diff).to_contain_text("3")
    expect(diff).not_to_contain_text("平衡")
    expect(debit.nth(2)).to_have_attribute("aria-invalid", "true")
    assert page.locator("#total-debit").text_content() == "1,000.00"

    credit.nth(3).fill(bad)  # and line 4: both are named
    expect(diff).to_contain_text("3, 4")

    debit.nth(2).fill("")
    credit.nth(3).fill("")
    expect(diff).to_have_class(re.compile(r"\bok\b"))
    assert not problems, problems
    context.close()


def test_a_form_sent_back_with_errors_puts_the_cursor_on_the_first_wrong_field(
    live_server, browser
):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    open_new_voucher(page, live_server)
    page.fill("input[name=summary]", "测试")
    page.locator("#lines-body input.account").nth(0).fill("1002")
    page.locator("#lines-body input.debit").nth(0).fill("10")
    page.locator("#lines-body input.account").nth(1).fill("9999")  # no such account
    page.locator("#lines-body input.credit").nth(1).fill("10")
    page.locator("#lines-body input.credit").nth(1).focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#lines-body .field-error")
    expect(page.locator("#lines-body input.account").nth(1)).to_be_focused()
    context.close()
