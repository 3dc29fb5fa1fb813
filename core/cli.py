"""CLI commands: ``flask setup``, ``flask community create``, ``flask organisation create``,
``flask user create|grant|token|reset-link`` and ``flask demo load``."""

from __future__ import annotations

import types
from typing import NoReturn, cast

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from . import auth, demo, onboarding, people
from .audit import audited_command, note
from .db import db
from .errors import DomainError
from .models import Organisation, User

user_cli = AppGroup("user", help="Users and roles.")
demo_cli = AppGroup("demo", help="Demo data.")
community_cli = AppGroup("community", help="Communities (社区).")
organisation_cli = AppGroup("organisation", help="Organisations and their books.")

# Whoever runs the CLI operates the server: they act as a platform administrator.
# The command line acts as a platform administrator without a login of its own. It stands in
# for a ``User`` on the platform-admin paths, which read only these three attributes.
CLI_ACTOR = cast(User, types.SimpleNamespace(id=None, username="cli", is_platform_admin=True))


def _fail(e: DomainError) -> NoReturn:
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
    width = max(len(username) for username, _role in logins)
    for username, role in logins:
        click.echo(f"  {username:<{width}}  {role}")


@click.command("setup")
@click.option("--username", prompt=True)
@click.option("--display-name", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@audited_command("setup")
def setup(username, display_name, password):
    """First run without the demo: create the first platform administrator."""
    note(username=username)
    if onboarding.has_any_user():
        raise click.ClickException("setup has already been done: users exist")
    try:
        user = auth.create_user(username, password, display_name=display_name, platform_admin=True)
    except DomainError as e:
        _fail(e)
    db.session.commit()
    click.echo(f"platform admin {user.id} {user.username}")


@community_cli.command("create")
@click.argument("name")
@click.option("--slug", required=True, help="Short name in links, e.g. yulin-beilu.")
@click.option("--kind", "area_kind", type=click.Choice(["urban", "rural"]), default="urban")
@click.option("--district", default=None, help="区/县, e.g. 成都市武侯区")
@click.option("--street", default=None, help="街道/乡镇")
@click.option("--population", type=int, default=None)
@click.option("--population-basis", type=click.Choice(["registered", "resident"]), default=None)
@audited_command("community create")
def create_community(name, slug, area_kind, district, street, population, population_basis):
    """Create a community."""
    note(slug=slug)
    try:
        c = onboarding.create_community(
            name=name,
            slug=slug,
            area_kind=area_kind,
            district=district,
            street=street,
            population=population,
            population_basis=population_basis,
            actor=CLI_ACTOR,
        )
    except DomainError as e:
        _fail_fields(e)
    db.session.commit()
    click.echo(f"community {c.id} {c.slug}")


@organisation_cli.command("create")
@click.option("--community", "community_slug", required=True, help="The community's slug.")
@click.option("--name", required=True)
@click.option("--slug", required=True)
@click.option("--kind", type=click.Choice(["enterprise", "foundation", "trust"]), required=True)
@click.option("--standard", type=click.Choice(["SME_2011", "NPO_2004", "NPO_2024", "TRUST_FUND"]))
@click.option("--start", required=True, help="The first month it keeps books here, YYYY-MM.")
@audited_command("organisation create")
def create_organisation(community_slug, name, slug, kind, standard, start):
    """Create an organisation and open its book."""
    note(community=community_slug, slug=slug)
    try:
        community = onboarding.community_by_slug(community_slug)
        made = onboarding.create_organisation(
            community,
            name=name,
            slug=slug,
            kind=kind,
            standard=standard,
            first_month=start,
            actor=CLI_ACTOR,
        )
    except DomainError as e:
        _fail_fields(e)
    db.session.commit()
    click.echo(f"organisation {made.organisation.id} book {made.book_id}")


@user_cli.command("reset-link")
@click.argument("username")
@audited_command("user reset-link")
def reset_link(username):
    """Print a one-time password reset path for USERNAME (valid 24 hours)."""
    note(username=username)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    _row, token = people.issue_reset_link(user, actor=CLI_ACTOR)
    db.session.commit()
    click.echo(f"/reset/{token}")


def _fail_fields(e: DomainError) -> NoReturn:
    db.session.rollback()
    details = "; ".join(f"{k}: {' '.join(v)}" for k, v in (e.errors or {}).items())
    raise click.ClickException(str(e.message) + (f" ({details})" if details else ""))


def register(app: Flask) -> None:
    app.cli.add_command(user_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(community_cli)
    app.cli.add_command(organisation_cli)
    app.cli.add_command(setup)
