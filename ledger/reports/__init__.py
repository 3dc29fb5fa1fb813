"""Reports of a book (账簿与报表): balances, trial balance, statements, ledgers, fund statement.

Pure functions of a :class:`~ledger.models.Book` and typed arguments returning dataclasses;
no request code here, so the HTML views, the JSON API and the CLI render the same results
(``to_csv_rows``, ``to_json``). Reports read the per-period balances table kept at posting
time (``balances.py``), never a scan of all vouchers. Bad arguments (an end before the start,
a fund of another book, a statement of a book without a standard chart) raise InvalidInput.
"""

from .balances import AccountBalance, account_balances, total_by_unit
from .cashflow import (
    CashLine,
    cash_flow_statement,
    classification_choices,
    classify_cash_line,
    unclassified_cash_lines,
)
from .funds import FundRow, FundStatement, fund_statement
from .ledgers import (
    AccountDetail,
    DetailLine,
    GeneralLedger,
    LedgerAccount,
    LedgerMonth,
    account_detail,
    general_ledger,
)
from .render import account_json, to_csv_rows, to_json
from .statements import Statement, StatementColumn, StatementLine, balance_sheet, income_statement
from .trial_balance import TrialBalance, TrialBalanceRow, TrialBalanceTotals, trial_balance

__all__ = [
    "AccountBalance",
    "AccountDetail",
    "CashLine",
    "DetailLine",
    "FundRow",
    "FundStatement",
    "GeneralLedger",
    "LedgerAccount",
    "LedgerMonth",
    "Statement",
    "StatementColumn",
    "StatementLine",
    "TrialBalance",
    "TrialBalanceRow",
    "TrialBalanceTotals",
    "account_balances",
    "account_detail",
    "account_json",
    "balance_sheet",
    "cash_flow_statement",
    "classification_choices",
    "classify_cash_line",
    "fund_statement",
    "general_ledger",
    "income_statement",
    "to_csv_rows",
    "to_json",
    "total_by_unit",
    "trial_balance",
    "unclassified_cash_lines",
]
