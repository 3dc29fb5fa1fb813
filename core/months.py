# SPDX-License-Identifier: AGPL-3.0-or-later
"""One calendar month (会计期间), the unit books are closed and reported in.

``Month`` replaces the ``year * 100 + month`` arithmetic the ledger, transparency and the
domains would otherwise each write: it orders, steps, parses and prints itself, and keeps its
integer key (``202603``) for the columns that store one (``closed_through``, ``period_key``).
Years run from 1900 to 9999; anything else is not a month a book can have.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["MAX_YEAR", "MIN_YEAR", "Month"]

MIN_YEAR = 1900
MAX_YEAR = 9999
_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A month of the calendar: ``Month(2026, 3)``, printed ``2026-03``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if (
            type(self.year) is not int
            or type(self.month) is not int
            or not (MIN_YEAR <= self.year <= MAX_YEAR)
            or not (1 <= self.month <= 12)
        ):
            raise ValueError(f"no such month: {self.year!r}-{self.month!r}")

    # --- conversions ---------------------------------------------------------------------

    @classmethod
    def of(cls, day: dt.date) -> Month:
        """The month a date falls in."""
        return cls(day.year, day.month)

    @classmethod
    def from_key(cls, key: int) -> Month:
        """From the stored integer form ``yyyymm``."""
        year, month = divmod(key, 100)
        return cls(year, month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM`` in ASCII digits, nothing else (ValueError otherwise)."""
        m = _TEXT.fullmatch(text.strip()) if isinstance(text, str) else None
        if m is None:
            raise ValueError(f"not a month (YYYY-MM): {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @property
    def key(self) -> int:
        """The stored integer form, ``yyyymm``."""
        return self.year * 100 + self.month

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    # --- days --------------------------------------------------------------------------------

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and day.year == self.year and day.month == self.month

    # --- steps -------------------------------------------------------------------------------

    def plus(self, months: int) -> Month:
        """The month ``months`` later (earlier when negative); ValueError past the range."""
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def next(self) -> Month:
        return self.plus(1)

    def previous(self) -> Month:
        return self.plus(-1)

    def until(self, last: Month) -> list[Month]:
        """This month through ``last``, inclusive (empty when ``last`` comes first)."""
        count = (last.year - self.year) * 12 + last.month - self.month + 1
        return [self.plus(i) for i in range(max(count, 0))]
