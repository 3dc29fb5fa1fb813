"""Cash-flow statements (现金流量表): SME 会小企03表, NPO 会民非03表 (ledger/charts/layouts).

Cash (and cash equivalents) are the accounts of the balance sheet's 货币资金 line, without the
cash sub-accounts held as agent (受托代理, NPO): one definition, :func:`cash_accounts` in
``statements.py``, serves both statements, so the cash-flow statement ties to the change in
货币资金 by construction and the check ``ties_to_balance_sheet`` proves it on every statement.

Every posted line on a cash account is classified by activity:

1. a treasurer's classification of that line (:class:`~ledger.models.CashFlowClass`, set on
   the cash-flow page or with :func:`classify_cash_line`) wins;
2. otherwise the counter-accounts of its voucher decide, by the rules of
   ``ledger/charts/cash_flow_rules.json`` (longest code prefix; ``in`` for a counter line in
   the credit column, ``out`` for one in the debit column). A voucher's unclassified cash lines
   are netted (a transfer between two cash accounts is no cash flow) and the net is split over
   the counter lines that moved the other way and that a rule assigns, in proportion
   (``largest_remainder``), each taking at most its own amount;
3. what neither decides stays **unclassified**: it is shown on its own line (no 行次, not part of
   the official form), the statement's ``checks["every_cash_movement_classified"]`` is False
   and its note says so, and :func:`unclassified_cash_lines` lists the lines to fix.

Inflow lines (``flow: in``) and outflow lines (``flow: out``) are shown positive, as printed; a
refund (a counter line on the "wrong" side, or a red reversal) reduces the line it belongs to.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import MAX_ID, db
from core.errors import InvalidInput, NotFound
from core.models import Organisation, User

from .. import policy
from ..allocation import largest_remainder
from ..amounts import format_minor as fmt
from ..charts import CashFlowRule, StatementLayout, cash_flow_rules, evaluate, has_cash_flow
from ..charts import load_layout as _load_layout
from ..models import Account, Book, CashFlowClass, Voucher, VoucherLine
from .balances import (
    Filters,
    book_accounts,
    check_range,
    month_end,
    posted_lines,
    range_sums,
    report_head,
)
from .statements import (
    Statement,
    StatementColumn,
    _layout_head,
    _lines,
    _period_label,
    cash_accounts,
)

__all__ = [
    "CashLine",
    "ClassifiedLine",
    "classified_lines",
    "rules_table",
    "cash_flow_layout",
    "cash_flow_statement",
    "classify_cash_line",
    "classification_choices",
    "unclassified_cash_lines",
]

UNCLASSIFIED = "unclassified"
_FLOW_SIGN = {"in": 1, "net": 1, "out": -1}


def cash_flow_layout(book: Book) -> StatementLayout:
    """The cash-flow layout of the book's standard; refused with the reason otherwise."""
    if book.chart not in ("SME_2011", "NPO_2004", "NPO_2024", "TRUST_FUND") or not has_cash_flow(
        book.chart
    ):
        raise InvalidInput(
            _l(
                "A cash-flow statement exists for books kept under 小企业会计准则 (SME_2011) or "
                "民间非营利组织会计制度 (NPO_2004, NPO_2024). The trust fund follows no official "
                "standard and has none; this book cannot have one."
            ),
            code="no_cash_flow_statement",
        )
    return _load_layout(book.chart, "cash_flow")


def classification_choices(book: Book) -> list[tuple[str, str, str]]:
    """The lines a cash movement may be classified to: (key, label_zh, label_en)."""
    layout = cash_flow_layout(book)
    return [
        (ln.key, f"{ln.line_no} {ln.label_zh}", f"{ln.line_no} {ln.label_en}")
        for ln in layout.lines
        if ln.kind == "item" and ln.flow in ("in", "out")
    ]


def _rule_for(rules: list[CashFlowRule], code: str) -> CashFlowRule | None:
    best = None
    for r in rules:
        if code.startswith(r.prefix) and (best is None or len(r.prefix) > len(best.prefix)):
            best = r
    return best


@dataclass(frozen=True)
class CashLine:
    """A posted line on a cash account that no rule and no classification assigns (or its
    unassigned share): what the treasurer must classify before the statement is final."""

    voucher_id: int
    voucher_number: str | None
    date: dt.date
    summary: str
    line_id: int
    account_code: str
    amount: int  # signed: + cash in, − cash out (the unassigned part)
    counter_codes: tuple[str, ...]


@dataclass
class _Flows:
    amounts: dict[str, int]
    unclassified: list[CashLine]

    @property
    def unclassified_total(self) -> int:
        return sum(c.amount for c in self.unclassified)


def _flows(
    book: Book, layout: StatementLayout, accounts: dict[int, Account], cash: set[int], a, b
) -> _Flows:
    """Cash flows per layout line of posted vouchers dated in [a, b], in the base unit."""
    flow_of = {ln.key: ln.flow or "" for ln in layout.lines if ln.kind == "item"}
    rules = cash_flow_rules(book.chart)
    f = Filters(unit=book.base_unit)
    cash_vouchers = (
        posted_lines(book, a, b, Filters(unit=book.base_unit, account_ids=cash))
        .with_only_columns(VoucherLine.voucher_id)
        .distinct()
    )
    ln = VoucherLine
    q = (
        posted_lines(book, a, b, f)
        .where(ln.voucher_id.in_(cash_vouchers))
        .with_only_columns(
            ln.id,
            ln.voucher_id,
            ln.account_id,
            ln.debit,
            ln.credit,
            Voucher.number,
            Voucher.date,
            Voucher.summary,
        )
        .order_by(Voucher.date, ln.voucher_id, ln.line_no)
    )
    vouchers: dict[int, list] = defaultdict(list)
    for row in db.session.execute(q):
        vouchers[row.voucher_id].append(row)
    tags: dict[int, str] = {}
    if vouchers:
        tq = (
            sa.select(CashFlowClass.voucher_line_id, CashFlowClass.line_key)
            .join(VoucherLine, VoucherLine.id == CashFlowClass.voucher_line_id)
            .join(Voucher, Voucher.id == VoucherLine.voucher_id)
            .where(
                CashFlowClass.book_id == book.id,
                Voucher.book_id == book.id,
                Voucher.date.between(a, b),
            )
        )
        tags = {lid: key for lid, key in db.session.execute(tq) if flow_of.get(key) in _FLOW_SIGN}
    amounts: dict[str, int] = defaultdict(int)
    unclassified: list[CashLine] = []
    for rows in vouchers.values():
        cash_rows = [r for r in rows if r.account_id in cash]
        others = [r for r in rows if r.account_id not in cash]
        counter_codes = tuple(dict.fromkeys(accounts[r.account_id].code for r in others))
        untagged = []
        for r in cash_rows:
            key = tags.get(r.id)
            if key is None:
                untagged.append(r)
            else:
                amounts[key] += _FLOW_SIGN[flow_of[key]] * (r.debit - r.credit)
        net = sum(r.debit - r.credit for r in untagged)
        if not net:
            continue  # nothing left, or a transfer between cash accounts
        sign = 1 if net > 0 else -1

        def leave(amount: int, first=untagged[0], codes=counter_codes) -> None:
            unclassified.append(
                CashLine(
                    voucher_id=first.voucher_id,
                    voucher_number=first.number,
                    date=first.date,
                    summary=first.summary,
                    line_id=first.id,
                    account_code=accounts[first.account_id].code,
                    amount=amount,
                    counter_codes=codes,
                )
            )

        # Counter lines that moved the other way (effect on cash: credit − debit) and that a
        # rule assigns. Each absorbs at most its own amount: when they add up to more than the
        # net, the net is split over them in proportion; what they cannot absorb stays
        # unclassified (e.g. a release 3102 → 3101 in the same voucher is no cash flow).
        ruled = []
        for r in others:
            effect = r.credit - r.debit
            if not effect or (effect > 0) != (net > 0):
                continue
            rule = _rule_for(rules, accounts[r.account_id].code)
            key = None if rule is None else (rule.inflow if r.credit else rule.outflow)
            if key is not None:
                ruled.append((key, abs(effect)))
        capacity = sum(e for _k, e in ruled)
        if not ruled:
            leave(net)
            continue
        if capacity >= abs(net):
            shares = largest_remainder(abs(net), [e for _k, e in ruled])
        else:
            shares = [e for _k, e in ruled]
            leave(sign * (abs(net) - capacity))
        for (key, _e), share in zip(ruled, shares, strict=True):
            amounts[key] += _FLOW_SIGN[flow_of[key]] * sign * share
    return _Flows(dict(amounts), unclassified)


def _cash_balance(book: Book, cash: set[int], as_of: dt.date) -> int:
    sums = range_sums(book, None, as_of, Filters(unit=book.base_unit, account_ids=cash))
    return sum(dr - cr for dr, cr in sums.values())


def _year_earlier(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _ranges(period: str, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    if period == "year_to_date":
        return dt.date(end.year, 1, 1), end
    if period == "prior_year":
        a, b = _year_earlier(start), _year_earlier(end)
        return a, (month_end(b) if end == month_end(end) else b)
    return start, end


def _whole_year(a: dt.date, b: dt.date) -> bool:
    return (a.month, a.day, b.month, b.day) == (1, 1, 12, 31) and a.year == b.year


def _column(book: Book, period: str, a: dt.date, b: dt.date) -> StatementColumn:
    label = period
    if period == "current_month" and not (
        a.day == 1 and (a.year, a.month) == (b.year, b.month) and b == month_end(b)
    ):
        label = "current_period"
    zh, en = _period_label(book, label)
    if period in ("current_period", "prior_year") and _whole_year(a, b):
        zh, en = {
            "current_period": ("本年数", "This year"),
            "prior_year": ("上年数", "Prior year"),
        }[period]
    return StatementColumn(
        key=period, period=period, value="amount", start=a, end=b, label_zh=zh, label_en=en
    )


def cash_flow_statement(book: Book, *, start: dt.date, end: dt.date) -> Statement:
    """现金流量表 of the book's standard for [start, end], with the comparison column of the
    layout: SME 本年累计金额 + 本月金额 (本期金额 for a range that is not one whole month); NPO
    本期数 (本年数 for a calendar year) + the same period of the prior year.

    ``checks``: ``ties_to_balance_sheet.<column>`` (cash at the start + net increase = cash at
    the end, both read from the accounts of the balance sheet's 货币资金 line) and
    ``every_cash_movement_classified`` (False while :func:`unclassified_cash_lines` is not
    empty: the statement is then not final and says so in its note).
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
    layout = cash_flow_layout(book)
    accounts = book_accounts(book)
    cash, _agency = cash_accounts(book, accounts)
    columns, values = [], []
    checks: dict[str, bool] = {}
    unclassified_count, unclassified_sum = 0, 0
    for period in layout.periods:
        a, b = _ranges(period, start, end)
        flows = _flows(book, layout, accounts, cash, a, b)
        opening = _cash_balance(book, cash, a - dt.timedelta(days=1))
        closing = _cash_balance(book, cash, b)
        overrides = {
            ln.key: flows.amounts.get(ln.key, 0)
            for ln in layout.lines
            if ln.kind == "item" and ln.flow in _FLOW_SIGN
        }
        overrides[UNCLASSIFIED] = flows.unclassified_total
        overrides["cash_at_start"] = opening
        result = evaluate(layout, {}, overrides=overrides)
        values.append(result)
        columns.append(_column(book, period, a, b))
        checks[f"ties_to_balance_sheet.{period}"] = result["cash_at_end"] == closing
        if period == layout.periods[0]:
            unclassified_count = len(flows.unclassified)
            unclassified_sum = flows.unclassified_total
        elif flows.unclassified:
            unclassified_count += len(flows.unclassified)
    checks["every_cash_movement_classified"] = unclassified_count == 0
    head = _layout_head(book, layout)
    lines = _lines(layout, values)
    if unclassified_count == 0:
        lines = tuple(ln for ln in lines if ln.key != UNCLASSIFIED)
    else:
        exp = report_head(book, book.base_unit, None, start, end)["exponent"]
        head["note_zh"] = (
            f"本表尚未定稿：有 {unclassified_count} 笔现金收支未分类"
            f"（本期净额 {fmt(unclassified_sum, exp)} 元，列于“未分类的现金收支”行），"
            "请在现金流量表页面逐笔分类。" + (head["note_zh"] or "")
        )
        head["note_en"] = (
            f"NOT FINAL: {unclassified_count} cash movement(s) are unclassified (net "
            f"{fmt(unclassified_sum, exp)} this period, on the line 'Unclassified cash "
            "movements'); classify them on the cash-flow page. " + (head["note_en"] or "")
        )
    return Statement(
        **report_head(book, book.base_unit, None, start, end),
        **head,
        columns=tuple(columns),
        lines=lines,
        checks=checks,
    )


def unclassified_cash_lines(book: Book, *, start: dt.date, end: dt.date) -> list[CashLine]:
    """The cash movements of [start, end] that no rule and no classification assigns."""
    start, end = check_range(start, end)
    layout = cash_flow_layout(book)
    accounts = book_accounts(book)
    cash, _agency = cash_accounts(book, accounts)
    return _flows(book, layout, accounts, cash, start, end).unclassified


def classify_cash_line(
    book: Book, line_id: int, key: str | None, *, actor: User
) -> CashFlowClass | None:
    """Set (or with ``key=None`` remove) the cash-flow line of one posted line on a cash
    account of ``book``: those who post (出纳, 会计, admin) may. Flushes; the caller commits and
    records the audit entry."""
    org = db.session.get(Organisation, book.organisation_id)
    assert org is not None
    policy.require(org, "post", user=actor)
    cash_flow_layout(book)
    valid = isinstance(line_id, int) and not isinstance(line_id, bool) and 0 < line_id <= MAX_ID
    line = db.session.get(VoucherLine, line_id) if valid else None
    voucher = db.session.get(Voucher, line.voucher_id) if line is not None else None
    if line is None or voucher is None or voucher.book_id != book.id or not voucher.is_posted:
        raise NotFound(_l("No such posted voucher line in this book."))
    accounts = book_accounts(book)
    cash, _agency = cash_accounts(book, accounts)
    if line.account_id not in cash:
        raise InvalidInput(
            _l("Only a line on a cash account is classified for the cash-flow statement."),
            errors={"line": [str(_l("Not a cash account."))]},
        )
    choices = {k for k, _zh, _en in classification_choices(book)}
    if key is not None and key not in choices:
        raise InvalidInput(
            _l("Choose a line of the cash-flow statement."),
            errors={"key": [str(_l("Not a line of this statement."))]},
        )
    row = db.session.scalar(
        sa.select(CashFlowClass).where(CashFlowClass.voucher_line_id == line.id)
    )
    if key is None:
        if row is not None:
            db.session.delete(row)
            db.session.flush()
        return None
    if row is None:
        row = CashFlowClass(
            community_id=book.community_id, book_id=book.id, voucher_line_id=line.id, line_key=key
        )
        db.session.add(row)
    row.line_key = key
    row.set_by_id = actor.id
    row.set_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    db.session.flush()
    return row


@dataclass(frozen=True)
class ClassifiedLine:
    """A cash line the treasurer classified by hand (shown so it can be changed or cleared)."""

    line_id: int
    voucher_id: int
    voucher_number: str | None
    date: dt.date
    summary: str
    account_code: str
    amount: int  # signed: + cash in, − cash out
    line_key: str


def classified_lines(book: Book, *, start: dt.date, end: dt.date) -> list[ClassifiedLine]:
    """The hand classifications of cash lines dated in [start, end]."""
    start, end = check_range(start, end)
    q = (
        sa.select(CashFlowClass, VoucherLine, Voucher, Account.code)
        .join(VoucherLine, VoucherLine.id == CashFlowClass.voucher_line_id)
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .join(Account, Account.id == VoucherLine.account_id)
        .where(CashFlowClass.book_id == book.id, Voucher.date.between(start, end))
        .order_by(Voucher.date, Voucher.id, VoucherLine.line_no)
    )
    return [
        ClassifiedLine(
            line_id=ln.id,
            voucher_id=v.id,
            voucher_number=v.number,
            date=v.date,
            summary=v.summary,
            account_code=code,
            amount=ln.debit - ln.credit,
            line_key=c.line_key,
        )
        for c, ln, v, code in db.session.execute(q)
    ]


def rules_table(book: Book) -> list[tuple[CashFlowRule, str | None, str | None]]:
    """The counter-account rules with the labels of their lines, for the rules table."""
    layout = cash_flow_layout(book)
    label = {ln.key: ln.label_zh for ln in layout.lines}
    return [
        (r, label.get(r.inflow or ""), label.get(r.outflow or ""))
        for r in cash_flow_rules(book.chart)
    ]
