"""Charts of accounts and statement layouts (ledger/charts).

Oracles: the account tables of DOMAIN.md §5.1/§5.2, the official line numbers of 会小企01/02
and 会民非01/02, and the accounting identities (a balanced trial balance gives a balanced
balance sheet; net result = revenue - expense).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.charts import (
    ACCOUNT_TYPES,
    BALANCE_SHEET_TYPES,
    NORMAL_SIDES,
    STANDARDS,
    ChartAccount,
    LayoutError,
    StatementLayout,
    evaluate,
    load_chart,
    load_layout,
    normal_balance,
    parse_layout,
    statements_for,
)

# DOMAIN.md §5.2 (aimcx / 财会〔2011〕17号 numbering)
SME_ACCOUNTS = {
    "1001": "库存现金", "1002": "银行存款", "1012": "其他货币资金", "1101": "短期投资",
    "1121": "应收票据", "1122": "应收账款", "1123": "预付账款", "1131": "应收股利",
    "1132": "应收利息", "1221": "其他应收款", "1401": "材料采购", "1402": "在途物资",
    "1403": "原材料", "1404": "材料成本差异", "1405": "库存商品", "1407": "商品进销差价",
    "1408": "委托加工物资", "1411": "周转材料", "1421": "消耗性生物资产",
    "1501": "长期债券投资", "1511": "长期股权投资", "1601": "固定资产", "1602": "累计折旧",
    "1604": "在建工程", "1605": "工程物资", "1606": "固定资产清理", "1621": "生产性生物资产",
    "1622": "生产性生物资产累计折旧", "1701": "无形资产", "1702": "累计摊销",
    "1801": "长期待摊费用", "1901": "待处理财产损溢",
    "2001": "短期借款", "2201": "应付票据", "2202": "应付账款", "2203": "预收账款",
    "2211": "应付职工薪酬", "2221": "应交税费", "2231": "应付利息", "2232": "应付利润",
    "2241": "其他应付款", "2401": "递延收益", "2501": "长期借款", "2701": "长期应付款",
    "3001": "实收资本", "3002": "资本公积", "3101": "盈余公积", "3103": "本年利润",
    "3104": "利润分配",
    "4001": "生产成本", "4101": "制造费用", "4301": "研发支出", "4401": "工程施工",
    "4403": "机械作业",
    "5001": "主营业务收入", "5051": "其他业务收入", "5111": "投资收益", "5301": "营业外收入",
    "5401": "主营业务成本", "5402": "其他业务成本", "5403": "营业税金及附加",
    "5601": "销售费用", "5602": "管理费用", "5603": "财务费用", "5711": "营业外支出",
    "5801": "所得税费用",
}  # fmt: skip

# DOMAIN.md §5.1 (财会〔2004〕7号)
NPO_ACCOUNTS = {
    "1001": "现金", "1002": "银行存款", "1009": "其他货币资金", "1101": "短期投资",
    "1102": "短期投资跌价准备", "1111": "应收票据", "1121": "应收账款", "1122": "其他应收款",
    "1131": "坏账准备", "1141": "预付账款", "1201": "存货", "1202": "存货跌价准备",
    "1301": "待摊费用", "1401": "长期股权投资", "1402": "长期债权投资",
    "1421": "长期投资减值准备", "1501": "固定资产", "1502": "累计折旧", "1505": "在建工程",
    "1506": "文物文化资产", "1509": "固定资产清理", "1601": "无形资产", "1701": "受托代理资产",
    "2101": "短期借款", "2201": "应付票据", "2202": "应付账款", "2203": "预收账款",
    "2204": "应付工资", "2206": "应交税金", "2209": "其他应付款", "2301": "预提费用",
    "2401": "预计负债", "2501": "长期借款", "2502": "长期应付款", "2601": "受托代理负债",
    "3101": "非限定性净资产", "3102": "限定性净资产",
    "4101": "捐赠收入", "4201": "会费收入", "4301": "提供服务收入", "4401": "政府补助收入",
    "4501": "商品销售收入", "4601": "投资收益", "4901": "其他收入",
    "5101": "业务活动成本", "5201": "管理费用", "5301": "筹资费用", "5401": "其他费用",
}  # fmt: skip

# Credit-normal asset accounts (contra) and other accounts whose side is easy to get wrong.
CONTRA = {
    "SME_2011": {"1407", "1602", "1622", "1702"},
    "NPO_2004": {"1102", "1131", "1202", "1421", "1502"},
    "TRUST_FUND": set(),
}
CREDIT_EQUITY = {"SME_2011": {"3103", "3104"}}

# Type implied by the first digit of a first-level code.
TYPE_BY_DIGIT = {
    "SME_2011": {"1": {"asset"}, "2": {"liability"}, "3": {"equity"}, "4": {"cost"},
                 "5": {"revenue", "expense"}},
    "NPO_2004": {"1": {"asset"}, "2": {"liability"}, "3": {"net_assets"}, "4": {"revenue"},
                 "5": {"expense"}},
    "TRUST_FUND": {"1": {"asset"}, "2": {"liability"}, "3": {"net_assets"}, "4": {"revenue"},
                   "5": {"expense"}},
}  # fmt: skip

BS = "balance_sheet"
FLOW = {
    "SME_2011": "income_statement",
    "NPO_2004": "activities",
    "TRUST_FUND": "income_expenditure",
}
TOTALS = {  # balance sheet (left total, right total); flow statement final line
    "SME_2011": ("total_assets", "total_liabilities_and_equity", "net_profit"),
    "NPO_2004": ("total_assets", "total_liabilities_and_net_assets", "change_in_net_assets"),
    "TRUST_FUND": ("total_assets", "total_liabilities_and_net_assets", "surplus"),
}
# NPO_2024 is provisional: the 2004 data carried forward (ledger/charts/README.md, [verify]).
for _table in (CONTRA, TYPE_BY_DIGIT, FLOW, TOTALS):
    _table["NPO_2024"] = _table["NPO_2004"]
ALL_LAYOUTS = [(s, st_) for s in STANDARDS for st_ in statements_for(s)]


def chart_map(standard: str) -> dict[str, ChartAccount]:
    return {a.code: a for a in load_chart(standard)}


def first_level(standard: str) -> list[ChartAccount]:
    return [a for a in load_chart(standard) if a.is_first_level]


def leaves(standard: str) -> list[ChartAccount]:
    parents = {a.parent_code for a in load_chart(standard) if a.parent_code}
    return [a for a in load_chart(standard) if a.code not in parents]


def coefficients(layout: StatementLayout, key: str) -> dict[str, int]:
    """Net coefficient of every referenced account code in line ``key`` (expanding sums)."""
    by_key = {ln.key: ln for ln in layout.lines}
    out: dict[str, int] = {}

    def walk(k: str, factor: int) -> None:
        ln = by_key[k]
        for a in ln.accounts:
            out[a.code] = out.get(a.code, 0) + factor * a.sign
        for t in ln.sum:
            walk(t.key, factor * t.sign)

    walk(key, 1)
    return {c: v for c, v in out.items() if v}


def normal_balances(standard: str, postings: list[tuple[str, str, int]]) -> dict[str, int]:
    """Post (debit_code, credit_code, amount) pairs; return normal-side balances by code."""
    accounts = chart_map(standard)
    dr: dict[str, int] = {}
    cr: dict[str, int] = {}
    for d, c, amt in postings:
        dr[d] = dr.get(d, 0) + amt
        cr[c] = cr.get(c, 0) + amt
    return {
        code: normal_balance(accounts[code].normal_side, dr.get(code, 0), cr.get(code, 0))
        for code in set(dr) | set(cr)
    }


# --------------------------------------------------------------------------- charts


def test_standards_and_statements():
    assert STANDARDS == ("SME_2011", "NPO_2004", "NPO_2024", "TRUST_FUND")
    assert statements_for("SME_2011") == ["balance_sheet", "income_statement"]
    assert statements_for("NPO_2004") == ["balance_sheet", "activities"]
    assert statements_for("TRUST_FUND") == ["balance_sheet", "income_expenditure"]
    with pytest.raises(KeyError):
        load_chart("NPO_2030")
    with pytest.raises(KeyError):
        load_layout("SME_2011", "activities")


def test_sme_chart_is_the_66_accounts_of_domain():
    chart = load_chart("SME_2011")
    assert len(first_level("SME_2011")) == 66
    assert {a.code: a.name_zh for a in chart if a.is_first_level} == SME_ACCOUNTS


def test_npo_chart_is_the_48_accounts_of_domain():
    assert len(first_level("NPO_2004")) == 48
    assert {a.code: a.name_zh for a in first_level("NPO_2004")} == NPO_ACCOUNTS


def test_trust_chart_has_the_suggested_accounts():
    chart = chart_map("TRUST_FUND")
    expected = {
        "1001": "现金", "1002": "银行存款—共有基金账户", "1122": "应收物业费",
        "1221": "其他应收款", "2203": "预收物业费", "2209": "其他应付款", "220901": "应付酬金",
        "220902": "押金", "2601": "代收代付", "3101": "共有基金结余", "3102": "指定用途结余",
        "4101": "物业服务费收入", "4201": "公共收益", "4301": "预算外有偿服务收入",
        "4901": "利息及其他收入", "5109": "经业主同意的其他费用", "5901": "物业服务酬金",
    }  # fmt: skip
    for code, name in expected.items():
        assert chart[code].name_zh == name
    assert {c for c in chart if c.startswith("4201") and c != "4201"} == {
        "420101", "420102", "420103", "420109",
    }  # fmt: skip
    # TP-6 categories 5101..5108 plus 5109
    assert [c for c in chart if c.startswith("51")] == [f"51{n:02d}" for n in range(1, 10)]
    # TP-11: the special repair fund is its own net-assets sub-fund
    assert chart["3103"].type == "net_assets"


@pytest.mark.parametrize("standard", STANDARDS)
def test_chart_codes_parents_types_sides(standard):
    chart = load_chart(standard)
    codes = [a.code for a in chart]
    assert len(codes) == len(set(codes)), "duplicate codes"
    assert codes == sorted(codes), "file not in code order"
    by_code = {a.code: a for a in chart}
    for a in chart:
        assert a.code.isdigit(), a
        assert a.type in ACCOUNT_TYPES, a
        assert a.normal_side in NORMAL_SIDES, a
        assert a.name_zh and a.name_en, a
        if a.parent_code is None:
            assert len(a.code) == 4, a
            assert a.type in TYPE_BY_DIGIT[standard][a.code[0]], a
        else:
            parent = by_code.get(a.parent_code)
            assert parent is not None, f"{a.code}: parent {a.parent_code} missing"
            assert a.code.startswith(parent.code) and len(a.code) == len(parent.code) + 2, a
            assert (a.type, a.normal_side) == (parent.type, parent.normal_side), a


@pytest.mark.parametrize("standard", STANDARDS)
def test_contra_accounts_are_credit_normal(standard):
    chart = chart_map(standard)
    for code in CONTRA[standard]:
        assert chart[code].type == "asset" and chart[code].normal_side == "credit", code
    for code in CREDIT_EQUITY.get(standard, ()):
        assert chart[code].normal_side == "credit", code
    # and nothing else is accidentally contra
    assert {a.code for a in chart.values() if a.is_contra} == CONTRA[standard]


def test_usual_sides():
    for standard in STANDARDS:
        for a in load_chart(standard):
            if a.code in CONTRA[standard]:
                continue
            expected = "debit" if a.type in ("asset", "cost", "expense") else "credit"
            assert a.normal_side == expected, (standard, a)


# --------------------------------------------------------------------------- layouts


@pytest.mark.parametrize(("standard", "statement"), ALL_LAYOUTS)
def test_layout_accounts_exist_and_lines_well_formed(standard, statement):
    layout = load_layout(standard, statement)
    chart = chart_map(standard)
    assert layout.standard == standard and layout.statement == statement
    assert layout.title_zh and layout.title_en and layout.periods
    keys = set()
    for ln in layout.lines:
        assert ln.key not in keys
        keys.add(ln.key)
        for a in ln.accounts:
            assert a.code in chart, f"{ln.key}: unknown account {a.code}"
            assert a.sign in (1, -1)
        assert bool(ln.note_zh) == bool(ln.note_en), f"{ln.key}: note in one language only"
        assert ln.indent in (0, 1, 2, 3)
        if statement == BS:
            assert ln.side in ("left", "right"), ln.key
        else:
            assert ln.side is None, ln.key
    # line numbers ascend in form order (per side on a balance sheet)
    for side in ("left", "right", None):
        nos = [ln.line_no for ln in layout.lines if ln.side == side and ln.line_no is not None]
        assert nos == sorted(nos)


@pytest.mark.parametrize(("standard", "statement"), ALL_LAYOUTS)
def test_sums_reference_defined_lines_without_cycles(standard, statement):
    layout = load_layout(standard, statement)
    by_key = {ln.key: ln for ln in layout.lines}
    for ln in layout.lines:
        for t in ln.sum:
            assert t.key in by_key and by_key[t.key].kind != "heading"
            assert not by_key[t.key].memo or ln.memo, "a breakdown line entered a total"
    coefficients(layout, TOTALS[standard][-1 if statement != BS else 0])  # terminates


def test_parse_layout_rejects_bad_structure():
    def doc(lines):
        return {
            "standard": "X", "statement": "y", "form_code": None, "title_zh": "t",
            "title_en": "t", "columns": ["amount"], "lines": lines,
        }  # fmt: skip

    item = {"line_no": 1, "key": "a", "label_zh": "a", "label_en": "a", "kind": "item",
            "accounts": [{"code": "1001", "sign": 1}]}  # fmt: skip
    parse_layout(doc([item]))
    cyc = [
        {
            "line_no": 1,
            "key": "a",
            "label_zh": "",
            "label_en": "",
            "kind": "subtotal",
            "sum": ["b"],
        },
        {"line_no": 2, "key": "b", "label_zh": "", "label_en": "", "kind": "total", "sum": ["-a"]},
    ]
    with pytest.raises(LayoutError, match="cycle"):
        parse_layout(doc(cyc))
    with pytest.raises(LayoutError, match="unknown key"):
        parse_layout(doc([dict(cyc[0], sum=["zz"])]))
    with pytest.raises(LayoutError, match="memo"):
        parse_layout(doc([dict(item, memo=True), dict(cyc[1], sum=["a"])]))
    with pytest.raises(LayoutError, match="sign"):
        parse_layout(doc([dict(item, accounts=[{"code": "1001", "sign": 2}])]))
    with pytest.raises(LayoutError, match="kind"):
        parse_layout(doc([dict(item, kind="footer")]))
    with pytest.raises(LayoutError, match="duplicate"):
        parse_layout(doc([item, item]))


def test_official_line_numbers():
    def nos(standard, statement):
        return [ln.line_no for ln in load_layout(standard, statement).lines if ln.line_no]

    assert sorted(nos("SME_2011", BS)) == list(range(1, 54))
    assert sorted(nos("SME_2011", "income_statement")) == list(range(1, 33))
    assert set(nos("NPO_2004", BS)) == {
        1, 2, 3, 4, 8, 9, 15, 18, 20, 21, 24, 30, 31, 32, 33, 34, 35, 38, 40, 41, 51, 60,
        61, 62, 63, 65, 66, 71, 72, 74, 78, 80, 81, 84, 88, 90, 91, 100, 101, 105, 110, 120,
    }  # fmt: skip
    assert set(nos("NPO_2004", "activities")) == {
        1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16, 21, 24, 28, 35, 40, 45,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("standard", "statement", "line_no", "key", "codes"),
    [
        ("SME_2011", BS, 1, "cash", {"1001": 1, "1002": 1, "1012": 1}),
        ("SME_2011", BS, 15, "total_current_assets", None),
        ("SME_2011", BS, 20, "fixed_assets_carrying_amount", {"1601": 1, "1602": -1}),
        ("SME_2011", BS, 30, "total_assets", None),
        ("SME_2011", BS, 53, "total_liabilities_and_equity", None),
        ("SME_2011", "income_statement", 1, "operating_revenue", {"5001": 1, "5051": 1}),
        ("SME_2011", "income_statement", 3, "taxes_and_surcharges", {"5403": 1}),
        ("SME_2011", "income_statement", 32, "net_profit", None),
        ("NPO_2004", BS, 3, "receivables", {"1111": 1, "1121": 1, "1122": 1, "1131": -1}),
        ("NPO_2004", BS, 51, "agency_assets", {"1701": 1}),
        ("NPO_2004", BS, 91, "agency_liabilities", {"2601": 1}),
        ("NPO_2004", BS, 105, "restricted_net_assets", {"3102": 1}),
        ("NPO_2004", BS, 110, "total_net_assets", None),
        ("NPO_2004", BS, 120, "total_liabilities_and_net_assets", None),
        ("NPO_2004", "activities", 1, "donations", {"4101": 1}),
        ("NPO_2004", "activities", 5, "government_grants", {"4401": 1}),
        ("NPO_2004", "activities", 12, "programme_costs", {"5101": 1}),
        ("NPO_2004", "activities", 21, "administrative_expenses", {"5201": 1}),
        ("NPO_2004", "activities", 40, "released_from_restriction", {}),
        ("NPO_2004", "activities", 45, "change_in_net_assets", None),
    ],
)
def test_key_lines(standard, statement, line_no, key, codes):
    layout = load_layout(standard, statement)
    ln = layout.line(key)
    assert ln.line_no == line_no
    if codes is not None:
        assert coefficients(layout, key) == codes


def test_sme_inventories_follow_the_filling_rule():
    layout = load_layout("SME_2011", BS)
    assert coefficients(layout, "inventories") == {
        "1401": 1, "1402": 1, "1403": 1, "1404": 1, "1405": 1, "1407": -1, "1408": 1,
        "1411": 1, "1421": 1, "4001": 1, "4101": 1, "4401": 1, "4403": 1,
    }  # fmt: skip
    # retained earnings: 3103 + 3104 (+ unclosed P&L, which is zero after closing)
    re_ = coefficients(layout, "retained_earnings")
    assert re_["3103"] == 1 and re_["3104"] == 1


def test_npo_activities_columns_and_release_note():
    layout = load_layout("NPO_2004", "activities")
    assert layout.columns == ("unrestricted", "restricted", "total")
    ln = layout.line("released_from_restriction")
    assert "3102" in ln.note_en and "3101" in ln.note_en
    assert coefficients(layout, "change_in_net_assets")  # lines 11 - 35 + 40


@pytest.mark.parametrize("standard", STANDARDS)
def test_each_balance_sheet_account_in_exactly_one_item(standard):
    layout = load_layout(standard, BS)
    items = [ln for ln in layout.lines if ln.kind == "item" and not ln.memo]
    for a in first_level(standard):
        hits = [ln.key for ln in items if any(r.code == a.code for r in ln.accounts)]
        if a.type in BALANCE_SHEET_TYPES:
            assert len(hits) == 1, f"{a.code} {a.name_zh}: in {hits}"


@pytest.mark.parametrize("standard", STANDARDS)
def test_balance_sheet_balances_algebraically(standard):
    """total_left - total_right weighs every account +1 if debit-normal, -1 if credit-normal.

    That is exactly Σ debits - Σ credits of the trial balance, so any balanced set of entries
    gives a balanced sheet (unclosed revenue and expense included).
    """
    layout = load_layout(standard, BS)
    left, right, _ = TOTALS[standard]
    cl, cr = coefficients(layout, left), coefficients(layout, right)
    net = {c: cl.get(c, 0) - cr.get(c, 0) for c in set(cl) | set(cr)}
    for a in first_level(standard):
        want = 1 if a.normal_side == "debit" else -1
        assert net.get(a.code, 0) == want, f"{a.code} {a.name_zh}"
    assert set(net) <= {a.code for a in first_level(standard)}
    # the left side holds only assets (and SME cost-class balances); the right side the rest
    chart = chart_map(standard)
    assert {chart[c].type for c in cl} <= {"asset", "cost"}
    assert "asset" not in {chart[c].type for c in cr}


@pytest.mark.parametrize("standard", STANDARDS)
def test_flow_statement_covers_every_revenue_and_expense_account(standard):
    layout = load_layout(standard, FLOW[standard])
    final = coefficients(layout, TOTALS[standard][2])
    items = [ln for ln in layout.lines if ln.kind == "item" and not ln.memo]
    for a in first_level(standard):
        hits = [ln.key for ln in items if any(r.code == a.code for r in ln.accounts)]
        if a.type in ("revenue", "expense"):
            assert len(hits) == 1, f"{a.code} {a.name_zh}: in {hits}"
            assert final[a.code] == (1 if a.type == "revenue" else -1), a.code
        else:
            assert not hits and a.code not in final, f"{a.code} is not a P&L account"
    # SME cost-class accounts are balance-sheet accounts (存货, 开发支出)
    if standard == "SME_2011":
        bs = load_layout(standard, BS)
        for a in first_level(standard):
            if a.type == "cost":
                assert coefficients(bs, "total_assets").get(a.code) == 1


# --------------------------------------------------------------------------- evaluate


def _random_postings(standard: str, rnd: random.Random, n: int) -> list[tuple[str, str, int]]:
    codes = [a.code for a in leaves(standard)]
    out = []
    for _ in range(n):
        d, c = rnd.sample(codes, 2)
        out.append((d, c, rnd.randint(1, 10_000_000)))
    return out


@pytest.mark.parametrize("standard", STANDARDS)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60))
def test_random_trial_balance_gives_balanced_sheet(standard, seed, n):
    postings = _random_postings(standard, random.Random(seed), n)
    balances = normal_balances(standard, postings)
    left, right, final = TOTALS[standard]
    bs = evaluate(load_layout(standard, BS), balances)
    assert bs[left] == bs[right]
    # the flow statement's result equals Σ revenue - Σ expense of the same postings
    chart = chart_map(standard)
    pnl = sum(
        (1 if chart[c].type == "revenue" else -1) * v
        for c, v in balances.items()
        if chart[c].type in ("revenue", "expense")
    )
    assert evaluate(load_layout(standard, FLOW[standard]), balances)[final] == pnl


@pytest.mark.parametrize("standard", STANDARDS)
def test_closed_books_balance_without_pnl(standard):
    """After closing (P&L accounts at zero) only balance-sheet accounts carry balances."""
    rnd = random.Random(7)
    codes = [a.code for a in leaves(standard) if a.type in BALANCE_SHEET_TYPES]
    postings = [(*rnd.sample(codes, 2), rnd.randint(1, 10**6)) for _ in range(200)]
    bs = evaluate(load_layout(standard, BS), normal_balances(standard, postings))
    left, right, _ = TOTALS[standard]
    assert bs[left] == bs[right] != 0


def test_evaluate_contra_subtotal_and_signs():
    layout = load_layout("SME_2011", BS)
    out = evaluate(layout, {"1601": 100_000, "1602": 30_000, "1405": 5_000, "1407": 1_000})
    assert out["fixed_assets_cost"] == 100_000
    assert out["accumulated_depreciation"] == 30_000  # shown positive after 减：
    assert out["fixed_assets_carrying_amount"] == 70_000
    assert out["inventories"] == 4_000
    assert out["finished_goods"] == 4_000
    assert out["total_assets"] == 74_000
    assert "h_current_assets" not in out  # headings carry no amount
    # a debit balance on 应交税费 is a negative liability
    assert evaluate(layout, {"2221": -500})["taxes_payable"] == -500


def test_evaluate_income_statement():
    layout = load_layout("SME_2011", "income_statement")
    out = evaluate(
        layout,
        {"5001": 1000, "5051": 200, "5401": 600, "5403": 12, "5601": 50, "5602": 80,
         "5603": -5, "5111": -30, "5301": 40, "5711": 10, "5801": 100},
    )  # fmt: skip
    assert out["operating_revenue"] == 1200
    assert out["operating_profit"] == 1200 - 600 - 12 - 50 - 80 + 5 - 30
    assert out["total_profit"] == out["operating_profit"] + 40 - 10
    assert out["net_profit"] == out["total_profit"] - 100
    assert out["consumption_tax"] == 0  # sub-account line: 0 unless overridden


def test_evaluate_rolls_up_sub_accounts_and_overrides():
    layout = load_layout("TRUST_FUND", "income_expenditure")
    bal = {"4101": 9000, "420101": 300, "420102": 200, "5201": 50, "5301": 0, "5901": 900}
    out = evaluate(layout, bal)
    assert out["common_parts_income"] == 500
    assert out["parking_income"] == 300
    assert out["common_parts_net_income"] == 450
    assert out["surplus"] == 9000 + 500 - 50 - 900

    npo = load_layout("NPO_2004", "activities")
    unrestricted = evaluate(npo, {"4101": 100, "5101": 80}, {"released_from_restriction": 30})
    assert unrestricted["change_in_net_assets"] == 100 - 80 + 30
    with pytest.raises(KeyError):
        evaluate(npo, {}, {"total_revenue": 1})  # only item lines can be overridden
    with pytest.raises(KeyError):
        evaluate(npo, {}, {"no_such_line": 1})


def test_normal_balance():
    assert normal_balance("debit", 100, 30) == 70
    assert normal_balance("credit", 100, 30) == -70
    with pytest.raises(ValueError):
        normal_balance("left", 1, 1)
