# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pro-rata splits to the fen: the one allocation every domain uses (dividends, pre-emption
claims, points, funds, the property trust). DESIGN.md §3a: "Pro-rata splits use the one
largest-remainder allocation".

``largest_remainder(total, weights)`` gives each position the floor of its exact share
``total × w / Σw``, then hands the fen left over, one each, to the largest remainders; equal
remainders go to the larger weight, then to the earlier position. So the parts sum exactly to
the total and no part differs from its exact share by a whole fen or more. The arithmetic is
integer throughout (remainders are compared as numerators over the same denominator).
"""

from __future__ import annotations

from collections.abc import Sequence


def largest_remainder(total_fen: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_fen`` (a non-negative whole number of fen) in proportion to ``weights``
    (positive whole numbers: paid-in capital in fen, areas in hundredths of m², points …)."""
    if isinstance(total_fen, bool) or not isinstance(total_fen, int):
        raise ValueError(f"the total to split must be a whole number of fen, not {total_fen!r}")
    if total_fen < 0:
        raise ValueError(f"the total to split cannot be negative ({total_fen} fen)")
    if not weights:
        raise ValueError("there is nobody to split among (the list of weights is empty)")
    for i, w in enumerate(weights):
        if isinstance(w, bool) or not isinstance(w, int):
            raise ValueError(f"weight {i + 1} must be a whole number, not {w!r}")
        if w <= 0:
            raise ValueError(f"weight {i + 1} must be positive, not {w}")
    denominator = sum(weights)
    parts: list[int] = []
    remainders: list[int] = []
    for w in weights:
        q, r = divmod(total_fen * w, denominator)
        parts.append(q)
        remainders.append(r)
    left = total_fen - sum(parts)  # 0 <= left < len(weights)
    if left:
        order = sorted(range(len(weights)), key=lambda i: (-remainders[i], -weights[i], i))
        for i in order[:left]:
            parts[i] += 1
    return parts
