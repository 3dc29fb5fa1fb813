"""Public disclosure pages (no login) and residents' receipts (login)."""

from __future__ import annotations

import base64
import html as html_lib
import json
import re
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from core import pdf
from core.auth import grant_role
from core.db import db
from core.models import AuditEvent
from tests.conftest import login
from tests.transparency.helpers import without_triggers
from tests.transparency.publicdata import *  # noqa: F403  (fixtures)
from tests.transparency.publicdata import PAYER
from tlog import notes
from transparency import receipts, verify
from transparency.models import Checkpoint, DisclosureReport
from transparency.public import PersonalDataScreen, grouped_hex, verify_report

EN = {"Accept-Language": "en"}


def page(client, url: str, status: int = 200, **kw) -> str:
    resp = client.get(url, **kw)
    assert resp.status_code == status, (url, resp.status_code, resp.get_data(as_text=True)[:800])
    return resp.get_data(as_text=True)


# --- the public pages ------------------------------------------------------------------------


def test_index_lists_communities_and_their_organisations(client, organisation, published):
    html = page(client, "/public/")
    assert organisation.community.name in html
    assert f'href="/public/c/{organisation.community.slug}"' in html
    assert f'href="/public/o/{organisation.id}"' in html


def test_community_page_shows_each_organisation_with_standard_and_latest_report(
    client, organisation, published
):
    html = page(client, f"/public/c/{organisation.community.slug}", headers=EN)
    assert organisation.name in html
    assert "Accounting Standards for Small Enterprises" in html
    assert f'href="/public/r/{published.april.id}"' in html and "2025-04" in html
    page(client, "/public/c/no-such-community", 404)


def test_organisation_page_shows_grouped_fingerprint_and_how_to_verify(
    client, organisation, published
):
    """The key, fingerprint and commands are on the "how to check" page, linked from the
    organisation's page but not leading it (issue 14 item 2)."""
    org_html = page(client, f"/public/o/{organisation.id}", headers=EN)
    assert f'href="/public/o/{organisation.id}/check"' in org_html
    assert published.april.checkpoint.key.fingerprint[:4] not in org_html.split("how-to-check")[0]
    html = page(client, f"/public/o/{organisation.id}/check", headers=EN)
    fp = published.april.checkpoint.key.fingerprint
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    grouped = grouped_hex(fp)
    assert grouped.count(" ") == 15 and grouped[:9] == f"{fp[:4]} {fp[4:8]}"
    assert grouped in html
    key = published.april.checkpoint.key
    vkey = notes.vkey(key.name, bytes(key.public_key))
    assert key.name == f"localhost/commons-ledger/{published.april.book_id}"
    assert key.name in html and vkey in html  # the log's name, which the verifiers check
    assert f"python3 commons_verify.py bundle.json --key {vkey}" in html
    (link,) = re.findall(r'href="(/verify\?[^"]*)"', html)
    assert parse_qs(urlsplit(html_lib.unescape(link)).query) == {"key": [vkey]}
    assert 'href="/verify/commons_verify.py"' in html
    assert base64.b64encode(bytes(published.april.checkpoint.key.public_key)).decode() in html


def test_organisation_page_lists_reports_verified_by_the_cli_checks(
    client, organisation, published
):
    html = page(client, f"/public/o/{organisation.id}", headers=EN)
    assert html.count("✓ Verified") == 2
    assert "Verification failed" not in html
    for r in (published.march, published.april):
        assert f'href="/public/r/{r.id}"' in html and r.label in html


def test_checkpoint_history_links_each_signed_note_byte_for_byte(client, organisation, published):
    html = page(client, f"/public/o/{organisation.id}/check")
    cps = db.session.scalars(
        sa.select(Checkpoint).where(Checkpoint.book_id == published.book.id)
    ).all()
    assert len(cps) >= 1
    for cp in cps:
        url = f"/public/o/{organisation.id}/checkpoints/{cp.size}.txt"
        assert f'href="{url}"' in html
        assert base64.b64encode(bytes(cp.root)).decode() in html
        resp = client.get(url)
        assert resp.status_code == 200 and resp.mimetype == "text/plain"
        assert resp.get_data(as_text=True) == cp.note
    page(client, f"/public/o/{organisation.id}/checkpoints/999999.txt", 404)
    page(client, f"/public/o/{organisation.id}/checkpoints/99999999999999999999999.txt", 404)


def test_report_page_shows_statements_in_the_official_layout(client, published):
    html = page(client, f"/public/r/{published.april.id}")
    bundle = json.loads(published.april.bundle)
    titles = [s["title_zh"] for s in bundle["statements"]]
    assert titles == ["资产负债表", "利润表"]
    for t in titles:
        assert t in html
    assert "会小企01表" in html and "会小企02表" in html
    # 货币资金 (line 1): 50,000 + 4,096 + 11,300 − 2,000 in 1002, plus 123.45 cash in 1001.
    cash = next(ln for ln in bundle["statements"][0]["lines"] if ln["key"] == "cash")
    assert cash["amount"] == 63_519_45
    # Each line's accounting word is explained on tap, from the one glossary.
    gloss = r"(?:<span class=\"pub-q\"[^>]*>\?</span></summary><span class=\"pub-expl\">[^<]+</span></details>)"
    assert re.search(
        rf"货币资金{gloss}</td>\s*<td class=\"num\">1</td>\s*<td class=\"num\">63,519.45</td>", html
    )
    assert "货币资金：现金箱里的钱和银行账户里的钱。" in html
    # April's movements only on the income statement: revenue 123.45.
    assert re.search(
        rf"营业收入{gloss}</td>\s*<td class=\"num\">1</td>\s*<td class=\"num\">123.45</td>", html
    )


def test_report_page_in_english_uses_the_english_labels(client, published):
    html = page(client, f"/public/r/{published.april.id}", headers=EN)
    assert (
        "Balance sheet" in html and "Income statement" in html and "Cash and bank balances" in html
    )
    assert "资产负债表" not in html and "货币资金" not in html


def test_report_page_lists_vouchers_and_offers_every_download(client, published):
    r = published.april
    html = page(client, f"/public/r/{r.id}", headers=EN)
    row = re.search(
        r"<tr>\s*<td[^>]*>2025-04-20</td>\s*<td class=\"num nowrap\">2,000.00</td>\s*"
        r"<td[^>]*>支付房租</td>\s*<td[^>]*>记-2025-04-0002</td>",
        html,
    )
    assert row, "the rent voucher's row: date, amount (visible at phone width), summary, number"
    assert "记-2025-03-0001" not in html  # March's vouchers belong to March's report
    assert f'href="/public/r/{r.id}.pdf"' in html
    assert f'href="/api/v1/public/reports/{r.id}/bundle.json"' in html
    assert f'href="/api/v1/public/reports/{r.id}.csv"' in html
    vkey = notes.vkey(r.checkpoint.key.name, bytes(r.checkpoint.key.public_key))
    (link,) = re.findall(r'href="(/verify\?[^"]*)"', html)
    query = parse_qs(urlsplit(html_lib.unescape(link)).query)
    assert query == {"bundle": [f"/api/v1/public/reports/{r.id}/bundle.json"], "key": [vkey]}
    assert r.checkpoint.note.split("\n")[2] in html  # the root in the signed note
    assert "✓ Verified" in html
    for link in (
        f"/api/v1/public/reports/{r.id}/bundle.json",
        f"/api/v1/public/reports/{r.id}.csv",
    ):
        assert client.get(link).status_code == 200


def test_a_summary_that_names_a_resident_is_withheld_from_the_page(client, published):
    html = page(client, f"/public/r/{published.april.id}", headers=EN)
    assert "李建国" not in html
    assert "summary withheld" in html
    assert "123.45" in html  # the amount is an aggregate line of the report, still shown
    march = page(client, f"/public/r/{published.march.id}", headers=EN)
    assert "收取 3 月物业费" in march and "summary withheld" not in march


@pytest.mark.parametrize(
    "text, safe",
    [
        ("收取 9 月物业费", True),
        ("便民超市 8 月上旬销售收入", True),
        ("开具 8 月物业费账单（136 户）", True),
        ("张秀英交物业费", False),
        ("张** 交物业费", False),
        ("退还 13800138001 押金", False),
        ("退还 139****1234 押金", False),
        ("身份证 51010719650312452X 登记", False),
        ("1栋1单元101 维修", False),
        ("3 栋 2 单元 601 漏水", False),
        ("502室 维修", False),
        ("1栋电梯维修", True),
    ],
)
def test_personal_data_screen(app, organisation, published, text, safe):
    assert PersonalDataScreen(organisation.community_id).is_safe(text) is safe


def test_unknown_ids_are_404_not_500(client, published):
    for url in (
        "/public/r/999999",
        "/public/r/999999.pdf",
        "/public/o/999999",
        "/public/r/99999999999999999999",
        "/public/r/0",
        "/public/c/" + "x" * 65,
    ):
        page(client, url, 404)


def test_public_pages_need_no_login_and_carry_no_inline_script_or_style(
    client, organisation, published
):
    for url in (
        "/public/",
        f"/public/c/{organisation.community.slug}",
        f"/public/o/{organisation.id}",
        f"/public/r/{published.march.id}",
    ):
        resp = client.get(url)
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        assert "<script" not in html and "style=" not in html and "<style" not in html
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        assert "/static/css/public.css" in html


# --- verification status ---------------------------------------------------------------------


def tampered_copy(
    report: DisclosureReport, bundle_text: str, sha: str | None = None
) -> DisclosureReport:
    """An unsaved report with other bytes, for verify_report (published rows never change)."""
    import hashlib

    return DisclosureReport(
        bundle=bundle_text,
        bundle_sha256=sha or hashlib.sha256(bundle_text.encode()).hexdigest(),
        checkpoint=report.checkpoint,
        previous=report.previous,
        period_start=report.period_start,
        period_end=report.period_end,
    )


def test_verify_report_runs_the_cli_checks(app, published):
    v = verify_report(published.april)
    assert v.ok and not v.failed
    names = {c.check for c in v.checks}
    assert {
        "stored_hash",
        "checkpoint_signature",
        "log_root",
        "consistency_proof",
        "previous_bundle",
        "closing_balances",
    } <= names
    assert any(n.startswith("statement") for n in names)


def test_a_changed_amount_fails_verification(app, published):
    bundle = json.loads(published.march.bundle)
    bundle["log"]["records"][0]["lines"][0]["debit"] += 100
    v = verify_report(tampered_copy(published.march, json.dumps(bundle, ensure_ascii=False)))
    assert v.status == "failed"
    assert "log_root" in {c.check for c in v.failed}


def test_bytes_that_differ_from_the_recorded_hash_fail(app, published):
    v = verify_report(tampered_copy(published.march, published.march.bundle, sha="0" * 64))
    assert [c.check for c in v.failed] == ["stored_hash"]


def test_a_bundle_that_is_not_json_fails_without_crashing(app, published):
    v = verify_report(tampered_copy(published.march, '{"format": 1, "format": 2}'))
    assert v.status == "failed" and "bundle_json" in {c.check for c in v.failed}


def test_a_report_tampered_in_the_database_shows_failed_on_its_pages(
    client, organisation, published
):
    without_triggers("disclosure_reports")
    bundle = json.loads(published.march.bundle)
    bundle["statements"][0]["lines"][1]["amount"] += 1
    db.session.execute(
        sa.text("UPDATE disclosure_reports SET bundle = :b WHERE id = :id"),
        {"b": json.dumps(bundle, ensure_ascii=False), "id": published.march.id},
    )
    db.session.expire_all()
    html = page(client, f"/public/r/{published.march.id}", headers=EN)
    assert "✗ Verification failed" in html
    assert "stored_hash" in html
    org = page(client, f"/public/o/{organisation.id}", headers=EN)
    assert org.count("✗ Verification failed") >= 1


# --- receipts --------------------------------------------------------------------------------


def receipt_url(published, ext: str = "", resident=None) -> str:
    r = resident or published.payer
    return f"/books/{published.book.organisation_id}/vouchers/{published.fee.id}/receipt/{r.id}" + (
        f".{ext}" if ext else ""
    )


def test_staff_get_a_receipt_that_the_cli_verifies(app, client_as, organisation, published):
    c = client_as("auditor")
    resp = c.get(receipt_url(published, "json"))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert "attachment" in resp.headers["Content-Disposition"]
    receipt = json.loads(resp.get_data(as_text=True))
    assert receipt["format"] == "commons-ledger/receipt/1"
    assert receipt["private"][0]["name"] == PAYER[0]
    key = verify.parse_key(published.april.checkpoint.key.fingerprint)
    result = verify.verify_receipt(receipt, key=key)
    assert not result.failed, result.text()
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export receipt json"))
    assert ev is not None and ev.user_id == c.user.id and ev.organisation_id == organisation.id
    assert json.loads(ev.detail)["resident"] == published.payer.id


def test_the_resident_gets_their_own_receipt_and_no_one_elses(app, client, published):
    from core.models import User

    user = db.session.get(User, published.payer.user_id)
    login(client, user.username)
    html = page(client, receipt_url(published))
    assert PAYER[0] in html and "收取 3 月物业费" in html
    for ext in ("json", "pdf", "svg"):
        assert f'href="{receipt_url(published, ext)}"' in html
    assert client.get(receipt_url(published, "json")).status_code == 200
    # Another resident's receipt: refused, whether or not they are on the voucher.
    assert client.get(receipt_url(published, "json", resident=published.other)).status_code == 403
    mine = page(client, "/receipts")
    assert f'href="{receipt_url(published)}"' in mine


def test_the_public_never_gets_a_receipt(client, published):
    for ext in ("", "json", "pdf", "svg"):
        resp = client.get(receipt_url(published, ext))
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_staff_of_another_organisation_are_refused(
    app, client, organisation_factory, user_factory, published
):
    stranger = user_factory()
    grant_role(stranger, organisation_factory(), "admin")
    db.session.flush()
    login(client, stranger.username)
    assert client.get(receipt_url(published, "json")).status_code == 403


def test_a_voucher_without_the_resident_has_no_receipt(app, client_as, published):
    c = client_as("preparer")
    url = f"/books/{published.book.organisation_id}/vouchers/{published.named.id}/receipt/{published.payer.id}.json"
    assert c.get(url).status_code == 404


def test_the_qr_code_encodes_the_receipt_address(app, client_as, published):
    c = client_as("reviewer")
    resp = c.get(receipt_url(published, "svg"))
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    svg = resp.get_data(as_text=True)
    assert "<svg" in svg and "<path" in svg
    assert svg == pdf.qr_svg(receipt_check_link(c, published))
    assert pdf.qr_svg("http://localhost/other") != svg


def receipt_check_link(c, published) -> str:
    """What a receipt's QR code holds: the public "check my receipt" page with the receipt in
    the fragment (issue 14 item 4)."""
    receipt = json.loads(c.get(receipt_url(published, "json")).get_data(as_text=True))
    link = "http://localhost/verify/receipt#" + receipts.fragment(receipt)
    # The fragment unpacks to the very receipt: raw DEFLATE, base64url without padding.
    packed = link.split("#r=", 1)[1]
    assert "=" not in packed and "+" not in packed and "/" not in packed
    raw = zlib.decompress(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)), -15)
    assert json.loads(raw) == receipt
    return link


def test_the_receipt_page_links_the_public_check_with_the_receipt_in_the_fragment(
    app, client_as, published
):
    c = client_as("reviewer")
    html = html_lib.unescape(c.get(receipt_url(published)).get_data(as_text=True))
    assert f'href="{receipt_check_link(c, published)}"' in html
    # The check page itself needs no login and never sees the receipt (a fragment).
    anonymous = app.test_client()
    resp = anonymous.get("/verify/receipt")
    assert resp.status_code == 200 and 'id="receipt-form"' in resp.get_data(as_text=True)


def test_without_segno_the_qr_code_is_a_clear_503(app, client_as, published, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "segno", None)  # import segno → ImportError
    c = client_as("reviewer")
    resp = c.get(receipt_url(published, "svg"), headers={"Accept-Language": "en"})
    assert resp.status_code == 503
    assert "QR codes cannot be made" in resp.get_data(as_text=True)
    assert c.get(receipt_url(published, "json")).status_code == 200
    assert c.get(receipt_url(published)).status_code == 200  # the page links the SVG, makes none


def test_the_receipt_pdf_embeds_the_qr_code(app, client_as, published, monkeypatch):
    seen = {}

    def capture(html: str) -> bytes:
        seen["html"] = html
        return b"%PDF-1.7 test"

    monkeypatch.setattr(pdf, "render_pdf", capture)
    c = client_as("reviewer")
    assert c.get(receipt_url(published, "pdf")).status_code == 200
    uri = pdf.qr_data_uri(receipt_check_link(c, published))
    assert f'src="{uri}"' in seen["html"].replace("&#39;", "'").replace("&amp;", "&")


def test_a_bundle_too_large_to_check_on_a_page_says_so(
    client, organisation, published, monkeypatch
):
    from transparency import public

    monkeypatch.setattr(public, "PAGE_VERIFY_MAX_CHARS", 10)
    monkeypatch.setattr(public, "LIST_VERIFY_MAX_CHARS", 10)
    html = page(client, f"/public/r/{published.april.id}", headers=EN)
    assert "Not checked here" in html and "✓ Verified" not in html
    assert page(client, f"/public/o/{organisation.id}", headers=EN).count("Not checked here") == 2


# --- bounded input (issue 9 item 4) ------------------------------------------------------------


@pytest.mark.parametrize("bad", ["²", "３", "٣", "1" * 5000, "-1", "1.5"])
def test_public_proof_arguments_are_ascii_and_bounded(client, published, bad):
    book_id = published.april.book_id
    for url, args in (
        (f"/api/v1/public/books/{book_id}/proof", {"index": bad}),
        (f"/api/v1/public/books/{book_id}/proof", {"index": "0", "size": bad}),
        (f"/api/v1/public/books/{book_id}/consistency", {"old": bad}),
    ):
        resp = client.get(url, query_string=args)
        assert resp.status_code == 422, (url, args, resp.status_code)
        assert resp.get_json()["errors"]


def test_unicode_digits_in_public_addresses_are_not_found(client, published):
    r = published.april
    assert client.get(f"/public/r/{r.id}").status_code == 200
    wide = str(r.id).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert client.get(f"/public/r/{wide}").status_code == 404
    assert client.get(f"/api/v1/public/reports/{wide}.csv").status_code == 404


def test_publishing_takes_ascii_months_only(app, organisation, people, published):
    from tests.ledger.test_api import Api

    api = Api(app, organisation, people["reviewer"])
    api.base = "/api/v1"
    for period in ("２０２５-０５", "2025-0５", "0001-01", "1" * 5000):
        resp = api.post(f"/organisations/{organisation.id}/reports", {"period": period})
        assert resp.status_code == 422, (period[:12], resp.status_code)


def test_report_page_starts_with_in_out_left_the_largest_items_and_is_it_checked(client, published):
    """Issue 14 item 1 (first part): the resident's questions before the statutory forms."""
    html = page(client, f"/public/r/{published.april.id}")
    head = html[: html.index('id="statements"')]
    # April: 123.45 came in (场地费, a 5001 revenue), 2,000.00 went out (房租, 5602).
    assert "本期收入" in head and "¥123.45" in head
    assert "本期支出" in head and "¥2,000.00" in head
    assert "本期结余" in head and "−¥1,876.55" in head
    # March, the previous report: 10,000.00 of sales came in (the fee was a receivable).
    assert "上期 ¥10,000.00" in head
    assert "最大的几项支出" in head and "管理费用" in head
    assert "核验过吗？</strong>\n是的：本网站根据签名记录重新计算了每个数字" in head
    # The statutory statements follow, folded, with their zero rows hidden (a checkbox, no
    # script, shows them).
    assert re.search(r'<section class="card" id="statements">\s*<details>', html)
    assert 'id="show-zero"' in html and '<div class="pub-hide-zero">' in html
    # The server's own checks, listed in Chinese as the command-line verifier prints them.
    assert "通过 按记录重算日志根（log_root）" in html
    assert 'class="pub-item pub-zero"' in html
