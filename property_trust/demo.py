# SPDX-License-Identifier: AGPL-3.0-or-later
"""Demo (step 45): a 玉林北路-like compound of 300 units with a year of monthly bills, payments
with realistic arrears (monthly payers, advance payers, late payers, a few defaulters with
reminders and one escalation), parking and advertising income with a repair-fund top-up, a budget
approved by the owners' vote, expenses through the ordinary approval flow with their invoices
attached, a supervisor's flagged payment and a held emergency payment, monthly remuneration and
an owner login ("owner") to look at it all on a phone.

It keeps its own trust-fund organisation: the ledger demo's trust book has closed months and
hand-entered fee vouchers, and a year of unit-level history must start in open months. Bills and
payments go through the ledger's bulk path, one post per month for each."""

from __future__ import annotations

import datetime as dt
import random
import struct
import zlib
from decimal import Decimal

import sqlalchemy as sa

from core import auth
from core.db import db
from core.demo import DEMO_PASSWORD, DemoContext, demo_step
from core.models import KIND_STANDARD, Organisation, OrganisationKind, Resident
from core.months import Month
from ledger import attachments
from ledger import services as ledger
from ledger.models import Voucher
from ledger.services import closing as ledger_closing

from . import governance as gv
from . import services as pt
from .models import Bill

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英玉兰萍鹏华红建国志强春梅海燕文德胜云"
BUILDINGS = 10  # 10 buildings × 2 entrances × 15 households = 300 units


def _png() -> bytes:
    """A small valid PNG (a scanned invoice stand-in)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\xff\xff\xff" * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _day(month: Month, day: int, today: dt.date) -> dt.date:
    return min(dt.date(month.year, month.month, min(day, 28)), today)


@demo_step(45)
def property_trust_demo(ctx: DemoContext) -> None:
    rnd = random.Random(45)
    today = dt.date.today()
    users = ctx.users
    admin, prep, rev, sup = (
        users["admin"],
        users["preparer"],
        users["reviewer"],
        users["supervisor"],
    )
    org = Organisation(
        community_id=ctx.community.id,
        name="玉林北路小区业主共有资金（信托制物业示范小区）",
        slug="yulin-compound",
        kind=OrganisationKind.TRUST_FUND,
        standard=KIND_STANDARD[OrganisationKind.TRUST_FUND],
    )
    db.session.add(org)
    db.session.flush()
    for username, u in users.items():
        if username != "platform":
            for role in u.roles_in(ctx.trust.id):
                auth.grant_role(u, org, role)
    db.session.flush()
    ledger.create_book(org)
    compound = pt.create_compound(
        org,
        "玉林北路示范小区",
        actor=admin,
        trustee="成都某物业服务有限公司",
        signed_on=today.replace(day=1) - dt.timedelta(days=400),
    )
    pt.add_supervisor(compound, "周律师", "四川某律师事务所", actor=admin, user=sup)
    pt.add_supervisor(compound, "郑会计师", "成都某会计师事务所", actor=admin)
    months = [Month.of(today).plus(-11 + i) for i in range(12)]
    start = months[0]
    pt.set_fee_rate(compound, "residential", "2.20", start.first_day, actor=admin)
    pt.set_fee_rate(compound, "shop", "4.50", start.first_day, actor=admin)

    # 300 owners and units (ground-floor units of the first entrance of buildings 1–2 are shops).
    residents: list[Resident] = []
    units: list[tuple[str, str, bool]] = []
    for b in range(1, BUILDINGS + 1):
        for entrance in (1, 2):
            for floor in range(1, 6):
                for door in (1, 2, 3):
                    n = len(residents)
                    name = (
                        SURNAMES[n % len(SURNAMES)]
                        + rnd.choice(GIVEN)
                        + (rnd.choice(GIVEN) if n % 3 else "")
                    )
                    number = f"{entrance}-{floor}0{door}"
                    r = Resident(
                        community_id=ctx.community.id,
                        name=name,
                        phone=f"1{rnd.choice('35789')}{rnd.randrange(10**9):09d}",
                        unit=f"示范小区{b}栋{entrance}单元{floor}0{door}",
                    )
                    residents.append(r)
                    shop = b <= 2 and entrance == 1 and floor == 1
                    units.append((f"{b}栋", number, shop))
    db.session.add_all(residents)
    db.session.flush()
    unit_rows = []
    for (building, number, shop), r in zip(units, residents, strict=True):
        area = Decimal(rnd.randrange(5500, 14000)).scaleb(-2)
        unit_rows.append(
            pt.add_unit(
                compound,
                building,
                number,
                area=area,
                unit_type="shop" if shop else "residential",
                owners=[r],
                actor=prep,
            )
        )
    # Behaviour: mostly monthly payers; some pay half a year ahead; some pay quarterly and late;
    # a few stopped paying.
    kinds = ["monthly"] * 240 + ["advance"] * 24 + ["late"] * 21 + ["defaulter"] * 15
    rnd.shuffle(kinds)
    # The owner who logs in: a monthly payer.
    owner_user = auth.create_user("owner", DEMO_PASSWORD, display_name="业主（示范）")
    owner_index = kinds.index("monthly")
    residents[owner_index].user_id = owner_user.id
    ctx.logins.append(("owner", "owner"))

    # The owners' votes: the year's budget (ordinary), the public-revenue top-up (major).
    total_area, total_owners = pt.compound_totals(compound)
    budgets = {}
    for year in sorted({m.year for m in months}):
        held = max(dt.date(year, 1, 8), start.first_day)
        vote = gv.record_vote(
            compound,
            f"{year} 年度物业服务预算",
            "ordinary",
            min(held, today),
            voted_area=(total_area * Decimal("0.78")).quantize(Decimal("0.01")),
            voted_owners=int(total_owners * 0.8),
            yes_area=(total_area * Decimal("0.61")).quantize(Decimal("0.01")),
            yes_owners=int(total_owners * 0.62),
            actor=prep,
        )
        budgets[year] = gv.create_budget(
            compound,
            year,
            [
                ("5101", "管理服务人员工资社保", 216_000_00),
                ("5102", "共用设施设备维护", 80_000_00),
                ("5103", "清洁卫生", 144_000_00),
                ("5104", "绿化养护", 30_000_00),
                ("5105", "秩序维护", 198_000_00),
                ("5108", "公众责任保险", 6_000_00),
                ("5901", "物业服务酬金", 130_000_00),
            ],
            vote=vote,
            actor=prep,
            expected_collection_rate=Decimal("0.92"),
        )
    topup = gv.record_vote(
        compound,
        "公共收益的 20% 补充专项维修资金",
        "major",
        min(max(dt.date(start.year, 1, 8), start.first_day), today),
        voted_area=(total_area * Decimal("0.82")).quantize(Decimal("0.01")),
        voted_owners=int(total_owners * 0.8),
        yes_area=(total_area * Decimal("0.70")).quantize(Decimal("0.01")),
        yes_owners=int(total_owners * 0.7),
        actor=prep,
    )
    if topup.passed:
        compound.repair_share = Decimal("0.2")
    gv.set_remuneration(
        compound,
        "PCT_OF_COLLECTED_FEES",
        rate=Decimal("0.10"),
        floor=3_000_00,
        cap=12_000_00,
        actor=admin,
    )
    invoice = _png()
    ids = [u.id for u in unit_rows]
    flagged = False
    for i, month in enumerate(months):
        pt.bill_month(compound, month, actor=prep)
        payments = []
        open_now = pt.unit_balances(compound)
        billed = dict(
            db.session.execute(
                sa.select(Bill.unit_id, Bill.amount).where(
                    Bill.compound_id == compound.id, Bill.month == month.key
                )
            ).all()
        )
        for k, uid in enumerate(ids):
            owed = open_now.get(uid, (0, 0))[0]
            kind = kinds[k]
            day = _day(month, rnd.randrange(3, 26), today)
            if kind == "monthly" and owed and rnd.random() > 0.04:
                payments.append((uid, owed, day, False))
            elif kind == "advance" and i % 6 == 0:
                payments.append((uid, owed + billed[uid] * 5, day, True))
            elif kind == "late" and i % 3 == 2 and owed:
                payments.append((uid, owed, day, False))
            elif kind == "defaulter" and i < 3 and owed:
                payments.append((uid, owed, day, False))
        payments.sort(key=lambda p: p[2])
        if payments:
            pt.record_payments(compound, payments, actor=prep)
        # Public revenue: parking every month, advertising each quarter.
        pt.record_public_revenue(
            compound,
            "parking",
            _day(month, 28, today),
            rnd.randrange(620_000, 760_000),
            deductions=[("车场管理员工资分摊", f"工资表 {month}", 120_000)],
            actor=prep,
        )
        if month.month % 3 == 0:
            pt.record_public_revenue(
                compound,
                "advertising",
                _day(month, 15, today),
                450_000,
                deductions=[("广告位电费", f"电费发票 {month}", 18_000)],
                actor=prep,
            )
        # Expenses in the ordinary approval flow, each with its invoice attached.
        budget = budgets[month.year]
        lines = {ln.account_code: ln for ln in budget.lines}
        for code, amount, summary in (
            ("5101", 17_600_00, "管理服务人员工资及社保"),
            ("5103", 11_800_00, "清洁服务外包费"),
            ("5105", 16_200_00, "秩序维护服务费"),
            ("5102", rnd.randrange(3_000_00, 7_500_00), "电梯及消防设施维保"),
        ):
            e = gv.prepare_expense(
                compound,
                account_code=code,
                amount=amount,
                day=_day(month, 20, today),
                summary=f"{summary}（{month}）",
                budget_line=lines[code],
                actor=prep,
                submit=False,
            )
            v = db.session.get_one(Voucher, e.voucher_id)
            attachments.add_attachment(v, f"发票-{code}-{month}.png", "image/png", invoice, prep)
            ledger.submit_voucher(v, actor=prep)
            ledger.approve_voucher(v, actor=rev)
            ledger.post_voucher(v, actor=rev)
            if code == "5102" and i == len(months) - 3 and not flagged:
                gv.supervise(
                    compound,
                    "flag",
                    voucher=v,
                    text="维保合同约定每月 ¥4,500，本月发票金额不同，已要求物业说明差额。",
                    actor=sup,
                )
                flagged = True
        if i < len(months) - 1:
            gv.run_remuneration(compound, month, actor=prep)
        if i == len(months) - 2:
            gv.supervise(
                compound,
                "finding",
                text="抽查本月 12 笔支出凭证，均附发票且在预算内；停车收益扣除的人工成本已核对工资表。",
                month=month,
                actor=sup,
            )
    # Arrears follow-up for the defaulters: reminders, one escalation (never a utility cut-off).
    last = months[-1]
    for k in range(len(ids)):
        if kinds[k] != "defaulter":
            continue
        unit = unit_rows[k]
        sent = _day(last.plus(-2), 10, today)
        pt.add_reminder(
            compound, unit, sent, sent + dt.timedelta(days=30), actor=prep, note="书面催告"
        )
    first_defaulter = kinds.index("defaulter")
    pt.escalate(
        compound,
        unit_rows[first_defaulter],
        "arbitration",
        _day(last, 2, today),
        actor=prep,
        note="申请仲裁",
    )
    # The past months are closed (结账): the transparency demo (step 50) then publishes each
    # month's disclosure report, and with it (ledger.signals.report_published) the month's
    # owners' statement. A December that needs year-end closing entries stops the run.
    book = pt.book_of(compound)
    for month in months[:-1]:
        if month.month == 12 and ledger_closing.needs_year_end_closing(book, month.year):
            break
        ledger.close_period(book, month.year, month.month, actor=admin)
    # From now on a payment above ¥20,000 needs two of the three signatories (TP-4).
    gv.set_approval_chain(
        compound,
        committee_threshold=20_000_00,
        signatories_required=2,
        signatories_total=3,
        supervisor_review="after",
        budget_vote_kind="ordinary",
        actor=admin,
    )
    # An emergency repair this month: it goes to the supervisors first and is held.
    gv.prepare_expense(
        compound,
        account_code="5102",
        amount=28_000_00,
        day=today,
        summary="2栋二次供水水泵紧急更换",
        emergency=True,
        actor=prep,
    )
