"""Pages, API and CLI of a resident's personal data (core/personal_data.py): staff read and
download what is held on a resident, file an erasure with its reason and another admin
confirms it; a resident downloads their own from their account."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_smorest import Blueprint as ApiBlueprint

from . import personal_data as pd
from . import sections
from .audit import audited_command, note
from .auth import authenticated_user
from .db import db
from .errors import DomainError, NotFound
from .models import Resident, User
from .residents import get_community, require_staff

bp = Blueprint("personal_data", __name__)
api_blp = ApiBlueprint(
    "personal_data_api", __name__, url_prefix="/api/v1", description="Residents' personal data"
)


def _resident(community_id: int, resident_id: int, actor: User) -> Resident:
    community = get_community(community_id)
    require_staff(community, actor)
    return pd.get_resident(resident_id, community.id)


def _json_download(data: dict, filename: str) -> Response:
    resp = Response(
        json.dumps(data, ensure_ascii=False, indent=1) + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/communities/<id:community_id>/residents/<id:resident_id>/personal-data")
@login_required
def page(community_id: int, resident_id: int):
    r = _resident(community_id, resident_id, current_user)
    note(community_id=community_id, resident_id=r.id)
    resp = Response(
        render_template(
            "core/personal_data.html",
            resident=r,
            data=pd.export_resident(r),
            pending=pd.pending_erasure(r),
            erased=pd.is_erased(r),
        )
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/communities/<id:community_id>/residents/<id:resident_id>/personal-data.json")
@login_required
def download(community_id: int, resident_id: int):
    r = _resident(community_id, resident_id, current_user)
    note(community_id=community_id, resident_id=r.id)
    return _json_download(pd.export_resident(r), f"personal-data-{r.id}.json")


@bp.post("/communities/<id:community_id>/residents/<id:resident_id>/erasure")
@login_required
def request_erasure(community_id: int, resident_id: int):
    r = _resident(community_id, resident_id, current_user)
    pd.request_erasure(r, request.form.get("reason", ""), actor=current_user)
    note(community_id=community_id, resident_id=r.id)
    flash(_("Erasure requested: another administrator must confirm it."), "success")
    return redirect(url_for("personal_data.page", community_id=community_id, resident_id=r.id))


@bp.post("/communities/<id:community_id>/residents/<id:resident_id>/erasure/confirm")
@login_required
def confirm_erasure(community_id: int, resident_id: int):
    r = _resident(community_id, resident_id, current_user)
    pending = pd.pending_erasure(r)
    if pending is None:
        raise NotFound(_("No erasure request is waiting."))
    pd.confirm_erasure(pending, actor=current_user)
    note(community_id=community_id, resident_id=r.id, erasure=pending.id)
    flash(_("The resident's personal data has been erased."), "success")
    return redirect(url_for("personal_data.page", community_id=community_id, resident_id=r.id))


@bp.get("/me/personal-data.json")
@login_required
def own_download():
    """Everything held on the signed-in person as a resident (of any community)."""
    mine = db.session.scalars(
        sa.select(Resident).where(Resident.user_id == current_user.id).order_by(Resident.id)
    ).all()
    data = {"format": "commons-ledger/personal-data-list/1"}
    data["residents"] = [pd.export_resident(r) for r in mine]  # type: ignore[assignment]
    return _json_download(data, "my-personal-data.json")


@api_blp.get("/communities/<id:community_id>/residents/<id:resident_id>/personal-data")
@api_blp.response(200)
def api_export(community_id: int, resident_id: int):
    """Everything held on a resident (staff of the community): phone and ID number decrypted."""
    r = _resident(community_id, resident_id, authenticated_user())
    note(community_id=community_id, resident_id=r.id)
    return pd.export_resident(r)


# --- flask residents export|erase ---------------------------------------------------------------

residents_cli = AppGroup("residents", help="Residents' personal data (PIPL).")


def _user(username: str) -> User:
    u = db.session.scalar(sa.select(User).where(User.username == username))
    if u is None:
        raise click.ClickException(f"no user {username!r}")
    return u


@residents_cli.command("export")
@click.argument("resident_id", type=int)
def export_command(resident_id: int):
    """Print everything held on a resident as JSON."""
    try:
        r = pd.get_resident(resident_id)
    except DomainError as e:
        raise click.ClickException(str(e.message)) from None
    click.echo(json.dumps(pd.export_resident(r), ensure_ascii=False, indent=1))


@residents_cli.command("erase")
@click.argument("resident_id", type=int)
@click.option("--reason", required=True)
@click.option("--requested-by", required=True, help="Username of the staff member who asks.")
@click.option("--confirmed-by", required=True, help="Username of another administrator.")
@audited_command("residents erase")
def erase_command(resident_id: int, reason: str, requested_by: str, confirmed_by: str):
    """Erase a resident's personal data (four eyes: two different people are named)."""
    try:
        r = pd.get_resident(resident_id)
        pending = pd.pending_erasure(r) or pd.request_erasure(r, reason, actor=_user(requested_by))
        pd.confirm_erasure(pending, actor=_user(confirmed_by))
    except DomainError as e:
        db.session.rollback()
        raise click.ClickException(str(e.message)) from None
    db.session.commit()
    click.echo(f"erased resident {resident_id}")


def register(app: Flask) -> None:
    app.cli.add_command(residents_cli)


def _personal_link(user) -> list[tuple[str, str]]:
    """ "My personal data" in the top bar of a person linked to a resident."""
    linked = db.session.scalar(
        sa.select(sa.func.count()).select_from(Resident).where(Resident.user_id == user.id)
    )
    return [(url_for("personal_data.own_download"), _("My personal data"))] if linked else []


sections.PERSONAL.append(_personal_link)
