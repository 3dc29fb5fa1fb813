"""core.parse: the bounded parsers every page, report and API field uses (issue 9 item 4)."""

from __future__ import annotations

import datetime as dt

import pytest

from core import parse
from core.errors import InvalidInput, NotFound
from core.months import Month

UNICODE_DIGITS = ["²", "３", "٣", "१", "𝟙", "1²", "1٣"]


@pytest.mark.parametrize(
    "text", [*UNICODE_DIGITS, "1" * 5000, "1" * 20, "", " ", "-1", "+1", "1.0"]
)
def test_ints_are_ascii_digits_bounded_before_conversion(text):
    with pytest.raises(InvalidInput) as e:
        parse.bounded_int(text, 0, 10**30, field="n")
    assert e.value.errors == {"n": [str(e.value.message)]}


def test_ids_pages_years():
    assert parse.int_id("9223372036854775807") == 2**63 - 1
    with pytest.raises(InvalidInput):
        parse.int_id("9223372036854775808")
    with pytest.raises(NotFound):
        parse.int_id("３", missing=NotFound)
    assert parse.page(None) == parse.page("") == 1
    assert parse.page(" 7 ") == 7
    with pytest.raises(InvalidInput):
        parse.page("1000001")
    assert parse.year("1900") == 1900 and parse.year("9999") == 9999
    for bad in ("1899", "10000", "２０２６", "0"):
        with pytest.raises(InvalidInput):
            parse.year(bad)


def test_months_and_dates_at_the_calendars_edge():
    assert parse.month("9999-12") == Month(9999, 12)
    assert parse.month("9999-12").last_day == dt.date(9999, 12, 31)
    for bad in ("0001-01", "1899-12", "2026-13", "２０２６-０３", "1" * 5000, None):
        with pytest.raises(InvalidInput):
            parse.month(bad)
    assert parse.date("9999-12-31") == parse.MAX_DATE
    assert parse.date("1900-01-01") == parse.MIN_DATE
    assert parse.optional_date("  ") is None
    for bad in ("0001-01-01", "1899-12-31", "2026-02-30", "20260301", "２０２６-03-01", "1" * 5000):
        with pytest.raises(InvalidInput) as e:
            parse.date(bad, field="start")
        assert "start" in e.value.errors


def test_unicode_digits_in_an_address_are_not_found(client):
    assert client.get("/public/o/３").status_code == 404
    assert client.get("/books/٣/").status_code == 404  # no such address (not: log in first)
