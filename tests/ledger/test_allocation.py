"""ledger.allocation.largest_remainder: exact sums, parts within a fen of their exact share,
the tie rules, and clear refusals."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.allocation import largest_remainder


def brute_force(total: int, weights: list[int]) -> list[int]:
    """The specification written out with Fractions, independently of the implementation."""
    s = sum(weights)
    exact = [Fraction(total * w, s) for w in weights]
    parts = [int(e) for e in exact]  # floor: every share is non-negative
    left = total - sum(parts)
    ranked = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), -weights[i], i))
    for i in ranked[:left]:
        parts[i] += 1
    return parts


@given(
    st.integers(min_value=0, max_value=10**15),
    st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=60),
)
def test_parts_sum_to_the_total_and_stay_within_a_fen_of_the_exact_share(total, weights):
    parts = largest_remainder(total, weights)
    assert sum(parts) == total
    s = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        exact = Fraction(total * w, s)
        assert part - exact < 1 and exact - part < 1
        assert part in (int(exact), int(exact) + 1)
    assert parts == brute_force(total, weights)


def test_leftover_fen_go_to_largest_remainders_then_larger_weight_then_earlier():
    # 100 fen among three equal holders: 33.33 each, the one fen left to the first.
    assert largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    # Remainders 0.75 and 0.25: the larger remainder first.
    assert largest_remainder(3, [1, 3]) == [1, 2]
    # Remainders 0.5 and 0.5 (exact shares 0.5 and 1.5): equal, so the larger weight wins.
    assert largest_remainder(2, [1, 3]) == [0, 2]
    assert largest_remainder(5, [2, 2, 6]) == [1, 1, 3]
    # Remainders 1/2, 1/2, 0 with equal weights: the earlier position.
    assert largest_remainder(2, [1, 1, 2]) == [1, 0, 1]
    assert largest_remainder(1, [5, 5]) == [1, 0]
    assert largest_remainder(2, [1, 1, 1, 1]) == [1, 1, 0, 0]
    # Remainders 2/3 and 1/3.
    assert largest_remainder(1, [2, 1]) == [1, 0]
    assert largest_remainder(1, [1, 2]) == [0, 1]


def test_zero_total_gives_zeros():
    assert largest_remainder(0, [3, 4]) == [0, 0]


@pytest.mark.parametrize(
    ("total", "weights", "words"),
    [
        (-1, [1], "negative"),
        (10, [], "empty"),
        (10, [1, 0], "positive"),
        (10, [1, -2], "positive"),
        (1.5, [1], "whole number"),
        (10, [1.0], "whole number"),
        (True, [1], "whole number"),
    ],
)
def test_bad_input_is_a_value_error_that_says_why(total, weights, words):
    with pytest.raises(ValueError, match=words):
        largest_remainder(total, weights)
