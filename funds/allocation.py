# SPDX-License-Identifier: AGPL-3.0-or-later
"""Community public finance (社区保障资金) by formula (DOMAIN.md CF-4).

urban community (城市社区) = ¥100,000 + ¥1,500 per 100 residents;
rural community (农村社区) = ¥250,000 + ¥4,000 per 100 residents.

The sources do not say how a partial hundred counts, so it is a setting (``part_hundreds``):
``floor`` (whole hundreds only), ``ceil`` (a started hundred counts), or ``proportional``
(the exact share, rounded half up to the fen). Nor do they say which population counts
(常住 resident or 户籍 registered): the caller records its basis on the allocation.
"""

from __future__ import annotations

import decimal
from fractions import Fraction
from numbers import Integral, Rational

KINDS = ("urban", "rural")
MODES = ("floor", "ceil", "proportional")
BASES = ("resident", "registered")  # 常住 / 户籍

# kind → (base, per hundred residents), fen
FORMULA: dict[str, tuple[int, int]] = {
    "urban": (100_000_00, 1_500_00),
    "rural": (250_000_00, 4_000_00),
}


def _whole(population: object) -> int:
    """The population as an int, or ValueError when it is not a non-negative whole number."""
    if isinstance(population, bool):
        raise ValueError("population must be a whole number, not a boolean")
    if isinstance(population, Integral):
        n = int(population)
    elif isinstance(population, (Rational, decimal.Decimal, float)):
        try:
            exact = Fraction(population)
        except (ValueError, OverflowError, TypeError):
            raise ValueError(f"population must be a whole number: {population!r}") from None
        if exact.denominator != 1:
            raise ValueError(f"population must be a whole number: {population!r}")
        n = int(exact)
    else:
        raise ValueError(f"population must be a whole number: {population!r}")
    if n < 0:
        raise ValueError(f"population must not be negative: {n}")
    return n


def public_finance(kind: str, population: object, part_hundreds: str = "floor") -> int:
    """The yearly 社区保障资金 of one community, in fen."""
    if kind not in FORMULA:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}: {kind!r}")
    if part_hundreds not in MODES:
        raise ValueError(f"part_hundreds must be one of {', '.join(MODES)}: {part_hundreds!r}")
    n = _whole(population)
    base, per_hundred = FORMULA[kind]
    if part_hundreds == "floor":
        return base + per_hundred * (n // 100)
    if part_hundreds == "ceil":
        return base + per_hundred * -(-n // 100)
    # proportional: base + per_hundred × n / 100, rounded half up to the fen
    num, den = per_hundred * n, 100
    return base + (2 * num + den) // (2 * den)
