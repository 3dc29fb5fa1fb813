# SPDX-License-Identifier: AGPL-3.0-or-later
"""Demo (order 30): a 黉门宜邻-like community enterprise owned by 28 resident shareholders.

Its own SME_2011 book, because its history starts in 2024 (the ledger demo's enterprise book
begins three months ago and has its first months closed): subscriptions over two years, part
payments (two still overdue), profit in 2024 closed to 3104, a dividend out of it with the
statutory reserve set aside, most dividend lines paid (20 % IIT withheld), a transfer between
shareholders, a transfer to an outsider through the pre-emption window with two claimants,
its registry filing, one resident's publish_name consent (周淑芬), and a shareholder with a login
(``gudong`` / the demo password) who sees their own statement. Months through 2025-06 are
closed, so the transparency demo publishes them and the payments get their receipts.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import auth
from core.db import db
from core.demo import DEMO_PASSWORD, ROLE_USERS, DemoContext, demo_step
from core.models import KIND_STANDARD, Organisation, OrganisationKind, Resident, ResidentConsent
from ledger import services as lsvc
from ledger.models import Account

from . import services as svc

D = dt.date
NEW_RESIDENTS = [
    ("周淑芬", "4栋1单元102"),
    ("吴国华", "4栋1单元201"),
    ("郑丽萍", "4栋2单元301"),
    ("孙建平", "4栋2单元402"),
    ("马秀珍", "5栋1单元101"),
    ("朱志刚", "5栋1单元302"),
    ("胡玉兰", "5栋2单元201"),
    ("郭德华", "5栋2单元502"),
    ("何桂英", "6栋1单元101"),
    ("高永红", "6栋1单元202"),
    ("林文军", "6栋2单元301"),
    ("罗淑华", "6栋2单元602"),
    ("梁建军", "7栋1单元101"),
    ("宋玉梅", "7栋1单元402"),
    ("谢志明", "7栋2单元201"),
    ("唐秀云", "7栋2单元302"),
    ("韩国强", "8栋1单元101"),
    ("冯丽华", "8栋1单元202"),
    ("邓小平", "8栋2单元301"),
    ("曹桂芝", "8栋2单元402"),
    ("彭建华", "9栋1单元101"),
    ("曾淑英", "9栋1单元202"),
]
OUTSIDER = ("蒋海燕", "9栋2单元301")  # a resident who buys in through pre-emption (or not)


@demo_step(30)
def shareholders_demo(ctx: DemoContext) -> None:
    org = Organisation(
        community_id=ctx.community.id,
        name="玉林宜邻居民服务有限公司",
        slug="yulin-yilin",
        kind=OrganisationKind.ENTERPRISE,
        standard=KIND_STANDARD[OrganisationKind.ENTERPRISE],
    )
    db.session.add(org)
    db.session.flush()
    for username, _display, role in ROLE_USERS:
        auth.grant_role(ctx.users[username], org, role)
    book = lsvc.create_book(org)
    admin = ctx.users["admin"]

    people = list(ctx.residents)
    for name, unit in [*NEW_RESIDENTS, OUTSIDER]:
        person = Resident(community_id=ctx.community.id, name=name, unit=unit)
        db.session.add(person)
        people.append(person)
    db.session.flush()
    outsider = people.pop()  # 28 shareholders remain in ``people``

    svc.set_articles(
        org,
        registered_capital=500_000_00,
        residents_only=True,
        lockup_days=365,
        preemption_days=30,
        actor=admin,
    )
    holders = [svc.add_shareholder(org, resident=r, actor=admin) for r in people]
    # 2024: the first 12 households, ¥15,000 each, paid in full.
    for sh in holders[:12]:
        svc.subscribe(
            org, sh, amount=15_000_00, date=D(2024, 3, 1), due_date=D(2024, 6, 30), actor=admin
        )
        svc.pay_in(org, sh, amount=15_000_00, date=D(2024, 3, 15), actor=admin)
    # 2025: 16 more, ¥10,000–¥17,500, half paid in March, the rest in September (two late).
    for i, sh in enumerate(holders[12:]):
        amount = 10_000_00 + (i % 4) * 2_500_00
        svc.subscribe(
            org, sh, amount=amount, date=D(2025, 3, 1), due_date=D(2025, 9, 30), actor=admin
        )
        svc.pay_in(org, sh, amount=amount // 2, date=D(2025, 3, 20), actor=admin)
    acc = svc._accounts(book)
    income, costs = _account_ids(book, ("5001", "5602"))
    lsvc.post_vouchers(
        book,
        [
            _two(D(2024, 6, 30), "2024 年上半年社区服务收入", acc["1002"], income, 68_000_00),
            _two(D(2024, 12, 20), "2024 年下半年社区服务收入", acc["1002"], income, 72_000_00),
            _two(D(2024, 12, 25), "2024 年管理费用", costs, acc["1002"], 60_000_00),
        ],
        source="demo",
        actor=admin,
    )
    lsvc.generate_year_end_closing(book, 2024, actor=admin)
    # The 2025 shareholders' meeting: ¥30,000 out of 2024's ¥80,000 profit, reserve first.
    fig = svc.dividend_figures(org, profit_year=2024, date=D(2025, 4, 20))
    r = svc.declare_dividend(
        org,
        resolution_date=D(2025, 4, 20),
        record_date=D(2025, 4, 15),
        profit_year=2024,
        amount=30_000_00,
        reserve=fig.reserve_required,
        votes_for=26,
        votes_against=0,
        votes_abstain=2,
        actor=admin,
    )
    for line in r.lines[:-3]:
        svc.pay_dividend(org, line, date=D(2025, 5, 10), actor=admin)
    # A transfer between shareholders, and one to an outsider through pre-emption.
    svc.propose_transfer(
        org,
        holders[2],
        buyer=holders[5],
        amount=5_000_00,
        price=5_500_00,
        payment_terms="一次付清",
        date=D(2025, 4, 10),
        actor=admin,
    )
    t, _ = svc.propose_transfer(
        org,
        holders[7],
        outsider_resident=outsider,
        amount=6_000_00,
        price=6_600_00,
        payment_terms="签约后 10 日内一次付清",
        date=D(2025, 5, 6),
        actor=admin,
    )
    svc.claim_preemption(org, t, holders[0], date=D(2025, 5, 20), actor=admin)
    svc.claim_preemption(org, t, holders[13], date=D(2025, 6, 1), actor=admin)
    svc.complete_transfer(org, t, date=D(2025, 6, 10), actor=admin)
    svc.record_filing(org, t, date=D(2025, 6, 25), actor=admin)
    # September: the second halves, except two households who are late.
    for sh in holders[12:-2]:
        h = svc.holdings(org)[sh.id]
        svc.pay_in(org, sh, amount=h.outstanding, date=D(2025, 9, 20), actor=admin)
    for year, month in [(2024, m) for m in range(3, 13)] + [(2025, m) for m in range(1, 7)]:
        lsvc.close_period(book, year, month, actor=ctx.users["reviewer"])

    db.session.add(
        ResidentConsent(
            community_id=ctx.community.id,
            resident_id=people[len(ctx.residents)].id,  # 周淑芬, one of its own residents
            kind="publish_name",
            action="grant",
            scope="股东名册公示",
            channel="paper",
        )
    )
    holder = people[len(ctx.residents) + 6]  # 胡玉兰
    gudong = auth.create_user("gudong", DEMO_PASSWORD, display_name="股东 " + holder.name)
    holder.user_id = gudong.id
    ctx.logins.append(("gudong", "shareholder (resident)"))
    db.session.flush()


def _account_ids(book, codes) -> list[int]:
    found = dict(
        db.session.execute(
            sa.select(Account.code, Account.id).where(
                Account.book_id == book.id, Account.code.in_(codes)
            )
        ).all()
    )
    return [found[c] for c in codes]


def _two(date, summary, debit_id, credit_id, amount) -> lsvc.VoucherInput:
    return lsvc.VoucherInput(
        date=date,
        summary=summary,
        lines=[
            lsvc.LineInput(account_id=debit_id, debit=amount),
            lsvc.LineInput(account_id=credit_id, credit=amount),
        ],
    )
