"""The posting engine (过账): one path for every voucher that becomes part of the books.

``plan`` checks each voucher with the one set of rules (:mod:`.rules`), numbers it in its
month and gives it its log index; ``seal`` builds each leaf from the one record
(``ledger.log.make_record``) through the one encoder (``tlog.jcs.dumps``) and appends the
leaves with the one Merkle append (``tlog.merkle.nodes_to_store_on_appends``). A writer then
stores what was planned: Core statements for one voucher (the entry form and the API),
executemany or ``COPY`` for many (imports, billing runs, closing). Either writer stores the
same rows; a test compares them.

The book's head row is taken first (``UPDATE … RETURNING``): a row lock on PostgreSQL, the
write lock on SQLite, so numbers and log indexes are gapless and in order (DESIGN.md §3).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from core.db import db, utcnow
from core.errors import InvalidInput
from core.months import Month
from tlog import merkle

from .. import forked, log
from ..models import (
    AccountPeriodBalance,
    Book,
    LogNode,
    Period,
    Voucher,
    VoucherEvent,
    VoucherLine,
    VoucherStatus,
)
from .inputs import VoucherInput
from .rules import BookFacts, Checked, validate_voucher

VOUCHER_PREFIX = "记"
# Vouchers whose problems a bulk refusal lists before it stops.
MAX_REPORTED = 200

_BOOKS, _PERIODS, _VOUCHERS = Book.__table__, Period.__table__, Voucher.__table__
_LINES, _EVENTS, _NODES = VoucherLine.__table__, VoucherEvent.__table__, LogNode.__table__


@dataclass
class Entry:
    """One voucher to post: new (``voucher`` None) or an approved one already stored."""

    data: VoucherInput
    kind: str
    source: str
    allow_negative: bool = False
    voucher: Voucher | None = None
    reverses_id: int | None = None
    reverses_index: int | None = None
    prepared_by_id: int | None = None
    approved_by_id: int | None = None


@dataclass
class Planned:
    entry: Entry
    checked: Checked
    index: int
    period_id: int
    number: str
    voucher_id: int | None = None
    salt: bytes = b""
    private_json: str = "null"


@dataclass
class Plan:
    book: Book
    first_index: int
    vouchers: list[Planned]
    facts: BookFacts
    actor_id: int | None
    at: dt.datetime = field(default_factory=utcnow)


# --- the head row and numbers -------------------------------------------------------------------

_TAKE_HEAD = (
    sa.update(_BOOKS)
    .where(_BOOKS.c.id == sa.bindparam("b_id"))
    .values(log_size=_BOOKS.c.log_size + sa.bindparam("b_n"))
    .returning(_BOOKS.c.log_size, _BOOKS.c.closed_through, _BOOKS.c.max_future_days)
)


def take_head(book: Book, count: int) -> int:
    """Lock the book's head row, reserve ``count`` log indexes and return the first."""
    # The row as it is under the lock also brings back the posting policy another transaction
    # may have changed since ``book`` was read (a closed period, the future-date limit).
    size, closed_through, max_future_days = (
        db.session.connection().execute(_TAKE_HEAD, {"b_id": book.id, "b_n": count}).one()
    )
    set_committed_value(book, "log_size", size)
    set_committed_value(book, "closed_through", closed_through)
    set_committed_value(book, "max_future_days", max_future_days)
    return size - count


_BUMP_PERIOD = (
    sa.update(_PERIODS)
    .where(
        _PERIODS.c.book_id == sa.bindparam("b_id"),
        _PERIODS.c.year == sa.bindparam("b_year"),
        _PERIODS.c.month == sa.bindparam("b_month"),
    )
    .values(voucher_count=_PERIODS.c.voucher_count + sa.bindparam("b_n"))
    .returning(_PERIODS.c.id, _PERIODS.c.voucher_count)
)
_NEW_PERIOD = sa.insert(_PERIODS).returning(_PERIODS.c.id)


def _take_numbers(book: Book, counts: dict[Month, int]) -> dict[Month, tuple[int, int]]:
    """For each month, its period id and the number before the first one taken now (one
    statement per month; the month's first voucher creates its row). Under the head lock."""
    conn = db.session.connection()
    taken = {}
    for month, n in sorted(counts.items()):
        row = conn.execute(
            _BUMP_PERIOD, {"b_id": book.id, "b_year": month.year, "b_month": month.month, "b_n": n}
        ).first()
        if row is None:
            period_id = conn.execute(
                _NEW_PERIOD,
                {
                    "community_id": book.community_id,
                    "book_id": book.id,
                    "year": month.year,
                    "month": month.month,
                    "voucher_count": n,
                },
            ).scalar_one()
            last = n
        else:
            period_id, last = row
        loaded = db.session.identity_map.get(identity_key(Period, period_id))
        if loaded is not None:  # a Period read earlier in this session shows the new count
            set_committed_value(loaded, "voucher_count", last)
        taken[month] = (period_id, last - n)
    return taken


def voucher_number(month: Month, n: int) -> str:
    return f"{VOUCHER_PREFIX}-{month}-{n:04d}"


# --- plan -------------------------------------------------------------------------------------


def check(
    book: Book, entries: Sequence[Entry], *, facts: BookFacts, keyed: bool = True
) -> list[Checked]:
    """Check every entry with the one set of rules: all problems of all vouchers at once,
    keyed ``vouchers.<i>.<field>`` (``keyed=False`` with one voucher: its problems under its
    own keys). Reads, never writes."""
    # What the book's opening balances (期初余额) allow: once per kind, with its earliest date.
    from ..opening import check_can_post  # opening builds on the services, which use this engine

    earliest: dict[str, dt.date] = {}
    for e in entries:
        d = e.data.date
        if isinstance(d, dt.date) and (e.kind not in earliest or d < earliest[e.kind]):
            earliest[e.kind] = d
    for kind, day in earliest.items():
        check_can_post(book, kind, date=day)
    checked_all = []
    errors: dict[str, list[str]] = {}
    first_problem, failed = None, 0
    single = not keyed and len(entries) == 1
    for i, e in enumerate(entries):
        try:
            checked_all.append(validate_voucher(facts, e.data, allow_negative=e.allow_negative))
        except InvalidInput as exc:
            if single:
                raise
            failed += 1
            first_problem = first_problem or exc.message
            for key, messages in (exc.errors or {"voucher": [str(exc.message)]}).items():
                errors[f"vouchers.{i}.{key}"] = list(messages)
            if failed >= MAX_REPORTED:
                errors["vouchers"] = [
                    str(_l("Too many problems: stopped after %(n)d vouchers.", n=failed))
                ]
                break
    if errors:
        raise InvalidInput(first_problem, errors=errors)
    return checked_all


def plan(
    book: Book,
    entries: Sequence[Entry],
    *,
    first_index: int,
    facts: BookFacts,
    actor_id: int | None,
    keyed: bool = True,
) -> Plan:
    """Check every entry (``check``), then number them. Call under the head lock
    (``take_head``); nothing is written but the month counters."""
    checked_all = check(book, entries, facts=facts, keyed=keyed)
    months = [e.data.date.year * 100 + e.data.date.month for e in entries]  # Month keys
    taken = {
        m.key: t
        for m, t in _take_numbers(
            book, {Month.from_key(k): n for k, n in Counter(months).items()}
        ).items()
    }
    next_no = {m: n for m, (_pid, n) in taken.items()}
    heads = {k: voucher_number(Month.from_key(k), 0)[:-4] for k in taken}
    planned = []
    for i, (e, checked, month) in enumerate(zip(entries, checked_all, months, strict=True)):
        next_no[month] = n = next_no[month] + 1
        planned.append(
            Planned(
                entry=e,
                checked=checked,
                index=first_index + i,
                period_id=taken[month][0],
                number=f"{heads[month]}{n:04d}",
                voucher_id=e.voucher.id if e.voucher is not None else None,
            )
        )
    return Plan(book, first_index, planned, facts, actor_id)


# --- seal: records, leaves, log nodes (pure Python: no database) --------------------------------


def seal(
    plan: Plan, vouchers: Sequence[Planned], frontier: list[bytes]
) -> tuple[list[tuple[int, int, bytes]], list[bytes]]:
    """Give each voucher its salt and frozen private fields, build its record and leaf, and
    append the leaves to the log whose compact range is ``frontier``. Returns the log rows to
    store and the compact range after them."""
    book, facts = plan.book, plan.facts
    book_id, base = book.id, book.base_unit
    codes = {i: a.code for i, a in facts.accounts.items()}
    fund_codes = {i: f.code for i, f in facts.funds.items()}
    salts = secrets.token_bytes(16 * len(vouchers))
    leaf_hashes = []
    for k, pv in enumerate(vouchers):
        e = pv.entry
        pv.salt = salts[16 * k : 16 * k + 16]
        private = log.private_entries(
            (n, facts.residents[li.resident_id])
            for n, (li, _a, _f) in enumerate(pv.checked, start=1)
            if li.resident_id is not None
        )
        pv.private_json = log.private_json(private)
        record = log.make_record(
            book=book_id,
            index=pv.index,
            number=pv.number,
            date=e.data.date,
            kind=e.kind,
            # as stored: a new voucher's summary is stored stripped (new_voucher_rows)
            summary=e.data.summary if e.voucher is not None else e.data.summary.strip(),
            lines=[
                (
                    codes[li.account_id],
                    None if li.fund_id is None else fund_codes[li.fund_id],
                    li.unit or base,
                    li.debit,
                    li.credit,
                )
                for li, _acc, _fund in pv.checked
            ],
            reverses=e.reverses_index,
            private=private,
            salt=pv.salt,
        )
        leaf_hashes.append(merkle.leaf_hash(log.leaf_bytes(record)))
    first = vouchers[0].index if vouchers else 0
    return merkle.nodes_to_store_on_appends(first, frontier, leaf_hashes)


def balance_sums(plan: Plan) -> dict[tuple, list[int]]:
    """Movements per (account, fund key, unit, month key) of the planned vouchers."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    base = plan.book.base_unit
    for pv in plan.vouchers:
        d = pv.entry.data.date
        pk = d.year * 100 + d.month  # Month.of(d).key
        for li, _acc, _fund in pv.checked:
            s = sums[(li.account_id, li.fund_id or 0, li.unit or base, pk)]
            s[0] += li.debit
            s[1] += li.credit
    return sums


# --- rows -------------------------------------------------------------------------------------

V_COLS = (
    "id", "community_id", "book_id", "date", "summary", "kind", "status", "attachment_count",
    "reverses_id", "source", "prepared_by_id", "approved_by_id", "posted_by_id", "period_id",
    "number", "log_index", "posted_at", "private_salt", "private_json", "created_at",
)  # fmt: skip
L_COLS = (
    "community_id", "voucher_id", "line_no", "account_id", "fund_id", "unit", "debit", "credit",
    "memo", "resident_id", "counterparty_org_id",
)  # fmt: skip
E_COLS = ("community_id", "voucher_id", "action", "user_id", "at", "note")
N_COLS = ("book_id", "level", "index", "community_id", "hash")


@dataclass
class Rows:
    vouchers: list[tuple] = field(default_factory=list)
    lines: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    nodes: list[tuple] = field(default_factory=list)


def new_voucher_rows(plan: Plan, vouchers: Sequence[Planned], nodes) -> Rows:
    """The rows of new vouchers (stored ``approved``: the line guard refuses lines of a posted
    voucher; the writer marks them posted after their lines)."""
    book, at, actor_id = plan.book, plan.at, plan.actor_id
    cid, base, book_id = book.community_id, book.base_unit, book.id
    rows = Rows()
    for pv in vouchers:
        e, d, vid = pv.entry, pv.entry.data, pv.voucher_id
        rows.vouchers.append(
            (
                vid, cid, book_id, d.date, d.summary.strip(), e.kind,
                VoucherStatus.APPROVED.value, int(d.attachment_count or 0), e.reverses_id,
                e.source, e.prepared_by_id, e.approved_by_id, actor_id, pv.period_id,
                pv.number, pv.index, at, pv.salt, pv.private_json, at,
            )
        )  # fmt: skip
        for n, (li, _acc, _fund) in enumerate(pv.checked, start=1):
            rows.lines.append(
                (
                    cid, vid, n, li.account_id, li.fund_id,
                    li.unit or base, li.debit, li.credit, (li.memo or "")[:300],
                    li.resident_id, li.counterparty_org_id,
                )
            )  # fmt: skip
        rows.events.append((cid, vid, e.source, actor_id, at, ""))
        rows.events.append((cid, vid, "posted", actor_id, at, ""))
    rows.nodes = [(book_id, lv, ix, cid, h) for lv, ix, h in nodes]
    return rows


# --- writers ----------------------------------------------------------------------------------


def _core_insert(table, cols: Sequence[str], rows: list[tuple]) -> None:
    if rows:
        values = [dict(zip(cols, r, strict=True)) for r in rows]
        # One row as one statement, not an executemany of one (psycopg's pipeline for it).
        db.session.connection().execute(sa.insert(table), values[0] if len(values) == 1 else values)


def _post_together(
    marked: dict, inserts: Sequence[tuple[sa.Table, Sequence[str], list[tuple]]], balances
) -> bool:
    """PostgreSQL: mark the voucher posted (``_MARK_POSTED``, conditional on its status) and
    write its rows and the balance upsert in one statement, one round trip under the head
    lock rather than one each: data-modifying CTEs, every row written only if the voucher's
    row was updated. False, having written nothing, when the voucher was no longer approved.

    One row is bound value by value; several rows as one array per column (``unnest``), but
    for the book and community, the same in every row. So the statement has at most two
    shapes per table whatever the number of log nodes or balance rows, and is compiled at
    most a few times per process (SQLAlchemy's statement cache does not take a DML CTE's
    values; one shape per count of each cost a worker ~10 ms of CPU per new count)."""
    tables = [(t, cols, rows) for t, cols, rows in inserts if rows]
    if balances:
        b_cols = tuple(balances[0])
        tables.append((_BALANCES, b_cols, [tuple(b[c] for c in b_cols) for b in balances]))
    shape = tuple((t.name, len(rows) == 1) for t, _cols, rows in tables)
    sql = _TOGETHER.get(shape)
    if sql is None:
        v = _MARK_POSTED.returning(_VOUCHERS.c.id).cte("v")

        def rows_of(table, cols, single: bool):
            """The rows from ``v``: none when nothing was updated."""
            if single:
                return sa.select(
                    *(sa.bindparam(f"{table.name}_{c}", type_=table.c[c].type) for c in cols)
                ).select_from(v)
            arrays = (
                sa.func.unnest(
                    *(
                        sa.bindparam(f"{table.name}_{c}", type_=postgresql.ARRAY(table.c[c].type))
                        for c in cols
                        if c not in _SAME
                    )
                )
                .table_valued(*(c for c in cols if c not in _SAME))
                .render_derived(name=f"{table.name}_rows")
            )
            return (
                sa.select(
                    *(
                        sa.bindparam(f"{table.name}_{c}", type_=table.c[c].type)
                        if c in _SAME
                        else arrays.c[c]
                        for c in cols
                    )
                )
                .select_from(v)
                .join(arrays, sa.true())
            )

        ctes = []
        for i, (table, cols, rows) in enumerate(tables):
            ins = postgresql.insert(table).from_select(
                list(cols), rows_of(table, cols, len(rows) == 1)
            )
            ctes.append((_upsert(ins) if table is _BALANCES else ins).cte(f"w{i}"))
        stmt = sa.select(sa.func.count()).select_from(v).add_cte(*ctes)
        sql = _TOGETHER[shape] = str(stmt.compile(dialect=db.session.connection().dialect))
    params = dict(marked)
    for table, cols, rows in tables:
        single = len(rows) == 1
        for k, c in enumerate(cols):
            params[f"{table.name}_{c}"] = (
                rows[0][k] if single or c in _SAME else [row[k] for row in rows]
            )
    return db.session.connection().exec_driver_sql(sql, params).scalar_one() == 1


# Columns with one value in all the rows one posting writes to a table (one book, one community).
_SAME = frozenset({"book_id", "community_id"})
_TOGETHER: dict[tuple, str] = {}


class BulkWriter:
    """executemany of plain tuples (SQLite), or COPY (PostgreSQL with psycopg 3). ``prepare``
    (pure, so a forked child may run it) gives the values their columns' own bind
    processing; ``write`` sends them."""

    TABLES = (
        ("vouchers", _VOUCHERS, V_COLS),
        ("lines", _LINES, L_COLS),
        ("events", _EVENTS, E_COLS),
        ("nodes", _NODES, N_COLS),
    )

    def __init__(self):
        self.conn = db.session.connection()
        self.dialect = d = self.conn.dialect
        self.copy = d.name == "postgresql" and d.driver == "psycopg"
        self.processors = {}
        for name, table, cols in self.TABLES:
            procs: list[Callable[[Any], Any] | None] = []
            for c in cols:
                col = table.c[c]
                if isinstance(col.type, sa.LargeBinary) or self.copy:
                    procs.append(None)  # both drivers take bytes as they are
                else:
                    procs.append(col.type.dialect_impl(d).bind_processor(d))
            # Memoised: the same few dates and the one timestamp recur on every row.
            self.processors[name] = [(i, _memo(p)) for i, p in enumerate(procs) if p is not None]

    def prepare(self, rows: Rows) -> Rows:
        out = Rows()
        for name, _table, _cols in self.TABLES:
            values = getattr(rows, name)
            pairs = self.processors[name]
            if pairs:

                def processed(row, pairs=pairs):
                    row = list(row)
                    for i, p in pairs:
                        row[i] = p(row[i])
                    return tuple(row)

                values = [processed(r) for r in values]
            setattr(out, name, values)
        return out

    def write(self, rows: Rows) -> None:
        """Write prepared rows, table by table."""
        q = self.dialect.identifier_preparer
        mark = "?" if self.dialect.paramstyle == "qmark" else "%s"
        for name, table, cols in self.TABLES:
            values = getattr(rows, name)
            if not values:
                continue
            names = ", ".join(q.quote(c) for c in cols)
            if self.copy:
                driver = self.conn.connection.driver_connection
                assert driver is not None  # an open connection has its psycopg connection
                with (
                    driver.cursor() as cur,
                    cur.copy(f"COPY {q.format_table(table)} ({names}) FROM STDIN") as out,
                ):
                    for row in values:
                        out.write_row(row)
                continue
            # Identifiers come from our own table metadata, values are bound.
            sql = f"INSERT INTO {q.format_table(table)} ({names}) VALUES ({', '.join([mark] * len(cols))})"  # noqa: S608
            self.conn.exec_driver_sql(sql, values)


def _memo(process):
    cache: dict = {}

    def processed(value):
        try:
            return cache[value]
        except KeyError:
            out = cache[value] = process(value)
            return out

    return processed


def _new_ids(count: int) -> list[int]:
    """Ids for ``count`` new vouchers (under the head lock)."""
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":  # we hold the write lock since the head UPDATE
        top = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM vouchers").scalar_one()
        return list(range(top + 1, top + 1 + count))
    return list(
        conn.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('vouchers', 'id')) FROM generate_series(1, %s)",
            (count,),
        ).scalars()
    )


_MARK_NEW_POSTED = (
    sa.update(_VOUCHERS)
    .where(
        _VOUCHERS.c.book_id == sa.bindparam("b_id"),
        _VOUCHERS.c.log_index.between(sa.bindparam("b_first"), sa.bindparam("b_last")),
    )
    .values(status=VoucherStatus.POSTED.value)
)


def _built(plan: Plan, batch_size: int, frontier: list[bytes], writer: BulkWriter | None):
    """Each batch's first and last log index and its rows, ready to write (pure Python)."""
    vouchers = plan.vouchers
    for start in range(0, len(vouchers), batch_size):
        batch = vouchers[start : start + batch_size]
        nodes, frontier = seal(plan, batch, frontier)
        rows = new_voucher_rows(plan, batch, nodes)
        yield batch[0].index, batch[-1].index, writer.prepare(rows) if writer else rows


def write_new(
    plan: Plan, *, batch_size: int = 25_000, bulk: bool | None = None, parallel: bool | None = None
) -> list[int]:
    """Store planned new vouchers; returns their ids in order. ``bulk``: the executemany/COPY
    writer (default: for more than one voucher). ``parallel``: a forked child builds the rows
    of the next batch (the same ``seal`` and ``new_voucher_rows``) while this process writes
    the previous one (default: large batches on a machine with a second core; never with
    residents, whose private fields come from rows the child must not read)."""
    vouchers = plan.vouchers
    if not vouchers:
        return []
    ids = _new_ids(len(vouchers))
    for pv, vid in zip(vouchers, ids, strict=True):
        pv.voucher_id = vid
    bulk = len(vouchers) > 1 if bulk is None else bulk
    writer = BulkWriter() if bulk else None
    if parallel is None:
        parallel = len(vouchers) >= 20_000 and forked.available()
    parallel = (
        parallel
        and bulk
        and forked.available()
        and all(li.resident_id is None for pv in vouchers for li, _a, _f in pv.checked)
    )
    conn = db.session.connection()
    cache_size = None
    if bulk and conn.dialect.name == "sqlite" and len(vouchers) >= 1000:
        # SQLite's default page cache (2 MiB) thrashes on a write this size: 256 MiB meanwhile.
        cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
        conn.exec_driver_sql("PRAGMA cache_size = -262144")
    frontier = log.compact_range_hashes(plan.book.id, plan.first_index)
    produce = lambda: _built(plan, batch_size, frontier, writer)  # noqa: E731
    with forked.in_child(produce) if parallel else nullcontext(produce()) as built:
        for first, last, rows in built:
            if writer:
                writer.write(rows)
            else:
                for table, cols, r in (
                    (_VOUCHERS, V_COLS, rows.vouchers),
                    (_LINES, L_COLS, rows.lines),
                    (_EVENTS, E_COLS, rows.events),
                    (_NODES, N_COLS, rows.nodes),
                ):
                    _core_insert(table, cols, r)
            conn.execute(_MARK_NEW_POSTED, {"b_id": plan.book.id, "b_first": first, "b_last": last})
    if cache_size is not None:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache_size)}")
    write_balances(plan.book, balance_sums(plan))
    return ids


_MARK_POSTED = (
    sa.update(_VOUCHERS)
    .where(_VOUCHERS.c.id == sa.bindparam("v_id"), _VOUCHERS.c.status == sa.bindparam("v_was"))
    .values(
        {
            c: sa.bindparam(c)
            for c in (
                "status",
                "period_id",
                "number",
                "log_index",
                "posted_by_id",
                "posted_at",
                "private_salt",
                "private_json",
            )
        }
    )
)


def write_existing(plan: Plan) -> bool:
    """Post the planned vouchers already stored as approved (Core statements). Returns False,
    having written nothing, when the voucher is no longer approved (another request sent it
    back or discarded it meanwhile); the caller raises."""
    (pv,) = plan.vouchers
    v = pv.entry.voucher
    assert v is not None  # an existing voucher: stored, approved
    nodes, _ = seal(plan, [pv], log.compact_range_hashes(plan.book.id, pv.index))
    posted = {
        "status": VoucherStatus.POSTED.value,
        "period_id": pv.period_id,
        "number": pv.number,
        "log_index": pv.index,
        "posted_by_id": plan.actor_id,
        "posted_at": plan.at,
        "private_salt": pv.salt,
        "private_json": pv.private_json,
    }
    marked = {**posted, "v_id": v.id, "v_was": VoucherStatus.APPROVED.value}
    book = plan.book
    node_rows = [(book.id, lv, ix, book.community_id, h) for lv, ix, h in nodes]
    event_rows = [(v.community_id, v.id, "posted", plan.actor_id, plan.at, "")]
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        if not _post_together(
            marked,
            [(_NODES, N_COLS, node_rows), (_EVENTS, E_COLS, event_rows)],
            balance_rows(book, balance_sums(plan)),
        ):
            return False
    else:
        # Conditional on the status read before the lock.
        if conn.execute(_MARK_POSTED, marked).rowcount != 1:
            return False
        _core_insert(_NODES, N_COLS, node_rows)
        write_balances(book, balance_sums(plan))
        _core_insert(_EVENTS, E_COLS, event_rows)
    # The ORM object gets the same values as committed state (nothing left for a flush).
    for key, value in posted.items():
        set_committed_value(v, key, value)
    return True


def write_balances(book: Book, sums: dict[tuple, list[int]]) -> None:
    rows = balance_rows(book, sums)
    if rows:
        conn = db.session.connection()
        conn.execute(_balance_upsert(conn.dialect.name), rows[0] if len(rows) == 1 else rows)


def balance_rows(book: Book, sums: dict[tuple, list[int]]) -> list[dict]:
    """The per-period balance rows (the amounts to add) of ``balance_sums``."""
    return [
        {
            "book_id": book.id,
            "account_id": a,
            "fund_key": f,
            "unit": u,
            "period_key": pk,
            "community_id": book.community_id,
            "debit": dr,
            "credit": cr,
        }
        for (a, f, u, pk), (dr, cr) in sums.items()
    ]


_BALANCES = AccountPeriodBalance.__table__
_BALANCE_UPSERTS: dict[str, sa.Insert] = {}


def _upsert(ins):
    """``ins`` (a dialect's INSERT into the balances) made to add to an existing row."""
    return ins.on_conflict_do_update(
        index_elements=["book_id", "account_id", "fund_key", "unit", "period_key"],
        set_={
            "debit": _BALANCES.c.debit + ins.excluded.debit,
            "credit": _BALANCES.c.credit + ins.excluded.credit,
        },
    )


def _balance_upsert(dialect: str) -> sa.Insert:
    """INSERT … ON CONFLICT that adds to a per-period balance row, built once per dialect."""
    stmt = _BALANCE_UPSERTS.get(dialect)
    if stmt is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = _BALANCE_UPSERTS[dialect] = _upsert(insert(_BALANCES))
    return stmt
