"""People in an organisation: invitations (邀请), roles granted and revoked, password resets,
and the link between a resident (居民) and their login.

Links are one-time: a random token in the URL, only its SHA-256 stored, an expiry, used once.
No mail server is needed: the admin copies the link and hands it over. Every role change is
an audit event (shown on the person's page) and a revocation ends the person's sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from . import audit, auth
from .db import db, rowcount, utcnow
from .errors import Conflict, InvalidInput, NotFound, NotPermitted
from .models import (
    AuditEvent,
    Invitation,
    Membership,
    Organisation,
    PasswordReset,
    Resident,
    Role,
    User,
)
from .residents import require_staff

INVITATION_LIFETIME = dt.timedelta(days=7)
RESET_LIFETIME = dt.timedelta(hours=24)
ROLE_EVENTS = ("role grant", "role revoke", "password reset link", "sign out everywhere")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def require_admin(org: Organisation, actor: User) -> User:
    """The organisation's admin (or a platform admin), with a message saying so."""
    try:
        return auth.require_role(org, Role.ADMIN, user=actor)
    except NotPermitted:
        raise NotPermitted(
            _l("Only an administrator of %(org)s may manage its people.", org=org.name)
        ) from None


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(
            _l("Unknown role %(role)s.", role=role), errors={"role": [str(_l("Unknown role."))]}
        ) from None


def _event(action: str, actor: User, org: Organisation | None, person: User, **detail) -> None:
    audit.record(
        action,
        "ok",
        user=actor,
        organisation_id=getattr(org, "id", None),
        community_id=getattr(org, "community_id", None),
        target=f"user:{person.id}",
        detail=detail or None,
    )


# --- invitations --------------------------------------------------------------------------


def invite(
    org: Organisation, *, role: str, display_name: str = "", actor: User
) -> tuple[Invitation, str]:
    """A one-time invitation link for a new person; the token is returned once."""
    require_admin(org, actor)
    role = _role(role)
    if not org.active:
        raise Conflict(_l("This organisation has been deactivated."))
    display_name = (display_name or "").strip()
    if len(display_name) > 100:
        raise InvalidInput(errors={"display_name": [str(_l("At most %(n)d characters.", n=100))]})
    token = secrets.token_urlsafe(32)
    inv = Invitation(
        community_id=org.community_id,
        organisation_id=org.id,
        token_hash=_digest(token),
        role=role.value,
        display_name=display_name,
        created_by_id=actor.id,
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    db.session.add(inv)
    db.session.flush()
    return inv, token


def open_invitation(token: str) -> Invitation:
    """The invitation behind a link, if it can still be used (else a translated refusal)."""
    inv = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == _digest(token or ""))
    )
    if inv is None or inv.revoked_at is not None:
        raise NotFound(_l("This invitation link is not valid."))
    if inv.used_at is not None:
        raise Conflict(_l("This invitation link has already been used."), code="used")
    if inv.expires_at <= utcnow():
        raise Conflict(
            _l("This invitation link has expired. Ask the administrator for a new one."),
            code="expired",
        )
    return inv


def accept_invitation(token: str, *, username: str, password: str, display_name: str = "") -> User:
    """Create the invited person's login and grant the role. The link is then spent."""
    inv = open_invitation(token)
    # Take the row: two concurrent acceptances of one link must not both succeed.
    claimed = rowcount(
        sa.update(Invitation)
        .where(Invitation.id == inv.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed != 1:
        raise Conflict(_l("This invitation link has already been used."), code="used")
    user = auth.create_user(username, password, display_name=display_name or inv.display_name)
    inviter = db.session.get(User, inv.created_by_id)
    auth.grant_role(user, inv.organisation, inv.role, granted_by=inviter)
    inv.used_by_id = user.id
    _event("invitation accepted", user, inv.organisation, user, role=inv.role)
    db.session.flush()
    return user


def open_invitations(org: Organisation) -> list[Invitation]:
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.organisation_id == org.id,
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.id)
        )
    )


def cancel_invitation(inv: Invitation, *, actor: User) -> None:
    require_admin(inv.organisation, actor)
    if inv.used_at is None and inv.revoked_at is None:
        inv.revoked_at = utcnow()
        db.session.flush()


# --- roles ---------------------------------------------------------------------------------


def people_of(org: Organisation) -> list[tuple[User, list[Membership]]]:
    """Everyone who holds or held a role in the organisation, with those memberships."""
    rows = db.session.scalars(
        sa.select(Membership)
        .where(Membership.organisation_id == org.id)
        .order_by(Membership.user_id, Membership.id)
    ).all()
    by_user: dict[int, tuple[User, list[Membership]]] = {}
    for m in rows:
        by_user.setdefault(m.user_id, (m.user, []))[1].append(m)
    return list(by_user.values())


def person_in(org: Organisation, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not db.session.scalar(
        sa.select(Membership.id).where(
            Membership.organisation_id == org.id, Membership.user_id == user_id
        )
    ):
        raise NotFound(_l("No such person in this organisation."))
    return user


def grant(org: Organisation, person: User, role: str, *, actor: User) -> Membership:
    require_admin(org, actor)
    role = _role(role)
    if not org.active:
        raise Conflict(_l("This organisation has been deactivated."))
    m = auth.grant_role(person, org, role.value, granted_by=actor)
    _event("role grant", actor, org, person, role=role.value)
    return m


def revoke(org: Organisation, person: User, role: str, *, actor: User) -> None:
    """End the role; the person's sessions end too, so the change is felt at once."""
    require_admin(org, actor)
    role = _role(role)
    held = db.session.scalars(
        sa.select(Membership).where(
            Membership.organisation_id == org.id,
            Membership.user_id == person.id,
            Membership.role == role.value,
            Membership.revoked_at.is_(None),
        )
    ).all()
    if not held:
        raise Conflict(_l("%(name)s does not hold this role.", name=person.display_name))
    if person.id == actor.id and role is Role.ADMIN and not actor.is_platform_admin:
        raise Conflict(_l("You cannot remove your own administrator role."))
    now = utcnow()
    for m in held:
        m.revoked_at = now
        m.revoked_by_id = actor.id
    auth.revoke_sessions(person)
    _event("role revoke", actor, org, person, role=role.value)
    db.session.flush()
    db.session.refresh(person, ["memberships"])


def history_of(org: Organisation, person: User) -> list[AuditEvent]:
    """The audit trail of the person's roles and logins in this organisation."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.target == f"user:{person.id}",
                sa.or_(AuditEvent.organisation_id == org.id, AuditEvent.organisation_id.is_(None)),
            )
            .order_by(AuditEvent.id)
        )
    )


# --- sign out everywhere, password resets --------------------------------------------------


def _may_manage_login(person: User, actor: User, org: Organisation | None) -> None:
    """A platform admin may act on anyone. An organisation's admin only on people whose every
    role is in an organisation they administer: otherwise an admin of one organisation could
    take over the login of an admin of another."""
    if actor.is_platform_admin:
        return
    if person.is_platform_admin or org is None:
        raise NotPermitted()
    require_admin(org, actor)
    for m in person.memberships:
        if m.revoked_at is None and Role.ADMIN.value not in actor.roles_in(m.organisation_id):
            raise NotPermitted(
                _l("This person also works for another organisation; ask a platform administrator.")
            )


def sign_out_everywhere(person: User, *, actor: User, org: Organisation | None = None) -> int:
    if person.id != actor.id:
        _may_manage_login(person, actor, org)
    n = auth.revoke_sessions(person)
    tokens = auth.revoke_api_tokens(person)
    _event("sign out everywhere", actor, org, person, sessions=n, api_tokens=tokens)
    return n


def issue_reset_link(
    person: User, *, actor: User, org: Organisation | None = None
) -> tuple[PasswordReset, str]:
    _may_manage_login(person, actor, org)
    token = secrets.token_urlsafe(32)
    row = PasswordReset(
        user_id=person.id,
        token_hash=_digest(token),
        created_by_id=actor.id,
        expires_at=utcnow() + RESET_LIFETIME,
    )
    db.session.add(row)
    _event("password reset link", actor, org, person)
    db.session.flush()
    return row, token


def open_reset(token: str) -> PasswordReset:
    row = db.session.scalar(
        sa.select(PasswordReset).where(PasswordReset.token_hash == _digest(token or ""))
    )
    if row is None:
        raise NotFound(_l("This password reset link is not valid."))
    if row.used_at is not None:
        raise Conflict(_l("This password reset link has already been used."), code="used")
    if row.expires_at <= utcnow():
        raise Conflict(
            _l("This password reset link has expired. Ask the administrator for a new one."),
            code="expired",
        )
    return row


def reset_password(token: str, new_password: str) -> User:
    row = open_reset(token)
    claimed = rowcount(
        sa.update(PasswordReset)
        .where(PasswordReset.id == row.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed != 1:
        raise Conflict(_l("This password reset link has already been used."), code="used")
    auth.set_password(row.user, new_password)  # also ends every session of the user
    return row.user


# --- residents and their logins ------------------------------------------------------------


def link_resident(resident: Resident, username: str, *, actor: User) -> Resident:
    """Staff link a resident's record to their login; the resident then sees their own things."""
    require_staff(resident.community, actor)
    user = db.session.scalar(sa.select(User).where(User.username == (username or "").strip()))
    if user is None:
        raise InvalidInput(
            _l("No login %(name)s.", name=username),
            errors={"username": [str(_l("No such login."))]},
        )
    if resident.user_id is not None and resident.user_id != user.id:
        raise Conflict(_l("This resident is already linked to another login."))
    resident.user_id = user.id
    db.session.flush()
    return resident


def my_resident_records(user: User) -> list[Resident]:
    """The resident records linked to this login: the only ones it may see as a resident."""
    return list(
        db.session.scalars(
            sa.select(Resident).where(Resident.user_id == user.id).order_by(Resident.id)
        )
    )


def is_own_record(resident: Resident, user: User) -> bool:
    return resident.user_id is not None and resident.user_id == user.id
