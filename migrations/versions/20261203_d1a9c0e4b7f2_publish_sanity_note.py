"""disclosure reports: the publisher's note and the pre-publication warnings it answers

Issue 14 item 6. A report whose statements show a negative balance where the account cannot
be negative (cash, inventory, fixed assets) or a balance sheet that does not balance is only
published with a note from the publisher; the note and the warnings appear on the public page.
Plain ADD COLUMN (no table rebuild), so SQLite keeps the append-only triggers.

Revision ID: d1a9c0e4b7f2
Revises: a1d5e0c7b910
Create Date: 2026-12-03 13:55:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d1a9c0e4b7f2"
down_revision = 'a1d5e0c7b910'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("disclosure_reports", sa.Column("publisher_note", sa.Text(), nullable=True))
    op.add_column("disclosure_reports", sa.Column("sanity_warnings", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("disclosure_reports", "sanity_warnings")
    op.drop_column("disclosure_reports", "publisher_note")
