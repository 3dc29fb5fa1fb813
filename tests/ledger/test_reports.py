"""Reports (ledger/reports): balances, trial balance, statements, ledgers, fund statement.

Books are built through ledger.services, and every figure is checked against numbers worked
out by hand from the vouchers below.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import InvalidInput
from ledger import reports
from ledger import services as svc
from tests.ledger.conftest import lines

Y = 2025
D = dt.date


def yuan(text: str) -> int:
    """'1,234.56' → 123456 fen (test shorthand)."""
    whole, _, frac = text.replace(",", "").partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


@pytest.fixture
def sme(book, acct, post):
    """A community enterprise's March and April 2025 (小企业会计准则)."""
    a = {
        code: acct(code)
        for code in ("1001", "1002", "1122", "2221", "3001", "5001", "5602", "5603")
    }
    vs = {}
    vs["capital"] = post(
        lines((a["1002"], yuan("500,000"), 0), (a["3001"], 0, yuan("500,000"))),
        date=D(Y, 3, 1),
        summary="股东投入资本",
    )
    vs["sale"] = post(
        lines(
            (a["1002"], yuan("113,000"), 0),
            (a["5001"], 0, yuan("100,000")),
            (a["2221"], 0, yuan("13,000")),
        ),
        date=D(Y, 3, 5),
        summary="销售收入",
    )
    vs["rent"] = post(
        lines((a["5602"], yuan("20,000"), 0), (a["1002"], 0, yuan("20,000"))),
        date=D(Y, 3, 10),
        summary="支付办公室房租",
    )
    vs["cash"] = post(
        lines((a["1001"], yuan("5,000"), 0), (a["1002"], 0, yuan("5,000"))),
        date=D(Y, 3, 15),
        summary="提取备用金",
    )
    vs["tax"] = post(
        lines((a["2221"], yuan("13,000"), 0), (a["1002"], 0, yuan("13,000"))),
        date=D(Y, 3, 20),
        summary="缴纳增值税",
    )
    vs["stationery"] = post(
        lines((a["5602"], yuan("800.50"), 0), (a["1001"], 0, yuan("800.50"))),
        date=D(Y, 3, 25),
        summary="购买办公用品",
    )
    vs["credit_sale"] = post(
        lines(
            (a["1122"], yuan("56,500"), 0),
            (a["5001"], 0, yuan("50,000")),
            (a["2221"], 0, yuan("6,500")),
        ),
        date=D(Y, 4, 2),
        summary="赊销",
    )
    vs["bank_fee"] = post(
        lines((a["5603"], yuan("12.34"), 0), (a["1002"], 0, yuan("12.34"))),
        date=D(Y, 4, 18),
        summary="银行手续费",
    )
    return a, vs


def by_code(balances):
    return {(b.account.code, b.unit): b for b in balances}


# --- account_balances ---------------------------------------------------------------------


def test_account_balances_at_month_end_match_the_vouchers(book, sme):
    bals = by_code(reports.account_balances(book, as_of=D(Y, 3, 31)))
    assert bals[("1002", "CNY")].debit_total == yuan("613,000")
    assert bals[("1002", "CNY")].credit_total == yuan("38,000")
    assert bals[("1002", "CNY")].balance == yuan("575,000")
    assert bals[("1001", "CNY")].balance == yuan("4,199.50")
    assert bals[("3001", "CNY")].balance == -yuan("500,000")
    assert bals[("5001", "CNY")].balance == -yuan("100,000")
    assert bals[("2221", "CNY")].balance == 0 and bals[("2221", "CNY")].debit_total == yuan(
        "13,000"
    )
    assert bals[("5602", "CNY")].balance == yuan("20,800.50")
    assert ("1122", "CNY") not in bals and ("5603", "CNY") not in bals
    assert reports.total_by_unit(bals.values()) == {"CNY": 0}


def test_account_balances_mid_month_count_only_vouchers_up_to_the_date(book, sme):
    bals = by_code(reports.account_balances(book, as_of=D(Y, 3, 12)))
    assert set(bals) == {(c, "CNY") for c in ("1002", "3001", "5001", "2221", "5602")}
    assert bals[("1002", "CNY")].balance == yuan("593,000")
    mid_april = by_code(reports.account_balances(book, as_of=D(Y, 4, 2)))
    assert mid_april[("1122", "CNY")].balance == yuan("56,500")
    assert mid_april[("1002", "CNY")].balance == yuan("575,000")  # the fee of 4-18 is later
    everything = by_code(reports.account_balances(book))
    assert everything[("1002", "CNY")].balance == yuan("575,000") - yuan("12.34")
    assert everything[("5603", "CNY")].exponent == 2


def test_account_balances_before_any_voucher_are_empty(book, sme):
    assert reports.account_balances(book, as_of=D(Y, 2, 28)) == []


def test_account_balances_by_fund_and_unit(book, acct, post, people):
    fund = svc.create_fund(book, "F1", "社区活动基金", restricted=False)
    svc.declare_unit(book, "PTS", "服务积分", 0)
    bank, revenue = acct("1002"), acct("5001")
    post(lines((bank, 1000, 0), (revenue, 0, 1000, {"fund_id": fund.id})), date=D(Y, 3, 3))
    post(lines((bank, 700, 0), (revenue, 0, 700)), date=D(Y, 3, 4))
    post(lines((bank, 5, 0), (revenue, 0, 5), unit="PTS"), date=D(Y, 3, 4))
    in_fund = by_code(reports.account_balances(book, fund_id=fund.id))
    assert set(in_fund) == {("5001", "CNY")} and in_fund[("5001", "CNY")].balance == -1000
    points = by_code(reports.account_balances(book, unit="PTS"))
    assert points[("1002", "PTS")].balance == 5 and points[("1002", "PTS")].exponent == 0
    assert reports.total_by_unit(reports.account_balances(book)) == {"CNY": 0, "PTS": 0}
    assert reports.total_by_unit(reports.account_balances(book, fund_id=fund.id)) == {"CNY": -1000}


def test_account_balances_refuse_a_fund_of_another_book(book, organisation_factory):
    other = svc.create_book(organisation_factory(kind="foundation"))
    fund = svc.create_fund(other, "X", "别人的基金", restricted=True)
    with pytest.raises(InvalidInput) as e:
        reports.account_balances(book, fund_id=fund.id)
    assert set(e.value.errors) == {"fund_id"}
    for bad in (10**20, -1, True, "1"):
        with pytest.raises(InvalidInput):
            reports.trial_balance(book, start=D(Y, 3, 1), end=D(Y, 3, 31), fund_id=bad)
    with pytest.raises(InvalidInput) as e:
        reports.account_balances(book, as_of="2025-03-01")
    assert set(e.value.errors) == {"as_of"}


def test_reversal_nets_to_zero_in_account_balances(book, sme, people):
    _a, vs = sme
    red = svc.reverse_voucher(vs["bank_fee"], actor=people["preparer"], date=D(Y, 4, 20))
    svc.submit_voucher(red, actor=people["preparer"])
    svc.approve_voucher(red, actor=people["reviewer"])
    svc.post_voucher(red, actor=people["reviewer"])
    bals = by_code(reports.account_balances(book))
    assert ("5603", "CNY") not in bals  # its only voucher was reversed: no totals left
    assert bals[("1002", "CNY")].balance == yuan("575,000")
    # mid-month, before the reversal, the fee is still there
    assert (
        by_code(reports.account_balances(book, as_of=D(Y, 4, 19)))[("5603", "CNY")].balance == 1234
    )


# --- a naive oracle: re-total the posted vouchers' lines in Python ----------------------------


def naive_totals(book, start=None, end=None, *, fund_id=None, unit=None, exclude_closing=False):
    """{(account_id, unit): [debit, credit]} of posted lines dated in [start, end]."""
    import sqlalchemy as sa

    from core.db import db
    from ledger.models import Voucher

    out = {}
    for v in db.session.scalars(
        sa.select(Voucher).where(Voucher.book_id == book.id, Voucher.status == "posted")
    ):
        if (
            (start and v.date < start)
            or (end and v.date > end)
            or (exclude_closing and v.kind == "closing")
        ):
            continue
        for ln in v.lines:
            if (fund_id is not None and ln.fund_id != fund_id) or (
                unit is not None and ln.unit != unit
            ):
                continue
            s = out.setdefault((ln.account_id, ln.unit), [0, 0])
            s[0] += ln.debit
            s[1] += ln.credit
    return out


# --- trial balance ------------------------------------------------------------------------


def rows_by_code(tb):
    return {r.account.code: r for r in tb.rows}


def test_trial_balance_of_march_matches_the_vouchers(book, sme):
    tb = reports.trial_balance(book, start=D(Y, 3, 1), end=D(Y, 3, 31))
    rows = rows_by_code(tb)
    assert set(rows) == {"1001", "1002", "2221", "3001", "5001", "5602"}
    bank = rows["1002"]
    assert (bank.opening, bank.debit, bank.credit, bank.closing) == (
        0,
        yuan("613,000"),
        yuan("38,000"),
        yuan("575,000"),
    )
    assert (bank.closing_debit, bank.closing_credit, bank.closing_direction) == (
        yuan("575,000"),
        0,
        "借",
    )
    capital = rows["3001"]
    assert (capital.closing_debit, capital.closing_credit, capital.closing_direction) == (
        0,
        yuan("500,000"),
        "贷",
    )
    assert rows["2221"].closing == 0 and rows["2221"].closing_direction == "平"
    t = tb.totals
    assert t.debit == t.credit == yuan("651,800.50")
    assert t.closing_debit == t.closing_credit == yuan("600,000")
    assert t.opening_debit == t.opening_credit == 0
    assert tb.balanced and tb.unit == "CNY" and tb.exponent == 2
    assert [r.account.code for r in tb.rows] == sorted(rows)


def test_trial_balance_of_april_opens_with_march_closing(book, sme):
    tb = reports.trial_balance(book, start=D(Y, 4, 1), end=D(Y, 4, 30))
    rows = rows_by_code(tb)
    assert rows["1002"].opening == yuan("575,000") and rows["1002"].credit == 1234
    assert rows["1002"].closing == yuan("575,000") - 1234
    assert rows["5001"].opening_credit == yuan("100,000") and rows["5001"].closing_credit == yuan(
        "150,000"
    )
    assert rows["2221"].opening == 0 and rows["2221"].closing_credit == yuan("6,500")
    assert (rows["3001"].debit, rows["3001"].credit) == (0, 0)  # shown: it has an opening balance
    assert tb.totals.opening_debit == tb.totals.opening_credit == yuan("600,000")
    assert tb.totals.debit == yuan("56,500") + 1234 and tb.balanced


@pytest.mark.parametrize(
    "start, end",
    [
        (D(Y, 3, 6), D(Y, 4, 10)),  # partial first and last months
        (D(Y, 3, 12), D(Y, 3, 20)),  # inside one month
        (D(Y, 3, 1), D(Y, 4, 2)),  # whole first month, partial last
        (D(Y, 3, 15), D(Y, 4, 30)),  # partial first month, whole last
        (D(Y, 1, 1), D(Y, 12, 31)),
    ],
)
def test_trial_balance_for_any_dates_equals_filtering_the_vouchers(book, sme, start, end):
    tb = reports.trial_balance(book, start=start, end=end)
    before = naive_totals(book, end=start - dt.timedelta(days=1))
    during = naive_totals(book, start, end)
    accounts = {k[0] for k in before} | {k[0] for k in during}
    leaves = {r.account.id: r for r in tb.rows if not r.rollup}
    expected = {}
    for a in accounts:
        o = before.get((a, "CNY"), [0, 0])
        dr, cr = during.get((a, "CNY"), [0, 0])
        if o[0] - o[1] or dr or cr:
            expected[a] = (o[0] - o[1], dr, cr)
    assert {a: (r.opening, r.debit, r.credit) for a, r in leaves.items()} == expected
    assert tb.balanced


def test_trial_balance_rolls_sub_accounts_up_to_their_parent(book, acct, post):
    bank = acct("1002")
    icbc = svc.add_sub_account(bank, "100201", "工商银行", "ICBC")
    ccb = svc.add_sub_account(bank, "100202", "建设银行", "CCB")
    post(lines((icbc, 30000, 0), (acct("3001"), 0, 30000)), date=D(Y, 5, 2))
    post(lines((ccb, 10000, 0), (icbc, 0, 10000)), date=D(Y, 5, 3))
    tb = reports.trial_balance(book, start=D(Y, 5, 1), end=D(Y, 5, 31))
    assert [(r.account.code, r.level, r.rollup) for r in tb.rows] == [
        ("1002", 1, True),
        ("100201", 2, False),
        ("100202", 2, False),
        ("3001", 1, False),
    ]
    parent = tb.rows[0]
    assert (parent.debit, parent.credit, parent.closing) == (40000, 10000, 30000)
    assert tb.totals.debit == 40000 and tb.totals.closing_debit == 30000 and tb.balanced
    top = reports.trial_balance(book, start=D(Y, 5, 1), end=D(Y, 5, 31), max_level=1)
    assert [r.account.code for r in top.rows] == ["1002", "3001"] and top.totals == tb.totals


def test_reversal_nets_to_zero_in_trial_balance_totals(book, sme, people):
    _a, vs = sme
    red = svc.reverse_voucher(vs["credit_sale"], actor=people["preparer"], date=D(Y, 4, 25))
    svc.submit_voucher(red, actor=people["preparer"])
    svc.approve_voucher(red, actor=people["reviewer"])
    svc.post_voucher(red, actor=people["reviewer"])
    tb = reports.trial_balance(book, start=D(Y, 4, 1), end=D(Y, 4, 30))
    rows = rows_by_code(tb)
    assert "1122" not in rows  # 56,500 debit and −56,500 (red) debit: no movement, no balance
    assert rows["5001"].credit == 0 and rows["5001"].closing == -yuan("100,000")
    assert tb.totals.debit == tb.totals.credit == 1234 and tb.balanced
    early = reports.trial_balance(book, start=D(Y, 4, 1), end=D(Y, 4, 24))
    assert rows_by_code(early)["1122"].debit == yuan("56,500")


def test_trial_balance_filtered_by_fund_keeps_only_that_funds_lines(book, acct, post):
    fund = svc.create_fund(book, "F1", "社区活动基金", restricted=False)
    bank, revenue, admin = acct("1002"), acct("5001"), acct("5602")
    post(lines((bank, 1000, 0), (revenue, 0, 1000, {"fund_id": fund.id})), date=D(Y, 3, 3))
    post(lines((bank, 700, 0), (revenue, 0, 700)), date=D(Y, 3, 4))
    post(
        lines((admin, 300, 0, {"fund_id": fund.id}), (bank, 0, 300, {"fund_id": fund.id})),
        date=D(Y, 3, 9),
    )
    tb = reports.trial_balance(book, start=D(Y, 3, 1), end=D(Y, 3, 31), fund_id=fund.id)
    rows = rows_by_code(tb)
    assert set(rows) == {"1002", "5001", "5602"}
    assert (rows["1002"].debit, rows["1002"].credit) == (0, 300)
    assert rows["5001"].credit == 1000
    assert not tb.balanced  # the bank's receipt carried no fund
    assert reports.trial_balance(book, start=D(Y, 3, 1), end=D(Y, 3, 31)).balanced


def test_trial_balance_refuses_an_end_before_the_start(book):
    with pytest.raises(InvalidInput) as e:
        reports.trial_balance(book, start=D(Y, 4, 1), end=D(Y, 3, 31))
    assert set(e.value.errors) == {"start"} and e.value.status == 422


# --- balance sheet and income statement (SME 小企业会计准则) -------------------------------------


def test_sme_balance_sheet_balances_and_shows_the_year_start(book, sme):
    bs = reports.balance_sheet(book, as_of=D(Y, 3, 31))
    assert (bs.form_code, bs.title_zh) == ("会小企01表", "资产负债表")
    assert [c.key for c in bs.columns] == ["period_end", "year_start"]
    assert [c.label_zh for c in bs.columns] == ["期末余额", "年初余额"]
    assert bs.columns[1].end == D(Y - 1, 12, 31)
    assert bs.amount("cash", "period_end") == yuan("579,199.50")
    assert bs.amount("taxes_payable", "period_end") == 0
    assert bs.amount("paid_in_capital", "period_end") == yuan("500,000")
    assert bs.amount("retained_earnings", "period_end") == yuan("79,199.50")  # unclosed profit
    assert bs.amount("total_assets", "period_end") == bs.amount(
        "total_liabilities_and_equity", "period_end"
    )
    assert bs.amount("total_assets", "year_start") == 0
    assert bs.checks == {
        "balanced.period_end": True,
        "balanced.year_start": True,
        "every_account_mapped": True,
    }
    cash = bs.line("cash")
    assert (cash.line_no, cash.kind, cash.indent, cash.side) == (1, "item", 1, "left")
    assert bs.line("h_current_assets").amounts == (None, None)


def test_sme_balance_sheet_mid_month(book, sme):
    bs = reports.balance_sheet(book, as_of=D(Y, 4, 10))
    assert bs.amount("accounts_receivable", "period_end") == yuan("56,500")
    assert bs.amount("taxes_payable", "period_end") == yuan("6,500")
    assert bs.amount("retained_earnings", "period_end") == yuan("129,199.50")
    assert bs.ok


def test_sme_income_statement_this_month_and_year_to_date(book, sme):
    inc = reports.income_statement(book, start=D(Y, 4, 1), end=D(Y, 4, 30))
    assert (inc.form_code, inc.title_zh) == ("会小企02表", "利润表")
    assert [c.key for c in inc.columns] == ["year_to_date", "current_month"]
    assert [c.label_zh for c in inc.columns] == ["本年累计金额", "本月金额"]
    assert inc.amount("operating_revenue", "current_month") == yuan("50,000")
    assert inc.amount("finance_costs", "current_month") == 1234
    assert inc.amount("net_profit", "current_month") == yuan("49,987.66")
    assert inc.amount("operating_revenue", "year_to_date") == yuan("150,000")
    assert inc.amount("administrative_expenses", "year_to_date") == yuan("20,800.50")
    assert inc.amount("net_profit", "year_to_date") == yuan("129,187.16")
    assert inc.ok
    partial = reports.income_statement(book, start=D(Y, 3, 6), end=D(Y, 3, 31))
    assert partial.columns[1].label_zh == "本期金额"
    assert partial.amount("operating_revenue", "current_month") == 0
    assert partial.amount("net_profit", "current_month") == -yuan("20,800.50")


def test_statements_refuse_periods_across_years_and_custom_charts(book, sme, organisation_factory):
    with pytest.raises(InvalidInput) as e:
        reports.income_statement(book, start=D(Y - 1, 12, 1), end=D(Y, 1, 31))
    assert e.value.code == "period_across_years"
    custom = svc.create_book(organisation_factory(), chart="CUSTOM")
    with pytest.raises(InvalidInput) as e:
        reports.balance_sheet(custom, as_of=D(Y, 3, 31))
    assert e.value.code == "needs_standard_chart"
    with pytest.raises(InvalidInput) as e:
        reports.income_statement(custom, start=D(Y, 3, 1), end=D(Y, 3, 31))
    assert e.value.code == "needs_standard_chart"


def test_year_end_closing_keeps_the_statements_and_net_profit_goes_to_3103(book, sme, people, acct):
    before_bs = reports.balance_sheet(book, as_of=D(Y, 12, 31))
    before_inc = reports.income_statement(book, start=D(Y, 12, 1), end=D(Y, 12, 31))
    made = svc.generate_year_end_closing(book, Y, actor=people["reviewer"])
    profit_line = next(ln for ln in made[0].lines if ln.account_id == acct("3103").id)
    inc = reports.income_statement(book, start=D(Y, 12, 1), end=D(Y, 12, 31))
    assert (
        inc.amount("net_profit", "year_to_date")
        == profit_line.credit - profit_line.debit
        == yuan("129,187.16")
    )
    assert (
        inc.amount("net_profit", "current_month") == 0
    )  # the closing vouchers are not revenue or expense
    assert inc.lines == before_inc.lines and inc.ok
    bs = reports.balance_sheet(book, as_of=D(Y, 12, 31))
    assert bs.ok and bs.lines == before_bs.lines
    next_year = reports.balance_sheet(book, as_of=D(Y + 1, 1, 31))
    assert next_year.amount("retained_earnings", "year_start") == yuan("129,187.16")
    assert next_year.ok
    tb = reports.trial_balance(book, start=D(Y, 12, 1), end=D(Y, 12, 31))
    rows = rows_by_code(tb)
    assert "5001" not in rows or rows["5001"].closing == 0
    assert rows["3104"].closing_credit == yuan("129,187.16") and tb.balanced


# --- NPO 民间非营利组织: 业务活动表 with restricted funds ----------------------------------------


@pytest.fixture
def npo(organisation_factory, user_factory):
    from core.auth import grant_role
    from core.db import db

    org = organisation_factory(kind="foundation")
    who = {}
    for role in ("preparer", "reviewer"):
        who[role] = user_factory()
        grant_role(who[role], org, role)
    db.session.flush()
    b = svc.create_book(org)
    acc = {a.code: a for a in reports.balances.book_accounts(b).values()}
    restricted = svc.create_fund(b, "ZX", "助学基金", restricted=True)
    open_fund = svc.create_fund(b, "SQ", "社区活动基金", restricted=False)

    def post(ls, date, summary="凭证"):
        v = svc.create_voucher(b, svc.VoucherInput(date, summary, ls), actor=who["preparer"])
        svc.submit_voucher(v, actor=who["preparer"])
        svc.approve_voucher(v, actor=who["reviewer"])
        return svc.post_voucher(v, actor=who["reviewer"])

    R, U = {"fund_id": restricted.id}, {"fund_id": open_fund.id}
    post(
        lines((acc["1002"], 10000, 0), (acc["410102"], 0, 10000, R)), D(Y, 3, 3), "限定性捐赠：助学"
    )
    post(lines((acc["1002"], 3000, 0), (acc["410101"], 0, 3000)), D(Y, 3, 4), "非限定性捐赠")
    post(lines((acc["5101"], 4000, 0, R), (acc["1002"], 0, 4000)), D(Y, 3, 10), "发放助学金")
    post(lines((acc["5201"], 500, 0), (acc["1002"], 0, 500)), D(Y, 3, 12), "办公费")
    post(lines((acc["1002"], 800, 0), (acc["4301"], 0, 800, U)), D(Y, 4, 8), "提供服务收入")
    return {
        "book": b,
        "acc": acc,
        "restricted": restricted,
        "open": open_fund,
        "who": who,
        "post": post,
    }


def test_npo_activities_have_unrestricted_restricted_and_total_columns(npo):
    act = reports.income_statement(npo["book"], start=D(Y, 3, 1), end=D(Y, 3, 31))
    assert (act.form_code, act.title_zh) == ("会民非02表", "业务活动表")
    assert [c.key for c in act.columns] == [
        "current_month.unrestricted",
        "current_month.restricted",
        "current_month.total",
        "year_to_date.unrestricted",
        "year_to_date.restricted",
        "year_to_date.total",
    ]
    assert act.columns[1].label_zh == "本月数·限定性"
    donations = act.line("donations").amounts
    assert donations[:3] == (3000, 10000, 13000)
    assert act.line("programme_costs").amounts[:3] == (4000, 0, 4000)
    assert act.line("total_expenses").amounts[:3] == (4500, 0, 4500)
    # spending the restricted fund releases its restriction when it happens (issue 16)
    assert act.line("released_from_restriction").amounts[:3] == (4000, -4000, 0)
    assert act.line("change_in_net_assets").amounts[:3] == (2500, 6000, 8500)
    assert act.ok
    bs = reports.balance_sheet(npo["book"], as_of=D(Y, 3, 31))
    assert [c.key for c in bs.columns] == ["year_start", "period_end"]
    assert bs.amount("unrestricted_net_assets", "period_end") == 2500
    # unclosed restricted revenue less what its use released
    assert bs.amount("restricted_net_assets", "period_end") == 6000
    assert bs.amount("total_assets", "period_end") == 8500 and bs.ok


def test_npo_year_end_release_is_line_40_and_statements_agree_with_the_balance_sheet(npo):
    b, who = npo["book"], npo["who"]
    before = reports.income_statement(b, start=D(Y, 1, 1), end=D(Y, 12, 31))
    assert before.line("released_from_restriction").amounts[:3] == (4000, -4000, 0)
    made = svc.generate_year_end_closing(b, Y, actor=who["reviewer"])
    assert len(made) == 2  # close to net assets; release of the restricted fund's spending
    act = reports.income_statement(b, start=D(Y, 1, 1), end=D(Y, 12, 31))
    assert act.line("released_from_restriction").amounts[:3] == (4000, -4000, 0)
    assert act.line("total_revenue").amounts[:3] == (3800, 10000, 13800)
    assert act.line("change_in_net_assets").amounts[:3] == (3300, 6000, 9300)
    assert act.ok
    assert act.lines == before.lines  # the closing changes nothing on the year's statement
    dec = reports.income_statement(b, start=D(Y, 12, 1), end=D(Y, 12, 31))
    # the release happened in March, when the money was used, not at the closing
    assert dec.line("released_from_restriction").amounts[:3] == (0, 0, 0)
    assert dec.line("total_revenue").amounts[:3] == (0, 0, 0)
    bs = reports.balance_sheet(b, as_of=D(Y, 12, 31))
    assert bs.amount("unrestricted_net_assets", "period_end") == 3300
    assert bs.amount("restricted_net_assets", "period_end") == 6000
    assert bs.ok


def test_npo_activities_for_one_restricted_fund(npo):
    act = reports.income_statement(
        npo["book"], start=D(Y, 3, 1), end=D(Y, 3, 31), fund_id=npo["restricted"].id
    )
    assert act.line("donations").amounts[:3] == (0, 10000, 10000)
    assert act.line("total_expenses").amounts[:3] == (4000, 0, 4000)
    assert act.line("change_in_net_assets").amounts[:3] == (0, 6000, 6000)
    assert act.fund_id == npo["restricted"].id


def test_fund_statement_per_fund(npo):
    b = npo["book"]
    acc, R, U = npo["acc"], npo["restricted"], npo["open"]
    npo["post"](
        lines((acc["3101"], 300, 0, {"fund_id": U.id}), (acc["3101"], 0, 300, {"fund_id": R.id})),
        D(Y, 4, 15),
        "基金间划转",
    )
    fs = reports.fund_statement(b, start=D(Y, 4, 1), end=D(Y, 4, 30))
    rows = {r.fund.code: r for r in fs.rows}
    zx, sq = rows["ZX"], rows["SQ"]
    assert (zx.opening, zx.revenue, zx.expense, zx.transfers, zx.closing) == (6000, 0, 0, 300, 6300)
    assert (sq.opening, sq.revenue, sq.expense, sq.transfers, sq.closing) == (0, 800, 0, -300, 500)
    assert zx.restricted and not sq.restricted
    assert fs.checks == {"closing_is_opening_plus_revenue_minus_expense_plus_transfers": True}
    assert fs.totals["closing"] == 6800
    one = reports.fund_statement(b, start=D(Y, 4, 1), end=D(Y, 4, 30), fund_id=R.id)
    assert [r.fund.code for r in one.rows] == ["ZX"] and one.rows[0] == zx
    assert reports.to_csv_rows(one)[1] == [
        "ZX",
        "助学基金",
        "是",
        "60.00",
        "0.00",
        "0.00",
        "3.00",
        "63.00",
    ]
    assert reports.to_json(one)["rows"][0]["closing"] == 6300
    svc.generate_year_end_closing(b, Y, actor=npo["who"]["reviewer"])
    year = {
        r.fund.code: r for r in reports.fund_statement(b, start=D(Y, 1, 1), end=D(Y, 12, 31)).rows
    }
    assert (year["ZX"].revenue, year["ZX"].expense, year["ZX"].transfers, year["ZX"].closing) == (
        10000,
        4000,
        300,
        6300,
    )
    assert all(r.consistent for r in year.values())


# --- general ledger and account detail ------------------------------------------------------


def test_general_ledger_months_with_year_to_date(book, sme, acct):
    gl = reports.general_ledger(book, start=D(Y, 3, 1), end=D(Y, 4, 30))
    by = {la.account.code: la for la in gl.accounts}
    assert set(by) == {"1001", "1002", "1122", "2221", "3001", "5001", "5602", "5603"}
    bank = by["1002"]
    assert bank.opening == 0
    assert [(m.label, m.debit, m.credit, m.balance) for m in bank.months] == [
        ("2025-03", yuan("613,000"), yuan("38,000"), yuan("575,000")),
        ("2025-04", 0, 1234, yuan("575,000") - 1234),
    ]
    assert (bank.months[1].year_debit, bank.months[1].year_credit) == (
        yuan("613,000"),
        yuan("38,000") + 1234,
    )
    assert bank.closing == yuan("575,000") - 1234 and bank.closing_direction == "借"
    april = reports.general_ledger(
        book, start=D(Y, 4, 1), end=D(Y, 4, 30), account_ids=[acct("1002").id]
    )
    (only,) = april.accounts
    assert only.opening == yuan("575,000") and len(only.months) == 1
    assert only.months[0].year_debit == yuan("613,000")  # 本年累计 counts from 1 January
    with pytest.raises(InvalidInput) as e:
        reports.general_ledger(book, start=D(Y, 4, 1), end=D(Y, 4, 30), account_ids=[10**12])
    assert set(e.value.errors) == {"account"}


def test_account_detail_lists_lines_in_date_order_with_running_balance(book, sme, acct, post):
    a, _vs = sme
    late_entry = post(
        lines((a["1002"], yuan("1,000"), 0), (a["5001"], 0, yuan("1,000"))),
        date=D(Y, 3, 2),
        summary="补记：零星收入",
    )
    detail = reports.account_detail(book, a["1002"], start=D(Y, 3, 1), end=D(Y, 3, 31))
    assert detail.opening == 0
    got = [
        (ln.date.day, ln.summary, ln.debit, ln.credit, ln.balance, ln.direction)
        for ln in detail.lines
    ]
    assert got == [
        (1, "股东投入资本", yuan("500,000"), 0, yuan("500,000"), "借"),
        (2, "补记：零星收入", yuan("1,000"), 0, yuan("501,000"), "借"),
        (5, "销售收入", yuan("113,000"), 0, yuan("614,000"), "借"),
        (10, "支付办公室房租", 0, yuan("20,000"), yuan("594,000"), "借"),
        (15, "提取备用金", 0, yuan("5,000"), yuan("589,000"), "借"),
        (20, "缴纳增值税", 0, yuan("13,000"), yuan("576,000"), "借"),
    ]
    assert detail.lines[1].number == late_entry.number == "记-2025-03-0007"
    assert detail.closing == yuan("576,000") and detail.debit == yuan("614,000")
    mid = reports.account_detail(book, a["1002"].id, start=D(Y, 3, 6), end=D(Y, 4, 30))
    assert mid.opening == yuan("614,000") and mid.lines[0].summary == "支付办公室房租"
    assert mid.closing == yuan("576,000") - 1234
    revenue = reports.account_detail(book, a["5001"], start=D(Y, 3, 1), end=D(Y, 4, 30))
    assert revenue.lines[-1].balance == -yuan("151,000") and revenue.closing_direction == "贷"


def test_account_detail_of_a_parent_and_of_a_fund(book, acct, post):
    bank = acct("1002")
    icbc = svc.add_sub_account(bank, "100201", "工商银行")
    ccb = svc.add_sub_account(bank, "100202", "建设银行")
    fund = svc.create_fund(book, "F1", "社区活动基金", restricted=False)
    post(lines((icbc, 30000, 0), (acct("3001"), 0, 30000)), date=D(Y, 5, 2))
    post(lines((ccb, 10000, 0, {"fund_id": fund.id}), (icbc, 0, 10000)), date=D(Y, 5, 3))
    parent = reports.account_detail(book, bank, start=D(Y, 5, 1), end=D(Y, 5, 31))
    assert [(ln.account_id, ln.balance) for ln in parent.lines] == [
        (icbc.id, 30000),
        (ccb.id, 40000),
        (icbc.id, 30000),
    ]
    in_fund = reports.account_detail(book, bank, start=D(Y, 5, 1), end=D(Y, 5, 31), fund_id=fund.id)
    assert [ln.debit for ln in in_fund.lines] == [10000] and in_fund.closing == 10000
    with pytest.raises(InvalidInput) as e:
        reports.account_detail(book, 10**12, start=D(Y, 5, 1), end=D(Y, 5, 31))
    assert set(e.value.errors) == {"account"}


# --- CSV and JSON ---------------------------------------------------------------------------


def test_csv_and_json_forms(book, sme):
    tb = reports.trial_balance(book, start=D(Y, 3, 1), end=D(Y, 3, 31))
    rows = reports.to_csv_rows(tb)
    assert rows[0][:3] == ["科目编码", "科目名称", "级次"]
    bank = next(r for r in rows if r[0] == "1002")
    assert bank == [
        "1002",
        "银行存款",
        "1",
        "0.00",
        "0.00",
        "613000.00",
        "38000.00",
        "575000.00",
        "0.00",
    ]
    assert rows[-1][0] == "合计" and rows[-1][5] == rows[-1][6] == "651800.50"
    assert reports.to_csv_rows(tb, lang="en")[0][0] == "Code"
    j = reports.to_json(tb)
    assert j["unit"] == "CNY" and j["exponent"] == 2 and j["balanced"] is True
    jbank = next(r for r in j["rows"] if r["account"]["code"] == "1002")
    assert jbank["closing"] == 57500000 and jbank["debit"] == 61300000
    import json

    json.dumps(j)

    bs = reports.balance_sheet(book, as_of=D(Y, 3, 31))
    csv_bs = reports.to_csv_rows(bs)
    assert csv_bs[0] == ["项目", "行次", "期末余额", "年初余额"]
    assert ["货币资金", "1", "579199.50", "0.00"] in csv_bs
    assert ["流动资产：", "", "", ""] in csv_bs
    jbs = reports.to_json(bs)
    assert jbs["report"] == "balance_sheet" and jbs["checks"]["balanced.period_end"] is True
    json.dumps(jbs)

    detail = reports.account_detail(book, sme[0]["1001"], start=D(Y, 3, 1), end=D(Y, 3, 31))
    drows = reports.to_csv_rows(detail)
    assert drows[-1] == ["2025-03-31", "", "本期合计", "5000.00", "800.50", "借", "4199.50"]
    assert reports.to_json(detail)["closing"] == 419950
    gl = reports.general_ledger(book, start=D(Y, 3, 1), end=D(Y, 3, 31))
    assert [
        "1002",
        "银行存款",
        "2025-03",
        "本月合计",
        "613000.00",
        "38000.00",
        "借",
        "575000.00",
    ] in reports.to_csv_rows(gl)
    json.dumps(reports.to_json(gl))
    bal = reports.account_balances(book)
    assert reports.to_csv_rows(bal)[1][:3] == ["1001", "库存现金", "CNY"]
    assert reports.to_json(bal)["balances"][0]["exponent"] == 2
    with pytest.raises(TypeError):
        reports.to_csv_rows(object())


# --- trust fund (信托制物业) 收支表 -------------------------------------------------------------


def test_trust_fund_income_and_expenditure(organisation_factory, user_factory):
    from core.auth import grant_role
    from core.db import db

    org = organisation_factory(kind="trust_fund")
    who = {r: user_factory() for r in ("preparer", "reviewer")}
    for role, user in who.items():
        grant_role(user, org, role)
    db.session.flush()
    b = svc.create_book(org)
    acc = {a.code: a for a in reports.balances.book_accounts(b).values()}
    for ls, day in (
        (lines((acc["1002"], yuan("36,000"), 0), (acc["4101"], 0, yuan("36,000"))), 5),
        (lines((acc["1002"], yuan("2,400"), 0), (acc["420101"], 0, yuan("2,400"))), 8),
        (lines((acc["5103"], yuan("6,000"), 0), (acc["1002"], 0, yuan("6,000"))), 20),
    ):
        v = svc.create_voucher(
            b, svc.VoucherInput(D(Y, 6, day), "物业收支", ls), actor=who["preparer"]
        )
        svc.submit_voucher(v, actor=who["preparer"])
        svc.approve_voucher(v, actor=who["reviewer"])
        svc.post_voucher(v, actor=who["reviewer"])
    st = reports.income_statement(b, start=D(Y, 6, 1), end=D(Y, 6, 30))
    assert (st.title_zh, st.form_code) == ("收支表", None) and st.note_zh
    assert [c.key for c in st.columns] == ["current_period", "year_to_date"]
    assert st.amount("common_parts_income", "current_period") == yuan("2,400")
    assert st.amount("parking_income", "current_period") == yuan("2,400")
    assert st.amount("total_income", "year_to_date") == yuan("38,400")
    assert st.amount("surplus", "current_period") == yuan("32,400") and st.ok
    bs = reports.balance_sheet(b, as_of=D(Y, 6, 30))
    assert bs.amount("common_fund_balance", "period_end") == yuan("32,400") and bs.ok
