"""Residents (居民) and their recorded consents: the people a community's books may name.

Phone and ID number are encrypted at rest (core.crypto) and leave the server masked. Who may
see or add residents: staff (admin, preparer, reviewer) of any organisation of the community.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from . import parse
from .auth import authenticated_user
from .db import db
from .errors import InvalidInput, NotFound, NotPermitted
from .models import Community, Membership, Resident, ResidentConsent, Role, User
from .parse import text_problem

STAFF_ROLES = {Role.ADMIN.value, Role.PREPARER.value, Role.REVIEWER.value}
CONSENT_KINDS = ("publish_name",)
# ASCII only: Python's \d also matches full-width and other scripts' digits, which would be
# stored as typed and then escape every comparison (masking, screening, search).
_PHONE = re.compile(r"^1[0-9]{10}$")
_ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")
_NUMBER_GAPS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


def _number(value: str) -> str:
    """A phone or ID number as typed → its canonical ASCII form: NFKC (full-width digits and
    letters become ASCII), without format characters (zero-width spaces), the spaces and
    dashes people type between groups, upper-case X. Anything else is left for the pattern
    to refuse."""
    text = unicodedata.normalize("NFKC", value)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _NUMBER_GAPS.sub("", text).upper()


def get_community(community_id: int) -> Community:
    c = db.session.get(Community, community_id)
    if c is None:
        raise NotFound(_l("No such community."))
    return c


def require_staff(community: Community, user: User | None = None) -> User:
    user = user or authenticated_user()
    if user.is_platform_admin:
        return user
    held = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .where(
            Membership.user_id == user.id,
            Membership.community_id == community.id,
            Membership.revoked_at.is_(None),
            Membership.role.in_(STAFF_ROLES),
        )
    )
    if not held:
        raise NotPermitted()
    return user


def list_residents(community: Community) -> Sequence[Resident]:
    return db.session.scalars(
        sa.select(Resident).where(Resident.community_id == community.id).order_by(Resident.id)
    ).all()


def create_resident(
    community: Community,
    *,
    name: str,
    phone: str = "",
    id_number: str = "",
    unit: str = "",
    actor: User,
) -> Resident:
    require_staff(community, actor)
    name, phone, id_number, unit = (
        x.strip() for x in (name or "", phone or "", id_number or "", unit or "")
    )
    phone, id_number = _number(phone), _number(id_number)
    errors: dict = {}
    if not name or len(name) > 100:
        errors["name"] = [str(_l("A name of 1 to 100 characters is required."))]
    if phone and not _PHONE.fullmatch(phone):
        errors["phone"] = [str(_l("A mobile number has 11 digits and starts with 1."))]
    if id_number and not _ID_NUMBER.fullmatch(id_number):
        errors["id_number"] = [str(_l("A resident ID number has 18 characters."))]
    if len(unit) > 100:
        errors["unit"] = [str(_l("Too long."))]
    for field, value in (("name", name), ("unit", unit)):
        problem = text_problem(value)
        if problem is not None and field not in errors:
            errors[field] = [str(problem)]
    if errors:
        raise InvalidInput(errors=errors)
    r = Resident(
        community_id=community.id,
        name=name,
        phone=phone or None,
        id_number=id_number.upper() or None,
        unit=unit or None,
    )
    db.session.add(r)
    db.session.flush()
    return r


def record_consent(
    resident: Resident,
    kind: str,
    action: str,
    *,
    scope: str = "",
    channel: str = "paper",
    actor: User,
) -> ResidentConsent:
    """A grant or a withdrawal, each a new row (PIPL 单独同意, DOMAIN.md DP-5)."""
    require_staff(resident.community, actor)
    if kind not in CONSENT_KINDS or action not in ("grant", "withdraw"):
        raise InvalidInput(_l("Unknown consent or action."))
    c = ResidentConsent(
        community_id=resident.community_id,
        resident_id=resident.id,
        kind=kind,
        action=action,
        scope=parse.text((scope or "")[:200], field="scope", max_length=200),
        channel=(channel or "paper")[:40],
        recorded_by_id=actor.id,
    )
    db.session.add(c)
    db.session.flush()
    db.session.refresh(resident, ["consents"])
    return c
