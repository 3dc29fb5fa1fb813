"""points: volunteer-hour records name their issuer and who approved them

Revision ID: e3b8f1a2c4d6
Revises: c5f1a7e2d9b4
Create Date: 2026-12-03 16:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e3b8f1a2c4d6"
down_revision = "c5f1a7e2d9b4"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table("volunteer_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issuer_id", _ID, nullable=True))
        batch_op.add_column(sa.Column("approved_by_id", _ID, nullable=True))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_volunteer_records_issuer_id"), ["issuer_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_volunteer_records_issuer_id_point_issuers"),
            "point_issuers",
            ["issuer_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_volunteer_records_approved_by_id_users"),
            "users",
            ["approved_by_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("volunteer_records", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_volunteer_records_approved_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_volunteer_records_issuer_id_point_issuers"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_volunteer_records_issuer_id"))
        batch_op.drop_column("approved_at")
        batch_op.drop_column("approved_by_id")
        batch_op.drop_column("issuer_id")
