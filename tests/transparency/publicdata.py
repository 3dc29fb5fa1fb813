"""Fixtures shared by the public-page and PDF tests: a small SME book with two published,
chained reports (March and April 2025) and a resident's fee payment with a receipt.

Import the fixtures into a test module with ``from tests.transparency.publicdata import *``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from core import privacy
from core.db import db
from core.models import Resident
from ledger import services as svc
from ledger.models import Book, Voucher
from tests.ledger.conftest import lines
from transparency.disclosure import publish_report
from transparency.models import DisclosureReport

D = dt.date
PAYER = ("张秀英", "13800138001", "510107196503124521", "1栋1单元101")

__all__ = [
    "D",
    "PAYER",
    "Published",
    "pdf_text",
    "published",
    "requires_poppler",
]

requires_poppler = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdfinfo")),
    reason="poppler-utils (pdftotext, pdffonts, pdfinfo) is not installed",
)


@dataclass
class Published:
    book: Book
    march: DisclosureReport
    april: DisclosureReport
    payer: Resident
    other: Resident
    fee: Voucher  # the payer's fee payment (March)
    named: Voucher  # a voucher whose summary names the payer (a treasurer's slip)


@pytest.fixture
def published(
    organisation, book, acct, post, people, resident_factory, user_factory, monkeypatch
) -> Published:
    name, phone, idn, unit = PAYER
    payer = resident_factory(
        community=organisation.community, name=name, phone=phone, id_number=idn, unit=unit
    )
    other = resident_factory(community=organisation.community, name="李建国", unit="1栋2单元302")
    payer.user_id = user_factory(username=f"resident_{organisation.id}").id
    db.session.flush()
    a = {c: acct(c) for c in ("1001", "1002", "1122", "3001", "5001", "2221", "5602")}
    post(
        lines((a["1002"], 50_000_00, 0), (a["3001"], 0, 50_000_00)),
        date=D(2025, 3, 2),
        summary="收到股东出资",
    )
    fee = post(
        lines(
            (a["1002"], 4_096_00, 0, {"resident_id": payer.id}),
            (a["1122"], 0, 4_096_00, {"resident_id": payer.id}),
        ),
        date=D(2025, 3, 12),
        summary="收取 3 月物业费",
    )
    post(
        lines((a["1002"], 11_300_00, 0), (a["5001"], 0, 10_000_00), (a["2221"], 0, 1_300_00)),
        date=D(2025, 3, 20),
        summary="便民超市销售",
    )
    with monkeypatch.context() as m:  # a record from before posting refused such summaries
        m.setattr(privacy, "check_free_text", lambda *_a, **_k: [])
        named = post(
            lines(
                (a["1001"], 123_45, 0, {"resident_id": other.id}),
                (a["5001"], 0, 123_45, {"resident_id": other.id}),
            ),
            date=D(2025, 4, 3),
            summary="李建国 交来场地费",
        )
    post(
        lines((a["5602"], 2_000_00, 0), (a["1002"], 0, 2_000_00)),
        date=D(2025, 4, 20),
        summary="支付房租",
    )
    for month in (3, 4):
        svc.close_period(book, 2025, month, actor=people["reviewer"])
    march = publish_report(book, "2025-03", actor=people["reviewer"])
    april = publish_report(book, "2025-04", actor=people["reviewer"])
    db.session.commit()  # (a savepoint here) so a refused request's rollback keeps it
    return Published(book, march, april, payer, other, fee, named)


def pdf_text(data: bytes, tmp_path, name: str = "doc.pdf") -> tuple[str, str, int]:
    """(text, pdffonts output, page count) of a PDF, read back with poppler."""
    path = tmp_path / name
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return text, fonts, pages
