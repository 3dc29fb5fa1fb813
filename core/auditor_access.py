"""Auditor access (审计授权): an organisation and a date range an admin grants an auditor.

A user whose only role in an organisation is ``auditor`` sees its books only through a grant
(core.models.AuditorGrant): the organisation and the dates from ``start_date`` to ``end_date``.
Grants are append-only: a new range is a new row, a revocation a row with ``action='revoke'``;
the latest row for (auditor, organisation) holds. Staff who are also auditors, and platform
admins, are not limited by grants.

Every request with an ``org_id`` in its address by a limited auditor is checked before its view
runs (``install``): a revoked grant, or a date outside the range, is a 403 with a message saying
why. An auditor never given a grant row keeps the role's unlimited reading (as before grants
existed) unless ``AUDITOR_GRANT_REQUIRED`` is set.
Which dates a request touches is told by the package that owns the route
(``register_dates(endpoint, fn)``; e.g. the ledger's reports and vouchers); a route nobody
describes needs only the grant. Every such request, a GET too, is recorded in the audit trail
with the statement asked for and, where the owner tells it (``register_detail``), the
checkpoint the figures come from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .audit import note
from .auth import require_role
from .db import db, utcnow
from .errors import InvalidInput, NotPermitted
from .i18n import date as format_date
from .models import AuditorGrant, Organisation, Role, User

# endpoint → fn(view_args, query args) → the dates the request reads, or None when the request
# names no dates and would read beyond any range (the auditor is asked to choose dates).
DateFn = Callable[[Mapping, Mapping], "list[dt.date] | None"]
DATES: dict[str, DateFn] = {}
# fn(organisation) → extra audit detail (e.g. {"tree_size": …}) for an auditor's request.
DETAIL: list[Callable[[Organisation], dict]] = []


def register_dates(endpoint: str, fn: DateFn) -> None:
    DATES[endpoint] = fn


def register_detail(fn: Callable[[Organisation], dict]) -> None:
    DETAIL.append(fn)


# --- who is limited, and by what --------------------------------------------------------------


def is_limited_auditor(user: User, organisation: Organisation) -> bool:
    """Whether grants limit what ``user`` sees of ``organisation``: an auditor there who holds
    no other role (and is no platform admin)."""
    if user.is_platform_admin:
        return False
    return user.roles_in(organisation.id) == {Role.AUDITOR.value}


def latest_row(user_id: int, organisation_id: int) -> AuditorGrant | None:
    return db.session.scalars(
        sa.select(AuditorGrant)
        .where(AuditorGrant.user_id == user_id, AuditorGrant.organisation_id == organisation_id)
        .order_by(AuditorGrant.id.desc())
        .limit(1)
    ).first()


def current_grant(user_id: int, organisation_id: int) -> AuditorGrant | None:
    """The grant that holds now: the latest row, unless it is a revocation."""
    row = latest_row(user_id, organisation_id)
    return row if row is not None and row.action == "grant" else None


def grants_required() -> bool:
    """Whether an auditor never given a grant row sees nothing (``AUDITOR_GRANT_REQUIRED``),
    or, as before grants existed, every date of an organisation whose auditor role they hold
    (the default: memberships made before this feature keep working until an admin sets a
    range; a revocation always ends access)."""
    return bool(current_app.config.get("AUDITOR_GRANT_REQUIRED", False))


def history(organisation: Organisation) -> list[AuditorGrant]:
    return list(
        db.session.scalars(
            sa.select(AuditorGrant)
            .where(AuditorGrant.organisation_id == organisation.id)
            .order_by(AuditorGrant.id.desc())
        )
    )


def auditors(organisation: Organisation) -> list[User]:
    """Users holding the auditor role in the organisation (the ones a grant may name)."""
    from .models import Membership

    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organisation_id == organisation.id,
                Membership.role == Role.AUDITOR.value,
                Membership.revoked_at.is_(None),
            )
            .order_by(User.username)
        ).unique()
    )


# --- granting and revoking (services: they flush, never commit) -----------------------------


def grant(
    auditor: User,
    organisation: Organisation,
    start: dt.date,
    end: dt.date,
    *,
    actor: User,
    note_text: str = "",
) -> AuditorGrant:
    """Grant ``auditor`` the organisation's books from ``start`` to ``end`` (replacing any
    earlier range: a new row, the old one stays in the history)."""
    require_role(organisation, Role.ADMIN, user=actor)
    if Role.AUDITOR.value not in auditor.roles_in(organisation.id):
        raise InvalidInput(
            _l("%(name)s is not an auditor of this organisation.", name=auditor.username),
            errors={"user": [str(_l("Not an auditor here."))]},
        )
    if start > end:
        raise InvalidInput(
            _l("The range ends before it starts."),
            errors={"end": [str(_l("The range ends before it starts."))]},
        )
    row = AuditorGrant(
        community_id=organisation.community_id,
        organisation_id=organisation.id,
        user_id=auditor.id,
        action="grant",
        start_date=start,
        end_date=end,
        note=(note_text or "")[:300],
        recorded_by_id=actor.id,
        recorded_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row


def revoke(
    auditor: User, organisation: Organisation, *, actor: User, note_text: str = ""
) -> AuditorGrant:
    """End the auditor's access (a revocation row; the grants before it stay)."""
    require_role(organisation, Role.ADMIN, user=actor)
    if current_grant(auditor.id, organisation.id) is None:
        raise InvalidInput(_l("%(name)s holds no grant to revoke.", name=auditor.username))
    row = AuditorGrant(
        community_id=organisation.community_id,
        organisation_id=organisation.id,
        user_id=auditor.id,
        action="revoke",
        note=(note_text or "")[:300],
        recorded_by_id=actor.id,
        recorded_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row


# --- the check --------------------------------------------------------------------------------


def check(user: User, organisation: Organisation, dates: Iterable[dt.date] | None) -> None:
    """Refuse (403) a limited auditor without a grant, or reading a date outside it.
    ``dates=None``: the request names no dates and would read beyond any range."""
    if not is_limited_auditor(user, organisation):
        return
    latest = latest_row(user.id, organisation.id)
    if latest is None and not grants_required():
        return  # never given a range: the auditor role alone, as before grants existed
    row = latest if latest is not None and latest.action == "grant" else None
    if row is None:
        g.audit_security = True  # a refusal is a security event (the admins' feed)
        raise NotPermitted(
            _l(
                "You have no auditor access to %(org)s: an administrator has not granted it, "
                "or has revoked it.",
                org=organisation.name,
            )
        )
    assert row.start_date is not None and row.end_date is not None
    span = {"start": format_date(row.start_date), "end": format_date(row.end_date)}
    if dates is None:
        g.audit_security = True
        raise NotPermitted(
            _l("Your auditor access covers %(start)s to %(end)s: choose dates within it.", **span)
        )
    for day in dates:
        if not row.start_date <= day <= row.end_date:
            g.audit_security = True
            raise NotPermitted(
                _l(
                    "Your auditor access covers %(start)s to %(end)s; %(day)s is outside it.",
                    day=format_date(day),
                    **span,
                )
            )


def _before_request() -> None:
    view_args = request.view_args or {}
    org_id = view_args.get("org_id")
    if not isinstance(org_id, int) or not current_user or not current_user.is_authenticated:
        return
    user = current_user._get_current_object()
    if user.is_platform_admin or user.roles_in(org_id) != {Role.AUDITOR.value}:
        return  # the roles are loaded with the user: most requests stop here, reading nothing
    org = db.session.get(Organisation, org_id)
    if org is None:
        return
    g.audit_reads = True  # core.audit records this GET too
    detail: dict = {"auditor": True, "statement": view_args.get("name") or request.endpoint}
    for more in DETAIL:
        detail.update(more(org))
    note(organisation_id=org.id, community_id=org.community_id, **detail)
    dates_of = DATES.get(request.endpoint or "")
    dates: list[dt.date] | None = []
    if dates_of is not None:
        try:
            dates = dates_of(view_args, request.args)
        except InvalidInput:
            dates = []  # unreadable dates: the view answers 422 and shows nothing
    if dates:
        note(dates=[d.isoformat() for d in dates])
    check(user, org, dates)


def install(app: Flask) -> None:
    app.before_request(_before_request)


# Helpers for the packages' date functions.


def parse_day(value: str | None) -> dt.date | None:
    """A query argument as a date, None if absent; unreadable raises InvalidInput."""
    from . import parse

    return parse.optional_date(value, field="date")


__all__ = [
    "check",
    "current_grant",
    "grant",
    "history",
    "install",
    "is_limited_auditor",
    "register_dates",
    "register_detail",
    "revoke",
]
