"""Cash-flow statements (issue 16): a treasurer's classification of a line on a cash account.

Revision ID: c5f1a7e2d9b4
Revises: e4c2b8a1f907
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c5f1a7e2d9b4"
down_revision = "e4c2b8a1f907"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "cash_flow_classes",
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("book_id", _ID, nullable=False),
        sa.Column("voucher_line_id", _ID, nullable=False),
        sa.Column("line_key", sa.String(length=60), nullable=False),
        sa.Column("set_by_id", _ID, nullable=True),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_cash_flow_classes_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_cash_flow_classes_book_id_books")
        ),
        sa.ForeignKeyConstraint(
            ["voucher_line_id"],
            ["voucher_lines.id"],
            name=op.f("fk_cash_flow_classes_voucher_line_id_voucher_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["users.id"], name=op.f("fk_cash_flow_classes_set_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_flow_classes")),
        sa.UniqueConstraint("voucher_line_id", name=op.f("uq_cash_flow_classes_voucher_line_id")),
    )
    with op.batch_alter_table("cash_flow_classes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cash_flow_classes_community_id"), ["community_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cash_flow_classes_book_id"), ["book_id"], unique=False)


def downgrade():
    with op.batch_alter_table("cash_flow_classes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cash_flow_classes_book_id"))
        batch_op.drop_index(batch_op.f("ix_cash_flow_classes_community_id"))
    op.drop_table("cash_flow_classes")
