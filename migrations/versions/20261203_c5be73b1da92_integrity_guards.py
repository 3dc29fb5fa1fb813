"""integrity guards: triggers on the derived and reference rows posting relies on

Issue 9 item 7. The database refuses, beside what the ledger migration already refuses:

- voucher_lines, voucher_attachments: moving a row under a posted voucher (the old guard
  looked only at the voucher the row came from);
- account_period_balances: deleting a row, re-keying it (book, account, fund, unit, month),
  and any write into a closed month (posting never writes there; the balances of a closed
  month are what its reports were drawn from). Amounts of open months must still change
  (every post adds, reversals add negative amounts): the tamper audit recomputes every row
  from the posted lines, which is the real guarantee;
- accounts: moving to another book or community; changing the code, side or type of an account
  that posted lines use (every record names the account by its code);
- books: deleting; lowering log_size; changing community, organisation, standard or chart, or
  the base unit once anything is posted; moving the closed-through mark back over a month a
  published report covers (published reports never change);
- residents: moving to another community.

Someone with the owner's rights can still switch triggers off: ``flask transparency audit``
recomputes the balances, the log size and the closed-through mark and names any difference.

On SQLite a table rebuilt by a later batch migration loses its triggers: make them again there.

Revision ID: c5be73b1da92
Revises: c4a7e19f3b20
Create Date: 2026-12-03 10:20:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c5be73b1da92'
down_revision = 'c4a7e19f3b20'
branch_labels = None
depends_on = None

MESSAGE = "append-only row: "  # core.db.APPEND_ONLY_MESSAGE: the app answers 409
POSTED = "'posted'"
KEY_CHANGED = " OR ".join(
    f"NEW.{c} <> OLD.{c}"
    for c in ("book_id", "account_id", "fund_key", "unit", "period_key", "community_id")
)
CLOSED = "NEW.period_key <= COALESCE((SELECT closed_through FROM books WHERE id = NEW.book_id), 0)"
ACCOUNT_USED = "EXISTS (SELECT 1 FROM voucher_lines WHERE account_id = OLD.id)"


def _month_of_period_end(dialect):
    if dialect == "postgresql":
        return "CAST(to_char(r.period_end, 'YYYYMM') AS INTEGER)"
    return "CAST(strftime('%Y%m', r.period_end) AS INTEGER)"


def _guards(dialect):
    """(name, table, events, condition): refuse the row when the condition holds."""
    published_over = (
        "OLD.closed_through IS NOT NULL AND "
        "(NEW.closed_through IS NULL OR NEW.closed_through < OLD.closed_through) AND "
        f"EXISTS (SELECT 1 FROM disclosure_reports r WHERE r.book_id = OLD.id AND "
        f"{_month_of_period_end(dialect)} > COALESCE(NEW.closed_through, 0))"
    )
    return [
        *(
            (f"{t}_no_move_to_posted", t, ("UPDATE",),
             "NEW.voucher_id <> OLD.voucher_id AND "
             f"(SELECT status FROM vouchers WHERE id = NEW.voucher_id) = {POSTED}")
            for t in ("voucher_lines", "voucher_attachments")
        ),
        ("account_period_balances_no_delete", "account_period_balances", ("DELETE",), "1 = 1"),
        ("account_period_balances_no_rekey", "account_period_balances", ("UPDATE",), KEY_CHANGED),
        ("account_period_balances_closed_insert", "account_period_balances", ("INSERT",), CLOSED),
        ("account_period_balances_closed_update", "account_period_balances", ("UPDATE",), CLOSED),
        ("accounts_no_rekey", "accounts", ("UPDATE",),
         "NEW.book_id <> OLD.book_id OR NEW.community_id <> OLD.community_id OR "
         "((NEW.code <> OLD.code OR NEW.normal_side <> OLD.normal_side OR NEW.type <> OLD.type) "
         f"AND {ACCOUNT_USED})"),
        ("books_no_delete", "books", ("DELETE",), "1 = 1"),
        ("books_no_rewrite", "books", ("UPDATE",),
         "NEW.log_size < OLD.log_size OR NEW.community_id <> OLD.community_id OR "
         "NEW.organisation_id <> OLD.organisation_id OR NEW.standard <> OLD.standard OR "
         "NEW.chart <> OLD.chart OR (NEW.base_unit <> OLD.base_unit AND OLD.log_size > 0)"),
        ("books_no_reopen_published", "books", ("UPDATE",), published_over),
        ("residents_no_move", "residents", ("UPDATE",), "NEW.community_id <> OLD.community_id"),
    ]


def _create(name, table, events, cond, dialect):
    msg = f"{MESSAGE}{table}"
    if dialect == "postgresql":
        ret = "OLD" if events == ("DELETE",) else "NEW"
        return [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF {cond} THEN RAISE EXCEPTION '{msg}' USING ERRCODE = 'P0001'; END IF; "
            f"RETURN {ret}; END $$",
            f"CREATE TRIGGER {name} BEFORE {' OR '.join(events)} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    (event,) = events
    return [
        f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW WHEN {cond} "
        f"BEGIN SELECT RAISE(ABORT, '{msg}'); END"
    ]


def _drop(name, table, dialect):
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
    return [f"DROP TRIGGER IF EXISTS {name}"]


def upgrade():
    dialect = op.get_bind().dialect.name
    for name, table, events, cond in _guards(dialect):
        for stmt in _create(name, table, events, cond, dialect):
            op.execute(stmt)


def downgrade():
    dialect = op.get_bind().dialect.name
    for name, table, _events, _cond in _guards(dialect):
        for stmt in _drop(name, table, dialect):
            op.execute(stmt)
