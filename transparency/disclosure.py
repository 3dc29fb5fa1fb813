# SPDX-License-Identifier: AGPL-3.0-or-later
"""Disclosure reports (财务公开报告): building and publishing the bundle one verifies.

The bundle (FORMAT.md §3) carries everything a verifier needs to recompute, without trusting
us, the checkpoint's root from the period's records, the closing balances from the opening
ones and every statement line from the balances. Building it here follows the same rules the
verifier checks, and before anything is published the server re-derives each record from the
vouchers and compares it with the leaf stored at posting time: if the log and the books
disagree, nothing is published.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from collections import defaultdict

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import defer

from core.audit import note
from core.auth import require_role
from core.db import db
from core.downloads import csv_text
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Community, Organisation, Role, User
from ledger import charts, log, signals
from ledger.models import Account, AccountPeriodBalance, Book, Fund, Voucher, VoucherStatus
from tlog import bundle_math as bm
from tlog import merkle, notes

from . import public_checks
from .audit import rebuild
from .checkpoints import LogInconsistent, locked_log_size, sign_checkpoint
from .keys import origin, private_key_for, public_key_json
from .models import DisclosureReport, SigningKey

BUNDLE_FORMAT = "commons-ledger/disclosure/1"
PUBLISH_ROLES = (Role.ADMIN, Role.REVIEWER)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

BalanceKey = tuple[str, str | None, str]  # (account code, fund code or None, unit)


# --- months -----------------------------------------------------------------------------------


def parse_month(text: str, field: str = "period") -> int:
    """'2026-08' → 202608, or a clear 422."""
    m = _MONTH.match((text or "").strip())
    if not m or not (1 <= int(m.group(2)) <= 12) or int(m.group(1)) < 1900:
        raise InvalidInput(
            _l("Give the month as YYYY-MM, e.g. 2026-08."),
            errors={field: [str(_l("Not a month."))]},
        )
    return int(m.group(1)) * 100 + int(m.group(2))


def month_label(key: int) -> str:
    return f"{key // 100}-{key % 100:02d}"


def next_month(key: int) -> int:
    y, m = divmod(key, 100)
    return (y + 1) * 100 + 1 if m == 12 else key + 1


def first_day(key: int) -> dt.date:
    return dt.date(key // 100, key % 100, 1)


def last_day(key: int) -> dt.date:
    return first_day(next_month(key)) - dt.timedelta(days=1)


def month_key(d: dt.date) -> int:
    return d.year * 100 + d.month


# --- reading reports --------------------------------------------------------------------------


def get_report(report_id: int) -> DisclosureReport:
    report = db.session.get(DisclosureReport, report_id)
    if report is None:
        raise NotFound(_l("No such report."))
    return report


def reports_of(book_id: int) -> list[DisclosureReport]:
    """A book's reports, oldest first; each bundle (megabytes) is read only when used."""
    return list(
        db.session.scalars(
            sa.select(DisclosureReport)
            .options(defer(DisclosureReport.bundle))
            .where(DisclosureReport.book_id == book_id)
            .order_by(DisclosureReport.period_start)
        )
    )


def latest_report(book_id: int) -> DisclosureReport | None:
    return db.session.scalar(
        sa.select(DisclosureReport)
        .where(DisclosureReport.book_id == book_id)
        .order_by(DisclosureReport.period_end.desc())
        .limit(1)
    )


def pending_records(bundle: dict) -> list[dict]:
    """Records of a bundle dated after its period: they belong to a later report."""
    end = bundle["period"]["end"]
    carried = [c["record"] for c in bundle["carried_records"]]
    return sorted(
        (r for r in (*carried, *bundle["log"]["records"]) if r["date"] > end),
        key=lambda r: r["index"],
    )


def used_records(bundle: dict) -> list[dict]:
    """The records a bundle's figures are computed from (FORMAT.md §3)."""
    end = bundle["period"]["end"]
    carried = [c["record"] for c in bundle["carried_records"]]
    return sorted(
        (r for r in (*carried, *bundle["log"]["records"]) if r["date"] <= end),
        key=lambda r: r["index"],
    )


# --- balances and statements ------------------------------------------------------------------


def _balances_json(sums: dict[BalanceKey, int]) -> list[dict]:
    keys = sorted(
        (k for k, v in sums.items() if v), key=lambda k: (k[0], k[1] is not None, k[1] or "", k[2])
    )
    return [{"account": a, "fund": f, "unit": u, "balance": sums[(a, f, u)]} for a, f, u in keys]


def _balances_dict(entries: list[dict]) -> dict[BalanceKey, int]:
    out: dict[BalanceKey, int] = defaultdict(int)
    for e in entries:
        out[(e["account"], e["fund"], e["unit"])] += e["balance"]
    return out


def _movements(records: list[dict]) -> dict[BalanceKey, int]:
    out: dict[BalanceKey, int] = defaultdict(int)
    for r in records:
        for line in r["lines"]:
            out[(line["account"], line["fund"], line["unit"])] += line["debit"] - line["credit"]
    return out


def _by_code(sums: dict[BalanceKey, int], unit: str, normal_side: dict[str, str]) -> dict[str, int]:
    """Base-unit balances per account code, over all funds, in the normal-side direction."""
    out: dict[str, int] = defaultdict(int)
    for (code, _fund, u), value in sums.items():
        if u == unit:
            out[code] += value if normal_side[code] == "debit" else -value
    return dict(out)


def build_statements(
    chart: str,
    accounts: list[dict],
    closing: dict[BalanceKey, int],
    movements: dict[BalanceKey, int],
    unit: str,
) -> list[dict]:
    """Every statement of the chart, lines copied from the layout with the computed amount."""
    if chart not in charts.STANDARDS:
        return []  # CUSTOM (imported) charts have no official layout
    normal_side = {a["code"]: a["normal_side"] for a in accounts}
    out = []
    for name in charts.statements_for(chart):
        layout = charts.load_layout(chart, name)
        source = closing if name == "balance_sheet" else movements
        amounts = charts.evaluate(layout, _by_code(source, unit, normal_side))
        out.append(
            {
                "statement": layout.statement,
                "form_code": layout.form_code,
                "title_zh": layout.title_zh,
                "title_en": layout.title_en,
                "columns": list(layout.columns),
                "lines": [
                    {
                        "key": ln.key,
                        "line_no": ln.line_no,
                        "label_zh": ln.label_zh,
                        "label_en": ln.label_en,
                        "kind": ln.kind,
                        "accounts": [{"code": a.code, "sign": a.sign} for a in ln.accounts],
                        "sum": [t.key if t.sign == 1 else f"-{t.key}" for t in ln.sum],
                        "memo": ln.memo,
                        "side": ln.side,
                        "indent": ln.indent,
                        "amount": amounts.get(ln.key),
                    }
                    for ln in layout.lines
                ],
            }
        )
    return out


def _accounts(book: Book) -> list[dict]:
    accounts = db.session.scalars(
        sa.select(Account).where(Account.book_id == book.id).order_by(Account.code)
    ).all()
    code_of: dict[int | None, str] = {a.id: a.code for a in accounts}
    return [
        {
            "code": a.code,
            "name_zh": a.name_zh,
            "name_en": a.name_en,
            "type": a.type,
            "normal_side": a.normal_side,
            "parent": code_of.get(a.parent_id),
        }
        for a in accounts
    ]


def _book_balances_through(book: Book, end_key: int) -> dict[BalanceKey, int]:
    """The ledger's own per-period balances summed through ``end_key``: an independent path
    to the closing balances, used to check the bundle before it is published."""
    fund_code = Fund.code  # NULL for fund_key 0 (no fund): the outer join finds no fund
    rows = db.session.execute(
        sa.select(
            Account.code,
            fund_code,
            AccountPeriodBalance.unit,
            sa.func.sum(AccountPeriodBalance.debit - AccountPeriodBalance.credit),
        )
        .join(Account, Account.id == AccountPeriodBalance.account_id)
        .outerjoin(Fund, Fund.id == AccountPeriodBalance.fund_key)
        .where(AccountPeriodBalance.book_id == book.id, AccountPeriodBalance.period_key <= end_key)
        .group_by(Account.code, fund_code, AccountPeriodBalance.unit)
    )
    return {(c, f, u): int(v) for c, f, u, v in rows if v}


# --- publishing -------------------------------------------------------------------------------


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _disagree(index: int, number: str | None) -> LogInconsistent:
    return LogInconsistent(
        _l(
            "The log and the books disagree at record %(index)d (voucher %(number)s). Nothing was "
            "published. Run the tamper audit.",
            index=index,
            number=number or "?",
        )
    )


def _log_segment(book: Book, first: int, size: int) -> list[dict]:
    records = []
    expected = first
    for rb in rebuild(book.id, first, size):
        if (
            rb.voucher.log_index != expected
            or not rb.matches
            or rb.voucher.status != VoucherStatus.POSTED
        ):
            raise _disagree(
                expected, rb.voucher.number if rb.voucher.log_index == expected else None
            )
        records.append(rb.record)
        expected += 1
    if expected != size:
        raise _disagree(expected, None)
    return records


def _carried(book: Book, previous_bundle: dict, size: int) -> list[dict]:
    records = pending_records(previous_bundle)
    out = []
    proved = log.leaves_with_proofs(book.id, [r["index"] for r in records], size)
    for record, (stored, proof) in zip(records, proved, strict=True):
        if stored is None or stored != merkle.leaf_hash(log.leaf_bytes(record)):
            raise _disagree(record["index"], record.get("number"))
        out.append({"record": record, "inclusion_proof": _b64(proof)})
    return out


def _check_period(book: Book, start: int, end: int, previous: DisclosureReport | None) -> None:
    if start > end:
        raise InvalidInput(
            _l("The period ends before it starts."), errors={"to": [str(_l("Before the start."))]}
        )
    if book.closed_through is None or book.closed_through < end:
        first_open = (
            start if book.closed_through is None else max(start, next_month(book.closed_through))
        )
        raise Conflict(
            _l(
                "%(period)s is not closed yet. A report is published only for closed months: close "
                "the period first.",
                period=month_label(first_open),
            ),
            code="period_open",
        )
    if previous is not None:
        prev_end = month_key(previous.period_end)
        if start <= prev_end:
            raise Conflict(
                _l(
                    "A report covering %(period)s has already been published. Published reports "
                    "never change; the next report starts at %(next)s.",
                    period=month_label(max(start, month_key(previous.period_start))),
                    next=month_label(next_month(prev_end)),
                ),
                code="already_published",
            )
        if start != next_month(prev_end):
            raise Conflict(
                _l(
                    "Reports follow each other without gaps: the next report of this book starts at "
                    "%(next)s.",
                    next=month_label(next_month(prev_end)),
                ),
                code="gap",
            )
        return
    first_date = db.session.scalar(
        sa.select(sa.func.min(Voucher.date)).where(
            Voucher.book_id == book.id, Voucher.status == VoucherStatus.POSTED.value
        )
    )
    if first_date is not None and month_key(first_date) < start:
        raise Conflict(
            _l(
                "This is the book's first report, so it starts from the book's first record: "
                "start at %(period)s or earlier.",
                period=month_label(month_key(first_date)),
            ),
            code="first_report_start",
        )


def bundle_note_text(bundle: dict) -> str:
    """What a bundle's ``signature`` signs (FORMAT.md §3): the book, the period and the SHA-256
    of the canonical bundle without the signature. The checkpoint signs only the log; this
    signs the labels, line definitions, accounts and period that the arithmetic cannot."""
    period = bundle["period"]
    return bm.bundle_note_text(bundle, origin(bundle["book"]["id"]), period["start"], period["end"])


def sign_bundle(bundle: dict, key: SigningKey) -> str:
    """The signed note for ``bundle`` by the organisation's key (key name = checkpoint origin)."""
    if key.name != origin(bundle["book"]["id"]):
        raise Conflict(_l("The organisation's signing key is named for another book."))
    return notes.sign_note(bundle_note_text(bundle), key.name, private_key_for(key))


def publish_report(
    book: Book,
    start_month: str,
    end_month: str | None = None,
    *,
    actor: User | None,
    publisher_note: str | None = None,
) -> DisclosureReport:
    """Publish the disclosure report of the months ``start_month`` … ``end_month`` (YYYY-MM).

    ``actor`` None is the operator at the command line (no role check, no publisher).
    A report the pre-publication checks warn about (transparency.public_checks: a negative
    cash, inventory or fixed-asset line, an unbalanced balance sheet) is refused unless
    ``publisher_note`` explains it; the note and the warnings appear on the public page.
    """
    organisation = db.session.get_one(Organisation, book.organisation_id)
    if actor is not None:
        require_role(organisation, *PUBLISH_ROLES, user=actor)
    start = parse_month(start_month, "period")
    end = parse_month(end_month, "to") if end_month else start
    size = locked_log_size(book)  # one publisher per book at a time; posting waits
    db.session.refresh(book)
    previous = latest_report(book.id)
    _check_period(book, start, end, previous)
    if size == 0:
        raise Conflict(
            _l("Nothing has been posted in this book yet, so there is nothing to publish."),
            code="empty_log",
        )

    checkpoint = sign_checkpoint(book)
    if checkpoint.size != size:  # cannot happen while the head row is locked
        raise Conflict(_l("Vouchers were posted while the report was built. Please try again."))
    previous_bundle = json.loads(previous.bundle) if previous else None
    first = previous.checkpoint.size if previous else 0
    records = _log_segment(book, first, size)
    carried = _carried(book, previous_bundle, size) if previous_bundle else []
    accounts = _accounts(book)
    period_end = last_day(end).isoformat()
    bundle = {
        "format": BUNDLE_FORMAT,
        "book": {
            "id": book.id,
            "organisation": organisation.name,
            "community": db.session.get_one(Community, book.community_id).name,
            "standard": book.standard,
            "chart": book.chart,
        },
        "period": {"start": first_day(start).isoformat(), "end": period_end},
        "public_key": public_key_json(checkpoint.key),
        "checkpoint": checkpoint.note,
        "previous": None,
        "log": {
            "first_index": first,
            "compact_range": _b64(log.compact_range_hashes(book.id, first)),
            "records": records,
        },
        "carried_records": carried,
        "accounts": accounts,
        "opening_balances": previous_bundle["closing_balances"] if previous_bundle else [],
    }
    if previous is not None:
        bundle["previous"] = {
            "checkpoint": previous.checkpoint.note,
            "consistency_proof": _b64(
                log.consistency_proof(book.id, previous.checkpoint.size, size)
            ),
            "period_end": previous.period_end.isoformat(),
        }
    used = used_records(bundle)
    closing = _balances_dict(bundle["opening_balances"])
    for k, v in _movements(used).items():
        closing[k] += v
    closing = {k: v for k, v in closing.items() if v}
    if closing != _book_balances_through(book, end):
        raise LogInconsistent(
            _l(
                "The records in the log do not add up to the ledger's balances at %(period)s. Nothing "
                "was published. Run the tamper audit.",
                period=month_label(end),
            )
        )
    bundle["closing_balances"] = _balances_json(closing)
    movements = _movements([r for r in used if r["kind"] != "closing"])
    bundle["statements"] = build_statements(
        book.chart, accounts, closing, movements, book.base_unit
    )
    warnings = public_checks.sanity_warnings(bundle)
    publisher_note = public_checks.require_note(warnings, publisher_note, book.community_id)
    bundle["signature"] = sign_bundle(bundle, checkpoint.key)

    text = json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))
    report = DisclosureReport(
        community_id=book.community_id,
        book_id=book.id,
        period_start=first_day(start),
        period_end=last_day(end),
        checkpoint_id=checkpoint.id,
        previous_id=previous.id if previous else None,
        bundle=text,
        bundle_sha256=hashlib.sha256(text.encode()).hexdigest(),
        published_by_id=getattr(actor, "id", None),
        publisher_note=publisher_note,
        sanity_warnings=public_checks.warnings_json(warnings),
    )
    db.session.add(report)
    db.session.flush()
    signals.report_published.send(
        book,
        report_id=report.id,
        period_start=report.period_start,
        period_end=report.period_end,
        actor=actor,
    )
    note(
        book_id=book.id,
        report_id=report.id,
        period=report.label,
        checkpoint_size=size,
        organisation_id=organisation.id,
        community_id=organisation.community_id,
    )
    return report


# --- downloads --------------------------------------------------------------------------------


def bundle_filename(report: DisclosureReport, ext: str = "json") -> str:
    return f"commons-ledger-{report.book_id}-{report.label.replace(' – ', '_')}.{ext}"


# The public CSV's columns, in the reader's language (Chinese by default, English with the
# language switch). Amounts are in yuan (元) with two decimals for CNY lines, so that a
# spreadsheet re-totals them as they are; a line in another unit (points) is in that unit.
CSV_HEADER = [
    _l("Log index"),
    _l("Voucher number"),
    _l("Date"),
    _l("Kind"),
    _l("Summary"),
    _l("Line"),
    _l("Account code"),
    _l("Account name"),
    _l("Fund"),
    _l("Unit"),
    _l("Debit"),
    _l("Credit"),
    _l("Reverses log index"),
    _l("Privacy commitment"),
]
CSV_KINDS = {
    "normal": _l("Normal"),
    "reversal": _l("Reversal"),
    "closing": _l("Year-end closing"),
    "opening": _l("Opening"),
}
CSV_UNITS = {"CNY": _l("yuan")}


def csv_amount(minor: int, unit: str) -> str:
    """fen → ``1234.56`` (yuan, exact); another unit's amount as it is."""
    if unit != "CNY":
        return str(minor)
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def report_csv(report: DisclosureReport, summary_text=None, *, english: bool = False) -> str:
    """The records the report's figures come from, one row per line: headers in the reader's
    language, account code and name, amounts in yuan, so anyone can re-total them in a
    spreadsheet (core.downloads' one CSV writer: UTF-8 with a BOM, formulas escaped).
    ``summary_text(summary)`` gives what the CSV shows of a summary (the public pages' privacy
    screen, see transparency.public.PersonalDataScreen)."""
    bundle = json.loads(report.bundle)
    names = {
        a["code"]: (a.get("name_en") if english and a.get("name_en") else a.get("name_zh")) or ""
        for a in bundle.get("accounts", [])
    }
    rows: list[list[object]] = [[str(h) for h in CSV_HEADER]]
    for r in used_records(bundle):
        committed = {c["line"]: c["commitment"] for c in r["private"] or []}  # per line (FORMAT §1)
        for n, line in enumerate(r["lines"], start=1):
            unit = line["unit"]
            rows.append(
                [
                    r["index"],
                    r["number"],
                    r["date"],
                    str(CSV_KINDS.get(r["kind"], r["kind"])),
                    summary_text(r["summary"]) if summary_text else r["summary"],
                    n,
                    line["account"],
                    names.get(line["account"], ""),
                    line["fund"] or "",
                    str(CSV_UNITS.get(unit, unit)),
                    csv_amount(line["debit"], unit),
                    csv_amount(line["credit"], unit),
                    "" if r["reverses"] is None else r["reverses"],
                    committed.get(n, ""),
                ]
            )
    return csv_text(rows)  # text cells that start like a formula are escaped (core.downloads)
