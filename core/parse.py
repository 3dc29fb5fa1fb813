"""Bounded parsers for text that comes from outside: query strings, form fields, JSON strings.

One set of rules, used by every page, API endpoint and report (issue 9 item 4):

- numbers are ASCII digits only (``str.isdigit`` and ``int`` also take ``²``, ``３`` and
  ``٣``, and ``int`` refuses strings over 4,300 digits with a ValueError), bounded in length
  *before* they are converted, then bounded in range;
- ids run from 1 to 2^63−1 (a BIGINT), pages from 1 to ``MAX_PAGE``, years from 1900 to 9999;
- months are ``core.months.Month`` (``YYYY-MM``); dates are ``YYYY-MM-DD`` in ASCII digits
  from ``MIN_DATE`` to ``MAX_DATE``. A report that needs "the day before" the first day still
  has a date (1899-12-31); one needing "the month after" uses ``Month``, never ``year + 1``;
- text refuses what no page should store or show: NUL and other C0 controls but tab and line
  breaks, lone surrogates, and the bidirectional controls (U+202A–U+202E, U+2066–U+2069,
  U+200E, U+200F) that make a summary read differently from what it is.

Each parser raises ``core.errors.InvalidInput`` (422) with a translated message and the field's
name in ``errors``; ``int_id(..., missing=NotFound)`` gives 404 for an id that is part of an
address. ``problem_*`` variants return the message instead, for forms that collect every problem.
"""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate

from .errors import InvalidInput, NotFound
from .months import MAX_YEAR, MIN_YEAR, Month

__all__ = [
    "BIDI_CONTROLS",
    "Date",
    "Integer",
    "MAX_DATE",
    "MAX_ID",
    "MAX_PAGE",
    "MIN_DATE",
    "bounded_int",
    "date",
    "int_id",
    "month",
    "optional_date",
    "page",
    "text",
    "text_problem",
    "unstorable_json_problem",
    "year",
]

MAX_ID = 2**63 - 1
MAX_PAGE = 1_000_000
MIN_DATE = dt.date(MIN_YEAR, 1, 1)
MAX_DATE = dt.date(MAX_YEAR, 12, 31)

_DIGITS = re.compile(r"[0-9]+")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MAX_DIGITS = 19  # 2^63 − 1 has 19 digits: nothing longer is converted

#: Bidirectional formatting characters: embeddings and overrides, isolates, and the marks.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
#: C0 controls other than tab, line feed and carriage return, and DEL.
_CONTROLS = frozenset(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") | {"\x7f"}
_REFUSED = BIDI_CONTROLS | _CONTROLS
_SURROGATE = re.compile("[\ud800-\udfff]")


def _invalid(field: str | None, message) -> InvalidInput:
    return InvalidInput(message, errors={field: [str(message)]} if field else None)


def _ascii_int(value) -> int | None:
    """The integer of ``value`` if it is 1–19 ASCII digits (surrounding blanks allowed)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > _MAX_DIGITS or not _DIGITS.fullmatch(value):
        return None
    return int(value)


def bounded_int(value, lo: int, hi: int, *, field: str | None = None, message=None) -> int:
    """``value`` (ASCII digits, or an int) within [lo, hi], else InvalidInput."""
    n = _ascii_int(value)
    if n is None or not (lo <= n <= hi):
        raise _invalid(
            field, message or _l("Enter a whole number from %(lo)d to %(hi)d.", lo=lo, hi=hi)
        )
    return n


def int_id(value, *, field: str | None = None, missing: type | None = None) -> int:
    """A database id, 1 … 2^63−1. ``missing=NotFound``: a bad id in an address is a 404."""
    n = _ascii_int(value)
    if n is None or not (1 <= n <= MAX_ID):
        if missing is NotFound:
            raise NotFound()
        raise _invalid(field, _l("No such record."))
    return n


def page(value, *, field: str = "page") -> int:
    """A page number, 1 … ``MAX_PAGE``; blank or absent is page 1."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1
    return bounded_int(value, 1, MAX_PAGE, field=field, message=_l("No such page."))


def year(value, *, field: str = "year") -> int:
    """A year of the books, 1900 … 9999, as four ASCII digits."""
    return bounded_int(
        value,
        MIN_YEAR,
        MAX_YEAR,
        field=field,
        message=_l("Enter a year from %(lo)d to %(hi)d.", lo=MIN_YEAR, hi=MAX_YEAR),
    )


def month(value, *, field: str = "month") -> Month:
    """``YYYY-MM`` (years 1900–9999) as a ``Month``."""
    try:
        if not isinstance(value, str) or len(value) > 20:
            raise ValueError
        return Month.parse(value)
    except ValueError:
        raise _invalid(field, _l("No such month. Use YYYY-MM.")) from None


def date(value, *, field: str = "date") -> dt.date:
    """``YYYY-MM-DD`` in ASCII digits, from 1900-01-01 to 9999-12-31 (or a ``date`` in range)."""
    day = None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    elif isinstance(value, str) and len(value) <= 20:
        m = _DATE.fullmatch(value.strip())
        if m:
            try:
                day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                day = None
    if day is None:
        raise _invalid(field, _l("Enter the date as YYYY-MM-DD."))
    if not (MIN_DATE <= day <= MAX_DATE):
        raise _invalid(
            field,
            _l(
                "Dates run from %(lo)s to %(hi)s.",
                lo=MIN_DATE.isoformat(),
                hi=MAX_DATE.isoformat(),
            ),
        )
    return day


def optional_date(value, *, field: str = "date") -> dt.date | None:
    """``date``, or None for blank or absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return date(value, field=field)


def text_problem(value: str):
    """Why ``value`` cannot be stored or shown as typed (a lazy message), or None."""
    if any(c in _REFUSED for c in value):
        if "\x00" in value or any(c in _CONTROLS for c in value):
            return _l("The text contains control characters that cannot be stored.")
        return _l(
            "The text contains invisible direction-changing characters (bidi controls); "
            "please retype it."
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _l("The text contains characters that cannot be stored.")
    return None


def text(value, *, field: str, max_length: int, strip: bool = True) -> str:
    """A text field (summary, memo, name): bounded, without NUL or bidi controls."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _invalid(field, _l("Not text."))
    if strip:
        value = value.strip()
    if len(value) > max_length:
        raise _invalid(field, _l("At most %(n)d characters, please.", n=max_length))
    problem = text_problem(value)
    if problem is not None:
        raise _invalid(field, problem)
    return value


def unstorable_json_problem(value) -> tuple[str, object] | None:
    """``(field, lazy message)`` for the first string of a decoded JSON body (key or value)
    holding NUL or a lone surrogate, or None. JSON's ``\\u0000`` and ``\\ud800`` escapes carry
    them and no database column stores them (sending one to the database raised: a 500, found by
    fuzzing the API). Checked for every JSON write before its view runs; ``field`` is the dotted
    path (``lines.0.memo``), ``_schema`` for the body itself."""
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, dict):
            for k, item in v.items():
                stack.append((path, k))
                stack.append((f"{path}.{k}" if path else str(k), item))
        elif isinstance(v, list):
            stack.extend((f"{path}.{n}" if path else str(n), item) for n, item in enumerate(v))
        elif isinstance(v, str) and ("\x00" in v or _SURROGATE.search(v)):
            field = path if _SURROGATE.search(path) is None and "\x00" not in path else "_schema"
            return field or "_schema", _l("The text contains characters that cannot be stored.")
    return None


# --- the same rules as marshmallow fields (API query strings and JSON bodies) ----------------


class Date(fields.Date):
    """``fields.Date`` through ``date``: ASCII ``YYYY-MM-DD`` from 1900-01-01 to 9999-12-31."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(str(_l("Enter the date as YYYY-MM-DD.")))
        try:
            return date(value, field=attr)
        except InvalidInput as e:
            raise ValidationError(str(e.message)) from None


class Integer(fields.Integer):
    """``fields.Integer`` through ``bounded_int``: ASCII digits (or a JSON integer) in [lo, hi]."""

    def __init__(self, lo: int, hi: int, **kwargs):
        kwargs.setdefault("validate", validate.Range(lo, hi))
        super().__init__(**kwargs)
        self.lo, self.hi = lo, hi

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            raise ValidationError(str(_l("Not a whole number.")))
        try:
            return bounded_int(value, self.lo, self.hi, field=attr)
        except InvalidInput as e:
            raise ValidationError(str(e.message)) from None
