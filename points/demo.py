"""Demo (order 35): an 安公-like community enterprise with an activity catalogue (charitable,
public and market service, CE-2), a year of grants, redemptions and monthly expiry runs; the
玉林 enterprise as a second issuer, with an exchange from 安公 and its settlement; the
foundation's 公益积分 whose goods are paid by the restricted micro-fund (PT-10).

The 安公 community is a community of its own so that its year of vouchers does not land in
the months the ledger's demo has already closed."""

from __future__ import annotations

import datetime as dt

from core import auth
from core.db import db
from core.demo import DEMO_PASSWORD, DemoContext, demo_step
from core.models import Community, Organisation, Resident
from core.months import Month
from ledger import services as ledger
from ledger.models import Fund

from . import services as svc

ANGONG_RESIDENTS = [
    ("周淑芬", "13811112201"),
    ("吴国强", "13811112202"),
    ("郑秀珍", "13811112203"),
    ("孙建华", "13811112204"),
    ("马丽", "13811112205"),
    ("朱永红", "13811112206"),
    ("胡德胜", "13811112207"),
    ("林小梅", "13811112208"),
]


@demo_step(35)
def points_demo(ctx: DemoContext) -> None:
    today = dt.date.today()
    users = ctx.users
    admin, staff, reviewer = users["admin"], users["preparer"], users["reviewer"]
    community = Community(name="安公社区", slug="angong", district="成都市锦江区")
    db.session.add(community)
    db.session.flush()
    org = Organisation(
        community_id=community.id,
        name="安公邻里社区服务有限公司",
        slug="angong-enterprise",
        kind="enterprise",
        standard="SME_2011",
    )
    db.session.add(org)
    db.session.flush()
    for name, role in (
        ("admin", "admin"),
        ("preparer", "preparer"),
        ("reviewer", "reviewer"),
        ("auditor", "auditor"),
    ):
        auth.grant_role(users[name], org, role)
    ledger.create_book(org)
    people = []
    for name, phone in ANGONG_RESIDENTS:
        r = Resident(community_id=community.id, name=name, phone=phone, unit="安公小区")
        db.session.add(r)
        people.append(r)
    db.session.flush()
    # The first resident can log in and see their own points.
    me = auth.create_user("angong_resident", DEMO_PASSWORD, display_name="居民 周淑芬")
    people[0].user_id = me.id
    ctx.logins.append(("angong_resident", "points holder (resident)"))

    issuer = svc.create_issuer(org, kind="enterprise", actor=admin)
    service = svc.create_scheme(
        issuer,
        name="安公服务积分",
        type="service",
        unit="AGPT",
        value_fen=10,
        expiry_rule="fixed_months",
        validity_months=6,
        actor=admin,
    )
    basic = svc.create_scheme(
        issuer, name="垃圾分类基本积分", type="basic", unit="AGBASIC", actor=admin
    )
    catalogue = [
        svc.create_activity(service, name="助老送餐", points=50, tag="charitable", actor=admin),
        svc.create_activity(
            service, name="四点半课堂志愿辅导", points=80, tag="charitable", actor=admin
        ),
        svc.create_activity(service, name="院落公共空间清扫", points=30, tag="public", actor=admin),
        svc.create_activity(service, name="社区食堂帮厨", points=40, tag="market", actor=admin),
    ]
    sorting = svc.create_activity(basic, name="垃圾分类督导", points=5, tag="public", actor=admin)
    items = [
        svc.create_item(
            issuer, service, name="社区理发", price_fen=1500, max_points=100, actor=admin
        ),
        svc.create_item(
            issuer, service, name="社区食堂午餐", price_fen=1200, max_points=60, actor=admin
        ),
        svc.create_item(
            issuer, service, name="家电小修", price_fen=3000, max_points=150, actor=admin
        ),
    ]

    start = Month.of(today).plus(-12)
    for k, month in enumerate(start.until(Month.of(today))):
        grant_day = min(month.first_day + dt.timedelta(days=9), today - dt.timedelta(days=4))
        if month.first_day > grant_day:
            break
        # Expiry run on the first of the month (from the seventh month on, lots lapse).
        if k:
            svc.expire(service, month.first_day, actor=staff)
        for j, activity in enumerate(catalogue[k % 2 :: 2]):
            who = [people[(k + j + n) % len(people)] for n in range(3 + (k + j) % 3)]
            rec = svc.record_volunteer_hours(
                community.id,
                who[0].id,
                activity=activity.name,
                date=grant_day - dt.timedelta(days=3),
                minutes=120,
                actor=staff,
                issuer=issuer,
            )
            svc.approve_volunteer_record(rec, actor=reviewer)
            g = svc.request_grant(
                activity,
                activity_date=grant_day - dt.timedelta(days=3),
                residents=[(r.id, None) for r in who],
                actor=staff,
                volunteer_records={who[0].id: rec.id},
            )
            svc.approve_grant(g, actor=reviewer, today=grant_day - dt.timedelta(days=3))
            svc.credit_grant(g, actor=staff, today=grant_day)
        g = svc.request_grant(
            sorting, activity_date=grant_day, residents=[(r.id, None) for r in people], actor=staff
        )
        svc.approve_grant(g, actor=reviewer, today=grant_day)
        if grant_day + dt.timedelta(days=3) <= today:
            svc.credit_grant(g, actor=staff, today=grant_day + dt.timedelta(days=3))
        red_day = min(grant_day + dt.timedelta(days=8), today)
        for n in range(2):
            r = people[(k + n) % len(people)]
            item = items[(k + n) % len(items)]
            held = svc.available(service, r.id, red_day)
            pts = min(held, item.max_points)
            if pts >= 10:
                svc.redeem(item, r.id, pts, actor=staff, day=red_day)
    # Hours recorded this week, waiting for a second person's approval (PT-6).
    svc.record_volunteer_hours(
        community.id,
        people[2].id,
        activity="四点半课堂志愿辅导",
        date=today - dt.timedelta(days=1),
        minutes=90,
        actor=staff,
        issuer=issuer,
    )
    # On public notice now, and one held by an objection.
    g = svc.request_grant(
        catalogue[0], activity_date=today, residents=[(r.id, None) for r in people[:4]], actor=staff
    )
    svc.approve_grant(g, actor=reviewer, today=today)
    g2 = svc.request_grant(
        catalogue[2],
        activity_date=today,
        residents=[(r.id, None) for r in people[4:6]],
        actor=staff,
    )
    svc.approve_grant(g2, actor=reviewer, today=today)
    svc.object_to_grant(g2, "有居民反映当天未见到清扫", actor=staff, today=today)

    # A second issuer in another community (玉林北路's enterprise) and an exchange to it.
    yulin = svc.create_issuer(ctx.enterprise, kind="enterprise", actor=admin)
    yscheme = svc.create_scheme(
        yulin, name="玉林邻里积分", type="service", unit="YLPT", value_fen=20, actor=admin
    )
    yitem = svc.create_item(
        yulin, yscheme, name="便民超市购物", price_fen=2000, max_points=50, actor=admin
    )
    svc.set_rate(service, yscheme, "0.4", effective_from=start.first_day, actor=users["platform"])
    visitor = max(people, key=lambda r: svc.available(service, r.id, today))
    if svc.available(service, visitor.id, today) >= 100:
        red = svc.redeem(yitem, visitor.id, 100, scheme=service, actor=staff, day=today)
        svc.settle_exchange(issuer, yulin, red.settlement_fen, actor=staff, day=today)

    # The foundation's 公益积分: goods paid by the restricted micro-fund (PT-10).
    fund = db.session.query(Fund).filter_by(code="WP-HZ").first()
    fissuer = svc.create_issuer(ctx.foundation, kind="foundation", actor=admin)
    fscheme = svc.create_scheme(
        fissuer, name="公益积分", type="service", unit="GYPT", value_fen=100, actor=admin
    )
    fact = svc.create_activity(
        fscheme, name="高龄老人探访", points=20, tag="charitable", actor=admin
    )
    fitem = svc.create_item(
        fissuer,
        fscheme,
        name="爱心米油包",
        price_fen=5000,
        max_points=40,
        funder="fund" if fund is not None else "issuer",
        fund_id=fund.id if fund is not None else None,
        actor=admin,
    )
    yres = ctx.residents
    g3 = svc.request_grant(
        fact,
        activity_date=today - dt.timedelta(days=3),
        residents=[(r.id, None) for r in yres[:4]],
        actor=staff,
    )
    svc.approve_grant(g3, actor=reviewer, today=today - dt.timedelta(days=3))
    svc.credit_grant(g3, actor=staff, today=today)
    svc.redeem(fitem, yres[0].id, 20, actor=staff, day=today)
    db.session.flush()
