"""book opening state (期初余额)

Books.opening_state: 'required' (nothing may be posted before the opening balances),
'posted', or 'none' (the book starts from zero). Existing books get 'none', so nothing that
exists changes.

Revision ID: c4a7e19f3b20
Revises: c3d8e5f1a2b4
Create Date: 2026-12-03 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4a7e19f3b20'
down_revision = 'c3d8e5f1a2b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('books') as batch_op:
        batch_op.add_column(
            sa.Column('opening_state', sa.String(length=12), server_default='none', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('books') as batch_op:
        batch_op.drop_column('opening_state')
