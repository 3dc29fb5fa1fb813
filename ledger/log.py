"""The book's append-only RFC 9162 log: canonical leaf records and stored subtree hashes.

Leaf = RFC 8785 canonical JSON of a versioned public record of one posted voucher
(DESIGN.md §4). Fields that identify a person are replaced by salted commitments, one per
line with a resident, so that each resident's receipt opens only their own line.
Only complete-subtree hashes are stored, so the root and any proof cost O(log n) reads.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from core.db import db
from core.models import Resident
from tlog import bundle_math, jcs, merkle

from .models import LogNode, Voucher

RECORD_VERSION = 1

# One line's salt and commitment: the verifier's own functions (FORMAT.md §1).
line_salt = bundle_math.line_salt
line_commitment = bundle_math.commitment


def private_entries(lines: Iterable[tuple[int, Resident | None]]) -> list[dict] | None:
    """Who paid or was paid, per line: ``(line_no, resident)`` pairs → the private fields."""
    rows = [
        {"line": n, "resident": r.id, "name": r.name, "unit": r.unit or ""}
        for n, r in lines
        if r is not None
    ]
    return rows or None


def private_fields(voucher: Voucher) -> list[dict] | None:
    """Who paid or was paid, per line: kept out of the public record.

    Frozen on the voucher when it is posted (``private_json``), so that editing a resident's
    name or unit later never makes a posted voucher disagree with its leaf."""
    stored = getattr(voucher, "private_json", None)
    if stored is not None:
        return json.loads(stored) or None
    return private_entries(
        (line.line_no, line.resident) for line in voucher.lines if line.resident_id is not None
    )


def private_json(private: list[dict] | None) -> str:
    """Private fields as they are frozen when a voucher is posted (canonical JSON)."""
    return jcs.dumps(private).decode() if private else "null"


def line_commitment_of(salt: bytes | None, p: dict) -> str:
    """One line's commitment from its frozen private entry. After a resident's personal data
    was erased (core/personal_data.py; ``erased_private_fields`` below) the voucher's salt is
    gone and an entry is either the stored commitment of the erased person's line
    (``{"line", "resident", "commitment"}``) or a co-payer's fields with their own line salt
    (``"salt"``, base64), which still open that line for their receipts."""
    if "commitment" in p:
        return str(p["commitment"])
    if "salt" in p:
        fields = {k: v for k, v in p.items() if k != "salt"}
        return line_commitment(base64.b64decode(p["salt"]), fields)
    assert salt is not None  # the posting engine gives every voucher with residents its salt
    return line_commitment(line_salt(salt, p["line"]), p)


def commitment(salt: bytes | None, private: list[dict]) -> list[dict]:
    """The record's ``private`` field: one commitment per line with a resident, by line.

    One salt per line, derived from the voucher's, so that a receipt can open one resident's
    line without giving away what would open a co-payer's (FORMAT.md §1, §4)."""
    return [
        {"line": p["line"], "commitment": line_commitment_of(salt, p)}
        for p in sorted(private, key=lambda p: p["line"])
    ]


def erased_private_fields(salt: bytes | None, private: list[dict], resident_id: int) -> list[dict]:
    """The frozen private fields of a posted voucher once ``resident_id``'s personal data is
    erased: their lines keep only the commitment (the public record is unchanged), every other
    line carries its own line salt, so the voucher's salt can go."""
    out = []
    for p in private:
        if "commitment" in p:
            out.append(p)
        elif p.get("resident") == resident_id:
            c = line_commitment_of(salt, p)
            out.append({"line": p["line"], "resident": resident_id, "commitment": c})
        elif "salt" in p:
            out.append(p)
        else:
            assert salt is not None
            out.append({**p, "salt": base64.b64encode(line_salt(salt, p["line"])).decode()})
    return out


def make_record(
    *,
    book: int,
    index: int,
    number: str,
    date: dt.date,
    kind: str,
    summary: str,
    lines: Sequence[tuple[str, str | None, str, int, int]],
    reverses: int | None,
    private: list[dict] | None,
    salt: bytes | None,
) -> dict:
    """The one public record of a posted voucher (DESIGN.md §4, FORMAT.md §1): what the
    posting engine hashes into the log and what audits, reports and receipts rebuild from the
    stored rows. ``lines``: (account code, fund code or None, unit, debit, credit)."""
    committed = None
    if private:
        committed = commitment(salt, private)
    return {
        "v": RECORD_VERSION,
        "book": book,
        "index": index,
        "number": number,
        "date": date.isoformat(),
        "kind": str(kind),
        "summary": summary,
        "lines": [
            {"account": a, "fund": f, "unit": u, "debit": dr, "credit": cr}
            for a, f, u, dr, cr in lines
        ],
        "reverses": reverses,
        "private": committed,
    }


def public_record(voucher: Voucher, reverses_index: int | None = None) -> dict:
    """The record of a stored, posted voucher (the same function the engine posts with)."""
    # Set when it was posted, never after.
    assert voucher.log_index is not None and voucher.number is not None
    return make_record(
        book=voucher.book_id,
        index=voucher.log_index,
        number=voucher.number,
        date=voucher.date,
        kind=voucher.kind,
        summary=voucher.summary,
        lines=[
            (
                line.account.code,
                line.fund_code,
                line.unit,
                line.debit,
                line.credit,
            )
            for line in voucher.lines
        ],
        reverses=reverses_index,
        private=private_fields(voucher),
        salt=voucher.private_salt,
    )


def leaf_bytes(record: dict) -> bytes:
    """The leaf: RFC 8785 canonical JSON of the record, by the one encoder."""
    return jcs.dumps(record)


# --- node storage ----------------------------------------------------------------------------


class _Nodes:
    """Fetches the nodes a computation needs in one query, then serves them from memory."""

    def __init__(self, book_id: int, ids):
        ids = set(ids)
        self.book_id = book_id
        self.cache: dict[tuple[int, int], bytes] = {}
        if ids:
            # One primary-key lookup per wanted node, joined from a VALUES list. The row-value
            # form ``(level, index) IN (...)`` made SQLite scan the book's whole log (2 s at a
            # million leaves, on every post), and building the statement with SQLAlchemy
            # costs more than running it (a VALUES list of varying length is never cached).
            # Many proofs at once (a report's carried records) want tens of thousands of nodes:
            # fetched ``_FETCH`` at a time, within both databases' limits on parameters.
            db.session.flush()  # as the ORM query did: nodes appended earlier in this transaction
            conn = db.session.connection()
            wanted = sorted(ids)
            for at in range(0, len(wanted), _FETCH):
                part = wanted[at : at + _FETCH]
                params = [x for node in part for x in node] + [book_id]
                rows = conn.exec_driver_sql(_nodes_sql(conn.dialect.name, len(part)), tuple(params))
                self.cache.update(((lv, ix), bytes(h)) for lv, ix, h in rows)

    def __call__(self, level: int, index: int) -> bytes:
        try:
            return self.cache[(level, index)]
        except KeyError:
            h = db.session.scalar(
                sa.select(LogNode.hash).where(
                    LogNode.book_id == self.book_id, LogNode.level == level, LogNode.index == index
                )
            )
            if h is None:
                raise LookupError(
                    f"log node ({level}, {index}) of book {self.book_id} is missing"
                ) from None
            self.cache[(level, index)] = bytes(h)
            return self.cache[(level, index)]


_FETCH = 2_000  # nodes a query: 4,001 parameters (SQLite allows 32,766, PostgreSQL 65,535)


@functools.lru_cache(maxsize=256)
def _nodes_sql(dialect: str, n: int) -> str:
    """SELECT the stored hashes of ``n`` (level, index) pairs of one book, by primary key."""
    row, book = ("(%s::integer, %s::bigint)", "%s") if dialect == "postgresql" else ("(?, ?)", "?")
    # Only placeholders and constants are interpolated.
    values = ", ".join([row] * n)
    return (
        f"WITH wanted(level, idx) AS (VALUES {values}) "  # noqa: S608
        'SELECT n.level, n."index", n.hash FROM wanted JOIN log_nodes n '
        f'ON n.book_id = {book} AND n.level = wanted.level AND n."index" = wanted.idx'
    )


def _plan_ids(plan) -> set:
    ids = set()
    for part in plan:
        ids.update(part)
    return ids


def append(book_id: int, community_id: int, size_before: int, leaf: bytes) -> bytes:
    """Store leaf ``size_before`` and every subtree it completes; return the leaf hash."""
    lh = merkle.leaf_hash(leaf)
    rows, _ = merkle.nodes_to_store_on_appends(
        size_before, compact_range_hashes(book_id, size_before), [lh]
    )
    db.session.connection().execute(
        _NODE_INSERT,
        [
            {"book_id": book_id, "level": lv, "index": ix, "community_id": community_id, "hash": h}
            for lv, ix, h in rows
        ],
    )
    return lh


_NODE_INSERT = sa.insert(LogNode.__table__)


def root(book_id: int, size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.root_from_nodes(size, _Nodes(book_id, merkle.compact_range(size)))


def compact_range_hashes(book_id: int, size: int) -> list[bytes]:
    ids = merkle.compact_range(size)
    getter = _Nodes(book_id, ids)
    return [getter(lv, ix) for lv, ix in ids]


def inclusion_proof(book_id: int, index: int, size: int) -> list[bytes]:
    return leaves_with_proofs(book_id, [index], size)[0][1]


def leaves_with_proofs(
    book_id: int, indices: Sequence[int], size: int
) -> list[tuple[bytes | None, list[bytes]]]:
    """For each leaf index: its stored leaf hash (None when it is missing, and then no proof)
    and its inclusion proof in the tree of ``size`` leaves. The nodes of all of them are read together: the
    proofs of neighbouring leaves share most of their nodes, and a report carrying thousands
    of records made one query per record and per proof before (29 s of the demo's 45 s)."""
    plans = [merkle.inclusion_proof_plan(size, i) for i in indices]
    ids = {(0, i) for i in indices}
    for plan in plans:
        ids.update(_plan_ids(plan))
    nodes = _Nodes(book_id, ids)
    out: list[tuple[bytes | None, list[bytes]]] = []
    for i, plan in zip(indices, plans, strict=True):
        leaf = nodes.cache.get((0, i))
        out.append((leaf, merkle.hashes_from_plan(plan, nodes) if leaf is not None else []))
    return out


def consistency_proof(book_id: int, old_size: int, new_size: int) -> list[bytes]:
    plan = merkle.consistency_proof_plan(old_size, new_size)
    return merkle.hashes_from_plan(plan, _Nodes(book_id, _plan_ids(plan)))


def leaf_hash_at(book_id: int, index: int) -> bytes | None:
    h = db.session.scalar(
        sa.select(LogNode.hash).where(
            LogNode.book_id == book_id, LogNode.level == 0, LogNode.index == index
        )
    )
    return bytes(h) if h is not None else None
