"""Demo books: a few months of realistic vouchers for the enterprise (SME), the foundation
(NPO, with a restricted micro-fund) and the compound's trust fund, entered the way treasurers
enter them: prepared, reviewed, posted. Summaries never name a resident (DOMAIN.md §6)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core.db import db
from core.demo import DemoContext, demo_step

# (month offset from the first demo month, day, summary,
#  [(code, debit_fen, credit_fen, fund_code?, resident_index?)])
ENTERPRISE = [
    (
        0,
        3,
        "收到居民股东认缴出资（第一批 12 户）",
        [("1002", 18_000_000, 0), ("3001", 0, 18_000_000)],
    ),
    (0, 5, "支付社区活动室装修款", [("1604", 4_560_000, 0), ("1002", 0, 4_560_000)]),
    (0, 8, "购入便民超市商品一批", [("1405", 1_283_450, 0), ("1002", 0, 1_283_450)]),
    (
        0,
        12,
        "便民超市 8 月上旬销售收入",
        [("1002", 962_380, 0), ("5001", 0, 851_664), ("2221", 0, 110_716)],
    ),
    (0, 12, "结转已售商品成本", [("5401", 702_140, 0), ("1405", 0, 702_140)]),
    (
        0,
        20,
        "街道购买养老助餐服务（8 月）",
        [("1122", 2_400_000, 0), ("5001", 0, 2_264_151), ("2221", 0, 135_849)],
    ),
    (0, 25, "计提 8 月社工工资", [("5602", 1_350_000, 0), ("2211", 0, 1_350_000)]),
    (0, 28, "发放 8 月社工工资", [("2211", 1_350_000, 0), ("1002", 0, 1_350_000)]),
    (0, 30, "支付社区用房一元年租金", [("5602", 100, 0), ("1001", 0, 100)]),
    (0, 30, "从银行提取备用金", [("1001", 200_000, 0), ("1002", 0, 200_000)]),
    (1, 2, "收到街道助餐服务款", [("1002", 2_400_000, 0), ("1122", 0, 2_400_000)]),
    (
        1,
        10,
        "便民超市 9 月销售收入",
        [("1002", 1_530_060, 0), ("5001", 0, 1_354_035), ("2221", 0, 176_025)],
    ),
    (1, 10, "结转已售商品成本", [("5401", 1_102_330, 0), ("1405", 0, 1_102_330)]),
    (1, 15, "银行手续费", [("5603", 1_250, 0), ("1002", 0, 1_250)]),
    (
        1,
        18,
        "邻里月台场地出租收入",
        [("1002", 300_000, 0), ("5051", 0, 283_019), ("2221", 0, 16_981)],
    ),
    (1, 25, "计提 9 月社工工资", [("5602", 1_350_000, 0), ("2211", 0, 1_350_000)]),
    (1, 28, "发放 9 月社工工资", [("2211", 1_350_000, 0), ("1002", 0, 1_350_000)]),
    (2, 8, "缴纳 8-9 月增值税", [("2221", 555_571, 0), ("1002", 0, 555_571)]),
    (2, 12, "购入便民超市商品一批", [("1405", 980_000, 0), ("1002", 0, 980_000)]),
    (
        2,
        15,
        "便民超市 10 月销售收入",
        [("1002", 1_214_500, 0), ("5001", 0, 1_074_779), ("2221", 0, 139_721)],
    ),
    (2, 25, "计提 10 月社工工资", [("5602", 1_350_000, 0), ("2211", 0, 1_350_000)]),
    (2, 28, "发放 10 月社工工资", [("2211", 1_350_000, 0), ("1002", 0, 1_350_000)]),
    (3, 3, "收到居民股东认缴出资（第二批 6 户）", [("1002", 9_000_000, 0), ("3001", 0, 9_000_000)]),
    (
        3,
        10,
        "便民超市 11 月上旬销售收入",
        [("1002", 640_000, 0), ("5001", 0, 566_372), ("2221", 0, 73_628)],
    ),
]

FOUNDATION = [
    (
        0,
        6,
        "收到辖区企业定向捐赠：邻里互助微基金",
        [("1002", 5_000_000, 0, "WP-HZ"), ("410102", 0, 5_000_000, "WP-HZ")],
    ),
    (0, 9, "收到居民小额捐赠（非限定）", [("1002", 128_800, 0), ("410101", 0, 128_800)]),
    (0, 21, "区社治委社区保障资金拨付", [("1002", 22_000_000, 0), ("440101", 0, 22_000_000)]),
    (
        1,
        5,
        "邻里互助：高龄独居老人探访物资",
        [("5101", 362_000, 0, "WP-HZ"), ("1002", 0, 362_000, "WP-HZ")],
    ),
    (1, 16, "社区营造项目：院落微更新材料费", [("5101", 2_870_000, 0), ("1002", 0, 2_870_000)]),
    (1, 30, "基金会日常办公费用", [("5201", 86_500, 0), ("1002", 0, 86_500)]),
    (
        2,
        11,
        "邻里互助：困难家庭助学金（3 户）",
        [("5101", 900_000, 0, "WP-HZ"), ("1002", 0, 900_000, "WP-HZ")],
    ),
    (2, 19, "非遗传承活动场地及材料", [("5101", 455_000, 0), ("1002", 0, 455_000)]),
    (3, 4, "收到居民小额捐赠（非限定）", [("1002", 56_600, 0), ("410101", 0, 56_600)]),
]

TRUST = [
    (0, 1, "开具 8 月物业费账单（136 户）", [("1122", 4_352_000, 0), ("4101", 0, 4_352_000)]),
    (0, 10, "收取 8 月物业费", [("1002", 3_968_000, 0, None, 0), ("1122", 0, 3_968_000, None, 0)]),
    (0, 15, "停车收益（8 月）", [("1002", 680_000, 0), ("420101", 0, 680_000)]),
    (0, 20, "清洁服务外包费（8 月）", [("5103", 1_200_000, 0), ("1002", 0, 1_200_000)]),
    (0, 25, "秩序维护人员工资（8 月）", [("5105", 1_650_000, 0), ("1002", 0, 1_650_000)]),
    (
        0,
        30,
        "计提物业服务酬金（8 月，实收物业费的 10%）",
        [("5901", 396_800, 0), ("220901", 0, 396_800)],
    ),
    (1, 1, "开具 9 月物业费账单（136 户）", [("1122", 4_352_000, 0), ("4101", 0, 4_352_000)]),
    (1, 8, "支付物业服务酬金（8 月）", [("220901", 396_800, 0), ("1002", 0, 396_800)]),
    (1, 12, "收取 9 月物业费", [("1002", 4_096_000, 0, None, 1), ("1122", 0, 4_096_000, None, 1)]),
    (1, 18, "电梯年检及维保", [("5102", 980_000, 0), ("1002", 0, 980_000)]),
    (1, 26, "公共区域绿化养护", [("5104", 420_000, 0), ("1002", 0, 420_000)]),
    (2, 1, "开具 10 月物业费账单（136 户）", [("1122", 4_352_000, 0), ("4101", 0, 4_352_000)]),
    (2, 9, "收取 10 月物业费", [("1002", 4_160_000, 0, None, 2), ("1122", 0, 4_160_000, None, 2)]),
    (2, 14, "广告位收益（电梯广告，三季度）", [("1002", 450_000, 0), ("420102", 0, 450_000)]),
    (2, 28, "公众责任险保费", [("5108", 260_000, 0), ("1002", 0, 260_000)]),
]


def _first_month(today: dt.date) -> dt.date:
    """Demo data covers the three months before the current one, and the current month so far."""
    y, m = today.year, today.month - 3
    if m <= 0:
        y, m = y - 1, m + 12
    return dt.date(y, m, 1)


def _date(start: dt.date, month_offset: int, day: int, today: dt.date) -> dt.date:
    y, m = start.year, start.month + month_offset
    while m > 12:
        y, m = y + 1, m - 12
    d = dt.date(y, m, min(day, 28))
    return min(d, today)


def _enter(book, rows, ctx: DemoContext, today: dt.date, funds: dict) -> list:
    from . import services as svc
    from .models import Account

    codes = {
        a.code: a for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
    }
    start = _first_month(today)
    posted = []
    for month_offset, day, summary, spec in rows:
        lines = []
        for item in spec:
            code, dr, cr, *rest = item
            fund = rest[0] if rest else None
            resident = rest[1] if len(rest) > 1 else None
            lines.append(
                svc.LineInput(
                    account_id=codes[code].id,
                    debit=dr,
                    credit=cr,
                    fund_id=funds[fund].id if fund else None,
                    resident_id=ctx.residents[resident].id if resident is not None else None,
                )
            )
        v = svc.create_voucher(
            book,
            svc.VoucherInput(
                _date(start, month_offset, day, today), summary, lines, attachment_count=1
            ),
            actor=ctx.users["preparer"],
            source="demo",
        )
        svc.submit_voucher(v, actor=ctx.users["preparer"])
        svc.approve_voucher(v, actor=ctx.users["reviewer"])
        posted.append(svc.post_voucher(v, actor=ctx.users["reviewer"]))
    return posted


@demo_step(20)
def ledger_books(ctx: DemoContext) -> None:
    from . import services as svc

    today = dt.date.today()
    enterprise = svc.create_book(ctx.enterprise)
    foundation = svc.create_book(ctx.foundation)
    trust = svc.create_book(ctx.trust)
    micro = svc.create_fund(
        foundation,
        "WP-HZ",
        "邻里互助微基金",
        restricted=True,
        purpose="高龄独居老人探访、困难家庭帮扶",
    )
    posted = _enter(enterprise, ENTERPRISE, ctx, today, {})
    # One mistake, corrected the way it is done on paper: a red reversal, then the right voucher.
    wrong = posted[13]
    red = svc.reverse_voucher(
        wrong,
        actor=ctx.users["preparer"],
        date=wrong.date,
        summary=f"冲销 {wrong.number}：手续费金额录错",
    )
    svc.submit_voucher(red, actor=ctx.users["preparer"])
    svc.approve_voucher(red, actor=ctx.users["reviewer"])
    svc.post_voucher(red, actor=ctx.users["reviewer"])
    _enter(
        enterprise,
        [(1, 15, "银行手续费（更正）", [("5603", 1_520, 0), ("1002", 0, 1_520)])],
        ctx,
        today,
        {},
    )
    _enter(foundation, FOUNDATION, ctx, today, {"WP-HZ": micro})
    _enter(trust, TRUST, ctx, today, {})
    # The first two demo months are closed, as a treasurer would have done by now.
    start = _first_month(today)
    for book in (enterprise, foundation, trust):
        y, m = start.year, start.month
        for _ in range(2):
            svc.close_period(book, y, m, actor=ctx.users["reviewer"])
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
