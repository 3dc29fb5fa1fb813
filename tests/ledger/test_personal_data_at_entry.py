"""A summary is signed into the public record for good, so personal data is refused at entry
and at posting, whoever posts (issue 9 item 2): the resident goes in the counterparty field."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import InvalidInput
from ledger import services as svc

from .conftest import lines

DAY = dt.date(2026, 3, 5)


@pytest.mark.parametrize(
    "summary",
    [
        "收王\u200b小明物业费",
        "收 王 小 明 物业费",
        "王小明 138 0013 8000 物业费",
        "收１３８００１３８０００物业费",
    ],
)
def test_a_summary_naming_a_resident_is_refused_at_entry(
    book, people, acct, resident_factory, summary
):
    resident_factory(community=book.organisation.community, name="王小明", phone="13800138000")
    with pytest.raises(InvalidInput) as e:
        svc.create_voucher(
            book,
            svc.VoucherInput(DAY, summary, lines((acct("1001"), 100, 0), (acct("5001"), 0, 100))),
            actor=people["preparer"],
        )
    assert "summary" in e.value.errors


def test_bulk_posting_refuses_personal_data_too(book, acct, resident_factory):
    resident_factory(community=book.organisation.community, name="王小明")
    good = svc.VoucherInput(DAY, "收物业费", lines((acct("1001"), 100, 0), (acct("5001"), 0, 100)))
    bad = svc.VoucherInput(
        DAY, "收王\u200b小明物业费", lines((acct("1001"), 100, 0), (acct("5001"), 0, 100))
    )
    with pytest.raises(InvalidInput) as e:
        svc.post_vouchers(book, [good, bad], source="import", actor=None)
    assert "vouchers.1.summary" in e.value.errors


def test_a_plain_summary_with_the_resident_as_counterparty_posts(
    book, people, acct, resident_factory, post
):
    r = resident_factory(community=book.organisation.community, name="王小明")
    v = post(
        lines((acct("1001"), 100, 0), (acct("5001"), 0, 100, {"resident_id": r.id})),
        summary="收物业费",
    )
    assert v.is_posted
