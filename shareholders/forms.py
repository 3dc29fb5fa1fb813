# SPDX-License-Identifier: AGPL-3.0-or-later
"""Submitted text → typed values, shared by the HTML forms, the API and the CLI: amounts in
yuan ("1234.56", exact to the fen), dates, ids. Problems are InvalidInput keyed by field."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from core import parse
from core.db import db
from core.errors import InvalidInput, NotFound
from core.models import Organisation, Resident
from ledger.entry import parse_amount_text


def amount(value, field: str, *, allow_zero: bool = False) -> int:
    if allow_zero and (value is None or re.fullmatch(r"\s*[¥￥]?0*(\.0*)?\s*", str(value))):
        return 0
    try:
        fen = parse_amount_text(None if value is None else str(value), 2)
    except InvalidInput as e:
        raise InvalidInput(e.message, errors={field: [str(e.message)]}) from None
    if fen < 0 or (fen == 0 and not allow_zero):
        raise InvalidInput(
            _l("Enter an amount greater than zero."),
            errors={field: [str(_l("Enter an amount greater than zero."))]},
        )
    if fen > 10**15:
        raise InvalidInput(errors={field: [str(_l("Too large."))]})
    return fen


def date(value, field: str, default: dt.date | None = None) -> dt.date:
    if (value is None or value == "") and default is not None:
        return default
    return parse.date(value, field=field)


def optional_date(value, field: str) -> dt.date | None:
    if value is None or value == "":
        return None
    return parse.date(value, field=field)


def count(value, field: str) -> int:
    if value is None or value == "":
        return 0
    return parse.bounded_int(value, 0, 1_000_000, field=field)


def text(value, field: str, max_length: int = 300) -> str:
    return parse.text(value or "", field=field, max_length=max_length)


def resident(value, field: str = "resident_id") -> Resident:
    rid = parse.int_id(value, field=field)
    r = db.session.get(Resident, rid)
    if r is None:
        raise NotFound(_l("No such resident."))
    return r


def organisation(value, field: str = "holder_org_id") -> Organisation:
    oid = parse.int_id(value, field=field)
    o = db.session.get(Organisation, oid)
    if o is None:
        raise NotFound(_l("No such organisation."))
    return o


def percent(value, field: str) -> Decimal | None:
    """A percentage 0–100 with at most two decimals, or None when blank."""
    text = str(value or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,2})?", text) or Decimal(text) > 100:
        raise InvalidInput(
            _l("A percentage from 0 to 100, e.g. 30 or 12.5."),
            errors={field: [str(_l("A percentage from 0 to 100, e.g. 30 or 12.5."))]},
        )
    return Decimal(text)


def weights(value, field: str = "agreed_weights") -> dict[int, int] | None:
    """Lines "shareholder id = weight" (a distribution all shareholders agreed), or None."""
    text = str(value or "").strip()
    if not text:
        return None
    out: dict[int, int] = {}
    for line in text.splitlines()[:1000]:
        if not line.strip():
            continue
        m = re.fullmatch(r"\s*([0-9]{1,18})\s*[=:：]\s*([0-9]{1,15})\s*", line)
        if m is None:
            raise InvalidInput(
                _l("Write one line per shareholder: id = weight."),
                errors={field: [str(_l("Write one line per shareholder: id = weight."))]},
            )
        out[int(m.group(1))] = int(m.group(2))
    return out or None


def flag(value) -> bool:
    return str(value or "").lower() in ("1", "true", "on", "yes")
