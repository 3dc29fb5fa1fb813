"""A treasurer who never touches the mouse: logs in, opens the book, enters, saves and submits a
voucher with the keyboard alone, and always sees where the focus is."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core.db import db
from ledger.models import Voucher
from tests.browser.test_voucher_entry import watch_for_csp_errors

pytestmark = pytest.mark.browser

FOCUS = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  return {
    tag: el.tagName, cls: el.className || "", name: el.getAttribute("name") || "",
    value: el.getAttribute("value") || "", href: el.getAttribute("href") || "",
    outline: s.outlineStyle === "none" ? 0 : parseFloat(s.outlineWidth),
    shadow: s.boxShadow !== "none",
    visible: el.getClientRects().length > 0,
  };
}"""


def tab_to(page, wanted, *, limit: int = 60) -> list[dict]:
    """Press Tab until ``wanted(focus)`` holds; every stop on the way must show its focus."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        f = page.evaluate(FOCUS)
        stops.append(f)
        assert f["visible"], f
        assert f["outline"] >= 2 or f["shadow"], f"no visible focus on {f}"
        assert "default-submit" not in f["cls"] and "remove-line" not in f["cls"], f
        if wanted(f):
            return stops
    raise AssertionError(f"never reached the target; stops: {stops}")


def test_a_voucher_entered_saved_and_submitted_without_the_mouse(live_server, browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_for_csp_errors(page)
    org = live_server.org_id

    # Log in: the cursor is already in the username field.
    page.goto(live_server.url + "/login")
    expect(page.locator("input[name=username]")).to_be_focused()
    page.keyboard.type(live_server.users["preparer"])
    page.keyboard.press("Tab")
    expect(page.locator("input[name=password]")).to_be_focused()
    page.keyboard.type(live_server.password)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")

    # To the book and its entry form, through the links.
    tab_to(page, lambda f: f["href"] == f"/books/{org}/")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/books/{org}/$"))
    stops = tab_to(page, lambda f: f["href"] == f"/books/{org}/vouchers/new")
    assert stops[0]["href"] == "#main", "the first Tab offers to skip the menus"
    page.keyboard.press("Enter")
    page.wait_for_selector("#voucher-form[data-accounts-loaded]", state="attached")

    # The cursor starts in the date; Enter walks through the fields.
    expect(page.locator("input[name=date]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("input[name=summary]")).to_be_focused()
    page.keyboard.type("支付三月保洁费")
    page.keyboard.press("Enter")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.keyboard.type("5602")
    page.keyboard.press("Enter")
    page.keyboard.type("800")
    for _ in range(3):  # credit, memo, line 2's account
        page.keyboard.press("Enter")
    page.keyboard.type("1002")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # → credit
    page.keyboard.press("=")  # the balancing amount
    expect(page.locator("#difference")).to_have_class(re.compile(r"\bok\b"))

    # Tab on to "Save and submit for review" (past the empty lines, the files and the other
    # buttons, never into a hidden control) and press it.
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["value"] == "submit")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/books/{org}/vouchers/\d+$"))
    expect(page.locator(".vp-status .status")).to_have_class(re.compile("status-submitted"))

    # The next one in one keystroke: Ctrl+Shift+Enter saves and submits.
    page.goto(f"{live_server.url}/books/{org}/vouchers/new")
    page.wait_for_selector("#voucher-form[data-accounts-loaded]", state="attached")
    page.keyboard.press("Enter")
    page.keyboard.type("支付四月保洁费")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("5602")
    page.keyboard.press("Enter")
    page.keyboard.type("900")
    for _ in range(3):
        page.keyboard.press("Enter")
    page.keyboard.type("1002")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.press("=")
    page.keyboard.press("Control+Shift+Enter")
    page.wait_for_url(re.compile(rf"/books/{org}/vouchers/\d+$"))
    assert not problems, problems

    with live_server.app.app_context():
        got = db.session.execute(
            sa.select(Voucher.summary, Voucher.status, Voucher.attachment_count).order_by(
                Voucher.id
            )
        ).all()
        assert [tuple(r) for r in got] == [
            ("支付三月保洁费", "submitted", 1),
            ("支付四月保洁费", "submitted", 0),
        ]
        lines = [
            (ln.account.code, ln.debit, ln.credit)
            for v in db.session.scalars(sa.select(Voucher).order_by(Voucher.id))
            for ln in v.lines
        ]
        assert lines == [
            ("5602", 80000, 0),
            ("1002", 0, 80000),
            ("5602", 90000, 0),
            ("1002", 0, 90000),
        ]
    context.close()
