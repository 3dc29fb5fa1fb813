# SPDX-License-Identifier: AGPL-3.0-or-later
"""Demo data of community funds (step 40): the foundation hosts six micro-funds (three founded
by local companies, one endowment) and the community's 社区保障资金; donations, grants, a
transfer from the community economy and an endowment's return; the year's allocation spent on
three projects through the five steps, a fourth (a negative-list expense) refused; a release of
restriction; a ¥1-rent commitment register. Everything is dated in the open months (the ledger's
demo closes the earlier ones)."""

from __future__ import annotations

import datetime as dt

from core.demo import DemoContext, demo_step
from core.errors import DomainError

D = dt.date


@demo_step(40)
def funds_demo(ctx: DemoContext) -> None:
    from . import services as fs

    org, prep, sec = ctx.foundation, ctx.users["preparer"], ctx.users["secretary"]
    today = dt.date.today()
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # last month: open

    def day(n: int) -> dt.date:
        return min(first + dt.timedelta(days=n), today)

    council = fs.create_council(
        org,
        name=f"{ctx.community.name}居民议事会",
        members=[(f"议事会成员{i + 1:02d}", D(first.year - 1, 1, 1)) for i in range(15)],
        quorum=(2, 3),
        actor=prep,
    )

    def fund(code, name, founder, founder_name, tags, **kw):
        return fs.create_community_fund(
            org,
            code=code,
            name=name,
            founder_type=founder,
            founder_name=founder_name,
            purpose_tags=tags,
            actor=prep,
            **kw,
        )

    committee_rule = [("disburse", "committee", 2_000_00), ("release", "committee", 0)]
    neighbours = fund("WP-01", "邻里守望微基金", "RESIDENTS", "居民自发", ["elderly", "vulnerable"])
    heritage = fund(
        "WP-02",
        "蜀绣非遗传承微基金",
        "COMPANY",
        "某文化传媒公司",
        ["heritage"],
        rules=committee_rule,
    )
    culture = fund("WP-03", "社区文创推广微基金", "COMPANY", "某文创公司", ["culture"])
    charity = fund("WP-04", "爱心餐桌微基金", "COMPANY", "某餐饮公司", ["elderly", "activities"])
    endowment = fund(
        "WP-05", "睦邻助学不动本基金", "UNIT", "驻区单位", ["education"], endowment=True
    )
    pf = fund(
        "PF",
        "社区保障资金",
        "COMMUNITY",
        ctx.community.name,
        ["public_services"],
        public_finance=True,
    )
    for cf in (heritage, endowment):
        for i, role in enumerate(("主任", "委员", "委员")):
            fs.add_committee_member(
                cf,
                name=f"管委会{role}{i + 1}",
                role=role,
                term_start=D(first.year - 1, 1, 1),
                actor=prep,
            )

    def gift(cf, amount, n, **kw):
        return fs.record_inflow(cf, amount=amount, date=day(n), actor=prep, **kw)

    gift(neighbours, 2_000_00, 1, kind="donation", resident=ctx.residents[0])  # receipt, not named
    gift(neighbours, 500_00, 2, kind="donation", anonymous=True)
    gift(neighbours, 800_00, 3, kind="donation", resident=ctx.residents[1])  # no consent: unnamed
    gift(heritage, 30_000_00, 2, kind="donation", source_name="某文化传媒公司", publish_name=True)
    gift(heritage, 10_000_00, 4, kind="grant", source_name="区文化馆非遗保护补助")
    gift(culture, 20_000_00, 3, kind="donation", source_name="某文创公司", publish_name=True)
    gift(charity, 15_000_00, 3, kind="donation", source_name="某餐饮公司", publish_name=True)
    # A share of the community enterprise's profit: both books get their voucher.
    fs.record_transfer(
        charity,
        enterprise=ctx.enterprise,
        amount=6_000_00,
        date=day(5),
        note="利润 10% 转入",
        actor=prep,
    )
    gift(endowment, 100_000_00, 1, kind="donation", source_name="驻区单位", publish_name=True)
    gift(endowment, 1_250_00, 20, kind="return", source_name="定期存款利息")
    fs.disburse(
        endowment,
        amount=1_000_00,
        date=day(21),
        category_code="activities",
        purpose="education",
        payee="社区四点半课堂",
        actor=prep,
    )
    heritage_ok = fs.record_resolution(
        org,
        body="committee",
        cf=heritage,
        meeting_date=day(6),
        present=3,
        votes_for=3,
        votes_against=0,
        votes_abstain=0,
        text="同意支出蜀绣传承班教学材料费 8,000 元；传承班结业后该部分限定用途视为达成。",
        actor=prep,
    )
    fs.disburse(
        heritage,
        amount=8_000_00,
        date=day(8),
        category_code="activities",
        purpose="heritage",
        payee="蜀绣传承工作室",
        resolution=heritage_ok,
        actor=prep,
    )
    fs.release(
        heritage,
        amount=8_000_00,
        date=day(9),
        resolution=heritage_ok,
        reason="蜀绣传承班结业，限定用途达成",
        actor=prep,
    )

    population = ctx.community.population or 8_000
    fs.record_allocation(
        pf,
        year=today.year,
        date=day(1),
        kind=ctx.community.area_kind or "urban",
        population=population,
        population_basis=ctx.community.population_basis or "resident",
        part_hundreds="floor",
        actor=prep,
    )

    projects = [
        ("楼道照明与环境微更新", "environment", 60_000_00, 42_600_00, 12),
        ("居民志愿服务队培训", "volunteering", 30_000_00, 18_800_00, 4),
        ("社区总体营造：睦邻花园", "community_building", 80_000_00, 65_300_00, 9),
    ]
    for title, category, budget, spent, months in projects:
        end = min(first.replace(day=28) + dt.timedelta(days=31 * months), D(today.year + 2, 12, 31))
        p = fs.create_project(
            pf,
            title=title,
            start=first,
            end=end,
            proposed_by="社区党委",
            proposed_on=day(2),
            priority_tags=[category],
            budget_fen=budget,
            documents="项目提议书、居民需求调查表",
            actor=prep,
        )
        vote = fs.record_resolution(
            org,
            body="council",
            council=council,
            project=p,
            meeting_date=day(5),
            present=13,
            votes_for=11,
            votes_against=1,
            votes_abstain=1,
            text=f"同意实施「{title}」，预算 {budget // 100:,} 元，由居委会组织实施，监委会全程监督。",
            minutes=("议事会会议纪要.txt", "text/plain", f"{title} 议事会会议纪要".encode()),
            actor=sec,
        )
        fs.advance_project(p, to="voted", who="居民议事会", on=day(5), resolution=vote, actor=prep)
        fs.advance_project(
            p, to="implementation", who="居委会", on=day(6), documents="实施方案", actor=prep
        )
        for share, n in ((spent // 2, 10), (spent - spent // 2, 14)):
            fs.disburse(
                pf,
                amount=share,
                date=day(n),
                category_code=category,
                purpose="public_services",
                payee="项目承接方",
                project=p,
                resolution=vote,
                actor=prep,
            )
        if months < 10:
            fs.advance_project(
                p, to="acceptance", who="社区党委", on=day(16), documents="验收报告", actor=prep
            )
            fs.advance_project(
                p,
                to="supervision",
                who="居务监督委员会",
                on=day(18),
                documents="监督意见",
                actor=prep,
            )

    # A proposal to pay residents' property fees: on the negative list. The council votes it
    # down, and the spending is refused whatever the vote.
    refused = fs.create_project(
        pf,
        title="代缴部分居民物业费",
        start=first,
        end=first + dt.timedelta(days=60),
        proposed_by="部分居民联名",
        proposed_on=day(3),
        actor=prep,
    )
    vote = fs.record_resolution(
        org,
        body="council",
        council=council,
        project=refused,
        meeting_date=day(5),
        present=13,
        votes_for=2,
        votes_against=10,
        votes_abstain=1,
        text="不同意：物业费属居民个人应承担的费用，列入社区保障资金负面清单。",
        actor=sec,
    )
    fs.advance_project(
        refused, to="voted", who="居民议事会", on=day(5), resolution=vote, actor=prep
    )
    try:
        fs.disburse(
            pf,
            amount=5_000_00,
            date=day(7),
            category_code="private_costs",
            purpose="public_services",
            payee="物业公司",
            actor=prep,
        )
    except DomainError:
        pass  # CF-5 negative list: refused, nothing stored

    c = fs.record_commitment(
        org,
        tenant="邻里枢纽社会组织",
        premises="社区灯光球场及邻里平台",
        year=today.year,
        date=day(1),
        sessions_promised=200,
        value_claimed_fen=3_000_000_00,
        actor=prep,
    )
    for n, sessions, what, who in (
        (4, 8, "青少年篮球公益课", "居务监督委员会"),
        (11, 6, "老年人健身操", "居务监督委员会"),
        (18, 5, "亲子运动会", None),
    ):
        fs.record_delivery(
            c, date=day(n), sessions=sessions, description=what, verified_by=who, actor=prep
        )
