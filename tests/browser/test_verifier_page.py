"""The in-browser verifier (/verify, static/js/verify.js) in headless Chromium.

Three kinds of test: a person uploads a valid bundle and sees every check pass, or a tampered
one and sees the failed check marked; the page's checks give the same (check, status) list as
the Python verifier for the same inputs, on valid and on tampered documents; and the vendored
Ed25519 fallback agrees with WebCrypto and with RFC 8032's test vector.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import threading
from pathlib import Path

import flask_migrate
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Response
from playwright.sync_api import expect
from werkzeug.serving import make_server

from core.db import db
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import make_app
from tests.transparency.bundlegen import SyntheticBook, b64
from tlog import notes
from transparency.verify import TrustedKey, parse_key, verify_bundle, verify_receipt

pytestmark = pytest.mark.browser

ANY = re.compile(r".*")  # an attribute that is there, whatever its value
VERIFY_TIMEOUT = 30_000  # ms: the page checks every record of a bundle in the browser


def checked(page) -> None:
    """Wait until the page has finished checking what it was given."""
    expect(page.locator("body")).to_have_attribute(
        "data-verify-state", "done", timeout=VERIFY_TIMEOUT
    )


def status_of(page, check: str):
    return page.locator(f"#verify-results li[data-check='{check}']")


def screenshot(page, tmp_path, name: str) -> None:
    """Saved where LEDGER_SCREENSHOTS points (to look at them), else in the test's tmp dir."""
    folder = Path(os.environ.get("LEDGER_SCREENSHOTS", str(tmp_path)))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def world():
    book = SyntheticBook(book_id=7, seed=21)
    bundles = book.monthly_reports(months=3, per_month=15, early=2, far=1)
    return book, bundles


@pytest.fixture(scope="module")
def server(tmp_path_factory, world):
    tmp = tmp_path_factory.mktemp("verifier")
    app = make_app("sqlite:///" + str(tmp / "db.sqlite3"), str(tmp / "instance"))
    app.config["PUBLIC_HOST"] = "ledger.test"  # the synthetic bundles' host: "this site"
    bundle = json.dumps(world[1][2], ensure_ascii=False)

    @app.get("/__test/bundle.json")
    def _bundle():  # a same-site bundle for /verify?bundle=
        return Response(bundle, mimetype="application/json")

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
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(chromium, server):
    context = chromium.new_context(locale="en-US", viewport={"width": 1100, "height": 1400})
    pg = context.new_page()
    pg.problems = []  # type: ignore[attr-defined]
    # Chromium asks for /favicon.ico by itself; every other error is a real problem (a CSP
    # violation is a console error).
    pg.on(
        "console",
        lambda m: (
            pg.problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    pg.on(
        "response",
        lambda r: (
            pg.problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    pg.on("pageerror", lambda e: pg.problems.append(str(e)))
    pg.goto(server + "/verify")
    expect(pg.locator("body")).to_have_attribute("data-verify-state", ANY)
    yield pg
    context.close()


def fingerprint(book) -> str:
    return notes.fingerprint(book.key)


def verifier_key(book) -> str:
    """What the organisation's page shows: the key and the log's name (origin) in one."""
    return notes.vkey(book.origin, notes.public_key_bytes(book.key))


def serve_book_api(pg, book, bundles, *, key=True) -> list[str]:
    """Answer this site's public API for book 7 as the real server would: its key (on the
    organisation's page) and its reports, the previous one's bundle included."""
    asked: list[str] = []

    def key_json(route):
        asked.append("key")
        route.fulfill(json={"book": 7, "public_key": book.public_key(), "checkpoints": []})

    def reports(route):
        asked.append("reports")
        route.fulfill(
            json=[
                {
                    "id": i + 1,
                    "period_end": b["period"]["end"],
                    "bundle_url": f"/__api/r{i + 1}.json",
                }
                for i, b in enumerate(bundles)
            ]
        )

    def one(route):
        i = int(route.request.url.rsplit("/r", 1)[1].split(".")[0]) - 1
        asked.append(f"bundle {i + 1}")
        route.fulfill(
            body=json.dumps(bundles[i], ensure_ascii=False), content_type="application/json"
        )

    if key:
        pg.route("**/api/v1/public/books/7/checkpoints", key_json)
    pg.route("**/api/v1/public/books/7/reports", reports)
    pg.route("**/__api/r*.json", one)
    return asked


def upload(page, tmp_path, *, bundle=None, previous=None, receipt=None, key="", raw=None):
    for name, doc in (("bundle", bundle), ("previous", previous), ("receipt", receipt)):
        if doc is None:
            continue
        p = tmp_path / f"{name}.json"
        p.write_bytes(
            raw
            if raw is not None and name == "bundle"
            else json.dumps(doc, ensure_ascii=False).encode()
        )
        page.set_input_files(f"#{name}-file", str(p))
    page.fill("#key-input", key)
    page.click("#verify-button")
    checked(page)


def shown_checks(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "#verify-results li",
        "els => Object.fromEntries(els.map(e => [e.dataset.check, e.dataset.status]))",
    )


def js_checks(page, docs: dict, key: str = "") -> tuple[list[tuple[str, str]], int]:
    texts = {k: json.dumps(v, ensure_ascii=False) for k, v in docs.items()}
    result = page.evaluate(
        """async ([texts, key]) => {
            const docs = {};
            for (const [k, t] of Object.entries(texts)) docs[k] = CommonsVerify.parseJsonText(t, k);
            const r = await CommonsVerify.verifyDocuments(docs, key);
            return [r.checks.map(c => [c.check, c.status, c.message]), r.exitCode, r.inputErrors];
        }""",
        [texts, key],
    )
    return [(c, s) for c, s, _m in result[0]], result[1]


def py_checks(docs: dict, key: TrustedKey | None) -> tuple[list[tuple[str, str]], int]:
    report, bv = (
        verify_bundle(docs["bundle"], previous=docs.get("previous"), key=key)
        if "bundle" in docs
        else (None, None)
    )
    if "receipt" in docs:
        report = verify_receipt(docs["receipt"], key=key, bundle=bv, report=report)
    return [(c.check, c.status) for c in report.checks], report.exit_code


# --------------------------------------------------------------------------- a person uses it


def test_valid_bundle_with_previous_and_receipt_passes_every_check(page, world, tmp_path):
    book, bundles = world
    receipt = book.receipt(book.private_indices()[0])
    upload(
        page,
        tmp_path,
        bundle=bundles[2],
        previous=bundles[1],
        receipt=receipt,
        key=verifier_key(book),
    )
    checks = shown_checks(page)
    assert checks, "no checks shown"
    assert set(checks.values()) <= {"PASS", "SKIP"}, checks
    # Only the previous report's own comparison with the one before it did not run.
    assert [c for c, s in checks.items() if s == "SKIP"] == ["previous.opening_balances"]
    for name in (
        "checkpoint_signature",
        "log_root",
        "consistency_proof",
        "carried_vs_previous",
        "opening_balances",
        "closing_balances",
        "statement.balance_sheet",
        "statement.income_expenditure",
        "balance_sheet_balances",
        "receipt_inclusion",
        "receipt_commitment",
    ):
        assert checks[name] == "PASS", name
    summary = page.locator("#verify-summary")
    expect(summary).to_have_attribute("data-exit-code", "0")
    expect(summary).to_contain_text("Verified")
    expect(summary).to_have_attribute("data-verdict", "verified")
    expect(summary).not_to_contain_text("Not verified")
    expect(status_of(page, "log_root").locator(".check-status")).to_have_text("PASS")
    screenshot(page, tmp_path, "verifier-pass.png")
    assert not page.problems, page.problems  # no CSP violations, no script errors


def test_tampered_bundle_fails_visibly(page, world, tmp_path):
    book, bundles = world
    bad = copy.deepcopy(bundles[1])
    st = next(s for s in bad["statements"] if s["statement"] == "balance_sheet")
    next(ln for ln in st["lines"] if ln["key"] == "cash")["amount"] += 100
    rec = bad["log"]["records"][3]
    rec["lines"][0]["debit" if rec["lines"][0]["debit"] else "credit"] += 5
    rec["lines"][1]["debit" if rec["lines"][1]["debit"] else "credit"] += 5
    serve_book_api(page, book, bundles, key=False)  # a bundle of this site: previous fetched
    upload(page, tmp_path, bundle=bad, key=fingerprint(book))
    failed_items = page.locator("#verify-results li.check-fail")
    names = failed_items.evaluate_all("els => els.map(e => e.dataset.check)")
    assert {"log_root", "statement.balance_sheet"} <= set(names)
    item = status_of(page, "statement.balance_sheet")
    expect(item).to_be_visible()
    expect(item).to_have_class(re.compile(r"\bcheck-fail\b"))
    expect(item.locator(".check-status")).to_have_text("FAIL")
    expect(item).to_contain_text("line cash: recomputed")
    # Visibly marked: the failed line has a coloured background and a red badge.
    colours = item.evaluate(
        "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e.querySelector('.check-status')).backgroundColor]"
    )
    assert colours[0] not in ("rgba(0, 0, 0, 0)", "transparent") and colours[1] != colours[0]
    summary = page.locator("#verify-summary")
    expect(summary).to_have_attribute("data-exit-code", "1")
    expect(summary).to_contain_text("Not verified")
    screenshot(page, tmp_path, "verifier-tampered.png")
    # On a phone the results wrap instead of running off the screen.
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, tmp_path, "verifier-tampered-phone.png")
    assert not page.problems, page.problems


def test_a_tampered_bundle_is_detailed_in_chinese_on_a_chinese_page(
    chromium, server, world, tmp_path
):
    """Issue 14 item 3: on a Chinese page the failure's detail is Chinese too (amounts in
    yuan), with no English detail sentence; the English page keeps its English words."""
    book, bundles = world
    bad = copy.deepcopy(bundles[1])
    st = next(s for s in bad["statements"] if s["statement"] == "balance_sheet")
    cash = next(ln for ln in st["lines"] if ln["key"] == "cash")
    cash["amount"] += 100
    said = f"¥{cash['amount'] // 100:,}.{cash['amount'] % 100:02d}"
    prev = copy.deepcopy(bundles[0])
    prev["closing_balances"][0]["balance"] += 100
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1100, "height": 1400})
    pg = context.new_page()
    pg.goto(f"{server}/verify")
    expect(pg.locator("body")).to_have_attribute("data-verify-state", ANY)
    receipt = book.receipt(book.private_indices()[0])
    receipt["private"][0]["salt"] = b64(bytes(16))
    upload(pg, tmp_path, bundle=bad, previous=prev, receipt=receipt, key=fingerprint(book))
    commitment = status_of(pg, "receipt_commitment").locator(".check-message").inner_text()
    assert "SHA-256（盐 ‖ 个人信息）不是记录中该行的承诺值" in commitment, commitment
    item = status_of(pg, "statement.balance_sheet")
    expect(item).to_have_attribute("data-status", "FAIL")
    text = item.locator(".check-message").inner_text()
    assert text.startswith("报表中有些行与按记录算出的数不一致。"), text
    assert "第 cash 行：重新计算为 ¥" in text and f"报告上写 {said}" in text, text
    opening = status_of(pg, "opening_balances").locator(".check-message").inner_text()
    assert "期初余额不是上一份报告的期末余额：" in opening and "上期期末 ¥" in opening, opening
    records = status_of(pg, "records").locator(".check-message").inner_text()
    assert "日志序号" in records, records
    shown = pg.locator("#verify-results").inner_text()
    for english in (
        "recomputed",
        "the report says",
        "previous closing",
        "log indices",
        "origin is",
    ):
        assert english not in shown, (english, shown)
    assert "技术细节" not in opening + text
    context.close()


def test_unreadable_file_is_reported_as_such(page, world, tmp_path):
    book, _ = world
    upload(
        page,
        tmp_path,
        bundle={},
        raw=b'{"format": "commons-ledger/disclosure/1", "bo',
        key=fingerprint(book),
    )
    assert shown_checks(page) == {"input": "FAIL"}
    expect(page.locator("#verify-summary")).to_have_attribute("data-exit-code", "2")


def test_wrong_key_fails_the_key_and_the_signature(page, world, tmp_path):
    _, bundles = world
    other = notes.fingerprint(Ed25519PrivateKey.generate())
    upload(page, tmp_path, bundle=bundles[0], key=other)
    expect(status_of(page, "key")).to_have_attribute("data-status", "FAIL")
    expect(status_of(page, "checkpoint_signature")).to_have_attribute("data-status", "FAIL")


def test_without_a_key_the_page_says_partly_checked_and_what_completes_it(page, world, tmp_path):
    _, bundles = world
    upload(page, tmp_path, bundle=bundles[0])
    expect(status_of(page, "key")).to_have_attribute("data-status", "WARN")
    summary = page.locator("#verify-summary")
    expect(summary).to_have_attribute("data-exit-code", "3")
    expect(summary).to_have_attribute("data-verdict", "partly_checked")
    expect(summary).to_contain_text("Partly checked")
    expect(summary).not_to_contain_text("Verified")
    todo = page.locator("#verify-todo li[data-check='key']")
    expect(todo).to_contain_text("Paste the verifier key")
    expect(todo).to_contain_text(" ".join(re.findall(".{1,4}", fingerprint(world[0]))))


def test_a_later_report_without_its_previous_is_partly_checked(page, world, tmp_path):
    book, bundles = world
    upload(page, tmp_path, bundle=bundles[1], key=verifier_key(book))
    expect(page.locator("#verify-summary")).to_have_attribute("data-verdict", "partly_checked")
    expect(page.locator("#verify-todo li[data-check='opening_balances']")).to_contain_text(
        bundles[0]["period"]["end"]
    )


def test_dropped_files_are_sorted_into_bundle_previous_and_receipt(page, world):
    book, bundles = world
    receipt = book.receipt(book.private_indices()[0])
    page.fill("#key-input", fingerprint(book))
    page.evaluate(
        """(texts) => {
            const dt = new DataTransfer();
            texts.forEach((t, i) => dt.items.add(new File([t], `f${i}.json`, {type: 'application/json'})));
            document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true}));
        }""",
        [json.dumps(d, ensure_ascii=False) for d in (receipt, bundles[1], bundles[2])],
    )
    page.click("#verify-button")
    checked(page)
    expect(status_of(page, "carried_vs_previous")).to_have_attribute("data-status", "PASS")
    expect(status_of(page, "receipt_commitment")).to_have_attribute("data-status", "PASS")
    checks = shown_checks(page)
    assert set(checks.values()) <= {"PASS", "SKIP"}


def test_a_same_site_bundle_link_is_checked_on_arrival(chromium, server, world):
    book, bundles = world
    context = chromium.new_context()
    pg = context.new_page()
    asked = serve_book_api(pg, book, bundles, key=False)
    pg.goto(f"{server}/verify?bundle=/__test/bundle.json&key={fingerprint(book)}")
    checked(pg)
    # The previous report was fetched from this site; the fingerprint alone leaves the log's
    # name unchecked, and the page says so.
    assert "bundle 2" in asked
    expect(pg.locator("#verify-summary")).to_have_attribute("data-verdict", "partly_checked")
    expect(pg.locator("#verify-todo li")).to_have_count(1)
    expect(pg.locator("#key-input")).to_have_value(fingerprint(book))
    # The file fields show what was loaded.
    names = pg.evaluate(
        "['bundle-file', 'previous-file'].map(id => document.getElementById(id).files[0]?.name)"
    )
    assert names == ["bundle.json", "r2.json"], names
    expect(pg.locator("#verify-todo li")).to_have_attribute("data-check", "checkpoint_origin")
    context.close()


def test_a_same_site_bundle_is_completed_with_the_sites_key_and_previous_report(
    chromium, server, world, tmp_path
):
    """No key given: the key comes from the organisation's page of this site, its fingerprint
    shown to compare; the previous report too. Then every check runs: verified."""
    book, bundles = world
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    pg = context.new_page()
    asked = serve_book_api(pg, book, bundles)
    pg.goto(f"{server}/verify?bundle=/__test/bundle.json")
    checked(pg)
    assert "key" in asked and "bundle 2" in asked
    summary = pg.locator("#verify-summary")
    expect(summary).to_have_attribute("data-verdict", "verified")
    expect(summary).to_have_text("核验通过：每一项检查都已运行并通过。")
    expect(pg.locator("#key-input")).to_have_value(verifier_key(book))
    expect(pg.locator("#verify-notes")).to_contain_text(
        " ".join(re.findall(".{1,4}", fingerprint(book)))
    )
    # The result is on the first screen of a phone, in Chinese, amounts in yuan.
    assert summary.bounding_box()["y"] < 844
    sheet = status_of(pg, "balance_sheet_balances")
    expect(sheet).to_contain_text("资产")
    expect(sheet).to_contain_text("¥")
    expect(status_of(pg, "records")).not_to_contain_text("records, log indices")
    screenshot(pg, tmp_path, "verifier-completed-phone-zh.png")
    context.close()


def test_other_sites_are_never_fetched(chromium, server):
    context = chromium.new_context()
    pg = context.new_page()
    requests = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(f"{server}/verify?bundle=https://evil.example/b.json")
    expect(pg.locator("body")).to_have_attribute("data-verify-state", ANY)
    expect(pg.locator("#verify-form")).not_to_have_attribute("data-bundle-url", ANY)
    assert requests and not [u for u in requests if not u.startswith(server)]
    context.close()


# --------------------------------------------------------------------------- same checks as the CLI


def _tampered(book, bundles):
    """(label, docs, key) cases on which the page and the CLI must agree check by check."""
    fp = fingerprint(book)
    raw = notes.public_key_bytes(book.key)
    receipt = book.receipt(book.private_indices()[0])
    cases = [
        ("valid", {"bundle": bundles[2], "previous": bundles[1], "receipt": receipt}, fp),
        ("first", {"bundle": bundles[0]}, b64(raw)),
        ("no key", {"bundle": bundles[1]}, ""),
    ]

    def case(label, mutate, key=fp, with_prev=True, with_receipt=False):
        docs = {"bundle": copy.deepcopy(bundles[2])}
        if with_prev:
            docs["previous"] = copy.deepcopy(bundles[1])
        if with_receipt:
            docs["receipt"] = copy.deepcopy(receipt)
        mutate(docs)
        cases.append((label, docs, key))

    def flip_amount(d):
        ln = d["bundle"]["log"]["records"][2]["lines"][0]
        ln["debit" if ln["debit"] else "credit"] += 1

    def statement(d):
        st = d["bundle"]["statements"][1]
        next(ln for ln in st["lines"] if ln["kind"] == "item")["amount"] += 1

    def closing(d):
        d["bundle"]["closing_balances"][0]["balance"] += 1

    def opening(d):
        d["bundle"]["opening_balances"][0]["balance"] -= 1

    def drop_record(d):
        del d["bundle"]["log"]["records"][1]

    def swap_records(d):
        r = d["bundle"]["log"]["records"]
        r[0], r[1] = r[1], r[0]

    def drop_carried(d):
        del d["bundle"]["carried_records"][0]

    def bad_consistency(d):
        d["bundle"]["previous"]["consistency_proof"][0] = b64(bytes(32))

    def salt(d):
        d["receipt"]["private"][0]["salt"] = b64(bytes(16))

    def receipt_index(d):
        d["receipt"]["index"] += 1

    def other_book_prev(d):
        d["previous"]["book"]["id"] = 8

    def memo_sum(d):
        st = d["bundle"]["statements"][1]
        total = next(ln for ln in st["lines"] if ln["key"] == "total_income")
        total["sum"].append("parking_income")

    def garbage(d):
        d["bundle"]["log"] = "x"
        d["bundle"]["statements"] = {}
        d["bundle"]["book"]["id"] = "7"

    def float_amount(d):
        d["bundle"]["log"]["records"][0]["lines"][0]["debit"] = 1.5

    def integral_float(d):  # 1.0 is an integer to JSON.parse, a float to Python: both must refuse
        ln = d["bundle"]["log"]["records"][0]["lines"][0]
        ln["debit" if ln["debit"] else "credit"] = float(ln["debit"] or ln["credit"])

    def lone_surrogate(d):
        d["bundle"]["log"]["records"][1]["summary"] = "x\udc00"

    def relabel(d):  # arithmetic still holds; only the bundle signature can tell
        st = d["bundle"]["statements"][0]
        next(ln for ln in st["lines"] if ln["kind"] == "item")["label_zh"] = "其他"

    def account_list(d):
        d["bundle"]["accounts"][0]["name_en"] = "Renamed"

    def period(d):
        d["bundle"]["period"]["start"] = "2026-11-02"

    def unsigned(d):
        del d["bundle"]["signature"]

    def signed_for_another_book(d):
        book.sign_bundle(d["bundle"], book_id=8)

    for label, fn in [
        ("relabel", relabel),
        ("account list", account_list),
        ("period", period),
        ("unsigned", unsigned),
        ("signed for another book", signed_for_another_book),
    ]:
        case(label, fn)
    for label, fn in [
        ("amount", flip_amount),
        ("statement", statement),
        ("closing", closing),
        ("opening", opening),
        ("drop record", drop_record),
        ("swap", swap_records),
        ("drop carried", drop_carried),
        ("consistency", bad_consistency),
        ("previous of another book", other_book_prev),
        ("memo sum", memo_sum),
        ("garbage", garbage),
        ("float", float_amount),
        ("1.0", integral_float),
        ("lone surrogate", lone_surrogate),
    ]:
        case(label, fn)
    case("salt", salt, with_receipt=True)
    case(
        "line without commitment",
        lambda d: d["receipt"]["private"][0].update(line=2),
        with_receipt=True,
    )
    case(
        "extra private field",
        lambda d: d["receipt"]["private"][0].update(phone="138"),
        with_receipt=True,
    )
    case(
        "old single commitment",
        lambda d: d["receipt"]["record"].update(private="ab" * 32),
        with_receipt=True,
    )
    case("receipt index", receipt_index, with_receipt=True)
    case("wrong key", lambda d: None, key=notes.fingerprint(Ed25519PrivateKey.generate()))
    return cases


def test_page_and_cli_agree_check_by_check(page, world):
    book, bundles = world
    for label, docs, key in _tampered(book, bundles):
        trusted = parse_key(key) if key else None  # exactly what the CLI's --key does
        js, js_code = js_checks(page, docs, key)
        py, py_code = py_checks(docs, trusted)
        assert js == py, (label, [x for x in zip(js, py, strict=False) if x[0] != x[1]], js, py)
        assert js_code == py_code, label
        if label != "valid" and label not in ("first", "no key"):
            assert js_code == 1, label


# --------------------------------------------------------------------------- Ed25519 fallback


def test_ed25519_fallback_matches_rfc8032_and_webcrypto(page, world):
    # RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte).
    vectors = [
        (
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
    ]
    for pub, msg, sig in vectors:
        ok, bad = page.evaluate(
            """async ([pub, msg, sig]) => {
                const h = (s) => Uint8Array.from(s.match(/../g) || [], (x) => parseInt(x, 16));
                const s = h(sig); const t = h(sig); t[5] ^= 1;
                return [await CommonsEd25519.verify(h(pub), h(msg), s), await CommonsEd25519.verify(h(pub), h(msg), t)];
            }""",
            [pub, msg, sig],
        )
        assert ok is True and bad is False
    book, bundles = world
    page.evaluate("CommonsVerify.options.forceEd25519Fallback = true")
    js, code = js_checks(page, {"bundle": bundles[1], "previous": bundles[0]}, verifier_key(book))
    assert (
        code == 0
        and ("checkpoint_signature", "PASS") in js
        and ("previous_checkpoint", "PASS") in js
    )
    wrong = copy.deepcopy(bundles[1])
    text, sig_line = wrong["checkpoint"].split("\n\n")
    prefix, sig = sig_line.rstrip("\n").rsplit(" ", 1)
    blob = bytearray(base64.b64decode(sig))
    blob[-1] ^= 1
    wrong["checkpoint"] = f"{text}\n\n{prefix} {b64(bytes(blob))}\n"
    js, code = js_checks(page, {"bundle": wrong}, fingerprint(book))
    assert ("checkpoint_signature", "FAIL") in js and code == 1
