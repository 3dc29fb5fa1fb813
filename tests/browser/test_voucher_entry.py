"""A treasurer types a voucher with the keyboard in a real browser and it is stored exactly."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.db import db
from ledger.models import Voucher

pytestmark = pytest.mark.browser

DATE = "2026-03-05"


def log_in(page, server, role: str) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=username]", server.users[role])
    page.fill("input[name=password]", server.password)
    page.click("form button[type=submit].primary")
    page.wait_for_url(server.url + "/")


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
    page.wait_for_selector(
        "#voucher-form[data-accounts-loaded]", state="attached"
    )  # the lookup is ready

    page.fill("input[name=date]", DATE)
    page.click("input[name=summary]")
    page.keyboard.type("收到三月物业服务费")
    page.keyboard.press("Enter")  # → attachment count
    assert page.evaluate("document.activeElement.name") == "attachment_count"
    page.keyboard.type("2")
    page.keyboard.press("Enter")  # → first line's account

    accounts = page.locator("#lines-body input.account")
    debit = page.locator("#lines-body input.debit")
    credit = page.locator("#lines-body input.credit")
    diff = page.locator("#difference")

    # Line 1: type the code, Enter completes it to "code name" and moves to the debit cell.
    page.wait_for_selector("#lines-body input.account:focus")
    page.keyboard.type("1002")
    page.keyboard.press("Enter")
    assert accounts.nth(0).input_value().startswith("1002 ")
    assert page.evaluate("document.activeElement.classList.contains('debit')")
    page.keyboard.type("1,234.56")
    assert page.locator("#total-debit").text_content() == "1,234.56"
    assert "1,234.56" in diff.text_content() and "bad" in diff.get_attribute("class")
    for _ in range(3):  # credit, memo, next line's account
        page.keyboard.press("Enter")

    # Line 2: a credit that leaves 234.56 open.
    page.keyboard.type("5001")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("1000")
    assert page.locator("#total-credit").text_content() == "1,000.00"
    assert "234.56" in diff.text_content()
    page.keyboard.press("Enter")
    page.keyboard.type("现金部分")
    page.keyboard.press("Enter")

    # Line 3: "=" in the empty credit cell fills in exactly the balancing difference.
    page.keyboard.type("1001")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.press("=")
    assert credit.nth(2).input_value() == "234.56"
    assert page.locator("#total-credit").text_content() == "1,234.56"
    assert "ok" in diff.get_attribute("class") and "1,234.56" not in diff.text_content()

    # A mistyped amount is marked at once and left out of the totals.
    debit.nth(3).fill("12.345")
    assert "invalid" in debit.nth(3).get_attribute("class")
    assert page.locator("#total-debit").text_content() == "1,234.56"
    debit.nth(3).fill("")

    # Tab past the last line's last field adds a line and moves into it.
    rows_before = page.locator("#lines-body tr.line").count()
    page.locator("#lines-body input.memo").last.focus()
    page.keyboard.press("Tab")
    assert page.locator("#lines-body tr.line").count() == rows_before + 1
    assert page.evaluate("document.activeElement.classList.contains('account')")

    screenshots = Path(os.environ.get("LEDGER_SCREENSHOTS", str(tmp_path)))
    page.screenshot(path=str(screenshots / "voucher-entry-desktop.png"), full_page=True)

    page.keyboard.press("Control+Enter")  # save
    page.wait_for_url(re.compile(rf"/books/{live_server.org_id}/vouchers/\d+$"))
    assert "¥1,234.56" in page.locator("table.vp-lines tfoot").text_content()
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
    page.wait_for_selector(
        "html.js", state="attached"
    )  # (no wait_for_function: the CSP forbids eval)
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
