"""resident erasures (PIPL): the recorded exception to "a posted voucher never changes"

Issue 9 item 8. ``resident_erasures`` records who asked, who confirmed, when and why; a
confirmed row never changes and is never deleted.

The guard on posted vouchers is made again with one exception: an UPDATE that changes nothing
but ``private_json`` and sets ``private_salt`` to NULL, on a voucher one of whose lines names a
resident with a confirmed erasure row. Every other change of a posted voucher is refused as
before; the tamper audit recomputes every leaf from the rows, so private fields rewritten into
anything but the same commitments are named too.

Revision ID: d7a1e5c3b9f2
Revises: d13a7e55c0de
Create Date: 2026-12-03 13:55:00

"""
import sqlalchemy as sa
from alembic import op

from core.db import APPEND_ONLY_MESSAGE, append_only_trigger_sql, drop_append_only_trigger_sql

# revision identifiers, used by Alembic.
revision = 'd7a1e5c3b9f2'
down_revision = 'd13a7e55c0de'
branch_labels = None
depends_on = None

POSTED = "OLD.status = 'posted'"
ERASED = (
    "EXISTS (SELECT 1 FROM voucher_lines l JOIN resident_erasures e "
    "ON e.resident_id = l.resident_id WHERE l.voucher_id = OLD.id AND e.erased_at IS NOT NULL)"
)
# SQLite has no row-as-a-value: every other column of vouchers, compared NULL-safely.
OTHER_COLUMNS = (
    "id", "created_at", "community_id", "book_id", "date", "summary", "kind", "status",
    "attachment_count", "reverses_id", "source", "prepared_by_id", "approved_by_id",
    "posted_by_id", "period_id", "number", "log_index", "posted_at",
)


def _erasure_only(dialect):
    if dialect == "postgresql":
        same = (
            "(to_jsonb(NEW) - 'private_json' - 'private_salt') = "
            "(to_jsonb(OLD) - 'private_json' - 'private_salt')"
        )
    else:
        same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in OTHER_COLUMNS)
    return f"(NEW.private_salt IS NULL AND {same} AND {ERASED})"


def _vouchers_guard(dialect, *, with_erasure):
    msg = f"{APPEND_ONLY_MESSAGE}vouchers"
    if dialect == "postgresql":
        cond = POSTED
        if with_erasure:
            cond = f"{POSTED} AND (TG_OP = 'DELETE' OR NOT {_erasure_only(dialect)})"
        return [
            "CREATE OR REPLACE FUNCTION vouchers_append_only() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN IF {cond} THEN RAISE EXCEPTION '{msg}' USING ERRCODE = 'P0001'; "
            "END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$",
        ]
    cond = f"{POSTED} AND NOT {_erasure_only(dialect)}" if with_erasure else POSTED
    return [
        "DROP TRIGGER IF EXISTS vouchers_no_update",
        f"CREATE TRIGGER vouchers_no_update BEFORE UPDATE ON vouchers WHEN {cond} "
        f"BEGIN SELECT RAISE(ABORT, '{msg}'); END",
    ]


def upgrade():
    op.create_table('resident_erasures',
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('requested_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('erased_at', sa.DateTime(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_resident_erasures_community_id_communities')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_resident_erasures_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_resident_erasures_requested_by_id_users')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_resident_erasures_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_erasures'))
    )
    with op.batch_alter_table('resident_erasures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_erasures_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_erasures_resident_id'), ['resident_id'], unique=False)

    dialect = op.get_bind().dialect.name
    stmts = append_only_trigger_sql("resident_erasures", dialect, when="OLD.erased_at IS NOT NULL")
    stmts += _vouchers_guard(dialect, with_erasure=True)
    for stmt in stmts:
        op.execute(stmt)


def downgrade():
    dialect = op.get_bind().dialect.name
    for stmt in _vouchers_guard(dialect, with_erasure=False):
        op.execute(stmt)
    for stmt in drop_append_only_trigger_sql("resident_erasures", dialect):
        op.execute(stmt)
    with op.batch_alter_table('resident_erasures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_erasures_resident_id'))
        batch_op.drop_index(batch_op.f('ix_resident_erasures_community_id'))
    op.drop_table('resident_erasures')
