"""The audit trail: every state-changing request and CLI command, and every security event.

A successful request's event is written in the request's own transaction, just before its
single commit: the action and its record commit together or not at all. A refused or failed
request's event is written after the rollback, in a transaction of its own, so it is recorded
too (DESIGN.md §3).
"""

from __future__ import annotations

import functools
import json

import click
import sqlalchemy as sa
from flask import g, request
from flask_login import current_user

from .db import db, utcnow
from .models import AuditEvent, Organisation

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def outcome_for(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403, 429):
        return "denied"
    if status >= 500:
        return "error"
    return "invalid"


def note(**detail) -> None:
    """Attach details to this request's audit event (organisation, target, numbers …)."""
    g.setdefault("audit_detail", {}).update(detail)


def _row(
    action: str,
    outcome: str,
    *,
    user=None,
    username: str | None = None,
    status_code: int | None = None,
    security: bool = False,
    organisation_id: int | None = None,
    community_id: int | None = None,
    target: str | None = None,
    detail: dict | None = None,
    remote_addr: str | None = None,
    user_agent: str | None = None,
) -> dict:
    """An event's column values, cut to the columns' lengths."""
    row = {
        "occurred_at": utcnow(),
        "user_id": getattr(user, "id", None),
        "username": username or getattr(user, "username", None),
        "action": action[:200],
        "outcome": outcome,
        "status_code": status_code,
        "security": security,
        "organisation_id": organisation_id,
        "community_id": community_id,
        "target": (target or None) and target[:200],
        "detail": json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        "remote_addr": remote_addr,
        "user_agent": (user_agent or None) and user_agent[:300],
    }
    # Whatever a client sent (a path, a user agent, an argument) is stored as text PostgreSQL
    # accepts: a NUL would make the insert fail and the event be lost.
    for k, v in row.items():
        if isinstance(v, str) and "\x00" in v:
            row[k] = v.replace("\x00", "\ufffd")
    return row


def record(action: str, outcome: str, **fields) -> AuditEvent:
    """Add an event to the session (written with the session's next flush); ``fields`` as
    ``_row`` takes them."""
    ev = AuditEvent(**_row(action, outcome, **fields))
    db.session.add(ev)
    return ev


_INSERT = sa.insert(AuditEvent.__table__)


# Path arguments that are secrets (one-time invitation and reset links): never stored, or
# whoever reads the audit trail could use a link that is still valid.
SECRET_ARGS = frozenset({"token"})


def _target(view_args: dict | None) -> str | None:
    if not view_args:
        return None
    args = {k: ("[redacted]" if k in SECRET_ARGS else v) for k, v in view_args.items()}
    return json.dumps(args, default=str)


def _organisation_of(view_args: dict | None) -> dict:
    org_id = (view_args or {}).get("org_id")
    if not isinstance(org_id, int):
        return {}
    org = db.session.get(Organisation, org_id)  # the event's foreign key needs one that exists
    return {"organisation_id": org.id, "community_id": org.community_id} if org else {}


def record_request(response, *, commit: bool = True) -> None:
    """Record this request's event. ``commit=False``: in the transaction that is about to
    commit (a successful request); otherwise in a transaction of its own.

    A Core insert on the session's connection rather than an ORM object: it runs on every write
    request, and the user is read from ``current_user`` as loaded, never read again."""
    security = bool(g.get("audit_security"))
    # A read is recorded when it is a security event, or when the reader's reads are audited
    # (an auditor's views and downloads: core.auditor_access).
    if request.method in SAFE_METHODS and not security and not g.get("audit_reads"):
        return
    detail = dict(g.get("audit_detail", {}))
    if g.get("audit_outcome_detail"):
        # A reason noted earlier (a bad API token) says more than the answer's code.
        detail.setdefault("reason", g.audit_outcome_detail)
    user = current_user if current_user and current_user.is_authenticated else None
    status = response.status_code
    if status >= 400 and "organisation_id" not in detail:
        # Refused before any check noted it (a CSRF failure, a bad API token): the
        # organisation in the address, if there is one, for its admins' security feed.
        detail.update(_organisation_of(request.view_args))
    rule = request.url_rule.rule if request.url_rule else request.path
    db.session.connection().execute(
        _INSERT,
        _row(
            g.get("audit_action") or f"{request.method} {rule}",
            outcome_for(response.status_code),
            user=user,
            username=detail.pop("username", None),
            status_code=response.status_code,
            security=security,
            organisation_id=detail.pop("organisation_id", None),
            community_id=detail.pop("community_id", None),
            target=_target(request.view_args),
            detail=detail or None,
            remote_addr=request.remote_addr,
            user_agent=request.headers.get("User-Agent"),
        ),
    )
    if commit:
        db.session.commit()


def audited_command(name: str):
    """Decorate a click command so that each run is recorded with its outcome."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            outcome = "error"
            try:
                result = fn(*args, **kwargs)
                outcome = "ok"
                return result
            except click.exceptions.Exit as e:
                outcome = "ok" if e.exit_code == 0 else "invalid"
                raise
            except (click.ClickException, click.Abort):
                outcome = "invalid"
                raise
            finally:
                db.session.rollback()
                record(f"cli {name}", outcome, username="cli", detail=g.get("audit_detail") or None)
                db.session.commit()

        return wrapper

    return deco
