"""A transfer from the community economy is booked in both books, each voucher in its own
book and linked to the other, both or neither."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core.auth import grant_role
from core.db import db
from core.errors import DomainError, NotPermitted
from funds import services as fs
from funds.models import Inflow
from ledger import services as ledger
from ledger.models import Account, Voucher, VoucherLine

D = dt.date


@pytest.fixture
def enterprise(host, organisation_factory):
    ent = organisation_factory(kind="enterprise", community=host.org.community, name="望平社区企业")
    book = ledger.create_book(ent)
    grant_role(host.prep, ent, "preparer")
    db.session.flush()

    def acc(code):
        return ledger.account_by_code(book, code).id

    ledger.post_vouchers(
        book,
        [
            ledger.VoucherInput(
                date=D(2026, 1, 2),
                summary="股东出资",
                lines=[
                    ledger.LineInput(account_id=acc("1002"), debit=100_000_00),
                    ledger.LineInput(account_id=acc("3001"), credit=100_000_00),
                ],
            )
        ],
        source="test",
        actor=host.prep,
    )
    return ent


def _vouchers(book_id: int) -> list[Voucher]:
    return list(db.session.scalars(sa.select(Voucher).where(Voucher.book_id == book_id)))


def _lines(vid: int) -> dict[str, tuple[int, int, int | None, int | None]]:
    rows = db.session.execute(
        sa.select(VoucherLine, Account.code)
        .join(Account, Account.id == VoucherLine.account_id)
        .where(VoucherLine.voucher_id == vid)
    ).all()
    return {code: (ln.debit, ln.credit, ln.fund_id, ln.counterparty_org_id) for ln, code in rows}


def test_both_books_get_their_linked_voucher(host, enterprise):
    ent_book = ledger.book_for(enterprise)
    before = len(_vouchers(ent_book.id))
    i = fs.record_transfer(
        host.micro,
        enterprise=enterprise,
        amount=6_000_00,
        date=D(2026, 2, 5),
        note="利润 10%",
        actor=host.prep,
    )
    # the enterprise pays: Dr 5711 营业外支出, Cr 1002 银行存款, counterparty the foundation
    assert len(_vouchers(ent_book.id)) == before + 1
    out = db.session.get(Voucher, i.source_voucher_id)
    assert out.book_id == ent_book.id and out.status == "posted"
    assert _lines(out.id) == {
        "5711": (6_000_00, 0, None, host.org.id),
        "1002": (0, 6_000_00, None, host.org.id),
    }
    # the foundation receives into the fund: Dr 1002, Cr 4901(02 restricted), fund tagged
    inn = db.session.get(Voucher, i.voucher_id)
    assert inn.book_id == host.book.id and inn.status == "posted"
    lines = _lines(inn.id)
    assert lines["1002"] == (6_000_00, 0, None, enterprise.id)
    (rev,) = [k for k in lines if k.startswith("4901")]
    assert lines[rev] == (0, 6_000_00, host.micro.fund_id, enterprise.id)
    # linked: the inflow keeps both; the foundation's lines name the enterprise's voucher
    assert i.source_organisation_id == enterprise.id and i.kind == "transfer"
    memo = db.session.scalar(sa.select(VoucherLine.memo).where(VoucherLine.voucher_id == inn.id))
    assert out.number and out.number in memo
    st = fs.fund_statement(host.micro, D(2026, 1, 1), D(2026, 12, 31))
    assert st.inflows["transfer"] == 6_000_00
    assert all(c.ok for c in fs.check_statements(host.org))


def test_neither_book_when_the_second_voucher_is_refused(host, enterprise):
    """The foundation's January is closed: its voucher is refused after the enterprise's was
    written in the same savepoint, so the enterprise's is gone too and no inflow is kept."""
    ent_book = ledger.book_for(enterprise)
    ledger.close_period(host.book, 2026, 1, actor=host.admin)
    before_ent, before_host = len(_vouchers(ent_book.id)), len(_vouchers(host.book.id))
    with pytest.raises(DomainError):
        fs.record_transfer(
            host.micro, enterprise=enterprise, amount=1_000_00, date=D(2026, 1, 20), actor=host.prep
        )
    assert len(_vouchers(ent_book.id)) == before_ent
    assert len(_vouchers(host.book.id)) == before_host
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Inflow)) == 0
    # the session is still usable and a good transfer then goes through in both books
    fs.record_transfer(
        host.micro, enterprise=enterprise, amount=1_000_00, date=D(2026, 2, 2), actor=host.prep
    )
    assert len(_vouchers(ent_book.id)) == before_ent + 1


def test_neither_book_when_the_enterprise_voucher_is_refused(host, enterprise):
    ent_book = ledger.book_for(enterprise)
    grant_role(host.admin, enterprise, "admin")
    ledger.close_period(ent_book, 2026, 1, actor=host.admin)
    before = len(_vouchers(ent_book.id)), len(_vouchers(host.book.id))
    with pytest.raises(DomainError):
        fs.record_transfer(
            host.micro, enterprise=enterprise, amount=100_00, date=D(2026, 1, 25), actor=host.prep
        )
    assert (len(_vouchers(ent_book.id)), len(_vouchers(host.book.id))) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Inflow)) == 0


def test_transfer_refusals(host, enterprise, organisation_factory, user_factory):
    # one side only is no longer possible
    with pytest.raises(DomainError, match="enterprise|企业"):
        fs.record_inflow(
            host.micro, kind="transfer", amount=100, date=D(2026, 2, 1), actor=host.prep
        )
    # an enterprise of another community
    other = organisation_factory(kind="enterprise")
    ledger.create_book(other)
    grant_role(host.prep, other, "preparer")
    with pytest.raises(DomainError):
        fs.record_transfer(
            host.micro, enterprise=other, amount=100, date=D(2026, 2, 1), actor=host.prep
        )
    # someone who may not prepare the enterprise's vouchers
    with pytest.raises(NotPermitted):
        fs.record_transfer(
            host.micro, enterprise=enterprise, amount=100, date=D(2026, 2, 1), actor=host.admin
        )
    # a closed fund
    fs.close_fund(host.micro, actor=host.admin)
    with pytest.raises(DomainError):
        fs.record_transfer(
            host.micro, enterprise=enterprise, amount=100, date=D(2026, 2, 1), actor=host.prep
        )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Inflow)) == 0
    assert fs.transfer_sources(host.org) == [enterprise]


def test_api_transfer_posts_both_books(host, enterprise, client_as):
    c = client_as("preparer", org=host.org)
    grant_role(c.user, enterprise, "preparer")
    db.session.flush()
    base = f"/api/v1/organisations/{host.org.id}/community-funds/{host.micro.id}/inflows"
    h = {"X-CSRFToken": c.csrf, "Idempotency-Key": "t-1"}
    body = {
        "kind": "transfer",
        "amount": "300.00",
        "date": "2026-02-05",
        "enterprise_id": enterprise.id,
    }
    r1 = c.post(base, json=body, headers=h)
    r2 = c.post(base, json=body, headers=h)
    assert r1.status_code == 201 and r2.headers.get("Idempotent-Replayed") == "true"
    (i,) = db.session.scalars(sa.select(Inflow)).all()
    assert r1.get_json()["voucher_id"] == i.voucher_id
    assert db.session.get(Voucher, i.source_voucher_id).book_id == ledger.book_for(enterprise).id
    # a transfer without its enterprise, or from an organisation that is not a source: refused
    h = {"X-CSRFToken": c.csrf}
    r = c.post(base, json={**body, "enterprise_id": None}, headers=h)
    assert r.status_code == 422
    assert "双方账套" in r.get_json()["message"]  # translated: Chinese first
    r = c.post(base, json={**body, "enterprise_id": host.org.id}, headers=h)
    assert r.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Inflow)) == 1
