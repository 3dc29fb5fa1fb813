# SPDX-License-Identifier: AGPL-3.0-or-later
"""The trustee's remuneration (酬金制, DOMAIN.md TP-5), computed each month from the books.

``compute(mode, *, collected_fees, public_revenue=0, rate=None, fixed=None, cap=None, floor=None)``
→ integer fen. FIXED pays ``fixed``; PCT_OF_COLLECTED_FEES pays ``collected_fees × rate``;
PCT_INCL_PUBLIC_REVENUE pays ``(collected_fees + public_revenue) × rate`` (the service allows it only
with a recorded owners' resolution). The product is rounded half up to the fen (ROUND_HALF_UP), then
raised to ``floor`` and lowered to ``cap``. A mode without its inputs is a ValueError.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


class Mode(enum.StrEnum):
    FIXED = "FIXED"
    PCT_OF_COLLECTED_FEES = "PCT_OF_COLLECTED_FEES"
    PCT_INCL_PUBLIC_REVENUE = "PCT_INCL_PUBLIC_REVENUE"


@dataclass(frozen=True)
class Calculation:
    """What owners are shown: base × rate, the rounded product, and which bound applied."""

    mode: Mode
    base: int  # fen (0 for FIXED)
    rate: Decimal | None
    product: int  # rounded half up to the fen (or the fixed amount)
    floor: int | None
    cap: int | None
    amount: int
    bound: str  # "" | "floor" | "cap"


def _fen(value, name: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number of fen, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} cannot be negative ({value} fen)")
    return value


def calculate(
    mode,
    *,
    collected_fees: int,
    public_revenue: int = 0,
    rate: Decimal | None = None,
    fixed: int | None = None,
    cap: int | None = None,
    floor: int | None = None,
) -> Calculation:
    try:
        m = Mode(mode)
    except ValueError:
        raise ValueError(f"unknown remuneration mode {mode!r}") from None
    fees = _fen(collected_fees, "collected_fees")
    public = _fen(public_revenue, "public_revenue")
    lo = _fen(floor, "floor", optional=True)
    hi = _fen(cap, "cap", optional=True)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"the floor ({lo} fen) is above the cap ({hi} fen)")
    base = 0
    r: Decimal | None = None
    if m is Mode.FIXED:
        if fixed is None:
            raise ValueError("mode FIXED needs the fixed amount")
        product = _fen(fixed, "fixed")
        assert product is not None
    else:
        if rate is None:
            raise ValueError(f"mode {m} needs a rate")
        if not isinstance(rate, Decimal) or not rate.is_finite() or rate < 0:
            raise ValueError(f"the rate must be a non-negative Decimal, not {rate!r}")
        r = rate
        assert fees is not None and public is not None
        base = fees + (public if m is Mode.PCT_INCL_PUBLIC_REVENUE else 0)
        product = int((Decimal(base) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    amount, bound = product, ""
    if lo is not None and amount < lo:
        amount, bound = lo, "floor"
    if hi is not None and amount > hi:
        amount, bound = hi, "cap"
    return Calculation(
        mode=m, base=base, rate=r, product=product, floor=lo, cap=hi, amount=amount, bound=bound
    )


def compute(
    mode,
    *,
    collected_fees: int,
    public_revenue: int = 0,
    rate: Decimal | None = None,
    fixed: int | None = None,
    cap: int | None = None,
    floor: int | None = None,
) -> int:
    """The month's remuneration in fen (see the module docstring)."""
    return calculate(
        mode,
        collected_fees=collected_fees,
        public_revenue=public_revenue,
        rate=rate,
        fixed=fixed,
        cap=cap,
        floor=floor,
    ).amount
