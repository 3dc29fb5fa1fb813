"""Read and write plain-text accounting files (beancount; hledger output).

Pure Python: no database, no Flask. Money is integer minor units of each commodity, never
float. The structures here are neutral: the importer and exporter that map them to the
database live elsewhere.

Parsing uses ``beancount_ast`` (MIT), a Rust parser that reports byte spans, so every error
can name its line. (``beancount-parser-lima`` 0.6's Python bindings expose no line numbers,
print parse errors only to stderr, read only from a file path and follow ``include``s on disk
by themselves, so they cannot give a bookkeeper "line N: ...".) The GPL ``beancount``
package is never imported here; the tests use it as a separate program only.

Supported beancount subset (``read_beancount``)
    ``open`` (with currency constraints), ``close``, ``commodity``, transactions (payee,
    narration, flag; tags, links and metadata are ignored), at most one posting without an
    amount (inferred per commodity, as beancount does), ``balance`` assertions (checked at the
    start of their day, on the account *and its sub-accounts*, as beancount does), options
    ``title`` and ``operating_currency`` and harmless display/tolerance options.
    ``note``, ``document``, ``event``, ``query``, ``price`` and ``custom`` directives do not
    affect balances: they are skipped and listed in ``PTJournal.ignored``.

Rejected with a line number (``PlainTextError``)
    cost basis ``{...}``, prices ``@``/``@@``, ``pad``, ``plugin``, ``include``, options that
    rename the root accounts, syntax errors, unknown/inactive accounts, currencies an account
    does not allow, transactions that do not balance *exactly* (beancount tolerates a small
    rounding residual; we do not), amounts that cannot be held exactly in integer minor units,
    failing balance assertions (exact unless the assertion gives an explicit ``~`` tolerance).

Minor units
    ISO 4217 currencies use their ISO exponent (CNY/USD/EUR 2, JPY/KRW 0, KWD 3...): an amount
    such as ``1.005 CNY`` is rejected; ``1.000 CNY`` is fine. Any other commodity (e.g.
    ``POINTS``) gets the largest number of significant decimal places seen for it in the file
    (at most ``MAX_EXPONENT``). Callers can fix exponents with ``read_beancount(exponents=)``.
"""

from __future__ import annotations

from .journal import (
    ISO_EXPONENTS,
    MAX_EXPONENT,
    ROOTS,
    PlainTextError,
    PTAccount,
    PTBalance,
    PTJournal,
    PTPosting,
    PTProblem,
    PTTransaction,
    balances,
    beancount_account_name,
    beancount_commodity_name,
    format_units,
    is_valid_account_name,
    is_valid_commodity,
)
from .reader import read_beancount
from .writer import write_beancount, write_hledger

__all__ = [
    "ISO_EXPONENTS",
    "MAX_EXPONENT",
    "ROOTS",
    "PTAccount",
    "PTBalance",
    "PTJournal",
    "PTPosting",
    "PTProblem",
    "PTTransaction",
    "PlainTextError",
    "balances",
    "beancount_account_name",
    "beancount_commodity_name",
    "format_units",
    "is_valid_account_name",
    "is_valid_commodity",
    "read_beancount",
    "write_beancount",
    "write_hledger",
]
