"""property trust: the monthly owners' statements published with the disclosure reports; an
index of the payments with an advance

Issue 13 (statement published with the month's disclosure report): one frozen JSON snapshot
per compound and month, referencing the report it was published with.

Revision ID: e5b13a7c2d41
Revises: e5b2c8a1f0d3
Create Date: 2026-12-03 16:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e5b13a7c2d41"
down_revision = "e5b2c8a1f0d3"
branch_labels = None
depends_on = None


def upgrade():
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    t = "pt_published_statements"
    op.create_table(
        t,
        sa.Column("community_id", big, nullable=False),
        sa.Column("compound_id", big, nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("report_id", big, nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("id", big, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f(f"fk_{t}_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["pt_compounds.id"], name=op.f(f"fk_{t}_compound_id_pt_compounds")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["disclosure_reports.id"],
            name=op.f(f"fk_{t}_report_id_disclosure_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("compound_id", "month", name=op.f(f"uq_{t}_compound_id_month")),
    )
    with op.batch_alter_table(t, schema=None) as batch_op:
        for col in ("community_id", "compound_id", "report_id"):
            batch_op.create_index(batch_op.f(f"ix_{t}_{col}"), [col], unique=False)
    # The payments with an advance left to apply (billing reads them without the history).
    op.create_index(
        "ix_pt_payments_advance",
        "pt_payments",
        ["compound_id"],
        unique=False,
        sqlite_where=sa.text("advance > 0"),
        postgresql_where=sa.text("advance > 0"),
    )


def downgrade():
    op.drop_index("ix_pt_payments_advance", table_name="pt_payments")
    op.drop_table("pt_published_statements")
