# SPDX-License-Identifier: AGPL-3.0-or-later
"""Shareholders' use cases: the register, subscriptions and payments, transfers (公司法 2023
第84条/第86条, CE-5), dividends (第210条, CE-6) and the check that the register equals the books.

Every function takes the acting user, checks the role and the rules, writes, flushes and never
commits. Every refusal names the rule and the figures and leaves nothing stored: all checks
run before the first write. Money moves only as vouchers through ``ledger.services``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from core.db import db
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Organisation, Resident, ResidentConsent, User
from core.months import Month
from ledger import policy
from ledger import services as lsvc
from ledger.allocation import largest_remainder
from ledger.amounts import format_minor
from ledger.models import Account, Book, Voucher, VoucherKind, VoucherLine, VoucherStatus

from .models import (
    Articles,
    Certificate,
    DividendLine,
    DividendResolution,
    PreemptionClaim,
    RegisterEvent,
    Shareholder,
    Subscription,
    Transfer,
)

SOURCE = "shareholders"
MAX_LLC_SHAREHOLDERS = 50  # CE-7 (公司法 2023 第42条, not verified): a warning, not a refusal
IIT_RATE = Decimal("0.20")  # 个人所得税 on dividends paid to a person
RESERVE_RATE = Decimal("0.10")  # 法定公积金: 10 % of the year's after-tax profit …
RESERVE_CEILING = Decimal("0.50")  # … until it reaches 50 % of registered capital
ACCOUNTS = ("1002", "2221", "2232", "3001", "3101", "3104")


def yuan(fen: int) -> str:
    return "¥" + format_minor(fen, 2)


# --- reading ------------------------------------------------------------------------------------


def book_of(org: Organisation) -> Book:
    book = lsvc.book_for(org)
    if book.chart != "SME_2011":
        raise Conflict(
            _l("A register of shareholders is kept for a company with an SME_2011 book only.")
        )
    return book


def require_write(org: Organisation, actor: User) -> User:
    return policy.require(org, "prepare", user=actor)


def articles(org: Organisation) -> Articles | None:
    return db.session.scalar(
        sa.select(Articles)
        .where(Articles.organisation_id == org.id)
        .order_by(Articles.id.desc())
        .limit(1)
    )


def require_articles(org: Organisation) -> Articles:
    a = articles(org)
    if a is None:
        raise Conflict(_l("Record the articles of association (registered capital) first."))
    return a


def shareholders(org: Organisation) -> list[Shareholder]:
    return list(
        db.session.scalars(
            sa.select(Shareholder)
            .where(Shareholder.organisation_id == org.id)
            .order_by(Shareholder.id)
        )
    )


def get_shareholder(org: Organisation, shareholder_id: int) -> Shareholder:
    s = db.session.get(Shareholder, shareholder_id)
    if s is None or s.organisation_id != org.id:
        raise NotFound(_l("No such shareholder in this register."))
    return s


@dataclass
class Holding:
    shareholder: Shareholder
    subscribed: int = 0
    paid_in: int = 0
    dividends_declared: int = 0
    dividends_paid: int = 0  # gross, of the declared

    @property
    def outstanding(self) -> int:
        return self.subscribed - self.paid_in


def holdings(org: Organisation, as_of: dt.date | None = None) -> dict[int, Holding]:
    """Every shareholder's holding from the register events dated on or before ``as_of``."""
    out = {s.id: Holding(s) for s in shareholders(org)}
    q = (
        sa.select(
            RegisterEvent.shareholder_id,
            RegisterEvent.kind,
            sa.func.sum(RegisterEvent.subscribed_delta),
            sa.func.sum(RegisterEvent.paid_delta),
            sa.func.sum(RegisterEvent.amount),
        )
        .where(RegisterEvent.organisation_id == org.id)
        .group_by(RegisterEvent.shareholder_id, RegisterEvent.kind)
    )
    if as_of is not None:
        q = q.where(RegisterEvent.date <= as_of)
    for sid, kind, sub, paid, amount in db.session.execute(q):
        h = out[sid]
        h.subscribed += int(sub or 0)
        h.paid_in += int(paid or 0)
        if kind == "dividend":
            h.dividends_declared += int(amount or 0)
        elif kind == "dividend_paid":
            h.dividends_paid += int(amount or 0)
    return out


def holders(org: Organisation, as_of: dt.date | None = None) -> list[Holding]:
    """Shareholders holding something (subscribed or paid in) at ``as_of``."""
    return [h for h in holdings(org, as_of).values() if h.subscribed or h.paid_in]


def registered_capital(org: Organisation) -> int:
    a = articles(org)
    return a.registered_capital if a else 0


def events(org: Organisation, shareholder: Shareholder | None = None) -> list[RegisterEvent]:
    q = sa.select(RegisterEvent).where(RegisterEvent.organisation_id == org.id)
    if shareholder is not None:
        q = q.where(RegisterEvent.shareholder_id == shareholder.id)
    return list(db.session.scalars(q.order_by(RegisterEvent.date, RegisterEvent.id)))


def account_sums(
    book: Book, code: str, as_of: dt.date | None = None
) -> dict[tuple[int | None, int | None], int]:
    """Credit minus debit of posted lines on account ``code`` (and its sub-accounts), per
    counterparty (resident id, organisation id), dated on or before ``as_of``."""
    q = (
        sa.select(
            VoucherLine.resident_id,
            VoucherLine.counterparty_org_id,
            sa.func.sum(VoucherLine.credit - VoucherLine.debit),
        )
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .join(Account, Account.id == VoucherLine.account_id)
        .where(
            Voucher.book_id == book.id,
            Voucher.status == VoucherStatus.POSTED.value,
            sa.or_(Account.code == code, Account.code.like(code + "%")),
        )
        .group_by(VoucherLine.resident_id, VoucherLine.counterparty_org_id)
    )
    if as_of is not None:
        q = q.where(Voucher.date <= as_of)
    return {(r, o): int(v or 0) for r, o, v in db.session.execute(q)}


def account_balance(book: Book, code: str, as_of: dt.date | None = None) -> int:
    """The credit balance of ``code`` (negative: a debit balance)."""
    return sum(account_sums(book, code, as_of).values())


@dataclass
class Difference:
    account: str
    counterparty: str
    register: int
    books: int


def check_register(org: Organisation, as_of: dt.date | None = None) -> list[Difference]:
    """The register equals the books: paid-in capital per shareholder = 3001 per counterparty,
    and dividends declared but unpaid per shareholder = 2232 per counterparty. The list of
    differences (empty when they agree)."""
    book = book_of(org)
    hs = holdings(org, as_of)
    out: list[Difference] = []
    for code, figure in (
        ("3001", lambda h: h.paid_in),
        ("2232", lambda h: h.dividends_declared - h.dividends_paid),
    ):
        books = account_sums(book, code, as_of)
        register: dict[tuple[int | None, int | None], int] = defaultdict(int)
        for h in hs.values():
            key = (h.shareholder.resident_id, h.shareholder.holder_org_id)
            register[key] += figure(h)
        for key in sorted(set(books) | set(register), key=lambda k: (k[0] or 0, k[1] or 0)):
            if books.get(key, 0) != register.get(key, 0):
                label = (
                    f"resident {key[0]}"
                    if key[0]
                    else (f"organisation {key[1]}" if key[1] else "none")
                )
                out.append(Difference(code, label, register.get(key, 0), books.get(key, 0)))
    return out


def overdue_subscriptions(org: Organisation, today: dt.date | None = None) -> list[tuple]:
    """(subscription, unpaid fen) of subscriptions past their due date and not fully paid:
    payments count against a shareholder's subscriptions in order of due date, and so does
    subscribed capital transferred away (it left with its payment)."""
    today = today or dt.date.today()
    hs = holdings(org, today)
    subs = list(
        db.session.scalars(
            sa.select(Subscription)
            .where(Subscription.organisation_id == org.id, Subscription.date <= today)
            .order_by(Subscription.shareholder_id, Subscription.due_date, Subscription.id)
        )
    )
    subscribed: dict[int, int] = defaultdict(int)
    for s in subs:
        subscribed[s.shareholder_id] += s.amount
    settled = {sid: h.paid_in + max(0, subscribed[sid] - h.subscribed) for sid, h in hs.items()}
    out = []
    for s in subs:
        covered = min(settled[s.shareholder_id], s.amount)
        settled[s.shareholder_id] -= covered
        if covered < s.amount and s.due_date < today:
            out.append((s, s.amount - covered))
    return out


def certificates(org: Organisation, shareholder: Shareholder | None = None) -> list[Certificate]:
    q = sa.select(Certificate).where(Certificate.organisation_id == org.id)
    if shareholder is not None:
        q = q.where(Certificate.shareholder_id == shareholder.id)
    return list(db.session.scalars(q.order_by(Certificate.number)))


def current_certificate(shareholder: Shareholder) -> Certificate | None:
    return db.session.scalar(
        sa.select(Certificate)
        .where(Certificate.shareholder_id == shareholder.id, Certificate.void_on.is_(None))
        .order_by(Certificate.number.desc())
        .limit(1)
    )


def shareholder_of_user(org: Organisation, user: User) -> Shareholder | None:
    return db.session.scalar(
        sa.select(Shareholder)
        .join(Resident, Resident.id == Shareholder.resident_id)
        .where(Shareholder.organisation_id == org.id, Resident.user_id == user.id)
    )


def holdings_of_user(user: User) -> list[Shareholder]:
    return list(
        db.session.scalars(
            sa.select(Shareholder)
            .join(Resident, Resident.id == Shareholder.resident_id)
            .where(Resident.user_id == user.id)
            .order_by(Shareholder.id)
        )
    )


def publish_name_in_force(resident_id: int, on: dt.date | None = None) -> bool:
    """The resident's latest publish_name action for the register, recorded on or before ``on``,
    is a grant. A consent counts here when its scope is general (blank) or names the
    shareholding ("股东"/"shareholder"); one given for, say, donor recognition does not."""
    q = sa.select(ResidentConsent.action, ResidentConsent.scope).where(
        ResidentConsent.resident_id == resident_id, ResidentConsent.kind == "publish_name"
    )
    if on is not None:
        q = q.where(
            ResidentConsent.recorded_at
            < dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min)
        )
    for action, scope in db.session.execute(q.order_by(ResidentConsent.id.desc())):
        scope = (scope or "").strip().lower()
        if not scope or "股东" in scope or "shareholder" in scope:
            return action == "grant"
    return False


# --- writing: articles, shareholders, subscriptions, payments ------------------------------------


def _positive(value: int, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(
            _l("The amount must be a positive number of fen."),
            errors={field_name: [str(_l("Must be positive."))]},
        )
    return value


def set_articles(
    org: Organisation,
    *,
    registered_capital: int,
    actor: User,
    company_type: str = "llc",
    residents_only: bool = False,
    lockup_days: int = 0,
    preemption_waived: bool = False,
    preemption_days: int = 30,
    dividend_cap_pct: Decimal | None = None,
    dividend_cap_citation: str = "",
    reinvestment_min_pct: Decimal | None = None,
    reinvestment_citation: str = "",
) -> Articles:
    require_write(org, actor)
    book_of(org)
    _positive(registered_capital, "registered_capital")
    subscribed = sum(h.subscribed for h in holdings(org).values())
    if registered_capital < subscribed:
        raise Conflict(
            _l(
                "The registered capital %(capital)s is less than the capital already subscribed"
                " (%(subscribed)s).",
                capital=yuan(registered_capital),
                subscribed=yuan(subscribed),
            )
        )
    if company_type not in ("llc", "jsc"):
        raise InvalidInput(errors={"company_type": [str(_l("llc or jsc."))]})
    if not 0 <= lockup_days <= 36500 or not 0 <= preemption_days <= 365:
        raise InvalidInput(_l("Lock-up and pre-emption periods are whole days (0 or more)."))
    for pct, cite, name in (
        (dividend_cap_pct, dividend_cap_citation, "dividend_cap_citation"),
        (reinvestment_min_pct, reinvestment_citation, "reinvestment_citation"),
    ):
        if pct is not None and (not 0 <= pct <= 100 or not (cite or "").strip()):
            raise InvalidInput(
                _l("A policy percentage is between 0 and 100 and needs its citation (CE-4)."),
                errors={name: [str(_l("Required."))]},
            )
    a = Articles(
        community_id=org.community_id,
        organisation_id=org.id,
        registered_capital=registered_capital,
        company_type=company_type,
        residents_only=residents_only,
        lockup_days=lockup_days,
        preemption_waived=preemption_waived,
        preemption_days=preemption_days,
        dividend_cap_pct=dividend_cap_pct,
        dividend_cap_citation=(dividend_cap_citation or "")[:300],
        reinvestment_min_pct=reinvestment_min_pct,
        reinvestment_citation=(reinvestment_citation or "")[:300],
        recorded_by_id=actor.id,
    )
    db.session.add(a)
    db.session.flush()
    return a


def _holder_checks(
    org: Organisation, resident: Resident | None, holder_org: Organisation | None
) -> None:
    if (resident is None) == (holder_org is None):
        raise InvalidInput(_l("A shareholder is either a resident or an organisation."))
    if resident is not None and resident.community_id != org.community_id:
        raise Conflict(
            _l(
                "This resident belongs to another community: the register of %(org)s takes"
                " residents of its own community only.",
                org=org.name,
            )
        )
    if holder_org is not None and holder_org.id == org.id:
        raise Conflict(_l("A company does not hold its own shares here."))
    a = articles(org)
    if holder_org is not None and a is not None and a.residents_only:
        raise Conflict(
            _l("The articles of association admit residents of the community only as shareholders.")
        )


def find_shareholder(
    org: Organisation, resident: Resident | None = None, holder_org: Organisation | None = None
) -> Shareholder | None:
    q = sa.select(Shareholder).where(Shareholder.organisation_id == org.id)
    if resident is not None:
        q = q.where(Shareholder.resident_id == resident.id)
    else:
        assert holder_org is not None
        q = q.where(Shareholder.holder_org_id == holder_org.id)
    return db.session.scalar(q)


def add_shareholder(
    org: Organisation,
    *,
    actor: User,
    resident: Resident | None = None,
    holder_org: Organisation | None = None,
) -> Shareholder:
    """The shareholder of ``org`` for the resident or organisation (made if new)."""
    require_write(org, actor)
    _holder_checks(org, resident, holder_org)
    existing = find_shareholder(org, resident, holder_org)
    if existing is not None:
        return existing
    s = Shareholder(
        community_id=org.community_id,
        organisation_id=org.id,
        resident_id=resident.id if resident else None,
        holder_org_id=holder_org.id if holder_org else None,
    )
    db.session.add(s)
    db.session.flush()
    return s


def _event_row(org: Organisation, sh: Shareholder, kind: str, date: dt.date, actor, **kw) -> dict:
    return dict(
        community_id=org.community_id,
        organisation_id=org.id,
        shareholder_id=sh.id,
        kind=kind,
        date=date,
        actor_id=getattr(actor, "id", None),
        **kw,
    )


def _event(org: Organisation, sh: Shareholder, kind: str, date: dt.date, actor, **kw):
    e = RegisterEvent(**_event_row(org, sh, kind, date, actor, **kw))
    db.session.add(e)
    return e


def _insert_many(model, rows: list[dict]) -> None:
    """New rows of ``model`` whose ids nobody needs back (a dividend's lines and events): one
    Core executemany, not the ORM's flush, which on PostgreSQL sends them as one INSERT …
    RETURNING with every value bound (psycopg then spends most of a dividend's time splitting
    that statement). Column defaults apply as in the ORM."""
    if rows:
        db.session.flush()
        db.session.connection().execute(sa.insert(model.__table__), rows)


def count_warning(org: Organisation, extra: int = 0, on: dt.date | None = None) -> str | None:
    """CE-7: a limited company with more than 50 shareholders (a warning, not a refusal)."""
    a = articles(org)
    n = len(holders(org, on)) + extra
    if (a is None or a.company_type == "llc") and n > MAX_LLC_SHAREHOLDERS:
        return str(
            _l(
                "Warning: a limited liability company has at most %(max)d shareholders"
                " (公司法 第42条); this register would have %(n)d. Consider a joint-stock"
                " company or a holding vehicle.",
                max=MAX_LLC_SHAREHOLDERS,
                n=n,
            )
        )
    return None


def subscribe(
    org: Organisation,
    shareholder: Shareholder,
    *,
    amount: int,
    date: dt.date,
    due_date: dt.date,
    actor: User,
) -> tuple[Subscription, str | None]:
    """认缴: the shareholder subscribes ``amount`` fen, to be paid in by ``due_date``. Refused
    beyond the registered capital. Returns the subscription and a CE-7 warning, if any."""
    require_write(org, actor)
    a = require_articles(org)
    _positive(amount, "amount")
    if shareholder.organisation_id != org.id:
        raise NotFound(_l("No such shareholder in this register."))
    if due_date < date:
        raise InvalidInput(
            _l("The due date cannot be before the subscription date."),
            errors={"due_date": [str(_l("Too early."))]},
        )
    total = sum(h.subscribed for h in holdings(org).values())
    if total + amount > a.registered_capital:
        raise Conflict(
            _l(
                "Subscribing %(amount)s would exceed the registered capital %(capital)s:"
                " %(subscribed)s is already subscribed, %(left)s is left.",
                amount=yuan(amount),
                capital=yuan(a.registered_capital),
                subscribed=yuan(total),
                left=yuan(a.registered_capital - total),
            )
        )
    new_holder = not any(h.shareholder.id == shareholder.id for h in holders(org))
    warning = count_warning(org, 1 if new_holder else 0)
    sub = Subscription(
        community_id=org.community_id,
        organisation_id=org.id,
        shareholder_id=shareholder.id,
        date=date,
        amount=amount,
        due_date=due_date,
        created_by_id=actor.id,
    )
    db.session.add(sub)
    db.session.flush()
    _event(
        org,
        shareholder,
        "subscribe",
        date,
        actor,
        subscribed_delta=amount,
        subscription_id=sub.id,
        reason=str(_l("Subscription due %(due)s", due=due_date.isoformat())),
    )
    db.session.flush()
    return sub, warning


def _counterparty(sh: Shareholder) -> dict:
    return {"resident_id": sh.resident_id, "counterparty_org_id": sh.holder_org_id}


def _accounts(book: Book) -> dict[str, int]:
    found = dict(
        db.session.execute(
            sa.select(Account.code, Account.id).where(
                Account.book_id == book.id, Account.code.in_(ACCOUNTS)
            )
        ).all()
    )
    missing = [c for c in ACCOUNTS if c not in found]
    if missing:
        raise Conflict(_l("The book lacks account(s) %(codes)s.", codes=", ".join(missing)))
    return found


def _closed(book: Book, date: dt.date) -> bool:
    return book.closed_through is not None and Month.of(date).key <= book.closed_through


def _require_open(book: Book, date: dt.date) -> None:
    if _closed(book, date):
        raise Conflict(
            _l(
                "%(date)s is in a closed period (closed through %(month)s). Date it in an open"
                " month.",
                date=date.isoformat(),
                month=str(Month.from_key(book.closed_through or 0)),
            )
        )


def _post(book: Book, date: dt.date, summary: str, lines, actor: User, today=None) -> int:
    (vid,) = lsvc.post_vouchers(
        book,
        [lsvc.VoucherInput(date=date, summary=summary[:300], lines=lines)],
        kind=VoucherKind.NORMAL,
        source=SOURCE,
        actor=actor,
        today=today,
    )
    return vid


def pay_in(
    org: Organisation,
    shareholder: Shareholder,
    *,
    amount: int,
    date: dt.date,
    actor: User,
    today: dt.date | None = None,
) -> RegisterEvent:
    """实缴: posts Dr 1002 / Cr 3001 with the shareholder as counterparty (their receipt comes
    from the ledger's path), records the event and reissues the certificate."""
    require_write(org, actor)
    book = book_of(org)
    _positive(amount, "amount")
    if shareholder.organisation_id != org.id:
        raise NotFound(_l("No such shareholder in this register."))
    h = holdings(org)[shareholder.id]
    if amount > h.outstanding:
        raise Conflict(
            _l(
                "Paying in %(amount)s is more than the unpaid subscription %(left)s"
                " (subscribed %(subscribed)s, paid in %(paid)s).",
                amount=yuan(amount),
                left=yuan(h.outstanding),
                subscribed=yuan(h.subscribed),
                paid=yuan(h.paid_in),
            )
        )
    _require_open(book, date)
    acc = _accounts(book)
    cp = _counterparty(shareholder)
    vid = _post(
        book,
        date,
        str(_l("Paid-in capital received (register of shareholders)")),
        [
            lsvc.LineInput(account_id=acc["1002"], debit=amount, **cp),
            lsvc.LineInput(account_id=acc["3001"], credit=amount, **cp),
        ],
        actor,
        today,
    )
    e = _event(
        org,
        shareholder,
        "pay",
        date,
        actor,
        paid_delta=amount,
        voucher_id=vid,
        reason=str(_l("Capital paid in")),
    )
    db.session.flush()
    _reissue(org, shareholder, date)
    return e


# --- certificates -------------------------------------------------------------------------------


def _reissue(org: Organisation, sh: Shareholder, date: dt.date) -> Certificate | None:
    """Void the shareholder's current certificate; issue a new one if they still hold."""
    old = current_certificate(sh)
    if old is not None:
        old.void_on = date
    h = holdings(org).get(sh.id)
    if h is None or (not h.paid_in and not h.subscribed):
        db.session.flush()
        return None
    number = (
        db.session.scalar(
            sa.select(sa.func.max(Certificate.number)).where(Certificate.organisation_id == org.id)
        )
        or 0
    ) + 1
    c = Certificate(
        community_id=org.community_id,
        organisation_id=org.id,
        shareholder_id=sh.id,
        number=number,
        issued_on=date,
        subscribed=h.subscribed,
        paid_in=h.paid_in,
    )
    db.session.add(c)
    db.session.flush()
    return c


def issue_certificate(
    org: Organisation, shareholder: Shareholder, *, date: dt.date, actor: User
) -> Certificate:
    """A new certificate (股权证书) for a holder; the previous one is voided."""
    require_write(org, actor)
    h = holdings(org).get(shareholder.id)
    if h is None or shareholder.organisation_id != org.id:
        raise NotFound(_l("No such shareholder in this register."))
    if not h.paid_in and not h.subscribed:
        raise Conflict(
            _l(
                "No certificate for someone who holds nothing: subscribed %(s)s, paid in %(p)s.",
                s=yuan(h.subscribed),
                p=yuan(h.paid_in),
            )
        )
    c = _reissue(org, shareholder, date)
    assert c is not None
    return c


# --- transfers (CE-5) ----------------------------------------------------------------------------


def _check_transferable(
    org: Organisation, seller: Shareholder, amount: int, date: dt.date, a: Articles
) -> None:
    h = holdings(org)[seller.id]
    if amount > h.paid_in:
        raise Conflict(
            _l(
                "Transferring %(amount)s is more than the seller holds (paid-in capital %(held)s).",
                amount=yuan(amount),
                held=yuan(h.paid_in),
            )
        )
    if a.lockup_days:
        first = db.session.scalar(
            sa.select(sa.func.min(RegisterEvent.date)).where(
                RegisterEvent.shareholder_id == seller.id,
                RegisterEvent.kind.in_(("pay", "transfer_in")),
            )
        )
        if first is not None and date < first + dt.timedelta(days=a.lockup_days):
            raise Conflict(
                _l(
                    "The articles of association forbid this transfer: shares are locked up for"
                    " %(days)d days after they are acquired (%(first)s), until %(until)s.",
                    days=a.lockup_days,
                    first=first.isoformat(),
                    until=(first + dt.timedelta(days=a.lockup_days)).isoformat(),
                )
            )


def propose_transfer(
    org: Organisation,
    seller: Shareholder,
    *,
    amount: int,
    price: int,
    date: dt.date,
    actor: User,
    buyer: Shareholder | None = None,
    outsider_resident: Resident | None = None,
    outsider_org: Organisation | None = None,
    payment_terms: str = "",
    today: dt.date | None = None,
) -> tuple[Transfer, str | None]:
    """A transfer between shareholders is entered in the register at once (第84条: freely
    among shareholders). To an outsider it starts with the written notice (quantity, price,
    payment terms) and the pre-emption window of the articles (30 days by default)."""
    require_write(org, actor)
    book_of(org)
    a = require_articles(org)
    _positive(amount, "amount")
    if isinstance(price, bool) or not isinstance(price, int) or price < 0:
        raise InvalidInput(errors={"price": [str(_l("Must be 0 or more."))]})
    if seller.organisation_id != org.id or (buyer is not None and buyer.organisation_id != org.id):
        raise NotFound(_l("No such shareholder in this register."))
    if buyer is not None and buyer.id == seller.id:
        raise InvalidInput(_l("The seller and the buyer are the same shareholder."))
    if buyer is None:
        if outsider_resident is None and outsider_org is None:
            raise InvalidInput(_l("Name the buyer: a shareholder, a resident or an organisation."))
        _holder_checks(org, outsider_resident, outsider_org)
        existing = find_shareholder(org, outsider_resident, outsider_org)
        if existing is not None and existing.id in {h.shareholder.id for h in holders(org)}:
            buyer = existing  # already a shareholder: no outsider
    _check_transferable(org, seller, amount, date, a)
    if buyer is not None:
        window_ends = date
    elif a.preemption_waived:
        window_ends = date
    else:
        window_ends = date + dt.timedelta(days=a.preemption_days)
    t = Transfer(
        community_id=org.community_id,
        organisation_id=org.id,
        seller_id=seller.id,
        buyer_id=buyer.id if buyer else None,
        outsider_resident_id=outsider_resident.id if (outsider_resident and not buyer) else None,
        outsider_org_id=outsider_org.id if (outsider_org and not buyer) else None,
        amount=amount,
        price=price,
        payment_terms=(payment_terms or "")[:300],
        notice_date=date,
        window_ends=window_ends,
        created_by_id=actor.id,
    )
    db.session.add(t)
    db.session.flush()
    warning = None
    if buyer is not None:
        warning = complete_transfer(org, t, date=date, actor=actor, today=today)
    return t, warning


def claim_preemption(
    org: Organisation, transfer: Transfer, shareholder: Shareholder, *, date: dt.date, actor: User
) -> PreemptionClaim:
    """An existing shareholder claims the shares on equal terms, inside the window."""
    require_write(org, actor)
    if transfer.organisation_id != org.id or shareholder.organisation_id != org.id:
        raise NotFound(_l("No such transfer or shareholder in this register."))
    if transfer.status != "notice":
        raise Conflict(_l("This transfer is no longer open for pre-emption."))
    if not transfer.notice_date <= date <= transfer.window_ends:
        raise Conflict(
            _l(
                "Pre-emption claims are accepted from %(start)s to %(end)s only.",
                start=transfer.notice_date.isoformat(),
                end=transfer.window_ends.isoformat(),
            )
        )
    if shareholder.id == transfer.seller_id:
        raise Conflict(_l("The seller cannot claim their own shares."))
    h = holdings(org, date).get(shareholder.id)
    if h is None or not h.paid_in:
        raise Conflict(_l("Only a shareholder with paid-in capital may claim pre-emption."))
    if any(c.shareholder_id == shareholder.id for c in transfer.claims):
        raise Conflict(_l("This shareholder has already claimed."))
    c = PreemptionClaim(
        community_id=org.community_id,
        transfer_id=transfer.id,
        shareholder_id=shareholder.id,
        claimed_on=date,
    )
    db.session.add(c)
    db.session.flush()
    db.session.refresh(transfer, ["claims"])
    return c


def complete_transfer(
    org: Organisation,
    transfer: Transfer,
    *,
    date: dt.date,
    actor: User,
    today: dt.date | None = None,
) -> str | None:
    """Enter the transfer in the register (第86条): after the window, to the claimants pro rata
    to their paid-in capital (largest remainder), or else to the outsider. Posts a voucher that
    moves 3001 between the counterparties (no company money), reissues certificates and sets
    the registry-filing-pending flag. Returns a CE-7 warning, if any."""
    require_write(org, actor)
    book = book_of(org)
    a = require_articles(org)
    if transfer.organisation_id != org.id:
        raise NotFound(_l("No such transfer in this register."))
    if transfer.status != "notice":
        raise Conflict(_l("This transfer is already completed."))
    if transfer.buyer_id is None and date <= transfer.window_ends and not a.preemption_waived:
        raise Conflict(
            _l(
                "The pre-emption window runs until %(end)s (notice given %(start)s, %(days)d"
                " days): the transfer can be completed from %(next)s.",
                end=transfer.window_ends.isoformat(),
                start=transfer.notice_date.isoformat(),
                days=(transfer.window_ends - transfer.notice_date).days,
                next=(transfer.window_ends + dt.timedelta(days=1)).isoformat(),
            )
        )
    _require_open(book, date)
    seller = transfer.seller
    _check_transferable(org, seller, transfer.amount, date, a)
    hs = holdings(org, date)
    # Who receives what.
    parts: list[int] = []
    receivers: list[tuple[Shareholder, int, int]] = []  # shareholder, amount, price share
    if transfer.buyer_id is not None:
        assert transfer.buyer is not None
        receivers = [(transfer.buyer, transfer.amount, transfer.price)]
    elif transfer.claims:
        claims = transfer.claims
        weights = [max(hs[c.shareholder_id].paid_in, 1) for c in claims]
        parts = largest_remainder(transfer.amount, weights)
        prices = largest_remainder(transfer.price, weights) if transfer.price else [0] * len(parts)
        for c, part, p in zip(claims, parts, prices, strict=True):
            if part:
                receivers.append((c.shareholder, part, p))
    else:
        resident = (
            db.session.get(Resident, transfer.outsider_resident_id)
            if transfer.outsider_resident_id
            else None
        )
        holder = (
            db.session.get(Organisation, transfer.outsider_org_id)
            if transfer.outsider_org_id
            else None
        )
        _holder_checks(org, resident, holder)
        sh = add_shareholder(org, resident=resident, holder_org=holder, actor=actor)
        receivers = [(sh, transfer.amount, transfer.price)]
    current = {h.shareholder.id for h in holders(org, date)}
    new = {r.id for r, _a, _p in receivers} - current
    sold_out = hs[seller.id].subscribed == hs[seller.id].paid_in == transfer.amount
    leaving = 1 if sold_out else 0
    warning = count_warning(org, len(new) - leaving, date)
    acc = _accounts(book)
    lines = [lsvc.LineInput(account_id=acc["3001"], debit=transfer.amount, **_counterparty(seller))]
    lines += [
        lsvc.LineInput(account_id=acc["3001"], credit=part, **_counterparty(r))
        for r, part, _p in receivers
    ]
    vid = _post(
        book,
        date,
        str(_l("Share transfer entered in the register of shareholders (no company money)")),
        lines,
        actor,
        today,
    )
    if transfer.claims:
        for c, part in zip(transfer.claims, parts, strict=True):
            c.allocated = part
    transfer.status = "completed"
    transfer.completed_on = date
    transfer.voucher_id = vid
    _event(
        org,
        seller,
        "transfer_out",
        date,
        actor,
        subscribed_delta=-transfer.amount,
        paid_delta=-transfer.amount,
        amount=transfer.price,
        voucher_id=vid,
        transfer_id=transfer.id,
        reason=str(_l("Shares transferred")),
    )
    for r, part, p in receivers:
        _event(
            org,
            r,
            "transfer_in",
            date,
            actor,
            subscribed_delta=part,
            paid_delta=part,
            amount=p,
            voucher_id=vid,
            transfer_id=transfer.id,
            reason=str(_l("Shares acquired by transfer")),
        )
    db.session.flush()
    for sh in [seller] + [r for r, _a, _p in receivers]:
        _reissue(org, sh, date)
    return warning


def record_filing(org: Organisation, transfer: Transfer, *, date: dt.date, actor: User) -> Transfer:
    """The change was filed with the registry (工商变更登记): the pending flag clears."""
    require_write(org, actor)
    if transfer.organisation_id != org.id:
        raise NotFound(_l("No such transfer in this register."))
    if transfer.status != "completed":
        raise Conflict(_l("Only a completed transfer is filed with the registry."))
    if transfer.filing_date is not None:
        raise Conflict(_l("The filing date is already recorded."))
    assert transfer.completed_on is not None
    if date < transfer.completed_on:
        raise InvalidInput(
            _l(
                "The filing date cannot be before the transfer (%(date)s).",
                date=transfer.completed_on.isoformat(),
            )
        )
    transfer.filing_date = date
    db.session.flush()
    return transfer


def transfers(org: Organisation) -> list[Transfer]:
    return list(
        db.session.scalars(
            sa.select(Transfer).where(Transfer.organisation_id == org.id).order_by(Transfer.id)
        )
    )


def get_transfer(org: Organisation, transfer_id: int) -> Transfer:
    t = db.session.get(Transfer, transfer_id)
    if t is None or t.organisation_id != org.id:
        raise NotFound(_l("No such transfer in this register."))
    return t


# --- dividends (CE-6) ----------------------------------------------------------------------------


def year_profit(book: Book, year: int) -> int | None:
    """The year's after-tax profit: what the year-end closing moved into 3104 (None when the
    year has not been closed)."""
    rows = db.session.execute(
        sa.select(
            sa.func.count(VoucherLine.id), sa.func.sum(VoucherLine.credit - VoucherLine.debit)
        )
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .join(Account, Account.id == VoucherLine.account_id)
        .where(
            Voucher.book_id == book.id,
            Voucher.status == VoucherStatus.POSTED.value,
            Voucher.kind == VoucherKind.CLOSING.value,
            Voucher.date >= dt.date(year, 1, 1),
            Voucher.date <= dt.date(year, 12, 31),
            Account.code == "3104",
        )
    ).one()
    if not rows[0]:
        return None
    return int(rows[1] or 0)


def reserve_set_aside(org: Organisation, year: int) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(DividendResolution.reserve), 0)).where(
                DividendResolution.organisation_id == org.id,
                DividendResolution.profit_year == year,
            )
        )
        or 0
    )


@dataclass
class DividendCheck:
    """The figures a resolution is checked against (shown on the form and in refusals)."""

    undistributed: int  # 3104 credit balance at the resolution date
    year_profit: int | None
    reserve_balance: int  # 3101
    reserve_ceiling: int  # 50 % of registered capital
    reserve_required: int  # still to set aside for the year
    distributable: int  # after the reserve this resolution sets aside
    problems: list[str] = field(default_factory=list)


def dividend_figures(org: Organisation, *, profit_year: int, date: dt.date, reserve: int = 0):
    book = book_of(org)
    a = require_articles(org)
    undistributed = account_balance(book, "3104", date)
    profit = year_profit(book, profit_year)
    reserve_balance = account_balance(book, "3101", date)
    ceiling = int(
        (Decimal(a.registered_capital) * RESERVE_CEILING).to_integral_value(ROUND_HALF_UP)
    )
    required = 0
    if profit is not None and profit > 0:
        base = max(0, min(profit, undistributed))  # after making up prior losses
        # Rounded up to the fen: never less than 10 %.
        ten = -((-base * 10) // 100)
        required = max(0, min(ten, ceiling - reserve_balance) - reserve_set_aside(org, profit_year))
    return DividendCheck(
        undistributed=undistributed,
        year_profit=profit,
        reserve_balance=reserve_balance,
        reserve_ceiling=ceiling,
        reserve_required=required,
        distributable=undistributed - reserve,
    )


def declare_dividend(
    org: Organisation,
    *,
    resolution_date: dt.date,
    record_date: dt.date,
    profit_year: int,
    amount: int,
    reserve: int,
    actor: User,
    votes_for: int = 0,
    votes_against: int = 0,
    votes_abstain: int = 0,
    agreed_weights: dict[int, int] | None = None,
    agreement_note: str = "",
    today: dt.date | None = None,
) -> DividendResolution:
    """A shareholders' resolution to distribute ``amount`` fen out of ``profit_year``'s profit,
    checked against the books first (第210条): prior losses made up (3104 in credit), 10 % of
    the year's profit set aside to 3101 (``reserve``, posted by this resolution) until 3101 is
    half the registered capital, the amount within 3104 after the reserve. Split by paid-in
    capital at the record date (largest remainder), or by ``agreed_weights`` when all
    shareholders agreed otherwise. Posts Dr 3104 / Cr 3101 and Dr 3104 / Cr 2232 per shareholder."""
    require_write(org, actor)
    book = book_of(org)
    a = require_articles(org)
    today = today or dt.date.today()
    _positive(amount, "amount")
    if isinstance(reserve, bool) or not isinstance(reserve, int) or reserve < 0:
        raise InvalidInput(errors={"reserve": [str(_l("Must be 0 or more."))]})
    if record_date > today:
        raise InvalidInput(
            _l(
                "The record date %(date)s is in the future (today is %(today)s).",
                date=record_date.isoformat(),
                today=today.isoformat(),
            ),
            errors={"record_date": [str(_l("In the future."))]},
        )
    if record_date > resolution_date:
        raise InvalidInput(
            _l("The record date cannot be after the resolution date."),
            errors={"record_date": [str(_l("Too late."))]},
        )
    if _closed(book, resolution_date):
        raise Conflict(
            _l(
                "The resolution date %(date)s is in a closed period (closed through %(month)s)."
                " Date it in an open month.",
                date=resolution_date.isoformat(),
                month=str(Month.from_key(book.closed_through or 0)),
            )
        )
    fig = dividend_figures(org, profit_year=profit_year, date=resolution_date, reserve=reserve)
    if fig.year_profit is None:
        raise Conflict(
            _l(
                "The year %(year)d has no year-end closing yet: its after-tax profit is not known.",
                year=profit_year,
            )
        )
    if fig.undistributed <= 0:
        raise Conflict(
            _l(
                "Prior losses are not made up: profit distribution (3104) is %(balance)s."
                " Nothing can be distributed (公司法 第210条).",
                balance=yuan(fig.undistributed),
            )
        )
    if reserve < fig.reserve_required:
        raise Conflict(
            _l(
                "The statutory reserve is skipped: 10%% of the year's after-tax profit"
                " %(profit)s must go to surplus reserve (3101) until it reaches 50%% of"
                " registered capital (%(ceiling)s; now %(balance)s). Required %(required)s,"
                " the resolution sets aside %(reserve)s (公司法 第210条).",
                profit=yuan(fig.year_profit),
                ceiling=yuan(fig.reserve_ceiling),
                balance=yuan(fig.reserve_balance),
                required=yuan(fig.reserve_required),
                reserve=yuan(reserve),
            )
        )
    if amount > fig.distributable:
        raise Conflict(
            _l(
                "The dividend %(amount)s exceeds distributable profit %(distributable)s"
                " (profit distribution 3104 %(balance)s less the reserve %(reserve)s).",
                amount=yuan(amount),
                distributable=yuan(max(fig.distributable, 0)),
                balance=yuan(fig.undistributed),
                reserve=yuan(reserve),
            )
        )
    if a.dividend_cap_pct is not None and fig.year_profit > 0:
        cap = int(Decimal(fig.year_profit) * a.dividend_cap_pct / 100)
        if amount > cap:
            raise Conflict(
                _l(
                    "The articles cap dividends at %(pct)s%% of the year's profit (%(cap)s;"
                    " %(cite)s).",
                    pct=a.dividend_cap_pct,
                    cap=yuan(cap),
                    cite=a.dividend_cap_citation,
                )
            )
    if a.reinvestment_min_pct is not None and fig.year_profit > 0:
        # Rounded down to the fen: the reinvested part is never less than the minimum.
        most = int(Decimal(fig.year_profit) * (100 - a.reinvestment_min_pct) / 100)
        if amount > most:
            raise Conflict(
                _l(
                    "The articles keep at least %(pct)s%% of the year's profit for reinvestment"
                    " (CE-3/CE-4): at most %(most)s may be distributed (%(cite)s).",
                    pct=a.reinvestment_min_pct,
                    most=yuan(most),
                    cite=a.reinvestment_citation,
                )
            )
    hs = [h for h in holdings(org, record_date).values() if h.paid_in > 0]
    if agreed_weights:
        if not (agreement_note or "").strip():
            raise InvalidInput(
                _l(
                    "A distribution other than by paid-in capital needs all shareholders'"
                    " agreement, recorded."
                ),
                errors={"agreement_note": [str(_l("Required."))]},
            )
        holders_now = {h.shareholder.id: h for h in holders(org, record_date)}
        bad = [sid for sid in agreed_weights if sid not in holders_now]
        if bad or any(w <= 0 for w in agreed_weights.values()):
            raise InvalidInput(_l("Agreed weights must be positive and name shareholders."))
        weighted = [(holders_now[sid].shareholder, w) for sid, w in sorted(agreed_weights.items())]
    else:
        weighted = [(h.shareholder, h.paid_in) for h in hs]
    if not weighted:
        raise Conflict(
            _l("Nobody holds paid-in capital on the record date %(date)s.", date=record_date)
        )
    parts = largest_remainder(amount, [w for _s, w in weighted])
    acc = _accounts(book)
    inputs = []
    if reserve:
        inputs.append(
            lsvc.VoucherInput(
                date=resolution_date,
                summary=str(_l("Statutory surplus reserve set aside (shareholders' resolution)")),
                lines=[
                    lsvc.LineInput(account_id=acc["3104"], debit=reserve),
                    lsvc.LineInput(account_id=acc["3101"], credit=reserve),
                ],
            )
        )
    lines = [lsvc.LineInput(account_id=acc["3104"], debit=amount)]
    lines += [
        lsvc.LineInput(account_id=acc["2232"], credit=p, **_counterparty(s))
        for (s, _w), p in zip(weighted, parts, strict=True)
        if p
    ]
    inputs.append(
        lsvc.VoucherInput(
            date=resolution_date,
            summary=str(_l("Dividend declared (shareholders' resolution)")),
            lines=lines,
        )
    )
    ids = lsvc.post_vouchers(
        book, inputs, kind=VoucherKind.NORMAL, source=SOURCE, actor=actor, today=today
    )
    r = DividendResolution(
        community_id=org.community_id,
        organisation_id=org.id,
        resolution_date=resolution_date,
        record_date=record_date,
        profit_year=profit_year,
        amount=amount,
        reserve=reserve,
        votes_for=votes_for,
        votes_against=votes_against,
        votes_abstain=votes_abstain,
        basis="agreed" if agreed_weights else "paid_in",
        agreement_note=(agreement_note or "")[:300],
        voucher_id=ids[-1],
        created_by_id=actor.id,
    )
    db.session.add(r)
    db.session.flush()
    paid = [(s, w, p) for (s, w), p in zip(weighted, parts, strict=True) if p]
    _insert_many(
        DividendLine,
        [
            dict(
                community_id=org.community_id,
                resolution_id=r.id,
                shareholder_id=s.id,
                weight=w,
                amount=p,
            )
            for s, w, p in paid
        ],
    )
    reason = str(_l("Dividend declared"))
    _insert_many(
        RegisterEvent,
        [
            _event_row(
                org,
                s,
                "dividend",
                resolution_date,
                actor,
                amount=p,
                voucher_id=ids[-1],
                dividend_id=r.id,
                reason=reason,
            )
            for s, _w, p in paid
        ],
    )
    db.session.refresh(r, ["lines"])
    return r


def income_tax(line: DividendLine) -> int:
    """20 % individual income tax on a dividend paid to a person, rounded half up to the fen."""
    if not line.shareholder.is_person:
        return 0
    return int((Decimal(line.amount) * IIT_RATE).to_integral_value(ROUND_HALF_UP))


def _payment(acc: dict[str, int], line: DividendLine, date: dt.date, texts=None):
    """The payment voucher of one dividend line and the tax it withholds (``texts``: its
    summary and tax memo, translated once for many lines)."""
    summary, memo = texts or _payment_texts()
    cp = _counterparty(line.shareholder)
    tax = income_tax(line)
    lines = [
        lsvc.LineInput(account_id=acc["2232"], debit=line.amount, **cp),
        lsvc.LineInput(account_id=acc["1002"], credit=line.amount - tax, **cp),
    ]
    if tax:
        lines.append(
            lsvc.LineInput(
                account_id=acc["2221"],
                credit=tax,
                memo=memo,
                **cp,
            )
        )
    return lsvc.VoucherInput(date=date, summary=summary, lines=lines), tax


def _payment_texts() -> tuple[str, str]:
    return (
        str(_l("Dividend paid")),
        str(_l("Individual income tax withheld on dividends, 20 per cent")),
    )


def _paid(org: Organisation, line: DividendLine, date: dt.date, tax: int, vid: int, actor) -> None:
    line.paid_on = date
    line.tax = tax
    line.payment_voucher_id = vid
    _event(
        org,
        line.shareholder,
        "dividend_paid",
        date,
        actor,
        amount=line.amount,
        voucher_id=vid,
        dividend_id=line.resolution_id,
        reason=str(_l("Dividend paid")),
    )


def _check_payment(org: Organisation, book: Book, r: DividendResolution, date: dt.date) -> None:
    if r.organisation_id != org.id:
        raise NotFound(_l("No such dividend in this register."))
    if date < r.resolution_date:
        raise InvalidInput(_l("A dividend is paid on or after its resolution date."))
    _require_open(book, date)


def pay_dividend(
    org: Organisation,
    line: DividendLine,
    *,
    date: dt.date,
    actor: User,
    today: dt.date | None = None,
) -> DividendLine:
    """Pay one shareholder's dividend: Dr 2232 / Cr 1002 (net) / Cr 2221 (20 % IIT, persons)."""
    require_write(org, actor)
    book = book_of(org)
    r = line.resolution
    if r.organisation_id != org.id:
        raise NotFound(_l("No such dividend in this register."))
    if line.paid_on is not None:
        raise Conflict(_l("This dividend was already paid on %(date)s.", date=line.paid_on))
    _check_payment(org, book, r, date)
    voucher, tax = _payment(_accounts(book), line, date)
    (vid,) = lsvc.post_vouchers(
        book, [voucher], kind=VoucherKind.NORMAL, source=SOURCE, actor=actor, today=today
    )
    _paid(org, line, date, tax, vid, actor)
    db.session.flush()
    return line


def pay_dividends(
    org: Organisation,
    resolution: DividendResolution,
    *,
    date: dt.date,
    actor: User,
    today: dt.date | None = None,
) -> list[DividendLine]:
    """Pay every unpaid line of ``resolution`` at once: the same voucher per shareholder as
    ``pay_dividend`` posts, all through one ``post_vouchers`` call (one transaction; the
    posting engine's reads done once, not once per line). Returns the lines paid."""
    require_write(org, actor)
    book = book_of(org)
    _check_payment(org, book, resolution, date)
    unpaid = list(
        db.session.scalars(
            sa.select(DividendLine)
            .where(DividendLine.resolution_id == resolution.id, DividendLine.paid_on.is_(None))
            .options(selectinload(DividendLine.shareholder))
            .order_by(DividendLine.id)
        )
    )
    if not unpaid:
        raise Conflict(_l("Every line of this dividend is already paid."))
    acc = _accounts(book)
    texts = _payment_texts()
    payments = [_payment(acc, line, date, texts) for line in unpaid]
    vids = lsvc.post_vouchers(
        book,
        [v for v, _tax in payments],
        kind=VoucherKind.NORMAL,
        source=SOURCE,
        actor=actor,
        today=today,
    )
    reason = str(_l("Dividend paid"))
    events = []
    for line, (_v, tax), vid in zip(unpaid, payments, vids, strict=True):
        line.paid_on = date
        line.tax = tax
        line.payment_voucher_id = vid
        events.append(
            _event_row(
                org,
                line.shareholder,
                "dividend_paid",
                date,
                actor,
                amount=line.amount,
                voucher_id=vid,
                dividend_id=resolution.id,
                reason=reason,
            )
        )
    _insert_many(RegisterEvent, events)
    db.session.flush()
    return unpaid


def dividends(org: Organisation) -> list[DividendResolution]:
    return list(
        db.session.scalars(
            sa.select(DividendResolution)
            .where(DividendResolution.organisation_id == org.id)
            .order_by(DividendResolution.resolution_date, DividendResolution.id)
        )
    )


def get_dividend(org: Organisation, dividend_id: int) -> DividendResolution:
    r = db.session.get(DividendResolution, dividend_id)
    if r is None or r.organisation_id != org.id:
        raise NotFound(_l("No such dividend in this register."))
    return r


def get_dividend_line(org: Organisation, line_id: int) -> DividendLine:
    line = db.session.get(DividendLine, line_id)
    if line is None or line.resolution.organisation_id != org.id:
        raise NotFound(_l("No such dividend in this register."))
    return line
