"""funds: a transfer from the community economy keeps the paying organisation and its voucher

Issue 12 item 2. A community enterprise's transfer into a community fund is booked in both
books at once; the inflow keeps the enterprise and the enterprise's own voucher next to the
foundation's.

Revision ID: e4c2b8a1f907
Revises: d1a9c0e4b7f2
Create Date: 2026-12-03 16:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e4c2b8a1f907"
down_revision = "d1a9c0e4b7f2"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table("cf_inflows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_organisation_id", ID, nullable=True))
        batch_op.add_column(sa.Column("source_voucher_id", ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cf_inflows_source_organisation_id_organisations"),
            "organisations",
            ["source_organisation_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cf_inflows_source_voucher_id_vouchers"),
            "vouchers",
            ["source_voucher_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("cf_inflows", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_cf_inflows_source_voucher_id_vouchers"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_cf_inflows_source_organisation_id_organisations"), type_="foreignkey"
        )
        batch_op.drop_column("source_voucher_id")
        batch_op.drop_column("source_organisation_id")
