"""Exact amounts: text or integers in, integer minor units out. Never float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel import numbers as babel_numbers
from flask_babel import lazy_gettext as _l

from core.errors import InvalidInput

# One line may move at most 10^15 minor units (¥10 trillion): far above any community's
# needs, and low enough that sums of millions of lines stay inside a signed 64-bit integer.
MAX_LINE_AMOUNT = 10**15

_ISO_CURRENCIES = frozenset(babel_numbers.list_currencies())
# Plain ASCII digits with at most one decimal point: Decimal alone would also take "1e3",
# "NaN" and non-ASCII digits.
_AMOUNT_TEXT = re.compile(r"^[0-9]+(\.[0-9]+)?$|^\.[0-9]+$")


def is_iso_currency(code: str) -> bool:
    return code in _ISO_CURRENCIES


def currency_exponent(code: str) -> int:
    return babel_numbers.get_currency_precision(code)


def parse_amount(
    value, exponent: int = 2, *, field: str = "amount", allow_zero: bool = False
) -> int:
    """Parse a treasurer's amount ("1,234.56", "1234.5", "12") into minor units.

    Refuses floats (binary fractions are not money), NaN and infinities, negative amounts,
    more decimal places than the unit has, and amounts above MAX_LINE_AMOUNT.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidInput(
            _l('Give amounts as text such as "1234.56", not as a binary number.'),
            errors={field: [str(_l("Amount must be text like 1234.56."))]},
        )
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("，", "").replace("¥", "").replace(" ", "")
    else:
        raise InvalidInput(
            _l("The amount is missing or not a number."), errors={field: [str(_l("Not a number."))]}
        )
    if not _AMOUNT_TEXT.match(text) and not text.startswith("-"):
        raise InvalidInput(
            _l("%(value)s is not an amount.", value=str(value)[:40]),
            errors={field: [str(_l("Not a number."))]},
        )
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(
            _l("%(value)s is not an amount.", value=str(value)[:40]),
            errors={field: [str(_l("Not a number."))]},
        ) from None
    if not d.is_finite():
        raise InvalidInput(
            _l("The amount must be a finite number."), errors={field: [str(_l("Not a number."))]}
        )
    if d < 0:
        raise InvalidInput(
            _l("Amounts are never negative: put the amount on the other side (debit or credit)."),
            errors={field: [str(_l("Negative amount."))]},
        )
    scaled = d.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise InvalidInput(
            _l("%(value)s has more than %(n)d decimal places.", value=text, n=exponent),
            errors={field: [str(_l("Too many decimal places."))]},
        )
    minor = int(scaled)
    if minor == 0 and not allow_zero:
        raise InvalidInput(
            _l("The amount must be more than zero."), errors={field: [str(_l("Zero amount."))]}
        )
    if minor > MAX_LINE_AMOUNT:
        raise InvalidInput(
            _l("The amount is too large for one line."), errors={field: [str(_l("Too large."))]}
        )
    return minor


def format_minor(amount: int, exponent: int = 2) -> str:
    """Minor units to a plain decimal string ("-1234.56"), for exports and JSON."""
    if exponent == 0:
        return str(amount)
    sign = "-" if amount < 0 else ""
    q, r = divmod(abs(amount), 10**exponent)
    return f"{sign}{q}.{r:0{exponent}d}"
