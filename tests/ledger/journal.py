"""Deterministic generator of realistic beancount journals for a small community enterprise.

Used by the plain-text tests (with beancount and hledger as oracles) and by benchmarks.
The text is built directly from integer fen amounts, so it is fast: 100,000 transactions
(about 230,000 postings) take a second or two.

Accounts follow the naming that ``ledger.plaintext.beancount_account_name`` produces:
``Root:{code}-{name}`` for every component, e.g. ``Assets:1002-银行存款:100201-工商银行``
(beancount does not accept a component that starts with a Chinese character).

The generator knows every running balance, so the ``balance`` assertions it writes hold
(beancount semantics: the balance at the *start* of the day, including sub-accounts). The
tests do not use those numbers as expected figures: expected figures come from beancount and
hledger run as separate programs.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

__all__ = ["ACCOUNTS", "generate_journal"]

# (account, commodities it may hold); "" = unconstrained.
ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("Assets:1001-库存现金", "CNY"),
    ("Assets:1002-银行存款", "CNY"),
    ("Assets:1002-银行存款:100201-工商银行", "CNY"),
    ("Assets:1002-银行存款:100202-农村信用社", "CNY"),
    ("Assets:1012-其他货币资金:101201-微信支付", "CNY"),
    ("Assets:1122-应收账款", "CNY"),
    ("Assets:1123-预付账款", "CNY"),
    ("Assets:1221-其他应收款", "CNY"),
    ("Assets:1403-原材料", "CNY"),
    ("Assets:1405-库存商品", "CNY"),
    ("Assets:1601-固定资产", "CNY"),
    ("Assets:1602-累计折旧", "CNY"),
    ("Liabilities:2202-应付账款", "CNY"),
    ("Liabilities:2203-预收账款", "CNY"),
    ("Liabilities:2211-应付职工薪酬:221101-工资", "CNY"),
    ("Liabilities:2211-应付职工薪酬:221102-社会保险费", "CNY"),
    ("Liabilities:2221-应交税费:222101-应交增值税", "CNY"),
    ("Liabilities:2221-应交税费:222106-应交个人所得税", "CNY"),
    ("Liabilities:2241-其他应付款", "CNY"),
    ("Liabilities:2801-社区积分", "POINTS"),
    ("Equity:3001-实收资本", "CNY"),
    ("Equity:3104-利润分配", "CNY"),
    ("Income:5001-主营业务收入:500101-服务费", "CNY"),
    ("Income:5001-主营业务收入:500102-商品销售", "CNY"),
    ("Income:5051-其他业务收入", "CNY"),
    ("Income:5301-营业外收入", ""),
    ("Expenses:5401-主营业务成本", "CNY"),
    ("Expenses:5403-税金及附加", "CNY"),
    ("Expenses:5601-销售费用:560101-积分奖励", "POINTS"),
    ("Expenses:5601-销售费用:560102-广告费", "CNY"),
    ("Expenses:5602-管理费用:560201-办公费", "CNY"),
    ("Expenses:5602-管理费用:560202-差旅费", "CNY"),
    ("Expenses:5602-管理费用:560203-工资", "CNY"),
    ("Expenses:5602-管理费用:560204-水电费", "CNY"),
    ("Expenses:5602-管理费用:560205-租金", "CNY"),
    ("Expenses:5603-财务费用:560301-手续费", "CNY"),
    ("Expenses:5711-营业外支出", "CNY"),
)

CASH = "Assets:1001-库存现金"
BANK = "Assets:1002-银行存款"
ICBC = "Assets:1002-银行存款:100201-工商银行"
RCC = "Assets:1002-银行存款:100202-农村信用社"
WECHAT = "Assets:1012-其他货币资金:101201-微信支付"
RECEIVABLE = "Assets:1122-应收账款"
PREPAID = "Assets:1123-预付账款"
OTHER_RECV = "Assets:1221-其他应收款"
MATERIALS = "Assets:1403-原材料"
GOODS = "Assets:1405-库存商品"
FIXED = "Assets:1601-固定资产"
DEPRECIATION = "Assets:1602-累计折旧"
PAYABLE = "Liabilities:2202-应付账款"
ADVANCE = "Liabilities:2203-预收账款"
WAGES = "Liabilities:2211-应付职工薪酬:221101-工资"
SOCIAL = "Liabilities:2211-应付职工薪酬:221102-社会保险费"
VAT = "Liabilities:2221-应交税费:222101-应交增值税"
IIT = "Liabilities:2221-应交税费:222106-应交个人所得税"
OTHER_PAY = "Liabilities:2241-其他应付款"
POINTS_LIAB = "Liabilities:2801-社区积分"
CAPITAL = "Equity:3001-实收资本"
SERVICE = "Income:5001-主营业务收入:500101-服务费"
SALES = "Income:5001-主营业务收入:500102-商品销售"
OTHER_INCOME = "Income:5051-其他业务收入"
NONOP_INCOME = "Income:5301-营业外收入"
COGS = "Expenses:5401-主营业务成本"
POINTS_EXP = "Expenses:5601-销售费用:560101-积分奖励"
ADVERTISING = "Expenses:5601-销售费用:560102-广告费"
OFFICE = "Expenses:5602-管理费用:560201-办公费"
TRAVEL = "Expenses:5602-管理费用:560202-差旅费"
SALARY = "Expenses:5602-管理费用:560203-工资"
UTILITIES = "Expenses:5602-管理费用:560204-水电费"
RENT = "Expenses:5602-管理费用:560205-租金"
BANK_FEES = "Expenses:5603-财务费用:560301-手续费"
NONOP_EXP = "Expenses:5711-营业外支出"

PAYEES = (
    "张三",
    "李四",
    "王五",
    "赵六",
    "陈阿姨",
    "刘师傅",
    "社区居委会",
    "幸福里业主委员会",
    "绿源物业服务有限公司",
    "城南供电局",
    "自来水公司",
    "顺丰速运",
    "得力文具店",
    "农夫果园合作社",
    "社区老年协会",
    "阳光幼儿园",
    "中国工商银行",
    "农村信用社",
)
CUSTOMERS = ("3号楼业主", "5号楼业主", "社区食堂顾客", "阳光幼儿园", "社区老年协会", "张三", "李四")
SUPPLIERS = ("得力文具店", "农夫果园合作社", "绿源物业服务有限公司", "顺丰速运", "五金店")
GOODS_NAMES = ("大米", "食用油", "蔬菜礼包", "打印纸", "洗衣液", "鸡蛋", "手工皂", "茶叶")
SERVICES = ("家政服务", "维修服务", "托管服务", "场地租用", "社区课堂", "助餐服务")


def _fen(v: int) -> str:
    """Integer fen -> '123.45' / '-0.05'."""
    sign = "-" if v < 0 else ""
    v = abs(v)
    return f"{sign}{v // 100}.{v % 100:02d}"


def generate_journal(n_transactions: int, seed: int = 1, start: date = date(2024, 1, 1)) -> str:
    """Return beancount text with ``n_transactions`` transactions (plus opening directives and
    a few balance assertions), deterministic for a given ``seed``.

    Dates run in order from ``start`` over about three years. About 75% of transactions have
    2 postings, 20% have 3 and 5% have 4 (≈2.3 postings per transaction); about one in seven
    leaves its last amount out for beancount to infer.
    """
    if n_transactions < 0:
        raise ValueError("n_transactions must be >= 0")
    rng = random.Random(seed)
    rand = rng.random
    randint = rng.randint
    choice = rng.choice

    out: list[str] = [
        'option "title" "幸福里社区服务合作社 账簿"',
        'option "operating_currency" "CNY"',
        "",
        f"{start.isoformat()} commodity CNY",
        f"{start.isoformat()} commodity POINTS",
        "",
    ]
    for account, currencies in ACCOUNTS:
        out.append(f"{start.isoformat()} open {account}" + (f" {currencies}" if currencies else ""))
    out.append("")

    balances: dict[str, int] = {}  # account -> CNY fen / POINTS (one commodity per account here)
    span_days = 3 * 365
    n = max(n_transactions, 1)
    day_cache: dict[int, str] = {}

    def emit(
        day: str,
        flag: str,
        payee: str | None,
        narration: str,
        postings: list[tuple[str, int, str]],
        elide: bool,
        extra: str = "",
    ) -> None:
        head = (
            f'{day} {flag} "{payee}" "{narration}"'
            if payee is not None
            else f'{day} {flag} "{narration}"'
        )
        lines = [head + extra]
        last = len(postings) - 1
        for i, (account, amount, commodity) in enumerate(postings):
            balances[account] = balances.get(account, 0) + amount
            if elide and i == last:
                lines.append(f"  {account}")
            elif commodity == "CNY":
                lines.append(f"  {account}  {_fen(amount)} CNY")
            else:
                lines.append(f"  {account}  {amount} {commodity}")
        out.append("\n".join(lines))

    # Opening capital on the first day.
    first_day = start.isoformat()
    emit(
        first_day,
        "*",
        "全体社员",
        "社员入股 实收资本",
        [(ICBC, 50_000_000, "CNY"), (RCC, 10_000_000, "CNY"), (CAPITAL, -60_000_000, "CNY")],
        False,
    )
    n_real = n_transactions - 1 if n_transactions else 0
    if n_transactions == 0:
        out.pop()  # no transactions at all
        balances.clear()

    current_month = (start.year, start.month)
    asserted = (CASH, BANK, ICBC, WECHAT, PAYABLE, POINTS_LIAB)

    def subtotal(account: str) -> int:
        prefix = account + ":"
        return sum(v for a, v in balances.items() if a == account or a.startswith(prefix))

    for i in range(n_real):
        offset = ((i + 1) * span_days) // n
        day = day_cache.get(offset)
        if day is None:
            d = start + timedelta(days=offset)
            day = d.isoformat()
            day_cache[offset] = day
            month = (d.year, d.month)
            if month != current_month:
                # Assertions at the start of the first day with transactions in a new month.
                current_month = month
                out.append("")
                for account in asserted:
                    commodity = "POINTS" if account == POINTS_LIAB else "CNY"
                    value = subtotal(account)
                    shown = _fen(value) if commodity == "CNY" else str(value)
                    out.append(f"{day} balance {account}  {shown} {commodity}")
                out.append("")

        r = rand()
        elide = rand() < 0.15
        flag = "!" if rand() < 0.02 else "*"
        extra = ""
        x = rand()
        if x < 0.03:
            extra = " #community"
        elif x < 0.05:
            extra = f" ^inv-{i:06d}"
        elif x < 0.06:
            extra = f'\n  invoice: "FP{i:08d}"'

        if r < 0.75:
            kind = randint(0, 11)
            if kind == 0:
                amt = randint(2_000, 80_000)
                cust = choice(CUSTOMERS)
                emit(
                    day,
                    flag,
                    cust,
                    f"{choice(SERVICES)}收入",
                    [(ICBC, amt, "CNY"), (SERVICE, -amt, "CNY")],
                    elide,
                    extra,
                )
            elif kind == 1:
                amt = randint(500, 20_000)
                emit(
                    day,
                    flag,
                    choice(CUSTOMERS),
                    f"现金收取{choice(SERVICES)}费",
                    [(CASH, amt, "CNY"), (SERVICE, -amt, "CNY")],
                    elide,
                    extra,
                )
            elif kind == 2:
                amt = randint(100, 30_000)
                emit(
                    day,
                    flag,
                    choice(CUSTOMERS),
                    f"微信收款 {choice(GOODS_NAMES)}",
                    [(WECHAT, amt, "CNY"), (SALES, -amt, "CNY")],
                    elide,
                    extra,
                )
            elif kind == 3:
                amt = randint(300, 60_000)
                emit(
                    day,
                    flag,
                    choice(SUPPLIERS),
                    f"购买办公用品“{choice(GOODS_NAMES)}”",
                    [(OFFICE, amt, "CNY"), (ICBC, -amt, "CNY")],
                    elide,
                    extra,
                )
            elif kind == 4:
                amt = randint(5_000, 500_000)
                emit(
                    day,
                    flag,
                    choice(SUPPLIERS),
                    "支付货款",
                    [(PAYABLE, amt, "CNY"), (ICBC, -amt, "CNY")],
                    elide,
                    extra,
                )
            elif kind == 5:
                amt = randint(5_000, 300_000)
                emit(
                    day,
                    flag,
                    choice(CUSTOMERS),
                    "收回应收账款",
                    [(RCC, amt, "CNY"), (RECEIVABLE, -amt, "CNY")],
                    elide,
                    extra,
                )
            elif kind == 6:
                amt = randint(50, 2_000)
                emit(
                    day,
                    flag,
                    "中国工商银行",
                    "银行手续费",
                    [(BANK_FEES, amt, "CNY"), (ICBC, -amt, "CNY")],
                    elide,
                    extra,
                )
            elif kind == 7:
                amt = randint(2_000, 90_000)
                emit(
                    day,
                    flag,
                    choice(("城南供电局", "自来水公司")),
                    "水电费",
                    [(UTILITIES, amt, "CNY"), (BANK, -amt, "CNY")],
                    elide,
                    extra,
                )
            elif kind == 8:
                amt = randint(10_000, 200_000)
                emit(
                    day,
                    flag,
                    None,
                    '支付 \\"社区课堂\\" 场地租金',
                    [(RENT, amt, "CNY"), (RCC, -amt, "CNY")],
                    elide,
                    extra,
                )
            elif kind == 9:
                pts = randint(1, 500)
                emit(
                    day,
                    flag,
                    "社区老年协会",
                    "志愿服务积分奖励",
                    [(POINTS_EXP, pts, "POINTS"), (POINTS_LIAB, -pts, "POINTS")],
                    elide,
                    extra,
                )
            elif kind == 10:
                amt = randint(1_000, 50_000)
                emit(
                    day,
                    flag,
                    choice(PAYEES),
                    "员工借支差旅费",
                    [(OTHER_RECV, amt, "CNY"), (CASH, -amt, "CNY")],
                    elide,
                    extra,
                )
            else:
                amt = randint(300_000, 900_000)
                emit(
                    day,
                    flag,
                    None,
                    "计提本月工资",
                    [(SALARY, amt, "CNY"), (WAGES, -amt, "CNY")],
                    elide,
                    extra,
                )
        elif r < 0.95:
            kind = randint(0, 3)
            if kind == 0:
                net = randint(1_000, 200_000)
                tax = net * 13 // 100
                emit(
                    day,
                    flag,
                    choice(CUSTOMERS),
                    f"销售{choice(GOODS_NAMES)} 含税",
                    [(SALES, -net, "CNY"), (VAT, -tax, "CNY"), (ICBC, net + tax, "CNY")],
                    elide,
                    extra,
                )
            elif kind == 1:
                net = randint(1_000, 300_000)
                tax = net * 13 // 100
                emit(
                    day,
                    flag,
                    choice(SUPPLIERS),
                    f"采购原材料 {choice(GOODS_NAMES)}",
                    [(MATERIALS, net, "CNY"), (VAT, tax, "CNY"), (PAYABLE, -(net + tax), "CNY")],
                    elide,
                    extra,
                )
            elif kind == 2:
                a, b = randint(500, 40_000), randint(300, 20_000)
                emit(
                    day,
                    flag,
                    choice(PAYEES),
                    "报销差旅费及办公费",
                    [(TRAVEL, a, "CNY"), (OFFICE, b, "CNY"), (OTHER_RECV, -(a + b), "CNY")],
                    elide,
                    extra,
                )
            else:
                cost = randint(1_000, 100_000)
                emit(
                    day,
                    flag,
                    None,
                    "结转商品销售成本",
                    [
                        (COGS, cost, "CNY"),
                        (GOODS, -(cost // 2), "CNY"),
                        (MATERIALS, -(cost - cost // 2), "CNY"),
                    ],
                    elide,
                    extra,
                )
        else:
            if rand() < 0.5:
                gross = randint(300_000, 900_000)
                iit = gross * 3 // 100
                social = gross * 105 // 1000
                emit(
                    day,
                    flag,
                    "全体员工",
                    "发放工资 代扣个税及社保",
                    [
                        (WAGES, gross, "CNY"),
                        (IIT, -iit, "CNY"),
                        (SOCIAL, -social, "CNY"),
                        (ICBC, -(gross - iit - social), "CNY"),
                    ],
                    elide,
                    extra,
                )
            else:
                a, b, c = randint(1_000, 50_000), randint(1_000, 50_000), randint(100, 5_000)
                emit(
                    day,
                    flag,
                    "社区居委会",
                    "社区活动支出 广告、租金与手续费",
                    [
                        (ADVERTISING, a, "CNY"),
                        (RENT, b, "CNY"),
                        (BANK_FEES, c, "CNY"),
                        (CASH, -(a + b + c), "CNY"),
                    ],
                    elide,
                    extra,
                )

    out.append("")
    return "\n".join(out)
