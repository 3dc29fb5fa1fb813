"""Year-end closing per standard (DOMAIN.md §5.1): NPO restricted revenue → 3102, the rest → 3101,
and restricted money spent for its purpose is released 3102 → 3101."""

import datetime as dt

import sqlalchemy as sa

from core.auth import grant_role
from core.db import db
from ledger import services as svc
from ledger.models import Account, AccountPeriodBalance


def _balance(book, code, fund_id=None):
    acc = db.session.scalar(
        sa.select(Account).where(Account.book_id == book.id, Account.code == code)
    )
    q = sa.select(
        sa.func.coalesce(sa.func.sum(AccountPeriodBalance.credit - AccountPeriodBalance.debit), 0)
    ).where(AccountPeriodBalance.account_id == acc.id)
    if fund_id is not None:
        q = q.where(AccountPeriodBalance.fund_key == fund_id)
    return db.session.scalar(q)


def test_npo_year_end_closing(organisation_factory, user_factory):
    org = organisation_factory(kind="foundation")
    book = svc.create_book(org)
    prep, rev = user_factory(), user_factory()
    grant_role(prep, org, "preparer")
    grant_role(rev, org, "reviewer")
    fund = svc.create_fund(book, "WP", "邻里互助微基金", restricted=True)
    codes = {
        a.code: a.id
        for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
    }

    def post(d, *ls):
        v = svc.create_voucher(
            book, svc.VoucherInput(d, "测试", [svc.LineInput(**x) for x in ls]), actor=prep
        )
        svc.submit_voucher(v, actor=prep)
        svc.approve_voucher(v, actor=rev)
        svc.post_voucher(v, actor=rev)

    d = dt.date(2025, 5, 1)
    post(
        d,
        dict(account_id=codes["1002"], debit=10000, fund_id=fund.id),
        dict(account_id=codes["410102"], credit=10000, fund_id=fund.id),
    )
    post(
        d,
        dict(account_id=codes["1002"], debit=700, fund_id=fund.id),
        dict(account_id=codes["4301"], credit=700, fund_id=fund.id),
    )
    post(
        d, dict(account_id=codes["1002"], debit=2000), dict(account_id=codes["410101"], credit=2000)
    )
    post(
        d,
        dict(account_id=codes["5101"], debit=3000, fund_id=fund.id),
        dict(account_id=codes["1002"], credit=3000, fund_id=fund.id),
    )
    post(d, dict(account_id=codes["5201"], debit=500), dict(account_id=codes["1002"], credit=500))
    made = svc.generate_year_end_closing(book, 2025, actor=rev)
    assert [v.kind for v in made] == ["closing", "closing"]
    for code in ("410101", "410102", "4301", "5101", "5201"):
        assert _balance(book, code) == 0, code
    # 3102: restricted revenue 10,000 + 700, less the 3,000 released by spending it.
    assert _balance(book, "3102", fund.id) == 10700 - 3000
    # 3101: unrestricted revenue 2,000 − expenses 3,500 + released 3,000.
    assert _balance(book, "3101") == 2000 - 3500 + 3000
