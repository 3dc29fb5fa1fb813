"""Starting real books: communities (社区), their organisations and each organisation's settings.

Platform admins create and rename communities and organisations and deactivate them (never
delete: books and published reports stay). Creating an organisation announces it
(``core.signals.organisation_created``): the ledger opens its book, and transparency makes its
signing key when the book is opened.
Use cases flush, never commit; they take the acting user as an argument.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from . import signals
from .db import db
from .errors import InvalidInput, NotFound, NotPermitted
from .models import (
    KIND_STANDARD,
    KIND_STANDARDS,
    AreaKind,
    Community,
    Organisation,
    OrganisationKind,
    PopulationBasis,
    Role,
    Standard,
    User,
)
from .months import Month

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# The CLI's short names for the kinds.
KIND_ALIASES = {"trust": OrganisationKind.TRUST_FUND.value}


def require_platform_admin(actor: User) -> None:
    if actor is None or not actor.is_platform_admin:
        raise NotPermitted(_l("Only a platform administrator may do this."))


class _Problems:
    def __init__(self):
        self.errors: dict[str, list[str]] = {}
        self.first = None

    def add(self, field: str, message) -> None:
        self.errors.setdefault(field, []).append(str(message))
        if self.first is None:
            self.first = message

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.first, errors=self.errors)


def _text(value, field: str, problems: _Problems, *, required: bool, max_len: int) -> str | None:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if not value:
        if required:
            problems.add(field, _l("Required."))
        return None
    if len(value) > max_len:
        problems.add(field, _l("At most %(n)d characters.", n=max_len))
    return value


def _slug(value, problems: _Problems) -> str | None:
    slug = (value or "").strip().lower() if isinstance(value, str) else ""
    if not _SLUG.match(slug):
        problems.add(
            "slug",
            _l(
                "A short name of lower-case letters, digits and hyphens "
                "(1 to 64 characters), e.g. yulin-beilu."
            ),
        )
        return None
    return slug


def _timezone(value, problems: _Problems) -> str | None:
    name = (value or "").strip() if isinstance(value, str) else ""
    try:
        if not name or "/" not in name:
            raise zoneinfo.ZoneInfoNotFoundError(name)
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.add("timezone", _l("Unknown time zone %(tz)s, e.g. Asia/Shanghai.", tz=name))
        return None
    return name


# --- communities ----------------------------------------------------------------------------


def get_community(community_id: int) -> Community:
    c = db.session.get(Community, community_id)
    if c is None:
        raise NotFound(_l("No such community."))
    return c


def community_by_slug(slug: str) -> Community:
    c = db.session.scalar(sa.select(Community).where(Community.slug == (slug or "").strip()))
    if c is None:
        raise NotFound(_l("No community %(slug)s.", slug=slug))
    return c


def create_community(
    *,
    name: str | None,
    slug: str | None,
    area_kind: str = AreaKind.URBAN.value,
    district: str | None = None,
    street: str | None = None,
    population: int | str | None = None,
    population_basis: str | None = None,
    actor: User,
) -> Community:
    require_platform_admin(actor)
    p = _Problems()
    name = _text(name, "name", p, required=True, max_len=200)
    slug = _slug(slug, p)
    district = _text(district, "district", p, required=False, max_len=200)
    street = _text(street, "street", p, required=False, max_len=200)
    if area_kind not in {k.value for k in AreaKind}:
        p.add("area_kind", _l("Choose urban or rural."))
    population, population_basis = _population(population, population_basis, p)
    if slug and db.session.scalar(sa.select(Community.id).where(Community.slug == slug)):
        p.add("slug", _l("The short name %(slug)s is taken.", slug=slug))
    p.raise_if_any()
    c = Community(
        name=name,
        slug=slug,
        district=district,
        street=street,
        area_kind=area_kind,
        population=population,
        population_basis=population_basis,
    )
    db.session.add(c)
    db.session.flush()
    return c


def _population(population, basis, p: _Problems) -> tuple[int | None, str | None]:
    if population in (None, ""):
        return None, None
    try:
        n = int(str(population).strip())
        if n < 0 or n > 100_000_000:
            raise ValueError
    except ValueError:
        p.add("population", _l("A whole number of people."))
        return None, None
    if basis not in {b.value for b in PopulationBasis}:
        p.add(
            "population_basis",
            _l("Say what the number counts: registered (户籍) or resident (常住) population."),
        )
        return n, None
    return n, basis


def update_community(
    community: Community,
    *,
    name: str | None = None,
    district: str | None = None,
    street: str | None = None,
    population: int | str | None = None,
    population_basis: str | None = None,
    active: bool | None = None,
    actor: User,
) -> Community:
    """Edit the names and numbers; the slug stays (it is in published links)."""
    require_platform_admin(actor)
    p = _Problems()
    if name is not None:
        name = _text(name, "name", p, required=True, max_len=200)
    if district is not None:
        district = _text(district, "district", p, required=False, max_len=200)
    if street is not None:
        street = _text(street, "street", p, required=False, max_len=200)
    if population is not None:
        population, population_basis = _population(population, population_basis, p)
    p.raise_if_any()
    if name is not None:
        community.name = name
    if district is not None:
        community.district = district
    if street is not None:
        community.street = street
    if population is not None or population_basis is not None:
        community.population, community.population_basis = population, population_basis
    if active is not None:
        community.active = bool(active)
    db.session.flush()
    return community


# --- organisations ------------------------------------------------------------------------


class OpenedBook(Protocol):
    """What core knows of the book the ledger opens (a ``ledger.models.Book``)."""

    id: int


@dataclass
class NewOrganisation:
    organisation: Organisation
    book: OpenedBook | None  # None only if no ledger listens to organisation_created

    @property
    def book_id(self) -> int:
        assert self.book is not None, "the ledger opens a book for every new organisation"
        return self.book.id


def parse_kind(kind: str) -> str | None:
    kind = KIND_ALIASES.get(kind, kind)
    return kind if kind in {k.value for k in OrganisationKind} else None


def create_organisation(
    community: Community,
    *,
    name: str | None,
    slug: str | None,
    kind: str,
    standard: str | None = None,
    first_month: str | Month | None = None,
    today: dt.date | None = None,
    actor: User,
) -> NewOrganisation:
    """An organisation in ``community`` and its book (账套) in its kind's standard."""
    require_platform_admin(actor)
    p = _Problems()
    if not community.active:
        p.add("community", _l("This community has been deactivated."))
    name = _text(name, "name", p, required=True, max_len=200)
    slug = _slug(slug, p)
    kind_value = parse_kind(kind or "")
    if kind_value is None:
        p.add("kind", _l("Choose enterprise, foundation or trust fund."))
    expected = KIND_STANDARD[OrganisationKind(kind_value)].value if kind_value else None
    allowed = (
        {s.value for s in KIND_STANDARDS[OrganisationKind(kind_value)]} if kind_value else set()
    )
    standard = (standard or expected or "").strip()
    if standard not in {s.value for s in Standard}:
        p.add("standard", _l("Unknown accounting standard %(s)s.", s=standard))
    elif expected and standard not in allowed:
        p.add(
            "standard",
            _l(
                "A %(kind)s keeps its books under %(expected)s, not %(standard)s.",
                kind=kind_value,
                expected=expected,
                standard=standard,
            ),
        )
    month = _first_month(first_month, today or dt.date.today(), p)
    if (
        slug
        and db.session.scalar(
            sa.select(Organisation.id).where(
                Organisation.community_id == community.id, Organisation.slug == slug
            )
        )
        is not None
    ):
        p.add("slug", _l("The short name %(slug)s is taken in this community.", slug=slug))
    p.raise_if_any()
    assert month is not None  # _first_month recorded a problem when it found none
    org = Organisation(
        community_id=community.id,
        name=name,
        slug=slug,
        kind=kind_value,
        standard=standard,
        first_month=month.key,
        base_currency="CNY",
        timezone=community.timezone,
    )
    db.session.add(org)
    db.session.flush()
    # The ledger, above core, opens the organisation's book (账套) when it hears of it.
    made = [m for _receiver, m in signals.organisation_created.send(org, actor=actor) if m]
    return NewOrganisation(org, made[0] if made else None)


def _first_month(value, today: dt.date, p: _Problems) -> Month | None:
    if isinstance(value, Month):
        month = value
    else:
        try:
            month = Month.parse(value or "")
        except ValueError:
            p.add("first_month", _l("The first month as YYYY-MM, e.g. 2026-01."))
            return None
    if month > Month.of(today):
        p.add("first_month", _l("The first month %(m)s is in the future.", m=str(month)))
        return None
    return month


def update_organisation(
    org: Organisation, *, name: str | None = None, active: bool | None = None, actor: User
) -> Organisation:
    require_platform_admin(actor)
    p = _Problems()
    if name is not None:
        name = _text(name, "name", p, required=True, max_len=200)
    p.raise_if_any()
    if name is not None:
        org.name = name
    if active is not None:
        org.active = bool(active)
    db.session.flush()
    return org


# --- settings statements need ------------------------------------------------------------


def update_settings(
    org: Organisation,
    *,
    head_name: str | None,
    accounting_head_name: str | None,
    statement_preparer_name: str | None,
    timezone: str,
    fiscal_year_start_month: int | str,
    actor: User,
) -> Organisation:
    """The names printed on statements (单位负责人, 会计机构负责人, 制表人), the time zone and
    the month the fiscal year starts. The organisation's admin (or a platform admin)."""
    from .auth import require_role

    require_role(org, Role.ADMIN, user=actor)
    p = _Problems()
    head_name = _text(head_name, "head_name", p, required=False, max_len=100)
    accounting_head_name = _text(
        accounting_head_name, "accounting_head_name", p, required=False, max_len=100
    )
    statement_preparer_name = _text(
        statement_preparer_name, "statement_preparer_name", p, required=False, max_len=100
    )
    tz = _timezone(timezone, p)
    try:
        start = int(str(fiscal_year_start_month).strip())
        if not 1 <= start <= 12:
            raise ValueError
    except ValueError:
        p.add("fiscal_year_start_month", _l("A month from 1 to 12."))
        start = None
    p.raise_if_any()
    assert tz is not None and start is not None  # else a problem was recorded and raised
    org.head_name = head_name
    org.accounting_head_name = accounting_head_name
    org.statement_preparer_name = statement_preparer_name
    org.timezone = tz
    org.fiscal_year_start_month = start
    db.session.flush()
    return org


def has_any_user() -> bool:
    from .models import User as _User

    return db.session.scalar(sa.select(_User.id).limit(1)) is not None
