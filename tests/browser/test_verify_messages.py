"""Every message the browser verifier can show is translated (issue 14 item 3): the broken
copies of a real published demo bundle and receipt (tests/transparency/corrupt.py) go through
the /verify page and "check my receipt" in headless Chromium, in Chinese; every check's detail,
what completes a partial check and the verdict are Chinese, with no English sentence left.
The message ids are the command line's, so both verifiers say the same thing."""

from __future__ import annotations

import re
import threading

import flask_migrate
import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from core.db import db
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import make_app
from tests.transparency.corrupt import Case, cases, demo_documents  # noqa: F401
from transparency.verify import page_messages

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ANY = re.compile(r".*")
TIMEOUT = 30_000  # ms
CJK = re.compile(r"[\u4e00-\u9fff]")
# A fingerprint shown in groups of four hex digits ("dfbc ea78") is not English.
HEX_GROUPS = re.compile(r"\b[0-9a-f]{4}(?: [0-9a-f]{4})+\b")
ENGLISH = re.compile(r"(?<![-\w./])[A-Za-z]{2,}[,.;:!?')]?\s+[(']?[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("verify-messages")
    app = make_app("sqlite:///" + str(tmp / "db.sqlite3"), str(tmp / "instance"))
    app.config["PUBLIC_HOST"] = "elsewhere.test"  # the demo documents are of another site
    with app.app_context():
        flask_migrate.upgrade()
        db.session.remove()
        srv = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{srv.server_port}"
        finally:
            srv.shutdown()
            thread.join(timeout=10)
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture(scope="module")
def chinese(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = b.new_context(locale="zh-CN", viewport={"width": 1100, "height": 1400})
        try:
            yield context.new_page()
        finally:
            context.close()
            b.close()


def untranslated(texts: list[str]) -> list[str]:
    return [
        t
        for t in texts
        if t.strip() and (not CJK.search(t) or ENGLISH.search(HEX_GROUPS.sub("", t)))
    ]


def shown_on_verify_page(page, server, case: Case) -> tuple[list[str], dict[str, str]]:
    page.goto(server + "/verify")
    expect(page.locator("body")).to_have_attribute("data-verify-state", "ready")
    for role in ("bundle", "previous", "receipt"):
        if role in case.files:
            page.set_input_files(
                f"#{role}-file",
                files=[
                    {
                        "name": f"{role}.json",
                        "mimeType": "application/json",
                        "buffer": case.files[role],
                    }
                ],
            )
    page.fill("#key-input", case.files.get("key", b"").decode("utf-8"))
    page.click("#verify-button")
    expect(page.locator("body")).to_have_attribute("data-verify-state", "done", timeout=TIMEOUT)
    texts = page.eval_on_selector_all(
        "#verify-results li .check-message, #verify-todo li, #verify-summary",
        "els => els.map(e => e.innerText)",
    )
    statuses = page.eval_on_selector_all(
        "#verify-results li",
        "els => Object.fromEntries(els.map(e => [e.dataset.check, e.dataset.status]))",
    )
    return texts, statuses


def shown_on_receipt_page(page, server, receipt: bytes) -> tuple[list[str], dict[str, str]]:
    page.goto(server + "/verify/receipt")
    expect(page.locator("body")).to_have_attribute("data-verify-state", "ready")
    page.fill("#receipt-text", receipt.decode("utf-8", errors="replace"))
    page.locator("#receipt-form").evaluate("f => f.requestSubmit()")
    expect(page.locator("body")).to_have_attribute("data-verify-state", "done", timeout=TIMEOUT)
    texts = page.eval_on_selector_all(
        "#receipt-checks li, #receipt-summary", "els => els.map(e => e.innerText)"
    )
    statuses = page.eval_on_selector_all(
        "#receipt-checks li",
        "els => Object.fromEntries(els.map(e => [e.dataset.check, e.dataset.status]))",
    )
    return texts, statuses


def test_the_page_carries_the_command_lines_messages(chinese, server):
    chinese.goto(server + "/verify")
    table = chinese.evaluate("JSON.parse(document.getElementById('verify-messages').textContent)")
    assert table == page_messages("zh")


def test_every_broken_document_is_shown_in_chinese(chinese, server, demo_documents):  # noqa: F811
    problems = []
    for case in cases(demo_documents):
        texts, statuses = shown_on_verify_page(chinese, server, case)
        want = case.expect_browser or case.expect
        failed = {c.split(".")[0] for c, s in statuses.items() if s == "FAIL"}
        if want not in failed:
            problems.append(f"{case.name}: {want} did not fail: {statuses}")
        bad = untranslated(texts)
        if bad:
            problems.append(f"{case.name}:\n  " + "\n  ".join(bad))
    assert not problems, "\n".join(problems)


def test_every_broken_receipt_is_shown_in_chinese_by_check_my_receipt(
    chinese,
    server,
    demo_documents,  # noqa: F811
):
    problems = []
    for case in cases(demo_documents):
        if set(case.files) != {"receipt"} or case.expect == "input":
            continue  # an unreadable receipt: the page says so in one sentence (below)
        texts, statuses = shown_on_receipt_page(chinese, server, case.files["receipt"])
        if statuses.get(case.expect_browser or case.expect) != "FAIL":
            problems.append(f"{case.name}: {case.expect} did not fail: {statuses}")
        bad = untranslated(texts)
        if bad:
            problems.append(f"{case.name}:\n  " + "\n  ".join(bad))
    assert not problems, "\n".join(problems)
    texts, _ = shown_on_receipt_page(chinese, server, b'{"format": "commons-ledger/rec')
    assert texts and not untranslated(texts), texts
