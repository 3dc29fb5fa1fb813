"""Cash-flow statements (现金流量表, ledger/reports/cashflow.py): layouts as printed, the
classification of every cash movement (counter-account rules, the treasurer's choice per line,
what stays unclassified), and the tie to the change in 货币资金 on the balance sheet on the
demo books and on random books (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from core.db import db
from core.errors import InvalidInput, NotFound, NotPermitted
from ledger import reports
from ledger import services as svc
from ledger.charts import cash_flow_rules, has_cash_flow, load_layout
from ledger.models import Book
from tests.ledger.conftest import lines
from tests.ledger.test_properties import (
    PROPERTY_SETTINGS,
    _post_all,
    dates,
    random_book_setting,
    voucher_specs,
)
from tests.ledger.test_reports import npo, sme, yuan  # noqa: F401  (fixtures)

Y = 2025
D = dt.date


def cash_change(book: Book, start: dt.date, end: dt.date) -> int:
    """货币资金 at ``end`` minus 货币资金 the day before ``start``, read from the balance sheet."""
    closing = reports.balance_sheet(book, as_of=end).amount("cash", "period_end")
    opening = reports.balance_sheet(book, as_of=start - dt.timedelta(days=1)).amount(
        "cash", "period_end"
    )
    return closing - opening


def assert_ties(book: Book, cf) -> None:
    for col in cf.columns:
        assert cf.amount("net_increase", col.key) == cash_change(book, col.start, col.end), col
        assert cf.checks[f"ties_to_balance_sheet.{col.key}"], cf.checks


# --- layouts ----------------------------------------------------------------------------------


def test_layouts_have_the_printed_line_numbers_in_order():
    sme_form = load_layout("SME_2011", "cash_flow")
    assert sme_form.form_code == "会小企03表"
    assert [ln.line_no for ln in sme_form.lines if ln.line_no] == list(range(1, 23))
    assert sme_form.line("sales_receipts").label_zh == "销售产成品、商品、提供劳务收到的现金"
    assert sme_form.line("cash_at_end").label_zh == "五、期末现金余额"
    for std in ("NPO_2004", "NPO_2024"):
        npo_form = load_layout(std, "cash_flow")
        assert npo_form.form_code == "会民非03表"
        printed = [1, 2, 3, 4, 5, 8, 13, 14, 15, 16, 19, 23, 24, 25, 26, 27, 30, 34, 35, 36, 39]
        printed += [43, 44, 45, 48, 50, 51, 52, 55, 58, 59, 60, 61]
        assert [ln.line_no for ln in npo_form.lines if ln.line_no] == printed
        assert npo_form.line("donations_received").label_zh == "接受捐赠收到的现金"
        assert npo_form.line("net_increase").label_zh == "五、现金及现金等价物净增加额"
        assert cash_flow_rules(std)
    assert not has_cash_flow("TRUST_FUND")


def test_a_trust_fund_book_is_refused_with_the_reason(organisation_factory):
    trust = svc.create_book(organisation_factory(kind="trust_fund"))
    with pytest.raises(InvalidInput) as e:
        reports.cash_flow_statement(trust, start=D(Y, 1, 1), end=D(Y, 1, 31))
    assert e.value.code == "no_cash_flow_statement"


# --- SME --------------------------------------------------------------------------------------


def test_sme_march_by_counter_account_rules(book, sme):  # noqa: F811
    cf = reports.cash_flow_statement(book, start=D(Y, 3, 1), end=D(Y, 3, 31))
    assert [c.key for c in cf.columns] == ["year_to_date", "current_month"]
    assert [c.label_zh for c in cf.columns] == ["本年累计金额", "本月金额"]
    m = "current_month"
    assert cf.amount("sales_receipts", m) == yuan("113,000")  # VAT collected included
    assert cf.amount("capital_received", m) == yuan("500,000")
    assert cf.amount("other_operating_payments", m) == yuan("20,800.50")  # rent, stationery
    assert cf.amount("taxes_paid", m) == yuan("13,000")
    # drawing petty cash (1002 → 1001) is no cash flow
    assert cf.amount("net_operating", m) == yuan("113,000") - yuan("20,800.50") - yuan("13,000")
    assert cf.amount("cash_at_start", m) == 0
    assert cf.amount("cash_at_end", m) == yuan("579,199.50")
    assert cf.ok and "unclassified" not in [ln.key for ln in cf.lines]
    assert_ties(book, cf)
    april = reports.cash_flow_statement(book, start=D(Y, 4, 1), end=D(Y, 4, 30))
    assert april.amount("other_operating_payments", m) == yuan("12.34")
    assert april.amount("sales_receipts", m) == 0  # the credit sale moved no cash
    assert april.amount("cash_at_start", m) == yuan("579,199.50")
    assert april.amount("sales_receipts", "year_to_date") == yuan("113,000")
    assert_ties(book, april)
    partial = reports.cash_flow_statement(book, start=D(Y, 3, 6), end=D(Y, 3, 31))
    assert partial.columns[1].label_zh == "本期金额"
    assert partial.amount("sales_receipts", m) == 0
    assert_ties(book, partial)


def test_unclassified_movements_are_listed_said_on_the_face_and_fixed_per_line(
    book, acct, post, people, organisation_factory
):
    post(lines((acct("1002"), 100_000, 0), (acct("3001"), 0, 100_000)), date=D(Y, 5, 2))
    odd = post(lines((acct("1002"), 7_000, 0), (acct("3101"), 0, 7_000)), date=D(Y, 5, 3))
    cf = reports.cash_flow_statement(book, start=D(Y, 5, 1), end=D(Y, 5, 31))
    assert not cf.ok and cf.checks["every_cash_movement_classified"] is False
    assert cf.amount("unclassified", "current_month") == 7_000
    assert cf.note_zh.startswith("本表尚未定稿") and "70.00" in cf.note_zh
    assert cf.note_en.startswith("NOT FINAL")
    assert_ties(book, cf)  # the unclassified line keeps the statement tied
    (item,) = reports.unclassified_cash_lines(book, start=D(Y, 5, 1), end=D(Y, 5, 31))
    assert item.voucher_id == odd.id and item.amount == 7_000 and item.counter_codes == ("3101",)
    # the treasurer decides: a bad key, a non-cash line, a line of another book are refused
    with pytest.raises(InvalidInput):
        reports.classify_cash_line(book, item.line_id, "net_operating", actor=people["reviewer"])
    other_line = next(ln for ln in odd.lines if ln.id != item.line_id)
    with pytest.raises(InvalidInput):
        reports.classify_cash_line(
            book, other_line.id, "capital_received", actor=people["reviewer"]
        )
    other = svc.create_book(organisation_factory(kind="enterprise"))
    with pytest.raises(NotPermitted):  # the reviewer holds no role in the other organisation
        reports.classify_cash_line(
            other, item.line_id, "capital_received", actor=people["reviewer"]
        )
    with pytest.raises(NotFound):
        reports.classify_cash_line(book, 10**12, "capital_received", actor=people["reviewer"])
    with pytest.raises(NotPermitted):  # an auditor reads, never classifies
        reports.classify_cash_line(book, item.line_id, "capital_received", actor=people["auditor"])
    reports.classify_cash_line(book, item.line_id, "capital_received", actor=people["reviewer"])
    fixed = reports.cash_flow_statement(book, start=D(Y, 5, 1), end=D(Y, 5, 31))
    assert fixed.ok and fixed.amount("capital_received", "current_month") == 107_000
    assert "unclassified" not in [ln.key for ln in fixed.lines]
    assert_ties(book, fixed)
    # an override also beats a rule; removing it returns to the rule
    rule_line = next(ln for ln in odd.lines if ln.id == item.line_id)
    reports.classify_cash_line(book, rule_line.id, None, actor=people["reviewer"])
    assert not reports.cash_flow_statement(book, start=D(Y, 5, 1), end=D(Y, 5, 31)).ok


def test_a_refund_and_a_red_reversal_reduce_the_line_they_belong_to(book, acct, post, people):
    sale = post(lines((acct("1002"), 50_000, 0), (acct("5001"), 0, 50_000)), date=D(Y, 6, 2))
    post(lines((acct("5001"), 5_000, 0), (acct("1002"), 0, 5_000)), date=D(Y, 6, 3))  # refund
    red = svc.reverse_voucher(sale, actor=people["preparer"], date=D(Y, 6, 20))
    svc.submit_voucher(red, actor=people["preparer"])
    svc.approve_voucher(red, actor=people["reviewer"])
    svc.post_voucher(red, actor=people["reviewer"])
    cf = reports.cash_flow_statement(book, start=D(Y, 6, 1), end=D(Y, 6, 30))
    assert cf.amount("sales_receipts", "current_month") == -5_000
    assert cf.amount("other_operating_payments", "current_month") == 0
    assert_ties(book, cf)


def test_mixed_voucher_splits_over_its_counter_lines(book, acct, post):
    # one payment: materials, VAT input and a bank fee
    post(
        lines(
            (acct("1403"), 10_000, 0),
            (acct("2221"), 1_300, 0),
            (acct("5603"), 5, 0),
            (acct("1002"), 0, 11_305),
        ),
        date=D(Y, 7, 1),
    )
    cf = reports.cash_flow_statement(book, start=D(Y, 7, 1), end=D(Y, 7, 31))
    m = "current_month"
    assert cf.amount("purchases_paid", m) == 10_000
    assert cf.amount("taxes_paid", m) == 1_300
    assert cf.amount("other_operating_payments", m) == 5
    assert_ties(book, cf)


# --- NPO --------------------------------------------------------------------------------------


def test_npo_statement_with_the_prior_year_column(npo):  # noqa: F811
    b = npo["book"]
    cf = reports.cash_flow_statement(b, start=D(Y, 1, 1), end=D(Y, 12, 31))
    assert [c.label_zh for c in cf.columns] == ["本年数", "上年数"]
    assert cf.columns[1].start == D(Y - 1, 1, 1) and cf.columns[1].end == D(Y - 1, 12, 31)
    c = "current_period"
    assert cf.amount("donations_received", c) == 13_000
    assert cf.amount("services_received", c) == 800
    assert cf.amount("grants_paid", c) == 4_000
    assert cf.amount("other_activity_payments", c) == 500
    assert cf.amount("activity_inflows", c) == 13_800
    assert cf.amount("net_activities", c) == 9_300
    assert cf.amount("net_increase", c) == 9_300
    assert cf.amount("net_increase", "prior_year") == 0
    assert cf.ok
    assert_ties(b, cf)
    nxt = reports.cash_flow_statement(b, start=D(Y + 1, 1, 1), end=D(Y + 1, 3, 31))
    assert nxt.columns[0].label_zh == "本期数" and nxt.columns[1].label_zh == "上年同期数"
    assert nxt.amount("net_increase", "prior_year") == 13_000 - 4_000 - 500


def test_npo_cash_held_as_agent_leaves_cash_for_agency_assets(npo):  # noqa: F811
    b, acc, post = npo["book"], npo["acc"], npo["post"]
    bank = acc["1002"]
    # 1002 has postings: an agency sub-account needs a parent without postings, so use 1001
    agency = svc.add_sub_account(acc["1001"], "100109", "受托代理资产")
    post(lines((agency, 2_500, 0), (acc["2601"], 0, 2_500)), D(Y, 5, 6), "代收代付款")
    bs = reports.balance_sheet(b, as_of=D(Y, 5, 31))
    assert bs.amount("cash", "period_end") == 13_000 + 800 - 4_000 - 500
    assert bs.amount("agency_assets", "period_end") == 2_500
    assert bs.ok
    cf = reports.cash_flow_statement(b, start=D(Y, 5, 1), end=D(Y, 5, 31))
    assert cf.amount("net_increase", "current_period") == 0  # agency cash is not the NPO's
    assert cf.ok
    assert_ties(b, cf)
    del bank


# --- the tie on the demo books and on random books -------------------------------------------


def test_demo_books_are_classified_and_tie_to_the_balance_sheet(app):
    from core.demo import load_demo

    ctx = load_demo()
    for org in (ctx.enterprise, ctx.foundation):
        book = db.session.scalar(sa.select(Book).where(Book.organisation_id == org.id))
        last = db.session.scalar(
            sa.text("select max(date) from vouchers where book_id = :b"), {"b": book.id}
        )
        last = dt.date.fromisoformat(str(last)[:10])
        for start, end in ((D(last.year, 1, 1), last), (D(last.year, last.month, 1), last)):
            cf = reports.cash_flow_statement(book, start=start, end=end)
            assert cf.ok, (book.chart, cf.checks)
            assert_ties(book, cf)
        trust = db.session.scalar(sa.select(Book).where(Book.organisation_id == ctx.trust.id))
        with pytest.raises(InvalidInput):
            reports.cash_flow_statement(trust, start=D(last.year, 1, 1), end=last)


@pytest.fixture(params=["enterprise", "foundation"])
def setting(request, organisation_factory, user_factory):
    book, who, funds, accounts = random_book_setting(
        request.param, organisation_factory, user_factory
    )
    # weight the cash accounts: most random vouchers then touch cash
    cash = [a for a in accounts if a.code[:4] in ("1001", "1002", "1012", "1009")]
    return book, who, funds, cash * 3 + accounts


@PROPERTY_SETTINGS
@given(specs=st.lists(voucher_specs(), min_size=1, max_size=8), a=dates, b=dates)
def test_random_books_tie_to_the_balance_sheet(setting, specs, a, b):
    book, who, funds, accounts = setting
    start, end = min(a, b), max(a, b)
    sp = db.session.begin_nested()
    try:
        _post_all(book, who, funds, accounts, specs)
        cf = reports.cash_flow_statement(book, start=start, end=end)
        assert_ties(book, cf)
        # every line of the layout is there (the unclassified line only when not zero)
        has_unclassified = not cf.checks["every_cash_movement_classified"]
        assert ("unclassified" in [ln.key for ln in cf.lines]) == has_unclassified
        first = cf.columns[0]
        listed = reports.unclassified_cash_lines(book, start=first.start, end=first.end)
        if has_unclassified and "unclassified" in [ln.key for ln in cf.lines]:
            assert sum(x.amount for x in listed) == cf.amount("unclassified", first.key)
        # the sections add up: inflows − outflows of each activity + unclassified = net increase
        parts = [k for k in ("net_operating", "net_activities", "net_investing", "net_financing")]
        total = sum(cf.amount(k, first.key) for k in parts if k in [ln.key for ln in cf.lines])
        if has_unclassified:
            total += cf.amount("unclassified", first.key)
        assert total == cf.amount("net_increase", first.key)
    finally:
        sp.rollback()
