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
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, cast

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
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


db = SQLAlchemy(model_class=Base, disable_autonaming=True)

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
