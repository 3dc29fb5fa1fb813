"""Points (积分制, DOMAIN.md §3): issuers, schemes, the activity catalogue, grants with their
public notice (公示) and objections, FIFO lots, redemption items, the platform's exchange
rates, volunteer-hour records and expiry runs.

Balances are ledger balances: every movement is a voucher in the scheme's points unit in the
issuer's book (holders' account with the resident on the line vs the issuer's contra
account). ``PointHolding`` is the per-holder row a redemption locks (and the reconciliation
reads instead of history); ``points.services.reconcile`` proves it equals the ledger's
control account, and the database refuses a negative holding or lot.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import BigId, CreatedMixin, Fen, IdMixin, Model, utcnow


class SchemeType(enum.StrEnum):
    BASIC = "basic"  # 基本积分: reputation only, never redeemable, no liability (PT-1)
    SERVICE = "service"  # 服务积分: redeemable at the issuer's value per point, a liability


class ExpiryRule(enum.StrEnum):
    NONE = "none"
    FIXED_MONTHS = "fixed_months"  # valid for validity_months after earning
    ROLLING_YEAR_END = "rolling_year_end"  # valid to 31 Dec of the year validity_months later


class MoneyMode(enum.StrEnum):
    VOLUNTEER = "volunteer"  # not tied to a sale: the funder bears the value at redemption
    SALE = "sale"  # sale-linked: the value sits in 预收账款—积分 from the grant (PT-9 a)


class GrantStatus(enum.StrEnum):
    REQUESTED = "requested"
    PUBLICISED = "publicised"  # approved; in (or past) its public notice period (公示)
    HELD = "held"  # an objection during the notice holds it
    CREDITED = "credited"
    REJECTED = "rejected"


class Funder(enum.StrEnum):
    ISSUER = "issuer"  # the issuer's own cost (5601 / 5101)
    FUND = "fund"  # a fund of the issuer's book (NPO: 5101 on the fund, 3102 released)
    MERCHANT = "merchant"  # a partner organisation reimburses: a receivable from it


class PointIssuer(IdMixin, CreatedMixin, Model):
    __tablename__ = "point_issuers"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), unique=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20))  # enterprise | foundation | community

    organisation = relationship("Organisation")


class PointScheme(IdMixin, CreatedMixin, Model):
    __tablename__ = "point_schemes"
    __table_args__ = (sa.UniqueConstraint("issuer_id", "unit"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    issuer_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_issuers.id"), index=True)
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"))
    name: Mapped[str] = mapped_column(sa.String(100))
    type: Mapped[str] = mapped_column(sa.String(10))
    unit: Mapped[str] = mapped_column(sa.String(24))  # the book unit the points are kept in
    decimals: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Value of one whole point in fen (SERVICE); 0 for BASIC.
    value_fen: Mapped[int] = mapped_column(Fen, default=0)
    money_mode: Mapped[str] = mapped_column(sa.String(12), default=MoneyMode.VOLUNTEER.value)
    expiry_rule: Mapped[str] = mapped_column(sa.String(20), default=ExpiryRule.NONE.value)
    validity_months: Mapped[int] = mapped_column(sa.Integer, default=0)
    notice_days: Mapped[int] = mapped_column(sa.Integer, default=3)
    holders_account_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("accounts.id"))
    contra_account_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("accounts.id"))
    # 预收账款—积分 (CNY): value of prepaid points (sale-linked, or bought in by an exchange).
    prepaid_account_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("accounts.id"))

    issuer: Mapped[PointIssuer] = relationship()

    @property
    def redeemable(self) -> bool:
        return self.type == SchemeType.SERVICE


class PointActivity(IdMixin, CreatedMixin, Model):  # 活动目录
    __tablename__ = "point_activities"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_schemes.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    tag: Mapped[str] = mapped_column(sa.String(20), default="charitable")  # CE-2 tags
    points: Mapped[int] = mapped_column(sa.BigInteger)  # per person, minor units
    approver_roles: Mapped[str] = mapped_column(sa.String(100), default="admin,reviewer")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)

    scheme: Mapped[PointScheme] = relationship()


class VolunteerRecord(IdMixin, CreatedMixin, Model):  # 志愿服务记录 (PT-6): read-only, never priced
    """Who served, at what, on which day, for how long, recorded by whom and approved by whom
    (a second person). Never changed after approval, never sold, converted or priced: a grant
    of the activity's catalogue points may reference it (PT-6), the hours never set them."""

    __tablename__ = "volunteer_records"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("residents.id"), index=True)
    activity: Mapped[str] = mapped_column(sa.String(200))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    minutes: Mapped[int] = mapped_column(sa.Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    # The issuer whose staff keep the record (its pages list it); None for older records.
    issuer_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("point_issuers.id"), index=True
    )
    approved_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


class PointGrant(IdMixin, CreatedMixin, Model):
    __tablename__ = "point_grants"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_schemes.id"), index=True)
    activity_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_activities.id"))
    activity_date: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(12), default=GrantStatus.REQUESTED.value)
    requested_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    notice_from: Mapped[dt.date | None] = mapped_column(sa.Date)
    notice_until: Mapped[dt.date | None] = mapped_column(sa.Date)  # creditable from this day
    credited_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    total_points: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    people: Mapped[int] = mapped_column(sa.Integer, default=0)

    scheme: Mapped[PointScheme] = relationship()
    activity: Mapped[PointActivity] = relationship()
    lines: Mapped[list[PointGrantLine]] = relationship(
        back_populates="grant", order_by="PointGrantLine.id"
    )


class PointGrantLine(IdMixin, Model):
    __tablename__ = "point_grant_lines"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    grant_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_grants.id"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("residents.id"))
    points: Mapped[int] = mapped_column(sa.BigInteger)
    volunteer_record_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("volunteer_records.id")
    )

    grant: Mapped[PointGrant] = relationship(back_populates="lines")


class PointObjection(IdMixin, CreatedMixin, Model):
    __tablename__ = "point_objections"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    grant_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_grants.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    raised_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(sa.String(12))  # upheld | dismissed
    resolved_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


class PointHolding(IdMixin, Model):
    """One holder's balance in one scheme: the row a redemption locks. Kept in step with the
    ledger by the services (and proved so by ``reconcile``)."""

    __tablename__ = "point_holdings"
    __table_args__ = (
        sa.UniqueConstraint("scheme_id", "resident_id"),
        sa.CheckConstraint("balance >= 0", name="holding_not_negative"),
    )
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_schemes.id"))
    resident_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("residents.id"), index=True)
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class PointLot(IdMixin, Model):
    """Points earned together, spent oldest first (FIFO) and expiring together (PT-7)."""

    __tablename__ = "point_lots"
    __table_args__ = (
        sa.CheckConstraint("remaining >= 0 AND remaining <= points", name="lot_remaining"),
        sa.Index("ix_point_lots_holder", "scheme_id", "resident_id", "remaining"),
        sa.Index("ix_point_lots_expiry", "scheme_id", "expires_on"),
    )
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_schemes.id"))
    resident_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("residents.id"))
    grant_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("point_grants.id"))
    earned_on: Mapped[dt.date] = mapped_column(sa.Date)
    expires_on: Mapped[dt.date | None] = mapped_column(sa.Date)  # first day no longer valid
    points: Mapped[int] = mapped_column(sa.BigInteger)
    remaining: Mapped[int] = mapped_column(sa.BigInteger)
    prepaid: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    expired_points: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class RedemptionItem(IdMixin, CreatedMixin, Model):
    __tablename__ = "point_redemption_items"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    issuer_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_issuers.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_schemes.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    price_fen: Mapped[int] = mapped_column(Fen)
    max_points: Mapped[int] = mapped_column(sa.BigInteger)  # cap per redemption, minor units
    funder: Mapped[str] = mapped_column(sa.String(12), default=Funder.ISSUER.value)
    fund_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("funds.id"))
    merchant_org_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)

    scheme: Mapped[PointScheme] = relationship()


class PointRedemption(IdMixin, CreatedMixin, Model):
    __tablename__ = "point_redemptions"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    item_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_redemption_items.id"))
    resident_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("residents.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_schemes.id"))  # spent
    date: Mapped[dt.date] = mapped_column(sa.Date)
    points: Mapped[int] = mapped_column(sa.BigInteger)  # of scheme_id, minor units
    target_points: Mapped[int] = mapped_column(sa.BigInteger)  # at the item's scheme
    rate: Mapped[Decimal] = mapped_column(sa.Numeric(12, 6), default=Decimal(1))
    value_fen: Mapped[int] = mapped_column(Fen)
    cash_fen: Mapped[int] = mapped_column(Fen)
    funder: Mapped[str] = mapped_column(sa.String(12))
    voucher_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    # An exchange: the voucher in the spending issuer's book (with the settlement payable).
    home_voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    settlement_fen: Mapped[int] = mapped_column(Fen, default=0)
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))

    item: Mapped[RedemptionItem] = relationship()
    scheme: Mapped[PointScheme] = relationship()


class ExchangeRate(IdMixin, Model):
    """Platform table (DESIGN.md §6): how many points of ``to_scheme`` one point of
    ``from_scheme`` is worth (a discount ≤ 1), from a date, set by whom."""

    __tablename__ = "point_exchange_rates"
    from_scheme_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_schemes.id"))
    to_scheme_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_schemes.id"))
    rate: Mapped[Decimal] = mapped_column(sa.Numeric(12, 6))
    effective_from: Mapped[dt.date] = mapped_column(sa.Date)
    effective_to: Mapped[dt.date | None] = mapped_column(sa.Date)  # exclusive
    set_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    set_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class ExpiryRun(IdMixin, Model):
    """One expiry run per scheme and date: running it twice changes nothing."""

    __tablename__ = "point_expiry_runs"
    __table_args__ = (sa.UniqueConstraint("scheme_id", "as_of"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("point_schemes.id"))
    as_of: Mapped[dt.date] = mapped_column(sa.Date)
    points: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    holders: Mapped[int] = mapped_column(sa.Integer, default=0)
    voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    run_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    run_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
