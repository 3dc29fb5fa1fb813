"""Reports of a book (账簿与报表): balances, trial balance, statements, ledgers, fund statement.

Pure functions of a :class:`~ledger.models.Book` and typed arguments returning dataclasses;
no request code here, so the HTML views, the JSON API and the CLI render the same results.
Reports read the per-period balances table kept at posting time (``balances.py``), never a
scan of all vouchers.
"""

from .balances import AccountBalance, account_balances, total_by_unit

__all__ = [
    "AccountBalance",
    "account_balances",
    "total_by_unit",
]
