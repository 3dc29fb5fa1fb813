"""The shared PDF templates (templates/pdf/): the receipt prints its commitments as lines,
not as program text; the disclosure report names its responsible people."""

from __future__ import annotations

import re

from core.db import db
from core.models import User
from tests.conftest import login
from tests.transparency.publicdata import *  # noqa: F403  (fixtures)
from tests.transparency.publicdata import pdf_text, requires_poppler

pytestmark = requires_poppler


def test_receipt_pdf_prints_commitments_not_program_text(client, published, tmp_path):
    login(client, db.session.get(User, published.payer.user_id).username)
    url = (
        f"/books/{published.book.organisation_id}/vouchers/{published.fee.id}"
        f"/receipt/{published.payer.id}.pdf"
    )
    resp = client.get(url)
    assert resp.status_code == 200
    text, _fonts, _pages = pdf_text(resp.data, tmp_path)
    assert "[{" not in text and "'commitment'" not in text and "'line'" not in text
    assert re.search(r"行次\s*1\s*:", text), text


def test_report_pdf_has_signature_lines(client, published, tmp_path):
    resp = client.get(f"/public/r/{published.april.id}.pdf")
    assert resp.status_code == 200
    text, _fonts, _pages = pdf_text(resp.data, tmp_path)
    squeezed = re.sub(r"\s+", "", text)
    for words in ("单位负责人", "会计机构负责人", "制表人"):
        assert words in squeezed
