"""Users, passwords, roles, API tokens and the permission checks services call."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from .db import db, rowcount, utcnow
from .errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotPermitted,
    TooManyRequests,
)
from .models import ApiToken, AuditEvent, LoginSession, Membership, Organisation, Role, User
from .passwords import check_new_password

_DEFAULT_HASHER = PasswordHasher()  # argon2id, RFC 9106's second recommended option (64 MiB)
# Tests set ARGON2_FAST: the same algorithm with tiny costs, so hundreds of users stay cheap.
_FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _hasher() -> PasswordHasher:
    return _FAST_HASHER if current_app.config.get("ARGON2_FAST") else _DEFAULT_HASHER


def _dummy_hash() -> str:
    """A hash to verify against for unknown usernames, so they cost the same time."""
    key = "commons_dummy_hash"
    if key not in current_app.extensions:
        current_app.extensions[key] = _hasher().hash("not a real password")
    return current_app.extensions[key]


READ_ROLES = set(Role)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User | None, password: str) -> bool:
    try:
        return (
            _hasher().verify(user.password_hash if user else _dummy_hash(), password)
            and user is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    username: str, password: str, *, display_name: str = "", platform_admin: bool = False
) -> User:
    username = (username or "").strip()
    if not username or len(username) > 80:
        raise InvalidInput(
            _l("A username of 1 to 80 characters is required."),
            errors={"username": [str(_l("Required."))]},
        )
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise Conflict(_l("The username %(name)s is taken.", name=username))
    check_new_password(password, user_inputs=[username, display_name])
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        is_platform_admin=platform_admin,
    )
    db.session.add(user)
    db.session.flush()
    return user


def grant_role(
    user: User, organisation: Organisation, role: str, *, granted_by: User | None = None
) -> Membership:
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(
            _l(
                "Unknown role %(role)s. Roles: %(roles)s",
                role=role,
                roles=", ".join(r.value for r in Role),
            )
        ) from None
    existing = db.session.scalar(
        sa.select(Membership).where(
            Membership.user_id == user.id,
            Membership.organisation_id == organisation.id,
            Membership.role == role.value,
            Membership.revoked_at.is_(None),
        )
    )
    if existing:
        return existing
    m = Membership(
        user_id=user.id,
        organisation_id=organisation.id,
        community_id=organisation.community_id,
        role=role.value,
        granted_by_id=getattr(granted_by, "id", None),
    )
    db.session.add(m)
    db.session.flush()
    db.session.refresh(user, ["memberships"])
    return m


def set_password(user: User, new_password: str) -> None:
    """Set a new password (checked by the rule) and end every login session of the user."""
    check_new_password(new_password, user_inputs=[user.username, user.display_name])
    user.password_hash = hash_password(new_password)
    revoke_sessions(user)
    db.session.flush()


def change_own_password(user: User, current_password: str, new_password: str) -> None:
    if not check_password(user, current_password or ""):
        raise InvalidInput(
            _l("The current password is wrong."),
            errors={"current_password": [str(_l("The current password is wrong."))]},
        )
    set_password(user, new_password)


# --- login sessions (server-side, revocable: issue 9 item 3) ------------------------------


SESSION_KEY = "sid"


def start_session(user: User) -> str:
    """Record a new login session; the returned token goes into the signed session cookie."""
    token = secrets.token_urlsafe(32)
    lifetime = current_app.permanent_session_lifetime
    now = utcnow()
    # The user's long-gone sessions are of no further use: keep the table small.
    db.session.execute(
        sa.delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.expires_at < now - dt.timedelta(days=30)
        )
    )
    agent = request.headers.get("User-Agent") if request else None
    db.session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_token_digest(token),
            expires_at=now + lifetime,
            remote_addr=request.remote_addr if request else None,
            user_agent=(agent or None) and agent[:300],
        )
    )
    db.session.flush()
    return token


def end_session(token: str | None) -> None:
    if not token:
        return
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.token_hash == _token_digest(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_sessions(user: User) -> int:
    """Sign the user out everywhere: every open login session ends now."""
    revoked = rowcount(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return revoked or 0


def revoke_api_tokens(user: User) -> int:
    """End every API token of the user (part of "sign out everywhere": a stolen token is as
    good as a stolen cookie)."""
    revoked = rowcount(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return revoked or 0


# The session's user with their roles, in one query, only while the session is open.
_USER_FOR_SESSION = (
    sa.select(User)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(
        User.id == sa.bindparam("user_id"),
        LoginSession.token_hash == sa.bindparam("digest"),
        LoginSession.revoked_at.is_(None),
        LoginSession.expires_at > sa.bindparam("now"),
    )
    .options(joinedload(User.memberships))
)


def user_for_session(user_id: int, token: str | None) -> User | None:
    if not token:
        return None
    user = (
        db.session.execute(
            _USER_FOR_SESSION,
            {"user_id": user_id, "digest": _token_digest(token), "now": utcnow()},
        )
        .unique()
        .scalar_one_or_none()
    )
    return user if user is not None and user.active else None


# --- login throttling (DB-backed, so it holds across processes and servers) -----------------


def recent_login_failures(username: str, remote_addr: str | None) -> tuple[int, int]:
    """Failed logins in the window: (this username from this address, any username from this
    address). Throttling the pair, not the username alone or the address alone, means one
    attacker cannot lock a person out from elsewhere, nor everyone behind one shared address
    (a community centre, a carrier's NAT) by guessing one name; the address as a whole gets a
    higher bound (``LOGIN_MAX_FAILURES_PER_ADDRESS``) against spraying many usernames."""
    window = dt.timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
    since = utcnow() - window
    addr = remote_addr or ""
    failed = sa.and_(
        AuditEvent.action == "login",
        AuditEvent.outcome == "denied",
        AuditEvent.occurred_at >= since,
    )
    addr_cond = AuditEvent.remote_addr == addr if addr else AuditEvent.remote_addr.is_(None)
    pair, from_addr = db.session.execute(
        sa.select(
            sa.func.count().filter(AuditEvent.username == username),
            sa.func.count(),
        )
        .select_from(AuditEvent)
        .where(failed, addr_cond)
    ).one()
    return int(pair or 0), int(from_addr or 0)


def login_throttled(username: str, remote_addr: str | None) -> bool:
    pair, from_addr = recent_login_failures(username, remote_addr)
    cfg = current_app.config
    return pair >= cfg["LOGIN_MAX_FAILURES"] or from_addr >= cfg.get(
        "LOGIN_MAX_FAILURES_PER_ADDRESS", 10 * cfg["LOGIN_MAX_FAILURES"]
    )


def authenticate(username: str, password: str) -> User:
    """Check a login; raise TooManyRequests or NotAuthenticated. Failures are security events."""
    g.audit_security = True
    g.audit_action = "login"
    username = (username or "").strip()[:80]
    g.setdefault("audit_detail", {})["username"] = username
    if login_throttled(username, request.remote_addr):
        raise TooManyRequests(_l("Too many failed logins. Please wait 15 minutes and try again."))
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if not check_password(user, password or "") or user is None or not user.active:
        raise NotAuthenticated(_l("Wrong username or password."), code="bad_credentials")
    return user


# --- API tokens --------------------------------------------------------------------------

TOKEN_PREFIX = "cl_"


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=(name or "token")[:100],
        token_hash=_token_digest(token),
        prefix=token[:10],
    )
    db.session.add(row)
    db.session.flush()
    return row, token


# The token's user with their roles, in one query: every API request needs both.
_USER_FOR_TOKEN = (
    sa.select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == sa.bindparam("digest"), ApiToken.revoked_at.is_(None))
    .options(joinedload(User.memberships))
)


def user_for_token(token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    user = (
        db.session.execute(_USER_FOR_TOKEN, {"digest": _token_digest(token)})
        .unique()
        .scalar_one_or_none()
    )
    if user is None or not user.active:
        return None
    return user


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


# --- permission checks -------------------------------------------------------------------


def authenticated_user() -> User:
    if not current_user or not current_user.is_authenticated:
        raise NotAuthenticated()
    return current_user._get_current_object()


def get_organisation(organisation_id: int) -> Organisation:
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(_l("No such organisation."))
    return org


def require_role(organisation: Organisation, *roles: str, user: User | None = None) -> User:
    """The user must hold one of ``roles`` in the organisation (platform admins pass)."""
    user = user or authenticated_user()
    if user.is_platform_admin:
        return user
    # Noted before the check: a refusal is recorded against the organisation too, as a
    # security event (its admins read it in the security-event feed, core.security_feed).
    g.setdefault("audit_detail", {}).update(
        organisation_id=organisation.id, community_id=organisation.community_id
    )
    held = user.roles_in(organisation.id)
    if not held & {str(r) for r in roles}:
        g.audit_security = True
        raise NotPermitted()
    return user


def can_read(organisation: Organisation, user: User | None = None) -> User:
    return require_role(organisation, *READ_ROLES, user=user)
