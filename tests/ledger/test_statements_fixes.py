"""The figures of the existing statements as the official texts fill them (issue 16, item 4):
each test fails on the code before its fix."""

from __future__ import annotations

import datetime as dt

from ledger import reports
from ledger import services as svc
from tests.ledger.conftest import lines
from tests.ledger.test_reports import npo  # noqa: F401  (fixture)

Y = 2025
D = dt.date


def test_sme_receivables_and_advances_are_presented_by_the_accounts_balance_side(book, acct, post):
    # 1122 ends on the credit side (a customer paid more than billed): 预收账款, never −AR
    post(lines((acct("1122"), 30_000, 0), (acct("5001"), 0, 30_000)), date=D(Y, 3, 2))
    post(lines((acct("1002"), 45_000, 0), (acct("1122"), 0, 45_000)), date=D(Y, 3, 3))
    # 2203 ends on the debit side (delivered more than prepaid): 应收账款
    post(lines((acct("1002"), 10_000, 0), (acct("2203"), 0, 10_000)), date=D(Y, 3, 4))
    post(lines((acct("2203"), 12_000, 0), (acct("5001"), 0, 12_000)), date=D(Y, 3, 5))
    # 2202 ends on the debit side (overpaid a supplier): 预付账款; 1123 normal
    post(lines((acct("1405"), 8_000, 0), (acct("2202"), 0, 8_000)), date=D(Y, 3, 6))
    post(lines((acct("2202"), 9_000, 0), (acct("1002"), 0, 9_000)), date=D(Y, 3, 7))
    post(lines((acct("1123"), 4_000, 0), (acct("1002"), 0, 4_000)), date=D(Y, 3, 8))
    bs = reports.balance_sheet(book, as_of=D(Y, 3, 31))
    e = "period_end"
    assert bs.amount("accounts_receivable", e) == 2_000  # 2203's debit balance
    assert bs.amount("receipts_in_advance", e) == 15_000  # 1122's credit balance
    assert bs.amount("prepayments", e) == 4_000 + 1_000  # 1123 + 2202's debit balance
    assert bs.amount("accounts_payable", e) == 0
    assert bs.ok, bs.checks


def test_npo_impairment_1421_is_split_between_equity_debt_and_current_lines(npo):  # noqa: F811
    b, acc, post = npo["book"], npo["acc"], npo["post"]
    eq = svc.add_sub_account(acc["1421"], "142101", "长期股权投资减值准备")
    debt = svc.add_sub_account(acc["1421"], "142102", "长期债权投资减值准备")
    post(lines((acc["1401"], 50_000, 0), (acc["1002"], 0, 50_000)), D(Y, 5, 1))
    post(lines((acc["1402"], 20_000, 0), (acc["1002"], 0, 20_000)), D(Y, 5, 2))
    post(lines((acc["5401"], 3_000, 0), (eq, 0, 3_000)), D(Y, 5, 3))
    post(lines((acc["5401"], 1_000, 0), (debt, 0, 1_000)), D(Y, 5, 4))
    bs = reports.balance_sheet(b, as_of=D(Y, 5, 31))
    e = "period_end"
    assert bs.amount("long_term_equity_investments", e) == 47_000
    assert bs.amount("long_term_debt_investments", e) == 19_000
    assert bs.amount("total_long_term_investments", e) == 66_000
    assert bs.ok, bs.checks


def test_a_closing_entry_posted_by_hand_does_not_zero_the_income_statement(book, acct, post):
    post(lines((acct("1002"), 80_000, 0), (acct("5001"), 0, 80_000)), date=D(Y, 3, 2))
    post(lines((acct("5602"), 30_000, 0), (acct("1002"), 0, 30_000)), date=D(Y, 3, 9))
    # 账结法: the treasurer closes March by hand with an ordinary voucher
    post(
        lines(
            (acct("5001"), 80_000, 0),
            (acct("5602"), 0, 30_000),
            (acct("3103"), 0, 50_000),
        ),
        date=D(Y, 3, 31),
        summary="结转本月损益",
    )
    inc = reports.income_statement(book, start=D(Y, 3, 1), end=D(Y, 3, 31))
    assert inc.amount("operating_revenue", "current_month") == 80_000
    assert inc.amount("net_profit", "current_month") == 50_000
    assert inc.amount("net_profit", "year_to_date") == 50_000
    assert inc.ok, inc.checks
    bs = reports.balance_sheet(book, as_of=D(Y, 3, 31))
    assert bs.amount("retained_earnings", "period_end") == 50_000 and bs.ok
    # an ordinary voucher on 3103 with a balance-sheet account is no closing entry
    post(lines((acct("3103"), 1_000, 0), (acct("1002"), 0, 1_000)), date=D(Y, 4, 2))
    post(lines((acct("1002"), 5_000, 0), (acct("5001"), 0, 5_000)), date=D(Y, 4, 3))
    april = reports.income_statement(book, start=D(Y, 4, 1), end=D(Y, 4, 30))
    assert april.amount("net_profit", "current_month") == 5_000


def test_npo_only_genuine_releases_count_and_transfers_back_are_shown(npo):  # noqa: F811
    b, acc, post, R = npo["book"], npo["acc"], npo["post"], {"fund_id": npo["restricted"].id}
    # March (fixture): 4,000 of the restricted fund spent → released in March
    march = reports.income_statement(b, start=D(Y, 3, 1), end=D(Y, 3, 31))
    assert march.line("released_from_restriction").amounts[:3] == (4000, -4000, 0)
    # May: a prior-period adjustment debits 3102 against the bank: no release
    post(lines((acc["3102"], 700, 0, R), (acc["1002"], 0, 700)), D(Y, 5, 5), "以前年度调整")
    # May: a donor lifts a restriction (3102 → 3101) and another re-imposes one (3101 → 3102)
    post(lines((acc["3102"], 1_000, 0, R), (acc["3101"], 0, 1_000)), D(Y, 5, 6), "解除限制")
    post(lines((acc["3101"], 300, 0), (acc["3102"], 0, 300, R)), D(Y, 5, 7), "重新限定")
    may = reports.income_statement(b, start=D(Y, 5, 1), end=D(Y, 5, 31))
    assert may.line("released_from_restriction").amounts[:3] == (700, -700, 0)
    assert may.ok, may.checks
    year = reports.income_statement(b, start=D(Y, 1, 1), end=D(Y, 6, 30))
    assert year.amount("released_from_restriction", "year_to_date.unrestricted") == 4700


def test_annual_statements_show_the_prior_year(book, acct, post, npo):  # noqa: F811
    post(lines((acct("1002"), 40_000, 0), (acct("5001"), 0, 40_000)), date=D(Y - 1, 6, 2))
    post(lines((acct("1002"), 90_000, 0), (acct("5001"), 0, 90_000)), date=D(Y, 6, 2))
    inc = reports.income_statement(book, start=D(Y, 1, 1), end=D(Y, 12, 31))
    assert [c.key for c in inc.columns] == ["current_year", "prior_year"]
    assert [c.label_zh for c in inc.columns] == ["本年金额", "上年金额"]
    assert inc.amount("operating_revenue", "current_year") == 90_000
    assert inc.amount("operating_revenue", "prior_year") == 40_000
    assert inc.columns[1].start == D(Y - 1, 1, 1) and inc.columns[1].end == D(Y - 1, 12, 31)
    assert inc.ok, inc.checks
    act = reports.income_statement(npo["book"], start=D(Y, 1, 1), end=D(Y, 12, 31))
    assert [c.label_zh for c in act.columns][::3] == ["本年数·非限定性", "上年数·非限定性"]
    assert act.line("total_revenue").amounts[3:] == (0, 0, 0)  # nothing in the prior year
    assert act.ok


def test_interim_npo_columns_are_labelled_by_their_period(npo):  # noqa: F811
    b = npo["book"]

    def first_label(start, end):
        return reports.income_statement(b, start=start, end=end).columns[0].label_zh

    assert first_label(D(Y, 3, 1), D(Y, 3, 31)) == "本月数·非限定性"
    assert first_label(D(Y, 1, 1), D(Y, 3, 31)) == "本季度数·非限定性"
    assert first_label(D(Y, 7, 1), D(Y, 12, 31)) == "本半年度数·非限定性"
    assert first_label(D(Y, 3, 5), D(Y, 3, 31)) == "本期数·非限定性"


def test_of_which_lines_are_computed_from_sub_accounts_or_shown_as_missing(
    book, acct, post, people, client_as, organisation, organisation_factory
):
    city = svc.add_sub_account(acct("5403"), "540301", "城市维护建设税")
    edu = svc.add_sub_account(acct("5403"), "540302", "教育费附加")
    post(lines((city, 700, 0), (edu, 300, 0), (acct("2221"), 0, 1_000)), date=D(Y, 3, 31))
    inc = reports.income_statement(book, start=D(Y, 3, 1), end=D(Y, 3, 31))
    assert inc.amount("taxes_and_surcharges", "current_month") == 1_000
    assert inc.amount("city_maintenance_tax", "current_month") == 700
    assert inc.amount("education_surcharge_and_fees", "current_month") == 300
    assert inc.line("consumption_tax").amounts == (None, None)  # no such sub-account: "—"
    assert inc.line("entertainment").amounts == (None, None)
    assert inc.ok
    html = client_as("reviewer").get(
        f"/books/{organisation.id}/reports/income-statement?start={Y}-03-01&end={Y}-03-31"
    )
    assert "本账套无法填列的行" in html.get_data(as_text=True)
    # NPO: the programme lines are the sub-accounts of 5101, named after them
    from core.auth import grant_role
    from core.db import db

    org = organisation_factory(kind="foundation")
    for role in ("preparer", "reviewer"):
        grant_role(people[role], org, role)
    db.session.flush()
    b = svc.create_book(org)
    acc = {a.code: a for a in reports.balances.book_accounts(b).values()}
    meals = svc.add_sub_account(acc["5101"], "510101", "长者助餐")
    svc.add_sub_account(acc["5101"], "510102", "儿童托管")
    post(lines((meals, 1_200, 0), (acc["1002"], 0, 1_200)), date=D(Y, 6, 3), b=b)
    act = reports.income_statement(b, start=D(Y, 6, 1), end=D(Y, 6, 30))
    assert act.line("programme_1").label_zh == "长者助餐"
    assert act.line("programme_1").amounts[:3] == (1_200, 0, 1_200)
    assert act.line("programme_2").label_zh == "儿童托管"
    assert act.line("programme_2").amounts[:3] == (0, 0, 0)  # an account, nothing spent
    assert act.line("programme_3").amounts == (None,) * 6  # no third programme: "—"
    assert act.ok
