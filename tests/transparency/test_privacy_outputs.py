"""Issue 9 item 2: personal data typed into summaries never reaches a public output.

Posting refuses such summaries once the ledger's validation calls
``core.privacy.check_free_text`` (tested below directly, since the summary is signed into the
log and the bundle can never withhold it). The page, the PDF and the CSV screen every summary
with the same detector, for records posted before that rule: these tests post them as such
legacy records (the check switched off) and read every public output back.
"""

from __future__ import annotations

import html as html_lib
import json

import pytest

from core import privacy
from core.db import db
from core.privacy import check_free_text, normalise
from ledger import services as svc
from tests.ledger.conftest import lines
from tests.transparency.publicdata import *  # noqa: F403  (fixtures)
from tests.transparency.publicdata import PAYER, D, pdf_text, requires_poppler
from transparency.disclosure import publish_report

NAME, PHONE, IDN, UNIT = PAYER
CRAFTED = [
    f"收{NAME[0]}\u200b{NAME[1:]}物业费",  # zero-width space
    f"收 {' '.join(NAME)} 物业费",  # spaces
    f"收{NAME[0]}\u2060{NAME[1]}\u00ad{NAME[2]}停车费",  # word joiner, soft hyphen
    f"退押金 {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}",
    f"退押金 {PHONE[:3]}-{PHONE[3:7]}-{PHONE[7:]}",
    "退押金 " + PHONE.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}),  # full width
    "登记 " + " ".join(IDN[i : i + 4] for i in range(0, 18, 4)),
    "维修 " + UNIT.replace("栋", " 栋 "),
]
SAFE = "收取 5 月物业费"


@pytest.fixture
def leaky(organisation, book, acct, people, resident_factory, monkeypatch):
    """A May report whose records carry the crafted summaries, posted as if before the rule."""
    payer = resident_factory(
        community=organisation.community, name=NAME, phone=PHONE, id_number=IDN, unit=UNIT
    )
    db.session.flush()
    a1002, a5001 = acct("1002"), acct("5001")
    with monkeypatch.context() as m:
        m.setattr(privacy, "check_free_text", lambda *_a, **_k: [])
        for n, summary in enumerate([SAFE, *CRAFTED], start=1):
            v = svc.create_voucher(
                book,
                svc.VoucherInput(
                    D(2025, 5, n),
                    summary,
                    lines(
                        (a1002, n * 100, 0, {"resident_id": payer.id}),
                        (a5001, 0, n * 100, {"resident_id": payer.id}),
                    ),
                ),
                actor=people["preparer"],
            )
            svc.submit_voucher(v, actor=people["preparer"])
            svc.approve_voucher(v, actor=people["reviewer"])
            svc.post_voucher(v, actor=people["reviewer"])
    svc.close_period(book, 2025, 5, actor=people["reviewer"])
    report = publish_report(book, "2025-05", actor=people["reviewer"])
    db.session.commit()
    return report


def leaks(text: str) -> list[str]:
    """The payer's data in ``text``, however it is spaced or split."""
    flat = normalise(text)
    digits = "".join(ch for ch in flat if ch.isdigit())
    found = [v for v in (NAME, normalise(UNIT)) if v in flat]
    found += [v for v in (PHONE, IDN[:17]) if v in digits]
    return found + [s for s in CRAFTED if s in text]


def test_the_crafted_summaries_are_really_in_the_signed_records(leaky):
    summaries = [r["summary"] for r in json.loads(leaky.bundle)["log"]["records"]]
    assert summaries == [SAFE, *CRAFTED]


def test_the_report_page_withholds_every_crafted_summary(client, leaky):
    html = html_lib.unescape(client.get(f"/public/r/{leaky.id}").get_data(as_text=True))
    assert SAFE in html
    assert leaks(html) == []
    assert html.count("个人信息") >= len(CRAFTED)  # the withheld note, once per record


def test_the_csv_withholds_every_crafted_summary(client, leaky):
    resp = client.get(f"/api/v1/public/reports/{leaky.id}.csv")
    assert resp.status_code == 200
    text = resp.data.decode("utf-8-sig")
    assert SAFE in text
    assert leaks(text) == []
    rows = [r for r in text.splitlines()[1:] if r]
    assert len(rows) == 2 * (1 + len(CRAFTED))  # every line is still there to re-total


@requires_poppler
def test_the_pdf_withholds_every_crafted_summary(client, leaky, tmp_path):
    resp = client.get(f"/public/r/{leaky.id}.pdf")
    assert resp.status_code == 200
    text, _fonts, _pages = pdf_text(resp.data, tmp_path)
    assert normalise(SAFE) in normalise(text)
    assert leaks(text) == []


@pytest.mark.parametrize("summary", CRAFTED)
def test_posting_would_refuse_every_crafted_summary(app, organisation, resident_factory, summary):
    """What keeps them out of the signed records (and so out of the bundle) from now on."""
    resident_factory(
        community=organisation.community, name=NAME, phone=PHONE, id_number=IDN, unit=UNIT
    )
    db.session.flush()
    assert check_free_text(organisation.community_id, summary)
    assert check_free_text(organisation.community_id, SAFE) == []
