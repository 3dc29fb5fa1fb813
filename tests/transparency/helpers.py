"""Helpers shared by the transparency tests."""

import sqlalchemy as sa

from core.db import db
from tlog import notes


def checkpoint_of(note: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a signed checkpoint note."""
    cp = notes.parse_checkpoint(notes.parse_note(note).text)
    return cp.origin, cp.size, cp.root


def without_triggers(*tables: str) -> None:
    """What someone with the database owner's rights can do (undone with the test's transaction)."""
    for table in tables:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            db.session.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_no_update"))


def disable_triggers(*tables: str) -> None:
    """Every trigger of ``tables`` off (SQLite: dropped), undone with the test's transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        for table in tables:
            db.session.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        return
    names = [
        name
        for table in tables
        for name in db.session.scalars(
            sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": table},
        )
    ]
    for name in names:
        db.session.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
