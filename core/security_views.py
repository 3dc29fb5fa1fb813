"""The security-event feed's pages: an organisation's (its admins) and the platform's (platform
admins). See core.security_feed."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from . import auth, security_feed
from .errors import NotPermitted
from .models import Organisation, Role

bp = Blueprint("security", __name__)


def _render(organisation: Organisation | None, endpoint: str, others=(), **endpoint_args):
    filters = security_feed.Filters.parse(request.args)
    return render_template(
        "core/security.html",
        feed=security_feed.feed(filters, organisation),
        filters=filters,
        organisation=organisation,
        others=others,
        endpoint=endpoint,
        endpoint_args=endpoint_args,
        kinds=security_feed.KINDS,
        outcomes=security_feed.OUTCOMES,
        kind_of=security_feed.kind_of,
        reason_of=security_feed.reason_of,
        page_url=lambda n: url_for(endpoint, **endpoint_args, **filters.query_args(page=n)),
    )


@bp.get("/security")
@login_required
def index():
    """Platform admins: every event. An organisation's admin: their organisation's feed."""
    user = auth.authenticated_user()
    if user.is_platform_admin:
        return _render(None, "security.index")
    orgs = security_feed.admin_organisations(user)
    if not orgs:
        raise NotPermitted()
    return redirect(url_for("security.organisation", org_id=orgs[0].id))


@bp.get("/orgs/<id:org_id>/security")
@login_required
def organisation(org_id: int):
    org = auth.get_organisation(org_id)
    user = auth.require_role(org, Role.ADMIN)
    others = [] if user.is_platform_admin else security_feed.admin_organisations(user)
    return _render(org, "security.organisation", others=others, org_id=org.id)
