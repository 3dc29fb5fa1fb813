"""Languages and formatting. zh_CN (catalog ``zh_Hans_CN``) is the default, English the second.

Locale choice: the user's cookie, then the user's saved preference, then Accept-Language.
Money, numbers, dates and percentages are always formatted by Babel, never by hand.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import current_app, g, request
from flask_babel import format_date, format_decimal, format_percent, get_locale

LOCALES = {"zh_Hans_CN": "简体中文", "en": "English"}
DEFAULT_LOCALE = "zh_Hans_CN"
COOKIE = "lang"


def normalise_locale(tag: str | None) -> str | None:
    """Map a browser or user tag (zh-CN, zh, zh-Hans, en-US …) to one of our catalogs."""
    if not tag:
        return None
    t = tag.replace("_", "-").lower()
    if t == "zh" or t.startswith("zh-"):
        return "zh_Hans_CN"
    if t == "en" or t.startswith("en-"):
        return "en"
    return None


def select_locale() -> str:
    chosen = normalise_locale(request.cookies.get(COOKIE)) if request else None
    if chosen:
        return chosen
    user = getattr(g, "_login_user", None)
    if user is not None and getattr(user, "locale", None):
        chosen = normalise_locale(user.locale)
        if chosen:
            return chosen
    if request:
        for value, _q in request.accept_languages:
            chosen = normalise_locale(value)
            if chosen:
                return chosen
    return DEFAULT_LOCALE


def minor_to_major(amount: int, currency: str = "CNY") -> Decimal:
    digits = babel_numbers.get_currency_precision(currency)
    return Decimal(int(amount)).scaleb(-digits)


def money(amount: int | None, currency: str = "CNY") -> str:
    """Format an amount in minor units (fen): ¥1,234.56."""
    if amount is None:
        return ""
    return babel_numbers.format_currency(
        minor_to_major(amount, currency), currency, locale=str(get_locale())
    )


def amount(minor: int | None, exponent: int = 2, blank_zero: bool = False) -> str:
    """Minor units as a grouped decimal without a currency sign, "1,234.56" (Babel, the
    request's locale, exactly ``exponent`` decimals); blank for None and, if asked, for zero.
    Exact: integer minor units → Decimal → Babel, never float."""
    if minor is None or (blank_zero and minor == 0):
        return ""
    exponent = max(int(exponent), 0)
    value = Decimal(int(minor)).scaleb(-exponent)
    pattern = "#,##0." + "0" * exponent if exponent else "#,##0"
    return format_decimal(value, format=pattern)


def number(value) -> str:
    return format_decimal(value)


def percent(value) -> str:
    return format_percent(value, format="#,##0.##%")


def date(value: dt.date | None, fmt: str = "medium") -> str:
    return "" if value is None else format_date(value, fmt)


def current_timezone() -> str:
    """The time zone staff pages show times in: the organisation's (or community's) the page
    is about, else the deployment's default (Asia/Shanghai)."""
    cached = g.get("_page_timezone") if g else None
    if cached:
        return cached
    from .db import db
    from .models import Community, Organisation

    tz = None
    args = (request.view_args or {}) if request else {}
    if args.get("org_id"):
        org = db.session.get(Organisation, args["org_id"])
        tz = org.timezone if org else None
    elif args.get("community_id"):
        c = db.session.get(Community, args["community_id"])
        tz = c.timezone if c else None
    tz = tz or current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai"
    if g:
        g._page_timezone = tz
    return tz


def local_time(value: dt.datetime | None, tz: str | None = None, fmt: str = "short") -> str:
    """A stored UTC time (naive) in the page's time zone, formatted by Babel for the locale,
    with the zone's name so nobody must guess: ``2026-12-03 17:02 (Asia/Shanghai)``."""
    if value is None:
        return ""
    name = tz or current_timezone()
    zone: dt.tzinfo
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        name, zone = "UTC", dt.UTC
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = babel_dates.format_datetime(
        aware, "yyyy-MM-dd HH:mm", tzinfo=zone, locale=str(get_locale())
    )
    return f"{text} ({name})" if fmt == "short" else text


def register_filters(app) -> None:
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["amount"] = amount
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["date"] = date


def role_label(role: str) -> str:
    from flask_babel import gettext as _

    labels = {
        "admin": _("Administrator"),
        "preparer": _("Preparer (制单)"),
        "reviewer": _("Reviewer (审核)"),
        "auditor": _("Auditor"),
        "supervisor": _("Trust supervisor (监察人)"),
        "council_secretary": _("Council secretary"),
    }
    return labels.get(role, role)


def kind_label(kind: str) -> str:
    from flask_babel import gettext as _

    labels = {
        "enterprise": _("Community enterprise"),
        "foundation": _("Foundation (community fund)"),
        "trust_fund": _("Trust-model property fund"),
    }
    return labels.get(kind, kind)


def standard_label(standard: str) -> str:
    from flask_babel import gettext as _

    labels = {
        "SME_2011": _("Accounting Standards for Small Enterprises (2011)"),
        "NPO_2004": _("Accounting System for Non-profit Organisations (2004)"),
        "NPO_2024": _("Accounting System for Non-profit Organisations (2024 revision)"),
        "TRUST_FUND": _("Trust-model property fund"),
    }
    return labels.get(standard, standard)
