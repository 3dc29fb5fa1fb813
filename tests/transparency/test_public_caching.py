"""Caching of the public pages (issue 14 item 8): an ETag and ``Cache-Control: public,
no-cache`` on every public page, 304 for an unchanged one; report PDFs rendered once and
stored, not rendered again on every request."""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa

from core import pdf
from core.db import db
from core.models import AuditEvent
from tests.conftest import login
from tests.transparency.publicdata import *  # noqa: F403  (fixtures)


def _pages(organisation, published):
    return [
        "/public/",
        f"/public/c/{organisation.community.slug}",
        f"/public/o/{organisation.id}",
        f"/public/r/{published.april.id}",
    ]


def test_public_pages_answer_304_when_unchanged(client, organisation, published):
    for url in _pages(organisation, published):
        first = client.get(url)
        assert first.status_code == 200, url
        etag = first.headers["ETag"]
        assert etag and first.headers["Cache-Control"] == "public, no-cache", url
        assert {"accept-language", "cookie"} <= {v.lower() for v in first.vary}, url
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", url
        # Another language is another page: another tag, the whole page again.
        english = client.get(url, headers={"If-None-Match": etag, "Accept-Language": "en"})
        assert english.status_code == 200 and english.headers["ETag"] != etag, url


def test_a_signed_in_visitor_gets_no_cached_pages(client, organisation, published, user_factory):
    user = user_factory(username="cachecheck")
    login(client, user.username)
    url = f"/public/r/{published.april.id}"
    resp = client.get(url)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 200


def test_a_report_pdf_is_rendered_once_and_stored(
    app, client, organisation, published, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "REPORT_PDF_CACHE", str(tmp_path / "pdfs"))
    calls = []
    real = pdf.render_pdf

    def counting(html):
        calls.append(1)
        return real(html)

    monkeypatch.setattr(pdf, "render_pdf", counting)
    url = f"/public/r/{published.april.id}.pdf"
    first = client.get(url)
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    second = client.get(url)
    assert second.data == first.data
    assert len(calls) == 1  # the second answer was read from the store
    assert len(list((tmp_path / "pdfs").glob(f"report-{published.april.id}-*-zh.pdf"))) == 1
    english = client.get(url, headers={"Accept-Language": "en"})
    assert english.data != first.data and len(calls) == 2  # one per language
    # Every export is still recorded (DOMAIN.md DP-7).
    exports = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "export report pdf")
    )
    assert exports == 3
    # Unchanged: a 304 from the file answer's own tag.
    assert client.get(url, headers={"If-None-Match": second.headers["ETag"]}).status_code == 304


def test_a_verification_is_shared_between_processes_and_bound_to_the_bytes(
    app, client, organisation, published, monkeypatch, tmp_path
):
    """Checking a 6 MB bundle takes about a second: one server process checks it and keeps the
    result in the instance folder; the others (here: the same one with its memory emptied) read
    it. A bundle whose bytes differ is checked afresh, never given a kept result."""
    from transparency import public, verify

    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.setattr(public, "_VERIFIED", {})
    calls = []
    real = public._verify_bytes
    monkeypatch.setattr(public, "_verify_bytes", lambda *a: calls.append(1) or real(*a))
    url = f"/public/r/{published.april.id}"
    first = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert calls == [1] and len(list((tmp_path / "cache/verified").iterdir())) == 1
    public._VERIFIED.clear()  # another process: nothing in memory
    again = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert calls == [1] and again == first  # the kept checks, rendered in Chinese the same
    kept = public._VERIFIED.popitem()[1]
    assert kept.status == "verified"
    assert any(isinstance(c.message, verify.Msg) for c in kept.checks)

    report = published.april
    tampered = SimpleNamespace(
        bundle=report.bundle + " ",  # one more byte than was published and recorded
        bundle_chars=report.bundle_chars + 1,
        bundle_sha256=report.bundle_sha256,
        previous=report.previous,
        checkpoint=report.checkpoint,
    )
    result = public.verify_report(tampered)
    assert calls == [1, 1] and result.status == "failed"
    assert len(list((tmp_path / "cache/verified").iterdir())) == 2


def test_the_publication_marker_is_the_newest_report_and_checkpoint(published):
    """What core/pagecache.py compares before using a kept public page: a report published by
    any server process changes it, so no process shows a page from before the publication."""
    from core import pagecache
    from transparency import public

    assert public._published_marker in pagecache.FRESHNESS
    marker = public._published_marker(db.session.connection())
    assert marker == (published.april.id, published.april.checkpoint_id)
    assert published.april.id > published.march.id
