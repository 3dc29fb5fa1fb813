"""property_trust.remuneration.compute: half up to the fen, then floor and cap; ValueError for a
mode without its inputs; never outside [floor, cap]."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from property_trust.remuneration import Mode, calculate, compute


def test_percent_of_collected_fees_rounds_half_up():
    assert compute("PCT_OF_COLLECTED_FEES", collected_fees=1_000_05, rate=Decimal("0.1")) == 10_001
    # 25 × 0.1 = 2.5 → 3 (half up, not banker's 2)
    assert compute(Mode.PCT_OF_COLLECTED_FEES, collected_fees=25, rate=Decimal("0.1")) == 3
    assert compute(Mode.PCT_OF_COLLECTED_FEES, collected_fees=15, rate=Decimal("0.1")) == 2
    assert compute(Mode.PCT_OF_COLLECTED_FEES, collected_fees=14, rate=Decimal("0.1")) == 1


def test_public_revenue_counts_only_in_its_mode():
    kw = dict(collected_fees=100_000, public_revenue=50_000, rate=Decimal("0.12"))
    assert compute("PCT_OF_COLLECTED_FEES", **kw) == 12_000
    assert compute("PCT_INCL_PUBLIC_REVENUE", **kw) == 18_000


def test_floor_and_cap_apply_after_rounding():
    kw = dict(collected_fees=100_000, rate=Decimal("0.12"))
    assert compute("PCT_OF_COLLECTED_FEES", floor=15_000, **kw) == 15_000
    assert compute("PCT_OF_COLLECTED_FEES", cap=10_000, **kw) == 10_000
    c = calculate("PCT_OF_COLLECTED_FEES", cap=10_000, **kw)
    assert (c.base, c.product, c.bound) == (100_000, 12_000, "cap")
    assert compute("FIXED", collected_fees=0, fixed=8_000, floor=9_000) == 9_000


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(mode="FIXED", collected_fees=100),
        dict(mode="PCT_OF_COLLECTED_FEES", collected_fees=100),
        dict(mode="PCT_INCL_PUBLIC_REVENUE", collected_fees=100, public_revenue=5),
        dict(mode="BONUS", collected_fees=100, fixed=1),
        dict(mode="PCT_OF_COLLECTED_FEES", collected_fees=100, rate=0.1),
        dict(mode="FIXED", collected_fees=100, fixed=1.5),
        dict(mode="FIXED", collected_fees=100, fixed=5, floor=10, cap=9),
        dict(mode="FIXED", collected_fees=-1, fixed=5),
    ],
)
def test_a_mode_without_its_inputs_is_a_value_error(kwargs):
    mode = kwargs.pop("mode")
    with pytest.raises(ValueError):
        compute(mode, **kwargs)


@given(
    st.sampled_from(list(Mode)),
    st.integers(0, 10**12),
    st.integers(0, 10**12),
    st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False),
    st.integers(0, 10**10),
    st.one_of(st.none(), st.integers(0, 10**9)),
    st.one_of(st.none(), st.integers(0, 10**9)),
)
def test_never_outside_floor_and_cap(mode, fees, public, rate, fixed, a, b):
    floor, cap = a, b
    if floor is not None and cap is not None and floor > cap:
        floor, cap = cap, floor
    got = compute(
        mode,
        collected_fees=fees,
        public_revenue=public,
        rate=rate,
        fixed=fixed,
        floor=floor,
        cap=cap,
    )
    assert isinstance(got, int)
    if floor is not None:
        assert got >= floor
    if cap is not None:
        assert got <= cap
    if floor is None and cap is None and mode is not Mode.FIXED:
        base = fees + (public if mode is Mode.PCT_INCL_PUBLIC_REVENUE else 0)
        exact = base * rate
        assert abs(got - exact) <= Decimal("0.5")
