import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.months import Month

months = st.builds(Month, st.integers(1900, 9999), st.integers(1, 12))


def test_month_prints_parses_and_keys():
    m = Month(2026, 3)
    assert str(m) == "2026-03"
    assert m.key == 202603
    assert Month.parse("2026-03") == m == Month.from_key(202603) == Month.of(dt.date(2026, 3, 31))
    assert m.first_day == dt.date(2026, 3, 1) and m.last_day == dt.date(2026, 3, 31)
    assert Month(2024, 2).last_day == dt.date(2024, 2, 29)
    assert Month(9999, 12).last_day == dt.date(9999, 12, 31)


def test_month_steps_across_years():
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert Month(2026, 11).until(Month(2027, 2)) == [
        Month(2026, 11),
        Month(2026, 12),
        Month(2027, 1),
        Month(2027, 2),
    ]
    assert Month(2026, 3).until(Month(2026, 2)) == []
    assert dt.date(2026, 3, 5) in Month(2026, 3) and dt.date(2026, 4, 1) not in Month(2026, 3)


@pytest.mark.parametrize(
    "text",
    [
        "2026-13",
        "2026-00",
        "0001-01",
        "2026-3",
        "２０２６-０３",
        "2026-0³",
        "2026/03",
        "",
        "9" * 5000,
    ],
)
def test_month_refuses_what_is_not_a_month(text):
    with pytest.raises(ValueError):
        Month.parse(text)


def test_month_refuses_steps_past_its_range():
    with pytest.raises(ValueError):
        Month(9999, 12).next()
    with pytest.raises(ValueError):
        Month(1900, 1).previous()
    with pytest.raises(ValueError):
        Month(True, 1)


@given(months, st.integers(-500, 500))
def test_month_steps_agree_with_keys_and_order(m, n):
    try:
        later = m.plus(n)
    except ValueError:
        return
    assert later.plus(-n) == m
    assert (later > m) == (n > 0) and (later.key > m.key) == (n > 0)
    assert Month.parse(str(later)) == later
