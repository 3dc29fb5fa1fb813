"""Charts of accounts and statement layouts, shipped as data (CSV + JSON).

Standards (DOMAIN.md R0.2): ``SME_2011`` (小企业会计准则), ``NPO_2004`` (民间非营利组织会计制度,
财会〔2004〕7号), ``NPO_2024`` (its revision, 财会〔2024〕25号, in force 2026-01-01; its chart,
layouts and year-end rules are provisional, see README.md "NPO_2024") and ``TRUST_FUND`` (our own
chart for a compound's trust-model common fund, DOMAIN.md §1).

Sign convention (see README.md in this folder):

* ``balance(code)`` is the account's balance **in its normal-side direction**: debit-normal
  accounts ``debit - credit``, credit-normal accounts ``credit - debit``. A balance sheet uses
  closing balances; an income statement / 业务活动表 / 收支表 uses the period's movement
  (发生额) computed the same way.
* An item line is ``Σ sign × balance(code)`` over its ``accounts``; a subtotal or total line is
  ``Σ sign × amount(key)`` over its ``sum`` terms (``"-key"`` in the JSON means sign -1).

This module is stdlib-only so that the standalone verifier can recompute statements too.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "ACCOUNT_TYPES",
    "BALANCE_SHEET_TYPES",
    "LINE_KINDS",
    "NORMAL_SIDES",
    "NPO_STANDARDS",
    "STANDARDS",
    "AccountRef",
    "ChartAccount",
    "DetailRef",
    "LayoutError",
    "LayoutLine",
    "StatementLayout",
    "SumRef",
    "TransitionRow",
    "YearEndRules",
    "CashFlowRule",
    "cash_flow_rules",
    "evaluate",
    "has_cash_flow",
    "load_chart",
    "load_layout",
    "load_transition",
    "normal_balance",
    "parse_layout",
    "statements_for",
    "year_end_rules",
]

STANDARDS: tuple[str, ...] = ("SME_2011", "NPO_2004", "NPO_2024", "TRUST_FUND")
#: The editions of 民间非营利组织会计制度: books kept under either close, report and split
#: restricted revenue the same way (until NPO_2024's own rules are verified, README.md).
NPO_STANDARDS: tuple[str, ...] = ("NPO_2004", "NPO_2024")

ACCOUNT_TYPES: tuple[str, ...] = (
    "asset",
    "liability",
    "equity",  # SME owners' equity (所有者权益)
    "net_assets",  # NPO / trust fund balances (净资产)
    "cost",  # SME 成本类 (4xxx): balance-sheet accounts (inventories, development expenditure)
    "revenue",
    "expense",
)
#: Types whose closing balances appear on the balance sheet.
BALANCE_SHEET_TYPES: tuple[str, ...] = ("asset", "liability", "equity", "net_assets", "cost")
NORMAL_SIDES: tuple[str, ...] = ("debit", "credit")
LINE_KINDS: tuple[str, ...] = ("heading", "item", "subtotal", "total")

_HERE = Path(__file__).resolve().parent
_CHART_FILES = {
    "SME_2011": "sme_2011.csv",
    "NPO_2004": "npo_2004.csv",
    "NPO_2024": "npo_2024.csv",
    "TRUST_FUND": "trust_fund.csv",
}
_STATEMENTS = {
    "SME_2011": ("balance_sheet", "income_statement"),
    "NPO_2004": ("balance_sheet", "activities"),
    "NPO_2024": ("balance_sheet", "activities"),
    "TRUST_FUND": ("balance_sheet", "income_expenditure"),
}
#: Cash-flow statements (现金流量表): a layout each, kept apart from ``_STATEMENTS`` because their
#: lines are not account sums (cash movements classified by activity, ledger/reports/cashflow.py).
#: TRUST_FUND has none: the trust fund follows no official standard (README.md).
_CASH_FLOW = ("SME_2011", "NPO_2004", "NPO_2024")
#: Line directions of a cash-flow layout (``flow``): inflow, outflow, signed net, or a balance.
FLOWS: tuple[str, ...] = ("in", "out", "net", "balance")
#: Old → new account mappings that open a book of the new edition from a book of the old one.
_TRANSITIONS = {("NPO_2004", "NPO_2024"): "npo_2004_to_npo_2024.csv"}
#: ``status`` of a data row: established from sources, ours by design, or still to verify.
STATUSES: tuple[str, ...] = ("sourced", "ours", "verify")


class LayoutError(ValueError):
    """A chart or layout file is malformed (bad kind, unknown sum key, cycle, ...)."""


@dataclass(frozen=True)
class ChartAccount:
    code: str
    parent_code: str | None
    name_zh: str
    name_en: str
    type: str
    normal_side: str

    @property
    def is_first_level(self) -> bool:
        return self.parent_code is None

    @property
    def is_contra(self) -> bool:
        """True when the normal side is opposite to the type's usual side (e.g. 累计折旧)."""
        usual = "debit" if self.type in ("asset", "cost", "expense") else "credit"
        return self.normal_side != usual


@dataclass(frozen=True)
class AccountRef:
    code: str
    sign: int


@dataclass(frozen=True)
class SumRef:
    key: str
    sign: int


@dataclass(frozen=True)
class DetailRef:
    """Where a 其中 line without accounts takes its amount: the sub-accounts of ``parent`` whose
    Chinese name contains one of ``names``, or the ``nth`` sub-account of ``parent`` (1-based,
    code order; its name becomes the line's label). A book without such a sub-account cannot
    fill the line: the statement shows it as None ("—"), never as 0."""

    parent: str
    names: tuple[str, ...] = ()
    nth: int | None = None


@dataclass(frozen=True)
class LayoutLine:
    line_no: int | None
    key: str
    label_zh: str
    label_en: str
    kind: str
    accounts: tuple[AccountRef, ...] = ()
    sum: tuple[SumRef, ...] = ()
    indent: int = 0
    #: A breakdown (其中) or supplementary line: shown, but never a term of a non-memo line's sum.
    memo: bool = False
    #: Balance sheets only: "left" (assets) or "right" (liabilities and equity / net assets).
    side: str | None = None
    note_zh: str | None = None
    note_en: str | None = None
    #: Cash-flow layouts only: "in" (inflow, shown positive), "out" (outflow, shown positive and
    #: subtracted by the subtotals), "net" (signed) or "balance" (cash at the start).
    flow: str | None = None
    #: 其中 lines without accounts: which sub-accounts fill them (see DetailRef).
    detail: DetailRef | None = None


@dataclass(frozen=True)
class StatementLayout:
    standard: str
    statement: str
    form_code: str | None
    title_zh: str
    title_en: str
    #: Value columns per period, e.g. ("amount",) or ("unrestricted", "restricted", "total").
    columns: tuple[str, ...]
    #: Comparison periods in the official column order, e.g. ("period_end", "year_start").
    periods: tuple[str, ...]
    lines: tuple[LayoutLine, ...]
    #: Layout-level remark (e.g. "our own format, no official form").
    note_zh: str | None = None
    note_en: str | None = None

    def line(self, key: str) -> LayoutLine:
        for ln in self.lines:
            if ln.key == key:
                return ln
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(ln.key for ln in self.lines)


# --------------------------------------------------------------------------- loading


def _check_standard(standard: str) -> None:
    if standard not in STANDARDS:
        raise KeyError(f"unknown accounting standard {standard!r}; expected one of {STANDARDS}")


@cache
def _chart(standard: str) -> tuple[ChartAccount, ...]:
    _check_standard(standard)
    path = _HERE / _CHART_FILES[standard]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for i, row in enumerate(rows, start=2):
        acc = ChartAccount(
            code=row["code"].strip(),
            parent_code=(row["parent_code"] or "").strip() or None,
            name_zh=row["name_zh"].strip(),
            name_en=row["name_en"].strip(),
            type=row["type"].strip(),
            normal_side=row["normal_side"].strip(),
        )
        if acc.type not in ACCOUNT_TYPES:
            raise LayoutError(f"{path.name}:{i}: bad type {acc.type!r}")
        if acc.normal_side not in NORMAL_SIDES:
            raise LayoutError(f"{path.name}:{i}: bad normal_side {acc.normal_side!r}")
        out.append(acc)
    return tuple(out)


def load_chart(standard: str) -> list[ChartAccount]:
    """The chart of accounts template for ``standard``, in file order (codes ascending)."""
    return list(_chart(standard))


def statements_for(standard: str) -> list[str]:
    """Statement names that have a layout for ``standard`` (balance sheet first)."""
    _check_standard(standard)
    return list(_STATEMENTS[standard])


def _parse_line(raw: Mapping[str, Any], where: str) -> LayoutLine:
    kind = raw.get("kind")
    if kind not in LINE_KINDS:
        raise LayoutError(f"{where}: bad kind {kind!r}")
    accounts = []
    for a in raw.get("accounts", []) or []:
        sign = a.get("sign", 1)
        if sign not in (1, -1):
            raise LayoutError(f"{where}: bad sign {sign!r}")
        accounts.append(AccountRef(code=str(a["code"]), sign=sign))
    terms = []
    for term in raw.get("sum", []) or []:
        term = str(term)
        terms.append(SumRef(key=term[1:], sign=-1) if term.startswith("-") else SumRef(term, 1))
    if kind == "heading" and (accounts or terms):
        raise LayoutError(f"{where}: a heading has no amount")
    if kind in ("subtotal", "total") and (accounts or not terms):
        raise LayoutError(f"{where}: a {kind} needs 'sum' and no 'accounts'")
    if kind == "item" and terms:
        raise LayoutError(f"{where}: an item uses 'accounts', not 'sum'")
    line_no = raw.get("line_no")
    if line_no is not None and not isinstance(line_no, int):
        raise LayoutError(f"{where}: line_no must be an integer or null")
    side = raw.get("side")
    if side not in (None, "left", "right"):
        raise LayoutError(f"{where}: bad side {side!r}")
    flow = raw.get("flow")
    if flow not in (None, *FLOWS):
        raise LayoutError(f"{where}: bad flow {flow!r}")
    detail = None
    if raw.get("detail") is not None:
        d = raw["detail"]
        nth = d.get("nth")
        names = tuple(str(n) for n in d.get("names") or ())
        if kind != "item" or not raw.get("memo") or accounts or bool(names) == (nth is not None):
            raise LayoutError(
                f"{where}: 'detail' is for a memo item without accounts, names or nth"
            )
        detail = DetailRef(parent=str(d["parent"]), names=names, nth=nth)
    return LayoutLine(
        line_no=line_no,
        key=str(raw["key"]),
        label_zh=str(raw["label_zh"]),
        label_en=str(raw["label_en"]),
        kind=str(kind),
        accounts=tuple(accounts),
        sum=tuple(terms),
        indent=int(raw.get("indent", 0)),
        memo=bool(raw.get("memo", False)),
        side=side,
        note_zh=raw.get("note_zh"),
        note_en=raw.get("note_en"),
        flow=flow,
        detail=detail,
    )


def _check_structure(layout: StatementLayout, where: str) -> None:
    by_key: dict[str, LayoutLine] = {}
    for ln in layout.lines:
        if ln.key in by_key:
            raise LayoutError(f"{where}: duplicate key {ln.key!r}")
        by_key[ln.key] = ln
    numbers = [ln.line_no for ln in layout.lines if ln.line_no is not None]
    if len(numbers) != len(set(numbers)):
        raise LayoutError(f"{where}: duplicate line_no")
    for ln in layout.lines:
        for t in ln.sum:
            target = by_key.get(t.key)
            if target is None:
                raise LayoutError(f"{where}: {ln.key!r} sums unknown key {t.key!r}")
            if target.kind == "heading":
                raise LayoutError(f"{where}: {ln.key!r} sums heading {t.key!r}")
            if target.memo and not ln.memo:
                raise LayoutError(f"{where}: {ln.key!r} sums memo line {t.key!r}")
    # acyclic
    state: dict[str, int] = {}

    def visit(key: str, path: tuple[str, ...]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            raise LayoutError(f"{where}: cycle through {' -> '.join((*path, key))}")
        state[key] = 1
        for t in by_key[key].sum:
            visit(t.key, (*path, key))
        state[key] = 2

    for ln in layout.lines:
        visit(ln.key, ())


def parse_layout(raw: Mapping[str, Any], where: str = "<layout>") -> StatementLayout:
    """Build and structurally check a layout from its JSON object (see README.md): values
    of any JSON type, each checked here."""
    lines = tuple(
        _parse_line(r, f"{where} line {i} ({r.get('key')})") for i, r in enumerate(raw["lines"])
    )
    layout = StatementLayout(
        standard=str(raw["standard"]),
        statement=str(raw["statement"]),
        form_code=raw.get("form_code"),
        title_zh=str(raw["title_zh"]),
        title_en=str(raw["title_en"]),
        columns=tuple(raw.get("columns") or ("amount",)),
        periods=tuple(raw.get("periods") or ()),
        lines=lines,
        note_zh=raw.get("note_zh"),
        note_en=raw.get("note_en"),
    )
    _check_structure(layout, where)
    return layout


@cache
def _layout(standard: str, statement: str) -> StatementLayout:
    _check_standard(standard)
    if statement == "cash_flow" and standard in _CASH_FLOW:
        pass
    elif statement not in _STATEMENTS[standard]:
        raise KeyError(f"no {statement!r} layout for {standard}; have {_STATEMENTS[standard]}")
    name = f"{standard.lower()}_{statement}.json"
    raw = json.loads((_HERE / "layouts" / name).read_text(encoding="utf-8"))
    if raw.get("standard") != standard or raw.get("statement") != statement:
        raise LayoutError(f"{name}: standard/statement fields do not match the file name")
    return parse_layout(raw, name)


def load_layout(standard: str, statement: str) -> StatementLayout:
    """The statement layout ``statement`` (see :func:`statements_for`) of ``standard``."""
    return _layout(standard, statement)


def has_cash_flow(standard: str) -> bool:
    """Whether ``standard`` has a cash-flow statement layout (``load_layout(s, "cash_flow")``)."""
    _check_standard(standard)
    return standard in _CASH_FLOW


# --------------------------------------------------------------------------- cash-flow rules


@dataclass(frozen=True)
class CashFlowRule:
    """How a cash movement is classified by its counter-account (对方科目): a counter line whose
    account code starts with ``prefix`` (the longest matching prefix wins) puts its share of the
    cash movement on line ``inflow`` when the counter line is a credit (cash came in) and on
    ``outflow`` when it is a debit (cash went out); None leaves it unclassified."""

    prefix: str
    inflow: str | None
    outflow: str | None
    status: str


@cache
def _cash_flow_rules() -> dict[str, tuple[CashFlowRule, ...]]:
    raw = json.loads((_HERE / "cash_flow_rules.json").read_text(encoding="utf-8"))
    out: dict[str, tuple[CashFlowRule, ...]] = {}
    for standard in _CASH_FLOW:
        rows = raw[standard]
        if isinstance(rows, str):  # "same as" another standard
            rows = raw[rows]
        layout = _layout(standard, "cash_flow")
        keys = {ln.key for ln in layout.lines if ln.kind == "item" and ln.flow in ("in", "out")}
        rules = []
        for r in rows:
            rule = CashFlowRule(
                prefix=str(r["prefix"]),
                inflow=r.get("in"),
                outflow=r.get("out"),
                status=r.get("status", "ours"),
            )
            for key in (rule.inflow, rule.outflow):
                if key is not None and key not in keys:
                    raise LayoutError(
                        f"cash_flow_rules.json: {standard} {rule.prefix}: bad {key!r}"
                    )
            if rule.status not in STATUSES:
                raise LayoutError(f"cash_flow_rules.json: {standard} {rule.prefix}: bad status")
            rules.append(rule)
        if len({r.prefix for r in rules}) != len(rules):
            raise LayoutError(f"cash_flow_rules.json: {standard}: duplicate prefix")
        out[standard] = tuple(sorted(rules, key=lambda r: r.prefix))
    return out


def cash_flow_rules(standard: str) -> list[CashFlowRule]:
    """The counter-account rules of ``standard``'s cash-flow statement, by prefix."""
    _check_standard(standard)
    return list(_cash_flow_rules().get(standard, ()))


# --------------------------------------------------------------------------- year end


@dataclass(frozen=True)
class YearEndRules:
    """How the year-end closing (年末结转) of a standard works (``year_end.json``).

    ``method``: ``sme`` (revenue and expenses → current-year profit → profit distribution),
    ``npo`` (unrestricted revenue and expenses → unrestricted net assets, restricted revenue →
    restricted net assets, restricted-fund expenses released from restricted to unrestricted) or
    ``fund`` (income and expenditure → the fund balance). ``accounts``: role → account code."""

    standard: str
    method: str
    accounts: Mapping[str, str]
    status: str

    def code(self, role: str) -> str:
        return self.accounts[role]


_YEAR_END_ROLES = {
    "sme": ("current_year_profit", "profit_distribution"),
    "npo": ("unrestricted_net_assets", "restricted_net_assets"),
    "fund": ("fund_balance",),
}


@cache
def _year_end() -> dict[str, YearEndRules]:
    raw = json.loads((_HERE / "year_end.json").read_text(encoding="utf-8"))
    out = {}
    for standard, r in raw.items():
        _check_standard(standard)
        method, accounts = r["method"], dict(r["accounts"])
        if method not in _YEAR_END_ROLES or set(accounts) != set(_YEAR_END_ROLES[method]):
            raise LayoutError(f"year_end.json: bad rules for {standard}")
        if r["status"] not in STATUSES:
            raise LayoutError(f"year_end.json: bad status for {standard}")
        out[standard] = YearEndRules(standard, method, accounts, r["status"])
    return out


def year_end_rules(standard: str) -> YearEndRules:
    """The year-end closing rules of ``standard`` (KeyError for a chart without any)."""
    _check_standard(standard)
    return _year_end()[standard]


# --------------------------------------------------------------------------- transitions


@dataclass(frozen=True)
class TransitionRow:
    """One row of an old → new mapping: the balance of ``old_code`` (and of every sub-account
    extending it) moves to ``new_code`` (sub-accounts keep their suffix)."""

    old_code: str
    old_name_zh: str
    new_code: str
    new_name_zh: str
    status: str


@cache
def _transition(old: str, new: str) -> tuple[TransitionRow, ...]:
    _check_standard(old)
    _check_standard(new)
    name = _TRANSITIONS.get((old, new))
    if name is None:
        raise KeyError(f"no transition from {old} to {new}")
    with (_HERE / name).open(encoding="utf-8", newline="") as fh:
        rows = [
            TransitionRow(**{k: (v or "").strip() for k, v in row.items()})
            for row in csv.DictReader(fh)
        ]
    old_chart = {a.code: a for a in _chart(old)}
    new_chart = {a.code: a for a in _chart(new)}
    seen: set[str] = set()
    for i, r in enumerate(rows, start=2):
        where = f"{name}:{i}"
        if r.old_code in seen:
            raise LayoutError(f"{where}: {r.old_code} mapped twice")
        seen.add(r.old_code)
        if r.status not in STATUSES:
            raise LayoutError(f"{where}: bad status {r.status!r}")
        a, b = old_chart.get(r.old_code), new_chart.get(r.new_code)
        if a is None or b is None:
            raise LayoutError(f"{where}: {r.old_code} or {r.new_code} is not in its chart")
        if (a.name_zh, b.name_zh) != (r.old_name_zh, r.new_name_zh):
            raise LayoutError(f"{where}: names differ from the charts")
        if (a.type, a.normal_side) != (b.type, b.normal_side):
            raise LayoutError(f"{where}: {r.old_code} and {r.new_code} differ in type or side")
    return tuple(rows)


def load_transition(old: str, new: str) -> list[TransitionRow]:
    """The reviewed old → new account mapping from standard ``old`` to ``new`` (README.md)."""
    return list(_transition(old, new))


# --------------------------------------------------------------------------- evaluation


def normal_balance(normal_side: str, debit: int, credit: int) -> int:
    """Balance in the account's normal direction: debit-normal ``debit - credit``, else reverse."""
    if normal_side == "debit":
        return debit - credit
    if normal_side == "credit":
        return credit - debit
    raise ValueError(f"bad normal_side {normal_side!r}")


def _rolled_up(balances: Mapping[str, int]) -> dict[str, int]:
    # A reference to a code covers the code itself and every sub-account code extending it.
    rolled: dict[str, int] = {}
    for code, value in balances.items():
        for n in range(1, len(code) + 1):
            rolled[code[:n]] = rolled.get(code[:n], 0) + value
    return rolled


def evaluate(
    layout: StatementLayout,
    balances: Mapping[str, int],
    overrides: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Amount of every non-heading line of ``layout``.

    ``balances`` maps account code -> balance in the account's normal-side direction (integer
    fen; closing balances for a balance sheet, period movements for a flow statement). A line
    that references code ``X`` takes the balance of ``X`` and of every code extending ``X`` in
    ``balances``: pass **either** posting-account balances **or** rolled-up parent balances,
    never a parent together with its own sub-accounts, or amounts are counted twice.

    ``overrides`` sets the amount of item lines whose official rule is not a signed account sum
    (see the line's ``note_en``), e.g. NPO line 40 or reclassifications by sub-account
    direction; subtotals and totals are then recomputed from it.
    """
    overrides = dict(overrides or {})
    by_key = {ln.key: ln for ln in layout.lines}
    bad = sorted(k for k in overrides if k not in by_key or by_key[k].kind != "item")
    if bad:
        raise KeyError(f"overrides must name item lines of the layout: {bad}")
    rolled = _rolled_up(balances)
    out: dict[str, int] = {}

    def amount(key: str) -> int:
        if key in out:
            return out[key]
        ln = by_key[key]
        if key in overrides:
            value = int(overrides[key])
        elif ln.kind == "item":
            value = sum(a.sign * rolled.get(a.code, 0) for a in ln.accounts)
        else:
            value = sum(t.sign * amount(t.key) for t in ln.sum)
        out[key] = value
        return value

    for ln in layout.lines:
        if ln.kind != "heading":
            amount(ln.key)
    return {ln.key: out[ln.key] for ln in layout.lines if ln.kind != "heading"}
