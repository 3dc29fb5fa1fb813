"""NPO_2024 (民间非营利组织会计制度, 财会〔2024〕25号): the chart, layouts and year-end rules ship
as data; a 2026 book opens from a closed 2025 NPO_2004 book by the transition rules
(财会〔2025〕6号, ledger.transition)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core import onboarding
from core.auth import grant_role
from core.db import db
from core.errors import Conflict, InvalidInput, NotPermitted
from core.models import KIND_STANDARD, Organisation, OrganisationKind, Standard
from ledger import opening, reports, transition
from ledger import services as svc
from ledger.charts import (
    NPO_STANDARDS,
    STANDARDS,
    load_chart,
    load_layout,
    load_transition,
    statements_for,
    year_end_rules,
)
from ledger.models import Account, AccountPeriodBalance, Book, Fund, Voucher
from ledger.opening import OpeningRow
from tests.conftest import login

Y = 2025
START = dt.date(Y + 1, 1, 1)


# --- the data ---------------------------------------------------------------------------------


def test_npo2024_is_a_standard_with_a_chart_and_both_statements():
    assert "NPO_2024" in STANDARDS and Standard.NPO_2024.value == "NPO_2024"
    assert set(NPO_STANDARDS) == {"NPO_2004", "NPO_2024"}
    chart = load_chart("NPO_2024")
    codes = [a.code for a in chart]
    assert len(codes) == len(set(codes)) == 48
    assert codes == sorted(codes)
    by_code = {a.code: a for a in chart}
    assert (by_code["3101"].type, by_code["3102"].type) == ("net_assets", "net_assets")
    assert by_code["1502"].is_contra and by_code["1701"].type == "asset"
    assert statements_for("NPO_2024") == ["balance_sheet", "activities"]
    # A provisional form says so on the statement and claims no official form code.
    for name in statements_for("NPO_2024"):
        layout = load_layout("NPO_2024", name)
        assert layout.form_code is None
        assert "[verify]" in (layout.note_zh or "") and "[verify]" in (layout.note_en or "")


def test_every_code_used_by_the_layouts_and_the_year_end_rules_is_in_the_chart():
    codes = {a.code for a in load_chart("NPO_2024")}
    for name in statements_for("NPO_2024"):
        used = {a.code for ln in load_layout("NPO_2024", name).lines for a in ln.accounts}
        assert used and used <= codes, used - codes
    rules = year_end_rules("NPO_2024")
    assert rules.method == "npo" and rules.status == "verify"
    assert set(rules.accounts.values()) <= codes


def test_the_mapping_covers_every_npo2004_account_onto_an_npo2024_account_of_the_same_kind():
    old = {a.code: a for a in load_chart("NPO_2004")}
    new = {a.code: a for a in load_chart("NPO_2024")}
    rows = load_transition("NPO_2004", "NPO_2024")
    assert {r.old_code for r in rows} == set(old)
    for r in rows:
        assert r.new_code in new
        assert (old[r.old_code].type, old[r.old_code].normal_side) == (
            new[r.new_code].type,
            new[r.new_code].normal_side,
        )
        # Nothing is established from two sources yet (README.md): every row says so.
        assert r.status == "verify"


def test_a_sub_account_keeps_its_suffix_through_the_mapping():
    mapping = {r.old_code: r for r in load_transition("NPO_2004", "NPO_2024")}
    assert transition.map_code("10020101", mapping)[0] == "10020101"
    assert transition.map_code("3102", mapping)[0] == "3102"
    assert transition.map_code("9999", mapping) is None


# --- books ------------------------------------------------------------------------------------


@pytest.fixture
def admin(user_factory):
    return user_factory(is_platform_admin=True)


def test_onboarding_offers_npo2024_to_a_foundation_only(admin, community_factory):
    community = community_factory()
    made = onboarding.create_organisation(
        community,
        name="社区发展基金会（2026）",
        slug="cdf-2026",
        kind="foundation",
        standard="NPO_2024",
        first_month="2026-01",
        today=dt.date(2026, 12, 3),
        actor=admin,
    )
    assert (made.organisation.standard, made.book.chart) == ("NPO_2024", "NPO_2024")
    codes = set(db.session.scalars(sa.select(Account.code).where(Account.book_id == made.book.id)))
    # Restricted and unrestricted revenue sub-accounts, as in an NPO_2004 book.
    assert {"410101", "410102", "440101", "440102", "3101", "3102"} <= codes
    # The default for a foundation stays NPO_2004; an enterprise cannot take NPO_2024.
    assert KIND_STANDARD[OrganisationKind.FOUNDATION] == Standard.NPO_2004
    with pytest.raises(InvalidInput) as e:
        onboarding.create_organisation(
            community,
            name="社区企业",
            slug="ce",
            kind="enterprise",
            standard="NPO_2024",
            first_month="2026-01",
            actor=admin,
        )
    assert "standard" in e.value.errors
    assert db.session.scalar(sa.select(Organisation.id).where(Organisation.slug == "ce")) is None


def test_onboarding_page_lists_npo2024(app, admin, community_factory):
    community = community_factory()
    c = app.test_client()
    login(c, admin.username)
    page = c.get(f"/platform/communities/{community.id}").get_data(as_text=True)
    assert 'value="NPO_2024"' in page


# --- a 2025 book and its 2026 successor -------------------------------------------------------


class Books:
    """The foundation's 2025 book (NPO_2004) and its 2026 book (NPO_2024), one preparer and one
    reviewer holding roles in both."""

    def __init__(self, organisation_factory, user_factory):
        old_org = organisation_factory(kind="foundation", name="社区发展基金会")
        new_org = organisation_factory(
            kind="foundation",
            standard="NPO_2024",
            name="社区发展基金会（2026）",
            community=old_org.community,
        )
        self.old = svc.create_book(old_org)
        self.new = svc.create_book(new_org)
        self.prep, self.rev = user_factory(), user_factory()
        for org in (old_org, new_org):
            grant_role(self.prep, org, "preparer")
            grant_role(self.rev, org, "reviewer")
        db.session.flush()

    def acc(self, book: Book, code: str) -> Account:
        return db.session.scalar(
            sa.select(Account).where(Account.book_id == book.id, Account.code == code)
        )

    def post(self, book: Book, d: dt.date, *specs) -> Voucher:
        ls = [
            svc.LineInput(
                account_id=self.acc(book, code).id,
                debit=dr,
                credit=cr,
                fund_id=fund.id if fund is not None else None,
            )
            for code, dr, cr, fund in specs
        ]
        v = svc.create_voucher(book, svc.VoucherInput(d, "测试", ls), actor=self.prep)
        svc.submit_voucher(v, actor=self.prep)
        svc.approve_voucher(v, actor=self.rev)
        return svc.post_voucher(v, actor=self.rev)

    def fill_2025(self) -> None:
        """A year of a foundation's life in fen, restricted money included (see the totals)."""
        old = self.old
        self.wp = svc.create_fund(old, "WP", "邻里互助微基金", restricted=True, purpose="互助")
        self.gen = svc.create_fund(old, "GEN", "社区基金", restricted=False)
        svc.add_sub_account(self.acc(old, "1002"), "100201", "工商银行", "ICBC")
        d = dt.date(Y, 3, 1)
        wp = self.wp
        self.post(old, d, ("100201", 50_000_00, 0, wp), ("410102", 0, 50_000_00, wp))
        self.post(old, d, ("100201", 20_000_00, 0, None), ("410101", 0, 20_000_00, None))
        self.post(old, d, ("100201", 10_000_00, 0, wp), ("440102", 0, 10_000_00, wp))
        self.post(old, d, ("100201", 4_000_00, 0, self.gen), ("4201", 0, 4_000_00, self.gen))
        self.post(old, d, ("1501", 8_000_00, 0, None), ("100201", 0, 8_000_00, None))
        self.post(old, d, ("5201", 1_000_00, 0, None), ("1502", 0, 1_000_00, None))
        self.post(old, d, ("5101", 15_000_00, 0, wp), ("100201", 0, 15_000_00, wp))
        self.post(old, d, ("1001", 500_00, 0, None), ("100201", 0, 500_00, None))
        self.post(old, d, ("5201", 2_000_00, 0, None), ("2209", 0, 2_000_00, None))
        self.post(old, d, ("1701", 3_000_00, 0, None), ("2601", 0, 3_000_00, None))

    def close_2025(self) -> None:
        svc.generate_year_end_closing(self.old, Y, actor=self.rev)


@pytest.fixture
def books(organisation_factory, user_factory) -> Books:
    b = Books(organisation_factory, user_factory)
    b.fill_2025()
    return b


def balances(book: Book, through: dt.date) -> dict[tuple[str, str], int]:
    """{(account code, fund code): debit − credit} through ``through`` (zero balances left out)."""
    apb = AccountPeriodBalance
    funds = {
        i: code
        for i, code in db.session.execute(
            sa.select(Fund.id, Fund.code).where(Fund.book_id == book.id)
        )
    }
    rows = db.session.execute(
        sa.select(Account.code, apb.fund_key, sa.func.sum(apb.debit - apb.credit))
        .join(Account, Account.id == apb.account_id)
        .where(apb.book_id == book.id, apb.period_key <= through.year * 100 + through.month)
        .group_by(Account.code, apb.fund_key)
    ).all()
    return {(code, funds.get(fk, "")): int(net) for code, fk, net in rows if net}


def column(statement, period: str, value: str = "amount") -> dict[str, int | None]:
    i = next(n for n, c in enumerate(statement.columns) if c.period == period and c.value == value)
    return {ln.key: ln.amounts[i] for ln in statement.lines}


def post_openings(b: Books) -> Voucher:
    opening.submit_opening(b.new, actor=b.prep)
    opening.approve_opening(b.new, actor=b.rev)
    return opening.post_opening(b.new, actor=b.rev)


def test_transition_moves_every_balance_and_keeps_restricted_and_unrestricted(books):
    b = books
    b.close_2025()
    before = balances(b.old, dt.date(Y, 12, 31))
    assert before[("3102", "WP")] == -(50_000_00 + 10_000_00 - 15_000_00)
    assert before[("3101", "")] == -(20_000_00 - 1_000_00 - 2_000_00)
    assert before[("3101", "GEN")] == -4_000_00
    unrecorded = [  # donated goods never booked: Dr the asset, Cr unrestricted net assets
        OpeningRow(account="1201", debit="1,200.00"),
        OpeningRow(account="3101", credit="1200.00"),
    ]
    plan, draft = transition.open_from_npo2004(b.old, b.new, actor=b.prep, adjustments=unrecorded)
    assert draft.date == START and draft.kind == "opening" and draft.status == "draft"
    assert plan.created_funds == ["GEN", "WP"] and plan.created_accounts == ["100201"]
    assert set(plan.to_verify) == {code for code, _f in before}  # every row is [verify]
    new_funds = {
        f.code: f for f in db.session.scalars(sa.select(Fund).where(Fund.book_id == b.new.id))
    }
    assert (new_funds["WP"].restricted, new_funds["WP"].purpose, new_funds["GEN"].restricted) == (
        True,
        "互助",
        False,
    )
    assert b.acc(b.new, "100201").name_zh == "工商银行"
    post_openings(b)
    after = balances(b.new, START)
    expected = dict(before)
    expected[("1201", "")] = 1_200_00
    expected[("3101", "")] -= 1_200_00
    assert after == expected
    # Totals: debits = credits, and the net assets by restriction are carried over.
    assert sum(after.values()) == 0
    assert after[("3102", "WP")] == before[("3102", "WP")]


def test_statements_of_the_new_book_agree_with_the_old_books_year_end(books):
    b = books
    b.close_2025()
    old_bs = column(reports.balance_sheet(b.old, as_of=dt.date(Y, 12, 31)), "period_end")
    transition.open_from_npo2004(b.old, b.new, actor=b.prep)
    post_openings(b)
    bs = reports.balance_sheet(b.new, as_of=dt.date(Y + 1, 1, 31))
    assert bs.standard == "NPO_2024" and bs.form_code is None and "[verify]" in bs.note_en
    assert bs.checks["balanced.period_end"] and bs.checks["every_account_mapped"]
    new_bs = column(bs, "period_end")
    assert new_bs == old_bs
    assert new_bs["restricted_net_assets"] == 45_000_00
    assert new_bs["unrestricted_net_assets"] == 17_000_00 + 4_000_00
    assert new_bs["total_assets"] == 71_000_00
    # 2026: a restricted donation and its use; the 业务活动表 shows them and the release.
    wp = db.session.scalar(sa.select(Fund).where(Fund.book_id == b.new.id, Fund.code == "WP"))
    d = dt.date(Y + 1, 2, 10)
    b.post(b.new, d, ("100201", 600_00, 0, wp), ("410102", 0, 600_00, wp))
    b.post(b.new, d, ("5101", 250_00, 0, wp), ("100201", 0, 250_00, wp))
    act = reports.income_statement(b.new, start=dt.date(Y + 1, 2, 1), end=dt.date(Y + 1, 2, 28))
    assert act.statement == "activities" and "[verify]" in act.note_zh
    restricted = column(act, "year_to_date", "restricted")
    unrestricted = column(act, "year_to_date", "unrestricted")
    assert restricted["donations"] == 600_00 and unrestricted["programme_costs"] == 250_00
    fund_rows = reports.fund_statement(b.new, start=dt.date(Y + 1, 1, 1), end=d)
    assert {r.fund.code: r.closing for r in fund_rows.rows}["WP"] == 45_000_00 + 600_00 - 250_00


def test_year_end_closing_of_an_npo2024_book_follows_the_npo_rules(
    organisation_factory, user_factory
):
    """Mechanics only (a 2025 date in an NPO_2024 book): today is before any 2026 year end."""
    b = Books(organisation_factory, user_factory)
    wp = svc.create_fund(b.new, "WP", "邻里互助微基金", restricted=True)
    d = dt.date(Y, 5, 1)
    b.post(b.new, d, ("1002", 100_00, 0, wp), ("410102", 0, 100_00, wp))
    b.post(b.new, d, ("1002", 40_00, 0, None), ("4201", 0, 40_00, None))
    b.post(b.new, d, ("5101", 30_00, 0, wp), ("1002", 0, 30_00, wp))
    made = svc.generate_year_end_closing(b.new, Y, actor=b.rev)
    assert len(made) == 2
    end = balances(b.new, dt.date(Y, 12, 31))
    assert end[("3102", "WP")] == -(100_00 - 30_00)
    assert end[("3101", "")] == -40_00
    assert ("3101", "WP") not in end  # the fund's spending was released: 3102 → 3101 nets out


def test_an_unclosed_year_is_refused_naming_the_accounts(books):
    with pytest.raises(Conflict) as e:
        transition.plan_transition(books.old, books.new, actor=books.prep)
    assert "410102" in str(e.value.message) and "5101" in str(e.value.message)
    assert opening.opening_draft(books.new) is None


def test_accounts_no_mapping_row_covers_are_refused_by_name(books, monkeypatch):
    books.close_2025()
    full = transition._mapping()
    monkeypatch.setattr(
        transition, "_mapping", lambda: {k: v for k, v in full.items() if k not in ("1501", "1002")}
    )
    with pytest.raises(InvalidInput) as e:
        transition.open_from_npo2004(books.old, books.new, actor=books.prep)
    assert e.value.code == "unmapped_accounts"
    assert e.value.errors["mapping"] == ["100201 工商银行", "1501 固定资产"]
    assert opening.opening_draft(books.new) is None
    assert db.session.scalar(sa.select(Fund.id).where(Fund.book_id == books.new.id)) is None


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        (
            [OpeningRow(account="1201", debit="10.00"), OpeningRow(account="4101", credit="10.00")],
            "net assets",
        ),
        (
            [OpeningRow(account="1201", debit="10.00"), OpeningRow(account="3101", credit="9.00")],
            "do not balance",
        ),
        ([OpeningRow(account="1999", debit="10.00")], "no account 1999"),
    ],
)
def test_bad_adjustments_are_refused_and_nothing_is_left_behind(books, english, rows, needle):
    books.close_2025()
    with pytest.raises(InvalidInput) as e:
        transition.open_from_npo2004(books.old, books.new, actor=books.prep, adjustments=rows)
    assert needle in " ".join(str(m) for ms in e.value.errors.values() for m in ms)
    assert opening.opening_draft(books.new) is None
    # The funds and the sub-account the plan had made are gone with the refusal.
    assert db.session.scalar(sa.select(Fund.id).where(Fund.book_id == books.new.id)) is None
    assert books.acc(books.new, "100201") is None


def test_wrong_editions_and_a_fund_that_changed_its_restriction_are_refused(books):
    books.close_2025()
    with pytest.raises(InvalidInput):
        transition.plan_transition(books.new, books.old, actor=books.prep)
    with pytest.raises(InvalidInput):
        transition.plan_transition(books.old, books.old, actor=books.prep)
    svc.create_fund(books.new, "WP", "邻里互助微基金", restricted=False)
    with pytest.raises(InvalidInput) as e:
        transition.plan_transition(books.old, books.new, actor=books.prep)
    assert "WP" in str(e.value.errors["funds"])


def test_a_user_without_a_role_in_the_old_book_may_not_read_it_into_the_new(books, user_factory):
    books.close_2025()
    stranger = user_factory()
    grant_role(stranger, books.new.organisation, "preparer")
    with pytest.raises(NotPermitted):
        transition.plan_transition(books.old, books.new, actor=stranger)


# --- CLI and pages ----------------------------------------------------------------------------


def invoke(runner, b: Books, *extra):
    db.session.flush()
    return runner.invoke(
        args=[
            "ledger",
            "transition-npo2024",
            "--from-organisation",
            str(b.old.organisation_id),
            "--to-organisation",
            str(b.new.organisation_id),
            "--user",
            b.prep.username,
            "--lang",
            "en",
            *extra,
        ]
    )


def test_cli_opens_the_draft_and_prints_the_mapping(runner, books, tmp_path):
    books.close_2025()
    adj = tmp_path / "unrecorded.csv"
    adj.write_text("科目编码,借方,贷方\n1201,300.00,\n3101,,300.00\n", encoding="utf-8")
    result = invoke(runner, books, "--adjustments", str(adj))
    assert result.exit_code == 0, result.output
    assert "Draft openings" in result.output and "2026-01-01" in result.output
    assert "3102 限定性净资产 → 3102 [WP] Cr 45000.00 CNY" in result.output
    assert "CNY: debits 72300.00 = credits 72300.00" in result.output
    assert "[verify]" in result.output
    draft = opening.opening_draft(books.new)
    assert draft is not None and draft.date == START


def test_cli_refuses_an_unclosed_year_and_stores_nothing(runner, books):
    result = invoke(runner, books)
    assert result.exit_code == 1
    assert "Close 2025 first" in result.output
    assert opening.opening_draft(books.new) is None


def test_book_pages_name_the_edition_and_reports_render(app, books):
    books.close_2025()
    transition.open_from_npo2004(books.old, books.new, actor=books.prep)
    post_openings(books)
    db.session.flush()
    with app.test_client() as c:
        login(c, books.rev.username)
        new_home = c.get(f"/books/{books.new.organisation_id}/").get_data(as_text=True)
        old_home = c.get(f"/books/{books.old.organisation_id}/").get_data(as_text=True)
        bs = c.get(f"/books/{books.new.organisation_id}/reports/balance-sheet?as_of=2026-01-31")
        act = c.get(
            f"/books/{books.new.organisation_id}/reports/income-statement"
            "?start=2026-01-01&end=2026-01-31"
        )
    assert "财会〔2024〕25号" in new_home and "财会〔2004〕7号" in old_home
    assert bs.status_code == 200 and act.status_code == 200
    assert "[verify]" in bs.get_data(as_text=True)
    assert "45,000.00" in bs.get_data(as_text=True) or "45000.00" in bs.get_data(as_text=True)
