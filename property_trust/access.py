# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who may see a compound's pages: anyone holding a role in its organisation (staff, auditors,
supervisors) or an owner of one of its units (a resident login linked to the owner)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import auth
from core.db import db
from core.errors import NotFound, NotPermitted
from core.models import Organisation, Resident, User
from ledger import policy

from .models import Compound, Unit, UnitOwner


@dataclass
class Seat:
    org: Organisation
    user: User
    compound: Compound | None
    staff: bool
    owner_ids: list[int]  # the user's residents who own a unit here

    def may(self, action: str) -> bool:
        return self.staff and policy.may(self.org, action, user=self.user)

    @property
    def supervisor(self) -> bool:
        return self.user.is_platform_admin or "supervisor" in self.user.roles_in(self.org.id)


def compound_of(org: Organisation) -> Compound | None:
    return db.session.scalar(
        sa.select(Compound).where(Compound.organisation_id == org.id).order_by(Compound.id).limit(1)
    )


def owner_residents(user: User, compound: Compound) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(Resident.id)
            .join(UnitOwner, UnitOwner.resident_id == Resident.id)
            .join(Unit, Unit.id == UnitOwner.unit_id)
            .where(
                Resident.user_id == user.id,
                Unit.compound_id == compound.id,
                UnitOwner.role == "owner",
            )
            .distinct()
        )
    )


def seat(org_id: int, *roles: str, owners: bool = False) -> Seat:
    """The caller's seat: with ``roles``, one of them is required (checked before the compound
    is looked up); else any role; with ``owners``, an owner of the compound may pass too."""
    org = auth.get_organisation(org_id)
    user = auth.authenticated_user()
    held = user.is_platform_admin or bool(user.roles_in(org.id))
    if roles:
        auth.require_role(org, *roles, user=user)
    elif held:
        auth.can_read(org, user=user)
    compound = compound_of(org)
    owner_ids = owner_residents(user, compound) if compound is not None and owners else []
    if not held and not owner_ids:
        if compound is None or not owners:
            auth.require_role(org, *auth.READ_ROLES, user=user)  # refuses (403)
        raise NotPermitted()
    if compound is None:
        raise NotFound(_l("This organisation keeps no property trust."))
    return Seat(org=org, user=user, compound=compound, staff=held, owner_ids=owner_ids)
