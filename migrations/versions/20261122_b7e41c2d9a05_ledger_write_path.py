"""ledger write path

No index on community_id of vouchers, lines, events and log nodes; log nodes WITHOUT ROWID on
SQLite; only reversals in the one-live-reversal index.
Every post writes rows to each of these tables and no query reads them by community_id, so
the indexes only cost writes. On SQLite the log nodes' primary key becomes the table itself
(WITHOUT ROWID): one tree to write and read instead of two. An ordinary voucher (no
reverses_id) can never conflict in the live-reversal unique index, so it is left out of it.

Revision ID: b7e41c2d9a05
Revises: 795df1fc7638
Create Date: 2026-11-22 06:00:00

"""
import sqlalchemy as sa
from alembic import op

from core.db import append_only_trigger_sql, drop_append_only_trigger_sql

# revision identifiers, used by Alembic.
revision = 'b7e41c2d9a05'
down_revision = '795df1fc7638'
branch_labels = None
depends_on = None

TABLES = ("vouchers", "voucher_lines", "voucher_events", "log_nodes")
LIVE = "status <> 'discarded'"


def _recreate_log_nodes(with_rowid: bool) -> None:
    """SQLite only: copy the table into its new form; its append-only triggers go with the
    old table and are made again."""
    for stmt in drop_append_only_trigger_sql("log_nodes", "sqlite"):
        op.execute(stmt)
    with op.batch_alter_table("log_nodes", recreate="always",
                              table_kwargs={"sqlite_with_rowid": with_rowid}):
        pass
    for stmt in append_only_trigger_sql("log_nodes", "sqlite"):
        op.execute(stmt)


def _live_reversal_index(where: str) -> None:
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_index("uq_vouchers_live_reversal")
        batch_op.create_index("uq_vouchers_live_reversal", ["reverses_id"], unique=True,
                              postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_community_id"))
    _live_reversal_index(f"reverses_id IS NOT NULL AND {LIVE}")
    if op.get_bind().dialect.name == "sqlite":
        _recreate_log_nodes(with_rowid=False)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        _recreate_log_nodes(with_rowid=True)
    _live_reversal_index(LIVE)
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_community_id"), ["community_id"], unique=False)
