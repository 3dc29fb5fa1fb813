# SPDX-License-Identifier: AGPL-3.0-or-later
"""The arithmetic a disclosure bundle is checked with (FORMAT.md §1, §3), free of any I/O.

Pure functions over the JSON values of a bundle: record shape, record → leaf bytes (RFC 8785
via :mod:`tlog.jcs`), the log fold from a compact range, balances from records, and
statement lines recomputed from the bundle's own line definitions. Standard library only (plus
the two sibling modules that are themselves standard-library only), so the standalone verifier
can ship it.

Values that do not have the shape FORMAT.md gives raise :class:`ShapeError` naming the JSON
path, so the verifier can say *where* a bundle is malformed instead of crashing.

Sign convention (ledger/charts/README.md): a balance is ``debit − credit``; a statement uses
each posting account's balance in its normal-side direction (credit-normal accounts flip the
sign), rolled up to every ancestor through ``parent``; an item line is ``Σ sign × balance``
over its accounts, a subtotal/total is ``Σ ± amount`` over the keys in ``sum``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from . import jcs, merkle

__all__ = [
    "BASE_UNIT",
    "KINDS",
    "RECORD_KEYS",
    "Account",
    "BalanceKey",
    "ShapeError",
    "StatementLine",
    "accounts_from_json",
    "add_records",
    "balances_from_json",
    "balances_to_json",
    "bundle_note_text",
    "format_amount",
    "canonical_bundle",
    "check_record",
    "commitment",
    "diff_balances",
    "evaluate_lines",
    "fold_log",
    "is_flow_statement",
    "leaf_bytes",
    "line_salt",
    "movements",
    "normal_balances",
    "parse_date",
    "parse_statement_lines",
    "record_leaf_hash",
    "rolled_up",
    "total_lines",
]

BASE_UNIT = "CNY"
"""Statements are in the base unit only (FORMAT.md §3)."""

RECORD_KEYS = frozenset(
    {"v", "book", "index", "number", "date", "kind", "summary", "lines", "reverses", "private"}
)
LINE_KEYS = frozenset({"account", "fund", "unit", "debit", "credit"})
KINDS = frozenset({"normal", "reversal", "closing", "opening"})
LINE_KINDS = frozenset({"heading", "item", "subtotal", "total"})
NORMAL_SIDES = frozenset({"debit", "credit"})

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HEX64 = re.compile(r"[0-9a-f]{64}")

BalanceKey = tuple[str, "str | None", str]
"""(account code, fund code or None, unit)."""


class ShapeError(ValueError):
    """A bundle value does not have the shape FORMAT.md gives; ``path`` says where."""

    def __init__(self, path: str, detail: str, code: str = "shape", **params: object) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path
        self.detail = detail
        self.code = code  # what is wrong, stable (a verifier's message id), with its params
        self.params = params


# --------------------------------------------------------------------------- small checks


def _is_int(v: object) -> bool:
    return type(v) is int


def require(obj: object, key: str, types: type | tuple[type, ...], path: str) -> Any:
    """``obj[key]`` if obj is an object holding a value of ``types`` (bool is not an int)."""
    if type(obj) is not dict:
        raise ShapeError(
            path, f"expected an object, got {_json_type(obj)}", "not_object", got=_json_type(obj)
        )
    if key not in obj:
        raise ShapeError(f"{path}.{key}", "missing", "missing")
    value = obj[key]
    if not _has_type(value, types):
        raise ShapeError(
            f"{path}.{key}",
            f"expected {_type_names(types)}, got {_json_type(value)}",
            "wrong_type",
            expected=_json_names(types),
            got=_json_type(value),
        )
    return value


def _has_type(value: object, types: type | tuple[type, ...]) -> bool:
    ts = types if isinstance(types, tuple) else (types,)
    return any(type(value) is t or (t is type(None) and value is None) for t in ts)


def _type_names(types: type | tuple[type, ...]) -> str:
    return " or ".join(_json_names(types))


def _json_names(types: type | tuple[type, ...]) -> tuple[str, ...]:
    ts = types if isinstance(types, tuple) else (types,)
    return tuple(_JSON_NAMES.get(t, t.__name__) for t in ts)


_JSON_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    int: "integer",
    bool: "boolean",
    type(None): "null",
    float: "number",
}


def _json_type(value: object) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


def parse_date(value: object, path: str) -> dt.date:
    """A strict ``YYYY-MM-DD`` date (``fromisoformat`` alone also takes ``20260305``)."""
    if type(value) is str:
        when = _dates.get(value)
        if when is not None:
            return when
    if type(value) is not str or not _DATE.fullmatch(value):
        raise ShapeError(
            path,
            f"expected a YYYY-MM-DD date, got {_short(value)}",
            "bad_date",
            value=_short(value),
        )
    try:
        when = dt.date.fromisoformat(value)
    except ValueError:
        raise ShapeError(
            path, f"{value!r} is not a calendar date", "not_calendar_date", value=repr(value)
        ) from None
    if len(_dates) < 100_000:  # a log has few distinct dates; bound the cache anyway
        _dates[value] = when
    return when


_dates: dict[str, dt.date] = {}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- records


def check_record(record: object, path: str) -> dt.date:
    """Check a public record has exactly the version-1 shape (FORMAT.md §1); return its date.

    Strict on purpose: every field is part of the signed leaf, so an unexpected one is either
    a newer format this verifier does not know or something slipped in.
    """
    if type(record) is not dict:
        raise ShapeError(
            path,
            f"a record is an object, got {_json_type(record)}",
            "record_not_object",
            got=_json_type(record),
        )
    keys = set(record)
    if keys != RECORD_KEYS:
        missing, extra = sorted(RECORD_KEYS - keys), sorted(keys - RECORD_KEYS)
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unexpected {', '.join(map(str, extra))}"] if extra else []
        )
        raise ShapeError(
            path,
            "record fields: " + "; ".join(parts),
            "record_fields",
            missing=tuple(missing),
            extra=tuple(map(str, extra)),
        )
    if record["v"] != 1 or not _is_int(record["v"]):
        raise ShapeError(
            f"{path}.v",
            f"record version {_short(record['v'])} is not 1",
            "record_version",
            value=_short(record["v"]),
        )
    for key in ("book", "index"):
        if not _is_int(record[key]) or not 0 <= record[key] <= jcs.MAX_SAFE_INTEGER:
            raise ShapeError(
                f"{path}.{key}",
                f"expected a non-negative integer, got {_short(record[key])}",
                "not_index",
                value=_short(record[key]),
            )
    for key in ("number", "summary"):
        if type(record[key]) is not str:
            raise ShapeError(
                f"{path}.{key}",
                f"expected a string, got {_json_type(record[key])}",
                "wrong_type",
                expected=("string",),
                got=_json_type(record[key]),
            )
    when = parse_date(record["date"], f"{path}.date")
    if record["kind"] not in KINDS or type(record["kind"]) is not str:
        raise ShapeError(
            f"{path}.kind",
            f"unknown kind {_short(record['kind'])}",
            "unknown_kind",
            value=_short(record["kind"]),
        )
    rev = record["reverses"]
    if rev is not None and (not _is_int(rev) or not 0 <= rev <= jcs.MAX_SAFE_INTEGER):
        raise ShapeError(
            f"{path}.reverses",
            f"expected null or an index, got {_short(rev)}",
            "bad_reverses",
            value=_short(rev),
        )
    lines = record["lines"]
    if type(lines) is not list:
        raise ShapeError(
            f"{path}.lines",
            f"expected an array, got {_json_type(lines)}",
            "wrong_type",
            expected=("array",),
            got=_json_type(lines),
        )
    _check_private(record["private"], len(lines), f"{path}.private")
    totals: dict[str, int] = {}
    for n, line in enumerate(lines):
        # One combined test for the common, valid case; the slow path says what is wrong.
        if not (
            type(line) is dict
            and line.keys() == LINE_KEYS
            and type(line["account"]) is str
            and line["account"]
            and (line["fund"] is None or type(line["fund"]) is str)
            and type(line["unit"]) is str
            and line["unit"]
            and type(line["debit"]) is int
            and -_MAX <= line["debit"] <= _MAX
            and type(line["credit"]) is int
            and -_MAX <= line["credit"] <= _MAX
        ):
            _line_problem(line, f"{path}.lines[{n}]")
        unit = line["unit"]
        totals[unit] = totals.get(unit, 0) + line["debit"] - line["credit"]
    unbalanced = sorted(u for u, t in totals.items() if t)
    if unbalanced:
        raise ShapeError(
            f"{path}.lines",
            f"debits and credits differ in {', '.join(unbalanced)} (record does not balance)",
            "record_unbalanced",
            units=tuple(unbalanced),
        )
    return when


_MAX = jcs.MAX_SAFE_INTEGER
PRIVATE_KEYS = frozenset({"line", "commitment"})


def _check_private(priv: object, nlines: int, path: str) -> None:
    """null, or a non-empty list of ``{"line": n, "commitment": hex}`` by ascending line."""
    if priv is None:
        return
    if type(priv) is not list or not priv:
        raise ShapeError(
            path, "expected null or a non-empty array of {line, commitment}", "private_shape"
        )
    last = 0
    for i, p in enumerate(priv):
        pp = f"{path}[{i}]"
        if type(p) is not dict or p.keys() != PRIVATE_KEYS:
            raise ShapeError(pp, "an entry has exactly line and commitment", "private_entry")
        if not _is_int(p["line"]) or not 1 <= p["line"] <= nlines:
            raise ShapeError(
                f"{pp}.line",
                f"expected a line number 1..{nlines}, got {_short(p['line'])}",
                "private_line",
                n=nlines,
                value=_short(p["line"]),
            )
        if p["line"] <= last:
            raise ShapeError(f"{pp}.line", "lines must be ascending and distinct", "private_order")
        last = p["line"]
        if type(p["commitment"]) is not str or not _HEX64.fullmatch(p["commitment"]):
            raise ShapeError(
                f"{pp}.commitment", "expected 64 lower-case hex digits", "commitment_hex"
            )


def _line_problem(line: object, lp: str) -> None:
    if type(line) is not dict or set(line) != LINE_KEYS:
        raise ShapeError(lp, "a line has exactly account, fund, unit, debit, credit", "line_keys")
    if type(line["account"]) is not str or not line["account"]:
        raise ShapeError(f"{lp}.account", "expected an account code", "line_account")
    if line["fund"] is not None and type(line["fund"]) is not str:
        raise ShapeError(f"{lp}.fund", "expected null or a fund code", "line_fund")
    if type(line["unit"]) is not str or not line["unit"]:
        raise ShapeError(f"{lp}.unit", "expected a unit", "line_unit")
    for side in ("debit", "credit"):
        v = line[side]
        if not _is_int(v) or abs(v) > _MAX:
            raise ShapeError(
                f"{lp}.{side}",
                f"expected an integer amount, got {_short(v)}",
                "line_amount",
                value=_short(v),
            )
    raise ShapeError(
        lp, "malformed line", "line_keys"
    )  # pragma: no cover (the checks above are exhaustive)


def leaf_bytes(record: object, *, checked: bool = False) -> bytes:
    """The leaf data of a record: its RFC 8785 canonical JSON (FORMAT.md §1), by the one
    encoder, :func:`jcs.dumps` (the ledger writes leaves with it too). ``checked`` (that
    :func:`check_record` accepted the record) is kept for callers; the bytes are the same."""
    return jcs.dumps(record)


def record_leaf_hash(record: object, *, checked: bool = False) -> bytes:
    return merkle.leaf_hash(leaf_bytes(record, checked=checked))


def line_salt(salt: bytes, line: int) -> bytes:
    """HMAC-SHA256(voucher salt, "line:<n>")[:16]: one line's salt (FORMAT.md §1)."""
    return hmac.new(bytes(salt), b"line:%d" % line, hashlib.sha256).digest()[:16]


def commitment(salt_n: bytes, entry: object) -> str:
    """hex SHA-256(salt_n ‖ JCS(entry)): one line's commitment in a record's ``private``."""
    return hashlib.sha256(bytes(salt_n) + jcs.dumps(entry)).hexdigest()


def _record_jcs(record: object, known: Mapping[int, bytes] | None = None) -> bytes:
    if known is not None and id(record) in known:
        return known[id(record)]
    try:
        check_record(record, "record")
    except ShapeError:
        return jcs.dumps(record)  # the general (slow) form says what cannot be canonicalised
    return leaf_bytes(record, checked=True)


def _object_jcs(obj: Mapping, special: Mapping[str, Callable[[object], bytes]]) -> bytes:
    """JCS of an object whose members named in ``special`` have their own (faster) writer."""
    if any(type(k) is not str for k in obj):
        return jcs.dumps(obj)  # refuses, with the reason
    parts = []
    for k in sorted(obj, key=lambda name: name.encode("utf-16-be", "surrogatepass")):
        writer = special.get(k, jcs.dumps)
        parts.append(jcs.dumps(k) + b":" + writer(obj[k]))
    return b"{" + b",".join(parts) + b"}"


def _records_jcs(records: object, known: Mapping[int, bytes] | None = None) -> bytes:
    if type(records) is not list:
        return jcs.dumps(records)
    return b"[" + b",".join(_record_jcs(r, known) for r in records) + b"]"


def _carried_jcs(carried: object) -> bytes:
    if type(carried) is not list:
        return jcs.dumps(carried)
    return (
        b"["
        + b",".join(
            _object_jcs(c, {"record": _record_jcs}) if type(c) is dict else jcs.dumps(c)
            for c in carried
        )
        + b"]"
    )


def canonical_bundle(bundle: Mapping, known: Mapping[int, bytes] | None = None) -> bytes:
    """RFC 8785 canonical JSON of a bundle without its ``signature`` member (FORMAT.md §3).

    The same bytes as ``jcs.dumps``, but records that :func:`check_record` accepts are written
    by the fast :func:`leaf_bytes` template: a 100,000-record bundle would otherwise spend
    most of the verifier's time budget here. ``known`` maps ``id(record)`` of records of
    ``log.records`` already checked to their leaf bytes. Raises ``jcs.CanonicalizationError``."""
    unsigned = {k: v for k, v in bundle.items() if k != "signature"}
    return _object_jcs(
        unsigned,
        {
            "log": lambda log: (
                _object_jcs(log, {"records": lambda rs: _records_jcs(rs, known)})
                if type(log) is dict
                else jcs.dumps(log)
            ),
            "carried_records": _carried_jcs,
        },
    )


def bundle_note_text(
    bundle: Mapping, origin: str, start: str, end: str, known: Mapping[int, bytes] | None = None
) -> str:
    """The text a bundle's ``signature`` note signs (FORMAT.md §3): what the report is (book
    and period) and the hash of everything else in it, so no label, line definition, account
    or period can change without the organisation's key."""
    digest = hashlib.sha256(canonical_bundle(bundle, known)).hexdigest()
    return f"{origin}/report\n{start}..{end}\n{digest}\n"


def fold_log(
    compact_range: Sequence[bytes], first_index: int, leaf_hashes: Iterable[bytes]
) -> tuple[int, bytes]:
    """Append leaves to the compact range of the first ``first_index`` leaves; (size, root).

    Raises ValueError if the compact range does not have one hash per set bit of first_index.
    """
    if len(compact_range) != first_index.bit_count():
        raise ValueError(
            f"compact range for {first_index} leaves has {first_index.bit_count()} hashes, "
            f"got {len(compact_range)}"
        )
    for i, h in enumerate(compact_range):
        if type(h) is not bytes or len(h) != merkle.HASH_SIZE:
            raise ValueError(f"compact range hash {i} is not {merkle.HASH_SIZE} bytes")
    # merkle.compact_range_append, inlined: one leaf merges with one subtree per trailing
    # one-bit of the size before it (the tests check both agree with merkle.root_hash).
    rng = list(compact_range)
    size = first_index
    sha256 = hashlib.sha256
    for lh in leaf_hashes:
        acc = lh
        s = size
        while s & 1:
            acc = sha256(b"\x01" + rng.pop() + acc).digest()
            s >>= 1
        rng.append(acc)
        size += 1
    return size, merkle.root_from_compact_range(rng)


# --------------------------------------------------------------------------- balances


def balances_from_json(rows: object, path: str) -> dict[BalanceKey, int]:
    """``[{"account", "fund", "unit", "balance"}]`` → {(account, fund, unit): balance}.

    FORMAT.md §3: no zero entries, sorted by account, then fund (null first), then unit; so
    each list has exactly one form and two readers cannot disagree about it.
    """
    if type(rows) is not list:
        raise ShapeError(
            path,
            f"expected an array, got {_json_type(rows)}",
            "wrong_type",
            expected=("array",),
            got=_json_type(rows),
        )
    out: dict[BalanceKey, int] = {}
    last: BalanceKey | None = None
    for n, row in enumerate(rows):
        rp = f"{path}[{n}]"
        account = require(row, "account", str, rp)
        fund = require(row, "fund", (str, type(None)), rp)
        unit = require(row, "unit", str, rp)
        balance = require(row, "balance", int, rp)
        key = cast(BalanceKey, (account, fund, unit))  # require() checked each part's type
        if key in out:
            raise ShapeError(
                rp,
                f"balance of {_label(key)} is listed twice",
                "balance_twice",
                account=account,
                fund=fund,
                unit=unit,
            )
        if balance == 0:
            raise ShapeError(
                rp,
                f"zero balance of {_label(key)} is listed (zero entries are left out)",
                "balance_zero",
                account=account,
                fund=fund,
                unit=unit,
            )
        if last is not None and _sort_key(key) < _sort_key(last):
            raise ShapeError(
                rp, "entries are not sorted by account, fund (null first), unit", "balance_order"
            )
        last = key
        out[key] = cast(int, balance)
    return out


def _sort_key(key: BalanceKey) -> tuple:
    account, fund, unit = key
    return (account, fund is not None, fund or "", unit)


def balances_to_json(balances: Mapping[BalanceKey, int]) -> list[dict]:
    """The bundle form, sorted, zeros dropped (what a server or a generator writes)."""
    return [
        {"account": a, "fund": f, "unit": u, "balance": b}
        for (a, f, u), b in sorted(balances.items(), key=lambda kv: _sort_key(kv[0]))
        if b
    ]


def add_records(
    opening: Mapping[BalanceKey, int], records: Iterable[Mapping]
) -> dict[BalanceKey, int]:
    """opening + Σ (debit − credit) of the records' lines, per (account, fund, unit)."""
    out = dict(opening)
    for rec in records:
        for line in rec["lines"]:
            key = (line["account"], line["fund"], line["unit"])
            out[key] = out.get(key, 0) + line["debit"] - line["credit"]
    return {k: v for k, v in out.items() if v}


def movements(records: Iterable[Mapping]) -> dict[BalanceKey, int]:
    """The period's movements for flow statements: closing entries (年末结转) excluded, or
    December's revenue and expense would always show as zero."""
    return add_records({}, (r for r in records if r["kind"] != "closing"))


def _label(key: BalanceKey) -> str:
    account, fund, unit = key
    return f"{account}" + (f" fund {fund}" if fund is not None else "") + f" {unit}"


def format_amount(minor: int, unit: str = "CNY") -> str:
    """An amount in minor units as people read it: ``¥1,234.56`` (fen → yuan, exact integer
    arithmetic); another unit (points) as ``1,234 pt``."""
    if unit != "CNY":
        return f"{minor:,} {unit}"
    sign = "-" if minor < 0 else ""
    return f"{sign}¥{abs(minor) // 100:,}.{abs(minor) % 100:02d}"


def diff_balances(
    expected: Mapping[BalanceKey, int], actual: Mapping[BalanceKey, int], limit: int = 5
) -> list[str]:
    """Human-readable differences, at most ``limit`` (then a count of the rest)."""
    keys = sorted(set(expected) | set(actual), key=_sort_key)
    diffs = [
        f"{_label(k)}: recomputed {format_amount(expected.get(k, 0), k[2])}, "
        f"the report says {format_amount(actual.get(k, 0), k[2])}"
        for k in keys
        if expected.get(k, 0) != actual.get(k, 0)
    ]
    if len(diffs) > limit:
        diffs = diffs[:limit] + [f"... and {len(diffs) - limit} more"]
    return diffs


# --------------------------------------------------------------------------- accounts


@dataclass(frozen=True)
class Account:
    code: str
    type: str
    normal_side: str
    parent: str | None


def accounts_from_json(rows: object, path: str) -> dict[str, Account]:
    """The bundle's ``accounts``; every ``parent`` must be listed and the links acyclic."""
    if type(rows) is not list:
        raise ShapeError(
            path,
            f"expected an array, got {_json_type(rows)}",
            "wrong_type",
            expected=("array",),
            got=_json_type(rows),
        )
    out: dict[str, Account] = {}
    for n, row in enumerate(rows):
        rp = f"{path}[{n}]"
        code = require(row, "code", str, rp)
        side = require(row, "normal_side", str, rp)
        if side not in NORMAL_SIDES:
            raise ShapeError(
                f"{rp}.normal_side",
                f"expected debit or credit, got {_short(side)}",
                "normal_side",
                value=_short(side),
            )
        acc = Account(
            code=code,
            type=require(row, "type", str, rp),
            normal_side=side,
            parent=require(row, "parent", (str, type(None)), rp),
        )
        if acc.code in out:
            raise ShapeError(
                rp, f"account {acc.code} is listed twice", "account_twice", account=acc.code
            )
        out[acc.code] = acc
    for acc in out.values():
        seen = {acc.code}
        p = acc.parent
        while p is not None:
            if p not in out:
                raise ShapeError(
                    path,
                    f"account {acc.code}: parent {p} is not listed",
                    "parent_missing",
                    account=acc.code,
                    parent=p,
                )
            if p in seen:
                raise ShapeError(
                    path,
                    f"account {acc.code}: parent links form a cycle",
                    "parent_cycle",
                    account=acc.code,
                )
            seen.add(p)
            p = out[p].parent
    return out


def normal_balances(
    balances: Mapping[BalanceKey, int], accounts: Mapping[str, Account], unit: str = BASE_UNIT
) -> dict[str, int]:
    """Per account code, the ``unit`` balance summed over funds in the normal-side direction."""
    out: dict[str, int] = {}
    for (code, _fund, u), value in balances.items():
        if u != unit:
            continue
        acc = accounts.get(code)
        if acc is None:
            raise ShapeError(
                "accounts",
                f"account {code} has a balance but is not listed",
                "account_unlisted",
                account=code,
            )
        signed = value if acc.normal_side == "debit" else -value
        out[code] = out.get(code, 0) + signed
    return out


def rolled_up(normal: Mapping[str, int], accounts: Mapping[str, Account]) -> dict[str, int]:
    """Each account's own balance plus its sub-accounts' (via ``parent``), at every level."""
    out: dict[str, int] = {}
    for code, value in normal.items():
        c: str | None = code
        while c is not None:
            out[c] = out.get(c, 0) + value
            c = accounts[c].parent if c in accounts else None
    return out


def is_flow_statement(statement: str) -> bool:
    """Balance sheets use closing balances; every other statement the period's movements."""
    return statement != "balance_sheet"


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class StatementLine:
    key: str
    kind: str
    accounts: tuple[tuple[str, int], ...]
    sum: tuple[tuple[str, int], ...]
    memo: bool
    side: str | None
    amount: int | None
    path: str


def parse_statement_lines(lines: object, path: str) -> list[StatementLine]:
    """A statement's line definitions, checked the way the layout loader checks layouts:
    known kinds, signs ±1, sums of existing non-heading keys, no non-memo line summing a memo
    line (其中 lines are never counted twice), no cycles."""
    if type(lines) is not list:
        raise ShapeError(
            path,
            f"expected an array, got {_json_type(lines)}",
            "wrong_type",
            expected=("array",),
            got=_json_type(lines),
        )
    out: list[StatementLine] = []
    by_key: dict[str, StatementLine] = {}
    for n, raw in enumerate(lines):
        lp = f"{path}[{n}]"
        key = require(raw, "key", str, lp)
        kind = require(raw, "kind", str, lp)
        if kind not in LINE_KINDS:
            raise ShapeError(
                f"{lp}.kind", f"unknown line kind {_short(kind)}", "line_kind", value=_short(kind)
            )
        accounts = []
        raw_accounts = raw.get("accounts")
        raw_accounts = [] if raw_accounts is None else raw_accounts
        if type(raw_accounts) is not list:
            raise ShapeError(f"{lp}.accounts", "expected an array of {code, sign}", "line_accounts")
        for m, ref in enumerate(raw_accounts):
            rp = f"{lp}.accounts[{m}]"
            code = require(ref, "code", str, rp)
            sign = require(ref, "sign", int, rp)
            if sign not in (1, -1):
                raise ShapeError(
                    f"{rp}.sign", f"sign must be 1 or -1, got {sign}", "line_sign", value=sign
                )
            accounts.append((code, sign))
        terms = []
        raw_sum = raw.get("sum")
        raw_sum = [] if raw_sum is None else raw_sum
        if type(raw_sum) is not list:
            raise ShapeError(f"{lp}.sum", "expected an array of keys", "line_sum")
        for m, term in enumerate(raw_sum):
            if type(term) is not str or term in ("", "-"):
                raise ShapeError(
                    f"{lp}.sum[{m}]", "expected a line key, '-key' to subtract", "line_sum_term"
                )
            terms.append((term[1:], -1) if term.startswith("-") else (term, 1))
        memo = raw.get("memo", False)
        if type(memo) is not bool:
            raise ShapeError(f"{lp}.memo", "expected true or false", "line_memo")
        side = raw.get("side")
        if side not in (None, "left", "right"):
            raise ShapeError(
                f"{lp}.side",
                f"expected left or right, got {_short(side)}",
                "line_side",
                value=_short(side),
            )
        if "amount" not in raw:
            raise ShapeError(f"{lp}.amount", "missing", "missing")
        amount = raw["amount"]
        if kind == "heading":
            if accounts or terms:
                raise ShapeError(lp, "a heading has no accounts and no sum", "line_heading")
            if amount is not None:
                raise ShapeError(
                    f"{lp}.amount", "a heading has no amount (null)", "line_heading_amount"
                )
        else:
            if not _is_int(amount):
                raise ShapeError(
                    f"{lp}.amount",
                    f"expected an integer, got {_json_type(amount)}",
                    "wrong_type",
                    expected=("integer",),
                    got=_json_type(amount),
                )
            if kind == "item" and terms:
                raise ShapeError(lp, "an item line uses accounts, not sum", "line_item_sum")
            if kind in ("subtotal", "total") and (accounts or not terms):
                raise ShapeError(
                    lp, f"a {kind} line needs sum and no accounts", "line_total_sum", kind=kind
                )
        if key in by_key:
            raise ShapeError(
                f"{lp}.key", f"line key {key!r} is used twice", "line_key_twice", key=key
            )
        line = StatementLine(key, kind, tuple(accounts), tuple(terms), memo, side, amount, lp)
        by_key[key] = line
        out.append(line)
    for line in out:
        for term, _sign in line.sum:
            target = by_key.get(term)
            if target is None:
                raise ShapeError(
                    line.path,
                    f"{line.key!r} sums unknown line {term!r}",
                    "line_sum_unknown",
                    key=line.key,
                    term=term,
                )
            if target.kind == "heading":
                raise ShapeError(
                    line.path,
                    f"{line.key!r} sums heading {term!r}",
                    "line_sum_heading",
                    key=line.key,
                    term=term,
                )
            if target.memo and not line.memo:
                raise ShapeError(
                    line.path,
                    f"{line.key!r} sums memo line {term!r} (其中 lines are not summed)",
                    "line_sum_memo",
                    key=line.key,
                    term=term,
                )
    _check_acyclic(by_key)
    return out


def _check_acyclic(by_key: Mapping[str, StatementLine]) -> None:
    state: dict[str, int] = {}
    for start in by_key:
        if state.get(start) == 2:
            continue
        stack = [(start, iter(by_key[start].sum))]
        state[start] = 1
        while stack:
            key, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[key] = 2
                stack.pop()
                continue
            t = nxt[0]
            if state.get(t) == 1:
                raise ShapeError(
                    by_key[key].path,
                    f"line sums form a cycle through {t!r}",
                    "line_cycle",
                    term=t,
                )
            if state.get(t) is None:
                state[t] = 1
                stack.append((t, iter(by_key[t].sum)))


def evaluate_lines(lines: Sequence[StatementLine], rolled: Mapping[str, int]) -> dict[str, int]:
    """Recomputed amount of every non-heading line from rolled-up normal-side balances."""
    by_key = {ln.key: ln for ln in lines}
    out: dict[str, int] = {}

    def amount(key: str) -> int:
        # Sums are acyclic (checked) and shallow; memoised recursion is enough.
        if key not in out:
            ln = by_key[key]
            if ln.kind == "item":
                out[key] = sum(sign * rolled.get(code, 0) for code, sign in ln.accounts)
            else:
                out[key] = sum(sign * amount(k) for k, sign in ln.sum)
        return out[key]

    for ln in lines:
        if ln.kind != "heading":
            amount(ln.key)
    return {ln.key: out[ln.key] for ln in lines if ln.kind != "heading"}


def total_lines(lines: Sequence[StatementLine]) -> tuple[StatementLine, StatementLine]:
    """The balance sheet's two grand totals: assets (left) and liabilities + equity / net
    assets (right). By ``side`` when the lines carry it, else the first and last ``total``."""
    totals = [ln for ln in lines if ln.kind == "total" and not ln.memo]
    left = [ln for ln in totals if ln.side == "left"]
    right = [ln for ln in totals if ln.side == "right"]
    if len(left) == 1 and len(right) == 1:
        return left[0], right[0]
    if len(totals) >= 2 and not left and not right:
        return totals[0], totals[-1]
    raise ShapeError(
        "statements", "cannot tell the balance sheet's two grand totals apart", "sheet_totals"
    )
