"""Checks before publishing (issue 14 item 6): a balance that cannot be negative (cash,
inventory, fixed assets) or a balance sheet that does not balance warns the publisher, naming
the lines; publishing anyway needs a note, which the public page shows with the warnings."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from core.db import db
from core.errors import Conflict, InvalidInput
from ledger import services as svc
from tests.ledger.conftest import lines
from transparency.disclosure import publish_report
from transparency.models import DisclosureReport
from transparency.public_checks import sanity_warnings

D = dt.date


@pytest.fixture
def negative_stock(book, acct, post, people):
    """An SME book whose March sells goods never bought: 库存商品 (inventory) goes negative."""
    a = {c: acct(c) for c in ("1002", "3001", "5001", "5401", "1405")}
    post(lines((a["1002"], 10_000_00, 0), (a["3001"], 0, 10_000_00)), date=D(2025, 3, 2))
    post(lines((a["1002"], 800_00, 0), (a["5001"], 0, 800_00)), date=D(2025, 3, 9))
    post(lines((a["5401"], 5_210_20, 0), (a["1405"], 0, 5_210_20)), date=D(2025, 3, 9))
    svc.close_period(book, 2025, 3, actor=people["reviewer"])


def test_negative_inventory_is_refused_without_a_note_naming_the_line(
    app, book, people, negative_stock
):
    with pytest.raises(Conflict) as e:
        publish_report(book, "2025-03", actor=people["reviewer"])
    assert e.value.code == "needs_note"
    (warning,) = e.value.errors["note"]
    assert "存货" in warning and "-5,210.20" in warning and "负数" in warning
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureReport)) == 0


def test_publishing_anyway_with_a_note_shows_note_and_warning_publicly(
    app, client, book, people, negative_stock
):
    note = "进货凭证漏记，下月补记后存货恢复为正。"
    report = publish_report(book, "2025-03", actor=people["reviewer"], publisher_note=note)
    assert report.publisher_note == note
    html = client.get(f"/public/r/{report.id}").get_data(as_text=True)
    assert "发布者说明" in html and note in html
    assert "资产负债表第" in html and "存货" in html and "-5,210.20" in html
    english = client.get(f"/public/r/{report.id}", headers={"Accept-Language": "en"})
    assert "Inventories" in english.get_data(as_text=True)


def test_the_note_must_be_fit_for_the_public_page(app, book, people, negative_stock):
    for bad in ("请致电 13812345678", "x" * 2001, "a\x00b"):
        with pytest.raises(InvalidInput):
            publish_report(book, "2025-03", actor=people["reviewer"], publisher_note=bad)


def test_publishing_through_the_api_answers_409_with_the_lines(
    app, client_as, organisation, book, people, negative_stock
):
    c = client_as("reviewer")
    url = f"/api/v1/organisations/{organisation.id}/reports"
    resp = c.post(url, json={"period": "2025-03"}, headers={"X-CSRFToken": c.csrf})
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["code"] == "needs_note" and "存货" in body["errors"]["note"][0]
    resp = c.post(
        url, json={"period": "2025-03", "note": "演示：漏记进货"}, headers={"X-CSRFToken": c.csrf}
    )
    assert resp.status_code == 201, resp.get_json()


def test_a_clean_report_needs_no_note(app, book, acct, post, people):
    post(lines((acct("1002"), 100_00, 0), (acct("3001"), 0, 100_00)), date=D(2025, 3, 2))
    svc.close_period(book, 2025, 3, actor=people["reviewer"])
    report = publish_report(book, "2025-03", actor=people["reviewer"])
    assert report.publisher_note is None and report.sanity_warnings is None
    assert sanity_warnings(json.loads(report.bundle)) == []
    # An unbalanced balance sheet (a bundle edited by hand) names both totals.
    bundle = copy.deepcopy(json.loads(report.bundle))
    sheet = next(s for s in bundle["statements"] if s["statement"] == "balance_sheet")
    next(ln for ln in sheet["lines"] if ln["key"] == "total_assets")["amount"] += 1
    (w,) = sanity_warnings(bundle)
    assert w.kind == "unbalanced" and "不平衡" in w.text() and "资产总计" in w.text()
