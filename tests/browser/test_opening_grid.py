"""A treasurer types opening balances into the grid, sees the trial balance live, submits."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.db import db
from ledger.models import Voucher
from tests.browser.test_voucher_entry import log_in, watch_for_csp_errors

pytestmark = pytest.mark.browser


def cell(page, code: str, side: str):
    return page.locator(f"tr:has(input[name$='-account'][value='{code}']) input[data-side={side}]")


def test_openings_typed_in_the_grid_balance_live_and_are_submitted(live_server, browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_for_csp_errors(page)
    log_in(page, live_server, "preparer")
    page.goto(f"{live_server.url}/books/{live_server.org_id}/opening")
    page.fill("input[name=date]", "2026-07-01")

    cell(page, "1002", "debit").click()
    page.keyboard.type("1,234.56")
    totals = page.locator("#opening-totals tbody")
    assert "1234.56" in totals.inner_text() and "相差 1234.56" in totals.inner_text()
    # Enter moves down the debit column, as in a spreadsheet.
    page.keyboard.press("Enter")
    focused = page.evaluate("document.activeElement.getAttribute('data-side')")
    assert focused == "debit"

    cell(page, "3001", "credit").click()
    page.keyboard.type("1000")
    assert "相差 234.56" in totals.inner_text()
    cell(page, "5001", "credit").click()
    page.keyboard.type("300")
    cell(page, "5001", "debit").click()
    page.keyboard.type("65.44")  # year-to-date debits of a revenue account
    assert "平衡" in totals.inner_text()
    assert "#opening-totals tr.bad" not in page.content()

    # A bad amount is flagged at once (and the server would refuse it).
    cell(page, "1001", "debit").fill("1.234")
    assert page.locator("#opening-totals tr.bad").count() == 1
    cell(page, "1001", "debit").fill("")

    page.click("button[value=submit]")
    page.wait_for_selector(".flash-success")
    assert problems == []

    with live_server.app.app_context():
        v = db.session.scalar(sa.select(Voucher).where(Voucher.kind == "opening"))
        got = sorted((ln.account.code, ln.debit, ln.credit) for ln in v.lines)
        assert v.status == "submitted" and str(v.date) == "2026-07-01"
        assert got == [
            ("1002", 123_456, 0),
            ("3001", 0, 100_000),
            ("5001", 0, 30_000),
            ("5001", 6_544, 0),
        ]
        db.session.remove()

    # At phone width the page body does not scroll sideways; the grid scrolls in its box.
    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    wide = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert wide <= 0
    context.close()
