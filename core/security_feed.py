"""The security-event feed (issue 9, item 9): failed logins, refused security tokens (CSRF),
bad API tokens and denied actions, read from the audit trail.

An organisation's admin reads their organisation's events: actions refused in it, and failed
logins under the usernames of its current members. A platform admin reads everything. Both
filter by kind and by day (the day in UTC, as stored) and page through 50 events at a time.

Only what the audit trail stored is shown, and not all of it: the event's ``detail`` may hold
what a service noted about a request, so the feed shows only its ``reason``. Secret path
arguments (invitation and reset tokens) are redacted when the event is written (core.audit).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from . import parse
from .db import db
from .errors import InvalidInput
from .models import AuditEvent, Membership, Organisation, User

PER_PAGE = 50

#: The kinds a reader may filter by, with their labels.
KINDS = {
    "login": _l("Failed login"),
    "csrf": _l("Security token refused (CSRF)"),
    "token": _l("Bad API token"),
    "denied": _l("Denied action"),
}

OUTCOMES = {
    "ok": _l("succeeded"),
    "denied": _l("denied"),
    "invalid": _l("invalid"),
    "error": _l("error"),
}


def _reason_is(reason: str):
    # core.audit writes ``detail`` with json.dumps' default separators.
    return AuditEvent.detail.like(f'%"reason": "{reason}"%')


def _kind_clause(kind: str):
    if kind == "login":
        return AuditEvent.action == "login"
    if kind == "csrf":
        return _reason_is("csrf")
    if kind == "token":
        return _reason_is("bad_token")
    return sa.and_(AuditEvent.outcome == "denied", AuditEvent.action != "login")


# Every event of the feed: something refused or failed that is a security event or a denial
# (a successful login is a security event too, and not part of the feed).
_IN_FEED = sa.and_(
    AuditEvent.outcome != "ok",
    sa.or_(AuditEvent.security.is_(True), AuditEvent.outcome == "denied"),
)


def kind_of(ev: AuditEvent) -> str:
    if ev.action == "login":
        return "login"
    reason = reason_of(ev)
    if reason == "csrf":
        return "csrf"
    if reason == "bad_token":
        return "token"
    return "denied"


def reason_of(ev: AuditEvent) -> str | None:
    if not ev.detail:
        return None
    try:
        detail = json.loads(ev.detail)
    except ValueError:
        return None
    reason = detail.get("reason") if isinstance(detail, dict) else None
    return str(reason)[:100] if reason is not None else None


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    page: int = 1

    @classmethod
    def parse(cls, args) -> Filters:
        """From a query string; anything odd is InvalidInput (422)."""
        kind = (args.get("kind") or "").strip() or None
        if kind is not None and kind not in KINDS:
            raise InvalidInput(
                _l("No such kind of event."), errors={"kind": [str(_l("No such kind of event."))]}
            )
        since = parse.optional_date(args.get("since"), field="since")
        until = parse.optional_date(args.get("until"), field="until")
        if since and until and since > until:
            msg = _l("The first day is after the last day.")
            raise InvalidInput(msg, errors={"until": [str(msg)]})
        return cls(kind=kind, since=since, until=until, page=parse.page(args.get("page")))

    def query_args(self, **change) -> dict:
        values = {
            "kind": self.kind,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "page": self.page,
        }
        values.update(change)
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}


@dataclass(frozen=True)
class FeedPage:
    events: list[AuditEvent]
    total: int
    page: int
    pages: int


def _organisation_clause(organisation: Organisation):
    members = (
        sa.select(User.username)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation.id, Membership.revoked_at.is_(None))
        .scalar_subquery()
    )
    return sa.or_(
        AuditEvent.organisation_id == organisation.id,
        sa.and_(AuditEvent.action == "login", AuditEvent.username.in_(members)),
    )


def feed(filters: Filters, organisation: Organisation | None = None) -> FeedPage:
    """One page of the feed, newest first: ``organisation``'s, or (None) the whole platform's.
    The caller has checked who may read it."""
    where = [_IN_FEED]
    if organisation is not None:
        where.append(_organisation_clause(organisation))
    if filters.kind:
        where.append(_kind_clause(filters.kind))
    if filters.since:
        where.append(AuditEvent.occurred_at >= dt.datetime.combine(filters.since, dt.time()))
    if filters.until and filters.until < parse.MAX_DATE:
        day_after = filters.until + dt.timedelta(days=1)
        where.append(AuditEvent.occurred_at < dt.datetime.combine(day_after, dt.time()))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(*where))
    total = int(total or 0)
    pages = max(1, -(-total // PER_PAGE))
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(*where)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .offset((filters.page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    return FeedPage(events=list(events), total=total, page=filters.page, pages=pages)


def admin_organisations(user: User) -> list[Organisation]:
    """The organisations whose feed ``user`` may read as their admin."""
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(
                Membership.user_id == user.id,
                Membership.role == "admin",
                Membership.revoked_at.is_(None),
            )
            .order_by(Organisation.id)
            .distinct()
        ).all()
    )


__all__ = [
    "KINDS",
    "OUTCOMES",
    "PER_PAGE",
    "FeedPage",
    "Filters",
    "admin_organisations",
    "feed",
    "kind_of",
    "reason_of",
]
