"""PDF documents, read back with poppler: the text a reader sees, the fonts that travel with
the file, the page count; and the clear 503 when a PDF cannot be made."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from core import pdf
from core.db import db
from core.models import AuditEvent, User
from tests.conftest import login
from tests.transparency.publicdata import *  # noqa: F403  (fixtures)
from tests.transparency.publicdata import PAYER, pdf_text, requires_poppler

pytestmark = requires_poppler


def exports(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def cjk_fonts_embedded(fonts: str) -> list[str]:
    """Names of embedded CJK fonts in ``pdffonts`` output (the ``emb`` column says yes)."""
    out = []
    for line in fonts.splitlines()[2:]:
        cols = line.split()
        # name type… encoding emb sub uni object-id generation
        if len(cols) >= 6 and "CJK" in cols[0] and cols[-5] == "yes":
            out.append(cols[0])
    return out


def test_report_pdf_carries_title_organisation_figures_and_an_embedded_chinese_font(
    client, organisation, published, tmp_path
):
    r = published.april
    resp = client.get(f"/public/r/{r.id}.pdf")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF-")
    text, fonts, pages = pdf_text(resp.data, tmp_path)
    assert organisation.name in text
    assert "资产负债表" in text and "利润表" in text and "货币资金" in text
    assert "63,519.45" in text  # 货币资金, line 1
    assert "123.45" in text  # April's revenue
    assert "支付房租" in text and "记-2025-04-0002" in text
    assert r.checkpoint.key.fingerprint[:4] in text and r.bundle_sha256 in text
    assert cjk_fonts_embedded(fonts), fonts
    assert pages >= 2
    # Every page's footer says "n / pages".
    for n in range(1, pages + 1):
        assert re.search(rf"\b{n}\s*/\s*{pages}\b", text), (n, pages)
    # The personal data stays out of the public PDF too.
    for value in PAYER + ("李建国",):
        assert value not in text


def test_every_report_pdf_export_is_in_the_audit_trail(client, published):
    assert client.get(f"/public/r/{published.march.id}.pdf").status_code == 200
    (ev,) = exports("export report pdf")
    detail = json.loads(ev.detail)
    assert detail["report_id"] == published.march.id
    assert detail["bundle_sha256"] == published.march.bundle_sha256
    assert ev.user_id is None and ev.outcome == "ok" and ev.occurred_at is not None


def test_a_logged_in_export_names_the_user(app, client_as, published):
    c = client_as("auditor")
    assert c.get(f"/public/r/{published.march.id}.pdf").status_code == 200
    (ev,) = exports("export report pdf")
    assert ev.user_id == c.user.id and ev.username == c.user.username


def test_receipt_pdf_names_the_resident_and_carries_the_proof(app, client, published, tmp_path):
    login(client, db.session.get(User, published.payer.user_id).username)
    url = f"/books/{published.book.organisation_id}/vouchers/{published.fee.id}/receipt/{published.payer.id}.pdf"
    resp = client.get(url)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    text, fonts, pages = pdf_text(resp.data, tmp_path)
    assert PAYER[0] in text  # the resident's own document
    assert "收取 3 月物业费" in text and published.fee.number in text
    assert "4,096.00" in text
    assert re.search(rf"\b{published.fee.log_index}\b", text)
    assert published.april.checkpoint.key.fingerprint[:4] in text
    assert cjk_fonts_embedded(fonts), fonts
    assert pages >= 1
    (ev,) = exports("export receipt pdf")
    assert json.loads(ev.detail)["resident"] == published.payer.id


def test_without_a_chinese_font_the_pdf_is_a_clear_503(client, published, monkeypatch):
    monkeypatch.setattr(pdf, "cjk_font_family", lambda: None)
    resp = client.get(f"/public/r/{published.march.id}.pdf", headers={"Accept-Language": "en"})
    assert resp.status_code == 503
    assert "No Chinese font is installed" in resp.get_data(as_text=True)
    api = client.get(f"/public/r/{published.march.id}.pdf", headers={"Accept": "application/json"})
    assert api.status_code == 503 and api.get_json()["code"] == "pdf_no_cjk_font"
    assert exports("export report pdf") == []
    # The page itself is unaffected.
    assert client.get(f"/public/r/{published.march.id}").status_code == 200


def test_a_weasyprint_failure_is_a_503_not_a_500(client, published, monkeypatch):
    import weasyprint

    def broken(*args, **kwargs):
        raise OSError("cannot load library 'pango-1.0-0'")

    monkeypatch.setattr(weasyprint, "HTML", broken)
    resp = client.get(f"/public/r/{published.march.id}.pdf", headers={"Accept-Language": "en"})
    assert resp.status_code == 503
    assert "PDF documents cannot be made on this server right now" in resp.get_data(as_text=True)


def test_the_font_check_finds_the_installed_noto_font():
    assert pdf.cjk_font_family() in pdf.CJK_FAMILIES


def test_the_pdf_fetches_nothing_but_data_uris(app):
    from weasyprint import urls

    if not hasattr(urls, "URLFetcher"):
        pytest.skip("WeasyPrint before 70 takes a fetcher function")
    fetcher = pdf._url_fetcher()
    for url in ("http://example.org/x.png", "file:///etc/passwd"):
        try:
            with urls.fetch(fetcher, url):
                raise AssertionError(f"fetched {url}")
        except urls.URLFetchingError:
            pass
    with urls.fetch(fetcher, pdf.qr_data_uri("hello")) as resp:
        assert b"<svg" in resp.read()
