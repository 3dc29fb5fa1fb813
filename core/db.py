"""Database plumbing: the declarative base, id and money column types, SQLite settings,
and the append-only guard that both an ORM hook and a database trigger enforce.

SQLite notes (DESIGN.md §6):
- WAL journal and foreign keys are switched on for every connection.
- pysqlite's own transaction handling breaks SAVEPOINT; we take it over (SQLAlchemy's
  documented workaround) and emit BEGIN ourselves. Read-only requests use a deferred BEGIN;
  everything else BEGIN IMMEDIATE, so that a transaction which reads and then writes (posting a
  voucher) holds the write lock from its start instead of failing to upgrade later.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, cast

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as _FlaskSession
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A 64-bit id on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Money in minor units (fen): always a 64-bit integer.
Fen = sa.BigInteger

MAX_ID = 2**63 - 1


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model here maps a plain table (no joined or selectable mappings), so its
        # ``__table__`` is a ``Table``, which ``sa.insert``/``sa.update`` accept.
        __table__: ClassVar[sa.Table]


# --- Read replica ------------------------------------------------------------------------------
#
# With ``COMMONS_REPLICA_URL`` (config ``REPLICA_URL``) set, the SELECTs of a GET or HEAD request
# to a read-only public blueprint go to a PostgreSQL streaming replica; everything else (writes,
# locking reads, every other page and the API, the CLI) stays on the primary. A request uses the
# replica only if, when its first SELECT runs, the replica has replayed all the WAL the primary
# had written at that moment: then every transaction committed before the request (a report
# just published included) is visible there, and the page is exactly what the primary would
# show (read-your-writes holds too). Otherwise, or if the replica cannot be reached, the request
# reads from the primary. The price is one tiny query on each server per public request.

#: Blueprints whose GET/HEAD requests may read from the replica (read-only public pages).
REPLICA_BLUEPRINTS: set[str] = {"public"}

_log = logging.getLogger(__name__)
_replica_lock = threading.Lock()
_NOT_DECIDED = object()


def replica_engine(app) -> sa.Engine | None:
    """The replica's engine of ``app`` (made on first use), or None when none is configured."""
    url = app.config.get("REPLICA_URL")
    if not url:
        return None
    engine = app.extensions.get("commons_replica")
    if engine is None:
        with _replica_lock:
            engine = app.extensions.get("commons_replica")
            if engine is None:
                options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
                engine = sa.create_engine(url, **options)
                app.extensions["commons_replica"] = engine
    return engine


def replica_caught_up(primary: sa.Engine, replica: sa.Engine) -> bool:
    """Has ``replica`` replayed everything ``primary`` has written so far? False when the
    replica is unreachable or is not a standby at all."""
    try:
        with primary.connect() as c:
            lsn = c.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar()
        with replica.connect() as c:
            # NULL (not a standby) counts as not caught up
            return bool(
                c.execute(
                    sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"),
                    {"lsn": lsn},
                ).scalar()
            )
    except sa.exc.DBAPIError as exc:
        _log.warning("read replica not usable, reading from the primary: %s", exc)
        return False


def request_replica() -> sa.Engine | None:
    """The engine this request's SELECTs read from, when it is the replica (decided once per
    request: ``g.replica_engine``); None for the primary."""
    if not has_request_context():
        return None
    decided = g.get("replica_engine", _NOT_DECIDED)
    if decided is not _NOT_DECIDED:
        return decided
    engine = None
    if request.method in ("GET", "HEAD") and request.blueprint in REPLICA_BLUEPRINTS:
        replica = replica_engine(current_app)
        if replica is not None and replica_caught_up(db.engine, replica):
            engine = replica
    g.replica_engine = engine
    return engine


class RoutingSession(_FlaskSession):
    """Flask-SQLAlchemy's session, sending a public page's plain SELECTs to the replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (
            bind is None
            and clause is not None
            and getattr(clause, "is_select", False)
            and getattr(clause, "_for_update_arg", None) is None
            and current_app_has_replica()
        ):
            engine = request_replica()
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def current_app_has_replica() -> bool:
    return has_request_context() and bool(current_app.config.get("REPLICA_URL"))


db = SQLAlchemy(
    model_class=Base, disable_autonaming=True, session_options={"class_": RoutingSession}
)

# The base class of every model. Flask-SQLAlchemy builds ``db.Model`` at run time, which a type
# checker cannot see through; it subclasses ``Base``, so that is what the checker is told.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


def rowcount(statement: sa.Executable) -> int:
    """Run an UPDATE or DELETE in the session and return how many rows it matched."""
    result = db.session.execute(statement)
    # An UPDATE or DELETE always answers with a cursor result; ``Session.execute`` is typed
    # for any statement, so the checker is told which one this is.
    return cast("sa.CursorResult[Any]", result).rowcount


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class IdMixin:
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)


class CreatedMixin:
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)


# --- SQLite connection settings ----------------------------------------------------------

_sqlite_begin = contextvars.ContextVar("sqlite_begin", default="BEGIN IMMEDIATE")


@contextmanager
def read_only_transactions():
    """Within this block SQLite transactions start deferred (GET/HEAD requests)."""
    token = _sqlite_begin.set("BEGIN")
    try:
        yield
    finally:
        _sqlite_begin.reset(token)


def set_read_only_transactions(flag: bool):
    return _sqlite_begin.set("BEGIN" if flag else "BEGIN IMMEDIATE")


def reset_read_only_transactions(token) -> None:
    _sqlite_begin.reset(token)


def configure_engine(engine: sa.Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(_sqlite_begin.get())


# --- Append-only tables --------------------------------------------------------------------


class ImmutableRowError(Exception):
    """Raised when code tries to change or delete a row that must never change."""


APPEND_ONLY_MESSAGE = "append-only row: "


def append_only_trigger_sql(table: str, dialect: str, *, when: str | None = None) -> list[str]:
    """DDL for triggers refusing UPDATE and DELETE on ``table``.

    ``when`` is an SQL condition on ``OLD`` (valid in both dialects) limiting the refusal to
    some rows, e.g. ``OLD.status = 'posted'``: a draft may still change, a posted row never.
    """
    msg = f"{APPEND_ONLY_MESSAGE}{table}"
    if dialect == "postgresql":
        fn = f"{table}_append_only"
        raise_stmt = f"RAISE EXCEPTION '{msg}' USING ERRCODE = 'P0001';"
        if when:
            body = (
                f"IF {when} THEN {raise_stmt} END IF; "
                "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW;"
            )
        else:
            body = raise_stmt
        return [
            f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$",
            f"CREATE TRIGGER {fn} BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {fn}()",
        ]
    cond = f" WHEN {when}" if when else ""
    return [
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}{cond} "
        f"BEGIN SELECT RAISE(ABORT, '{msg}'); END",
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}{cond} "
        f"BEGIN SELECT RAISE(ABORT, '{msg}'); END",
    ]


def drop_append_only_trigger_sql(table: str, dialect: str) -> list[str]:
    if dialect == "postgresql":
        fn = f"{table}_append_only"
        return [f"DROP TRIGGER IF EXISTS {fn} ON {table}", f"DROP FUNCTION IF EXISTS {fn}()"]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_delete",
        f"DROP TRIGGER IF EXISTS {table}_no_update",
    ]


def guard_append_only(model) -> None:
    """ORM hook: refuse updates and deletes of ``model`` rows before they reach the database."""

    @event.listens_for(model, "before_update", propagate=True)
    def _no_update(_mapper, _conn, target):
        raise ImmutableRowError(f"{model.__tablename__} rows never change")

    @event.listens_for(model, "before_delete", propagate=True)
    def _no_delete(_mapper, _conn, target):
        raise ImmutableRowError(f"{model.__tablename__} rows are never deleted")
