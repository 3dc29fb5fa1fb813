"""The residents' public site in headless Chromium, on the demo data (issue 14 items 1, 4, 7).

Every public page (the community, organisation, "how to check", report, glossary and domain
pages, the verifier and "check my receipt") at 320 px: the page never scrolls sideways (tables
scroll inside themselves) and weighs under 200 KB with its assets. A report answers "in, out,
left, is this checked?" in the first screen of a 390 px phone. The pages work without
JavaScript (the glossary opens on tap). A receipt's QR link opens "check my receipt" with the
receipt in the fragment, which never reaches the server; a tampered receipt fails visibly.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from werkzeug.serving import make_server

from core.db import db
from core.demo import load_demo
from core.models import Resident
from ledger.models import Voucher, VoucherLine
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import make_app
from transparency import receipts

pytestmark = pytest.mark.browser

PAGE_BUDGET = 200 * 1024  # bytes, the page and every asset it loads (issue 14 item 7)
CHECK_TIMEOUT = 30_000  # ms
_LINK = re.compile(r'href="(/[^"#]*)"')


def shot(page, tmp_path, name: str) -> None:
    folder = Path(os.environ.get("LEDGER_SCREENSHOTS", str(tmp_path)))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo (every domain, published reports) served over HTTP; also a receipt of a
    demo resident's payment, as the receipt page would give it."""
    tmp = tmp_path_factory.mktemp("public-site")
    app = make_app("sqlite:///" + str(tmp / "db.sqlite3"), str(tmp / "instance"))
    with app.app_context():
        flask_migrate.upgrade()
        load_demo()
        db.session.commit()
        line = db.session.scalars(
            sa.select(VoucherLine)
            .join(Voucher, Voucher.id == VoucherLine.voucher_id)
            .where(VoucherLine.resident_id.is_not(None), Voucher.log_index.is_not(None))
            .order_by(Voucher.id)
        ).first()
        assert line is not None
        receipt = receipts.build_receipt(
            db.session.get_one(Voucher, line.voucher_id),
            db.session.get_one(Resident, line.resident_id),
        )
        db.session.commit()
        db.session.remove()
        srv = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        try:
            yield {"url": f"http://127.0.0.1:{srv.server_port}", "app": app, "receipt": receipt}
        finally:
            srv.shutdown()
            thread.join(timeout=10)
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def public_pages(site) -> list[str]:
    """Every HTML page reachable from /public/ without a login (and the verifier pages)."""
    client = site["app"].test_client()
    seen: list[str] = []
    queue = ["/public/", "/verify", "/verify/receipt"]
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        resp = client.get(path, headers={"Accept-Language": "zh-CN"})
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        seen.append(path)
        for link in _LINK.findall(resp.get_data(as_text=True)):
            link = link.replace("&amp;", "&")
            if link.startswith("/public/") and not link.endswith((".pdf", ".txt", ".csv")):
                queue.append(link)
    return seen


def test_every_public_page_fits_a_320px_phone_and_weighs_under_200kb(site, chromium, tmp_path):
    pages = public_pages(site)
    kinds = {re.sub(r"\d+", "N", p) for p in pages}
    for expected in (
        "/public/",
        "/public/c/yulin-beilu",
        "/public/o/N",
        "/public/o/N/check",
        "/public/r/N",
        "/public/glossary",
        "/public/funds/f/N",
        "/verify",
        "/verify/receipt",
    ):
        assert expected in kinds, f"the crawl never reached {expected}: {sorted(kinds)}"
    context = chromium.new_context(viewport={"width": 320, "height": 640}, locale="zh-CN")
    page = context.new_page()
    sizes: list[int] = []
    failed: list[str] = []
    page.on("response", lambda r: sizes.append(len(r.body())) if r.status == 200 else None)
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    problems = []
    for path in pages:
        sizes.clear()
        # networkidle: a page's own fetches (the verifier fetches the bundle, the previous report
        # and the key) finish before the next page is opened, or they count as failed requests
        resp = page.goto(site["url"] + path, wait_until="networkidle")
        assert resp is not None and resp.status == 200, path
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            problems.append(f"{path} scrolls sideways by {overflow}px at 320px")
        if sum(sizes) > PAGE_BUDGET:
            problems.append(f"{path} weighs {sum(sizes)} bytes with its assets")
        # Every table wider than the screen sits in a wrapper that scrolls by itself.
        loose = page.evaluate(
            """() => Array.from(document.querySelectorAll('table')).filter((t) =>
                 t.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                 && !t.closest('.table-wrap')).length"""
        )
        if loose:
            problems.append(f"{path} has {loose} tables wider than the screen outside a scroller")
        for low in page.evaluate(CONTRAST_JS):
            problems.append(f"{path}: contrast below WCAG AA: {low}")
        # A favicon for every page.
        assert page.locator("link[rel=icon]").count() == 1, path
    if any(p.startswith("/public/r/") for p in pages):
        shot(page, tmp_path, "report-320.png")
    assert problems == []
    assert failed == []
    context.close()


# WCAG 2.1 AA contrast (1.4.3) of every visible text on the page: the text's colour against the
# first opaque background behind it; 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
CONTRAST_JS = """() => {
  const lum = (c) => { const v = c / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const L = ([r, g, b]) => 0.2126 * lum(r) + 0.7152 * lum(g) + 0.0722 * lum(b);
  const bg = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || !el.getClientRects().length) continue;
    if (el.closest('svg, [hidden], .skip-link')) continue;
    const fg = rgb(st.color).slice(0, 3);
    const [a, b] = [L(fg), L(bg(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) bad.push(`${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 20)}" ${ratio.toFixed(2)}`);
  }
  return bad;
}"""


def test_the_overflow_check_can_fail(site, chromium):
    """The check above sees a page that scrolls sideways."""
    context = chromium.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(site["url"] + "/public/glossary")
    page.evaluate(
        "() => document.querySelector('main').append(Object.assign(document.createElement('div'), {style: 'width: 500px; height: 10px'}))"
    )
    assert (
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        > 0
    )
    context.close()


def first_report(site) -> str:
    html = site["app"].test_client().get("/public/c/yulin-beilu").get_data(as_text=True)
    return re.findall(r'href="(/public/r/\d+)"', html)[0]


def test_a_report_answers_in_out_left_and_checked_in_the_first_screen(site, chromium, tmp_path):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(site["url"] + first_report(site))
    for sel in (".pub-in", ".pub-out", ".pub-left", "#checked"):
        box = page.locator(sel).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844, (sel, box)
    expect(page.locator(".pub-in")).to_contain_text("本期收入")
    expect(page.locator(".pub-left")).to_contain_text("本期结余")
    expect(page.locator("#checked")).to_contain_text("核验过吗？")
    # The statements are folded; their zero rows hidden until asked for.
    assert page.locator("#statements > details").get_attribute("open") is None
    shot(page, tmp_path, "report-390.png")
    context.close()


def test_without_javascript_the_pages_work_and_words_open_on_tap(site, chromium):
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    page.goto(site["url"] + first_report(site))
    page.locator("#statements > details > summary").click()
    term = page.locator("#statements details.pub-term").first
    expect(term.locator(".pub-expl")).to_be_hidden()
    term.locator("summary").click()
    expect(term.locator(".pub-expl")).to_be_visible()
    # Zero rows: hidden, then shown by the checkbox (CSS only).
    zero = page.locator("#statements tr.pub-zero").first
    expect(zero).to_be_hidden()
    page.locator("#show-zero").check()
    expect(zero).to_be_visible()
    # The organisation page's trend chart is part of the page (SVG), not drawn by a script.
    page.goto(site["url"] + "/public/o/1")
    expect(page.locator("svg.pub-chart").first).to_be_visible()
    context.close()


def receipt_link(site, receipt: dict) -> str:
    return site["url"] + "/verify/receipt#" + receipts.fragment(receipt)


def _checked(page) -> None:
    expect(page.locator("body")).to_have_attribute(
        "data-verify-state", "done", timeout=CHECK_TIMEOUT
    )


def test_a_receipts_qr_link_checks_it_in_the_browser_without_sending_it(site, chromium, tmp_path):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    link = receipt_link(site, site["receipt"])
    page.goto(link)
    _checked(page)
    summary = page.locator("#receipt-summary")
    expect(summary).to_have_attribute("data-verdict", "verified")
    expect(summary).to_contain_text("核验通过")
    record = site["receipt"]["record"]
    expect(summary).to_contain_text(record["number"])
    expect(page.locator("#receipt-report")).to_have_attribute(
        "href", re.compile(r"^/public/r/\d+$")
    )
    expect(page.locator("#receipt-notes")).to_contain_text("指纹")  # the key fetched, shown
    box = summary.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844  # the result in the first screen
    packed = link.split("#", 1)[1]
    assert requested and not any(packed[2:40] in url for url in requested)
    shot(page, tmp_path, "receipt-check-390.png")
    context.close()


def test_a_pasted_receipt_is_checked_and_a_tampered_one_fails_visibly(site, chromium):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(site["url"] + "/verify/receipt")
    page.locator("#receipt-text").fill(json.dumps(site["receipt"], ensure_ascii=False))
    page.locator("#receipt-button").click()
    _checked(page)
    expect(page.locator("#receipt-summary")).to_have_attribute("data-verdict", "verified")
    tampered = json.loads(json.dumps(site["receipt"]))
    for ln in tampered["record"]["lines"]:
        if ln["debit"]:
            ln["debit"] += 100
        else:
            ln["credit"] += 100
    page.goto(receipt_link(site, tampered))
    page.reload()  # the same page with another fragment: load it afresh
    _checked(page)
    summary = page.locator("#receipt-summary")
    expect(summary).to_have_attribute("data-verdict", "not_verified")
    expect(summary).to_have_class(re.compile(r"\bbad\b"))
    failed = page.locator("#receipt-checks li[data-status='FAIL']").first
    expect(failed).to_be_visible()
    # In Chinese: what the failure means, then its detail, in Chinese too (issue 14 item 3).
    expect(failed).to_contain_text("详情：")
    meaning, detail = failed.inner_text().split("详情：", 1)
    assert re.search(r"[\u4e00-\u9fff]{6}", meaning) and re.search(r"[\u4e00-\u9fff]{6}", detail)
    # A passing check's message is in Chinese too.
    expect(page.locator("#receipt-checks li[data-check='receipt_record']")).to_contain_text("凭证")
    context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_resident_goes_from_the_community_to_a_verified_report(site, chromium, tmp_path, width):
    """Community → organisation → report → verify in the browser: with the key and the
    previous report fetched from this site, the verdict is "verified", in the first screen."""
    context = chromium.new_context(viewport={"width": width, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(site["url"] + "/public/c/yulin-beilu")
    page.locator(".pub-org h2 a").first.click()
    expect(page.locator("svg.pub-chart")).to_be_visible()
    page.locator("#reports tbody tr a").first.click()  # the latest report
    expect(page.locator("#checked")).to_contain_text("核验过吗？")
    page.locator(".pub-downloads a.primary").click()
    expect(page.locator("body")).to_have_attribute(
        "data-verify-state", "done", timeout=CHECK_TIMEOUT
    )
    summary = page.locator("#verify-summary")
    expect(summary).to_have_attribute("data-verdict", "verified")
    notes = page.locator("#verify-notes")
    expect(notes).to_contain_text("指纹")  # the key fetched from the organisation's page
    expect(notes).to_contain_text("上一期报告")  # and the previous report
    box = summary.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844
    shot(page, tmp_path, f"journey-verify-{width}.png")
    context.close()
