"""Opening a 2026 book under the revised NPO system (NPO_2024, 财会〔2024〕25号) from a 2025 book
kept under the 2004 system (NPO_2004), following the transition rules 财会〔2025〕6号 as far as
they are sourced (ledger/charts/README.md, "NPO_2024"):

1. the old book's 科目余额表 at the end of ``year`` (31 December 2025) — the year closed, so
   revenue and expense accounts are at zero;
2. each balance moved old → new through the reviewed mapping
   (``ledger/charts/npo_2004_to_npo_2024.csv``, longest mapped code first: a sub-account keeps
   its suffix and its name), per fund and unit, so restricted and unrestricted net assets and
   every fund's balance are carried over unchanged;
3. ``adjustments``: what was never recorded (e.g. donated goods never booked: Dr the asset,
   Cr a net-asset account — not revenue) and other adjustments, as rows in the new chart's
   codes that balance on their own and touch no revenue or expense account;
4. the result is the new book's openings (``ledger.opening``): ONE opening voucher dated
   1 January of the next year, saved as a draft that then goes through the ordinary review
   (submit → approve by a second person → post). The 2026 业务活动表 needs no prior-year
   figures, so nothing else is brought over.

Every refusal is a translated error naming the accounts or funds concerned; nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import Conflict, InvalidInput
from core.models import User
from core.months import Month

from . import opening, policy
from . import services as svc
from .amounts import format_minor
from .charts import TransitionRow, load_transition
from .models import Account, AccountPeriodBalance, Book, Fund, Voucher

OLD_STANDARD = "NPO_2004"
NEW_STANDARD = "NPO_2024"
#: The last year kept under the old system (the new one is in force from 2026-01-01).
LAST_OLD_YEAR = 2025
FLOW_TYPES = ("revenue", "expense")


@dataclass(frozen=True)
class MovedBalance:
    """One balance of the old book's 科目余额表 and where it goes (debit positive)."""

    old_code: str
    old_name: str
    new_code: str
    fund: str
    unit: str
    balance: int
    status: str  # the mapping row's status: "sourced", "ours" or "verify"


@dataclass
class TransitionPlan:
    source: Book
    target: Book
    year: int
    date: dt.date
    moved: list[MovedBalance] = field(default_factory=list)
    adjustments: list[opening.OpeningRow] = field(default_factory=list)
    rows: list[opening.OpeningRow] = field(default_factory=list)
    created_accounts: list[str] = field(default_factory=list)
    created_funds: list[str] = field(default_factory=list)

    @property
    def to_verify(self) -> list[str]:
        """Old codes moved by a mapping row still marked ``verify``."""
        return sorted({m.old_code for m in self.moved if m.status == "verify"})


def _mapping() -> dict[str, TransitionRow]:
    return {r.old_code: r for r in load_transition(OLD_STANDARD, NEW_STANDARD)}


def map_code(code: str, mapping: dict[str, TransitionRow]) -> tuple[str, TransitionRow] | None:
    """The new code of old ``code`` (the longest mapped prefix; a sub-account keeps its
    suffix), or None when no mapping row covers it."""
    for n in range(len(code), 0, -1):
        row = mapping.get(code[:n])
        if row is not None:
            return row.new_code + code[n:], row
    return None


def _accounts(book: Book) -> dict[str, Account]:
    return {
        a.code: a for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
    }


def _closing_balances(source: Book, year: int) -> list[tuple[Account, int, str, int]]:
    """(account, fund_key, unit, debit − credit) of every account through December of ``year``."""
    apb = AccountPeriodBalance
    rows = db.session.execute(
        sa.select(Account, apb.fund_key, apb.unit, sa.func.sum(apb.debit - apb.credit))
        .join(Account, Account.id == apb.account_id)
        .where(apb.book_id == source.id, apb.period_key <= Month(year, 12).key)
        .group_by(Account.id, apb.fund_key, apb.unit)
        .order_by(Account.code, apb.fund_key, apb.unit)
    ).all()
    return [(a, int(fk or 0), unit, int(net)) for a, fk, unit, net in rows if net]


def _check_books(source: Book, target: Book, actor: User) -> None:
    p = svc.Problems()
    if source.chart != OLD_STANDARD:
        p.add(
            "source",
            _l(
                "The old book must be kept under %(old)s; book %(id)d keeps %(chart)s.",
                old=OLD_STANDARD,
                id=source.id,
                chart=source.chart,
            ),
        )
    if target.chart != NEW_STANDARD:
        p.add(
            "target",
            _l(
                "The new book must be kept under %(new)s; book %(id)d keeps %(chart)s.",
                new=NEW_STANDARD,
                id=target.id,
                chart=target.chart,
            ),
        )
    if source.id == target.id:
        p.add("target", _l("The new book must be another book than the old one."))
    elif source.community_id != target.community_id:
        p.add("target", _l("Both books must belong to the same community."))
    p.raise_if_any()
    policy.require(svc.parent_org(source.id), "prepare", "review", "close", user=actor)
    policy.require(svc.parent_org(target.id), "prepare", user=actor)


def _target_account(
    target: Book, code: str, source_accounts: dict[str, Account], made: list[str], actor: User
) -> Account | None:
    """The target's account ``code``, its missing ancestors created as sub-accounts named as in
    the old book (the nearest existing target account is their root); None when even the
    root is missing (an unmapped first-level code)."""
    existing = _accounts(target)
    if code in existing:
        return existing[code]
    parent = None
    for n in range(len(code) - 1, 0, -1):
        if code[:n] in existing:
            parent = existing[code[:n]]
            break
    if parent is None:
        return None
    # Intermediate levels as the old book had them (e.g. 1002 → 100201 → 10020101).
    chain = sorted(
        (
            c
            for c in source_accounts
            if code.startswith(c) and len(parent.code) < len(c) < len(code)
        ),
        key=len,
    )
    for c in [*chain, code]:
        old = source_accounts.get(c)
        name_zh = old.name_zh if old is not None else c
        name_en = old.name_en if old is not None else ""
        parent = svc.add_sub_account(parent, c, name_zh, name_en, actor=actor)
        made.append(c)
    return parent


def plan_transition(
    source: Book,
    target: Book,
    *,
    actor: User,
    year: int = LAST_OLD_YEAR,
    adjustments: Sequence[opening.OpeningRow] = (),
) -> TransitionPlan:
    """Check the two books and work out the new book's opening rows (see the module doc).

    Creates in the new book the sub-accounts and funds the old one had balances on (a fund
    keeps its code, name, restriction and endowment flag); refuses, naming them, old accounts
    with a balance that no mapping row covers, revenue or expense accounts not closed for
    ``year``, a fund whose restriction differs between the books, and adjustments that do not
    balance or that touch revenue or expenses. A refusal leaves nothing behind (savepoint)."""
    with db.session.begin_nested():
        return _plan(source, target, actor=actor, year=year, adjustments=adjustments)


def _plan(
    source: Book,
    target: Book,
    *,
    actor: User,
    year: int,
    adjustments: Sequence[opening.OpeningRow],
) -> TransitionPlan:
    _check_books(source, target, actor)
    plan = TransitionPlan(source, target, year, dt.date(year + 1, 1, 1))
    balances = _closing_balances(source, year)
    unclosed = sorted(
        {f"{a.code} {a.name_zh}" for a, _fk, _u, _n in balances if a.type in FLOW_TYPES}
    )
    if unclosed:
        raise Conflict(
            _l(
                "Close %(year)d first (年末结转): these revenue and expense accounts still have balances: %(accounts)s.",
                year=year,
                accounts="; ".join(unclosed),
            )
        )
    mapping = _mapping()
    unmapped = sorted(
        {
            f"{a.code} {a.name_zh}"
            for a, _fk, _u, _n in balances
            if map_code(a.code, mapping) is None
        }
    )
    if unmapped:
        raise InvalidInput(
            _l(
                "No mapping row covers these accounts of the old book, so their balances cannot be moved: %(accounts)s. Nothing was stored.",
                accounts="; ".join(unmapped),
            ),
            errors={"mapping": unmapped},
            code="unmapped_accounts",
        )
    source_accounts = _accounts(source)
    source_funds = {
        f.id: f for f in db.session.scalars(sa.select(Fund).where(Fund.book_id == source.id))
    }
    target_funds = {
        f.code: f for f in db.session.scalars(sa.select(Fund).where(Fund.book_id == target.id))
    }
    p = svc.Problems()
    for fund in sorted(
        {source_funds[fk] for _a, fk, _u, _n in balances if fk}, key=lambda f: f.code
    ):
        new = target_funds.get(fund.code)
        if new is None:
            new = svc.create_fund(
                target,
                fund.code,
                fund.name,
                restricted=fund.restricted,
                endowment=fund.endowment,
                purpose=fund.purpose,
                actor=actor,
            )
            target_funds[fund.code] = new
            plan.created_funds.append(fund.code)
        elif (new.restricted, new.endowment) != (fund.restricted, fund.endowment):
            p.add(
                "funds",
                _l(
                    "Fund %(code)s is restricted or an endowment in one book and not in the other: make them agree first.",
                    code=fund.code,
                ),
            )
    p.raise_if_any()
    missing: list[str] = []
    for acc, fk, unit, net in balances:
        found = map_code(acc.code, mapping)
        assert found is not None  # refused above
        new_code, row = found
        if _target_account(target, new_code, source_accounts, plan.created_accounts, actor) is None:
            missing.append(new_code)
            continue
        plan.moved.append(
            MovedBalance(
                old_code=acc.code,
                old_name=acc.name_zh,
                new_code=new_code,
                fund=source_funds[fk].code if fk else "",
                unit=unit,
                balance=net,
                status=row.status,
            )
        )
    if missing:
        raise Conflict(
            _l(
                "The new book lacks the accounts %(codes)s that the mapping names.",
                codes=", ".join(sorted(set(missing))),
            )
        )
    plan.adjustments = list(adjustments)
    plan.rows = _rows(plan)
    return plan


def _adjustment_amounts(target: Book, rows: Sequence[opening.OpeningRow]) -> dict[tuple, int]:
    """Adjustment rows → {(code, fund, unit): debit − credit}, each checked."""
    p = svc.Problems()
    accounts = _accounts(target)
    out: dict[tuple, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    for i, r in enumerate(rows, start=1):
        n = r.line or i
        code = (r.account or "").strip()
        unit = (r.unit or "").strip() or target.base_unit
        exp = svc.unit_exponent(target, unit)
        acc = accounts.get(code)
        if acc is None or exp is None:
            p.add(
                f"adjustments.{n}",
                _l(
                    "Adjustment row %(n)d: there is no account %(code)s in the new book's chart.",
                    n=n,
                    code=code[:40],
                )
                if acc is None
                else _l("Adjustment row %(n)d: unknown unit %(unit)s.", n=n, unit=unit[:24]),
            )
            continue
        if acc.type in FLOW_TYPES:
            p.add(
                f"adjustments.{n}",
                _l(
                    "Adjustment row %(n)d: %(code)s is a revenue or expense account; items never recorded are booked against net assets (净资产), not revenue.",
                    n=n,
                    code=acc.code,
                ),
            )
            continue
        try:
            net = opening.parse_opening_amount(r.debit, exp) - opening.parse_opening_amount(
                r.credit, exp
            )
        except InvalidInput as e:
            p.add(
                f"adjustments.{n}", _l("Adjustment row %(n)d: %(problem)s", n=n, problem=e.message)
            )
            continue
        out[(code, (r.fund or "").strip(), unit)] += net
        totals[unit] += net
    p.raise_if_any()
    for unit, diff in sorted(totals.items()):
        if diff:
            p.add(
                "adjustments",
                _l(
                    "The adjustments do not balance in %(unit)s (difference %(diff)s): each item never recorded needs both its sides.",
                    unit=unit,
                    diff=format_minor(abs(diff), svc.unit_exponent(target, unit) or 0),
                ),
            )
    p.raise_if_any()
    return out


def _rows(plan: TransitionPlan) -> list[opening.OpeningRow]:
    """The moved balances plus the adjustments, netted per account, fund and unit."""
    net: dict[tuple, int] = defaultdict(int)
    for m in plan.moved:
        net[(m.new_code, m.fund, m.unit)] += m.balance
    for k, v in _adjustment_amounts(plan.target, plan.adjustments).items():
        net[k] += v
    rows: list[opening.OpeningRow] = []
    for (code, fund, unit), amount in sorted(net.items()):
        if not amount:
            continue
        exp = svc.unit_exponent(plan.target, unit) or 0
        text = format_minor(abs(amount), exp)
        rows.append(
            opening.OpeningRow(
                account=code,
                debit=text if amount > 0 else "",
                credit=text if amount < 0 else "",
                unit=unit,
                fund=fund,
                line=len(rows) + 1,
            )
        )
    return rows


def open_from_npo2004(
    source: Book,
    target: Book,
    *,
    actor: User,
    year: int = LAST_OLD_YEAR,
    adjustments: Sequence[opening.OpeningRow] = (),
) -> tuple[TransitionPlan, Voucher]:
    """Plan the transition and save it as the new book's draft openings, dated 1 January of
    ``year + 1`` (then reviewed and posted like any openings: ``ledger.opening``)."""
    with db.session.begin_nested():
        plan = _plan(source, target, actor=actor, year=year, adjustments=adjustments)
        voucher = opening.save_opening(target, plan.rows, actor=actor, date=plan.date)
    return plan, voucher


def book_of_organisation(organisation_id: int) -> Book:
    book = db.session.scalar(sa.select(Book).where(Book.organisation_id == organisation_id))
    if book is None:
        raise InvalidInput(
            _l("Organisation %(id)d has no book.", id=organisation_id), code="no_book"
        )
    return book
