"""Financial statements in the official line layouts (ledger/charts/layouts, DOMAIN.md §5).

* Balance sheet (资产负债表): closing balances at the period end and at the start of the year
  (年初数 = balances after everything dated before 1 January).
* Flow statement: SME 利润表, NPO 业务活动表, trust-fund 收支表: movements of this period
  (本月 / 本期) and of the year to date (本年累计), without the year-end closing vouchers (结转),
  which would otherwise zero every revenue and expense line in December.

Amounts follow ledger/charts/README.md: each account's balance in its normal direction, keyed
by the posting account's own code; a layout reference to ``X`` covers ``X`` and every
sub-account code extending it, and only posting accounts hold amounts, so nothing is counted
twice. Statements are in the book's base unit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import InvalidInput

from ..charts import (
    NPO_STANDARDS,
    StatementLayout,
    evaluate,
    load_layout,
    normal_balance,
    statements_for,
    year_end_rules,
)
from ..models import Account, Book, Fund, Voucher, VoucherKind, VoucherLine
from .balances import (
    Filters,
    Key,
    add_sums,
    book_accounts,
    check_date,
    check_fund,
    check_range,
    month_end,
    posted_lines,
    range_sums,
    report_head,
)

__all__ = [
    "Statement",
    "StatementColumn",
    "StatementLine",
    "balance_sheet",
    "cash_accounts",
    "income_statement",
]

# Column headings: data in both languages, like the layouts' own labels.
_PERIOD_LABELS = {
    # period id: (SME zh, NPO / trust zh, en)
    "period_end": ("期末余额", "期末数", "At period end"),
    "year_start": ("年初余额", "年初数", "At start of year"),
    "year_to_date": ("本年累计金额", "本年累计数", "Year to date"),
    "current_month": ("本月金额", "本月数", "This month"),
    "current_period": ("本期金额", "本期数", "This period"),
    "prior_year": ("上年金额", "上年同期数", "Same period last year"),
    "current_quarter": ("本季度金额", "本季度数", "This quarter"),
    "current_half": ("本半年度金额", "本半年度数", "This half-year"),
    # annual statements: this year and the prior full year (利润表 上年金额; NPO 总说明 六)
    "current_year": ("本年金额", "本年数", "This year"),
    "prior_full_year": ("上年金额", "上年数", "Prior year"),
}
_VALUE_LABELS = {
    "amount": ("", ""),
    "unrestricted": ("非限定性", "Unrestricted"),
    "restricted": ("限定性", "Restricted"),
    "total": ("合计", "Total"),
}
# NPO 业务活动表 line 40: 限定性净资产转为非限定性净资产 (a release, not an account balance).
NPO_RELEASE_LINE = "released_from_restriction"
NPO_RESTRICTED_NET_ASSETS = "3102"


@dataclass(frozen=True)
class StatementColumn:
    """One amount column: a comparison period (``period``, e.g. ``period_end``) and, for the
    业务活动表, a restriction class (``value``: unrestricted / restricted / total)."""

    key: str  # "period_end", "year_to_date.restricted", …
    period: str
    value: str
    start: dt.date | None  # None for a balance (a point in time)
    end: dt.date
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class StatementLine:
    line_no: int | None  # 行次
    key: str
    label_zh: str
    label_en: str
    kind: str  # heading | item | subtotal | total
    indent: int
    memo: bool  # a 其中 breakdown: printed, never part of a total
    side: str | None  # balance sheets: left (assets) / right
    amounts: tuple[int | None, ...]  # one per column; None on headings


@dataclass(frozen=True)
class Statement:
    book_id: int
    standard: str
    statement: str  # balance_sheet | income_statement | activities | income_expenditure
    form_code: str | None  # 会小企01表 …; None for our own formats
    title_zh: str
    title_en: str
    unit: str
    exponent: int
    fund_id: int | None
    start: dt.date | None  # None for a balance sheet
    end: dt.date  # the balance sheet's date, or the period's last day
    columns: tuple[StatementColumn, ...]
    lines: tuple[StatementLine, ...]
    checks: dict[str, bool] = field(default_factory=dict)
    note_zh: str | None = None
    note_en: str | None = None

    def line(self, key: str) -> StatementLine:
        for ln in self.lines:
            if ln.key == key:
                return ln
        raise KeyError(key)

    def amount(self, key: str, column: str) -> int | None:
        idx = [c.key for c in self.columns].index(column)
        return self.line(key).amounts[idx]

    @property
    def ok(self) -> bool:
        return all(self.checks.values())


# --- helpers ----------------------------------------------------------------------------------


def _layout(book: Book, kind: int) -> StatementLayout:
    """``kind``: 0 for the balance sheet, 1 for the flow statement of the book's chart."""
    try:
        names = statements_for(book.chart)
    except KeyError:
        raise InvalidInput(
            _l(
                "Financial statements need a book kept in a standard chart of accounts "
                "(SME_2011, NPO_2004, NPO_2024 or TRUST_FUND); this book uses its own chart. "
                "Use the trial balance instead."
            ),
            code="needs_standard_chart",
        ) from None
    return load_layout(book.chart, names[kind])


def _code_balances(
    accounts: Mapping[int, Account],
    sums: Mapping[Key, list[int]],
    keep: Callable[[Key], bool] | None = None,
) -> dict[str, int]:
    """Normal-direction balances per posting account code (``keep(key)`` filters the sums)."""
    out: dict[str, int] = {}
    for k, (dr, cr) in sums.items():
        if keep is not None and not keep(k):
            continue
        acc = accounts[k[0]]
        out[acc.code] = out.get(acc.code, 0) + normal_balance(acc.normal_side, dr, cr)
    return out


def _restricted_funds(book: Book) -> set[int]:
    return set(
        db.session.scalars(sa.select(Fund.id).where(Fund.book_id == book.id, Fund.restricted))
    )


def _period_label(book: Book, period: str) -> tuple[str, str]:
    sme_zh, other_zh, en = _PERIOD_LABELS.get(period, (period, period, period))
    return (sme_zh if book.chart == "SME_2011" else other_zh), en


def _column_label(book: Book, period: str, value: str) -> tuple[str, str]:
    pzh, pen = _period_label(book, period)
    vzh, ven = _VALUE_LABELS.get(value, (value, value))
    return (f"{pzh}·{vzh}" if vzh else pzh), (f"{pen}: {ven}" if ven else pen)


def _unmapped(layout: StatementLayout, codes) -> set[str]:
    """Codes that no non-memo line of ``layout`` reaches."""
    refs = {a.code for ln in layout.lines if ln.kind == "item" and not ln.memo for a in ln.accounts}
    return {c for c in codes if not any(c[:n] in refs for n in range(1, len(c) + 1))}


def _lines(
    layout: StatementLayout,
    values: list[dict[str, int]],
    details: Details | None = None,
) -> tuple[StatementLine, ...]:
    """The statement's lines; a 其中 line the book cannot fill (``details.absent``) has None
    amounts (shown "—", never 0), and an nth-sub-account line takes that account's name."""
    absent = details.absent if details else set()
    labels = details.labels if details else {}
    out = []
    for ln in layout.lines:
        zh, en = labels.get(ln.key, (ln.label_zh, ln.label_en))
        blank = ln.kind == "heading" or ln.key in absent
        out.append(
            StatementLine(
                line_no=ln.line_no,
                key=ln.key,
                label_zh=zh,
                label_en=en,
                kind=ln.kind,
                indent=ln.indent,
                memo=ln.memo,
                side=ln.side,
                amounts=tuple(None if blank else v[ln.key] for v in values),
            )
        )
    return tuple(out)


@dataclass
class Details:
    """How the 其中 lines without accounts are filled in a book (``LayoutLine.detail``)."""

    codes: dict[str, list[str]]  # line key → the account codes (prefixes) that fill it
    absent: set[str]  # lines the book cannot fill
    labels: dict[str, tuple[str, str]]  # nth-sub-account lines: that account's name

    def overrides(self, bal: Mapping[str, int]) -> dict[str, int]:
        return {
            key: sum(v for code, v in bal.items() if code.startswith(tuple(prefixes)))
            for key, prefixes in self.codes.items()
        }


def _details(layout: StatementLayout, accounts: Mapping[int, Account]) -> Details:
    by_code = {a.code: a for a in accounts.values()}
    d = Details(codes={}, absent=set(), labels={})
    for ln in layout.lines:
        if ln.kind != "item" or not ln.memo or ln.accounts:
            continue
        ref = ln.detail
        if ref is None:
            d.absent.add(ln.key)
            continue
        parent = by_code.get(ref.parent)
        children = sorted(
            (a for a in by_code.values() if parent is not None and a.parent_id == parent.id),
            key=lambda a: a.code,
        )
        if ref.nth is not None:
            chosen = children[ref.nth - 1 : ref.nth]
            if chosen:
                d.labels[ln.key] = (chosen[0].name_zh, chosen[0].name_en or chosen[0].name_zh)
        else:
            below = [a for c, a in by_code.items() if c.startswith(ref.parent) and c != ref.parent]
            chosen = [a for a in below if any(n in a.name_zh for n in ref.names)]
        if chosen:
            d.codes[ln.key] = [a.code for a in chosen]
        else:
            d.absent.add(ln.key)
    return d


def _grand_totals(layout: StatementLayout) -> tuple[str, str]:
    """Keys of the balance sheet's two grand totals (assets; liabilities and equity)."""
    left = [ln.key for ln in layout.lines if ln.kind == "total" and ln.side == "left"]
    right = [ln.key for ln in layout.lines if ln.kind == "total" and ln.side == "right"]
    return left[-1], right[-1]


AGENCY_MARK = "受托代理"


def cash_accounts(book: Book, accounts: Mapping[int, Account]) -> tuple[set[int], set[int]]:
    """(cash, agency cash): ids of the accounts of the balance sheet's 货币资金 line (``cash``)
    — the one definition of cash the balance sheet and the cash-flow statement share — and,
    under the NPO system, of the cash sub-accounts held as agent, which leave 货币资金 for the
    受托代理资产 line (2004 system, 受托代理资产 科目说明: cash received as agent may be kept under
    现金 / 银行存款 in a sub-account named 受托代理资产; a sub-account whose name, or whose
    parent's name, contains 受托代理 is one).
    """
    layout = _layout(book, 0)
    codes = [a.code for a in layout.line("cash").accounts]
    in_cash = {i: a for i, a in accounts.items() if any(a.code.startswith(c) for c in codes)}
    agency: set[int] = set()
    if book.chart in NPO_STANDARDS:
        marked = [a.code for a in in_cash.values() if AGENCY_MARK in a.name_zh]
        agency = {i for i, a in in_cash.items() if any(a.code.startswith(m) for m in marked)}
    return set(in_cash) - agency, agency


def _rolled(bal: Mapping[str, int], prefix: str) -> int:
    return sum(v for code, v in bal.items() if code.startswith(prefix))


def _presentation(
    book: Book,
    result: Mapping[str, int],
    bal: Mapping[str, int],
    accounts: Mapping[int, Account],
    agency_cash: set[str],
) -> dict[str, int]:
    """Balance-sheet lines whose official rule is not a signed account sum (``overrides``).

    * SME 会小企01表 (小企业会计准则 资产负债表 填列说明): 应收账款 (行4) is the debit balance of
      the **account** 1122, a credit balance being shown under 预收账款 (行34), and 预收账款 the
      credit balance of 2203, a debit balance shown under 应收账款; likewise 预付账款 (行5) /
      应付账款 (行33) for 1123 / 2202. The rule works on the account's balance (科目余额, all its
      sub-accounts together), not sub-account by sub-account as the general standard's
      明细科目 rule does.
    * NPO 会民非01表: cash held as agent (a 现金 / 银行存款 sub-account named 受托代理资产,
      :func:`cash_accounts`) leaves 货币资金 (行1) for 受托代理资产 (行51); 长期投资减值准备
      (1421) is split by its sub-accounts: a sub-account whose name says 一年内到期 reduces
      行15, one that says 债权 reduces 长期债权投资 (行24), the rest reduces 长期股权投资 (行21); a
      1402 sub-account named 一年内到期 moves to 行15 (2004 制度 报表说明).
    """
    out: dict[str, int] = {}
    if book.chart == "SME_2011":
        for debit_acc, credit_acc, debit_line, credit_line in (
            ("1122", "2203", "accounts_receivable", "receipts_in_advance"),
            ("1123", "2202", "prepayments", "accounts_payable"),
        ):
            d, c = _rolled(bal, debit_acc), _rolled(bal, credit_acc)
            out[debit_line] = max(d, 0) + max(-c, 0)
            out[credit_line] = max(c, 0) + max(-d, 0)
    elif book.chart in NPO_STANDARDS:
        agency = sum(v for code, v in bal.items() if code in agency_cash)
        if agency:
            out["cash"] = result["cash"] - agency
            out["agency_assets"] = result["agency_assets"] + agency
        names = {a.code: a.name_zh for a in accounts.values()}

        def named(code: str, word: str) -> bool:
            # the account or one of its parents carries ``word`` in its name
            return any(word in names.get(code[:n], "") for n in range(5, len(code) + 1))

        imp = {"current": 0, "debt": 0, "equity": 0}
        for code, v in bal.items():
            if code.startswith("1421"):
                part = (
                    "current"
                    if named(code, "一年内到期")
                    else "debt"
                    if named(code, "债权")
                    else "equity"
                )
                imp[part] += v
        due = sum(v for c, v in bal.items() if c.startswith("1402") and named(c, "一年内到期"))
        if imp["current"] or imp["debt"] or due:
            out["long_term_equity_investments"] = _rolled(bal, "1401") - imp["equity"]
            out["long_term_debt_investments"] = _rolled(bal, "1402") - due - imp["debt"]
            out["debt_investments_due_within_one_year"] = due - imp["current"]
    return out


# --- balance sheet ----------------------------------------------------------------------------


def balance_sheet(book: Book, *, as_of: dt.date, fund_id: int | None = None) -> Statement:
    """资产负债表 at ``as_of``, with the start of that year (年初数) as comparison column, in the
    official column order of the book's standard.

    Revenue and expenses not yet closed are part of 未分配利润 / 非限定性净资产 (see the
    layout notes), so the sheet balances before and after the year-end closing. NPO: revenue of
    restricted funds not yet closed to 3102 is moved from line 101 to line 105.

    ``checks``: ``balanced.<period>`` (assets total = liabilities and equity total) and
    ``every_account_mapped`` (every account with a balance appears on some line). A fund's
    sheet need not balance: its bank lines often carry no fund.
    """
    as_of = check_date(as_of, "as_of")
    check_fund(book, fund_id)
    layout = _layout(book, 0)
    accounts = book_accounts(book)
    unit = book.base_unit
    restricted = _restricted_funds(book) if book.chart in NPO_STANDARDS else set()
    agency_cash = {accounts[i].code for i in cash_accounts(book, accounts)[1]}
    dates = {"period_end": as_of, "year_start": dt.date(as_of.year, 1, 1) - dt.timedelta(days=1)}
    columns, values = [], []
    assets_key, claims_key = _grand_totals(layout)
    checks: dict[str, bool] = {}
    unmapped: set[str] = set()
    # The year start reads all earlier months; the period end adds only this year's months.
    f = Filters(fund_id=fund_id, unit=unit)
    at_year_start = range_sums(book, None, dates["year_start"], f, by_fund=True)
    at_period_end = range_sums(
        book, dates["year_start"] + dt.timedelta(days=1), as_of, f, by_fund=True
    )
    for k, (dr, cr) in at_year_start.items():
        add_sums(at_period_end, k, dr, cr)
    sums_at = {"year_start": at_year_start, "period_end": at_period_end}
    for period in layout.periods:
        d = dates[period]
        sums = sums_at[period]
        bal = _code_balances(accounts, sums)
        unmapped |= _unmapped(layout, [code for code, v in bal.items() if v])
        result = evaluate(layout, bal)
        overrides = _presentation(book, result, bal, accounts, agency_cash)
        if restricted:
            # Not yet closed: restricted revenue belongs to 限定性净资产, less what its use has
            # already released (restricted-fund expenses), as the year-end closing will post.
            pending = sum(
                _code_balances(
                    accounts,
                    sums,
                    keep=lambda k: accounts[k[0]].type == "revenue" and k[2] in restricted,
                ).values()
            ) - sum(
                _code_balances(
                    accounts,
                    sums,
                    keep=lambda k: accounts[k[0]].type == "expense" and k[2] in restricted,
                ).values()
            )
            overrides["unrestricted_net_assets"] = result["unrestricted_net_assets"] - pending
            overrides["restricted_net_assets"] = result["restricted_net_assets"] + pending
        if overrides:
            result = evaluate(layout, bal, overrides=overrides)
        values.append(result)
        zh, en = _period_label(book, period)
        columns.append(
            StatementColumn(
                key=period,
                period=period,
                value="amount",
                start=None,
                end=d,
                label_zh=zh,
                label_en=en,
            )
        )
        checks[f"balanced.{period}"] = result[assets_key] == result[claims_key]
    checks["every_account_mapped"] = not unmapped
    return Statement(
        **report_head(book, unit, fund_id, None, as_of),
        **_layout_head(book, layout),
        columns=tuple(columns),
        lines=_lines(layout, values),
        checks=checks,
    )


# --- income statement / 业务活动表 / 收支表 -----------------------------------------------


def income_statement(
    book: Book, *, start: dt.date, end: dt.date, fund_id: int | None = None
) -> Statement:
    """The flow statement of the book's standard for [start, end] and the year to date
    (1 January of ``end``'s year to ``end``): SME 利润表, NPO 业务活动表, trust-fund 收支表.

    Movements exclude the year-end closing vouchers. The NPO 业务活动表 has three columns per
    period, by the restriction of each line's fund (DOMAIN.md §5.1, 2004 system):

    * restricted (限定性): revenue posted with a restricted fund;
    * unrestricted (非限定性): all other revenue and every expense (under the 2004 system all
      expenses are unrestricted; spending a restricted fund releases its restriction);
    * line 40 (限定性净资产转为非限定性净资产) is the release X, shown +X unrestricted, −X
      restricted, 0 in total. Restricted money is released when it is used: X is the
      restricted-fund expenses of the period (what the year-end closing will transfer 3102 →
      3101, so the interim and the annual statements agree), plus transfers between 3102 and
      3101 posted as ordinary vouchers (a 3101 → 3102 transfer counts negative). A voucher that
      debits 3102 against other accounts (a prior-period adjustment) is no release, and the
      closing vouchers' own release is not counted twice (:func:`_net_asset_transfers`).

    ``checks``: ``result_is_revenue_minus_expenses.<column>``: the statement's bottom line
    equals revenue − expenses of the accounts (plus line 40 where it applies), i.e. the layout
    reaches every revenue and expense account.
    """
    start, end = check_range(start, end)
    if start.year != end.year:
        raise InvalidInput(
            _l(
                "A statement covers a period within one year, "
                "so that its year-to-date column makes sense."
            ),
            errors={"start": [str(_l("Choose a start date in the same year as the end date."))]},
            code="period_across_years",
        )
    check_fund(book, fund_id)
    layout = _layout(book, 1)
    accounts = book_accounts(book)
    unit = book.base_unit
    npo = book.chart in NPO_STANDARDS
    restricted = _restricted_funds(book) if npo else set()
    result_key = [ln.key for ln in layout.lines if ln.kind == "total"][-1]
    annual = start == dt.date(end.year, 1, 1) and end == dt.date(end.year, 12, 31)
    ranges = {
        "year_to_date": (dt.date(end.year, 1, 1), end),
        "current_month": (start, end),
        "current_period": (start, end),
        "current_year": (start, end),
        "prior_year": (dt.date(end.year - 1, 1, 1), dt.date(end.year - 1, 12, 31)),
    }
    # A calendar year shows this year and the prior year (SME 利润表 本年金额 / 上年金额, NPO
    # 本年数 / 上年数); any other period shows the period and the year to date.
    periods = ("current_year", "prior_year") if annual else layout.periods
    types = {acc.code: acc.type for acc in accounts.values()}
    details = _details(layout, accounts)
    columns, values = [], []
    checks: dict[str, bool] = {}
    f = Filters(fund_id=fund_id, unit=unit)

    def flows(a: dt.date, b: dt.date) -> tuple[dict[Key, list[int]], int]:
        sums = range_sums(book, a, b, f, by_fund=True, exclude_closing=True)
        _drop_hand_closings(book, accounts, a, b, f, sums)
        release = 0
        if npo:
            used = _code_balances(
                accounts,
                sums,
                keep=lambda k: accounts[k[0]].type == "expense" and k[2] in restricted,
            )
            release = sum(used.values()) + _net_asset_transfers(book, accounts, a, b, f)
        return sums, release

    # The year to date is this period plus the months before it: the period is read once.
    this_period = flows(start, end)
    year_start = dt.date(end.year, 1, 1)
    prior = flows(*ranges["prior_year"]) if annual and end.year > 1 else ({}, 0)
    if start > year_start:
        earlier, earlier_release = flows(year_start, start - dt.timedelta(days=1))
        year_sums: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
        for part in (earlier, this_period[0]):
            for k, (dr, cr) in part.items():
                add_sums(year_sums, k, dr, cr)
        year_to_date = (year_sums, earlier_release + this_period[1])
    else:
        year_to_date = this_period
    for period in periods:
        a, b = ranges[period]
        sums, release = (
            year_to_date
            if period == "year_to_date"
            else prior
            if period == "prior_year"
            else this_period
        )
        for value in layout.columns:
            keep: Callable[[Key], bool] | None
            if value == "restricted":

                def keep(k: Key) -> bool:
                    return accounts[k[0]].type == "revenue" and k[2] in restricted

                overrides, shift = {NPO_RELEASE_LINE: -release}, -release
            elif value == "unrestricted":

                def keep(k: Key) -> bool:
                    return not (accounts[k[0]].type == "revenue" and k[2] in restricted)

                overrides, shift = {NPO_RELEASE_LINE: release}, release
            else:
                keep, overrides, shift = None, ({NPO_RELEASE_LINE: 0} if npo else {}), 0
            bal = _code_balances(accounts, sums, keep=keep)
            result = evaluate(layout, bal, overrides={**details.overrides(bal), **overrides})
            values.append(result)
            key = period if value == "amount" else f"{period}.{value}"
            zh, en = _column_label(book, _label_of(period, a, b), value)
            columns.append(
                StatementColumn(
                    key=key, period=period, value=value, start=a, end=b, label_zh=zh, label_en=en
                )
            )
            revenue = sum(v for c, v in bal.items() if types.get(c) == "revenue")
            expense = sum(v for c, v in bal.items() if types.get(c) == "expense")
            checks[f"result_is_revenue_minus_expenses.{key}"] = (
                result[result_key] == revenue - expense + shift
            )
    return Statement(
        **report_head(book, unit, fund_id, start, end),
        **_layout_head(book, layout),
        columns=tuple(columns),
        lines=_lines(layout, values, details),
        checks=checks,
    )


def hand_closing_vouchers(
    book: Book, accounts: Mapping[int, Account], a: dt.date, b: dt.date
) -> list[int]:
    """Ids of the ordinary vouchers dated in [a, b] that are closing entries (结转) by their
    accounts: every line is on a revenue or expense account or on an account the standard
    closes them into (year_end.json: 本年利润 3103 / 利润分配 3104 for SME, 3101 / 3102 for NPO,
    the fund balance 3101 for a trust fund, and their sub-accounts), with at least one line of
    each kind. A treasurer who closes by hand (账结法, monthly or at year end) posts exactly
    these; the system's own closing vouchers (kind ``closing``) are left out by ``range_sums``.
    """
    try:
        targets = tuple(year_end_rules(book.chart).accounts.values())
    except KeyError:
        return []
    target_ids = {i for i, acc in accounts.items() if acc.code.startswith(targets)}
    if not target_ids:
        return []
    ln = VoucherLine
    candidates = (
        posted_lines(book, a, b, Filters(account_ids=target_ids))
        .where(Voucher.kind != VoucherKind.CLOSING.value)
        .with_only_columns(ln.voucher_id)
        .distinct()
    )
    q = sa.select(ln.voucher_id, ln.account_id).where(ln.voucher_id.in_(candidates))
    seen: dict[int, set[str]] = defaultdict(set)
    for vid, acc_id in db.session.execute(q):
        acc = accounts[acc_id]
        if acc_id in target_ids:
            seen[vid].add("target")
        elif acc.type in ("revenue", "expense"):
            seen[vid].add("pl")
        else:
            seen[vid].add("other")
    return sorted(v for v, kinds in seen.items() if kinds == {"target", "pl"})


def _net_asset_transfers(
    book: Book, accounts: Mapping[int, Account], a: dt.date, b: dt.date, f: Filters
) -> int:
    """Releases posted as transfers between net-asset classes in [a, b]: ordinary vouchers
    whose every line is on 限定性净资产 (3102) or 非限定性净资产 (3101) and their
    sub-accounts. A debit of 3102 counts as a release (+), a credit (a 3101 → 3102 transfer,
    e.g. a donor re-imposing a restriction) as a negative release, so both are shown on line 40.
    A voucher debiting 3102 against anything else (a prior-period adjustment, a correction) is
    no release; closing vouchers are left out (their release is the restricted-fund spending,
    already counted when it happened)."""
    net_assets = {
        i
        for i, acc in accounts.items()
        if acc.code.startswith(("3101", NPO_RESTRICTED_NET_ASSETS)) and acc.type == "net_assets"
    }
    if not net_assets:
        return 0
    ln = VoucherLine
    touching = (
        posted_lines(book, a, b, Filters(account_ids=net_assets))
        .where(Voucher.kind != VoucherKind.CLOSING.value)
        .with_only_columns(ln.voucher_id)
        .distinct()
    )
    others = (
        sa.select(ln.voucher_id)
        .where(ln.voucher_id.in_(touching), ln.account_id.not_in(list(net_assets)))
        .distinct()
    )
    restricted_ids = [
        i for i in net_assets if accounts[i].code.startswith(NPO_RESTRICTED_NET_ASSETS)
    ]
    q = (
        posted_lines(
            book, a, b, Filters(fund_id=f.fund_id, unit=f.unit, account_ids=restricted_ids)
        )
        .where(
            Voucher.kind != VoucherKind.CLOSING.value,
            ln.voucher_id.in_(touching),
            ln.voucher_id.not_in(others),
        )
        .with_only_columns(sa.func.sum(ln.debit), sa.func.sum(ln.credit))
    )
    dr, cr = db.session.execute(q).one()
    return int(dr or 0) - int(cr or 0)


def _drop_hand_closings(
    book: Book,
    accounts: Mapping[int, Account],
    a: dt.date,
    b: dt.date,
    f: Filters,
    sums: dict[Key, list[int]],
) -> None:
    """Subtract from ``sums`` (keyed by fund) the lines of hand-posted closing entries."""
    ids = hand_closing_vouchers(book, accounts, a, b)
    if not ids:
        return
    ln = VoucherLine
    q = (
        posted_lines(book, a, b, f)
        .where(ln.voucher_id.in_(ids))
        .with_only_columns(
            ln.account_id, ln.unit, sa.func.coalesce(ln.fund_id, 0), ln.debit, ln.credit
        )
    )
    for acc, unit, fk, dr, cr in db.session.execute(q):
        add_sums(sums, (acc, unit, fk, None), -dr, -cr)


def _layout_head(book: Book, layout) -> dict:
    """What a statement takes from its official layout: which form, its titles and notes."""
    return {
        "standard": book.chart,
        "statement": layout.statement,
        "form_code": layout.form_code,
        "title_zh": layout.title_zh,
        "title_en": layout.title_en,
        "note_zh": layout.note_zh,
        "note_en": layout.note_en,
    }


def _label_of(period: str, a: dt.date, b: dt.date) -> str:
    """Which heading a column takes: an interim column is labelled by its period (本月数,
    本季度数, 本半年度数, else 本期数); the annual columns 本年 / 上年."""
    if period == "prior_year":
        return "prior_full_year"
    if period != "current_month":
        return period
    if _whole_month(a, b):
        return "current_month"
    whole = a.day == 1 and b == month_end(b) and a.year == b.year
    if whole and a.month in (1, 4, 7, 10) and b.month == a.month + 2:
        return "current_quarter"
    if whole and a.month in (1, 7) and b.month == a.month + 5:
        return "current_half"
    return "current_period"


def _whole_month(a: dt.date, b: dt.date) -> bool:
    return a.day == 1 and (a.year, a.month) == (b.year, b.month) and b == month_end(b)
