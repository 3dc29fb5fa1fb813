"""Every tenant table carries ``community_id`` (docs/scaling.md: the distribution column when
the platform shards by community on Citus).

The rule, from the schema itself: a table is a tenant table when it has a foreign key to
``communities`` or to another tenant table (the transitive closure). Such rows belong to one
community; a table reached only through ``users`` (accounts, tokens, sessions) is platform-wide.
A tenant table must have a ``community_id`` column with a foreign key to ``communities.id``,
unless it is one of the deliberate exceptions below, each with its reason. A new table that
hangs off a book, an organisation or any tenant row without ``community_id`` fails here.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.db import db

#: Tenant tables (by the rule) without ``community_id``, on purpose.
EXCEPTIONS = {
    "communities": "the tenant itself: its id is the community id (the distribution key)",
    "point_exchange_rates": (
        "a platform table (DESIGN.md §6, points/models.py ExchangeRate): it rates one scheme's "
        "points against another's, and the two schemes may belong to different communities; "
        "on Citus it is a reference table"
    ),
}


def tenant_tables(metadata: sa.MetaData) -> set[str]:
    tenant = {"communities"}
    changed = True
    while changed:
        changed = False
        for table in metadata.tables.values():
            if table.name not in tenant and any(
                fk.column.table.name in tenant for fk in table.foreign_keys
            ):
                tenant.add(table.name)
                changed = True
    return tenant


def test_every_tenant_table_has_community_id(app):
    tables = db.metadata.tables
    tenant = tenant_tables(db.metadata)
    # the rule sees the tables we know belong to a community, and not the platform's own
    assert {"books", "vouchers", "voucher_lines", "log_nodes", "residents"} <= tenant
    assert not {"users", "api_tokens", "login_sessions"} & tenant
    missing = []
    for name in sorted(tenant - EXCEPTIONS.keys()):
        table = tables[name]
        column = table.c.get("community_id")
        if column is None:
            missing.append(f"{name}: no community_id column")
        elif not any(fk.column.table.name == "communities" for fk in column.foreign_keys):
            missing.append(f"{name}: community_id has no foreign key to communities")
    assert not missing, (
        "tenant tables (they reference a community's rows) without community_id — add the "
        "column (and the migration), or list the table in EXCEPTIONS with its reason:\n"
        + "\n".join(missing)
    )


def test_the_exceptions_are_still_true(app):
    """An exception that no longer applies (the table is gone, or now has the column, or is no
    longer a tenant table) must be removed from the list."""
    tables = db.metadata.tables
    tenant = tenant_tables(db.metadata)
    for name in EXCEPTIONS:
        assert name in tables and name in tenant, f"{name} is no tenant table: drop the exception"
        assert "community_id" not in tables[name].c, f"{name} has community_id now"
