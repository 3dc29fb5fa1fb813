"""Valid disclosure bundles and receipts from synthetic records, without a database.

Built from FORMAT.md alone and deliberately with *other* code than the verifier where an
independent implementation exists, so the tests compare two implementations rather than one
with itself: leaves are canonicalised with the ``rfc8785`` package (as the server does), the
tree and proofs come from ``tlog.merkle``'s node store, and statement amounts from
``ledger.charts.evaluate`` (code-prefix roll-up) over the chart's real layouts.

Typical use::

    book = SyntheticBook(book_id=7, seed=1)
    bundles = book.monthly_reports(months=3, per_month=20)   # one bundle dict per month
    receipt = book.receipt(book.private_indices()[0])        # against the latest checkpoint
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import charts
from tlog import merkle, notes

DISCLOSURE_FORMAT = "commons-ledger/disclosure/1"
RECEIPT_FORMAT = "commons-ledger/receipt/1"
HOST = "ledger.test"  # the public host in synthetic origins: <host>/commons-ledger/<book id>

RESIDENTS = [
    (3, "张秀英", "1栋1单元101"),
    (4, "李建国", "1栋2单元502"),
    (5, "王芳", "2栋1单元303"),
    (6, 'O\'Brien "Pat"', "3栋\\4\n单元"),  # characters JSON escapes
]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _month_end(d: dt.date) -> dt.date:
    nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def _add_month(d: dt.date) -> dt.date:
    return _month_end(d) + dt.timedelta(days=1)


@dataclass
class Posted:
    record: dict
    salt: bytes | None = None
    private: list | None = None


@dataclass
class SyntheticBook:
    """One book's log, built voucher by voucher, from which reports and receipts are cut."""

    book_id: int = 7
    seed: int = 0
    standard: str = "TRUST_FUND"
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    posted: list[Posted] = field(default_factory=list)
    store: merkle.InMemoryNodeStore = field(default_factory=merkle.InMemoryNodeStore)
    # (size, period_start, period_end, bundle) of each report cut so far.
    reports: list[tuple[int, dt.date, dt.date, dict]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.chart = charts.load_chart(self.standard)
        self.posting_codes = [
            a.code for a in self.chart if not any(b.parent_code == a.code for b in self.chart)
        ]

    # ------------------------------------------------------------------ keys and notes
    @property
    def origin(self) -> str:
        return f"{HOST}/commons-ledger/{self.book_id}"

    def public_key(self) -> dict:
        return notes.public_key_json(self.origin, self.key)

    def checkpoint(self, size: int, root: bytes | None = None, origin: str | None = None) -> str:
        """A signed checkpoint of the first ``size`` leaves (or of any root, for tampering)."""
        root = self.store.root(size) if root is None else root
        origin = origin or self.origin
        return notes.sign_note(notes.format_checkpoint(origin, size, root), origin, self.key)

    # ------------------------------------------------------------------ posting
    def post(
        self,
        date: dt.date,
        lines: Sequence[tuple[str, int, int]] | Sequence[Mapping],
        *,
        kind: str = "normal",
        summary: str = "",
        resident: tuple[int, str, str] | None = None,
        reverses: int | None = None,
        residents: Mapping[int, tuple[int, str, str]] | None = None,
    ) -> dict:
        """``resident`` pays on line 1; ``residents`` maps line numbers to residents (co-payers)."""
        index = len(self.posted)
        rec_lines = []
        for ln in lines:
            if isinstance(ln, Mapping):
                rec_lines.append(dict(ln))
            else:
                code, debit, credit = ln
                rec_lines.append(
                    {"account": code, "fund": None, "unit": "CNY", "debit": debit, "credit": credit}
                )
        salt = private = None
        commitment = None
        by_line = dict(residents or {})
        if resident is not None:
            by_line[1] = resident
        if by_line:
            salt = self.rng.randbytes(16)
            private = [
                {"line": n, "resident": rid, "name": name, "unit": unit}
                for n, (rid, name, unit) in sorted(by_line.items())
            ]
            # FORMAT.md §1: one commitment per line, each with its own HMAC-derived salt.
            commitment = [
                {
                    "line": p["line"],
                    "commitment": hashlib.sha256(
                        line_salt(salt, p["line"]) + rfc8785.dumps(p)
                    ).hexdigest(),
                }
                for p in private
            ]
        record = {
            "v": 1,
            "book": self.book_id,
            "index": index,
            "number": f"记-{date:%Y-%m}-{index + 1:04d}",
            "date": date.isoformat(),
            "kind": kind,
            "summary": summary or f"凭证 {index + 1}",
            "lines": rec_lines,
            "reverses": reverses,
            "private": commitment,
        }
        self.posted.append(Posted(record, salt, private))
        self.store.append(merkle.leaf_hash(rfc8785.dumps(record)))
        return record

    def random_voucher(self, date: dt.date) -> dict:
        """One plausible trust-fund voucher (fees, common-parts income, costs, points)."""
        r = self.rng
        amount = r.randint(1, 500_000)
        choice = r.random()
        if choice < 0.30:
            return self.post(
                date,
                [("1002", amount, 0), ("4101", 0, amount)],
                summary="收取物业费",
                resident=r.choice(RESIDENTS),
            )
        if choice < 0.40:
            return self.post(date, [("1122", amount, 0), ("4101", 0, amount)], summary="应收物业费")
        if choice < 0.50:
            sub = r.choice(["420101", "420102", "420103", "420109"])
            return self.post(date, [("1002", amount, 0), (sub, 0, amount)], summary="公共收益")
        if choice < 0.75:
            exp = r.choice(["5101", "5102", "5103", "5104", "5105", "5106", "5201", "5301"])
            return self.post(date, [(exp, amount, 0), ("1002", 0, amount)], summary="支付费用")
        if choice < 0.82:
            return self.post(date, [("5901", amount, 0), ("220901", 0, amount)], summary="计提酬金")
        if choice < 0.88:
            return self.post(
                date,
                [("1003", amount, 0), ("3103", 0, amount)],
                summary="维修资金缴存",
                resident=r.choice(RESIDENTS),
            )
        if choice < 0.93:
            fund = {"account": "1002", "fund": "F1", "unit": "CNY", "debit": amount, "credit": 0}
            other = {"account": "2203", "fund": "F1", "unit": "CNY", "debit": 0, "credit": amount}
            return self.post(date, [fund, other], summary="预收物业费")
        if choice < 0.96:
            pts = r.randint(1, 1000)
            return self.post(
                date,
                [
                    {"account": "1221", "fund": None, "unit": "pt", "debit": pts, "credit": 0},
                    {"account": "4901", "fund": None, "unit": "pt", "debit": 0, "credit": pts},
                ],
                summary="积分",
            )
        # A red reversal (红字冲销) of an earlier normal voucher, when there is one.
        normals = [p.record for p in self.posted[-40:] if p.record["kind"] == "normal"]
        if not normals:
            return self.post(date, [("1001", amount, 0), ("220902", 0, amount)], summary="收押金")
        orig = r.choice(normals)
        lines = [dict(ln, debit=-ln["debit"], credit=-ln["credit"]) for ln in orig["lines"]]
        return self.post(
            date, lines, kind="reversal", summary=f"冲销 {orig['number']}", reverses=orig["index"]
        )

    def year_end_closing(self, date: dt.date) -> dict | None:
        """Close every revenue and expense balance (CNY) to 3101 (年末结转)."""
        bal: dict[str, int] = {}
        for p in self.posted:
            for ln in p.record["lines"]:
                if ln["unit"] == "CNY" and ln["account"][0] in "45":
                    bal[ln["account"]] = bal.get(ln["account"], 0) + ln["debit"] - ln["credit"]
        lines = []
        net = 0
        for code, b in sorted(bal.items()):
            if b:
                lines.append((code, 0, b) if b > 0 else (code, -b, 0))
                net += b
        if not lines:
            return None
        lines.append(("3101", net, 0) if net > 0 else ("3101", 0, -net))
        return self.post(date, lines, kind="closing", summary="年末结转")

    # ------------------------------------------------------------------ reports
    def monthly_reports(
        self,
        months: int = 3,
        per_month: int = 20,
        *,
        start: dt.date = dt.date(2026, 10, 1),
        early: int = 2,
        far: int = 1,
        year_end: bool = True,
    ) -> list[dict]:
        """Post ``per_month`` vouchers a month and publish a report after each month, with
        ``early`` vouchers of the next month and ``far`` of the month after already posted
        (pending records, carried once or twice)."""
        month_dates = []
        m = start
        for _ in range(months + 2):
            days = sorted(self.rng.randint(1, _month_end(m).day) for _ in range(per_month))
            month_dates.append([m.replace(day=d) for d in days])
            m = _add_month(m)
        queue = [list(ds) for ds in month_dates]
        m = start
        bundles = []
        for k in range(months):
            for d in queue[k]:
                self.random_voucher(d)
            queue[k] = []
            end = _month_end(m)
            if year_end and end.month == 12:
                self.year_end_closing(end)
            for d in queue[k + 1][:early]:
                self.random_voucher(d)
            queue[k + 1] = queue[k + 1][early:]
            for d in queue[k + 2][:far]:
                self.random_voucher(d)
            queue[k + 2] = queue[k + 2][far:]
            bundles.append(self.publish(m, end))
            m = _add_month(m)
        return bundles

    def publish(self, period_start: dt.date, period_end: dt.date) -> dict:
        """The bundle for a period, cut at the current log size, chained to the last report."""
        size = len(self.posted)
        prev = self.reports[-1] if self.reports else None
        first = prev[0] if prev else 0
        prev_end = prev[2] if prev else None
        segment = [p.record for p in self.posted[first:size]]
        # The previous report's pending records: everything posted before it, dated after it.
        carried = [
            p.record
            for p in self.posted[:first]
            if prev_end is not None and dt.date.fromisoformat(p.record["date"]) > prev_end
        ]
        used = [r for r in segment + carried if dt.date.fromisoformat(r["date"]) <= period_end]
        opening = prev[3]["closing_balances"] if prev else []
        closing = _apply(_balances(opening), used)
        bundle = {
            "format": DISCLOSURE_FORMAT,
            "book": {
                "id": self.book_id,
                "organisation": "幸福里业主大会",
                "community": "幸福里小区",
                "standard": self.standard,
                "chart": self.standard,
            },
            "period": {"start": period_start.isoformat(), "end": period_end.isoformat()},
            "public_key": self.public_key(),
            "checkpoint": self.checkpoint(size),
            "previous": None
            if prev is None
            else {
                "checkpoint": prev[3]["checkpoint"],
                "consistency_proof": [
                    b64(h)
                    for h in merkle.consistency_proof_from_nodes(first, size, self.store.get_node)
                ]
                if first
                else [],
                "period_end": prev_end.isoformat(),
            },
            "log": {
                "first_index": first,
                "compact_range": [
                    b64(self.store.get_node(lv, ix)) for lv, ix in merkle.compact_range(first)
                ],
                "records": copy.deepcopy(segment),
            },
            "carried_records": [
                {
                    "record": copy.deepcopy(r),
                    "inclusion_proof": [
                        b64(h)
                        for h in merkle.inclusion_proof_from_nodes(
                            size, r["index"], self.store.get_node
                        )
                    ],
                }
                for r in carried
            ],
            "accounts": [
                {
                    "code": a.code,
                    "name_zh": a.name_zh,
                    "name_en": a.name_en,
                    "type": a.type,
                    "normal_side": a.normal_side,
                    "parent": a.parent_code,
                }
                for a in self.chart
            ],
            "opening_balances": copy.deepcopy(opening),
            "closing_balances": _to_json(closing),
            "statements": self.statements(
                closing, _apply({}, [r for r in used if r["kind"] != "closing"])
            ),
        }
        self.sign_bundle(bundle)
        self.reports.append((size, period_start, period_end, bundle))
        return bundle

    def sign_bundle(
        self, bundle: dict, *, period: tuple[str, str] | None = None, book_id: int | None = None
    ) -> dict:
        """(Re)sign a bundle (FORMAT.md §3 ``signature``), e.g. after tampering with it, so only
        the checks after the signature can notice; ``period``/``book_id`` sign other values."""
        unsigned = {k: v for k, v in bundle.items() if k != "signature"}
        digest = hashlib.sha256(rfc8785.dumps(unsigned)).hexdigest()
        start, end = period or (bundle["period"]["start"], bundle["period"]["end"])
        text = f"{HOST}/commons-ledger/{book_id or self.book_id}/report\n{start}..{end}\n{digest}\n"
        bundle["signature"] = notes.sign_note(text, self.origin, self.key)
        return bundle

    def statements(self, closing: Mapping, movement: Mapping) -> list[dict]:
        normal = {a.code: a.normal_side for a in self.chart}
        out = []
        for name in charts.statements_for(self.standard):
            layout = charts.load_layout(self.standard, name)
            source = closing if name == "balance_sheet" else movement
            by_code: dict[str, int] = {}
            for (code, _fund, unit), v in source.items():
                if unit == "CNY":
                    by_code[code] = by_code.get(code, 0) + charts.normal_balance(normal[code], v, 0)
            amounts = charts.evaluate(layout, by_code)
            lines = []
            for ln in layout.lines:
                line = {
                    "key": ln.key,
                    "line_no": ln.line_no,
                    "label_zh": ln.label_zh,
                    "label_en": ln.label_en,
                    "kind": ln.kind,
                    "accounts": [{"code": a.code, "sign": a.sign} for a in ln.accounts],
                    "sum": [("-" if t.sign < 0 else "") + t.key for t in ln.sum],
                    "memo": ln.memo,
                    "amount": amounts.get(ln.key),
                }
                if ln.side:
                    line["side"] = ln.side
                lines.append(line)
            out.append(
                {
                    "statement": name,
                    "form_code": layout.form_code,
                    "title_zh": layout.title_zh,
                    "title_en": layout.title_en,
                    "columns": list(layout.columns),
                    "lines": lines,
                }
            )
        return out

    # ------------------------------------------------------------------ receipts
    def private_indices(self) -> list[int]:
        return [i for i, p in enumerate(self.posted) if p.private]

    def receipt(self, index: int, size: int | None = None, resident: int | None = None) -> dict:
        """Resident ``resident``'s receipt (default: the first line's resident): only their lines."""
        size = len(self.posted) if size is None else size
        p = self.posted[index]
        rid = (
            resident if resident is not None else (p.private[0]["resident"] if p.private else None)
        )
        own = [
            dict(e, salt=b64(line_salt(p.salt, e["line"])))
            for e in p.private or []
            if e["resident"] == rid
        ]
        return {
            "format": RECEIPT_FORMAT,
            "index": index,
            "record": copy.deepcopy(p.record),
            "private": own,
            "inclusion_proof": [
                b64(h) for h in merkle.inclusion_proof_from_nodes(size, index, self.store.get_node)
            ],
            "checkpoint": self.checkpoint(size),
            "public_key": self.public_key(),
        }


def line_salt(salt: bytes, line: int) -> bytes:
    """HMAC-SHA256(voucher salt, "line:<n>")[:16] (FORMAT.md §1), written here from the spec."""
    return hmac.new(salt, f"line:{line}".encode("ascii"), hashlib.sha256).digest()[:16]


def _balances(rows: list[dict]) -> dict:
    return {(r["account"], r["fund"], r["unit"]): r["balance"] for r in rows}


def _apply(opening: Mapping, records: Sequence[dict]) -> dict:
    out = dict(opening)
    for rec in records:
        for ln in rec["lines"]:
            k = (ln["account"], ln["fund"], ln["unit"])
            out[k] = out.get(k, 0) + ln["debit"] - ln["credit"]
    return {k: v for k, v in out.items() if v}


def _to_json(bal: Mapping) -> list[dict]:
    return [
        {"account": a, "fund": f, "unit": u, "balance": b}
        for (a, f, u), b in sorted(bal.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2]))
    ]


def big_bundle(n_records: int, seed: int = 0) -> tuple[SyntheticBook, dict]:
    """A first report with ``n_records`` vouchers in one month (for the benchmark)."""
    book = SyntheticBook(book_id=1, seed=seed)
    start = dt.date(2026, 8, 1)
    for i in range(n_records):
        book.random_voucher(start + dt.timedelta(days=i * 31 // max(n_records, 1)))
    return book, book.publish(start, _month_end(start))
