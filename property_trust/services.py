# SPDX-License-Identifier: AGPL-3.0-or-later
"""Property-trust use cases: set-up, monthly billing, payments and advances, arrears, public
revenue, and the check that the unit balances equal the ledger's 1122 / 2203 per owner.

Services take the acting user, flush, never commit. Money moves only as vouchers through
``ledger.services.post_vouchers`` (system vouchers: the billing run, a cashier's receipt, public
revenue and the remuneration are approved by the rule that made them). The owner resident is the
counterparty of the 1122 / 2203 lines, so receipts come from the ledger's existing path. No summary
names an owner or a unit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from core import audit
from core.db import db
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Organisation, Resident, User
from core.months import Month
from ledger import policy
from ledger import services as ledger
from ledger.models import Account, Book, Fund, Voucher, VoucherLine, VoucherStatus

from .models import (
    Bill,
    BillingRun,
    BillSettlement,
    Building,
    Compound,
    Escalation,
    FeeRate,
    Payment,
    PublicRevenue,
    Reminder,
    RevenueDeduction,
    TrustArrangement,
    TrustSupervisor,
    Unit,
    UnitOwner,
)

RECEIVABLE, ADVANCE, BANK, REPAIR_BANK, FEE_INCOME = "1122", "2203", "1002", "1003", "4101"
REVENUE_ACCOUNTS = {
    "parking": "420101",
    "advertising": "420102",
    "venue": "420103",
    "other": "420109",
}
REVENUE_COSTS = "5201"
REPAIR_FUND_CODE = "REPAIR"
BUCKETS = ((0, 30), (31, 90), (91, 180), (181, None))  # days past the bill date (TP-15)
ESCALATIONS = ("litigation", "arbitration", "settled")  # deliberately no utility cut-off


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def half_up_fen(value: Decimal) -> int:
    """Round yuan × 100 to a whole fen, half up (the one rounding of bills and shares)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- lookups -----------------------------------------------------------------------------------


def book_of(compound: Compound) -> Book:
    book = db.session.scalar(
        sa.select(Book).where(Book.organisation_id == compound.organisation_id)
    )
    if book is None:
        raise Conflict(_l("The compound's organisation keeps no book yet."))
    return book


def organisation_of(compound: Compound) -> Organisation:
    return db.session.get_one(Organisation, compound.organisation_id)


def compound_for_book(book: Book) -> Compound | None:
    return db.session.scalar(
        sa.select(Compound).where(Compound.organisation_id == book.organisation_id).limit(1)
    )


def get_compound(compound_id: int) -> Compound:
    c = db.session.get(Compound, compound_id)
    if c is None:
        raise NotFound(_l("No such compound."))
    return c


def get_unit(compound: Compound, unit_id: int) -> Unit:
    u = db.session.get(Unit, unit_id)
    if u is None or u.compound_id != compound.id:
        raise NotFound(_l("No such unit in this compound."))
    return u


def account_id(book: Book, code: str) -> int:
    """The id of the account ``code`` in ``book`` (remembered for the session's transaction)."""
    cache = db.session.info.setdefault("property_trust.accounts", {})
    key = (book.id, code)
    if key not in cache:
        aid = db.session.scalar(
            sa.select(Account.id).where(Account.book_id == book.id, Account.code == code)
        )
        if aid is None:
            raise Conflict(_l("The trust book has no account %(code)s.", code=code))
        cache[key] = aid
    return cache[key]


def _forget_accounts(session, *_args) -> None:
    session.info.pop("property_trust.accounts", None)


sa.event.listen(Session, "after_transaction_end", _forget_accounts)


def unit_label(unit: Unit) -> str:
    return f"{unit.building.name}-{unit.number}"


def _require(compound: Compound, action: str, actor: User) -> Organisation:
    org = organisation_of(compound)
    policy.require(org, action, user=actor)
    return org


# --- set-up ------------------------------------------------------------------------------------


def create_compound(
    organisation: Organisation,
    name: str,
    *,
    actor: User,
    trustee: str = "",
    settlor: str = "业主大会",
    committee: str = "业主委员会",
    signed_on: dt.date | None = None,
) -> Compound:
    """A compound (小区) on an organisation with a TRUST_FUND book, its trust arrangement
    (TP-1) and its special repair fund, a restricted fund of the book (TP-11)."""
    policy.require(organisation, "manage", user=actor)
    book = db.session.scalar(sa.select(Book).where(Book.organisation_id == organisation.id))
    if book is None or book.standard != "TRUST_FUND":
        raise Conflict(
            _l("A compound needs an organisation whose book is a trust-fund book (TRUST_FUND).")
        )
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(
            _l("The compound needs a name of up to 200 characters."),
            errors={"name": [str(_l("Required."))]},
        )
    fund = db.session.scalar(
        sa.select(Fund).where(Fund.book_id == book.id, Fund.code == REPAIR_FUND_CODE)
    )
    if fund is None:
        fund = ledger.create_fund(
            book,
            REPAIR_FUND_CODE,
            "专项维修资金",
            restricted=True,
            purpose="住宅专项维修资金 (TP-11): deposits and public-revenue top-ups; use needs a vote",
        )
    c = Compound(
        community_id=organisation.community_id,
        organisation_id=organisation.id,
        name=name,
        repair_fund_id=fund.id,
    )
    db.session.add(c)
    db.session.flush()
    db.session.add(
        TrustArrangement(
            community_id=c.community_id,
            compound_id=c.id,
            settlor=settlor,
            committee=committee,
            trustee=trustee or "物业服务企业",
            beneficiaries="全体业主",
            signed_on=signed_on,
        )
    )
    db.session.flush()
    return c


def add_supervisor(
    compound: Compound, name: str, firm: str, *, actor: User, user: User | None = None
) -> TrustSupervisor:
    _require(compound, "manage", actor)
    s = TrustSupervisor(
        community_id=compound.community_id,
        compound_id=compound.id,
        name=name.strip()[:100],
        firm=firm.strip()[:200],
        user_id=getattr(user, "id", None),
    )
    db.session.add(s)
    db.session.flush()
    return s


def parse_area(value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float | bool):
        raise InvalidInput(_l("An area is a decimal number of m² with at most two decimals."))
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(
            _l("An area is a decimal number of m² with at most two decimals.")
        ) from None
    if not d.is_finite() or d <= 0 or d >= Decimal(10**9) or d != d.quantize(Decimal("0.01")):
        raise InvalidInput(
            _l("%(value)s is not an area in m² (positive, at most two decimals).", value=str(d))
        )
    return d


def add_unit(
    compound: Compound,
    building: str,
    number: str,
    *,
    actor: User,
    area=None,
    unit_type: str = "residential",
    owners: list[Resident] | tuple = (),
    occupants: list[Resident] | tuple = (),
) -> Unit:
    """A unit with its exclusive area (m², two decimals) and owners; the first owner is the
    one bills go to (co-owners allowed)."""
    _require(compound, "prepare", actor)
    building, number = (building or "").strip(), (number or "").strip()
    if not building or not number or len(building) > 50 or len(number) > 30:
        raise InvalidInput(
            _l("A unit has a building (up to 50 characters) and a number (up to 30)."),
            errors={"number": [str(_l("Required."))]},
        )
    b = db.session.scalar(
        sa.select(Building).where(Building.compound_id == compound.id, Building.name == building)
    )
    if b is not None and db.session.scalar(
        sa.select(Unit.id).where(Unit.building_id == b.id, Unit.number == number)
    ):
        raise Conflict(
            _l("Unit %(unit)s already exists in this compound.", unit=f"{building}-{number}")
        )
    if b is None:
        b = Building(community_id=compound.community_id, compound_id=compound.id, name=building)
        db.session.add(b)
        db.session.flush()
    u = Unit(
        community_id=compound.community_id,
        compound_id=compound.id,
        building_id=b.id,
        number=number,
        unit_type=unit_type,
        area=parse_area(area),
    )
    db.session.add(u)
    db.session.flush()
    for i, r in enumerate(owners):
        _add_person(compound, u, r, "owner", billed=i == 0)
    for r in occupants:
        _add_person(compound, u, r, "occupant", billed=False)
    db.session.flush()
    return u


def _add_person(compound: Compound, unit: Unit, resident: Resident, role: str, *, billed: bool):
    if resident.community_id != compound.community_id:
        raise InvalidInput(_l("The owner must be a resident of the compound's community."))
    db.session.add(
        UnitOwner(
            community_id=compound.community_id,
            unit_id=unit.id,
            resident_id=resident.id,
            role=role,
            billed=billed,
        )
    )


def set_fee_rate(
    compound: Compound, unit_type: str, rate, effective_from: dt.date, *, actor: User
) -> FeeRate:
    """收费标准: yuan per m² per month for a unit type, from a date on."""
    _require(compound, "manage", actor)
    try:
        r = Decimal(str(rate).strip()) if not isinstance(rate, float) else None
    except InvalidOperation:
        r = None
    if (
        r is None
        or not r.is_finite()
        or r <= 0
        or r >= Decimal(10**6)  # before quantize, which refuses what needs more digits
        or r != r.quantize(Decimal("0.0001"))
    ):
        raise InvalidInput(
            _l("The fee rate is yuan per m² per month: a positive decimal, at most 4 decimals."),
            errors={"rate": [str(_l("Not a rate."))]},
        )
    fr = FeeRate(
        community_id=compound.community_id,
        compound_id=compound.id,
        unit_type=unit_type,
        rate=r,
        effective_from=effective_from,
    )
    db.session.add(fr)
    db.session.flush()
    return fr


def compound_totals(compound: Compound) -> tuple[Decimal, int]:
    """Exclusive area of all units and the number of distinct owners (for votes)."""
    area = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Unit.area), 0)).where(
            Unit.compound_id == compound.id
        )
    )
    owners = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(UnitOwner.resident_id)))
        .join(Unit, Unit.id == UnitOwner.unit_id)
        .where(Unit.compound_id == compound.id, UnitOwner.role == "owner")
    )
    return Decimal(area or 0).quantize(Decimal("0.01")), int(owners or 0)


# --- advances ---------------------------------------------------------------------------------


def advances_by_payment(compound: Compound, unit_ids=None) -> dict[int, list[list[int]]]:
    """unit id → [[payment id, advance left], …] oldest first, for payments with advance left."""
    # The compound's payments with an advance (a partial index finds them without reading the
    # compound's history), then what earlier bills took of each (index on payment_id).
    with_advance = (
        sa.select(Payment.id, Payment.unit_id, Payment.date, Payment.advance)
        .where(Payment.compound_id == compound.id, Payment.advance > 0)
        .subquery()
    )
    used = (
        sa.select(BillSettlement.payment_id, sa.func.sum(BillSettlement.amount).label("used"))
        .where(
            BillSettlement.payment_id.in_(sa.select(with_advance.c.id)),
            BillSettlement.from_advance.is_(True),
        )
        .group_by(BillSettlement.payment_id)
        .subquery()
    )
    q = (
        sa.select(
            with_advance.c.unit_id,
            with_advance.c.id,
            with_advance.c.advance - sa.func.coalesce(used.c.used, 0),
        )
        .outerjoin(used, used.c.payment_id == with_advance.c.id)
        .order_by(with_advance.c.date, with_advance.c.id)
    )
    if unit_ids is not None:
        q = q.where(with_advance.c.unit_id.in_(unit_ids))
    out: dict[int, list[list[int]]] = defaultdict(list)
    for unit_id, pid, left in db.session.execute(q):
        if left and left > 0:
            out[unit_id].append([pid, int(left)])
    return out


# --- billing ---------------------------------------------------------------------------------


@dataclass
class BillingResult:
    run: BillingRun
    bills: int
    total: int
    from_advance: int


def _billed_owner(compound: Compound) -> dict[int, int]:
    rows = db.session.execute(
        sa.select(UnitOwner.unit_id, UnitOwner.resident_id, UnitOwner.billed, UnitOwner.id)
        .join(Unit, Unit.id == UnitOwner.unit_id)
        .where(Unit.compound_id == compound.id, UnitOwner.role == "owner")
        .order_by(UnitOwner.billed.desc(), UnitOwner.id)
    ).all()
    out: dict[int, int] = {}
    for unit_id, resident_id, _b, _i in rows:
        out.setdefault(unit_id, resident_id)
    return out


def _rates(compound: Compound, day: dt.date) -> dict[str, Decimal]:
    rows = db.session.execute(
        sa.select(FeeRate.unit_type, FeeRate.rate)
        .where(FeeRate.compound_id == compound.id, FeeRate.effective_from <= day)
        .order_by(FeeRate.effective_from, FeeRate.id)
    ).all()
    return {t: Decimal(r) for t, r in rows}  # the latest effective rate wins


def bill_month(compound: Compound, month: Month, *, actor: User | None) -> BillingResult:
    """The monthly billing run: one receivable (Dr 1122 / Cr 4101, the owner on the 1122 line)
    per unit, an advance (预收) the owner paid applied at once (Dr 2203 / Cr 1122) oldest first.
    Once per compound and month; the whole run or nothing."""
    if actor is not None:
        _require(compound, "prepare", actor)
    existing = db.session.scalar(
        sa.select(BillingRun).where(
            BillingRun.compound_id == compound.id, BillingRun.month == month.key
        )
    )
    if existing is not None:
        raise Conflict(
            _l(
                "%(month)s is already billed for this compound (%(bills)d bills, ¥%(total)s); "
                "a month is billed once.",
                month=str(month),
                bills=existing.bills,
                total=yuan(existing.total),
            )
        )
    book = book_of(compound)
    day = month.first_day
    units = db.session.execute(
        sa.select(Unit.id, Unit.area, Unit.unit_type, Building.name, Unit.number)
        .join(Building, Building.id == Unit.building_id)
        .where(Unit.compound_id == compound.id)
        .order_by(Unit.id)
    ).all()
    if not units:
        raise Conflict(_l("The compound has no units to bill."))
    owners = _billed_owner(compound)
    rates = _rates(compound, day)
    no_area = [f"{b}-{n}" for _i, a, _t, b, n in units if a is None or Decimal(a or 0) <= 0]
    if no_area:
        raise InvalidInput(
            _l(
                "Rule: a bill is the unit's area × the rate. %(count)d unit(s) have no area: "
                "%(units)s. Nothing was billed.",
                count=len(no_area),
                units=", ".join(no_area[:10]),
            ),
            errors={"units": no_area[:200]},
        )
    no_owner = [f"{b}-{n}" for i, _a, _t, b, n in units if i not in owners]
    if no_owner:
        raise InvalidInput(
            _l(
                "Every billed unit needs an owner; %(count)d unit(s) have none: %(units)s. "
                "Nothing was billed.",
                count=len(no_owner),
                units=", ".join(no_owner[:10]),
            ),
            errors={"units": no_owner[:200]},
        )
    no_rate = sorted({t for _i, _a, t, _b, _n in units if t not in rates})
    if no_rate:
        raise InvalidInput(
            _l(
                "No fee rate in effect on %(day)s for unit type(s) %(types)s. Nothing was billed.",
                day=day.isoformat(),
                types=", ".join(no_rate),
            )
        )
    advances = advances_by_payment(compound)
    ar, adv, inc = (
        account_id(book, RECEIVABLE),
        account_id(book, ADVANCE),
        account_id(book, FEE_INCOME),
    )
    summary = str(_l("Property fees %(month)s", month=str(month)))
    inputs, bills, settlements = [], [], []
    total = from_advance = 0
    for unit_id, area, unit_type, _b, _n in units:
        rate = rates[unit_type]
        amount = half_up_fen(Decimal(area or 0) * rate * 100)
        resident = owners[unit_id]
        lines = [
            ledger.LineInput(account_id=ar, debit=amount, resident_id=resident),
            ledger.LineInput(account_id=inc, credit=amount),
        ]
        paid = 0
        for entry in advances.get(unit_id, []):
            if paid >= amount:
                break
            take = min(entry[1], amount - paid)
            if take <= 0:
                continue
            entry[1] -= take
            paid += take
            settlements.append((unit_id, entry[0], take))
        if paid:
            lines += [
                ledger.LineInput(account_id=adv, debit=paid, resident_id=resident),
                ledger.LineInput(account_id=ar, credit=paid, resident_id=resident),
            ]
        inputs.append(ledger.VoucherInput(date=day, summary=summary, lines=lines))
        bills.append((unit_id, resident, Decimal(area or 0), rate, amount, paid))
        total += amount
        from_advance += paid
    ids = ledger.post_vouchers(book, inputs, source="property_bill", actor=actor)
    run = BillingRun(
        community_id=compound.community_id,
        compound_id=compound.id,
        month=month.key,
        bills=len(bills),
        total=total,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(run)
    db.session.execute(
        sa.insert(Bill),
        [
            {
                "community_id": compound.community_id,
                "compound_id": compound.id,
                "unit_id": u,
                "resident_id": r,
                "month": month.key,
                "date": day,
                "area": a,
                "rate": rt,
                "amount": amt,
                "paid": p,
                "voucher_id": vid,
            }
            for (u, r, a, rt, amt, p), vid in zip(bills, ids, strict=True)
        ],
    )
    if settlements:
        bill_ids = dict(
            db.session.execute(
                sa.select(Bill.unit_id, Bill.id).where(
                    Bill.compound_id == compound.id, Bill.month == month.key
                )
            ).all()
        )
        voucher_of = {b[0]: vid for b, vid in zip(bills, ids, strict=True)}
        db.session.execute(
            sa.insert(BillSettlement),
            [
                {
                    "community_id": compound.community_id,
                    "bill_id": bill_ids[u],
                    "payment_id": pid,
                    "amount": amt,
                    "from_advance": True,
                    "voucher_id": voucher_of[u],
                }
                for u, pid, amt in settlements
            ],
        )
    db.session.flush()
    return BillingResult(run=run, bills=len(bills), total=total, from_advance=from_advance)


# --- payments --------------------------------------------------------------------------------


def _closed_check(book: Book, day: dt.date, what) -> None:
    if book.closed_through is not None and Month.of(day).key <= book.closed_through:
        raise Conflict(
            _l(
                "The month %(month)s is closed in the trust book (closed through %(closed)s); "
                "%(what)s dated %(date)s cannot be recorded in it.",
                month=str(Month.of(day)),
                closed=str(Month.from_key(book.closed_through)),
                what=what,
                date=day.isoformat(),
            )
        )


def open_bills(unit: Unit) -> list[Bill]:
    return list(
        db.session.scalars(
            sa.select(Bill)
            .where(Bill.unit_id == unit.id, Bill.amount > Bill.paid)
            .order_by(Bill.month, Bill.id)
        )
    )


def record_payment(
    compound: Compound,
    unit: Unit,
    amount: int,
    day: dt.date,
    *,
    actor: User | None,
    advance: bool = False,
) -> Payment:
    """A payment for a unit: applied to its open bills oldest first (full or partial); what is
    left over is kept as an advance (预收, 2203) only when ``advance`` is chosen."""
    if unit.compound_id != compound.id:
        raise NotFound(_l("No such unit in this compound."))
    (p,) = record_payments(compound, [(unit.id, amount, day, advance)], actor=actor)
    return p


def record_payments(
    compound: Compound,
    items: list[tuple[int, int, dt.date, bool]],
    *,
    actor: User | None,
) -> list[Payment]:
    """Payments (unit id, amount, date, advance chosen), in order, posted together through the
    ledger's bulk path (the cashier's day, an import, the demo): each checked like one payment
    (see ``record_payment``); nothing is stored unless every one passes."""
    if actor is not None:
        _require(compound, "prepare", actor)
    book = book_of(compound)
    unit_ids = {u for u, *_ in items}
    known = set(
        db.session.scalars(
            sa.select(Unit.id).where(Unit.compound_id == compound.id, Unit.id.in_(unit_ids))
        )
    )
    if unit_ids - known:
        raise NotFound(_l("No such unit in this compound."))
    owners = _billed_owner(compound)
    open_by_unit: dict[int, list[list]] = defaultdict(list)  # [bill id, open, resident]
    for bid, uid, amt, paid, rid in db.session.execute(
        sa.select(Bill.id, Bill.unit_id, Bill.amount, Bill.paid, Bill.resident_id)
        .where(Bill.unit_id.in_(unit_ids), Bill.amount > Bill.paid)
        .order_by(Bill.month, Bill.id)
    ):
        open_by_unit[uid].append([bid, amt - paid, rid])
    ar, adv, bank = (
        account_id(book, RECEIVABLE),
        account_id(book, ADVANCE),
        account_id(book, BANK),
    )
    inputs, plans = [], []
    for unit_id, amount, day, advance in items:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidInput(
                _l("A payment is a positive amount."),
                errors={"amount": [str(_l("Must be positive."))]},
            )
        _closed_check(book, day, _l("a payment"))
        if unit_id not in owners:
            raise Conflict(_l("The unit has no owner on record."))
        bills = open_by_unit[unit_id]
        open_total = sum(b[1] for b in bills)
        if amount > open_total and not advance:
            raise InvalidInput(
                _l(
                    "The payment of ¥%(amount)s is larger than the unit's open bills (¥%(open)s). "
                    "Choose “advance” to keep ¥%(extra)s as fees received in advance (预收).",
                    amount=yuan(amount),
                    open=yuan(open_total),
                    extra=yuan(amount - open_total),
                ),
                errors={"amount": [str(_l("More than the open bills."))]},
            )
        left = amount
        applied: list[tuple[int, int]] = []
        per_resident: dict[int, int] = defaultdict(int)
        for b in bills:
            if left <= 0:
                break
            take = min(b[1], left)
            if take <= 0:
                continue
            b[1] -= take
            applied.append((b[0], take))
            per_resident[b[2]] += take
            left -= take
        lines = [ledger.LineInput(account_id=bank, debit=amount)]
        lines += [
            ledger.LineInput(account_id=ar, credit=v, resident_id=r)
            for r, v in per_resident.items()
        ]
        if left:
            lines.append(ledger.LineInput(account_id=adv, credit=left, resident_id=owners[unit_id]))
        summary = str(
            _l("Property fees received") if applied else _l("Property fees received in advance")
        )
        inputs.append(ledger.VoucherInput(date=day, summary=summary, lines=lines))
        plans.append((unit_id, amount, day, left, applied))
    ids = ledger.post_vouchers(book, inputs, source="property_payment", actor=actor)
    payments = [
        Payment(
            community_id=compound.community_id,
            compound_id=compound.id,
            unit_id=unit_id,
            resident_id=owners[unit_id],
            date=day,
            amount=amount,
            advance=left,
            voucher_id=vid,
            created_by_id=getattr(actor, "id", None),
        )
        for (unit_id, amount, day, left, _a), vid in zip(plans, ids, strict=True)
    ]
    db.session.add_all(payments)
    db.session.flush()
    settlements: list[dict] = []
    paid_by_bill: dict[int, int] = defaultdict(int)
    for p, (_u, _amt, _d, _l2, applied), vid in zip(payments, plans, ids, strict=True):
        for bill_id, take in applied:
            paid_by_bill[bill_id] += take
            settlements.append(
                {
                    "community_id": compound.community_id,
                    "bill_id": bill_id,
                    "payment_id": p.id,
                    "amount": take,
                    "from_advance": False,
                    "voucher_id": vid,
                }
            )
    if settlements:
        db.session.execute(sa.insert(BillSettlement), settlements)
        db.session.execute(
            sa.update(Bill.__table__)
            .where(Bill.__table__.c.id == sa.bindparam("b_id"))
            .values(paid=Bill.__table__.c.paid + sa.bindparam("add")),
            [{"b_id": b, "add": v} for b, v in paid_by_bill.items()],
        )
        db.session.expire_all()
    db.session.flush()
    return payments


def _billed_owner_of(unit: Unit) -> int:
    rid = db.session.scalar(
        sa.select(UnitOwner.resident_id)
        .where(UnitOwner.unit_id == unit.id, UnitOwner.role == "owner")
        .order_by(UnitOwner.billed.desc(), UnitOwner.id)
        .limit(1)
    )
    if rid is None:
        raise Conflict(_l("The unit has no owner on record."))
    return rid


# --- balances and the check against the books ---------------------------------------------


def unit_balances(compound: Compound) -> dict[int, tuple[int, int]]:
    """unit id → (open bills, advance left), from the domain's records."""
    open_ = dict(
        db.session.execute(
            sa.select(Bill.unit_id, sa.func.sum(Bill.amount - Bill.paid))
            .where(Bill.compound_id == compound.id)
            .group_by(Bill.unit_id)
        ).all()
    )
    adv = {u: sum(e[1] for e in lst) for u, lst in advances_by_payment(compound).items()}
    return {u: (int(open_.get(u) or 0), int(adv.get(u) or 0)) for u in set(open_) | set(adv)}


@dataclass
class Difference:
    resident_id: int
    account: str
    domain: int
    ledger: int


def _ledger_by_resident(book: Book, code: str, sign: int) -> dict[int, int]:
    acc = account_id(book, code)
    rows = db.session.execute(
        sa.select(VoucherLine.resident_id, sa.func.sum(VoucherLine.debit - VoucherLine.credit))
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(
            Voucher.book_id == book.id,
            Voucher.status == VoucherStatus.POSTED.value,
            VoucherLine.account_id == acc,
        )
        .group_by(VoucherLine.resident_id)
    ).all()
    return {r if r is not None else 0: sign * int(v or 0) for r, v in rows}


def check_consistency(compound: Compound) -> list[Difference]:
    """Unit balances = ledger 1122 (receivable) and 2203 (advance) per owner: the differences."""
    book = book_of(compound)
    dom_open: dict[int, int] = defaultdict(int)
    for r, v in db.session.execute(
        sa.select(Bill.resident_id, sa.func.sum(Bill.amount - Bill.paid))
        .where(Bill.compound_id == compound.id)
        .group_by(Bill.resident_id)
    ):
        dom_open[r] += int(v or 0)
    dom_adv: dict[int, int] = defaultdict(int)
    used = dict(
        db.session.execute(
            sa.select(BillSettlement.payment_id, sa.func.sum(BillSettlement.amount))
            .where(BillSettlement.from_advance.is_(True))
            .group_by(BillSettlement.payment_id)
        ).all()
    )
    for pid, r, a in db.session.execute(
        sa.select(Payment.id, Payment.resident_id, Payment.advance).where(
            Payment.compound_id == compound.id, Payment.advance > 0
        )
    ):
        dom_adv[r] += int(a) - int(used.get(pid) or 0)
    out = []
    for code, dom, sign in ((RECEIVABLE, dom_open, 1), (ADVANCE, dom_adv, -1)):
        led = _ledger_by_resident(book, code, sign)
        for r in sorted(set(dom) | set(led)):
            if dom.get(r, 0) != led.get(r, 0):
                out.append(Difference(r, code, dom.get(r, 0), led.get(r, 0)))
    return out


# --- arrears (TP-15, TP-16) --------------------------------------------------------------------


@dataclass
class Ageing:
    as_of: dt.date
    buckets: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    households: int = 0
    total: int = 0
    billed: int = 0
    collected: int = 0

    @property
    def collection_rate(self) -> Decimal | None:
        if not self.billed:
            return None
        return (Decimal(self.collected) / Decimal(self.billed) * 100).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


def bucket_of(days: int) -> int:
    for i, (lo, hi) in enumerate(BUCKETS):
        if days >= lo and (hi is None or days <= hi):
            return i
    return 0


def ageing(compound: Compound, as_of: dt.date, *, with_rate: bool = True) -> Ageing:
    """Aggregate arrears as of a date: ageing buckets (0–30, 31–90, 91–180, over 180 days past
    the bill date), households in arrears, total, and (``with_rate``) the collection rate of the
    bills dated up to that day (collected by that day). No unit or name: safe for public pages.

    Reads no history: a bill's arrears at ``as_of`` are what is open on it now plus what
    payments dated after ``as_of`` settled of it (advances settle a bill when it is issued, so
    they count as paid). Two small queries: the open bills (a partial index) and the
    settlements of the payments after ``as_of`` (index on the compound's payment dates)."""
    owed: dict[int, list] = {}  # bill id → [unit id, bill date, owed]
    for bill_id, unit_id, day, open_now in db.session.execute(
        sa.select(Bill.id, Bill.unit_id, Bill.date, Bill.amount - Bill.paid).where(
            Bill.compound_id == compound.id, Bill.amount > Bill.paid, Bill.date <= as_of
        )
    ):
        owed[bill_id] = [unit_id, day, int(open_now)]
    for bill_id, unit_id, day, amount in db.session.execute(
        sa.select(Bill.id, Bill.unit_id, Bill.date, BillSettlement.amount)
        .join(Payment, Payment.id == BillSettlement.payment_id)
        .join(Bill, Bill.id == BillSettlement.bill_id)
        .where(
            Payment.compound_id == compound.id,
            Payment.date > as_of,
            BillSettlement.from_advance.is_(False),
            Bill.date <= as_of,
        )
    ):
        owed.setdefault(bill_id, [unit_id, day, 0])[2] += amount
    a = Ageing(as_of=as_of)
    units = set()
    for unit_id, day, amount in owed.values():
        if amount > 0:
            a.buckets[bucket_of((as_of - day).days)] += amount
            a.total += amount
            units.add(unit_id)
    a.households = len(units)
    if with_rate:
        a.billed = int(
            db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Bill.amount), 0)).where(
                    Bill.compound_id == compound.id, Bill.date <= as_of
                )
            )
            or 0
        )
        a.collected = a.billed - a.total
    return a


def arrears_by_unit(compound: Compound, as_of: dt.date, *, actor: User) -> list[dict]:
    """The room-level arrears list: staff only, and every look is logged (TP-16)."""
    org = _require(compound, "prepare", actor)
    audit.record(
        "property.arrears_list",
        "ok",
        user=actor,
        organisation_id=org.id,
        community_id=org.community_id,
        target=f"compound:{compound.id}",
        detail={"as_of": as_of.isoformat()},
    )
    rows = db.session.execute(
        sa.select(Bill.unit_id, Bill.date, Bill.amount - Bill.paid)
        .where(Bill.compound_id == compound.id, Bill.amount > Bill.paid, Bill.date <= as_of)
        .order_by(Bill.unit_id, Bill.date)
    ).all()
    per: dict[int, list[int]] = {}
    for unit_id, day, owed in rows:
        per.setdefault(unit_id, [0, 0, 0, 0])[bucket_of((as_of - day).days)] += owed
    units = {u.id: u for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_(list(per))))}
    escalated = dict(
        db.session.execute(
            sa.select(Escalation.unit_id, Escalation.status)
            .where(Escalation.compound_id == compound.id)
            .order_by(Escalation.date, Escalation.id)
        ).all()
    )
    return [
        {
            "unit_id": uid,
            "unit": unit_label(units[uid]),
            "buckets": b,
            "total": sum(b),
            "escalation": escalated.get(uid, ""),
        }
        for uid, b in sorted(per.items(), key=lambda kv: -sum(kv[1]))
    ]


def add_reminder(
    compound: Compound,
    unit: Unit,
    sent_on: dt.date,
    deadline: dt.date,
    *,
    actor: User,
    note: str = "",
) -> Reminder:
    """催告 with a reasonable deadline (TP-15)."""
    _require(compound, "prepare", actor)
    if deadline <= sent_on:
        raise InvalidInput(
            _l(
                "A reminder gives a deadline after the day it is sent (%(sent)s); %(deadline)s is not.",
                sent=sent_on.isoformat(),
                deadline=deadline.isoformat(),
            ),
            errors={"deadline": [str(_l("After the day sent."))]},
        )
    owed = sum(b.open for b in open_bills(unit))
    if owed <= 0:
        raise Conflict(_l("The unit has no arrears to remind of."))
    r = Reminder(
        community_id=compound.community_id,
        compound_id=compound.id,
        unit_id=unit.id,
        sent_on=sent_on,
        deadline=deadline,
        amount=owed,
        note=(note or "").strip()[:300],
        created_by_id=actor.id,
    )
    db.session.add(r)
    db.session.flush()
    return r


def escalate(
    compound: Compound, unit: Unit, status: str, day: dt.date, *, actor: User, note: str = ""
) -> Escalation:
    """Litigation or arbitration after a reminder's deadline passed (or settled). There is
    deliberately no action that cuts off water, electricity, heating or gas (民法典 944)."""
    _require(compound, "prepare", actor)
    if status not in ESCALATIONS:
        raise InvalidInput(
            _l(
                "Arrears are escalated only to litigation or arbitration (or marked settled); "
                "cutting off utilities is not allowed."
            ),
            errors={"status": [str(_l("Not allowed."))]},
        )
    if status != "settled":
        passed = db.session.scalar(
            sa.select(sa.func.count(Reminder.id)).where(
                Reminder.unit_id == unit.id, Reminder.deadline < day
            )
        )
        if not passed:
            raise Conflict(
                _l(
                    "Escalation needs a reminder (催告) whose deadline has passed by %(day)s.",
                    day=day.isoformat(),
                )
            )
    e = Escalation(
        community_id=compound.community_id,
        compound_id=compound.id,
        unit_id=unit.id,
        status=status,
        date=day,
        note=(note or "").strip()[:300],
        created_by_id=actor.id,
    )
    db.session.add(e)
    db.session.flush()
    return e


# --- public revenue (TP-10) ---------------------------------------------------------------------


def record_public_revenue(
    compound: Compound,
    kind: str,
    day: dt.date,
    gross: int,
    *,
    actor: User | None,
    deductions: list[tuple[str, str, int]] | tuple = (),
    description: str = "",
) -> PublicRevenue:
    """Income from common parts: booked as the owners' income (42xx, never the company's),
    with documented cost deductions (5201), and the decided share of the net topping up the
    repair fund (its own bank account 1003 and fund)."""
    if actor is not None:
        _require(compound, "prepare", actor)
    if kind not in REVENUE_ACCOUNTS:
        raise InvalidInput(
            _l("Public revenue is parking, advertising, venue rent or other."),
            errors={"kind": [str(_l("Unknown."))]},
        )
    if isinstance(gross, bool) or not isinstance(gross, int) or gross <= 0:
        raise InvalidInput(
            _l("Public revenue is a positive amount."),
            errors={"gross": [str(_l("Must be positive."))]},
        )
    deducted = 0
    for desc, doc, amt in deductions:
        if not (desc or "").strip() or not (doc or "").strip():
            raise InvalidInput(
                _l("Every cost deducted from public revenue names what it is and its document."),
                errors={"deductions": [str(_l("Undocumented."))]},
            )
        if isinstance(amt, bool) or not isinstance(amt, int) or amt <= 0:
            raise InvalidInput(_l("A deduction is a positive amount."))
        deducted += amt
    if deducted > gross:
        raise InvalidInput(
            _l(
                "The deductions (¥%(deducted)s) exceed the revenue (¥%(gross)s).",
                deducted=yuan(deducted),
                gross=yuan(gross),
            ),
            errors={"deductions": [str(_l("More than the revenue."))]},
        )
    book = book_of(compound)
    _closed_check(book, day, _l("public revenue"))
    net = gross - deducted
    topup = half_up_fen(Decimal(net) * Decimal(compound.repair_share or 0))
    income = account_id(book, REVENUE_ACCOUNTS[kind])
    lines = [ledger.LineInput(account_id=income, credit=gross - topup)]
    if topup:
        lines += [
            ledger.LineInput(account_id=income, credit=topup, fund_id=compound.repair_fund_id),
            ledger.LineInput(
                account_id=account_id(book, REPAIR_BANK),
                debit=topup,
                fund_id=compound.repair_fund_id,
            ),
        ]
    if deducted:
        lines.append(ledger.LineInput(account_id=account_id(book, REVENUE_COSTS), debit=deducted))
    if net - topup:
        lines.append(ledger.LineInput(account_id=account_id(book, BANK), debit=net - topup))
    labels = {
        "parking": _l("Parking income"),
        "advertising": _l("Advertising income"),
        "venue": _l("Venue rental income"),
        "other": _l("Other income from common parts"),
    }
    (vid,) = ledger.post_vouchers(
        book,
        [ledger.VoucherInput(date=day, summary=str(labels[kind]), lines=lines)],
        source="property_revenue",
        actor=actor,
    )
    pr = PublicRevenue(
        community_id=compound.community_id,
        compound_id=compound.id,
        kind=kind,
        date=day,
        gross=gross,
        deductions=deducted,
        repair_topup=topup,
        description=(description or "").strip()[:300],
        voucher_id=vid,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(pr)
    db.session.flush()
    for desc, doc, amt in deductions:
        db.session.add(
            RevenueDeduction(
                community_id=compound.community_id,
                revenue_id=pr.id,
                description=desc.strip()[:300],
                document=doc.strip()[:200],
                amount=amt,
            )
        )
    db.session.flush()
    return pr
