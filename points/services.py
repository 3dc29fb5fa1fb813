"""Points use cases (DOMAIN.md PT-1 … PT-10). Every movement of points is a voucher in the
scheme's unit in the issuer's book, posted through ``ledger.services.post_vouchers``; the
money side is booked in the same voucher where value moves (PT-9 SME, PT-10 NPO).

Lock order, the same in every service so two never wait on each other: the holders' rows
(``point_holdings``, by scheme then resident) first, then the books' head rows (the posting
engine takes them), by book id. A redemption takes the holder's row with an UPDATE (a row
lock on PostgreSQL, the write lock on SQLite) before it reads the lots, so two concurrent
redemptions of one holder run one after the other and the second sees what the first spent.

Services take the acting user, flush and never commit.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from core.auth import require_role
from core.db import db, utcnow
from core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from core.models import Organisation, Resident, Role, User
from core.months import Month
from ledger import services as ledger
from ledger.models import Account, AccountPeriodBalance, Book, Fund, Voucher, VoucherLine

from .models import (
    ExchangeRate,
    ExpiryRule,
    ExpiryRun,
    Funder,
    GrantStatus,
    MoneyMode,
    PointActivity,
    PointGrant,
    PointGrantLine,
    PointHolding,
    PointIssuer,
    PointLot,
    PointObjection,
    PointRedemption,
    PointScheme,
    RedemptionItem,
    SchemeType,
    VolunteerRecord,
)

SOURCE = "points"
STAFF = (Role.ADMIN, Role.PREPARER, Role.REVIEWER)
MANAGE = (Role.ADMIN,)
READ = tuple(Role)
MAX_POINTS = 10**12
REMIND_DAYS = 30

# Accounts of the money side, per accounting standard (PT-9 SME, PT-10 NPO).
MONEY = {
    "SME_2011": {
        "cash": "1001",
        "bank": "1002",
        "revenue": "5001",
        "cost": "5601",
        "receivable": "1221",
        "payable": "2241",
        "prepaid": "2203",
        "lapse": "5001",
    },
    "NPO_2004": {
        "cash": "1001",
        "bank": "1002",
        "revenue": "4301",
        "cost": "5101",
        "receivable": "1122",
        "payable": "2209",
        "prepaid": "2203",
        "lapse": "4901",
        "restricted": "3102",
        "unrestricted": "3101",
    },
}
MONEY["NPO_2024"] = MONEY["NPO_2004"]


# --- small helpers ------------------------------------------------------------------------------


def _today() -> dt.date:
    return dt.date.today()


def fmt_points(points: int, decimals: int) -> str:
    if decimals == 0:
        return str(points)
    q = Decimal(points).scaleb(-decimals)
    return f"{q:.{decimals}f}"


def fmt_fen(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100}.{fen % 100:02d}"


def parse_points(value, scheme: PointScheme, *, field: str = "points") -> int:
    """Minor units of a point amount: positive, with no more decimals than the scheme has."""
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            _l("%(value)s is not a number of points.", value=str(value)[:40]),
            errors={field: [str(_l("Not a number of points."))]},
        ) from None
    if isinstance(value, float) or not d.is_finite():
        raise InvalidInput(_l("%(value)s is not a number of points.", value=str(value)[:40]))
    if d <= 0:
        raise InvalidInput(
            _l("Points must be more than zero (got %(value)s).", value=str(value)[:40]),
            errors={field: [str(_l("Points must be more than zero."))]},
        )
    minor = d.scaleb(scheme.decimals)
    if minor != minor.to_integral_value():
        raise InvalidInput(
            _l(
                "Scheme %(scheme)s has %(n)d decimals; %(value)s has more.",
                scheme=scheme.name,
                n=scheme.decimals,
                value=str(value)[:40],
            ),
            errors={field: [str(_l("Too many decimals for this scheme."))]},
        )
    if minor > MAX_POINTS:
        raise InvalidInput(_l("The number of points is too large."))
    return int(minor)


def value_of(scheme: PointScheme, points: int) -> int:
    """Fen value of ``points`` (minor units): value per point × points, rounded half up."""
    exact = Decimal(points) * scheme.value_fen / (Decimal(10) ** scheme.decimals)
    return int(exact.to_integral_value(ROUND_HALF_UP))


def _issuer_org(issuer: PointIssuer) -> Organisation:
    # Through the relationship: the issuer holds the organisation, so the session's (weak)
    # identity map keeps it for the request instead of reading it again at every role check.
    return issuer.organisation


def require_staff(issuer: PointIssuer, user: User | None) -> User:
    if user is None:
        raise NotPermitted()
    return require_role(_issuer_org(issuer), *STAFF, user=user)


def require_reader(issuer: PointIssuer, user: User | None) -> User:
    if user is None:
        raise NotPermitted()
    return require_role(_issuer_org(issuer), *READ, user=user)


def get_issuer(issuer_id: int) -> PointIssuer:
    issuer = db.session.get(PointIssuer, issuer_id)
    if issuer is None:
        raise NotFound(_l("No such points issuer."))
    return issuer


def get_scheme(scheme_id: int) -> PointScheme:
    s = db.session.get(PointScheme, scheme_id)
    if s is None:
        raise NotFound(_l("No such points scheme."))
    return s


def get_item(item_id: int) -> RedemptionItem:
    it = db.session.get(RedemptionItem, item_id)
    if it is None:
        raise NotFound(_l("No such redemption item."))
    return it


def get_grant(grant_id: int) -> PointGrant:
    g = db.session.get(PointGrant, grant_id)
    if g is None:
        raise NotFound(_l("No such points grant."))
    return g


def _resident(community_id: int, resident_id: int) -> Resident:
    r = db.session.get(Resident, resident_id)
    if r is None or r.community_id != community_id:
        raise NotFound(_l("No such resident in this community."))
    return r


def _account(book: Book, code: str) -> Account:
    acc = ledger.account_by_code(book, code)
    if acc is None:
        raise Conflict(_l("The book has no account %(code)s.", code=code))
    return acc


def _book_accounts(book: Book) -> dict[str, Account]:
    """The money accounts points use in this book (and their points sub-accounts), read in one
    query and kept for the session."""
    cache = db.session.info.setdefault("points_accounts", {})
    found = cache.get(book.id)
    if found is None:
        codes = {c for m in MONEY.values() for c in m.values()}
        codes |= {c + "90" for c in codes}
        found = cache[book.id] = {
            a.code: a
            for a in db.session.scalars(
                sa.select(Account).where(Account.book_id == book.id, Account.code.in_(codes))
            )
        }
    return found


def _posting_account(book: Book, code: str) -> Account:
    """The account ``code`` itself, or (when it has sub-accounts) its points sub-account."""
    known = _book_accounts(book)
    acc = known.get(code)
    if acc is None:
        raise Conflict(_l("The book has no account %(code)s.", code=code))
    if not acc.has_children:
        return acc
    sub = known.get(code + "90")
    if sub is None:
        sub = known[code + "90"] = ledger.add_sub_account(
            acc, code + "90", acc.name_zh + "—积分", acc.name_en + " - points"
        )
    return sub


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_accounts(session, previous_transaction) -> None:
    """A rollback (of any savepoint) may take accounts or whole books with it."""
    session.info.pop("points_accounts", None)


def _sub(book: Book, parent_code: str, code: str, zh: str, en: str) -> Account:
    acc = db.session.scalar(
        sa.select(Account).where(Account.book_id == book.id, Account.code == code)
    )
    if acc is not None:
        return acc
    return ledger.add_sub_account(_account(book, parent_code), code, zh, en)


def _money(book: Book) -> dict[str, str]:
    m = MONEY.get(book.standard)
    if m is None:
        raise Conflict(
            _l(
                "Service points need an SME or NPO book; this book keeps %(standard)s.",
                standard=book.standard,
            )
        )
    return m


# --- issuers, schemes, catalogue ----------------------------------------------------------------


def create_issuer(
    organisation: Organisation, *, kind: str, name: str = "", actor: User
) -> PointIssuer:
    require_role(organisation, *MANAGE, user=actor)
    if kind not in ("enterprise", "foundation", "community"):
        raise InvalidInput(_l("An issuer is an enterprise, a foundation or a community."))
    ledger.book_for(organisation)  # an issuer keeps its points in its book
    if db.session.scalar(
        sa.select(PointIssuer.id).where(PointIssuer.organisation_id == organisation.id)
    ):
        raise Conflict(_l("This organisation already issues points."))
    issuer = PointIssuer(
        community_id=organisation.community_id,
        organisation_id=organisation.id,
        name=(name or organisation.name)[:200],
        kind=kind,
    )
    db.session.add(issuer)
    db.session.flush()
    return issuer


def create_scheme(
    issuer: PointIssuer,
    *,
    name: str,
    type: str,
    unit: str,
    value_fen: int = 0,
    decimals: int = 0,
    money_mode: str = MoneyMode.VOLUNTEER.value,
    expiry_rule: str = ExpiryRule.NONE.value,
    validity_months: int = 0,
    notice_days: int = 3,
    actor: User,
) -> PointScheme:
    """A scheme declares its points unit in the issuer's book and opens its two accounts in
    that unit (holders 积分—持有人, contra 积分—发行) under 2203; a SERVICE scheme also gets
    预收账款—积分 (CNY) for prepaid points."""
    require_role(_issuer_org(issuer), *MANAGE, user=actor)
    p = ledger.Problems()
    name = (name or "").strip()
    if not name or len(name) > 100:
        p.add("name", _l("The scheme needs a name of up to 100 characters."))
    if type not in {t.value for t in SchemeType}:
        p.add("type", _l("A scheme is BASIC or SERVICE."))
    if expiry_rule not in {r.value for r in ExpiryRule}:
        p.add("expiry_rule", _l("Unknown expiry rule."))
    if money_mode not in {m.value for m in MoneyMode}:
        p.add("money_mode", _l("Unknown money mode."))
    if not (0 <= decimals <= 2):
        p.add("decimals", _l("Points have 0 to 2 decimals."))
    if not (0 <= notice_days <= 30):
        p.add("notice_days", _l("The notice period is 0 to 30 days."))
    if expiry_rule != ExpiryRule.NONE and not (1 <= validity_months <= 120):
        p.add("validity_months", _l("Validity is 1 to 120 months."))
    if type == SchemeType.SERVICE and not (1 <= value_fen <= 100_000):
        p.add("value_fen", _l("A service point is worth 1 fen to ¥1,000."))
    if type == SchemeType.BASIC and value_fen:
        p.add("value_fen", _l("Basic points have no value: they are never redeemable."))
    p.raise_if_any()
    book = ledger.book_for(_issuer_org(issuer))
    if type == SchemeType.SERVICE:
        _money(book)
    if db.session.scalar(
        sa.select(PointScheme.id).where(
            PointScheme.issuer_id == issuer.id, PointScheme.unit == unit
        )
    ):
        raise Conflict(_l("Unit %(unit)s is already used by a scheme.", unit=unit))
    ledger.declare_unit(book, unit, name, decimals)
    n = (
        db.session.scalar(sa.select(sa.func.count()).where(PointScheme.book_id == book.id)) or 0
    ) + 1
    if n > 9:
        raise Conflict(_l("A book holds at most nine points schemes."))
    holders = _sub(
        book, "2203", f"22038{n}1", f"积分—持有人（{name}）", f"Points - holders ({name})"
    )
    contra = _sub(book, "2203", f"22038{n}2", f"积分—发行（{name}）", f"Points - issued ({name})")
    prepaid = None
    if type == SchemeType.SERVICE:
        prepaid = _sub(
            book,
            "2203",
            f"22039{n}",
            f"预收账款—积分（{name}）",
            f"Receipts in advance - points ({name})",
        )
    scheme = PointScheme(
        community_id=issuer.community_id,
        issuer_id=issuer.id,
        book_id=book.id,
        name=name,
        type=type,
        unit=unit,
        decimals=decimals,
        value_fen=value_fen,
        money_mode=money_mode,
        expiry_rule=expiry_rule,
        validity_months=validity_months if expiry_rule != ExpiryRule.NONE else 0,
        notice_days=notice_days,
        holders_account_id=holders.id,
        contra_account_id=contra.id,
        prepaid_account_id=prepaid.id if prepaid else None,
    )
    db.session.add(scheme)
    db.session.flush()
    return scheme


def create_activity(
    scheme: PointScheme,
    *,
    name: str,
    points,
    tag: str = "charitable",
    approver_roles: str = "admin,reviewer",
    actor: User,
) -> PointActivity:
    require_role(_issuer_org(scheme.issuer), *MANAGE, user=actor)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(_l("The activity needs a name of up to 200 characters."))
    if tag not in ("charitable", "public", "market"):
        raise InvalidInput(_l("An activity is charitable, public or market service."))
    roles = [r.strip() for r in approver_roles.split(",") if r.strip()]
    if not roles or any(r not in {x.value for x in Role} for r in roles):
        raise InvalidInput(_l("Name the roles that may approve, e.g. admin,reviewer."))
    a = PointActivity(
        community_id=scheme.community_id,
        scheme_id=scheme.id,
        name=name,
        tag=tag,
        points=parse_points(points, scheme),
        approver_roles=",".join(roles),
    )
    db.session.add(a)
    db.session.flush()
    return a


def create_item(
    issuer: PointIssuer,
    scheme: PointScheme,
    *,
    name: str,
    price_fen: int,
    max_points,
    funder: str = Funder.ISSUER.value,
    fund_id: int | None = None,
    merchant_org_id: int | None = None,
    actor: User,
) -> RedemptionItem:
    require_role(_issuer_org(issuer), *MANAGE, user=actor)
    if scheme.issuer_id != issuer.id or scheme.type != SchemeType.SERVICE:
        raise InvalidInput(_l("Items are priced in a SERVICE scheme of the same issuer."))
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(_l("The item needs a name of up to 200 characters."))
    if type(price_fen) is not int or not (1 <= price_fen <= 10**10):
        raise InvalidInput(_l("The price must be a positive amount in fen."))
    if funder not in {f.value for f in Funder}:
        raise InvalidInput(_l("The funder is the issuer, a fund or a merchant."))
    if funder == Funder.FUND:
        fund = db.session.get(Fund, fund_id) if fund_id else None
        if fund is None or fund.book_id != scheme.book_id:
            raise InvalidInput(_l("Name a fund of the issuer's book."))
    if funder == Funder.MERCHANT and (
        not merchant_org_id or db.session.get(Organisation, merchant_org_id) is None
    ):
        raise InvalidInput(_l("Name the merchant organisation that reimburses."))
    it = RedemptionItem(
        community_id=issuer.community_id,
        issuer_id=issuer.id,
        scheme_id=scheme.id,
        name=name,
        price_fen=price_fen,
        max_points=parse_points(max_points, scheme, field="max_points"),
        funder=funder,
        fund_id=fund_id if funder == Funder.FUND else None,
        merchant_org_id=merchant_org_id if funder == Funder.MERCHANT else None,
    )
    db.session.add(it)
    db.session.flush()
    return it


def update_scheme(
    scheme: PointScheme, *, name: str | None = None, notice_days: int | None = None, actor: User
) -> PointScheme:
    """Rename a scheme or change its notice period (new approvals use it). Its type, unit,
    decimals, value and expiry are fixed once it exists: points already issued were promised
    under them."""
    require_role(_issuer_org(scheme.issuer), *MANAGE, user=actor)
    if name is not None:
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidInput(_l("The scheme needs a name of up to 100 characters."))
        scheme.name = name
    if notice_days is not None:
        if type(notice_days) is not int or not (0 <= notice_days <= 30):
            raise InvalidInput(_l("The notice period is 0 to 30 days."))
        scheme.notice_days = notice_days
    db.session.flush()
    return scheme


def update_activity(
    activity: PointActivity,
    *,
    name: str | None = None,
    points=None,
    tag: str | None = None,
    approver_roles: str | None = None,
    active: bool | None = None,
    actor: User,
) -> PointActivity:
    """Change an activity of the catalogue; grants already requested keep their points."""
    require_role(_issuer_org(activity.scheme.issuer), *MANAGE, user=actor)
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput(_l("The activity needs a name of up to 200 characters."))
        activity.name = name
    if tag is not None:
        if tag not in ("charitable", "public", "market"):
            raise InvalidInput(_l("An activity is charitable, public or market service."))
        activity.tag = tag
    if approver_roles is not None:
        roles = [r.strip() for r in approver_roles.split(",") if r.strip()]
        if not roles or any(r not in {x.value for x in Role} for r in roles):
            raise InvalidInput(_l("Name the roles that may approve, e.g. admin,reviewer."))
        activity.approver_roles = ",".join(roles)
    if points is not None:
        activity.points = parse_points(points, activity.scheme)
    if active is not None:
        activity.active = bool(active)
    db.session.flush()
    return activity


def update_item(
    item: RedemptionItem,
    *,
    name: str | None = None,
    price_fen: int | None = None,
    max_points=None,
    active: bool | None = None,
    actor: User,
) -> RedemptionItem:
    """Change an item's name, price, cap or whether it is offered; redemptions already made
    keep theirs. Who bears the cost is fixed (make a new item to change it)."""
    require_role(_issuer_org(get_issuer(item.issuer_id)), *MANAGE, user=actor)
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput(_l("The item needs a name of up to 200 characters."))
        item.name = name
    if price_fen is not None:
        if type(price_fen) is not int or not (1 <= price_fen <= 10**10):
            raise InvalidInput(_l("The price must be a positive amount in fen."))
        item.price_fen = price_fen
    if max_points is not None:
        item.max_points = parse_points(max_points, item.scheme, field="max_points")
    if active is not None:
        item.active = bool(active)
    db.session.flush()
    return item


def record_volunteer_hours(
    community_id: int,
    resident_id: int,
    *,
    activity: str,
    date: dt.date,
    minutes: int,
    actor: User,
    issuer: PointIssuer | None = None,
) -> VolunteerRecord:
    """A 志愿服务记录 (PT-6): recorded once, approved by a second person, never changed, sold,
    converted or priced. With ``issuer`` its staff record it (and see it on its pages)."""
    if issuer is not None:
        require_staff(issuer, actor)
        community_id = issuer.community_id
    _resident(community_id, resident_id)
    if type(minutes) is not int or not (1 <= minutes <= 24 * 60):
        raise InvalidInput(_l("Minutes of service are 1 to 1440 per record."))
    activity = (activity or "").strip()
    if not activity or len(activity) > 200:
        raise InvalidInput(_l("Name the activity (up to 200 characters)."))
    if date > _today():
        raise InvalidInput(_l("The service date %(date)s is in the future.", date=date.isoformat()))
    rec = VolunteerRecord(
        community_id=community_id,
        resident_id=resident_id,
        activity=activity,
        date=date,
        minutes=minutes,
        recorded_by_id=actor.id,
        issuer_id=issuer.id if issuer is not None else None,
    )
    db.session.add(rec)
    db.session.flush()
    return rec


def parse_hours(value) -> int:
    """Hours of service as typed (``2``, ``1.5``, ``0.25``) → whole minutes, 1 to 1440."""
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        d = Decimal("NaN")
    if isinstance(value, float) or not d.is_finite() or d <= 0 or d > 24:
        raise InvalidInput(
            _l(
                "Hours of service are more than 0 and at most 24 (got %(value)s).",
                value=str(value)[:20],
            ),
            errors={"hours": [str(_l("More than 0 and at most 24."))]},
        )
    minutes = d * 60
    if minutes != minutes.to_integral_value():
        raise InvalidInput(
            _l(
                "Hours of service are counted in whole minutes (got %(value)s).",
                value=str(value)[:20],
            ),
            errors={"hours": [str(_l("Whole minutes only."))]},
        )
    return int(minutes)


def approve_volunteer_record(rec: VolunteerRecord, *, actor: User) -> VolunteerRecord:
    """A second person (an issuer's admin or reviewer, not who recorded it) confirms the record."""
    if rec.issuer_id is None:
        raise Conflict(_l("This record is kept by no issuer; it cannot be approved here."))
    issuer = get_issuer(rec.issuer_id)
    require_role(_issuer_org(issuer), Role.ADMIN, Role.REVIEWER, user=actor)
    if rec.approved_by_id is not None:
        raise Conflict(_l("This volunteer record is already approved."))
    if rec.recorded_by_id == actor.id and not actor.is_platform_admin:
        raise NotPermitted(_l("The person who recorded the hours cannot approve them."))
    rec.approved_by_id = actor.id
    rec.approved_at = utcnow()
    db.session.flush()
    return rec


def volunteer_records(issuer: PointIssuer, *, limit: int = 200) -> list[VolunteerRecord]:
    return list(
        db.session.scalars(
            sa.select(VolunteerRecord)
            .where(VolunteerRecord.issuer_id == issuer.id)
            .order_by(VolunteerRecord.date.desc(), VolunteerRecord.id.desc())
            .limit(limit)
        )
    )


def record_grants(record_ids: Iterable[int]) -> dict[int, PointGrant]:
    """The grant (not rejected) that references each record, if any."""
    ids = list(record_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(PointGrantLine.volunteer_record_id, PointGrant)
        .join(PointGrant, PointGrant.id == PointGrantLine.grant_id)
        .where(
            PointGrantLine.volunteer_record_id.in_(ids),
            PointGrant.status != GrantStatus.REJECTED.value,
        )
    ).all()
    return {rid: g for rid, g in rows if rid is not None}


def request_grant_for_record(
    rec: VolunteerRecord, activity: PointActivity, *, actor: User
) -> PointGrant:
    """Request the catalogue points of ``activity`` for an approved volunteer record: the
    grant references the record; its points are the activity's, never the hours priced
    (PT-6). The grant then goes the one way every grant goes (approve, notice, credit)."""
    if activity.scheme.issuer_id != rec.issuer_id:
        raise InvalidInput(_l("Pick an activity of the issuer that keeps the record."))
    if record_grants([rec.id]):
        raise Conflict(_l("Points were already requested for this volunteer record."))
    return request_grant(
        activity,
        activity_date=rec.date,
        residents=[(rec.resident_id, None)],
        actor=actor,
        volunteer_records={rec.resident_id: rec.id},
    )


def set_rate(
    from_scheme: PointScheme, to_scheme: PointScheme, rate, *, effective_from: dt.date, actor: User
) -> ExchangeRate:
    """The platform's rate (platform admins only): ``rate`` points of ``to_scheme`` per point
    of ``from_scheme``, a discount ≤ 1; it ends the open rate of the pair."""
    if not actor.is_platform_admin:
        raise NotPermitted(_l("Only the platform sets exchange rates."))
    try:
        r = Decimal(str(rate))
    except InvalidOperation:
        raise InvalidInput(_l("%(value)s is not a rate.", value=str(rate)[:20])) from None
    if not r.is_finite() or r <= 0 or r > 1:
        raise InvalidInput(
            _l(
                "An exchange rate is a discount: more than 0 and at most 1 (got %(rate)s).",
                rate=str(rate)[:20],
            )
        )
    if r != r.quantize(Decimal("0.000001")):
        raise InvalidInput(_l("A rate has at most six decimals."))
    _check_circulates(from_scheme, to_scheme)
    for old in db.session.scalars(
        sa.select(ExchangeRate).where(
            ExchangeRate.from_scheme_id == from_scheme.id,
            ExchangeRate.to_scheme_id == to_scheme.id,
            ExchangeRate.effective_to.is_(None),
        )
    ):
        if old.effective_from >= effective_from:
            raise Conflict(_l("A later rate already exists for these schemes."))
        old.effective_to = effective_from
    x = ExchangeRate(
        from_scheme_id=from_scheme.id,
        to_scheme_id=to_scheme.id,
        rate=r,
        effective_from=effective_from,
        set_by_id=actor.id,
    )
    db.session.add(x)
    db.session.flush()
    return x


def _check_circulates(a: PointScheme, b: PointScheme) -> None:
    if a.type != SchemeType.SERVICE or b.type != SchemeType.SERVICE:
        raise InvalidInput(
            _l("Only service points circulate between issuers; basic points never do (PT-2).")
        )
    if a.issuer_id == b.issuer_id:
        raise InvalidInput(_l("An exchange is between two different issuers."))


def rate_on(from_scheme: PointScheme, to_scheme: PointScheme, day: dt.date) -> Decimal:
    r = db.session.scalar(
        sa.select(ExchangeRate.rate).where(
            ExchangeRate.from_scheme_id == from_scheme.id,
            ExchangeRate.to_scheme_id == to_scheme.id,
            ExchangeRate.effective_from <= day,
            sa.or_(ExchangeRate.effective_to.is_(None), ExchangeRate.effective_to > day),
        )
    )
    if r is None:
        raise InvalidInput(
            _l(
                "No exchange rate from %(a)s to %(b)s on %(date)s.",
                a=from_scheme.name,
                b=to_scheme.name,
                date=day.isoformat(),
            )
        )
    return Decimal(r)


# --- expiry dates -------------------------------------------------------------------------------


def expires_on(scheme: PointScheme, earned: dt.date) -> dt.date | None:
    """The first day the points earned on ``earned`` are no longer valid."""
    if scheme.expiry_rule == ExpiryRule.NONE:
        return None
    later = Month.of(earned).plus(scheme.validity_months)
    if scheme.expiry_rule == ExpiryRule.ROLLING_YEAR_END:
        return dt.date(later.year + 1, 1, 1)
    day = min(earned.day, later.last_day.day)
    return dt.date(later.year, later.month, day)


# --- holdings (the locked rows) ----------------------------------------------------------------


def _add_to_holdings(scheme: PointScheme, amounts: dict[int, int]) -> None:
    """Add points to holders' rows (insert or add), in resident order."""
    if not amounts:
        return
    conn = db.session.connection()
    table = PointHolding.__table__
    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    stmt = ins.on_conflict_do_update(
        index_elements=["scheme_id", "resident_id"],
        set_={"balance": table.c.balance + ins.excluded.balance},
    )
    conn.execute(
        stmt,
        [
            {
                "community_id": scheme.community_id,
                "scheme_id": scheme.id,
                "resident_id": r,
                "balance": amounts[r],
            }
            for r in sorted(amounts)
        ],
    )


def _lock_holding(scheme: PointScheme, resident_id: int) -> int:
    """Lock the holder's row (UPDATE: a row lock on PostgreSQL, the write lock on SQLite) and
    return the balance as it is under the lock; 0 for a holder without a row."""
    t = PointHolding.__table__
    row = (
        db.session.connection()
        .execute(
            sa.update(t)
            .where(t.c.scheme_id == scheme.id, t.c.resident_id == resident_id)
            .values(balance=t.c.balance)
            .returning(t.c.balance)
        )
        .first()
    )
    return 0 if row is None else int(row[0])


def _take_from_holding(scheme: PointScheme, resident_id: int, points: int) -> bool:
    """Take ``points`` from the holder's row if it holds that many: one UPDATE that also locks
    the row (a row lock on PostgreSQL, the write lock on SQLite). False: too few, unchanged."""
    t = PointHolding.__table__
    done = (
        db.session.connection()
        .execute(
            sa.update(t)
            .where(
                t.c.scheme_id == scheme.id,
                t.c.resident_id == resident_id,
                t.c.balance >= points,
            )
            .values(balance=t.c.balance - points)
        )
        .rowcount
    )
    return done == 1


def balance(scheme: PointScheme, resident_id: int) -> int:
    return int(
        db.session.scalar(
            sa.select(PointHolding.balance).where(
                PointHolding.scheme_id == scheme.id, PointHolding.resident_id == resident_id
            )
        )
        or 0
    )


def _lots(scheme: PointScheme, resident_id: int) -> list[PointLot]:
    """The holder's lots with points left, oldest first (FIFO: soonest expiry, then earned)."""
    return list(
        db.session.scalars(
            sa.select(PointLot)
            .where(
                PointLot.scheme_id == scheme.id,
                PointLot.resident_id == resident_id,
                PointLot.remaining > 0,
            )
            .order_by(
                PointLot.expires_on.is_(None),
                PointLot.expires_on,
                PointLot.earned_on,
                PointLot.id,
            )
        )
    )


def _valid(lot: PointLot, day: dt.date) -> bool:
    return lot.expires_on is None or day < lot.expires_on


def available(scheme: PointScheme, resident_id: int, day: dt.date) -> int:
    """The holder's points still valid on ``day`` (what a redemption may spend)."""
    return sum(lot.remaining for lot in _lots(scheme, resident_id) if _valid(lot, day))


@dataclass
class Taken:
    points: int = 0
    prepaid_points: int = 0
    prepaid_fen: int = 0


def _spend(scheme: PointScheme, resident_id: int, points: int, day: dt.date) -> Taken:
    """Take ``points`` from the holder, oldest valid lots first. Refuses (nothing stored)
    when the holder has fewer valid points; expired points are never spent.

    One UPDATE both locks the holder's row and takes the points from it (when it holds
    enough); the lots are read under that lock. Refused for expired points, the row gets its
    points back before the refusal, so a caller that goes on in the same transaction sees
    nothing changed."""
    d = scheme.decimals
    if not _take_from_holding(scheme, resident_id, points):
        held = balance(scheme, resident_id)
        raise Conflict(
            _l(
                "Not enough points: the holder has %(held)s, the redemption needs %(points)s.",
                held=fmt_points(held, d),
                points=fmt_points(points, d),
            )
        )
    lots = _lots(scheme, resident_id)
    valid = sum(lot.remaining for lot in lots if _valid(lot, day))
    if points > valid:
        _add_to_holdings(scheme, {resident_id: points})
        held = balance(scheme, resident_id)
        raise Conflict(
            _l(
                "%(expired)s of the holder's %(held)s points have expired on %(date)s; %(valid)s are valid, %(points)s are needed.",
                expired=fmt_points(held - valid, d),
                held=fmt_points(held, d),
                date=day.isoformat(),
                valid=fmt_points(valid, d),
                points=fmt_points(points, d),
            )
        )
    left = points
    taken = Taken(points=points)
    for lot in lots:
        if left == 0:
            break
        if not _valid(lot, day):
            continue
        n = min(lot.remaining, left)
        lot.remaining -= n
        left -= n
        if lot.prepaid:
            taken.prepaid_points += n
    taken.prepaid_fen = value_of(scheme, taken.prepaid_points)
    return taken


# --- grants (PT-4) ------------------------------------------------------------------------------


def request_grant(
    activity: PointActivity,
    *,
    activity_date: dt.date,
    residents: Sequence[tuple[int, int | None]],
    actor: User,
    volunteer_records: dict[int, int] | None = None,
) -> PointGrant:
    """A grant request for the people who took part: ``(resident_id, points or None for the
    activity's points)``."""
    scheme = activity.scheme
    require_staff(scheme.issuer, actor)
    if not activity.active:
        raise Conflict(
            _l("The activity %(name)s is no longer in the catalogue.", name=activity.name)
        )
    if not residents:
        raise InvalidInput(_l("A grant needs at least one person."))
    if activity_date > _today():
        raise InvalidInput(
            _l("The activity date %(date)s is in the future.", date=activity_date.isoformat())
        )
    seen: set[int] = set()
    lines = []
    for rid, pts in residents:
        if rid in seen:
            raise InvalidInput(_l("Resident %(id)d is listed twice.", id=rid))
        seen.add(rid)
        _resident(scheme.community_id, rid)
        n = activity.points if pts is None else pts
        if type(n) is not int or n <= 0 or n > MAX_POINTS:
            raise InvalidInput(
                _l("Points must be more than zero (got %(value)s).", value=str(n)[:40])
            )
        rec_id = (volunteer_records or {}).get(rid)
        if rec_id is not None:
            rec = db.session.get(VolunteerRecord, rec_id)
            if rec is None or rec.resident_id != rid:
                raise InvalidInput(_l("The volunteer record does not belong to this resident."))
            if rec.approved_by_id is None:
                raise Conflict(_l("The volunteer record has not been approved yet."))
        lines.append((rid, n, rec_id))
    grant = PointGrant(
        community_id=scheme.community_id,
        scheme_id=scheme.id,
        activity_id=activity.id,
        activity_date=activity_date,
        status=GrantStatus.REQUESTED.value,
        requested_by_id=actor.id,
        total_points=sum(n for _r, n, _v in lines),
        people=len(lines),
    )
    db.session.add(grant)
    db.session.flush()
    for rid, n, rec_id in lines:
        db.session.add(
            PointGrantLine(
                community_id=grant.community_id,
                grant_id=grant.id,
                resident_id=rid,
                points=n,
                volunteer_record_id=rec_id,
            )
        )
    db.session.flush()
    return grant


def parse_attendance(
    community_id: int, scheme: PointScheme, text: str
) -> list[tuple[int, int | None]]:
    """An attendance list pasted or uploaded as CSV: one person per line, ``resident id`` or
    ``resident id, points``. Every bad line is reported at once."""
    p = ledger.Problems()
    out: list[tuple[int, int | None]] = []
    rows = list(csv.reader(io.StringIO(text or "")))
    if len(rows) > 5000:
        raise InvalidInput(_l("An attendance list has at most 5000 lines."))
    header_possible = True
    for n, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if header_possible and not cells[0].isdigit():
            header_possible = False
            continue  # a header (the first line with anything on it)
        header_possible = False
        try:
            rid = int(cells[0]) if cells[0].isascii() and cells[0].isdigit() else None
        except ValueError:
            rid = None
        if (
            rid is None
            or db.session.get(Resident, rid) is None
            or db.session.get_one(Resident, rid).community_id != community_id
        ):
            p.add(f"lines.{n}", _l("Line %(n)d: no such resident.", n=n))
            continue
        pts: int | None = None
        if len(cells) > 1 and cells[1]:
            try:
                pts = parse_points(cells[1], scheme)
            except InvalidInput as e:
                p.add(f"lines.{n}", _l("Line %(n)d: %(problem)s", n=n, problem=e.message))
                continue
        out.append((rid, pts))
    if not out and not p.errors:
        p.add("lines", _l("A grant needs at least one person."))
    p.raise_if_any()
    return out


def _may_approve(activity: PointActivity, actor: User) -> None:
    roles = [r for r in activity.approver_roles.split(",") if r]
    require_role(_issuer_org(activity.scheme.issuer), *roles, user=actor)


def approve_grant(grant: PointGrant, *, actor: User, today: dt.date | None = None) -> PointGrant:
    """Approve and publish: the notice period (公示) starts today and the grant can be
    credited from ``notice_until`` on, unless someone objects meanwhile."""
    today = today or _today()
    _may_approve(grant.activity, actor)
    if grant.status != GrantStatus.REQUESTED:
        raise Conflict(
            _l(
                "Only a requested grant can be approved (this one is %(status)s).",
                status=grant.status,
            )
        )
    if grant.requested_by_id == actor.id and not actor.is_platform_admin:
        raise NotPermitted(_l("The person who requested a grant cannot approve it."))
    grant.status = GrantStatus.PUBLICISED.value
    grant.approved_by_id = actor.id
    grant.approved_at = utcnow()
    grant.notice_from = today
    grant.notice_until = today + dt.timedelta(days=grant.scheme.notice_days)
    db.session.flush()
    return grant


def reject_grant(grant: PointGrant, *, actor: User) -> PointGrant:
    _may_approve(grant.activity, actor)
    if grant.status not in (GrantStatus.REQUESTED, GrantStatus.PUBLICISED, GrantStatus.HELD):
        raise Conflict(_l("This grant can no longer be rejected."))
    grant.status = GrantStatus.REJECTED.value
    db.session.flush()
    return grant


def object_to_grant(
    grant: PointGrant, reason: str, *, actor: User | None, today: dt.date | None = None
) -> PointObjection:
    """An objection during the notice period holds the grant until it is resolved."""
    today = today or _today()
    reason = (reason or "").strip()
    if not reason or len(reason) > 2000:
        raise InvalidInput(_l("Say what is wrong (up to 2000 characters)."))
    if grant.status not in (GrantStatus.PUBLICISED, GrantStatus.HELD):
        raise Conflict(_l("Objections are taken while a grant is on public notice."))
    assert grant.notice_until is not None
    if today >= grant.notice_until and grant.status == GrantStatus.PUBLICISED:
        raise Conflict(
            _l("The notice period ended on %(date)s.", date=grant.notice_until.isoformat())
        )
    o = PointObjection(
        community_id=grant.community_id,
        grant_id=grant.id,
        reason=reason,
        raised_by_id=getattr(actor, "id", None),
    )
    db.session.add(o)
    grant.status = GrantStatus.HELD.value
    db.session.flush()
    return o


def resolve_objection(objection: PointObjection, *, upheld: bool, actor: User) -> PointGrant:
    grant = get_grant(objection.grant_id)
    _may_approve(grant.activity, actor)
    if objection.resolution is not None:
        raise Conflict(_l("This objection is already resolved."))
    objection.resolution = "upheld" if upheld else "dismissed"
    objection.resolved_by_id = actor.id
    objection.resolved_at = utcnow()
    db.session.flush()
    open_left = db.session.scalar(
        sa.select(sa.func.count()).where(
            PointObjection.grant_id == grant.id, PointObjection.resolution.is_(None)
        )
    )
    if upheld:
        grant.status = GrantStatus.REJECTED.value
    elif not open_left and grant.status == GrantStatus.HELD:
        grant.status = GrantStatus.PUBLICISED.value
    db.session.flush()
    return grant


def credit_grant(grant: PointGrant, *, actor: User, today: dt.date | None = None) -> PointGrant:
    """After the notice: the points voucher (contra Dr, holders Cr per resident; SALE mode
    also moves the value from revenue to 预收账款—积分), the lots and the holdings."""
    today = today or _today()
    scheme = grant.scheme
    require_staff(scheme.issuer, actor)
    if grant.status == GrantStatus.REQUESTED:
        raise Conflict(_l("The grant has not been approved; it cannot be credited."))
    if grant.status == GrantStatus.HELD:
        raise Conflict(_l("An objection holds this grant; resolve it first."))
    if grant.status != GrantStatus.PUBLICISED:
        raise Conflict(_l("This grant is %(status)s; it cannot be credited.", status=grant.status))
    assert grant.notice_until is not None
    if today < grant.notice_until:
        raise Conflict(
            _l(
                "The grant is on public notice until %(date)s; it can be credited from then on.",
                date=grant.notice_until.isoformat(),
            )
        )
    book = db.session.get_one(Book, scheme.book_id)
    amounts: dict[int, int] = defaultdict(int)
    for ln in grant.lines:
        amounts[ln.resident_id] += ln.points
    _add_to_holdings(scheme, amounts)
    lines = [
        ledger.LineInput(
            account_id=scheme.contra_account_id, debit=grant.total_points, unit=scheme.unit
        )
    ]
    lines += [
        ledger.LineInput(
            account_id=scheme.holders_account_id,
            credit=amounts[r],
            unit=scheme.unit,
            resident_id=r,
        )
        for r in sorted(amounts)
    ]
    prepaid = scheme.type == SchemeType.SERVICE and scheme.money_mode == MoneyMode.SALE
    if prepaid:
        m = _money(book)
        v = value_of(scheme, grant.total_points)
        if v:
            assert scheme.prepaid_account_id is not None
            lines += [
                ledger.LineInput(account_id=_posting_account(book, m["revenue"]).id, debit=v),
                ledger.LineInput(account_id=scheme.prepaid_account_id, credit=v),
            ]
    (vid,) = ledger.post_vouchers(
        book,
        [
            ledger.VoucherInput(
                date=today,
                summary=f"积分发放：{grant.activity.name}（{grant.people} 人）"[:300],
                lines=lines,
            )
        ],
        source=SOURCE,
        actor=actor,
    )
    exp = expires_on(scheme, today)
    for ln in grant.lines:
        db.session.add(
            PointLot(
                community_id=scheme.community_id,
                scheme_id=scheme.id,
                resident_id=ln.resident_id,
                grant_id=grant.id,
                earned_on=today,
                expires_on=exp,
                points=ln.points,
                remaining=ln.points,
                prepaid=prepaid,
            )
        )
    grant.status = GrantStatus.CREDITED.value
    grant.credited_on = today
    grant.voucher_id = vid
    db.session.flush()
    return grant


# --- redemption (PT-3, PT-5, PT-9, PT-10) and exchange (PT-2) ----------------------------------


@dataclass
class Quote:
    item: RedemptionItem
    scheme: PointScheme  # whose points are spent
    points: int  # of ``scheme``
    target_points: int  # in the item's scheme
    rate: Decimal
    value_fen: int
    cash_fen: int


def quote(item: RedemptionItem, scheme: PointScheme, points, *, day: dt.date) -> Quote:
    """What ``points`` of ``scheme`` buy of ``item``: the points offset at the item's
    issuer's value (after the exchange rate for another issuer's points), the cash to pay."""
    if not item.active:
        raise Conflict(_l("The item %(name)s is no longer offered.", name=item.name))
    if scheme.type != SchemeType.SERVICE:
        raise InvalidInput(
            _l(
                "Basic points (%(scheme)s) are for reputation only and are never redeemable.",
                scheme=scheme.name,
            )
        )
    n = parse_points(points, scheme)
    target = item.scheme
    rate = Decimal(1)
    t = n
    if scheme.id != target.id:
        if scheme.issuer_id == target.issuer_id:
            raise InvalidInput(
                _l("Redeem these points against an item priced in their own scheme.")
            )
        _check_circulates(scheme, target)
        rate = rate_on(scheme, target, day)
        t = int(
            (
                Decimal(n) * rate * (Decimal(10) ** (target.decimals - scheme.decimals))
            ).to_integral_value(ROUND_DOWN)
        )
        if t <= 0:
            raise InvalidInput(
                _l(
                    "%(points)s points at rate %(rate)s are worth nothing at this issuer.",
                    points=fmt_points(n, scheme.decimals),
                    rate=str(rate),
                )
            )
    if t > item.max_points:
        raise InvalidInput(
            _l(
                "At most %(cap)s points may be used for %(item)s; %(points)s were offered.",
                cap=fmt_points(item.max_points, target.decimals),
                item=item.name,
                points=fmt_points(t, target.decimals),
            )
        )
    v = value_of(target, t)
    if v > item.price_fen:
        raise InvalidInput(
            _l(
                "%(points)s points are worth %(value)s, more than the price %(price)s.",
                points=fmt_points(t, target.decimals),
                value=fmt_fen(v),
                price=fmt_fen(item.price_fen),
            )
        )
    return Quote(item, scheme, n, t, rate, v, item.price_fen - v)


def redeem(
    item: RedemptionItem,
    resident_id: int,
    points,
    *,
    scheme: PointScheme | None = None,
    actor: User,
    day: dt.date | None = None,
) -> PointRedemption:
    """Points + cash against an item (mixed tender). With another issuer's points, that
    issuer's book gets the points voucher and the settlement payable, this one the
    receivable (PT-2)."""
    day = day or _today()
    item_issuer = db.session.get_one(PointIssuer, item.issuer_id)
    require_staff(item_issuer, actor)
    scheme = scheme or item.scheme
    q = quote(item, scheme, points, day=day)
    home = scheme.issuer
    _resident(home.community_id, resident_id)
    target = item.scheme
    taken = _spend(scheme, resident_id, q.points, day)  # holder's row first (lock order)
    home_book = db.session.get_one(Book, scheme.book_id)
    item_book = db.session.get_one(Book, target.book_id)
    m = _money(item_book)
    same_community = item_book.community_id == home.community_id
    points_lines = [
        ledger.LineInput(
            account_id=scheme.holders_account_id,
            debit=q.points,
            unit=scheme.unit,
            resident_id=resident_id,
        ),
        ledger.LineInput(account_id=scheme.contra_account_id, credit=q.points, unit=scheme.unit),
    ]
    # The item's book: cash + who bears the points' value = revenue at the full price.
    sale: list[ledger.LineInput] = []
    if q.cash_fen:
        sale.append(
            ledger.LineInput(
                account_id=_posting_account(item_book, m["cash"]).id,
                debit=q.cash_fen,
                resident_id=resident_id if same_community else None,
            )
        )
    settlement = 0
    home_vid = None
    funder = item.funder
    if scheme.id == target.id:
        v_prepaid = min(taken.prepaid_fen, q.value_fen)
        v_funded = q.value_fen - v_prepaid
        if v_prepaid:
            assert scheme.prepaid_account_id is not None
            sale.append(ledger.LineInput(account_id=scheme.prepaid_account_id, debit=v_prepaid))
        if v_funded:
            sale += _funded_lines(item_book, item, m, v_funded)
        sale.append(
            ledger.LineInput(
                account_id=_posting_account(item_book, m["revenue"]).id, credit=item.price_fen
            )
        )
        lines = points_lines + sale
    else:
        # Exchange: the item's issuer is owed the value by the points' issuer.
        funder = "exchange"
        settlement = q.value_fen
        sale.append(
            ledger.LineInput(
                account_id=_posting_account(item_book, m["receivable"]).id,
                debit=settlement,
                counterparty_org_id=home.organisation_id,
            )
        )
        sale.append(
            ledger.LineInput(
                account_id=_posting_account(item_book, m["revenue"]).id, credit=item.price_fen
            )
        )
        lines = sale
        hm = _money(home_book)
        home_lines = list(points_lines)
        if taken.prepaid_fen:
            assert scheme.prepaid_account_id is not None
            home_lines.append(
                ledger.LineInput(account_id=scheme.prepaid_account_id, debit=taken.prepaid_fen)
            )
        diff = settlement - taken.prepaid_fen
        if diff > 0:
            home_lines.append(
                ledger.LineInput(account_id=_posting_account(home_book, hm["cost"]).id, debit=diff)
            )
        elif diff < 0:
            home_lines.append(
                ledger.LineInput(
                    account_id=_posting_account(home_book, hm["lapse"]).id, credit=-diff
                )
            )
        home_lines.append(
            ledger.LineInput(
                account_id=_posting_account(home_book, hm["payable"]).id,
                credit=settlement,
                counterparty_org_id=item_book.organisation_id,
            )
        )
    summary = f"积分兑换：{item.name}"[:300]
    books = sorted({home_book.id, item_book.id})
    vids: dict[int, int] = {}
    for bid in books:  # lock order: books by id
        if bid == item_book.id:
            (vids[bid],) = ledger.post_vouchers(
                item_book,
                [ledger.VoucherInput(date=day, summary=summary, lines=lines)],
                source=SOURCE,
                actor=actor,
            )
        else:
            (vids[bid],) = ledger.post_vouchers(
                home_book,
                [
                    ledger.VoucherInput(
                        date=day, summary=f"积分跨社区兑换：{item.name}"[:300], lines=home_lines
                    )
                ],
                source=SOURCE,
                actor=actor,
            )
    if scheme.id != target.id:
        home_vid = vids[home_book.id]
    red = PointRedemption(
        community_id=item.community_id,
        item_id=item.id,
        resident_id=resident_id,
        scheme_id=scheme.id,
        date=day,
        points=q.points,
        target_points=q.target_points,
        rate=q.rate,
        value_fen=q.value_fen,
        cash_fen=q.cash_fen,
        funder=funder,
        voucher_id=vids[item_book.id],
        home_voucher_id=home_vid,
        settlement_fen=settlement,
        created_by_id=actor.id,
    )
    db.session.add(red)
    db.session.flush()
    return red


def _funded_lines(
    book: Book, item: RedemptionItem, m: dict[str, str], v: int
) -> list[ledger.LineInput]:
    if item.funder == Funder.MERCHANT:
        return [
            ledger.LineInput(
                account_id=_posting_account(book, m["receivable"]).id,
                debit=v,
                counterparty_org_id=item.merchant_org_id,
            )
        ]
    out = [
        ledger.LineInput(
            account_id=_posting_account(book, m["cost"]).id, debit=v, fund_id=item.fund_id
        )
    ]
    fund = db.session.get(Fund, item.fund_id) if item.fund_id else None
    if fund is not None and fund.restricted and "restricted" in m:
        # PT-10: the donor restricted the money to this purpose: release it (3102 → 3101).
        out += [
            ledger.LineInput(
                account_id=_posting_account(book, m["restricted"]).id, debit=v, fund_id=fund.id
            ),
            ledger.LineInput(account_id=_posting_account(book, m["unrestricted"]).id, credit=v),
        ]
    return out


def settle_exchange(
    payer: PointIssuer,
    payee: PointIssuer,
    amount_fen: int,
    *,
    day: dt.date | None = None,
    actor: User,
) -> tuple[int, int]:
    """Settle in money what ``payer`` owes ``payee`` for exchanged points: bank to bank."""
    day = day or _today()
    require_staff(payer, actor)
    owed = settlement_owed(payer, payee)
    if type(amount_fen) is not int or amount_fen <= 0 or amount_fen > owed:
        raise InvalidInput(
            _l("Settle between ¥0.01 and what is owed, %(owed)s.", owed=fmt_fen(owed))
        )
    a = ledger.book_for(_issuer_org(payer))
    b = ledger.book_for(_issuer_org(payee))
    ma, mb = _money(a), _money(b)
    ids = []
    for book in sorted((a, b), key=lambda x: x.id):
        if book.id == a.id:
            lines = [
                ledger.LineInput(
                    account_id=_posting_account(a, ma["payable"]).id,
                    debit=amount_fen,
                    counterparty_org_id=b.organisation_id,
                ),
                ledger.LineInput(account_id=_posting_account(a, ma["bank"]).id, credit=amount_fen),
            ]
        else:
            lines = [
                ledger.LineInput(account_id=_posting_account(b, mb["bank"]).id, debit=amount_fen),
                ledger.LineInput(
                    account_id=_posting_account(b, mb["receivable"]).id,
                    credit=amount_fen,
                    counterparty_org_id=a.organisation_id,
                ),
            ]
        ids += ledger.post_vouchers(
            book,
            [ledger.VoucherInput(date=day, summary="积分跨社区兑换结算", lines=lines)],
            source=SOURCE,
            actor=actor,
        )
    return ids[0], ids[1]


def settlement_owed(payer: PointIssuer, payee: PointIssuer) -> int:
    """What ``payer``'s book still owes ``payee`` on its payable (lines naming the payee)."""
    a = ledger.book_for(_issuer_org(payer))
    acc = _posting_account(a, _money(a)["payable"])
    cr, dr = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(VoucherLine.credit), 0),
            sa.func.coalesce(sa.func.sum(VoucherLine.debit), 0),
        )
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(
            VoucherLine.account_id == acc.id,
            VoucherLine.counterparty_org_id == payee.organisation_id,
            Voucher.status == "posted",
        )
    ).one()
    return int(cr) - int(dr)


# --- expiry (PT-7) ------------------------------------------------------------------------------


def expire(scheme: PointScheme, as_of: dt.date, *, actor: User | None) -> ExpiryRun:
    """Post the expiry of every lot whose points lapse by ``as_of`` (FIFO lots). Once per
    scheme and date: a second run for the same date returns the first and changes nothing."""
    done = db.session.scalar(
        sa.select(ExpiryRun).where(ExpiryRun.scheme_id == scheme.id, ExpiryRun.as_of == as_of)
    )
    if done is not None:
        return done
    if as_of > _today():
        raise InvalidInput(
            _l("Expiry runs for today or an earlier date, not %(date)s.", date=as_of.isoformat())
        )
    holders = sorted(
        set(
            db.session.scalars(
                sa.select(PointLot.resident_id).where(
                    PointLot.scheme_id == scheme.id,
                    PointLot.remaining > 0,
                    PointLot.expires_on <= as_of,
                )
            )
        )
    )
    per: dict[int, int] = {}
    prepaid = 0
    for rid in holders:  # holders' rows first, in resident order
        _lock_holding(scheme, rid)
        lots = db.session.scalars(
            sa.select(PointLot).where(
                PointLot.scheme_id == scheme.id,
                PointLot.resident_id == rid,
                PointLot.remaining > 0,
                PointLot.expires_on <= as_of,
            )
        ).all()
        n = 0
        for lot in lots:
            n += lot.remaining
            if lot.prepaid:
                prepaid += lot.remaining
            lot.expired_points += lot.remaining
            lot.remaining = 0
        if n:
            if not _take_from_holding(scheme, rid, n):  # the row is locked by us: a bug
                raise Conflict(_l("The holder's balance changed; nothing was stored."))
            per[rid] = n
    run = ExpiryRun(
        community_id=scheme.community_id,
        scheme_id=scheme.id,
        as_of=as_of,
        points=sum(per.values()),
        holders=len(per),
        run_by_id=getattr(actor, "id", None),
    )
    if per:
        book = db.session.get_one(Book, scheme.book_id)
        lines = [
            ledger.LineInput(
                account_id=scheme.holders_account_id, debit=per[r], unit=scheme.unit, resident_id=r
            )
            for r in sorted(per)
        ]
        lines.append(
            ledger.LineInput(
                account_id=scheme.contra_account_id, credit=run.points, unit=scheme.unit
            )
        )
        v = value_of(scheme, prepaid) if prepaid else 0
        if v:
            m = _money(book)
            assert scheme.prepaid_account_id is not None
            lines += [
                ledger.LineInput(account_id=scheme.prepaid_account_id, debit=v),
                ledger.LineInput(account_id=_posting_account(book, m["lapse"]).id, credit=v),
            ]
        (run.voucher_id,) = ledger.post_vouchers(
            book,
            [
                ledger.VoucherInput(
                    date=as_of, summary=f"积分到期清零（{scheme.name}）"[:300], lines=lines
                )
            ],
            source=SOURCE,
            actor=actor,
        )
    db.session.add(run)
    db.session.flush()
    return run


def expire_all(
    as_of: dt.date, *, actor: User | None, issuer_id: int | None = None
) -> list[ExpiryRun]:
    q = (
        sa.select(PointScheme)
        .where(PointScheme.expiry_rule != ExpiryRule.NONE.value)
        .order_by(PointScheme.id)
    )
    if issuer_id is not None:
        q = q.where(PointScheme.issuer_id == issuer_id)
    return [expire(s, as_of, actor=actor) for s in db.session.scalars(q).all()]


def expiring_soon(scheme: PointScheme, *, today: dt.date | None = None, days: int = REMIND_DAYS):
    """The reminder list: (resident id, points, expiry date) of lots lapsing within ``days``."""
    today = today or _today()
    return db.session.execute(
        sa.select(PointLot.resident_id, sa.func.sum(PointLot.remaining), PointLot.expires_on)
        .where(
            PointLot.scheme_id == scheme.id,
            PointLot.remaining > 0,
            PointLot.expires_on > today,
            PointLot.expires_on <= today + dt.timedelta(days=days),
        )
        .group_by(PointLot.resident_id, PointLot.expires_on)
        .order_by(PointLot.expires_on, PointLot.resident_id)
    ).all()


# --- reconciliation -----------------------------------------------------------------------------


@dataclass
class Reconciliation:
    issuer_id: int
    scheme_id: int
    scheme: str
    unit: str
    decimals: int
    as_of: dt.date | None
    holders_points: int
    control_points: int
    lots_points: int | None
    negative_holders: int
    value_fen: int
    prepaid_lots_fen: int | None
    prepaid_account_fen: int | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _control(book_id: int, account_id: int, unit: str, as_of: dt.date | None) -> int:
    """Credit − debit of an account in a unit, from the per-month balances (no history scan)
    up to the month before ``as_of``, plus that month's lines up to the day."""
    t = AccountPeriodBalance
    q = sa.select(sa.func.coalesce(sa.func.sum(t.credit - t.debit), 0)).where(
        t.book_id == book_id, t.account_id == account_id, t.unit == unit
    )
    if as_of is None:
        return int(db.session.scalar(q) or 0)
    month = Month.of(as_of)
    total = int(db.session.scalar(q.where(t.period_key < month.key)) or 0)
    total += int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(VoucherLine.credit - VoucherLine.debit), 0))
            .join(Voucher, Voucher.id == VoucherLine.voucher_id)
            .where(
                Voucher.book_id == book_id,
                Voucher.status == "posted",
                Voucher.date >= month.first_day,
                Voucher.date <= as_of,
                VoucherLine.account_id == account_id,
                VoucherLine.unit == unit,
            )
        )
        or 0
    )
    return total


def reconcile_scheme(
    scheme: PointScheme, as_of: dt.date | None = None, *, deep: bool = False
) -> Reconciliation:
    """Holders' balances = the holders' control account, in points and in value.

    Today (``as_of`` None or not before today) it reads balances only: the holders' rows and
    the account's per-month balances; ``deep`` also totals the lots, overall and per holder.
    At an earlier date the holders' balances are the ledger's lines per resident up to that
    date."""
    if as_of is not None and as_of >= _today():
        as_of = None
    control = _control(scheme.book_id, scheme.holders_account_id, scheme.unit, as_of)
    lots_total: int | None = None
    prepaid_lots: int | None = None
    mismatched = 0
    if as_of is None:
        holders, negative = db.session.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(PointHolding.balance), 0),
                sa.func.count().filter(PointHolding.balance < 0),
            ).where(PointHolding.scheme_id == scheme.id)
        ).one()
        if deep:
            lots_total, prepaid_pts = db.session.execute(
                sa.select(
                    sa.func.coalesce(sa.func.sum(PointLot.remaining), 0),
                    sa.func.coalesce(
                        sa.func.sum(PointLot.remaining).filter(PointLot.prepaid.is_(True)), 0
                    ),
                ).where(PointLot.scheme_id == scheme.id, PointLot.remaining > 0)
            ).one()
            lots_total = int(lots_total)
            prepaid_lots = value_of(scheme, int(prepaid_pts))
            per_lots = (
                sa.select(PointLot.resident_id, sa.func.sum(PointLot.remaining).label("r"))
                .where(PointLot.scheme_id == scheme.id)
                .group_by(PointLot.resident_id)
                .subquery()
            )
            mismatched = int(
                db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(PointHolding)
                    .outerjoin(per_lots, per_lots.c.resident_id == PointHolding.resident_id)
                    .where(
                        PointHolding.scheme_id == scheme.id,
                        PointHolding.balance != sa.func.coalesce(per_lots.c.r, 0),
                    )
                )
                or 0
            )
        else:
            # Every lot of a sale-linked scheme is prepaid, and no other lot is: the prepaid
            # value is the holders' points at the scheme's value (no scan of the lots).
            sale = scheme.type == SchemeType.SERVICE and scheme.money_mode == MoneyMode.SALE
            prepaid_lots = value_of(scheme, int(holders)) if sale else 0
    else:
        per = (
            sa.select(sa.func.sum(VoucherLine.credit - VoucherLine.debit).label("b"))
            .join(Voucher, Voucher.id == VoucherLine.voucher_id)
            .where(
                Voucher.book_id == scheme.book_id,
                Voucher.status == "posted",
                Voucher.date <= as_of,
                VoucherLine.account_id == scheme.holders_account_id,
                VoucherLine.unit == scheme.unit,
            )
            .group_by(VoucherLine.resident_id)
            .subquery()
        )
        holders, negative = db.session.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(per.c.b), 0), sa.func.count().filter(per.c.b < 0)
            )
        ).one()
    holders, negative = int(holders), int(negative)
    d = scheme.decimals
    rec = Reconciliation(
        issuer_id=scheme.issuer_id,
        scheme_id=scheme.id,
        scheme=scheme.name,
        unit=scheme.unit,
        decimals=d,
        as_of=as_of,
        holders_points=holders,
        control_points=control,
        lots_points=lots_total,
        negative_holders=negative,
        value_fen=value_of(scheme, holders),
        prepaid_lots_fen=prepaid_lots,
        prepaid_account_fen=None,
    )
    if holders != control:
        rec.problems.append(
            str(
                _l(
                    "holders %(h)s ≠ control account %(c)s",
                    h=fmt_points(holders, d),
                    c=fmt_points(control, d),
                )
            )
        )
    if lots_total is not None and lots_total != holders:
        rec.problems.append(
            str(
                _l(
                    "lots %(l)s ≠ holders %(h)s",
                    l=fmt_points(lots_total, d),
                    h=fmt_points(holders, d),
                )
            )
        )
    if negative:
        rec.problems.append(str(_l("%(n)d holders are negative", n=negative)))
    if mismatched:
        rec.problems.append(str(_l("%(n)d holders differ from their lots", n=mismatched)))
    if scheme.prepaid_account_id is not None and as_of is None:
        acc_fen = _control(scheme.book_id, scheme.prepaid_account_id, "CNY", None)
        rec.prepaid_account_fen = acc_fen
        if prepaid_lots is not None and abs(acc_fen - prepaid_lots) > _rounding_slack(scheme):
            rec.problems.append(
                str(
                    _l(
                        "prepaid points %(l)s ≠ 预收账款—积分 %(a)s",
                        l=fmt_fen(prepaid_lots),
                        a=fmt_fen(acc_fen),
                    )
                )
            )
    return rec


def _rounding_slack(scheme: PointScheme) -> int:
    """Points valued lot by lot and in total may differ by half a fen per movement; with whole
    points at whole fen there is none."""
    return 0 if scheme.decimals == 0 else 10**9


def reconcile(
    issuer_id: int | None = None, as_of: dt.date | None = None, *, deep: bool = False
) -> list[Reconciliation]:
    q = sa.select(PointScheme).order_by(PointScheme.issuer_id, PointScheme.id)
    if issuer_id is not None:
        get_issuer(issuer_id)
        q = q.where(PointScheme.issuer_id == issuer_id)
    return [reconcile_scheme(s, as_of, deep=deep) for s in db.session.scalars(q).all()]


# --- what people see ---------------------------------------------------------------------------


def my_points(resident: Resident, *, today: dt.date | None = None) -> list[dict]:
    """A resident's own balances, lots and what expires when, per scheme."""
    today = today or _today()
    out = []
    for h in db.session.scalars(
        sa.select(PointHolding)
        .where(PointHolding.resident_id == resident.id)
        .order_by(PointHolding.scheme_id)
    ):
        s = db.session.get_one(PointScheme, h.scheme_id)
        lots = _lots(s, resident.id)
        history = db.session.execute(
            sa.select(Voucher.date, Voucher.summary, VoucherLine.credit - VoucherLine.debit)
            .join(Voucher, Voucher.id == VoucherLine.voucher_id)
            .where(
                VoucherLine.account_id == s.holders_account_id,
                VoucherLine.resident_id == resident.id,
                Voucher.status == "posted",
            )
            .order_by(Voucher.date.desc(), Voucher.id.desc())
            .limit(100)
        ).all()
        out.append(
            {
                "scheme": s,
                "balance": h.balance,
                "lots": lots,
                "expiring": [
                    lot
                    for lot in lots
                    if lot.expires_on and lot.expires_on <= today + dt.timedelta(days=REMIND_DAYS)
                ],
                "history": history,
            }
        )
    return out


def find_residents(community_id: int, name: str, last4: str, *, limit: int = 10) -> list[Resident]:
    """Staff look-up by (part of) the name and the last 4 digits of the phone."""
    name = (name or "").strip()
    last4 = (last4 or "").strip()
    if not (last4.isascii() and last4.isdigit() and len(last4) == 4):
        raise InvalidInput(_l("Type the last 4 digits of the phone number."))
    q = sa.select(Resident).where(Resident.community_id == community_id).order_by(Resident.id)
    if name:
        q = q.where(Resident.name.contains(name[:20], autoescape=True))
    out = []
    for r in db.session.scalars(q):
        if r.phone and r.phone.endswith(last4):
            out.append(r)
            if len(out) >= limit:
                break
    return out


def public_months(
    issuer: PointIssuer, months: int = 12, *, today: dt.date | None = None
) -> list[dict]:
    """Per month and SERVICE scheme: points granted, redeemed, expired, outstanding at the
    month's end and the liability's value. Aggregates only (DP-3): never per person."""
    today = today or _today()
    out = []
    for s in db.session.scalars(
        sa.select(PointScheme).where(PointScheme.issuer_id == issuer.id).order_by(PointScheme.id)
    ):
        t = AccountPeriodBalance
        rows = {
            pk: (int(dr), int(cr))
            for pk, dr, cr in db.session.execute(
                sa.select(t.period_key, sa.func.sum(t.debit), sa.func.sum(t.credit))
                .where(
                    t.book_id == s.book_id, t.account_id == s.holders_account_id, t.unit == s.unit
                )
                .group_by(t.period_key)
            )
        }
        red = dict(
            db.session.execute(
                sa.select(
                    sa.func.extract("year", PointRedemption.date) * 100
                    + sa.func.extract("month", PointRedemption.date),
                    sa.func.sum(PointRedemption.points),
                )
                .where(PointRedemption.scheme_id == s.id)
                .group_by(
                    sa.func.extract("year", PointRedemption.date),
                    sa.func.extract("month", PointRedemption.date),
                )
            ).all()
        )
        exp = dict(
            db.session.execute(
                sa.select(
                    sa.func.extract("year", ExpiryRun.as_of) * 100
                    + sa.func.extract("month", ExpiryRun.as_of),
                    sa.func.sum(ExpiryRun.points),
                )
                .where(ExpiryRun.scheme_id == s.id)
                .group_by(
                    sa.func.extract("year", ExpiryRun.as_of),
                    sa.func.extract("month", ExpiryRun.as_of),
                )
            ).all()
        )
        red = {int(k): int(v) for k, v in red.items()}
        exp = {int(k): int(v) for k, v in exp.items()}
        last = Month.of(today)
        first = last.plus(-(months - 1))
        outstanding = sum(cr - dr for pk, (dr, cr) in rows.items() if pk < first.key)
        for m in first.until(last):
            dr, cr = rows.get(m.key, (0, 0))
            outstanding += cr - dr
            out.append(
                {
                    "scheme": s,
                    "month": m,
                    "granted": cr,
                    "redeemed": red.get(m.key, 0),
                    "expired": exp.get(m.key, 0),
                    "outstanding": outstanding,
                    "value_fen": value_of(s, outstanding),
                }
            )
    return out


def notices(community_id: int, *, today: dt.date | None = None) -> list[PointGrant]:
    """Grants on public notice now (shown without names: activity, date, people, points)."""
    today = today or _today()
    return list(
        db.session.scalars(
            sa.select(PointGrant)
            .where(
                PointGrant.community_id == community_id,
                PointGrant.status.in_([GrantStatus.PUBLICISED.value, GrantStatus.HELD.value]),
                PointGrant.notice_from <= today,
                sa.or_(
                    PointGrant.notice_until >= today, PointGrant.status == GrantStatus.HELD.value
                ),
            )
            .order_by(PointGrant.notice_from.desc())
        )
    )


def issuers_of(community_id: int) -> list[PointIssuer]:
    return list(
        db.session.scalars(
            sa.select(PointIssuer)
            .where(PointIssuer.community_id == community_id)
            .order_by(PointIssuer.id)
        )
    )


def schemes_of(issuer: PointIssuer) -> list[PointScheme]:
    return list(
        db.session.scalars(
            sa.select(PointScheme)
            .where(PointScheme.issuer_id == issuer.id)
            .order_by(PointScheme.id)
        )
    )


def items_of(issuer: PointIssuer) -> list[RedemptionItem]:
    return list(
        db.session.scalars(
            sa.select(RedemptionItem)
            .where(RedemptionItem.issuer_id == issuer.id, RedemptionItem.active.is_(True))
            .order_by(RedemptionItem.id)
        )
    )


def all_residents(ids: Iterable[int]) -> dict[int, Resident]:
    ids = set(ids)
    if not ids:
        return {}
    return {r.id: r for r in db.session.scalars(sa.select(Resident).where(Resident.id.in_(ids)))}


def issuer_for(organisation: Organisation) -> PointIssuer:
    issuer = db.session.scalar(
        sa.select(PointIssuer).where(PointIssuer.organisation_id == organisation.id)
    )
    if issuer is None:
        raise NotFound(_l("This organisation issues no points."))
    set_committed_value(issuer, "organisation", organisation)  # already read: no second read
    return issuer


def owned(model, record_id: int, issuer: PointIssuer, *, via_scheme: bool = True):
    """A record of this issuer (through its scheme), or NotFound. The record's scheme comes in
    the same query (every caller reads it next)."""
    rel = getattr(model, "scheme", None)
    opts = [joinedload(rel)] if rel is not None else []
    rec = db.session.get(model, record_id, options=opts)
    if rec is None:
        raise NotFound(_l("The page or record you asked for does not exist."))
    scheme_id = getattr(rec, "scheme_id", None)
    if getattr(rec, "issuer_id", None) == issuer.id:
        return rec
    if via_scheme and scheme_id is not None:
        s = db.session.get(PointScheme, scheme_id)
        if s is not None and s.issuer_id == issuer.id:
            return rec
    raise NotFound(_l("The page or record you asked for does not exist."))


def all_items(issuer: PointIssuer) -> list[RedemptionItem]:
    """Every item of the issuer, offered or not (the management page)."""
    return list(
        db.session.scalars(
            sa.select(RedemptionItem)
            .where(RedemptionItem.issuer_id == issuer.id)
            .order_by(RedemptionItem.id)
        )
    )


def all_activities(issuer: PointIssuer) -> list[PointActivity]:
    return list(
        db.session.scalars(
            sa.select(PointActivity)
            .join(PointScheme, PointScheme.id == PointActivity.scheme_id)
            .where(PointScheme.issuer_id == issuer.id)
            .order_by(PointActivity.id)
        )
    )


def objections_of(issuer: PointIssuer, *, limit: int = 200) -> list[PointObjection]:
    """The objections to this issuer's grants, open ones first."""
    return list(
        db.session.scalars(
            sa.select(PointObjection)
            .join(PointGrant, PointGrant.id == PointObjection.grant_id)
            .join(PointScheme, PointScheme.id == PointGrant.scheme_id)
            .where(PointScheme.issuer_id == issuer.id)
            .order_by(PointObjection.resolution.is_not(None), PointObjection.id.desc())
            .limit(limit)
        )
    )


def rates_of(issuer: PointIssuer | None = None) -> list[ExchangeRate]:
    """The platform's rates (newest first); with ``issuer``, those naming one of its schemes."""
    q = sa.select(ExchangeRate).order_by(ExchangeRate.effective_from.desc(), ExchangeRate.id.desc())
    if issuer is not None:
        ids = [x.id for x in schemes_of(issuer)] or [0]
        q = q.where(
            sa.or_(ExchangeRate.from_scheme_id.in_(ids), ExchangeRate.to_scheme_id.in_(ids))
        )
    return list(db.session.scalars(q.limit(500)))


def service_schemes() -> list[PointScheme]:
    """Every SERVICE scheme on the platform (the rate table's choices)."""
    return list(
        db.session.scalars(
            sa.select(PointScheme)
            .where(PointScheme.type == SchemeType.SERVICE.value)
            .order_by(PointScheme.issuer_id, PointScheme.id)
        )
    )


def exchange_partners(issuer: PointIssuer) -> list[dict]:
    """Per other issuer linked to this one by a rate: what this issuer owes it and what it
    owes this issuer, in fen (the open settlement, from the books)."""
    mine = {x.id for x in schemes_of(issuer)}
    other_ids: set[int] = set()
    for r in rates_of(issuer):
        for sid in (r.from_scheme_id, r.to_scheme_id):
            if sid not in mine:
                other_ids.add(get_scheme(sid).issuer_id)
    out = []
    for oid in sorted(other_ids):
        other = get_issuer(oid)
        out.append(
            {
                "issuer": other,
                "we_owe_fen": settlement_owed(issuer, other),
                "they_owe_fen": settlement_owed(other, issuer),
            }
        )
    return out


def exchange_schemes(issuer: PointIssuer, *, day: dt.date | None = None) -> list[PointScheme]:
    """Other issuers' SERVICE schemes with a rate in force today into one of this issuer's
    schemes: the points a visitor may spend here (PT-2)."""
    day = day or _today()
    mine = [x.id for x in schemes_of(issuer)] or [0]
    ids = db.session.scalars(
        sa.select(ExchangeRate.from_scheme_id)
        .where(
            ExchangeRate.to_scheme_id.in_(mine),
            ExchangeRate.effective_from <= day,
            sa.or_(ExchangeRate.effective_to.is_(None), ExchangeRate.effective_to > day),
        )
        .distinct()
    ).all()
    return [get_scheme(i) for i in sorted(ids)]


def exchange_cap(item: RedemptionItem, scheme: PointScheme, held: int, day: dt.date) -> int:
    """The most points of ``scheme`` worth spending on ``item``: within what is held, the
    item's cap and its price once converted at the rate of the day."""
    target = item.scheme
    target_cap = min(item.max_points, (item.price_fen * 10**target.decimals) // target.value_fen)
    if scheme.id == target.id:
        return max(0, min(held, target_cap))
    rate = rate_on(scheme, target, day)
    per_point = rate * (Decimal(10) ** (target.decimals - scheme.decimals))
    n = int((Decimal(target_cap) / per_point).to_integral_value(ROUND_DOWN))
    while n > 0 and int((Decimal(n) * per_point).to_integral_value(ROUND_DOWN)) > target_cap:
        n -= 1
    return max(0, min(held, n))
