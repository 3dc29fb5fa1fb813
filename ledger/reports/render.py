"""Reports as CSV rows and JSON-ready dicts, for downloads, the API and the CLI.

* ``to_csv_rows(report, lang="zh")``: a header row, then data rows of strings; amounts are
  plain decimals in major units ("-1234.56", via ``format_minor``), never locale-formatted,
  so a spreadsheet or a script reads them exactly. Write them with ``csv.writer`` to a UTF-8
  file (add a BOM if Excel on Windows must open it).
* ``to_json(report)``: amounts as integer minor units, with ``unit`` and ``exponent`` saying
  how to read them (``12345`` with exponent 2 is 123.45); dates as ISO 8601 text.

Column headings come in Chinese or English (``lang``); they are report data like the
layouts' line labels, not interface text.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from functools import singledispatch
from typing import NamedTuple

from ..amounts import format_minor
from ..models import Account
from .balances import AccountBalance
from .funds import FundStatement
from .ledgers import AccountDetail, GeneralLedger
from .statements import Statement
from .trial_balance import TrialBalance, direction

__all__ = [
    "XLSX_MIMETYPE",
    "Amount",
    "account_json",
    "report_table",
    "to_csv_rows",
    "to_json",
    "to_xlsx",
]

_HEAD = {
    "code": ("科目编码", "Code"),
    "account": ("科目名称", "Account"),
    "unit": ("单位", "Unit"),
    "debit_total": ("借方合计", "Total debit"),
    "credit_total": ("贷方合计", "Total credit"),
    "balance": ("余额（借正贷负）", "Balance (debit +)"),
    "level": ("级次", "Level"),
    "opening_debit": ("期初余额借方", "Opening debit"),
    "opening_credit": ("期初余额贷方", "Opening credit"),
    "debit": ("本期借方发生额", "Period debit"),
    "credit": ("本期贷方发生额", "Period credit"),
    "closing_debit": ("期末余额借方", "Closing debit"),
    "closing_credit": ("期末余额贷方", "Closing credit"),
    "line_no": ("行次", "Line"),
    "item": ("项目", "Item"),
    "period": ("期间", "Period"),
    "date": ("日期", "Date"),
    "number": ("凭证号", "Voucher"),
    "summary": ("摘要", "Summary"),
    "dr": ("借方", "Debit"),
    "cr": ("贷方", "Credit"),
    "direction": ("方向", "Dr/Cr"),
    "balance_abs": ("余额", "Balance"),
    "fund_code": ("基金编号", "Fund code"),
    "fund": ("基金名称", "Fund"),
    "restricted": ("限定性", "Restricted"),
    "opening": ("期初结余", "Opening"),
    "revenue": ("本期收入", "Revenue"),
    "expense": ("本期支出", "Expenses"),
    "transfers": ("本期转入转出", "Transfers"),
    "closing": ("期末结余", "Closing"),
}
_WORDS = {
    "total": ("合计", "Total"),
    "opening": ("期初余额", "Opening balance"),
    "month_total": ("本月合计", "Month total"),
    "year_total": ("本年累计", "Year to date"),
    "period_total": ("本期合计", "Period total"),
    "closing": ("期末余额", "Closing balance"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
}
_DIRECTION_EN = {"借": "Dr", "贷": "Cr", "平": "-"}


def _i(lang: str) -> int:
    return 1 if lang.startswith("en") else 0


def _head(lang: str, *names: str) -> list[str]:
    return [_HEAD[n][_i(lang)] for n in names]


def _word(lang: str, name: str) -> str:
    return _WORDS[name][_i(lang)]


def _dir(lang: str, signed: int) -> str:
    d = direction(signed)
    return _DIRECTION_EN[d] if _i(lang) else d


def _movement(lang: str, e: int, debit: int | None, credit: int | None, balance: int) -> list[Cell]:
    """The 借方 / 贷方 / 方向 / 余额 cells of a ledger row (no debit or credit: empty cells)."""
    return [
        "" if debit is None else _amt(debit, e),
        "" if credit is None else _amt(credit, e),
        _dir(lang, balance),
        _amt(abs(balance), e),
    ]


def _name(account: Account, lang: str) -> str:
    return account.name_en if _i(lang) and account.name_en else account.name_zh


def account_json(account: Account) -> dict:
    return {
        "id": account.id,
        "code": account.code,
        "name_zh": account.name_zh,
        "name_en": account.name_en,
        "type": account.type,
        "normal_side": account.normal_side,
        "level": account.level,
        "parent_id": account.parent_id,
    }


def _d(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- typed tables: what CSV and XLSX both write ----------------------------------------------


class Amount(NamedTuple):
    """An amount cell: integer minor units and the exponent that reads them."""

    minor: int
    exponent: int

    def decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-self.exponent)


# A cell of a report table: text, a whole number (a level, a line number), a date, an amount,
# or None (an empty cell).
Cell = str | int | dt.date | Amount | None


def _amt(minor: int, exponent: int) -> Amount:
    return Amount(int(minor), exponent)


def _cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Amount):
        return format_minor(cell.minor, cell.exponent)
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)


def to_csv_rows(report, lang: str = "zh") -> list[list[str]]:
    """Header row then data rows, all strings, amounts as plain decimals (see module doc)."""
    return [[_cell_text(c) for c in row] for row in report_table(report, lang)]


@singledispatch
def report_table(report, lang: str = "zh") -> list[list[Cell]]:
    """A report as a header row then data rows of typed cells (``Cell``): the one layout
    of every export. A new report type registers here and gets CSV and XLSX at once."""
    if isinstance(report, list) and all(isinstance(b, AccountBalance) for b in report):
        return _balances_table(report, lang)
    raise TypeError(f"no table form for {type(report).__name__}")


def _balances_table(balances: list[AccountBalance], lang: str) -> list[list[Cell]]:
    rows: list[list[Cell]] = [
        list(_head(lang, "code", "account", "unit", "debit_total", "credit_total", "balance"))
    ]
    for b in balances:
        rows.append(
            [
                b.account.code,
                _name(b.account, lang),
                b.unit,
                _amt(b.debit_total, b.exponent),
                _amt(b.credit_total, b.exponent),
                _amt(b.balance, b.exponent),
            ]
        )
    return rows


@report_table.register
def _(report: TrialBalance, lang: str = "zh") -> list[list[Cell]]:
    e = report.exponent
    rows: list[list[Cell]] = [
        list(
            _head(
                lang,
                "code",
                "account",
                "level",
                "opening_debit",
                "opening_credit",
                "debit",
                "credit",
                "closing_debit",
                "closing_credit",
            )
        )
    ]
    for r in report.rows:
        row: list[Cell] = [r.account.code, _name(r.account, lang), r.level]
        row += [
            _amt(v, e)
            for v in (
                r.opening_debit,
                r.opening_credit,
                r.debit,
                r.credit,
                r.closing_debit,
                r.closing_credit,
            )
        ]
        rows.append(row)
    t = report.totals
    rows.append(
        [_word(lang, "total"), "", ""]
        + [
            _amt(v, e)
            for v in (
                t.opening_debit,
                t.opening_credit,
                t.debit,
                t.credit,
                t.closing_debit,
                t.closing_credit,
            )
        ]
    )
    return rows


@report_table.register
def _(report: Statement, lang: str = "zh") -> list[list[Cell]]:
    i = _i(lang)
    head: list[Cell] = [*_head(lang, "item", "line_no")]
    head += [c.label_en if i else c.label_zh for c in report.columns]
    rows: list[list[Cell]] = [head]
    for ln in report.lines:
        label = ln.label_en if i else ln.label_zh
        row: list[Cell] = [label, "" if ln.line_no is None else ln.line_no]
        row += ["" if v is None else _amt(v, report.exponent) for v in ln.amounts]
        rows.append(row)
    return rows


@report_table.register
def _(report: GeneralLedger, lang: str = "zh") -> list[list[Cell]]:
    e = report.exponent
    rows: list[list[Cell]] = [
        list(
            _head(
                lang, "code", "account", "period", "summary", "dr", "cr", "direction", "balance_abs"
            )
        )
    ]
    for la in report.accounts:
        code, name = la.account.code, _name(la.account, lang)
        rows.append(
            [
                code,
                name,
                report.start,
                _word(lang, "opening"),
                *_movement(lang, e, None, None, la.opening),
            ]
        )
        for m in la.months:
            rows.append(
                [
                    code,
                    name,
                    m.label,
                    _word(lang, "month_total"),
                    *_movement(lang, e, m.debit, m.credit, m.balance),
                ]
            )
            rows.append(
                [
                    code,
                    name,
                    m.label,
                    _word(lang, "year_total"),
                    *_movement(lang, e, m.year_debit, m.year_credit, m.balance),
                ]
            )
    return rows


@report_table.register
def _(report: AccountDetail, lang: str = "zh") -> list[list[Cell]]:
    e = report.exponent
    rows: list[list[Cell]] = [
        list(_head(lang, "date", "number", "summary", "dr", "cr", "direction", "balance_abs"))
    ]
    rows.append(
        [
            report.start,
            "",
            _word(lang, "opening"),
            *_movement(lang, e, None, None, report.opening),
        ]
    )
    for ln in report.lines:
        rows.append(
            [
                ln.date,
                ln.number,
                ln.summary,
                *_movement(lang, e, ln.debit, ln.credit, ln.balance),
            ]
        )
    rows.append(
        [
            report.end,
            "",
            _word(lang, "period_total"),
            *_movement(lang, e, report.debit, report.credit, report.closing),
        ]
    )
    return rows


@report_table.register
def _(report: FundStatement, lang: str = "zh") -> list[list[Cell]]:
    e = report.exponent
    rows: list[list[Cell]] = [
        list(
            _head(
                lang,
                "fund_code",
                "fund",
                "restricted",
                "opening",
                "revenue",
                "expense",
                "transfers",
                "closing",
            )
        )
    ]
    for r in report.rows:
        rows.append(
            [r.fund.code, r.fund.name, _word(lang, "yes" if r.restricted else "no")]
            + [_amt(v, e) for v in (r.opening, r.revenue, r.expense, r.transfers, r.closing)]
        )
    t = report.totals
    rows.append(
        [_word(lang, "total"), "", ""]
        + [_amt(t[k], e) for k in ("opening", "revenue", "expense", "transfers", "closing")]
    )
    return rows


# --- JSON -------------------------------------------------------------------------------------


@singledispatch
def to_json(report) -> dict:
    """A JSON-ready dict: integer minor units plus ``unit`` and ``exponent`` (see module doc)."""
    if isinstance(report, list) and all(isinstance(b, AccountBalance) for b in report):
        return {
            "report": "account_balances",
            "balances": [
                {
                    "account": account_json(b.account),
                    "unit": b.unit,
                    "exponent": b.exponent,
                    "debit_total": b.debit_total,
                    "credit_total": b.credit_total,
                    "balance": b.balance,
                }
                for b in report
            ],
        }
    raise TypeError(f"no JSON form for {type(report).__name__}")


def _head_json(report) -> dict:
    """The fields every report's JSON starts with (``report_head``)."""
    return {
        "book_id": report.book_id,
        "start": _d(report.start),
        "end": _d(report.end),
        "unit": report.unit,
        "exponent": report.exponent,
        "fund_id": report.fund_id,
    }


@to_json.register
def _(report: TrialBalance) -> dict:
    t = report.totals
    return {
        "report": "trial_balance",
        **_head_json(report),
        "balanced": report.balanced,
        "rows": [
            {
                "account": account_json(r.account),
                "level": r.level,
                "rollup": r.rollup,
                "opening": r.opening,
                "opening_debit": r.opening_debit,
                "opening_credit": r.opening_credit,
                "debit": r.debit,
                "credit": r.credit,
                "closing": r.closing,
                "closing_debit": r.closing_debit,
                "closing_credit": r.closing_credit,
            }
            for r in report.rows
        ],
        "totals": {
            "opening_debit": t.opening_debit,
            "opening_credit": t.opening_credit,
            "debit": t.debit,
            "credit": t.credit,
            "closing_debit": t.closing_debit,
            "closing_credit": t.closing_credit,
        },
    }


@to_json.register
def _(report: Statement) -> dict:
    return {
        "report": report.statement,
        "standard": report.standard,
        "form_code": report.form_code,
        "title_zh": report.title_zh,
        "title_en": report.title_en,
        **_head_json(report),
        "note_zh": report.note_zh,
        "note_en": report.note_en,
        "columns": [
            {
                "key": c.key,
                "period": c.period,
                "value": c.value,
                "start": _d(c.start),
                "end": _d(c.end),
                "label_zh": c.label_zh,
                "label_en": c.label_en,
            }
            for c in report.columns
        ],
        "lines": [
            {
                "line_no": ln.line_no,
                "key": ln.key,
                "label_zh": ln.label_zh,
                "label_en": ln.label_en,
                "kind": ln.kind,
                "indent": ln.indent,
                "memo": ln.memo,
                "side": ln.side,
                "amounts": list(ln.amounts),
            }
            for ln in report.lines
        ],
        "checks": dict(report.checks),
    }


@to_json.register
def _(report: GeneralLedger) -> dict:
    return {
        "report": "general_ledger",
        **_head_json(report),
        "accounts": [
            {
                "account": account_json(la.account),
                "opening": la.opening,
                "debit": la.debit,
                "credit": la.credit,
                "closing": la.closing,
                "months": [
                    {
                        "period": m.label,
                        "start": _d(m.start),
                        "end": _d(m.end),
                        "debit": m.debit,
                        "credit": m.credit,
                        "year_debit": m.year_debit,
                        "year_credit": m.year_credit,
                        "balance": m.balance,
                    }
                    for m in la.months
                ],
            }
            for la in report.accounts
        ],
    }


@to_json.register
def _(report: AccountDetail) -> dict:
    return {
        "report": "account_detail",
        "account": account_json(report.account),
        **_head_json(report),
        "opening": report.opening,
        "debit": report.debit,
        "credit": report.credit,
        "closing": report.closing,
        "lines": [
            {
                "date": _d(ln.date),
                "voucher_id": ln.voucher_id,
                "number": ln.number,
                "summary": ln.summary,
                "memo": ln.memo,
                "account_id": ln.account_id,
                "fund_id": ln.fund_id,
                "debit": ln.debit,
                "credit": ln.credit,
                "balance": ln.balance,
            }
            for ln in report.lines
        ],
    }


@to_json.register
def _(report: FundStatement) -> dict:
    return {
        "report": "fund_statement",
        **_head_json(report),
        "rows": [
            {
                "fund": {
                    "id": r.fund.id,
                    "code": r.fund.code,
                    "name": r.fund.name,
                    "restricted": r.fund.restricted,
                    "endowment": r.fund.endowment,
                },
                "opening": r.opening,
                "revenue": r.revenue,
                "expense": r.expense,
                "transfers": r.transfers,
                "closing": r.closing,
            }
            for r in report.rows
        ],
        "totals": report.totals,
        "checks": report.checks,
    }


# --- XLSX -------------------------------------------------------------------------------------

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_NAME_BAD = str.maketrans({c: " " for c in "[]:*?/\\"})


def _number_format(exponent: int) -> str:
    return "#,##0" if exponent <= 0 else "#,##0." + "0" * exponent


def _display_width(cell: Cell) -> int:
    """Roughly how many Latin characters wide a cell shows (a CJK character counts two)."""
    text = _cell_text(cell)
    if isinstance(cell, Amount):
        text += "," * (len(text) // 3)  # thousands separators
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def to_xlsx(report, lang: str = "zh", *, sheet: str = "") -> bytes:
    """The report as an XLSX workbook: the same layout as the CSV (``report_table``), with
    amounts as numbers (Decimal from integer minor units, so 0.1 + 0.2 stays exact) in the
    number format of their exponent ('#,##0.00' for fen), dates as dates, text as text (never a
    formula: a summary "=1+1" stays the text it is), the header row frozen, columns as wide as
    their content (within bounds)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    table = report_table(report, lang)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=(sheet or "report").translate(_SHEET_NAME_BAD)[:31] or "report")
    widths: dict[int, int] = {}
    for row in table:
        for i, cell in enumerate(row):
            widths[i] = max(widths.get(i, 0), _display_width(cell))
    for i, w in widths.items():
        ws.column_dimensions[get_column_letter(i + 1)].width = min(max(w + 2, 8), 60)
    ws.freeze_panes = "A2"
    bold, center = Font(bold=True), Alignment(horizontal="center", vertical="center")
    header, *body = table
    head_cells = []
    for value in header:
        c = WriteOnlyCell(ws, value=_cell_text(value))
        c.data_type = "s"
        c.font, c.alignment = bold, center
        head_cells.append(c)
    ws.append(head_cells)
    for row in body:
        out = []
        for value in row:
            if isinstance(value, Amount):
                c = WriteOnlyCell(ws, value=value.decimal())
                c.number_format = _number_format(value.exponent)
            elif isinstance(value, dt.date):
                c = WriteOnlyCell(ws, value=value)
                c.number_format = "yyyy-mm-dd"
            elif isinstance(value, int):
                c = WriteOnlyCell(ws, value=value)
            elif value is None or value == "":
                c = WriteOnlyCell(ws, value=None)
            else:
                c = WriteOnlyCell(ws, value=str(value))
                c.data_type = "s"  # text that starts with "=" is still text, not a formula
            out.append(c)
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
