"""property_trust.votes.decide: exact boundaries, agreement with a brute-force Fraction check,
refusal of impossible tallies."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from property_trust.votes import decide


def brute(kind, ta, to, va, vo, ya, yo):
    ta, va, ya = Fraction(ta), Fraction(va), Fraction(ya)
    quorum = va / ta >= Fraction(2, 3) and Fraction(vo, to) >= Fraction(2, 3)
    if vo == 0 or va == 0:
        return quorum, False
    if kind == "major":
        ok = ya / va >= Fraction(3, 4) and Fraction(yo, vo) >= Fraction(3, 4)
    else:
        ok = ya / va > Fraction(1, 2) and Fraction(yo, vo) > Fraction(1, 2)
    return quorum, quorum and ok


@st.composite
def tallies(draw):
    """Random tallies in hundredths of m², biased towards the exact boundaries."""
    to = draw(st.integers(1, 2000))
    ta = draw(st.integers(1, 10**9))  # hundredths of m²

    def part(whole, fractions):
        choice = draw(st.sampled_from(["any", *fractions]))
        if choice == "any":
            return draw(st.integers(0, whole))
        num, den = choice
        base = whole * num // den
        return min(whole, max(0, base + draw(st.sampled_from([-1, 0, 0, 0, 1]))))

    vo = part(to, [(2, 3)])
    va = part(ta, [(2, 3)])
    yo = part(vo, [(3, 4), (1, 2)])
    ya = part(va, [(3, 4), (1, 2)])
    return ta, to, va, vo, ya, yo


def dec(hundredths: int) -> Decimal:
    return Decimal(hundredths).scaleb(-2)


@given(st.sampled_from(["major", "ordinary"]), tallies(), st.booleans())
def test_decide_agrees_with_a_rational_brute_force(kind, t, as_text):
    ta, to, va, vo, ya, yo = t
    areas = [dec(x) for x in (ta, va, ya)]
    if as_text:
        areas = [str(a) for a in areas]
    d = decide(kind, areas[0], to, areas[1], vo, areas[2], yo)
    quorum, passed = brute(kind, dec(ta), to, dec(va), vo, dec(ya), yo)
    assert d.quorum_met == quorum
    assert d.passed == passed
    assert d.reasons


@pytest.mark.parametrize(
    ("kind", "args", "quorum", "passed"),
    [
        # exactly two thirds of area and owners take part: quorum (以上 includes the boundary)
        ("ordinary", ("300", 3, "200", 2, "200", 2), True, True),
        # just under two thirds of the area
        ("ordinary", ("300", 3, "199.99", 2, "199.99", 2), False, False),
        # exactly three quarters (major): passes
        ("major", ("100", 4, "100", 4, "75", 3), True, True),
        # a hundredth of a m² under three quarters: fails
        ("major", ("100", 4, "100", 4, "74.99", 3), True, False),
        # exactly half (ordinary): not 过半数
        ("ordinary", ("100", 4, "100", 4, "50", 2), True, False),
        ("ordinary", ("100", 4, "100", 4, "50.01", 3), True, True),
        # thirds that no float represents exactly
        ("ordinary", ("0.03", 3, "0.02", 2, "0.02", 2), True, True),
    ],
)
def test_exact_boundaries(kind, args, quorum, passed):
    d = decide(kind, *args)
    assert (d.quorum_met, d.passed) == (quorum, passed)


@pytest.mark.parametrize(
    ("args", "field", "figure"),
    [
        (("100", 10, "100.01", 5, "1", 1), "voted_area", "100.01"),
        (("100", 10, "100", 11, "1", 1), "voted_owners", "11"),
        (("100", 10, "80", 8, "80.5", 1), "yes_area", "80.5"),
        (("100", 10, "80", 8, "1", 9), "yes_owners", "9"),
    ],
)
def test_impossible_tallies_are_refused_naming_the_figures(args, field, figure):
    with pytest.raises(InvalidInput) as e:
        decide("ordinary", *args)
    assert field in e.value.errors
    assert figure in str(e.value.message)


def test_floats_and_unknown_kinds_are_refused():
    with pytest.raises(InvalidInput):
        decide("ordinary", 100.0, 10, "80", 8, "60", 6)
    with pytest.raises(InvalidInput):
        decide("landslide", "100", 10, "80", 8, "60", 6)
    with pytest.raises(InvalidInput):
        decide("ordinary", "abc", 10, "80", 8, "60", 6)
