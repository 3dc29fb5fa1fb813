"""Migrations have one head, build the schema from nothing on this backend, and match the models."""

from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.db import db, read_only_transactions

ROOT = Path(__file__).resolve().parents[2]


def test_single_head():
    cfg = Config(str(ROOT / "migrations/alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, heads


def test_migrated_schema_matches_the_models(app):
    # The session database was built by `flask db upgrade` from empty (see conftest).
    # A second, read-only connection beside the test's open transaction (SQLite: deferred BEGIN).
    with read_only_transactions(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == [], diff


def test_sqlite_table_options_match_the_models(app):
    """Alembic's comparison does not see SQLite's WITHOUT ROWID: check it here."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite table option")
    with read_only_transactions(), db.engine.connect() as conn:
        sql = dict(
            conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
        )
    for table in db.metadata.sorted_tables:
        without_rowid = table.dialect_options["sqlite"]["with_rowid"] is False
        assert ("WITHOUT ROWID" in sql[table.name].upper()) == without_rowid, table.name
    assert "WITHOUT ROWID" in sql["log_nodes"].upper()


def test_downgrade_to_base_and_up_again(committing_app):
    with committing_app.app_context():
        flask_migrate.downgrade(revision="base")
        assert "audit_events" not in sa.inspect(db.engine).get_table_names()
        flask_migrate.upgrade()
        assert "audit_events" in sa.inspect(db.engine).get_table_names()


def test_append_only_tables_refuse_update_and_delete(app):
    from core.audit import record

    record("test", "ok")
    db.session.flush()
    for stmt in ("UPDATE audit_events SET outcome = 'forged'", "DELETE FROM audit_events"):
        try:
            with db.session.begin_nested():
                db.session.execute(sa.text(stmt))
        except sa.exc.DatabaseError as e:
            assert "append-only" in str(e)
        else:
            raise AssertionError(f"{stmt} was allowed")
