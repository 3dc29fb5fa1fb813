"""Demo data: a community with one user per role, residents, and whatever each domain adds.

Domain packages add their own steps with ``@demo_step(order)``; ``flask demo load`` runs
them in order inside one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from . import auditor_access, auth
from .db import db
from .models import (
    KIND_STANDARD,
    Community,
    Organisation,
    OrganisationKind,
    Resident,
    ResidentConsent,
    Role,
    User,
)

DEMO_PASSWORD = "demo-pass-2026"

# (order, name, fn(ctx))
_STEPS: list[tuple[int, str, Callable]] = []


def demo_step(order: int):
    def deco(fn):
        _STEPS.append((order, fn.__name__, fn))
        return fn

    return deco


@dataclass
class DemoContext:
    community: Community
    enterprise: Organisation
    foundation: Organisation
    trust: Organisation
    users: dict[str, User]
    residents: list[Resident]
    logins: list[tuple[str, str]] = field(default_factory=list)


DEMO_RESIDENTS = [
    ("张秀英", "13800138001", "510107196503124521", "1栋1单元101"),
    ("李建国", "13900139002", "510107197208154319", "1栋2单元302"),
    ("王桂兰", "13700137003", "510107195811233228", "2栋1单元201"),
    ("刘志强", "13600136004", "510107198404056611", "2栋2单元402"),
    ("陈美华", "13500135005", "51010719900718242X", "3栋1单元503"),
    ("杨德明", "13300133006", "510107196209305173", "3栋2单元601"),
]

ROLE_USERS = [
    ("admin", "管理员 王敏", Role.ADMIN),
    ("preparer", "出纳 李娟", Role.PREPARER),
    ("reviewer", "会计 赵磊", Role.REVIEWER),
    ("auditor", "审计 孙静", Role.AUDITOR),
    ("supervisor", "监察人 周律师", Role.SUPERVISOR),
    ("secretary", "议事会秘书 吴芳", Role.COUNCIL_SECRETARY),
]


def demo_exists() -> bool:
    return (
        db.session.scalar(sa.select(Community.id).where(Community.slug == "yulin-beilu"))
        is not None
    )


def demo_logins() -> list[tuple[str, str]]:
    return [(u, r.value) for u, _d, r in ROLE_USERS] + [("platform", "platform admin")]


def load_demo() -> DemoContext:
    community = Community(name="玉林北路社区", slug="yulin-beilu", district="成都市武侯区")
    db.session.add(community)
    db.session.flush()

    def org(name, slug, kind):
        o = Organisation(
            community_id=community.id, name=name, slug=slug, kind=kind, standard=KIND_STANDARD[kind]
        )
        db.session.add(o)
        return o

    enterprise = org("玉林邻里社区服务有限公司", "yulin-enterprise", OrganisationKind.ENTERPRISE)
    foundation = org("武侯社区发展基金会·玉林微基金", "yulin-fund", OrganisationKind.FOUNDATION)
    trust = org("玉林北路小区共有基金（信托制物业）", "yulin-trust", OrganisationKind.TRUST_FUND)
    db.session.flush()

    users: dict[str, User] = {}
    for username, display, role in ROLE_USERS:
        u = auth.create_user(username, DEMO_PASSWORD, display_name=display)
        for o in (enterprise, foundation, trust):
            auth.grant_role(u, o, role)
        users[username] = u
    # The auditor sees the demo books of last year and this year (core.auditor_access).
    today = dt.date.today()
    for o in (enterprise, foundation, trust):
        auditor_access.grant(
            users["auditor"],
            o,
            dt.date(today.year - 1, 1, 1),
            dt.date(today.year, 12, 31),
            actor=users["admin"],
            note_text="demo",
        )
    users["platform"] = auth.create_user(
        "platform", DEMO_PASSWORD, display_name="平台管理员", platform_admin=True
    )
    logins = demo_logins()

    residents = []
    for name, phone, idn, unit in DEMO_RESIDENTS:
        r = Resident(community_id=community.id, name=name, phone=phone, id_number=idn, unit=unit)
        db.session.add(r)
        residents.append(r)
    db.session.flush()
    db.session.add(
        ResidentConsent(
            community_id=community.id,
            resident_id=residents[0].id,
            kind="publish_name",
            action="grant",
            scope="捐赠鸣谢",
            channel="paper",
        )
    )
    ctx = DemoContext(community, enterprise, foundation, trust, users, residents, logins)
    for _order, _name, fn in sorted(_STEPS, key=lambda s: s[0]):
        fn(ctx)
        _analyze()
    db.session.flush()
    return ctx


def _analyze() -> None:
    """Fresh statistics on PostgreSQL after each step: the demo fills empty tables faster than
    autovacuum notices (and inside a test's one transaction it never does), and without
    statistics the planner joins thousands of voucher lines by nested loops."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.flush()
        db.session.execute(sa.text("ANALYZE"))
