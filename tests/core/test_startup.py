"""A ``flask`` command's app is built without the HTTP layer (issue 15 item 3: import what a
command needs, when it needs it), yet runs the same rules as the serving app.

Each probe is a fresh Python process that runs the ``flask`` command line (``FLASK_APP=wsgi``)
and then reports what the process holds: which modules are imported, the route map, the
receivers connected to the ledger's signals. Behaviour, not timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

# The HTTP layer: pages, API modules, Flask-Migrate/Alembic. None of these may be imported
# when the command line builds the app for one of its own commands.
HTTP_MODULES = [
    "alembic",
    "flask_migrate",
    "core.views",
    "core.api",
    "ledger.api",
    "ledger.views",
    "ledger.opening_views",
    "transparency.api",
    "transparency.public",
    "transparency.views",
    "shareholders.api",
    "shareholders.views",
    "points.api",
    "points.views",
    "points.desk",
    "funds.api",
    "funds.views",
    "property_trust.api",
    "property_trust.views",
    "property_trust.pages",
]

PROBE = r"""
import json, sys
from flask.cli import cli

args = json.loads(sys.argv[1])
if args is not None:
    code = cli.main(args=args, prog_name="flask", standalone_mode=False)
    assert code in (0, None), code
    from wsgi import app
else:  # a program importing wsgi (gunicorn wsgi:app)
    from wsgi import app

from blinker import ANY

import core.signals
import ledger.signals
from core import jobs

def names(signal):
    return sorted(f"{r.__module__}.{r.__qualname__}" for r in signal.receivers_for(ANY))

signals = {
    name: names(getattr(ledger.signals, name))
    for name in ("book_created", "voucher_posting", "voucher_posted", "report_published",
                 "period_closing", "period_reopening")
}
signals["organisation_created"] = names(core.signals.organisation_created)
templates = []
with app.app_context():
    for name in app.jinja_env.list_templates():
        if name.startswith("pdf/ledger/") and name.endswith(".html"):
            app.jinja_env.get_template(name)  # an unknown filter fails here
            templates.append(name)
print(json.dumps({
    "modules": [m for m in json.loads(sys.argv[2]) if m in sys.modules],
    "rules": sorted(r.rule for r in app.url_map.iter_rules()),
    "signals": signals,
    "job_kinds": sorted(jobs.JOB_KINDS),
    "commands": sorted(app.cli.commands),
    "templates": sorted(templates),
}))
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    instance = tmp_path_factory.mktemp("startup")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "COMMONS_"))}
    env.update(
        FLASK_APP="wsgi",
        DATABASE_URL=f"sqlite:///{instance / 'commons.sqlite3'}",
        COMMONS_INSTANCE_PATH=str(instance),
        SECRET_KEY="startup-test",
        COMMONS_FIELD_KEY=Fernet.generate_key().decode(),
        PYTHONPATH=str(ROOT),
    )
    return env


def python(env: dict[str, str], *argv: str) -> str:
    """The output of ``python argv…`` in a process of its own (a fresh interpreter: nothing
    imported yet), which must succeed."""
    out = subprocess.run(
        [sys.executable, *argv], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def probe(env: dict[str, str], args: list[str] | None) -> dict:
    out = python(env, "-c", PROBE, json.dumps(args), json.dumps(HTTP_MODULES))
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def serving(env) -> dict:
    return probe(env, None)


def test_the_serving_app_has_the_http_layer(serving):
    assert set(serving["modules"]) == set(HTTP_MODULES)
    assert "/api/v1/openapi.json" in serving["rules"]
    assert len(serving["rules"]) > 100
    assert "ledger.report_export" in serving["job_kinds"]


@pytest.mark.parametrize("args", [["--help"], ["ledger", "--help"]])
def test_a_command_app_does_not_import_the_http_layer(env, serving, args):
    command = probe(env, args)
    assert command["modules"] == []
    assert command["rules"] == ["/static/<path:filename>"]
    # The same rules run: every receiver of the ledger's signals (the domains' and the
    # transparency layer's) is connected, as in the serving app.
    assert command["signals"] == serving["signals"]
    assert command["signals"]["voucher_posting"]  # property trust: a supervisor's hold
    assert command["signals"]["report_published"]  # funds, property trust
    assert command["signals"]["book_created"]  # transparency: the signing key
    # The same commands, and the PDFs a command renders (``flask ledger pdf``) compile.
    assert command["commands"] == serving["commands"]
    assert command["templates"] == serving["templates"] and command["templates"]


def test_db_commands_load_flask_migrate_when_run(env):
    heads = python(env, "-m", "flask", "db", "heads").split()
    assert heads and "(head)" in heads


def test_the_job_worker_gets_the_job_kinds_of_the_pages_and_the_api(env):
    command = probe(env, ["jobs", "--help"])
    assert {"ledger.report_export", "ledger.api_report_export"} <= set(command["job_kinds"])


def test_flask_routes_lists_the_whole_app(env):
    out = python(env, "-m", "flask", "routes")
    assert "/api/v1/openapi.json" in out
    assert "/public/" in out


def test_another_app_in_the_process_adds_no_second_link_or_section(app):
    """Every domain's ``register_http`` runs for each app built: the registries it appends to
    live in modules, so a second app must find its links and sections already there (points
    appended them again before, and showed its public section once per app built)."""
    from core import sections
    from core.app import create_app
    from ledger import nav

    registries = {
        "book links": nav.BOOK_LINKS,
        "organisation sections": sections.PUBLIC_ORGANISATION,
        "community sections": sections.PUBLIC_COMMUNITY,
        "personal links": sections.PERSONAL,
    }
    before = {name: list(r) for name, r in registries.items()}
    assert all(before.values())
    create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "another",
            "FIELD_KEY": Fernet.generate_key().decode(),
        }
    )
    assert {name: list(r) for name, r in registries.items()} == before
    for name, r in registries.items():
        assert len(r) == len(set(map(id, r))), name
