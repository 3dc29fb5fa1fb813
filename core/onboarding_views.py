"""Pages for starting real books: the platform admin's communities and organisations, an
organisation's people and settings, invitation and reset links, passwords, the first run."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required, login_user

from . import auth, onboarding, people
from .db import db
from .errors import DomainError, InvalidInput, NotFound
from .i18n import role_label
from .models import (
    AreaKind,
    Community,
    Invitation,
    Organisation,
    PopulationBasis,
    Resident,
    Role,
)
from .residents import get_community

bp = Blueprint("onboarding", __name__)


def _form_error(template: str, e: DomainError, **context):
    """Re-show the form with the refusal and every field's problem (4xx, nothing stored)."""
    return (
        render_template(
            template, error=str(e.message), errors=e.errors, form=request.form, **context
        ),
        e.status,
    )


def _sign_in(user) -> None:
    session.clear()
    session.permanent = True
    session[auth.SESSION_KEY] = auth.start_session(user)
    login_user(user)


# --- platform admin: communities and organisations ----------------------------------------


def _platform_admin():
    user = auth.authenticated_user()
    onboarding.require_platform_admin(user)
    return user


@bp.route("/platform/communities", methods=["GET", "POST"])
@login_required
def communities():
    actor = _platform_admin()
    rows = db.session.scalars(sa.select(Community).order_by(Community.id)).all()
    context = {"communities": rows, "area_kinds": list(AreaKind), "bases": list(PopulationBasis)}
    if request.method == "POST":
        f = request.form
        try:
            c = onboarding.create_community(
                name=f.get("name", ""),
                slug=f.get("slug", ""),
                area_kind=f.get("area_kind", ""),
                district=f.get("district"),
                street=f.get("street"),
                population=f.get("population"),
                population_basis=f.get("population_basis") or None,
                actor=actor,
            )
        except DomainError as e:
            return _form_error("onboarding/communities.html", e, **context)
        flash(_("Community %(name)s created.", name=c.name), "success")
        return redirect(url_for("onboarding.community", community_id=c.id))
    return render_template("onboarding/communities.html", errors={}, form={}, **context)


@bp.route("/platform/communities/<id:community_id>", methods=["GET", "POST"])
@login_required
def community(community_id: int):
    actor = _platform_admin()
    c = onboarding.get_community(community_id)
    context = {"community": c, "bases": list(PopulationBasis)}
    if request.method == "POST":
        f = request.form
        try:
            if f.get("action") == "organisation":
                made = onboarding.create_organisation(
                    c,
                    name=f.get("name", ""),
                    slug=f.get("slug", ""),
                    kind=f.get("kind", ""),
                    standard=f.get("standard") or None,
                    first_month=f.get("first_month", ""),
                    actor=actor,
                )
                flash(
                    _("Organisation %(name)s created with its book.", name=made.organisation.name),
                    "success",
                )
                return redirect(url_for("onboarding.people", org_id=made.organisation.id))
            if f.get("action") in ("deactivate", "activate"):
                onboarding.update_community(c, active=f["action"] == "activate", actor=actor)
            else:
                onboarding.update_community(
                    c,
                    name=f.get("name", ""),
                    district=f.get("district", ""),
                    street=f.get("street", ""),
                    population=f.get("population", ""),
                    population_basis=f.get("population_basis") or None,
                    actor=actor,
                )
        except DomainError as e:
            return _form_error("onboarding/community.html", e, **context)
        flash(_("Saved."), "success")
        return redirect(url_for("onboarding.community", community_id=c.id))
    return render_template("onboarding/community.html", errors={}, form={}, **context)


@bp.post("/platform/organisations/<id:org_id>")
@login_required
def organisation(org_id: int):
    actor = _platform_admin()
    org = auth.get_organisation(org_id)
    action = request.form.get("action")
    if action in ("deactivate", "activate"):
        onboarding.update_organisation(org, active=action == "activate", actor=actor)
    else:
        onboarding.update_organisation(org, name=request.form.get("name", ""), actor=actor)
    flash(_("Saved."), "success")
    return redirect(url_for("onboarding.community", community_id=org.community_id))


# --- an organisation's people -------------------------------------------------------------


@bp.route("/orgs/<id:org_id>/people", methods=["GET", "POST"], endpoint="people")
@login_required
def people_page(org_id: int):
    org = auth.get_organisation(org_id)
    actor = people.require_admin(org, auth.authenticated_user())
    new_link = None
    if request.method == "POST":
        try:
            _inv, token = people.invite(
                org,
                role=request.form.get("role", ""),
                display_name=request.form.get("display_name", ""),
                actor=actor,
            )
        except DomainError as e:
            return _form_error("onboarding/people.html", e, **_people_context(org))
        new_link = url_for("onboarding.accept", token=token, _external=True)
    return render_template(
        "onboarding/people.html", new_link=new_link, errors={}, form={}, **_people_context(org)
    )


@bp.post("/orgs/<id:org_id>/invitations/<id:invitation_id>/cancel")
@login_required
def cancel_invitation(org_id: int, invitation_id: int):
    org = auth.get_organisation(org_id)
    inv = db.session.get(Invitation, invitation_id)
    if inv is None or inv.organisation_id != org.id:
        raise NotFound()
    people.cancel_invitation(inv, actor=auth.authenticated_user())
    flash(_("Invitation cancelled."), "success")
    return redirect(url_for("onboarding.people", org_id=org.id))


def _people_context(org: Organisation) -> dict:
    return {
        "org": org,
        "members": people.people_of(org),
        "invitations": people.open_invitations(org),
        "roles": list(Role),
    }


@bp.route("/orgs/<id:org_id>/people/<id:user_id>", methods=["GET", "POST"])
@login_required
def person(org_id: int, user_id: int):
    org = auth.get_organisation(org_id)
    actor = people.require_admin(org, auth.authenticated_user())
    who = people.person_in(org, user_id)
    reset_link = None
    if request.method == "POST":
        action = request.form.get("action")
        role = request.form.get("role", "")
        try:
            if action == "grant":
                people.grant(org, who, role, actor=actor)
                flash(_("Role granted."), "success")
            elif action == "revoke":
                people.revoke(org, who, role, actor=actor)
                flash(_("Role revoked; their sessions have ended."), "success")
            elif action == "reset":
                _row, token = people.issue_reset_link(who, actor=actor, org=org)
                reset_link = url_for("onboarding.reset", token=token, _external=True)
            elif action == "signout":
                people.sign_out_everywhere(who, actor=actor, org=org)
                flash(_("Signed out everywhere."), "success")
            else:
                raise InvalidInput()
        except DomainError as e:
            return _form_error("onboarding/person.html", e, **_person_context(org, who))
        if reset_link is None:
            return redirect(url_for("onboarding.person", org_id=org.id, user_id=who.id))
    return render_template(
        "onboarding/person.html",
        reset_link=reset_link,
        errors={},
        form={},
        **_person_context(org, who),
    )


def _event_label(event) -> str:
    labels = {
        "role grant": _("Role granted"),
        "role revoke": _("Role revoked"),
        "invitation accepted": _("Invitation accepted"),
        "password reset link": _("Password reset link issued"),
        "sign out everywhere": _("Signed out everywhere"),
    }
    text = labels.get(event.action, event.action)
    try:
        role = json.loads(event.detail or "{}").get("role")
    except (ValueError, AttributeError):
        role = None
    return f"{text}: {role_label(role)}" if role else text


def _person_context(org, who) -> dict:
    memberships = [m for m in who.memberships if m.organisation_id == org.id]
    return {
        "event_label": _event_label,
        "org": org,
        "person": who,
        "memberships": memberships,
        "held": {m.role for m in memberships if m.revoked_at is None},
        "history": people.history_of(org, who),
        "roles": list(Role),
    }


@bp.route("/orgs/<id:org_id>/settings", methods=["GET", "POST"])
@login_required
def settings(org_id: int):
    org = auth.get_organisation(org_id)
    actor = auth.require_role(org, Role.ADMIN)
    if request.method == "POST":
        f = request.form
        try:
            onboarding.update_settings(
                org,
                head_name=f.get("head_name"),
                accounting_head_name=f.get("accounting_head_name"),
                statement_preparer_name=f.get("statement_preparer_name"),
                timezone=f.get("timezone", ""),
                fiscal_year_start_month=f.get("fiscal_year_start_month", ""),
                actor=actor,
            )
        except DomainError as e:
            return _form_error("onboarding/settings.html", e, org=org)
        flash(_("Settings saved."), "success")
        return redirect(url_for("onboarding.settings", org_id=org.id))
    return render_template("onboarding/settings.html", org=org, errors={}, form={})


# --- links: invitations and password resets ----------------------------------------------


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept(token: str):
    if len(token) > 100:
        raise NotFound()
    inv = people.open_invitation(token)
    if request.method == "POST":
        f = request.form
        if f.get("password", "") != f.get("password2", ""):
            e = InvalidInput(_("The two passwords differ."))
            return _form_error("onboarding/accept.html", e, invitation=inv)
        try:
            user = people.accept_invitation(
                token,
                username=f.get("username", ""),
                password=f.get("password", ""),
                display_name=f.get("display_name", ""),
            )
        except DomainError as e:
            return _form_error("onboarding/accept.html", e, invitation=inv)
        _sign_in(user)
        flash(_("Welcome, %(name)s.", name=user.display_name), "success")
        return redirect(url_for("core.index"))
    return render_template("onboarding/accept.html", invitation=inv, errors={}, form={})


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    if len(token) > 100:
        raise NotFound()
    row = people.open_reset(token)
    if request.method == "POST":
        f = request.form
        try:
            if f.get("password", "") != f.get("password2", ""):
                raise InvalidInput(_("The two passwords differ."))
            people.reset_password(token, f.get("password", ""))
        except DomainError as e:
            return _form_error("onboarding/reset.html", e, reset=row)
        flash(_("Your password has been changed. Please log in."), "success")
        return redirect(url_for("core.login"))
    return render_template("onboarding/reset.html", reset=row, errors={}, form={})


# --- the user's own password and sessions ------------------------------------------------


@bp.post("/account/password")
@login_required
def change_password():
    user = auth.authenticated_user()
    f = request.form
    try:
        if f.get("password", "") != f.get("password2", ""):
            raise InvalidInput(_("The two passwords differ."))
        auth.change_own_password(user, f.get("current_password", ""), f.get("password", ""))
    except DomainError as e:
        return _form_error("core/account.html", e, new_token=None)
    _sign_in(user)  # every other session has ended; this one goes on with a new token
    flash(_("Your password has been changed and every other session has ended."), "success")
    return redirect(url_for("core.account"))


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    user = auth.authenticated_user()
    people.sign_out_everywhere(user, actor=user)
    session.clear()
    flash(_("You have been signed out everywhere."), "info")
    return redirect(url_for("core.login"))


# --- first run ---------------------------------------------------------------------------


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """While the database has no user at all: create the first platform administrator."""
    if onboarding.has_any_user():
        abort(404)
    if request.method == "POST":
        f = request.form
        try:
            if f.get("password", "") != f.get("password2", ""):
                raise InvalidInput(_("The two passwords differ."))
            user = auth.create_user(
                f.get("username", ""),
                f.get("password", ""),
                display_name=f.get("display_name", ""),
                platform_admin=True,
            )
        except DomainError as e:
            return _form_error("onboarding/setup.html", e)
        _sign_in(user)
        flash(_("Welcome, %(name)s.", name=user.display_name), "success")
        return redirect(url_for("onboarding.communities"))
    return render_template("onboarding/setup.html", errors={}, form={})


# --- residents' logins -------------------------------------------------------------------


@bp.post("/communities/<id:community_id>/residents/<id:resident_id>/login")
@login_required
def link_resident(community_id: int, resident_id: int):
    community = get_community(community_id)
    r = db.session.get(Resident, resident_id)
    if r is None or r.community_id != community.id:
        raise NotFound()
    people.link_resident(r, request.form.get("username", ""), actor=auth.authenticated_user())
    flash(_("The resident's login is linked."), "success")
    return redirect(url_for("core.residents", community_id=community.id))


@bp.get("/me/records")
@login_required
def my_records():
    return render_template(
        "onboarding/my_records.html",
        records=people.my_resident_records(auth.authenticated_user()),
    )
