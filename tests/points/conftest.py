"""A points world: an SME enterprise issuing SERVICE (volunteer and sale-linked) and BASIC
points, an NPO foundation with a restricted fund, and a second community's enterprise for
exchanges. Built through the services, usable on a committing database too."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from core.db import db
from core.models import Community, Organisation, Resident, User
from ledger import services as ledger
from points import services as svc
from points.models import PointActivity, PointIssuer, PointScheme, RedemptionItem
from tests.factories import UserFactory, member


@dataclass
class World:
    community: Community
    org: Organisation
    issuer: PointIssuer
    service: PointScheme  # volunteer, ¥1 a point, expires at the end of the following year
    sale: PointScheme  # sale-linked, 10 fen a point, no expiry
    basic: PointScheme
    activity: PointActivity
    item: RedemptionItem  # ¥30, at most 20 points
    admin: User
    staff: User
    reviewer: User
    platform: User
    residents: list[Resident]
    other_community: Community | None = None
    other_org: Organisation | None = None
    other_issuer: PointIssuer | None = None
    other_scheme: PointScheme | None = None
    other_item: RedemptionItem | None = None
    other_staff: User | None = None
    extra: dict = field(default_factory=dict)


def _org(community: Community, name: str, slug: str, kind: str, standard: str) -> Organisation:
    org = Organisation(
        community_id=community.id, name=name, slug=slug, kind=kind, standard=standard
    )
    db.session.add(org)
    db.session.flush()
    ledger.create_book(org)
    return org


def build_world(tag: str = "pt", residents: int = 4, exchange: bool = True) -> World:
    c = Community(name=f"安公{tag}社区", slug=f"{tag}-c")
    db.session.add(c)
    db.session.flush()
    org = _org(c, f"安公{tag}社区企业", f"{tag}-e", "enterprise", "SME_2011")
    admin = member(org, "admin")
    staff = member(org, "preparer")
    reviewer = member(org, "reviewer")
    platform = UserFactory(is_platform_admin=True)
    issuer = svc.create_issuer(org, kind="enterprise", actor=admin)
    service = svc.create_scheme(
        issuer,
        name="服务积分",
        type="service",
        unit="PTS",
        value_fen=100,
        expiry_rule="rolling_year_end",
        validity_months=12,
        actor=admin,
    )
    sale = svc.create_scheme(
        issuer,
        name="消费积分",
        type="service",
        unit="PTSALE",
        value_fen=10,
        money_mode="sale",
        actor=admin,
    )
    basic = svc.create_scheme(issuer, name="基本积分", type="basic", unit="PTB", actor=admin)
    activity = svc.create_activity(service, name="助老送餐", points=10, actor=admin)
    item = svc.create_item(issuer, service, name="理发", price_fen=3000, max_points=20, actor=admin)
    people = []
    for i in range(residents):
        r = Resident(
            community_id=c.id,
            name=["王秀兰", "李春生", "赵明华", "钱永福"][i % 4],
            phone=f"1390000{i:04d}",
        )
        db.session.add(r)
        people.append(r)
    db.session.flush()
    w = World(
        c,
        org,
        issuer,
        service,
        sale,
        basic,
        activity,
        item,
        admin,
        staff,
        reviewer,
        platform,
        people,
    )
    if exchange:
        c2 = Community(name=f"望平{tag}社区", slug=f"{tag}-c2")
        db.session.add(c2)
        db.session.flush()
        org2 = _org(c2, f"望平{tag}社区企业", f"{tag}-e2", "enterprise", "SME_2011")
        admin2 = member(org2, "admin")
        w.other_staff = member(org2, "preparer")
        issuer2 = svc.create_issuer(org2, kind="enterprise", actor=admin2)
        s2 = svc.create_scheme(
            issuer2, name="望平服务积分", type="service", unit="WPP", value_fen=50, actor=admin2
        )
        w.other_item = svc.create_item(
            issuer2, s2, name="社区食堂午餐", price_fen=1500, max_points=30, actor=admin2
        )
        w.other_community, w.other_org, w.other_issuer, w.other_scheme = c2, org2, issuer2, s2
        svc.set_rate(service, s2, "0.8", effective_from=dt.date(2026, 1, 1), actor=platform)
    return w


def credited(
    w: World, residents, points: int | None = None, day: dt.date | None = None, scheme=None
):
    """A grant requested, approved and credited after its notice (dates in the past)."""
    day = day or dt.date.today()
    activity = w.activity
    if scheme is not None and scheme.id != w.service.id:
        activity = svc.create_activity(
            scheme, name=f"活动{scheme.unit}", points=points or 10, actor=w.admin
        )
    g = svc.request_grant(
        activity,
        activity_date=day - dt.timedelta(days=3),
        residents=[(r.id, points) for r in residents],
        actor=w.staff,
    )
    svc.approve_grant(g, actor=w.reviewer, today=day - dt.timedelta(days=3))
    return svc.credit_grant(g, actor=w.staff, today=day)


@pytest.fixture
def world(app) -> World:
    return build_world()
