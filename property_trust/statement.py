# SPDX-License-Identifier: AGPL-3.0-or-later
"""The monthly owners' statement (TP-12 … TP-14): collections and collection rate, expenses by
TP-6 category against the budget, the remuneration calculation, public revenue, the balances of
the trust fund and the repair fund, and the supervisors' findings. It reads the ledger's
per-period balances (not history) and the domain's month records; it names no owner or unit."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import defer, selectinload

from core.db import db
from core.months import Month
from ledger.models import Account, Voucher, VoucherAttachment, VoucherStatus
from ledger.reports.balances import Filters, balances_as_of, range_sums

from .models import (
    Bill,
    BillSettlement,
    Budget,
    BudgetLine,
    Compound,
    Payment,
    PublicRevenue,
    PublishedStatement,
    RemunerationRun,
    SupervisorNote,
)
from .services import Ageing, ageing, book_of

EXPENSE_PREFIXES = ("51", "52", "53", "59")


@dataclass
class ExpenseRow:
    code: str
    name: str
    month: int
    year_to_date: int
    budget: int | None


@dataclass
class Statement:
    compound: Compound
    month: Month
    billed: int
    collected_for_month: int  # of the month's bills, settled by the month's end
    cash_collected: int  # payments received in the month
    arrears: Ageing
    expenses: list[ExpenseRow]
    remuneration: RemunerationRun | None
    public_revenue: list[PublicRevenue]
    trust_fund_balance: int
    repair_fund_balance: int
    findings: list[SupervisorNote]
    flags: list[tuple[SupervisorNote, Voucher]] = field(default_factory=list)

    @property
    def collection_rate(self) -> Decimal | None:
        if not self.billed:
            return None
        return (Decimal(self.collected_for_month) / Decimal(self.billed) * 100).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    @property
    def expenses_total(self) -> int:
        return sum(r.month for r in self.expenses)


def monthly_statement(compound: Compound, month: Month) -> Statement:
    book = book_of(compound)
    first, last = month.first_day, month.last_day
    billed = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Bill.amount), 0)).where(
            Bill.compound_id == compound.id, Bill.month == month.key
        )
    )
    settled = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(BillSettlement.amount), 0))
        .join(Bill, Bill.id == BillSettlement.bill_id)
        .join(Payment, Payment.id == BillSettlement.payment_id)
        .where(
            Bill.compound_id == compound.id,
            Bill.month == month.key,
            sa.or_(BillSettlement.from_advance.is_(True), Payment.date <= last),
        )
    )
    cash = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0)).where(
            Payment.compound_id == compound.id, Payment.date.between(first, last)
        )
    )
    accounts = {
        a.id: a
        for a in db.session.scalars(
            sa.select(Account).where(
                Account.book_id == book.id,
                sa.or_(*[Account.code.startswith(p) for p in EXPENSE_PREFIXES]),
            )
        )
        if not a.has_children
    }
    f = Filters(account_ids=list(accounts))
    in_month = range_sums(book, first, last, f)
    ytd = range_sums(book, dt.date(month.year, 1, 1), last, f)

    def by_account(sums) -> dict[int, int]:
        out: dict[int, int] = {}
        for (acc, *_rest), (dr, cr) in sums.items():
            out[acc] = out.get(acc, 0) + dr - cr
        return out

    m_sums, y_sums = by_account(in_month), by_account(ytd)
    budget = db.session.scalar(
        sa.select(Budget).where(Budget.compound_id == compound.id, Budget.year == month.year)
    )
    budgeted: dict[str, int] = {}
    if budget is not None:
        for code, amount in db.session.execute(
            sa.select(BudgetLine.account_code, BudgetLine.amount).where(
                BudgetLine.budget_id == budget.id
            )
        ):
            budgeted[code] = budgeted.get(code, 0) + amount
    expenses = []
    for acc in sorted(accounts.values(), key=lambda a: a.code):
        mv, yv = m_sums.get(acc.id, 0), y_sums.get(acc.id, 0)
        if mv or yv or acc.code in budgeted:
            expenses.append(ExpenseRow(acc.code, acc.name_zh, mv, yv, budgeted.get(acc.code)))
    bank = _balance(book, "1002", last)
    repair = _balance(book, "1003", last)
    findings = list(
        db.session.scalars(
            sa.select(SupervisorNote)
            .where(
                SupervisorNote.compound_id == compound.id,
                SupervisorNote.action == "finding",
                SupervisorNote.month == month.key,
            )
            .order_by(SupervisorNote.id)
        )
    )
    flags: list = list(
        db.session.execute(
            sa.select(SupervisorNote, Voucher)
            .join(Voucher, Voucher.id == SupervisorNote.voucher_id)
            .where(
                SupervisorNote.compound_id == compound.id,
                SupervisorNote.action.in_(("flag", "hold")),
                Voucher.date.between(first, last),
            )
            .order_by(SupervisorNote.id)
        )
    )
    return Statement(
        compound=compound,
        month=month,
        billed=int(billed or 0),
        collected_for_month=int(settled or 0),
        cash_collected=int(cash or 0),
        arrears=ageing(compound, last, with_rate=False),
        expenses=expenses,
        remuneration=db.session.scalar(
            sa.select(RemunerationRun).where(
                RemunerationRun.compound_id == compound.id, RemunerationRun.month == month.key
            )
        ),
        public_revenue=list(
            db.session.scalars(
                sa.select(PublicRevenue)
                .where(
                    PublicRevenue.compound_id == compound.id,
                    PublicRevenue.date.between(first, last),
                )
                .order_by(PublicRevenue.date, PublicRevenue.id)
            )
        ),
        trust_fund_balance=bank,
        repair_fund_balance=repair,
        findings=findings,
        flags=flags,
    )


def _balance(book, code: str, as_of: dt.date) -> int:
    acc = db.session.scalar(
        sa.select(Account.id).where(Account.book_id == book.id, Account.code == code)
    )
    if acc is None:
        return 0
    sums = balances_as_of(book, as_of, Filters(account_ids=[acc]))
    return sum(dr - cr for (dr, cr) in sums.values())


def trust_vouchers(compound: Compound, *, limit: int = 200, month: Month | None = None):
    """Every posted voucher of the trust book (newest first) with its amount and attachments:
    what any owner may see (TP-13/14). Summaries carry no personal data (core.privacy)."""
    book = book_of(compound)
    q = (
        sa.select(Voucher)
        .options(selectinload(Voucher.lines))
        .where(Voucher.book_id == book.id, Voucher.status == VoucherStatus.POSTED.value)
        .order_by(Voucher.date.desc(), Voucher.id.desc())
        .limit(limit)
    )
    if month is not None:
        q = q.where(Voucher.date.between(month.first_day, month.last_day))
    vouchers = list(db.session.scalars(q))
    ids = [v.id for v in vouchers]
    atts: dict[int, list[VoucherAttachment]] = {}
    if ids:
        for a in db.session.scalars(
            sa.select(VoucherAttachment)
            .options(defer(VoucherAttachment.data))
            .where(VoucherAttachment.voucher_id.in_(ids))
            .order_by(VoucherAttachment.id)
        ):
            atts.setdefault(a.voucher_id, []).append(a)
    return [(v, sum(ln.debit for ln in v.lines), atts.get(v.id, [])) for v in vouchers]


# --- the statement published with the disclosure report -------------------------------------


def snapshot(st: Statement) -> dict:
    """The statement's figures as JSON-ready data (no object, no owner, no unit): what is
    frozen when the month's disclosure report is published."""
    r = st.remuneration
    return {
        "month": str(st.month),
        "billed": st.billed,
        "collected_for_month": st.collected_for_month,
        "cash_collected": st.cash_collected,
        "collection_rate": None if st.collection_rate is None else str(st.collection_rate),
        "arrears": {
            "as_of": st.arrears.as_of.isoformat(),
            "buckets": list(st.arrears.buckets),
            "households": st.arrears.households,
            "total": st.arrears.total,
        },
        "expenses": [
            {
                "code": e.code,
                "name": e.name,
                "month": e.month,
                "year_to_date": e.year_to_date,
                "budget": e.budget,
            }
            for e in st.expenses
        ],
        "remuneration": None
        if r is None
        else {
            "mode": r.mode,
            "base": r.base,
            "rate": None if r.rate is None else str(r.rate),
            "product": r.product,
            "floor": r.floor,
            "cap": r.cap,
            "bound": r.bound,
            "amount": r.amount,
        },
        "public_revenue": [
            {
                "date": p.date.isoformat(),
                "kind": p.kind,
                "gross": p.gross,
                "deductions": p.deductions,
                "repair_topup": p.repair_topup,
            }
            for p in st.public_revenue
        ],
        "trust_fund_balance": st.trust_fund_balance,
        "repair_fund_balance": st.repair_fund_balance,
        "findings": [n.text for n in st.findings],
        "flags": [
            {"date": v.date.isoformat(), "summary": v.summary, "text": n.text} for n, v in st.flags
        ],
    }


def from_snapshot(data: dict) -> SimpleNamespace:
    """A published snapshot shaped like a ``Statement`` for the same template."""
    rem = data["remuneration"]
    if rem is not None:
        rem = SimpleNamespace(
            **{**rem, "rate": None if rem["rate"] is None else Decimal(rem["rate"])}
        )
    return SimpleNamespace(
        month=Month.parse(data["month"]),
        billed=data["billed"],
        collected_for_month=data["collected_for_month"],
        cash_collected=data["cash_collected"],
        collection_rate=data["collection_rate"],
        arrears=SimpleNamespace(**data["arrears"]),
        expenses=[SimpleNamespace(**e) for e in data["expenses"]],
        remuneration=rem,
        public_revenue=[SimpleNamespace(**p) for p in data["public_revenue"]],
        trust_fund_balance=data["trust_fund_balance"],
        repair_fund_balance=data["repair_fund_balance"],
        findings=[SimpleNamespace(text=t) for t in data["findings"]],
        flags=[
            (SimpleNamespace(text=f["text"]), SimpleNamespace(date=f["date"], summary=f["summary"]))
            for f in data["flags"]
        ],
    )


def publish_statements(book, *, report_id: int, period_start: dt.date, period_end: dt.date, **_kw):
    """Receiver of ``ledger.signals.report_published``: freeze the owners' statement of every
    month the report covers (a month already published is left as it was)."""
    compound = db.session.scalar(
        sa.select(Compound).where(Compound.organisation_id == book.organisation_id).limit(1)
    )
    if compound is None or book_of(compound).id != book.id:
        return
    month = Month.of(period_start)
    last = Month.of(period_end)
    done = set(
        db.session.scalars(
            sa.select(PublishedStatement.month).where(
                PublishedStatement.compound_id == compound.id,
                PublishedStatement.month.between(month.key, last.key),
            )
        )
    )
    while month <= last:
        if month.key not in done:
            text = json.dumps(
                snapshot(monthly_statement(compound, month)),
                ensure_ascii=False,
                sort_keys=True,
                separators=(",", ":"),
            )
            db.session.add(
                PublishedStatement(
                    community_id=compound.community_id,
                    compound_id=compound.id,
                    month=month.key,
                    report_id=report_id,
                    figures=text,
                    sha256=hashlib.sha256(text.encode()).hexdigest(),
                )
            )
        month = month.next()
    db.session.flush()


def published(compound: Compound, limit: int = 24) -> list[PublishedStatement]:
    return list(
        db.session.scalars(
            sa.select(PublishedStatement)
            .where(PublishedStatement.compound_id == compound.id)
            .order_by(PublishedStatement.month.desc())
            .limit(limit)
        )
    )
