"""The ledger factories (tests/factories.py) make books and vouchers through the ledger's
public services, so what they make is what a treasurer would have made."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.db import db
from core.models import OrganisationKind, Role
from ledger.models import Account, Book, Voucher, VoucherStatus


def test_the_book_fixture_has_its_standards_chart(book, organisation):
    assert book.organisation_id == organisation.id
    assert book.standard == organisation.standard == "SME_2011"
    codes = set(db.session.scalars(sa.select(Account.code).where(Account.book_id == book.id)))
    assert {"1002", "5001"} <= codes


def test_the_account_fixture_is_looked_up_in_the_book(account, book):
    assert (account.book_id, account.code) == (book.id, "1002")


def test_an_account_that_is_not_in_the_chart_is_an_error(account_factory, book):
    with pytest.raises(LookupError, match="no account 9999"):
        account_factory(book=book, code="9999")


def test_the_voucher_fixture_is_posted_through_the_review_queue(voucher, book):
    assert voucher.status == VoucherStatus.POSTED
    assert voucher.book_id == book.id
    assert voucher.log_index == 0 and book.log_size == 1
    assert voucher.number  # the gapless number is given on posting
    assert voucher.prepared_by_id != voucher.approved_by_id == voucher.posted_by_id
    assert sum(ln.debit for ln in voucher.lines) == sum(ln.credit for ln in voucher.lines) == 100_00


@pytest.mark.parametrize("voucher__status", ["draft"])
def test_a_draft_voucher_is_neither_numbered_nor_logged(voucher, book):
    assert voucher.status == VoucherStatus.DRAFT
    assert voucher.log_index is None and book.log_size == 0


@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_the_voucher_stops_at_the_step_asked_for(voucher_factory, book, status):
    assert voucher_factory(book=book, status=status).status == status


@pytest.mark.parametrize("kind", [k.value for k in OrganisationKind])
def test_a_default_voucher_posts_in_every_standards_book(
    book_factory, organisation_factory, voucher_factory, kind
):
    book = book_factory(organisation=organisation_factory(kind=kind))
    first = voucher_factory(book=book)
    second = voucher_factory(book=book, lines=[("1002", 5_00, 0), ("1001", 0, 5_00)])
    assert (first.log_index, second.log_index) == (0, 1)
    assert db.session.get(Book, book.id).log_size == 2
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Voucher).where(Voucher.book_id == book.id)
        )
        == 2
    )


def test_the_people_in_a_voucher_hold_their_roles(voucher):
    preparer, reviewer = voucher.prepared_by, voucher.approved_by
    assert preparer.roles_in(voucher.book.organisation_id) == {Role.PREPARER.value}
    assert reviewer.roles_in(voucher.book.organisation_id) == {Role.REVIEWER.value}
