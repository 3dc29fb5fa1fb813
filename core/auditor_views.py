"""The admin's page of auditor grants (core.auditor_access): who may see which dates of this
organisation's books, the form to grant or revoke, and the full history (append-only)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from . import auditor_access, auth, parse
from .audit import note
from .db import db
from .errors import DomainError, InvalidInput, NotFound
from .models import Organisation, Role, User

bp = Blueprint("auditor_access", __name__)


def _page(org: Organisation, errors: dict | None = None, form: dict | None = None, status=200):
    people = auditor_access.auditors(org)
    return (
        render_template(
            "core/auditor_grants.html",
            organisation=org,
            auditors=[(u, auditor_access.current_grant(u.id, org.id)) for u in people],
            history=auditor_access.history(org),
            errors=errors or {},
            form=form or {},
        ),
        status,
    )


@bp.get("/orgs/<id:org_id>/auditors")
@login_required
def grants(org_id: int):
    org = auth.get_organisation(org_id)
    auth.require_role(org, Role.ADMIN)
    return _page(org)


def _auditor(org: Organisation) -> User:
    uid = parse.int_id(request.form.get("user", ""), field="user")
    user = db.session.get(User, uid)
    if user is None or Role.AUDITOR.value not in user.roles_in(org.id):
        raise InvalidInput(
            _("Choose an auditor of this organisation."),
            errors={"user": [_("Choose an auditor of this organisation.")]},
        )
    return user


@bp.post("/orgs/<id:org_id>/auditors/<any(grant,revoke):action>")
@login_required
def change(org_id: int, action: str):
    org = auth.get_organisation(org_id)
    actor = auth.require_role(org, Role.ADMIN)
    form = request.form.to_dict()
    try:
        auditor = _auditor(org)
        text = parse.text(form.get("note", ""), field="note", max_length=300)
        if action == "grant":
            start = parse.date(form.get("start"), field="start")
            end = parse.date(form.get("end"), field="end")
            row = auditor_access.grant(auditor, org, start, end, actor=actor, note_text=text)
        else:
            row = auditor_access.revoke(auditor, org, actor=actor, note_text=text)
    except DomainError as e:
        db.session.rollback()
        g.audit_outcome_detail = e.code
        errors = {k: "; ".join(v) if isinstance(v, list) else str(v) for k, v in e.errors.items()}
        errors.setdefault("form", str(e.message))
        if isinstance(e, NotFound):
            raise
        return _page(org, errors=errors, form=form, status=e.status)
    note(
        grant_id=row.id,
        auditor=auditor.username,
        action=action,
        start=row.start_date,
        end=row.end_date,
    )
    flash(
        _("Access granted to %(name)s.", name=auditor.username)
        if action == "grant"
        else _("Access of %(name)s revoked.", name=auditor.username)
    )
    return redirect(url_for(".grants", org_id=org.id), 303)
