"""The application factory: the one module that knows every package (DESIGN.md §1)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, g, request, session
from flask.cli import FlaskGroup
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter, ValidationError

from . import audit, auth, pagecache, parse
from .config import load_config
from .db import (
    MAX_ID,
    configure_engine,
    db,
    reset_read_only_transactions,
    set_read_only_transactions,
)
from .errors import (
    HTTP_MESSAGES,
    InvalidInput,
    error_response,
    register_error_handlers,
    unavailable_response,
)
from .extensions import api, babel, csrf, login_manager
from .i18n import (
    LOCALES,
    kind_label,
    register_filters,
    role_label,
    select_locale,
    standard_label,
)

ROOT = Path(__file__).resolve().parent.parent

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class IdConverter(BaseConverter):
    """A database id in a URL: 1 … 2^63−1. Anything else is a 404, never a database error."""

    regex = r"[0-9]{1,19}"  # ASCII digits only: \d would also match "３" and "٣"

    def to_python(self, value: str) -> int:
        n = int(value)
        if n < 1 or n > MAX_ID:
            raise ValidationError()
        return n

    def to_url(self, value) -> str:
        return str(int(value))


def create_app(config: dict | None = None) -> Flask:
    """The application. Its HTTP layer (pages, the API and its OpenAPI document, the route map)
    is built when the app will answer requests: under gunicorn, ``flask run``, ``flask routes``,
    ``flask shell``, in the tests. When the ``flask`` command line builds the app to run one of
    its own commands (``flask ledger import-beancount …``, ``flask db upgrade``, ``flask --help``)
    it gets everything a command runs — the models, the ledger's rules and every domain's
    signal receivers, the CLI, the template filters — without it (see ``_for_a_command``)."""
    serving = not _for_a_command()
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get(
        "COMMONS_INSTANCE_PATH", str(ROOT / "instance")
    )
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(app.instance_path, config))
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked in _before below, skipping token auth
    app.url_map.converters["id"] = IdConverter
    if n := app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    logging.basicConfig(level=logging.INFO)

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "core.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def _load_user(user_id: str):
        if (
            not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 19)
            or int(user_id) > MAX_ID
        ):
            return None
        # Only while the login session is open on the server (logout, a password change or
        # "sign out everywhere" end it); with the user's roles: nearly every page checks one.
        return auth.user_for_session(int(user_id), session.get(auth.SESSION_KEY))

    @login_manager.request_loader
    def _load_from_token(_req):
        token = auth.bearer_token()
        if token:
            user = auth.user_for_token(token)
            g.token_authenticated = user is not None
            if user is None:
                g.audit_security = True
                g.setdefault("audit_detail", {})["reason"] = "bad_token"
            return user
        return None

    _register_ledger_and_transparency(app)
    _register_cli(app)
    _register_domains(app)
    if serving:
        _init_migrate(app)
        _build_http(app)
    else:
        _defer(app, "db", _init_migrate, "Perform database migrations.")  # flask_migrate's
        # The job worker runs the exports that the report pages and the API register
        # (core.jobs.register_job_kind in ledger/views/reports.py and ledger/api.py).
        _defer(app, "jobs", _build_http)
        _defer(app, "openapi", _build_http, "OpenAPI commands.")  # flask-smorest's
    register_error_handlers(app)  # after _build_http: ours replace flask-smorest's
    register_filters(app)
    _register_request_hooks(app)
    return app


def _for_a_command() -> bool:
    """Whether the ``flask`` command line is building the app to look up or list the app's own
    commands: the current click context is then the ``flask`` group itself. ``flask run``,
    ``flask routes`` and ``flask shell`` (flask's own commands) build the app from inside their
    own context; gunicorn, ``wsgi.py`` imported by a program and the tests have no click context
    at all. Those get the HTTP layer."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.parent is None and isinstance(ctx.command, FlaskGroup)


def _init_migrate(app: Flask) -> None:
    """Flask-Migrate (Alembic, ~0.1 s to import): its ``flask db`` commands."""
    # Alembic logs its plug-ins at INFO while it is imported; imported after basicConfig above it
    # would print them on every command (migrations/alembic.ini sets its logging when it runs).
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(ROOT / "migrations"), compare_type=True)


def _build_http(app: Flask) -> None:
    """The HTTP layer: the blueprints of every package, the API with its OpenAPI document (the
    route map: ~300 rules), and the domains' pages (``plugin.register_http``). Once per app."""
    if app.extensions.get("commons.http"):
        return
    app.extensions["commons.http"] = True
    api.init_app(app)
    # Documented as what it takes (an unknown converter was documented as a bare string, so
    # clients and the schemathesis fuzz sent words where ids go).
    api.register_converter(
        IdConverter, lambda _c: {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    )
    _register_blueprints(app)
    for plugin in _domains():
        plugin.register_http(app, api)


class _Deferred(click.Group):
    """A command group whose start-up waits until it is run (``flask db upgrade``, ``flask jobs
    work``): ``prepare(app)`` runs first, once, and the group that runs is the one ``prepare``
    registered under the same name, or else the original; its own options and callback run as
    they always do. ``flask --help`` lists the group without preparing it."""

    def __init__(self, app: Flask, name: str, prepare: Callable[[Flask], None]) -> None:
        self._original = app.cli.commands.get(name)
        super().__init__(name, help=self._original.help if self._original else None)
        self._app = app
        self._prepare = prepare
        self._group: click.Group | None = None

    def _commands(self) -> click.Group:
        if self._group is None:
            self._prepare(self._app)
            group = self._app.cli.commands.get(str(self.name))
            group = self._original if group is self else group
            assert isinstance(group, click.Group)
            self._group = group
        return self._group

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        return self._commands().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._commands().get_command(ctx, cmd_name)


def _defer(app: Flask, name: str, prepare: Callable[[Flask], None], help_text: str = "") -> None:
    deferred = _Deferred(app, name, prepare)
    deferred.help = deferred.help or help_text
    app.cli.add_command(deferred, name)


def _register_ledger_and_transparency(app: Flask) -> None:
    """What runs in every app, serving or not: the ledger's tables and ORM guards, the
    transparency layer's receivers of the ledger's signals, the template globals."""
    import ledger.erasure  # noqa: F401  (what erasing a resident drops: core.personal_data)
    import ledger.guards  # noqa: F401  (ORM hooks on posted rows)
    import ledger.models  # noqa: F401
    import ledger.nav
    import transparency.ledger_hooks
    import transparency.models  # noqa: F401

    transparency.ledger_hooks.install()
    app.add_template_global(ledger.nav.can, "can")  # menus offer only what is allowed
    app.add_template_global(ledger.nav.book_links, "book_links")  # the domains' book pages


def _register_blueprints(app: Flask) -> None:
    import ledger.api
    import ledger.opening_api
    import ledger.opening_views
    import ledger.views
    import transparency.api
    import transparency.public
    import transparency.views

    from . import api as core_api
    from . import (
        auditor_access,
        auditor_views,
        jobs_views,
        onboarding_views,
        personal_data_views,
        security_views,
    )
    from . import views as core_views

    app.register_blueprint(core_views.bp)
    app.register_blueprint(onboarding_views.bp)
    app.register_blueprint(security_views.bp)
    app.register_blueprint(personal_data_views.bp)
    app.register_blueprint(jobs_views.bp)
    app.register_blueprint(auditor_views.bp)
    auditor_access.install(app)
    app.register_blueprint(ledger.views.bp)
    app.register_blueprint(ledger.opening_views.bp)
    app.register_blueprint(transparency.public.public_bp)
    app.register_blueprint(transparency.public.receipts_bp)
    app.register_blueprint(transparency.views.bp)
    api.register_blueprint(core_api.blp)
    api.register_blueprint(personal_data_views.api_blp)
    api.register_blueprint(ledger.api.blp)
    api.register_blueprint(ledger.opening_api.blp)
    api.register_blueprint(transparency.api.blp)


def _register_cli(app: Flask) -> None:
    import ledger.cli
    import ledger.demo  # noqa: F401  (adds its demo step)
    import ledger.opening_cli
    import transparency.backup_hooks  # noqa: F401  (describes and checks the books in a backup)
    import transparency.cli
    import transparency.demo  # noqa: F401  (adds its demo step)

    from . import backup_cli, jobs_views, personal_data_views
    from . import cli as core_cli

    core_cli.register(app)
    backup_cli.register(app)
    personal_data_views.register(app)
    jobs_views.register(app)
    ledger.cli.register(app)
    ledger.opening_cli.register(app)
    transparency.cli.register(app)


def _domains() -> tuple:
    """The four domains (DESIGN.md §3a), each a ``plugin`` module."""
    import funds.plugin
    import points.plugin
    import property_trust.plugin
    import shareholders.plugin

    return (shareholders.plugin, points.plugin, funds.plugin, property_trust.plugin)


def _register_domains(app: Flask) -> None:
    """Each domain's ``plugin.register(app)``: its tables, signal receivers, CLI and demo step
    (its pages and API come with the HTTP layer: ``plugin.register_http``)."""
    from . import sections

    sections.register(app)
    for plugin in _domains():
        plugin.register(app)


def _register_request_hooks(app: Flask) -> None:
    pagecache.register(app)  # first: a cached page skips the hooks below

    @app.before_request
    def _before():
        g.read_only_token = set_read_only_transactions(request.method in audit.SAFE_METHODS)
        if request.method not in audit.SAFE_METHODS and not _authenticated_by_token():
            csrf.protect()
        if request.method not in audit.SAFE_METHODS and request.is_json:
            problem = parse.unstorable_json_problem(request.get_json(silent=True))
            if problem is not None:
                field, message = problem
                raise InvalidInput(errors={field: [str(message)]})

    @app.teardown_request
    def _reset_transaction_mode(_exc):
        token = g.pop("read_only_token", None)
        if token is not None:
            reset_read_only_transactions(token)

    @app.after_request
    def _finish(response):
        # The request owns the transaction: on success its audit event joins it and it commits
        # once; otherwise it rolls back and the event is recorded in a transaction of its own.
        committed = False
        if response.status_code < 400:
            try:
                audit.record_request(response, commit=False)
                db.session.commit()
                committed = True
            except IntegrityError:
                db.session.rollback()
                response = error_response(409, "conflict", HTTP_MESSAGES[409])
            except SQLAlchemyError:
                db.session.rollback()
                app.logger.exception("database error at commit")
                response = unavailable_response()
        else:
            db.session.rollback()
        if not committed:
            try:
                audit.record_request(response)
            except Exception:  # the audit must never turn an answer into a 500
                db.session.rollback()
                app.logger.exception("could not record audit event")
        _security_headers(response)
        return response

    @app.context_processor
    def _template_globals():
        return {
            "locales": LOCALES,
            "current_locale": str(get_locale()),
            "csrf_token": generate_csrf,
            "current_user": current_user,
            "role_label": role_label,
            "standard_label": standard_label,
            "kind_label": kind_label,
        }


def _authenticated_by_token() -> bool:
    """Whether a write may skip the CSRF check: only when the request carries a bearer token
    and no session cookie authenticated it. A browser sends the cookie by itself, so a request
    the session authenticates needs the CSRF token whatever its Authorization header says;
    a request with a bad token and no session is refused as unauthenticated by its view."""
    if not auth.bearer_token():
        return False
    # Loading the user tries the session first, then the token (which sets the flag).
    signed_in = current_user.is_authenticated
    return bool(g.get("token_authenticated")) or not signed_in


def _security_headers(response) -> None:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static" and _signed_in():
        # Pages for a signed-in user (residents, vouchers, receipts, reports) hold personal
        # data: no shared or browser cache may keep them.
        h["Cache-Control"] = "no-store"
        h.add("Vary", "Cookie")
    elif request.path.startswith("/api/") or request.path == "/login":
        h.setdefault("Cache-Control", "no-store")


def _signed_in() -> bool:
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # no user loaded and none loadable (e.g. after a database error)
        return False
