# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tamper audit (篡改审计): does every posted row still hash to its leaf in the log?

Posted vouchers are guarded by the service, an ORM hook and database triggers, but someone
with the database's owner rights can switch triggers off. The log remembers: each posted
voucher's public record is recomputed from today's rows and compared with the leaf hash
stored when it was posted, and the stored tree is compared with every signed checkpoint.
Where a published report holds the original record, the audit also says which field changed.

Every table derived from those rows is recomputed too, since reports and statements read
them instead of the lines: the per-period balances (``account_period_balances``) from the
posted lines, the book's log size from the stored leaves, and its closed-through mark from
the history of closing and reopening (``period_events``).

And the rows around the records that reports, receipts and statements read are checked against
what they copy (issue 9, tests/transparency/test_tamper_every_column.py lists every column):
line numbers, periods and gapless voucher counts, the residents frozen at posting, attachment
bytes against their hash, who prepared, approved and posted (``voucher_events``), every row's
community, the chart's tree and what the latest report published of each account and of the
book, the single-person mode against its policy history, and each report's bytes, period,
checkpoint, predecessor and signing key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.db import db
from ledger import log
from ledger.models import (
    Account,
    AccountPeriodBalance,
    Book,
    BookPolicyChange,
    Fund,
    LogNode,
    Period,
    PeriodEvent,
    Voucher,
    VoucherAttachment,
    VoucherEvent,
    VoucherKind,
    VoucherLine,
    VoucherStatus,
)
from tlog import merkle, notes

from .keys import origin
from .models import Checkpoint, DisclosureReport, SigningKey

BATCH = 2000


@dataclass(frozen=True)
class RebuiltRecord:
    voucher: Voucher
    record: dict
    leaf_hash: bytes
    stored_hash: bytes | None

    @property
    def matches(self) -> bool:
        return self.stored_hash is not None and self.leaf_hash == self.stored_hash


def record_of(voucher: Voucher) -> dict:
    """The voucher's public record as it would be logged now (FORMAT.md §1)."""
    reverses_index = voucher.reverses.log_index if voucher.reverses is not None else None
    return log.public_record(voucher, reverses_index)


def stored_leaves(book_id: int, lo: int, hi: int) -> dict[int, bytes]:
    """Level-0 hashes stored for leaves ``lo … hi−1``."""
    rows = db.session.execute(
        sa.select(LogNode.index, LogNode.hash).where(
            LogNode.book_id == book_id, LogNode.level == 0, LogNode.index >= lo, LogNode.index < hi
        )
    )
    return {int(i): bytes(h) for i, h in rows}


def _vouchers(book_id: int, lo: int, hi: int) -> list[Voucher]:
    return list(
        db.session.scalars(
            sa.select(Voucher)
            .where(Voucher.book_id == book_id, Voucher.log_index >= lo, Voucher.log_index < hi)
            .order_by(Voucher.log_index)
            .options(
                selectinload(Voucher.lines).selectinload(VoucherLine.account),
                selectinload(Voucher.lines).selectinload(VoucherLine.fund),
                selectinload(Voucher.lines).selectinload(VoucherLine.resident),
                selectinload(Voucher.reverses),
            )
        )
    )


def rebuild(book_id: int, lo: int, hi: int) -> Iterator[RebuiltRecord]:
    """Recompute the records of leaves ``lo … hi−1`` from the database rows, in index order,
    in batches so that a million-record book does not sit in memory at once."""
    for start in range(lo, hi, BATCH):
        end = min(start + BATCH, hi)
        stored = stored_leaves(book_id, start, end)
        already = _loaded_voucher_ids()
        batch = _vouchers(book_id, start, end)
        for v in batch:
            record = record_of(v)
            lh = merkle.leaf_hash(log.leaf_bytes(record))
            assert v.log_index is not None  # selected by its log index
            yield RebuiltRecord(v, record, lh, stored.get(v.log_index))
        for v in batch:  # let go of what this batch loaded; keep what the caller holds
            if v.id not in already:
                db.session.expunge(v)  # cascades to its lines


def _loaded_voucher_ids() -> set[int]:
    return {key[1][0] for key in db.session.identity_map.keys() if key[0] is Voucher}


# --- the audit -------------------------------------------------------------------------------


@dataclass
class Finding:
    what: str
    index: int | None = None
    number: str | None = None

    def __str__(self) -> str:
        where = []
        if self.number:
            where.append(self.number)
        if self.index is not None:
            where.append(f"index {self.index}")
        return f"{' '.join(where)}: {self.what}" if where else self.what


@dataclass
class AuditResult:
    book_id: int
    size: int
    checked: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _published_records(book_id: int) -> dict[int, dict]:
    """Original records by index, from every published bundle of the book."""
    out: dict[int, dict] = {}
    for text in db.session.scalars(
        sa.select(DisclosureReport.bundle).where(DisclosureReport.book_id == book_id)
    ):
        bundle = json.loads(text)
        for r in bundle["log"]["records"]:
            out[r["index"]] = r
    return out


def _diff(original: dict, now: dict) -> str:
    """What changed between the published record and today's rows, in words."""
    changes = []
    for key in ("number", "date", "kind", "summary", "reverses", "private"):
        if original.get(key) != now.get(key):
            changes.append(f"{key} {original.get(key)!r} → {now.get(key)!r}")
    old_lines, new_lines = original.get("lines", []), now.get("lines", [])
    if len(old_lines) != len(new_lines):
        changes.append(f"{len(old_lines)} lines → {len(new_lines)} lines")
    for n, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        for key in ("account", "fund", "unit", "debit", "credit"):
            if a.get(key) != b.get(key):
                changes.append(f"line {n} {key} {a.get(key)!r} → {b.get(key)!r}")
    return "; ".join(changes) or "the record's bytes differ"


def audit_book(book: Book) -> AuditResult:
    """Recompute every posted voucher's leaf and the tree's roots; list what disagrees."""
    size = db.session.execute(sa.select(Book.log_size).where(Book.id == book.id)).scalar_one()
    result = AuditResult(book.id, size)
    published = _published_records(book.id)
    periods = _periods(book.id)
    seen: set[int] = set()
    for rb in rebuild(book.id, 0, size):
        v = rb.voucher
        assert v.log_index is not None  # rebuild() selects vouchers by their log index
        seen.add(v.log_index)
        result.checked += 1
        _audit_voucher_rows(v, periods, result)
        if v.status != VoucherStatus.POSTED:
            result.findings.append(
                Finding(f"has a log index but its status is {v.status}", v.log_index, v.number)
            )
        if rb.stored_hash is None:
            result.findings.append(
                Finding("no leaf is stored for this index", v.log_index, v.number)
            )
        elif not rb.matches:
            original = published.get(v.log_index)
            what = "the voucher no longer matches its leaf in the log"
            if original is not None:
                what += f" ({_diff(original, rb.record)})"
            result.findings.append(Finding(what, v.log_index, v.number))
    missing = size - len(seen)
    if missing:
        result.findings.append(
            Finding(f"{missing} log index(es) below {size} have no posted voucher")
        )
    stray = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Voucher)
        .where(
            Voucher.book_id == book.id,
            Voucher.status == VoucherStatus.POSTED.value,
            sa.or_(Voucher.log_index.is_(None), Voucher.log_index >= size),
        )
    )
    if stray:
        result.findings.append(Finding(f"{stray} posted voucher(s) are outside the log"))
    _audit_tree(book, size, result)
    _audit_log_size(book, size, result)
    _audit_balances(book, result)
    _audit_closed_through(book, result)
    _audit_voucher_counts(book, result)
    _audit_signatures(book, size, result)
    _audit_attachments(book, result)
    _audit_communities(book, result)
    _audit_accounts(book, result)
    _audit_book_settings(book, result)
    _audit_reports(book, result)
    return result


# --- derived rows -----------------------------------------------------------------------------


def _audit_log_size(book: Book, size: int, result: AuditResult) -> None:
    """The book's log size is the number of leaves stored (indexes 0 … size−1)."""
    leaves, top = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(LogNode.index)).where(
            LogNode.book_id == book.id, LogNode.level == 0
        )
    ).one()
    if leaves != size or (leaves and top != size - 1):
        result.findings.append(
            Finding(
                f"the book's log size is {size} but {leaves} leaves are stored"
                + (f" (the last at index {top})" if leaves else "")
            )
        )


def recomputed_balances(book_id: int) -> dict[tuple[int, int, str, int], tuple[int, int]]:
    """(account, fund or 0, unit, YYYYMM) → (debit, credit) of the book's posted lines: what
    ``account_period_balances`` must hold. One grouped scan; days are folded into months here
    so that the query is the same on both databases."""
    fund_key = sa.func.coalesce(VoucherLine.fund_id, 0)
    rows = db.session.execute(
        sa.select(
            VoucherLine.account_id,
            fund_key,
            VoucherLine.unit,
            Voucher.date,
            sa.func.sum(VoucherLine.debit),
            sa.func.sum(VoucherLine.credit),
        )
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(Voucher.book_id == book_id, Voucher.status == VoucherStatus.POSTED.value)
        .group_by(VoucherLine.account_id, fund_key, VoucherLine.unit, Voucher.date)
    )
    out: dict[tuple[int, int, str, int], tuple[int, int]] = {}
    for account_id, fund, unit, day, debit, credit in rows:
        key = (int(account_id), int(fund), unit, day.year * 100 + day.month)
        dr, cr = out.get(key, (0, 0))
        out[key] = (dr + int(debit or 0), cr + int(credit or 0))
    return out


def _audit_balances(book: Book, result: AuditResult) -> None:
    """Every per-period balance row against the posted lines (a missing row is zero)."""
    t = AccountPeriodBalance
    stored = {
        (int(a), int(f), u, int(p)): (int(dr), int(cr))
        for a, f, u, p, dr, cr in db.session.execute(
            sa.select(t.account_id, t.fund_key, t.unit, t.period_key, t.debit, t.credit).where(
                t.book_id == book.id
            )
        )
    }
    expected = recomputed_balances(book.id)
    wrong = sorted(
        k
        for k in stored.keys() | expected.keys()
        if stored.get(k, (0, 0)) != expected.get(k, (0, 0))
    )
    if not wrong:
        return
    codes = {
        i: code
        for i, code in db.session.execute(
            sa.select(Account.id, Account.code).where(Account.book_id == book.id)
        )
    }
    funds = {
        i: code
        for i, code in db.session.execute(
            sa.select(Fund.id, Fund.code).where(Fund.book_id == book.id)
        )
    }
    for account_id, fund, unit, period in wrong:
        have, want = (
            stored.get((account_id, fund, unit, period)),
            expected.get((account_id, fund, unit, period), (0, 0)),
        )
        where = f"account {codes.get(account_id, f'#{account_id}')}"
        if fund:
            where += f" fund {funds.get(fund, f'#{fund}')}"
        have_text = "no row" if have is None else f"debit {have[0]} credit {have[1]}"
        result.findings.append(
            Finding(
                f"per-period balance of {where} {unit} {period // 100}-{period % 100:02d}: "
                f"stored {have_text}, the posted lines give debit {want[0]} credit {want[1]}"
            )
        )


def recomputed_closed_through(book_id: int) -> int | None:
    """The closed-through mark the history gives: the latest month whose last event is a close
    (months close in order and only the latest closed month reopens)."""
    latest: dict[int, str] = {}
    rows = db.session.execute(
        sa.select(Period.year, Period.month, PeriodEvent.action)
        .join(PeriodEvent, PeriodEvent.period_id == Period.id)
        .where(Period.book_id == book_id)
        .order_by(PeriodEvent.id)
    )
    for year, month, action in rows:
        latest[year * 100 + month] = action
    closed = [k for k, action in latest.items() if action == "close"]
    return max(closed) if closed else None


def _audit_closed_through(book: Book, result: AuditResult) -> None:
    mark = db.session.scalar(sa.select(Book.closed_through).where(Book.id == book.id))
    expected = recomputed_closed_through(book.id)
    if mark != expected:

        def label(k):
            return "none" if k is None else f"{k // 100}-{k % 100:02d}"

        result.findings.append(
            Finding(
                f"the book is marked closed through {label(mark)}, "
                f"its closing and reopening history gives {label(expected)}"
            )
        )


def _audit_tree(book: Book, size: int, result: AuditResult) -> None:
    """Rebuild the tree from the stored leaves, left to right: every stored subtree hash must
    be the hash of its children, and the root at every signed checkpoint's size must be the
    signed root. Memory stays O(log n): only the compact range is kept."""
    checkpoints = list(
        db.session.scalars(
            sa.select(Checkpoint).where(Checkpoint.book_id == book.id).order_by(Checkpoint.size)
        )
    )
    result.checkpoints = len(checkpoints)
    for cp in checkpoints:
        try:
            text = notes.verify_note(cp.note, cp.key.name, bytes(cp.key.public_key))
            signed = notes.parse_checkpoint(text)
        except notes.NoteError as e:
            result.findings.append(Finding(f"checkpoint of size {cp.size}: {e}"))
            continue
        if (signed.origin, signed.size, signed.root) != (origin(book.id), cp.size, bytes(cp.root)):
            result.findings.append(
                Finding(f"checkpoint of size {cp.size}: its note and its row differ")
            )
    pending = [cp for cp in checkpoints if cp.size > 0]
    if pending and pending[-1].size > size:
        result.findings.append(
            Finding(f"a checkpoint of size {pending[-1].size} was signed, the log has {size}")
        )
    frontier: list[bytes] = []  # hashes of the compact range, largest subtree first
    bad_nodes: list[tuple[int, int]] = []
    step = BATCH * 10
    for start in range(0, size, step):
        end = min(start + step, size)
        stored = stored_leaves(book.id, start, end)
        made: dict[tuple[int, int], bytes] = {}
        for n in range(start, end):
            acc = stored.get(n)
            if acc is None:
                result.findings.append(Finding("the stored leaf is missing", n))
                return
            level, s = 0, n
            while s & 1:
                acc = merkle.node_hash(frontier.pop(), acc)
                level += 1
                made[(level, n >> level)] = acc
                s >>= 1
            frontier.append(acc)
            while pending and pending[0].size == n + 1:
                cp = pending.pop(0)
                if merkle.root_from_compact_range(frontier) != bytes(cp.root):
                    result.findings.append(
                        Finding(f"the stored leaves do not give the root signed at size {cp.size}")
                    )
        interior = _stored_interior(book.id, made)
        bad_nodes += sorted(k for k, h in made.items() if interior.get(k) != h)
    if bad_nodes:
        first = ", ".join(f"level {lv} index {ix}" for lv, ix in bad_nodes[:3])
        result.findings.append(
            Finding(
                f"{len(bad_nodes)} stored subtree hash(es) do not fold to the root of the stored leaves "
                f"(first: {first})"
            )
        )


def _stored_interior(
    book_id: int, wanted: dict[tuple[int, int], bytes]
) -> dict[tuple[int, int], bytes]:
    """Stored hashes of the interior nodes ``wanted``: one primary-key range scan per level."""
    ranges: dict[int, list[int]] = {}
    for level, index in wanted:
        lo_hi = ranges.setdefault(level, [index, index])
        lo_hi[0], lo_hi[1] = min(lo_hi[0], index), max(lo_hi[1], index)
    out: dict[tuple[int, int], bytes] = {}
    for level, (lo, hi) in sorted(ranges.items()):
        rows = db.session.execute(
            sa.select(LogNode.index, LogNode.hash).where(
                LogNode.book_id == book_id, LogNode.level == level, LogNode.index.between(lo, hi)
            )
        )
        out.update({(level, int(ix)): bytes(h) for ix, h in rows})
    return out


# --- the rows around the records ---------------------------------------------------------------
#
# What the record does not carry but reports, receipts and statements read: each is checked
# against what it is derived from (the lines, the frozen private fields, the history tables, the
# published bundles), never trusted.


def _periods(book_id: int) -> dict[int, tuple[int, int]]:
    """Period id → (year, month) of the book's periods."""
    return {
        int(i): (int(y), int(m))
        for i, y, m in db.session.execute(
            sa.select(Period.id, Period.year, Period.month).where(Period.book_id == book_id)
        )
    }


def _audit_voucher_rows(
    v: Voucher, periods: dict[int, tuple[int, int]], result: AuditResult
) -> None:
    """A posted voucher's own rows: numbered lines, accounts and funds of its book, the period
    of its date, and the residents its private fields were frozen with."""

    def find(what: str) -> None:
        result.findings.append(Finding(what, v.log_index, v.number))

    if [ln.line_no for ln in v.lines] != list(range(1, len(v.lines) + 1)):
        find(f"its lines are numbered {[ln.line_no for ln in v.lines]}")
    for ln in v.lines:
        if ln.account.book_id != v.book_id:
            find(f"line {ln.line_no}: account {ln.account.code} belongs to another book")
        if ln.fund is not None and ln.fund.book_id != v.book_id:
            find(f"line {ln.line_no}: fund {ln.fund.code} belongs to another book")
    if v.period_id not in periods or periods[v.period_id] != (v.date.year, v.date.month):
        find("its period is not the month of its date")
    if v.private_json is not None:
        frozen = {int(p["line"]): p["resident"] for p in json.loads(v.private_json) or []}
        now = {ln.line_no: ln.resident_id for ln in v.lines if ln.resident_id is not None}
        if frozen != now:
            find("the residents of its lines are not those it was posted with")


def _audit_voucher_counts(book: Book, result: AuditResult) -> None:
    """Numbering is gapless: each period's count is the number of vouchers posted in it."""
    posted = dict(
        db.session.execute(
            sa.select(Voucher.period_id, sa.func.count())
            .where(Voucher.book_id == book.id, Voucher.status == VoucherStatus.POSTED.value)
            .group_by(Voucher.period_id)
        ).all()
    )
    for pid, year, month, count in db.session.execute(
        sa.select(Period.id, Period.year, Period.month, Period.voucher_count).where(
            Period.book_id == book.id
        )
    ):
        if count != posted.get(pid, 0):
            result.findings.append(
                Finding(
                    f"period {year}-{month:02d} counts {count} vouchers, "
                    f"{posted.get(pid, 0)} are posted in it"
                )
            )


def _audit_attachments(book: Book, result: AuditResult) -> None:
    """A posted voucher's scanned receipts still have the bytes their hash and size name."""
    rows = db.session.execute(
        sa.select(
            Voucher.number,
            Voucher.log_index,
            VoucherAttachment.filename,
            VoucherAttachment.sha256,
            VoucherAttachment.size,
            VoucherAttachment.data,
        )
        .join(Voucher, Voucher.id == VoucherAttachment.voucher_id)
        .where(Voucher.book_id == book.id, Voucher.status == VoucherStatus.POSTED.value)
        .order_by(VoucherAttachment.id)
        .execution_options(yield_per=50)  # files can be large: a few at a time
    )
    for number, index, filename, sha, size, data in rows:
        data = bytes(data)
        if hashlib.sha256(data).hexdigest() != sha or len(data) != size:
            result.findings.append(
                Finding(f"attachment {filename!r} no longer has its hash and size", index, number)
            )


def _audit_communities(book: Book, result: AuditResult) -> None:
    """Every row of the book is in the book's community (the public pages select by it)."""
    c = book.community_id
    # (rows, the book's rows they hang from, how they hang): the book's own tables first.
    owned: list[tuple[Any, Any, Any]] = [
        (model, None, None)
        for model in (
            Voucher,
            Account,
            Fund,
            Period,
            AccountPeriodBalance,
            LogNode,
            Checkpoint,
            DisclosureReport,
        )
    ]
    owned += [
        (child, Voucher, Voucher.id == child.voucher_id)
        for child in (VoucherLine, VoucherAttachment, VoucherEvent)
    ]
    owned += [
        (SigningKey, Checkpoint, Checkpoint.key_id == SigningKey.id),
        (PeriodEvent, Period, Period.id == PeriodEvent.period_id),
    ]
    counts = []
    for model, owner, on in owned:
        q = sa.select(sa.func.count()).select_from(model)
        if owner is not None:
            q = q.join(owner, on)
        q = q.where((owner or model).book_id == book.id, model.community_id != c)
        counts.append((str(model.__tablename__), db.session.scalar(q)))
    for table, n in counts:
        if n:
            result.findings.append(Finding(f"{n} row(s) of {table} are in another community"))


def _latest_bundle(book_id: int) -> dict | None:
    text = db.session.scalar(
        sa.select(DisclosureReport.bundle)
        .where(DisclosureReport.book_id == book_id)
        .order_by(DisclosureReport.period_end.desc())
        .limit(1)
    )
    return json.loads(text) if text is not None else None


def _audit_accounts(book: Book, result: AuditResult) -> None:
    """The chart's tree holds together, and what the latest report published of each account
    (type, side, parent) is still what the book says."""
    accounts = list(db.session.scalars(sa.select(Account).where(Account.book_id == book.id)))
    by_id = {a.id: a for a in accounts}
    parents = {a.parent_id for a in accounts if a.parent_id is not None}
    for a in accounts:
        parent = by_id.get(a.parent_id) if a.parent_id is not None else None
        if a.parent_id is not None and parent is None:
            result.findings.append(Finding(f"account {a.code}: its parent is in another book"))
        elif parent is not None and a.level != parent.level + 1:
            result.findings.append(Finding(f"account {a.code}: its level is {a.level}"))
        # Only one way: an imported account may have sub-accounts and take postings itself.
        if a.has_children and a.id not in parents:
            result.findings.append(Finding(f"account {a.code}: its has-children mark is wrong"))
    bundle = _latest_bundle(book.id)
    if bundle is None:
        return
    by_code = {a.code: a for a in accounts}
    for published in bundle["accounts"]:
        now = by_code.get(published["code"])
        if now is None:
            result.findings.append(
                Finding(f"account {published['code']} of the latest report is gone")
            )
            continue
        parent = by_id.get(now.parent_id) if now.parent_id is not None else None
        current = {
            "type": now.type,
            "normal_side": now.normal_side,
            "parent": parent.code if parent is not None else None,
        }
        for key, value in current.items():
            if published[key] != value:
                result.findings.append(
                    Finding(
                        f"account {now.code}: {key} {published[key]!r} in the latest report, "
                        f"{value!r} now"
                    )
                )


def _audit_book_settings(book: Book, result: AuditResult) -> None:
    """The book's settings that have a history or a published copy."""
    standard, chart, opening_state, single = db.session.execute(
        sa.select(Book.standard, Book.chart, Book.opening_state, Book.single_person_mode).where(
            Book.id == book.id
        )
    ).one()
    bundle = _latest_bundle(book.id)
    if bundle is not None:
        for key, value in (("standard", standard), ("chart", chart)):
            if bundle["book"][key] != value:
                result.findings.append(
                    Finding(
                        f"the book's {key} is {value!r}, its reports say {bundle['book'][key]!r}"
                    )
                )
    # 'posted' says live openings exist: posted, and not reversed by a posted red voucher.
    # (The other states are an admin's choice, or a correction in progress: nothing to derive.)
    red = sa.orm.aliased(Voucher)
    live_openings = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Voucher)
        .where(
            Voucher.book_id == book.id,
            Voucher.status == VoucherStatus.POSTED.value,
            Voucher.kind == VoucherKind.OPENING.value,
            ~sa.exists().where(
                red.reverses_id == Voucher.id, red.status == VoucherStatus.POSTED.value
            ),
        )
    )
    if opening_state == "posted" and not live_openings:
        result.findings.append(
            Finding("the book's openings are marked 'posted', but no live opening voucher is")
        )
    last = db.session.scalar(
        sa.select(BookPolicyChange.value)
        .where(
            BookPolicyChange.book_id == book.id, BookPolicyChange.setting == "single_person_mode"
        )
        .order_by(BookPolicyChange.id.desc())
        .limit(1)
    )
    if bool(single) != (last == "on"):
        result.findings.append(
            Finding(
                f"single-person mode is {'on' if single else 'off'}, its history says {last or 'off'}"
            )
        )


def _audit_reports(book: Book, result: AuditResult) -> None:
    """Each published report: its bytes hash to the stored digest, it names the checkpoint, the
    period and the previous report it is stored with, its checkpoint is this book's, and the
    signing keys are the organisation's and carry their own fingerprints."""
    reports = list(
        db.session.scalars(
            sa.select(DisclosureReport)
            .join(Checkpoint, Checkpoint.id == DisclosureReport.checkpoint_id)
            .where(sa.or_(DisclosureReport.book_id == book.id, Checkpoint.book_id == book.id))
            .order_by(DisclosureReport.id)
        )
    )
    for r in reports:
        label = f"report {r.period_start.isoformat()}..{r.period_end.isoformat()}"

        def find(what: str, label: str = label) -> None:
            result.findings.append(Finding(f"{label}: {what}"))

        if hashlib.sha256(r.bundle.encode()).hexdigest() != r.bundle_sha256:
            find("its bytes no longer hash to its stored digest")
        if r.book_id != book.id or r.checkpoint.book_id != book.id:
            find("it and its checkpoint are of different books")
        try:
            bundle = json.loads(r.bundle)
        except ValueError:
            find("its bundle is not JSON")
            continue
        period = bundle.get("period", {})
        if (period.get("start"), period.get("end")) != (
            r.period_start.isoformat(),
            r.period_end.isoformat(),
        ):
            find(f"its bundle covers {period.get('start')}..{period.get('end')}")
        if bundle.get("checkpoint") != r.checkpoint.note:
            find("its bundle holds another checkpoint than the one it is stored with")
        previous = bundle.get("previous")
        stored_previous = r.previous
        if (previous is None) != (stored_previous is None) or (
            previous is not None
            and stored_previous is not None
            and previous.get("checkpoint") != stored_previous.checkpoint.note
        ):
            find("its bundle names another previous report than the one it is stored with")
    keys = db.session.scalars(
        sa.select(SigningKey)
        .where(SigningKey.id.in_(sa.select(Checkpoint.key_id).where(Checkpoint.book_id == book.id)))
        .order_by(SigningKey.id)
    )
    for key in keys:
        if notes.fingerprint(bytes(key.public_key)) != key.fingerprint:
            result.findings.append(Finding(f"signing key {key.name}: its fingerprint is wrong"))
        if key.organisation_id != book.organisation_id:
            result.findings.append(
                Finding(f"signing key {key.name} belongs to another organisation than the book")
            )


def _audit_signatures(book: Book, size: int, result: AuditResult) -> None:
    """Who prepared, approved and posted each posted voucher, and when it was posted, are what
    its history (``voucher_events``) says: the voucher's columns are a copy of it. In batches of
    log indexes, so that memory does not grow with the book."""
    for lo in range(0, size, BATCH):
        _audit_signatures_of(book, lo, min(lo + BATCH, size), result)


def _audit_signatures_of(book: Book, lo: int, hi: int, result: AuditResult) -> None:
    in_batch = (
        Voucher.book_id == book.id,
        Voucher.status == VoucherStatus.POSTED.value,
        Voucher.log_index >= lo,
        Voucher.log_index < hi,
    )
    history: dict[int, dict[str, tuple[int | None, object]]] = {}
    rows = db.session.execute(
        sa.select(
            VoucherEvent.voucher_id, VoucherEvent.action, VoucherEvent.user_id, VoucherEvent.at
        )
        .join(Voucher, Voucher.id == VoucherEvent.voucher_id)
        .where(*in_batch, VoucherEvent.action.in_(("created", "approved", "posted")))
        .order_by(VoucherEvent.id)
    )
    for vid, action, user, at in rows:
        seen = history.setdefault(int(vid), {})
        if action == "created" and "created" in seen:
            continue  # the first creation is the preparer's
        seen[action] = (user, at)
    vouchers = db.session.execute(
        sa.select(
            Voucher.id,
            Voucher.number,
            Voucher.log_index,
            Voucher.prepared_by_id,
            Voucher.approved_by_id,
            Voucher.posted_by_id,
            Voucher.posted_at,
        )
        .where(*in_batch)
        .order_by(Voucher.log_index)
    )
    for vid, number, index, prepared, approved, posted_by, posted_at in vouchers:
        events = history.get(int(vid), {})
        wrong = []
        if "posted" not in events:
            wrong.append("it has no posting in its history")
        elif events["posted"] != (posted_by, posted_at):
            wrong.append("its poster or posting time is not its history's")
        if "approved" in events and events["approved"][0] != approved:
            wrong.append("its approver is not its history's")
        if "created" in events and events["created"][0] != prepared:
            wrong.append("its preparer is not its history's")
        for what in wrong:
            result.findings.append(Finding(what, index, number))
