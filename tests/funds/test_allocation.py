"""CF-4: the 社区保障资金 formula, one function, checked against the formula in every mode."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funds.allocation import public_finance

BASE = {"urban": (100_000, 1_500), "rural": (250_000, 4_000)}  # yuan


def oracle(kind: str, population: int, mode: str) -> int:
    """The formula in yuan with Decimal, written independently of the implementation."""
    base, per = BASE[kind]
    hundreds = Decimal(population) / 100
    if mode == "floor":
        hundreds = hundreds.to_integral_value(rounding="ROUND_FLOOR")
    elif mode == "ceil":
        hundreds = hundreds.to_integral_value(rounding="ROUND_CEILING")
    yuan = Decimal(base) + Decimal(per) * hundreds
    return int((yuan * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_vectors():
    assert public_finance("urban", 8000) == 22_000_000
    assert public_finance("rural", 3000) == 37_000_000
    assert public_finance("urban", 8050, "floor") == 22_000_000
    assert public_finance("urban", 8050, "ceil") == 22_150_000
    assert public_finance("urban", 8050, "proportional") == 22_075_000
    assert public_finance("rural", 0) == 25_000_000
    assert public_finance("rural", 1, "ceil") == 25_400_000
    assert public_finance("rural", 1, "proportional") == 25_004_000


@given(
    kind=st.sampled_from(["urban", "rural"]),
    population=st.integers(min_value=0, max_value=10_000_000),
    mode=st.sampled_from(["floor", "ceil", "proportional"]),
)
def test_agrees_with_the_formula(kind, population, mode):
    got = public_finance(kind, population, mode)
    assert got == oracle(kind, population, mode)
    assert isinstance(got, int)
    # floor ≤ proportional ≤ ceil, each a whole number of fen
    lo, hi = public_finance(kind, population, "floor"), public_finance(kind, population, "ceil")
    assert lo <= public_finance(kind, population, "proportional") <= hi


@pytest.mark.parametrize(
    "kind,population,mode",
    [
        ("urban", -1, "floor"),
        ("urban", 80.5, "floor"),
        ("urban", Fraction(1, 3), "floor"),
        ("urban", "8000", "floor"),
        ("urban", True, "floor"),
        ("urban", float("nan"), "floor"),
        ("urban", None, "floor"),
        ("town", 8000, "floor"),
        ("urban", 8000, "round"),
    ],
)
def test_bad_input_is_a_value_error(kind, population, mode):
    with pytest.raises(ValueError):
        public_finance(kind, population, mode)


def test_whole_decimals_count():
    assert public_finance("urban", Decimal("8000"), "floor") == 22_000_000
    assert public_finance("urban", 8000.0, "floor") == 22_000_000


def test_cli_prints_yuan(runner):
    r = runner.invoke(
        args=[
            "funds",
            "allocation",
            "--kind",
            "urban",
            "--population",
            "8050",
            "--part-hundreds",
            "floor",
        ]
    )
    assert r.exit_code == 0, r.output
    assert r.output == "220000.00\n"
    r = runner.invoke(
        args=[
            "funds",
            "allocation",
            "--kind",
            "rural",
            "--population",
            "3050",
            "--part-hundreds",
            "proportional",
        ]
    )
    assert r.output == "372000.00\n"
    r = runner.invoke(args=["funds", "allocation", "--kind", "urban", "--population", "12.5"])
    assert r.exit_code == 2
    assert "whole number" in r.output
