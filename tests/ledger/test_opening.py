"""Opening balances (期初余额): one voucher of kind opening, balanced per unit, through the
ordinary life cycle; refusals that store nothing; CSV import; the API and the grid page."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from core.db import db
from core.errors import Conflict, InvalidInput, NotPermitted
from ledger import log
from ledger import opening as op
from ledger import services as svc
from ledger.models import Account, AccountPeriodBalance, Voucher, VoucherKind, VoucherLine
from tests.ledger.conftest import lines
from tests.ledger.test_api import Api

pytestmark = pytest.mark.usefixtures("english")

START = dt.date(2026, 7, 1)  # a book that starts inside the year


def R(account, debit="", credit="", **kw) -> op.OpeningRow:  # noqa: N802
    return op.OpeningRow(account=account, debit=debit, credit=credit, **kw)


def mid_year_rows(resident_id=None) -> list[op.OpeningRow]:
    """Balances at 30 June plus the year-to-date movements of revenue and expense accounts.
    Debits 10000 + 500 + 1200 + 100 = 11800 = credits 3000 + 8800."""
    return [
        R("1002", "10,000.00"),
        R("1122", "500", resident_id=resident_id),
        R("5602", "1200.00"),
        R("5001", "100", "3000.00"),  # 累计借方 and 累计贷方
        R("3001", "", "8800"),
    ]


def count_vouchers() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Voucher))


def run_life_cycle(book, people):
    op.submit_opening(book, actor=people["preparer"])
    op.approve_opening(book, actor=people["reviewer"])
    return op.post_opening(book, actor=people["reviewer"])


def test_openings_are_one_opening_voucher_through_the_ordinary_life_cycle(
    book, people, acct, resident_factory
):
    resident = resident_factory(community=book.organisation.community)
    draft = op.save_opening(book, mid_year_rows(resident.id), actor=people["preparer"], date=START)
    assert (draft.kind, draft.status, draft.date) == ("opening", "draft", START)
    op.submit_opening(book, actor=people["preparer"])
    with pytest.raises(NotPermitted):  # a second person approves
        op.approve_opening(book, actor=people["preparer"])
    op.approve_opening(book, actor=people["reviewer"])
    v = op.post_opening(book, actor=people["reviewer"])
    assert v.is_posted and v.kind == VoucherKind.OPENING and book.opening_state == "posted"
    assert v.number.startswith("记-2026-07-")
    # 5001 carries both year-to-date sides: two lines of the same account.
    sides = sorted((ln.account.code, ln.debit, ln.credit) for ln in v.lines)
    assert sides == [
        ("1002", 1_000_000, 0),
        ("1122", 50_000, 0),
        ("3001", 0, 880_000),
        ("5001", 0, 300_000),
        ("5001", 10_000, 0),
        ("5602", 120_000, 0),
    ]
    assert next(ln for ln in v.lines if ln.account.code == "1122").resident_id == resident.id
    record = log.public_record(v)
    assert record["kind"] == "opening"
    bal = db.session.scalar(
        sa.select(AccountPeriodBalance).where(AccountPeriodBalance.account_id == acct("5001").id)
    )
    assert (bal.debit, bal.credit, bal.period_key) == (10_000, 300_000, 202607)
    # The draft rows read back as the grid shows them (5001 on one row).
    rows = {r.account: (r.debit, r.credit) for r in op.rows_of(v)}
    assert rows["5001"] == ("100.00", "3000.00") and rows["1002"] == ("10000.00", "")


def test_a_grid_that_does_not_balance_is_refused_with_the_difference_and_nothing_stored(
    book, people
):
    rows = [R("1002", "100.00"), R("3001", "", "99.50")]
    with pytest.raises(InvalidInput) as e:
        op.save_opening(book, rows, actor=people["preparer"], date=START)
    assert "do not balance" in str(e.value.message) and "0.50" in str(e.value.message)
    assert count_vouchers() == 0


def test_unbalanced_message_is_chinese_by_default(book, people):
    with force_locale("zh_Hans_CN"), pytest.raises(InvalidInput) as e:
        op.save_opening(book, [R("1002", "1"), R("3001", "", "2")], actor=people["preparer"])
    assert "试算不平衡" in str(e.value.message) and "1.00" in str(e.value.message)


def test_balance_is_checked_per_unit(book, people):
    svc.declare_unit(book, "PTS", "积分", 0)
    rows = [R("1002", "5"), R("3001", "", "5"), R("1002", "7", unit="PTS")]
    with pytest.raises(InvalidInput) as e:
        op.save_opening(book, rows, actor=people["preparer"], date=START)
    assert "in PTS" in str(e.value.message) and "difference 7" in str(e.value.message)


def test_no_opening_balance_on_a_parent_account_with_sub_accounts(book, people, acct):
    svc.add_sub_account(acct("1002"), "100201", "工商银行")
    with pytest.raises(InvalidInput) as e:
        op.save_opening(
            book, [R("1002", "5"), R("3001", "", "5")], actor=people["preparer"], date=START
        )
    assert "has sub-accounts" in str(e.value.message)
    assert count_vouchers() == 0
    v = op.save_opening(
        book, [R("100201", "5"), R("3001", "", "5")], actor=people["preparer"], date=START
    )
    assert [ln.account.code for ln in v.lines] == ["100201", "3001"]


def test_two_sides_on_a_balance_sheet_account_are_refused(book, people):
    with pytest.raises(InvalidInput) as e:
        op.save_opening(book, [R("1002", "5", "5")], actor=people["preparer"], date=START)
    assert "on one side" in str(e.value.message)


@pytest.mark.parametrize("bad", ["1.234", "１２", "1e3", "-0", "-5", "12元", "NaN", "1.2.3"])
def test_bad_amounts_are_refused_and_nothing_is_stored(book, people, bad):
    with pytest.raises(InvalidInput) as e:
        op.save_opening(
            book, [R("1002", bad), R("3001", "", "12")], actor=people["preparer"], date=START
        )
    assert "Row 1" in str(e.value.message)
    assert count_vouchers() == 0


def test_amounts_are_parsed_exactly():
    assert op.parse_opening_amount("1,234,567.89") == 123_456_789
    assert op.parse_opening_amount("0.1") == 10
    assert op.parse_opening_amount(" 12 ") == 1200
    assert op.parse_opening_amount("") == 0
    assert op.parse_opening_amount("7", 0) == 7
    with pytest.raises(InvalidInput):
        op.parse_opening_amount("0.5", 0)


def test_openings_are_refused_after_the_first_ordinary_posting(book, people, post, acct):
    post(lines((acct("1002"), 100, 0), (acct("5001"), 0, 100)), date=START)
    with pytest.raises(Conflict) as e:
        op.save_opening(
            book, [R("1002", "5"), R("3001", "", "5")], actor=people["preparer"], date=START
        )
    assert "first posting" in str(e.value.message)
    with pytest.raises(Conflict):
        op.check_can_post(book, VoucherKind.OPENING)


def test_a_book_that_requires_openings_posts_nothing_before_them(book, people, acct):
    op.set_opening_state(book, "required", actor=people["admin"], reason="建账")
    ordinary = svc.create_voucher(
        book,
        svc.VoucherInput(START, "收款", lines((acct("1002"), 100, 0), (acct("5001"), 0, 100))),
        actor=people["preparer"],
    )
    with pytest.raises(Conflict) as e:
        op.check_can_post(book, VoucherKind.NORMAL)
    assert "opening balances" in str(e.value.message)
    with force_locale("zh_Hans_CN"), pytest.raises(Conflict) as e:
        op.check_can_post(book, "normal")
    assert "期初余额" in str(e.value.message)
    op.check_can_post(book, VoucherKind.OPENING)  # the openings themselves may post
    op.save_opening(book, mid_year_rows(), actor=people["preparer"], date=START)
    run_life_cycle(book, people)
    op.check_can_post(book, VoucherKind.NORMAL)
    assert ordinary.status == "draft"


def test_existing_books_start_from_zero_and_post_as_before(book):
    assert book.opening_state == "none"
    op.check_can_post(book, VoucherKind.NORMAL)
    op.check_can_post(book, VoucherKind.CLOSING)


def test_required_cannot_be_set_on_a_book_that_already_has_postings(book, people, post, acct):
    post(lines((acct("1002"), 100, 0), (acct("5001"), 0, 100)), date=START)
    with pytest.raises(Conflict):
        op.set_opening_state(book, "required", actor=people["admin"])
    with pytest.raises(NotPermitted):
        op.set_opening_state(book, "none", actor=people["preparer"])


def test_a_second_set_of_openings_is_refused_while_the_first_is_posted(book, people):
    op.save_opening(book, mid_year_rows(), actor=people["preparer"], date=START)
    run_life_cycle(book, people)
    with pytest.raises(Conflict) as e:
        op.save_opening(book, mid_year_rows(), actor=people["preparer"], date=START)
    assert "reverse them first" in str(e.value.message)


def test_a_correction_is_a_reversal_before_the_first_month_closes(book, people, post, acct):
    op.set_opening_state(book, "required", actor=people["admin"])
    op.save_opening(book, mid_year_rows(), actor=people["preparer"], date=START)
    first = run_life_cycle(book, people)
    post(lines((acct("1002"), 100, 0), (acct("5001"), 0, 100)), date=dt.date(2026, 7, 9))
    red = op.reverse_opening(book, actor=people["preparer"])
    assert (red.kind, red.reverses_id, red.date) == ("reversal", first.id, START)
    assert book.opening_state == "required"
    svc.submit_voucher(red, actor=people["preparer"])
    svc.approve_voucher(red, actor=people["reviewer"])
    svc.post_voucher(red, actor=people["reviewer"])
    with pytest.raises(Conflict):  # nothing ordinary until the corrected openings are in
        op.check_can_post(book, VoucherKind.NORMAL)
    rows = [R("1002", "10000"), R("3001", "", "10000")]
    with pytest.raises(InvalidInput):  # the corrected openings keep the original date
        op.save_opening(book, rows, actor=people["preparer"], date=dt.date(2026, 7, 2))
    op.save_opening(book, rows, actor=people["preparer"])
    again = run_life_cycle(book, people)
    assert again.date == START and op.posted_opening(book).id == again.id
    # Once the first month is closed the openings can no longer be reversed.
    svc.close_period(book, 2026, 7, actor=people["reviewer"])
    with pytest.raises(Conflict) as e:
        op.reverse_opening(book, actor=people["preparer"])
    assert "closed" in str(e.value.message)


def test_submitted_openings_cannot_be_edited(book, people):
    op.save_opening(book, mid_year_rows(), actor=people["preparer"], date=START)
    op.submit_opening(book, actor=people["preparer"])
    with pytest.raises(Conflict):
        op.save_opening(book, mid_year_rows(), actor=people["preparer"], date=START)


def test_default_date_is_the_first_day_of_the_books_first_month(book, people):
    v = op.save_opening(book, [R("1002", "1"), R("3001", "", "1")], actor=people["preparer"])
    created = book.created_at.date()
    assert v.date == dt.date(created.year, created.month, 1)


def test_an_auditor_cannot_enter_openings(book, people):
    with pytest.raises(NotPermitted):
        op.save_opening(book, mid_year_rows(), actor=people["auditor"], date=START)


# --- CSV import -------------------------------------------------------------------------------


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def invoke(runner, book, path, *extra, user="preparer"):
    org = book.organisation_id
    db.session.flush()
    return runner.invoke(
        args=[
            "ledger",
            "opening",
            "import",
            "--book",
            str(book.id),
            "--user",
            f"{user}_{org}",
            "--date",
            START.isoformat(),
            "--lang",
            "en",
            *extra,
            *([str(path)] if path else []),
        ]
    )


def opening_lines(book) -> list[tuple[str, int, int]]:
    v = op.opening_draft(book)
    return sorted((ln.account.code, ln.debit, ln.credit) for ln in v.lines) if v else []


def test_import_a_utf8_bom_export_with_rollups_and_a_total_row(
    runner, book, people, acct, tmp_path
):
    svc.add_sub_account(acct("1002"), "100201", "工商银行")
    svc.add_sub_account(acct("1002"), "100202", "农业银行")
    text = (
        "\ufeff科目编码,科目名称,期初借方,期初贷方,本期借方,本期贷方\n"
        '1002,银行存款,"1,500.00",,9,9\n'
        "100201,工商银行,1000.00,,,\n"
        "100202,农业银行,500.00,,,\n"
        "3001,实收资本,,1500.00,,\n"
        ",合计,1500.00,1500.00,,\n"
    )
    result = invoke(runner, book, write(tmp_path, "tb.csv", text))
    assert result.exit_code == 0, result.output
    assert opening_lines(book) == [
        ("100201", 100_000, 0),
        ("100202", 50_000, 0),
        ("3001", 0, 150_000),
    ]
    assert op.opening_draft(book).source == "opening"


def test_import_a_gb18030_direction_and_balance_layout(runner, book, people, tmp_path):
    text = "科目代码,科目名称,方向,余额\n1001,库存现金,借,200.50\n2241,其他应付款,贷,200.50\n1002,银行存款,平,0\n"
    result = invoke(runner, book, write(tmp_path, "gb.csv", text, "gb18030"))
    assert result.exit_code == 0, result.output
    assert opening_lines(book) == [("1001", 20_050, 0), ("2241", 0, 20_050)]


def test_import_refuses_an_unbalanced_file_naming_the_difference(runner, book, people, tmp_path):
    text = "code,name,debit,credit\n1002,Bank,100.00,\n3001,Capital,,90.00\n"
    result = invoke(runner, book, write(tmp_path, "bad.csv", text))
    assert result.exit_code == 1
    assert "difference 10.00" in result.output
    assert count_vouchers() == 0


def test_import_refuses_an_account_the_chart_lacks(runner, book, people, tmp_path):
    text = "科目编码,科目名称,借方,贷方\n1002,银行存款,100,\n9999,不存在,,100\n"
    result = invoke(runner, book, write(tmp_path, "unknown.csv", text))
    assert result.exit_code == 1
    assert "no account 9999" in result.output and "Row 3" in result.output
    assert count_vouchers() == 0


@pytest.mark.parametrize("bad", ["1.234", "１２", "1e3", "-0"])
def test_import_refuses_bad_amounts(runner, book, people, tmp_path, bad):
    text = f"code,name,debit,credit\n1002,Bank,{bad},\n3001,Capital,,12\n"
    result = invoke(runner, book, write(tmp_path, "amt.csv", text))
    assert result.exit_code == 1 and "Row 2" in result.output
    assert count_vouchers() == 0


def test_import_refuses_an_unknown_layout(runner, book, people, tmp_path):
    result = invoke(runner, book, write(tmp_path, "x.csv", "a,b\n1,2\n"))
    assert result.exit_code == 1 and "科目编码" in result.output
    assert count_vouchers() == 0


def test_import_from_another_books_closing_balances(
    runner, book, people, organisation_factory, user_factory, tmp_path
):
    from core.auth import grant_role

    old_org = organisation_factory(community=book.organisation.community)
    old = svc.create_book(old_org)
    prep, rev = user_factory(), user_factory()
    grant_role(prep, old_org, "preparer")
    grant_role(rev, old_org, "reviewer")
    db.session.flush()
    code = {
        a.code: a for a in db.session.scalars(sa.select(Account).where(Account.book_id == old.id))
    }
    for d, ls in (
        (dt.date(2026, 5, 3), lines((code["1002"], 80_000, 0), (code["3001"], 0, 80_000))),
        (dt.date(2026, 6, 3), lines((code["1001"], 5_000, 0), (code["1002"], 0, 5_000))),
        (dt.date(2026, 7, 3), lines((code["1001"], 1_000, 0), (code["1002"], 0, 1_000))),
    ):
        v = svc.create_voucher(old, svc.VoucherInput(d, "x", ls), actor=prep)
        svc.submit_voucher(v, actor=prep)
        svc.approve_voucher(v, actor=rev)
        svc.post_voucher(v, actor=rev)
    result = invoke(runner, book, None, "--from-book", str(old.id), "--as-of", "2026-06")
    assert result.exit_code == 0, result.output
    assert opening_lines(book) == [("1001", 5_000, 0), ("1002", 75_000, 0), ("3001", 0, 80_000)]


# --- API --------------------------------------------------------------------------------------


@pytest.fixture
def api(app, organisation, people, book):
    def make(role: str, **kw) -> Api:
        return Api(app, organisation, people[role], **kw)

    return make


def test_api_get_put_and_submit_the_draft(api, book):
    prep = api("preparer")
    empty = prep.get("/opening").get_json()
    assert empty["rows"] == [] and empty["state"] == "none" and empty["voucher_id"] is None
    body = {
        "date": START.isoformat(),
        "rows": [
            {"account": "1002", "debit": "1000.00"},
            {"account": "5001", "debit": "10", "credit": "210"},
            {"account": "3001", "credit": "800"},
        ],
    }
    put = prep.put("/opening", body)
    assert put.status_code == 200, put.get_json()
    out = put.get_json()
    assert out["status"] == "draft" and out["date"] == "2026-07-01"
    assert out["totals"] == [
        {
            "unit": "CNY",
            "debit": "1010.00",
            "credit": "1010.00",
            "difference": "0.00",
            "balanced": True,
        }
    ]
    sub = prep.post("/opening/submit")
    assert sub.status_code == 200 and sub.get_json()["status"] == "submitted"
    # Approval and posting are the ordinary voucher endpoints.
    rev = api("reviewer")
    vid = out["voucher_id"]
    assert rev.post(f"/vouchers/{vid}/approve").status_code == 200
    posted = rev.post(f"/vouchers/{vid}/post")
    assert posted.status_code == 200 and posted.get_json()["kind"] == "opening"
    assert prep.get("/opening").get_json()["number"] == posted.get_json()["number"]


@pytest.mark.parametrize(
    "rows, status, needle",
    [
        (
            [{"account": "1002", "debit": "100"}, {"account": "3001", "credit": "99"}],
            422,
            "difference 1.00",
        ),
        (
            [{"account": "1002", "debit": "1.234"}, {"account": "3001", "credit": "1"}],
            422,
            "decimal places",
        ),
        (
            [{"account": "1002", "debit": "１２"}, {"account": "3001", "credit": "12"}],
            422,
            "not an amount",
        ),
        (
            [{"account": "1002", "debit": "1e3"}, {"account": "3001", "credit": "1000"}],
            422,
            "not an amount",
        ),
        (
            [{"account": "1002", "debit": "-0"}, {"account": "3001", "credit": "1"}],
            422,
            "never negative",
        ),
        ([{"account": "1002", "debit": 12.5}, {"account": "3001", "credit": "12.50"}], 422, ""),
        (
            [{"account": "9999", "debit": "1"}, {"account": "3001", "credit": "1"}],
            422,
            "no account 9999",
        ),
        ([], 422, "at least one"),
    ],
)
def test_api_bad_input_is_a_clear_4xx_and_nothing_is_stored(api, rows, status, needle):
    r = api("preparer", lang="en").put("/opening", {"rows": rows})
    assert r.status_code == status, r.get_json()
    assert needle in json.dumps(r.get_json(), ensure_ascii=False)
    assert count_vouchers() == 0


def test_api_openings_after_the_first_posting_are_409(api, post, acct):
    post(lines((acct("1002"), 100, 0), (acct("5001"), 0, 100)), date=START)
    r = api("preparer", lang="en").put(
        "/opening",
        {"rows": [{"account": "1002", "debit": "1"}, {"account": "3001", "credit": "1"}]},
    )
    assert r.status_code == 409 and "first posting" in r.get_json()["message"]
    assert count_vouchers() == 1


def test_api_auditor_may_read_but_not_write(api):
    aud = api("auditor")
    assert aud.get("/opening").status_code == 200
    assert aud.put("/opening", {"rows": []}).status_code == 403
    assert aud.post("/opening/submit").status_code == 403


def test_api_submit_without_a_draft_is_404(api):
    assert api("preparer").post("/opening/submit").status_code == 404


# --- the grid page ----------------------------------------------------------------------------


def grid_form(page: str, values: dict[str, tuple[str, str]], csrf: str) -> dict:
    """The form as a browser would send it: every row's account, with the given amounts."""
    import re

    form = {"csrf_token": csrf, "date": START.isoformat(), "action": "save"}
    for n, code in re.findall(r'name="rows-(\d+)-account" value="(\d+)"', page):
        dr, cr = values.get(code, ("", ""))
        form[f"rows-{n}-account"] = code
        form[f"rows-{n}-debit"] = dr
        form[f"rows-{n}-credit"] = cr
    return form


def test_grid_page_saves_a_balanced_grid_and_refuses_an_unbalanced_one(
    client_as, book, organisation
):
    c = client_as("preparer")
    page = c.get(f"/books/{organisation.id}/opening")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "opening.js" in html and "<script>" not in html
    assert 'name="rows-1-account"' in html and "银行存款" in html
    bad = c.post(
        f"/books/{organisation.id}/opening",
        data=grid_form(html, {"1002": ("100", ""), "3001": ("", "90")}, c.csrf),
    )
    assert bad.status_code == 422
    assert "试算不平衡" in bad.get_data(as_text=True) and "差额 10.00" in bad.get_data(as_text=True)
    assert count_vouchers() == 0
    ok = c.post(
        f"/books/{organisation.id}/opening",
        data={
            **grid_form(html, {"1002": ("100", ""), "3001": ("", "100")}, c.csrf),
            "action": "submit",
        },
    )
    assert ok.status_code == 302
    v = op.opening_draft(book)
    assert v.status == "submitted" and len(v.lines) == 2
    again = c.get(f"/books/{organisation.id}/opening").get_data(as_text=True)
    assert 'value="100.00"' in again and "disabled" in again


def test_grid_page_extra_rows_carry_a_fund_and_bad_ids_are_refused(client_as, book, organisation):
    svc.create_fund(book, "F1", "助老基金", restricted=False)
    c = client_as("preparer")
    html = c.get(f"/books/{organisation.id}/opening").get_data(as_text=True)
    form = grid_form(html, {"3001": ("", "100")}, c.csrf)
    last = max(int(k.split("-")[1]) for k in form if k.startswith("rows-"))
    n = last + 1
    form.update({f"rows-{n}-account": "1002", f"rows-{n}-debit": "100", f"rows-{n}-fund": "F1"})
    assert c.post(f"/books/{organisation.id}/opening", data=form).status_code == 302
    line = db.session.scalar(sa.select(VoucherLine).where(VoucherLine.debit == 10_000))
    assert line.fund.code == "F1"
    form[f"rows-{n}-resident"] = "abc"
    r = c.post(f"/books/{organisation.id}/opening", data=form)
    assert r.status_code == 422 and "abc 不是编号" in r.get_data(as_text=True)


def test_control_characters_and_inactive_accounts_are_refused(book, people, acct):
    with pytest.raises(InvalidInput) as e:
        op.save_opening(book, [R("10\x0002", "1"), R("3001", "", "1")], actor=people["preparer"])
    assert "control characters" in str(e.value.message)
    svc.set_account_active(acct("1001"), False, actor=people["admin"])
    with pytest.raises(InvalidInput) as e:
        op.save_opening(book, [R("1001", "1"), R("3001", "", "1")], actor=people["preparer"])
    assert "inactive" in str(e.value.message)
    assert count_vouchers() == 0


def test_grid_page_with_a_nul_in_a_code_is_a_4xx(client_as, organisation, book):
    c = client_as("preparer")
    r = c.post(
        f"/books/{organisation.id}/opening",
        data={"csrf_token": c.csrf, "rows-1-account": "1\x00", "rows-1-debit": "1"},
    )
    assert r.status_code == 422
    assert count_vouchers() == 0


def test_nothing_is_posted_before_the_date_of_the_openings(book, people):
    op.set_opening_state(book, "required", actor=people["admin"])
    op.save_opening(book, mid_year_rows(), actor=people["preparer"], date=START)
    run_life_cycle(book, people)
    with pytest.raises(Conflict) as e:
        op.check_can_post(book, VoucherKind.NORMAL, date=dt.date(2026, 6, 30))
    assert "2026-07-01" in str(e.value.message)
    op.check_can_post(book, VoucherKind.NORMAL, date=START)


def test_the_years_income_statement_includes_the_year_to_date_brought_forward(
    book, people, post, acct
):
    from ledger import reports

    op.save_opening(book, mid_year_rows(), actor=people["preparer"], date=START)
    run_life_cycle(book, people)
    post(lines((acct("1002"), 50_000, 0), (acct("5001"), 0, 50_000)), date=dt.date(2026, 7, 9))
    inc = reports.income_statement(book, start=START, end=dt.date(2026, 7, 31))
    # 3000 − 100 brought forward + 500 earned in July; 1200 of expenses brought forward.
    assert inc.amount("operating_revenue", "year_to_date") == 340_000
    assert inc.amount("administrative_expenses", "year_to_date") == 120_000
    assert inc.amount("net_profit", "year_to_date") == 220_000
    assert inc.ok
    assert reports.balance_sheet(book, as_of=dt.date(2026, 7, 31)).ok


def test_the_posting_engine_refuses_postings_before_the_openings(book, people, acct):
    """The rule is the engine's, not only the grid's: post_voucher and bulk runs both ask."""
    op.set_opening_state(book, "required", actor=people["admin"], reason="建账")
    data = svc.VoucherInput(START, "收款", lines((acct("1002"), 100, 0), (acct("5001"), 0, 100)))
    v = svc.create_voucher(book, data, actor=people["preparer"])
    svc.submit_voucher(v, actor=people["preparer"])
    svc.approve_voucher(v, actor=people["reviewer"])
    with pytest.raises(Conflict):
        svc.post_voucher(v, actor=people["reviewer"])
    with pytest.raises(Conflict):
        svc.post_vouchers(book, [data], source="import", actor=None)


def test_an_admin_declares_on_the_grid_that_the_book_starts_from_zero(
    client_as, organisation, book, acct
):
    book.opening_state = "required"
    db.session.flush()
    page = client_as("admin").get(f"/books/{organisation.id}/opening").get_data(as_text=True)
    assert 'name="state" value="none"' in page
    preparer = client_as("preparer")
    r = preparer.post(
        f"/books/{organisation.id}/opening/state",
        data={"csrf_token": preparer.csrf, "state": "none"},
    )
    assert r.status_code == 403 and book.opening_state == "required"
    admin = client_as("admin")
    r = admin.post(
        f"/books/{organisation.id}/opening/state",
        data={"csrf_token": admin.csrf, "state": "none", "reason": "新成立，从零开始"},
    )
    assert r.status_code == 302
    db.session.refresh(book)
    assert book.opening_state == "none"
    op.check_can_post(book, VoucherKind.NORMAL)
