"""CLI commands: ``flask user create|grant|token`` and ``flask demo load``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from . import auth, demo
from .audit import audited_command, note
from .db import db
from .errors import DomainError
from .models import Organisation, User

user_cli = AppGroup("user", help="Users and roles.")
demo_cli = AppGroup("demo", help="Demo data.")


def _fail(e: DomainError):
    db.session.rollback()
    raise click.ClickException(str(e.message))


def find_organisation(ref: str) -> Organisation:
    q = sa.select(Organisation)
    q = (
        q.where(Organisation.id == int(ref))
        if ref.isdigit() and len(ref) < 19
        else q.where(Organisation.slug == ref)
    )
    org = db.session.scalars(q).first()
    if org is None:
        raise click.ClickException(f"no organisation {ref!r} (give its id or slug)")
    return org


@user_cli.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display-name", default="")
@click.option("--platform-admin", is_flag=True, help="May act in every organisation.")
@audited_command("user create")
def create_user(username, password, display_name, platform_admin):
    """Create a login."""
    note(username=username)
    try:
        user = auth.create_user(
            username, password, display_name=display_name, platform_admin=platform_admin
        )
    except DomainError as e:
        _fail(e)
    db.session.commit()
    click.echo(f"user {user.id} {user.username}")


@user_cli.command("grant")
@click.argument("username")
@click.argument("organisation")
@click.argument("role")
@audited_command("user grant")
def grant(username, organisation, role):
    """Give USERNAME the ROLE in ORGANISATION (id or slug)."""
    note(username=username, organisation=organisation, role=role)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    org = find_organisation(organisation)
    try:
        auth.grant_role(user, org, role)
    except DomainError as e:
        _fail(e)
    db.session.commit()
    click.echo(f"{username} is {role} in {org.name}")


@user_cli.command("token")
@click.argument("username")
@click.option("--name", default="cli")
@audited_command("user token")
def token(username, name):
    """Create a personal API token (printed once)."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    _row, tok = auth.create_api_token(user, name)
    db.session.commit()
    click.echo(tok)


@demo_cli.command("load")
@audited_command("demo load")
def load():
    """Load the demo community (once)."""
    if demo.demo_exists():
        click.echo("demo data already loaded")
        logins = demo.demo_logins()
    else:
        ctx = demo.load_demo()
        db.session.commit()
        click.echo(f"demo community: {ctx.community.name}")
        logins = ctx.logins
    click.echo(f"demo logins (password {demo.DEMO_PASSWORD}):")
    for username, role in logins:
        click.echo(f"  {username:<12} {role}")


def register(app: Flask) -> None:
    app.cli.add_command(user_cli)
    app.cli.add_command(demo_cli)
