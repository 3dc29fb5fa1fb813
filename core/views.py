"""Core pages: home, login/logout, language switch, the user's own account."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from . import auth, parse, residents
from .db import db
from .errors import DomainError, InvalidInput, NotFound
from .i18n import COOKIE, LOCALES
from .models import Community, Organisation
from .onboarding import has_any_user

bp = Blueprint("core", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if not target:
        return url_for("core.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("core.index")
    return target


@bp.get("/")
def index():
    communities = db.session.scalars(
        sa.select(Community).where(Community.active).order_by(Community.id)
    ).all()
    my_orgs: Sequence[Organisation] = []
    if current_user.is_authenticated:
        ids = {m.organisation_id for m in current_user.memberships if m.revoked_at is None}
        q = sa.select(Organisation).order_by(Organisation.id)
        if not current_user.is_platform_admin:
            q = q.where(Organisation.id.in_(ids or {-1}), Organisation.active)
        my_orgs = db.session.scalars(q).all()
    first_run = not communities and not current_user.is_authenticated and not has_any_user()
    return render_template(
        "core/index.html", communities=communities, my_orgs=my_orgs, first_run=first_run
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("core/login.html", next=request.args.get("next", ""))
    try:
        username = parse.text(request.form.get("username", ""), field="username", max_length=200)
        user = auth.authenticate(username, request.form.get("password", ""))
    except DomainError as e:
        return (
            render_template(
                "core/login.html",
                error=str(e.message),
                username=request.form.get("username", "")[:200],
                next=request.form.get("next", ""),
            ),
            e.status,
        )
    session.clear()  # a fresh session for the new login (no fixation)
    session.permanent = True  # so PERMANENT_SESSION_LIFETIME bounds the login
    session[auth.SESSION_KEY] = auth.start_session(user)
    login_user(user)
    flash(_("Welcome, %(name)s.", name=user.display_name), "success")
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    auth.end_session(session.get(auth.SESSION_KEY))
    logout_user()
    session.pop(auth.SESSION_KEY, None)
    flash(_("You have logged out."), "info")
    return redirect(url_for("core.index"))


@bp.get("/lang/<code>")
def set_language(code: str):
    if code not in LOCALES:
        raise InvalidInput(_("Unknown language %(code)s.", code=code))
    resp = redirect(safe_next(request.args.get("next")))
    resp.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return resp


@bp.route("/account", methods=["GET"])
@login_required
def account():
    return render_template("core/account.html", new_token=None)


@bp.post("/account/tokens")
@login_required
def create_token():
    name = parse.text(request.form.get("name"), field="name", max_length=100)
    if not name:
        raise InvalidInput(_("Give the token a name, e.g. the program that will use it."))
    _row, token = auth.create_api_token(current_user, name)
    return render_template("core/account.html", new_token=token)


@bp.route("/communities/<id:community_id>/residents", methods=["GET", "POST"], endpoint="residents")
@login_required
def residents_page(community_id: int):
    community = residents.get_community(community_id)
    residents.require_staff(community)
    errors, status = {}, 200
    if request.method == "POST":
        try:
            residents.create_resident(
                community,
                name=request.form.get("name", ""),
                phone=request.form.get("phone", ""),
                id_number=request.form.get("id_number", ""),
                unit=request.form.get("unit", ""),
                actor=current_user,
            )
        except InvalidInput as e:
            errors, status = e.errors, e.status
        else:
            flash(_("Resident added."), "success")
            return redirect(url_for("core.residents", community_id=community.id))
    return (
        render_template(
            "core/residents.html",
            community=community,
            residents=residents.list_residents(community),
            errors=errors,
            form=request.form if errors else {},
        ),
        status,
    )


@bp.post("/communities/<id:community_id>/residents/<id:resident_id>/consent")
@login_required
def resident_consent(community_id: int, resident_id: int):
    from .models import Resident

    community = residents.get_community(community_id)
    r = db.session.get(Resident, resident_id)
    if r is None or r.community_id != community.id:
        raise NotFound()
    residents.record_consent(
        r,
        request.form.get("kind", ""),
        request.form.get("action", ""),
        scope=request.form.get("scope", ""),
        actor=current_user,
    )
    flash(_("Consent recorded."), "success")
    return redirect(url_for("core.residents", community_id=community.id))
