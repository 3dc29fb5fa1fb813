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
    with pytest.raises(InvalidInput, match="No such fund"):
        reports.account_balances(book, fund_id=fund.id)
    with pytest.raises(InvalidInput, match="date"):
        reports.account_balances(book, as_of="2025-03-01")


def test_reversal_nets_to_zero_in_account_balances(book, sme, people):
    _a, vs = sme
    red = svc.reverse_voucher(vs["bank_fee"], actor=people["preparer"], date=D(Y, 4, 20))
    svc.submit_voucher(red, actor=people["preparer"])
    svc.approve_voucher(red, actor=people["reviewer"])
    svc.post_voucher(red, actor=people["reviewer"])
    bals = by_code(reports.account_balances(book))
    assert bals[("5603", "CNY")].debit_total == 0 and bals[("5603", "CNY")].balance == 0
    assert bals[("1002", "CNY")].balance == yuan("575,000")
    # mid-month, before the reversal, the fee is still there
    assert (
        by_code(reports.account_balances(book, as_of=D(Y, 4, 19)))[("5603", "CNY")].balance == 1234
    )
