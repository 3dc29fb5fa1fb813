# SPDX-License-Identifier: AGPL-3.0-or-later
"""The register of shareholders (股东名册) of a community enterprise, and what changes it.

Every change of a holding is a ``RegisterEvent`` (append-only: who, when, why, which voucher);
the register as of a date is the sum of the events dated on or before it. Articles of
association are data (``Articles``, a new row per change). Subscriptions (认缴) carry due
dates; payments (实缴) are vouchers Dr 1002 / Cr 3001 with the shareholder as counterparty.
Transfers go notice → pre-emption window → register update → registry filing. Dividends are
resolutions with one line per shareholder.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import BigId, CreatedMixin, Fen, IdMixin, Model, guard_append_only, utcnow


class Articles(IdMixin, CreatedMixin, Model):
    """The articles of association (公司章程) as data. A change is a new row; the latest counts."""

    __tablename__ = "sh_articles"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    registered_capital: Mapped[int] = mapped_column(Fen)  # 注册资本, fen
    company_type: Mapped[str] = mapped_column(sa.String(10), default="llc")  # llc | jsc
    residents_only: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    lockup_days: Mapped[int] = mapped_column(sa.Integer, default=0)
    preemption_waived: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    preemption_days: Mapped[int] = mapped_column(sa.Integer, default=30)
    # CE-4: optional policies, off (NULL) by default, each with its citation.
    dividend_cap_pct: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    dividend_cap_citation: Mapped[str] = mapped_column(sa.String(300), default="")
    reinvestment_min_pct: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    reinvestment_citation: Mapped[str] = mapped_column(sa.String(300), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))


class Shareholder(IdMixin, CreatedMixin, Model):  # 股东
    """A resident of the community or an organisation, in one organisation's register."""

    __tablename__ = "sh_shareholders"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "resident_id"),
        sa.UniqueConstraint("organisation_id", "holder_org_id"),
        sa.CheckConstraint("(resident_id IS NULL) <> (holder_org_id IS NULL)", name="one_holder"),
    )
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    resident_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("residents.id"))
    holder_org_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("organisations.id"))

    resident = relationship("Resident")
    holder_org = relationship("Organisation", foreign_keys=[holder_org_id])
    organisation = relationship("Organisation", foreign_keys=[organisation_id])

    @property
    def is_person(self) -> bool:
        return self.resident_id is not None

    @property
    def name(self) -> str:
        """The full name: for staff pages and the shareholder's own pages only."""
        return self.resident.name if self.resident_id else self.holder_org.name


class Subscription(IdMixin, CreatedMixin, Model):  # 认缴
    __tablename__ = "sh_subscriptions"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    shareholder_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("sh_shareholders.id"), index=True
    )
    date: Mapped[dt.date] = mapped_column(sa.Date)
    amount: Mapped[int] = mapped_column(Fen)
    due_date: Mapped[dt.date] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))

    shareholder: Mapped[Shareholder] = relationship()


class Transfer(IdMixin, CreatedMixin, Model):  # 股权转让
    """A transfer of paid-in capital. To an outsider: notice, then the pre-emption window."""

    __tablename__ = "sh_transfers"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    seller_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("sh_shareholders.id"))
    # An existing shareholder, or an outsider (a resident or an organisation).
    buyer_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("sh_shareholders.id"))
    outsider_resident_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("residents.id"))
    outsider_org_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("organisations.id"))
    amount: Mapped[int] = mapped_column(Fen)  # capital transferred, fen
    price: Mapped[int] = mapped_column(Fen)  # agreed price (register only; no company money)
    payment_terms: Mapped[str] = mapped_column(sa.String(300), default="")
    notice_date: Mapped[dt.date] = mapped_column(sa.Date)
    window_ends: Mapped[dt.date] = mapped_column(sa.Date)  # the last day of pre-emption
    status: Mapped[str] = mapped_column(sa.String(12), default="notice")  # notice|completed
    completed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    filing_date: Mapped[dt.date | None] = mapped_column(sa.Date)  # 工商变更登记
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))

    seller: Mapped[Shareholder] = relationship(foreign_keys=[seller_id])
    buyer: Mapped[Shareholder | None] = relationship(foreign_keys=[buyer_id])
    claims: Mapped[list[PreemptionClaim]] = relationship(
        back_populates="transfer", order_by="PreemptionClaim.id"
    )

    @property
    def to_outsider(self) -> bool:
        return self.buyer_id is None

    @property
    def filing_pending(self) -> bool:
        return self.status == "completed" and self.filing_date is None


class PreemptionClaim(IdMixin, CreatedMixin, Model):  # 优先购买权
    __tablename__ = "sh_preemption_claims"
    __table_args__ = (sa.UniqueConstraint("transfer_id", "shareholder_id"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    transfer_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("sh_transfers.id"), index=True)
    shareholder_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("sh_shareholders.id"))
    claimed_on: Mapped[dt.date] = mapped_column(sa.Date)
    allocated: Mapped[int | None] = mapped_column(Fen)  # set when the transfer completes

    transfer: Mapped[Transfer] = relationship(back_populates="claims")
    shareholder: Mapped[Shareholder] = relationship()


class DividendResolution(IdMixin, CreatedMixin, Model):  # 股东会利润分配决议
    __tablename__ = "sh_dividends"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    resolution_date: Mapped[dt.date] = mapped_column(sa.Date)
    record_date: Mapped[dt.date] = mapped_column(sa.Date)
    profit_year: Mapped[int] = mapped_column(sa.Integer)
    amount: Mapped[int] = mapped_column(Fen)
    reserve: Mapped[int] = mapped_column(Fen, default=0)  # set aside to 3101 by this resolution
    votes_for: Mapped[int] = mapped_column(sa.Integer, default=0)
    votes_against: Mapped[int] = mapped_column(sa.Integer, default=0)
    votes_abstain: Mapped[int] = mapped_column(sa.Integer, default=0)
    # 'paid_in' (by paid-in capital) or 'agreed' (all shareholders agreed otherwise).
    basis: Mapped[str] = mapped_column(sa.String(10), default="paid_in")
    agreement_note: Mapped[str] = mapped_column(sa.String(300), default="")
    voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))

    lines: Mapped[list[DividendLine]] = relationship(
        back_populates="resolution", order_by="DividendLine.id"
    )


class DividendLine(IdMixin, Model):
    __tablename__ = "sh_dividend_lines"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    resolution_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("sh_dividends.id"), index=True)
    shareholder_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("sh_shareholders.id"))
    weight: Mapped[int] = mapped_column(Fen)  # paid-in capital at the record date (or agreed)
    amount: Mapped[int] = mapped_column(Fen)
    tax: Mapped[int] = mapped_column(Fen, default=0)  # 个人所得税 withheld when paid
    paid_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    payment_voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))

    resolution: Mapped[DividendResolution] = relationship(back_populates="lines")
    shareholder: Mapped[Shareholder] = relationship()


class Certificate(IdMixin, CreatedMixin, Model):  # 股权证书
    """Reissued on every change of a holding; the previous one is then marked void."""

    __tablename__ = "sh_certificates"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "number"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    shareholder_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("sh_shareholders.id"), index=True
    )
    number: Mapped[int] = mapped_column(sa.Integer)
    issued_on: Mapped[dt.date] = mapped_column(sa.Date)
    subscribed: Mapped[int] = mapped_column(Fen)
    paid_in: Mapped[int] = mapped_column(Fen)
    void_on: Mapped[dt.date | None] = mapped_column(sa.Date)

    shareholder: Mapped[Shareholder] = relationship()

    @property
    def label(self) -> str:
        return f"GQ-{self.organisation_id}-{self.number:04d}"


class RegisterEvent(IdMixin, Model):
    """One change of one holding. Append-only (ORM hook and database triggers)."""

    __tablename__ = "sh_register_events"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    shareholder_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("sh_shareholders.id"), index=True
    )
    # subscribe | pay | transfer_in | transfer_out | dividend | dividend_paid | filing
    kind: Mapped[str] = mapped_column(sa.String(20))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    subscribed_delta: Mapped[int] = mapped_column(Fen, default=0)
    paid_delta: Mapped[int] = mapped_column(Fen, default=0)
    amount: Mapped[int] = mapped_column(Fen, default=0)  # dividends, transfer prices
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    subscription_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("sh_subscriptions.id"))
    transfer_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("sh_transfers.id"))
    dividend_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("sh_dividends.id"))
    actor_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)

    shareholder: Mapped[Shareholder] = relationship()
    actor = relationship("User")


guard_append_only(RegisterEvent)
