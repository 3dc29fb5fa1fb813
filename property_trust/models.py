# SPDX-License-Identifier: AGPL-3.0-or-later
"""Records of the property trust (信托制物业): compounds, units, owners, the trust arrangement,
fee schedules, bills and payments, arrears follow-up, public revenue, budgets, votes, supervision
and remuneration. Money itself lives in the ledger: each record keeps the ids of the vouchers it
caused (DESIGN.md §3a). Amounts are integer fen; areas and rates are Decimal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import BigId, CreatedMixin, Fen, IdMixin, Model, guard_append_only, utcnow

Area = sa.Numeric(12, 2)  # m², two decimals
Rate = sa.Numeric(12, 4)


def _community():
    return mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)


def _compound():
    return mapped_column(BigId, sa.ForeignKey("pt_compounds.id"), index=True)


class Compound(IdMixin, CreatedMixin, Model):  # 小区
    __tablename__ = "pt_compounds"
    community_id: Mapped[int] = _community()
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    repair_fund_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("funds.id"))
    # TP-8: which kind an annual budget vote is (ordinary by default).
    budget_vote_kind: Mapped[str] = mapped_column(sa.String(10), default="ordinary")
    # TP-4 / TP-9 approval chain (configuration).
    committee_threshold: Mapped[int] = mapped_column(Fen, default=0)  # 0: none needed
    signatories_required: Mapped[int] = mapped_column(sa.Integer, default=1)
    signatories_total: Mapped[int] = mapped_column(sa.Integer, default=1)
    supervisor_review: Mapped[str] = mapped_column(sa.String(10), default="after")  # before|after
    # TP-5 remuneration.
    remuneration_mode: Mapped[str] = mapped_column(sa.String(30), default="PCT_OF_COLLECTED_FEES")
    remuneration_rate: Mapped[Decimal | None] = mapped_column(Rate)
    remuneration_fixed: Mapped[int | None] = mapped_column(Fen)
    remuneration_cap: Mapped[int | None] = mapped_column(Fen)
    remuneration_floor: Mapped[int | None] = mapped_column(Fen)
    remuneration_vote_id: Mapped[int | None] = mapped_column(BigId)  # the owners' resolution
    # TP-10: share of net public revenue topping up the repair fund, as decided.
    repair_share: Mapped[Decimal] = mapped_column(Rate, default=0)


class TrustArrangement(IdMixin, CreatedMixin, Model):  # 信托安排 (TP-1)
    __tablename__ = "pt_trust_arrangements"
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_compounds.id"), unique=True)
    settlor: Mapped[str] = mapped_column(sa.String(200))  # 业主大会
    committee: Mapped[str] = mapped_column(sa.String(200))  # 业委会 (signs)
    trustee: Mapped[str] = mapped_column(sa.String(200))  # the property company
    beneficiaries: Mapped[str] = mapped_column(sa.String(200))  # 全体业主
    signed_on: Mapped[dt.date | None] = mapped_column(sa.Date)


class TrustSupervisor(IdMixin, Model):  # 信托监察人
    __tablename__ = "pt_supervisors"
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    user_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(sa.String(100))
    firm: Mapped[str] = mapped_column(sa.String(200), default="")


class Building(IdMixin, Model):  # 楼栋
    __tablename__ = "pt_buildings"
    __table_args__ = (sa.UniqueConstraint("compound_id", "name"),)
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    name: Mapped[str] = mapped_column(sa.String(50))


class Unit(IdMixin, Model):  # 房屋 (专有部分)
    __tablename__ = "pt_units"
    __table_args__ = (sa.UniqueConstraint("building_id", "number"),)
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    building_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_buildings.id"), index=True)
    number: Mapped[str] = mapped_column(sa.String(30))
    unit_type: Mapped[str] = mapped_column(sa.String(20), default="residential")
    area: Mapped[Decimal | None] = mapped_column(Area)  # exclusive area, m²

    building: Mapped[Building] = relationship()
    owners: Mapped[list[UnitOwner]] = relationship(order_by="UnitOwner.id", viewonly=True)


class UnitOwner(IdMixin, Model):  # 业主 (co-owners allowed) or occupant
    __tablename__ = "pt_unit_owners"
    __table_args__ = (sa.UniqueConstraint("unit_id", "resident_id"),)
    community_id: Mapped[int] = _community()
    unit_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_units.id"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("residents.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(10), default="owner")  # owner | occupant
    billed: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # the owner bills go to


class FeeRate(IdMixin, Model):  # 收费标准: yuan per m² per month, by unit type
    __tablename__ = "pt_fee_rates"
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    unit_type: Mapped[str] = mapped_column(sa.String(20))
    rate: Mapped[Decimal] = mapped_column(Rate)  # yuan / m² / month
    effective_from: Mapped[dt.date] = mapped_column(sa.Date)


class BillingRun(IdMixin, CreatedMixin, Model):
    __tablename__ = "pt_billing_runs"
    __table_args__ = (sa.UniqueConstraint("compound_id", "month"),)
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    month: Mapped[int] = mapped_column(sa.Integer)  # yyyymm
    bills: Mapped[int] = mapped_column(sa.Integer, default=0)
    total: Mapped[int] = mapped_column(Fen, default=0)
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))


class Bill(IdMixin, Model):  # 账单: one receivable per unit and month
    __tablename__ = "pt_bills"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "month"),
        sa.Index("ix_pt_bills_compound_month", "compound_id", "month"),
        # The open bills (arrears) without reading the compound's history.
        sa.Index(
            "ix_pt_bills_open",
            "compound_id",
            "date",
            sqlite_where=sa.text("amount > paid"),
            postgresql_where=sa.text("amount > paid"),
        ),
    )
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    unit_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_units.id"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("residents.id"), index=True)
    month: Mapped[int] = mapped_column(sa.Integer)
    date: Mapped[dt.date] = mapped_column(sa.Date)
    area: Mapped[Decimal] = mapped_column(Area)
    rate: Mapped[Decimal] = mapped_column(Rate)
    amount: Mapped[int] = mapped_column(Fen)
    paid: Mapped[int] = mapped_column(Fen, default=0)
    voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))

    @property
    def open(self) -> int:
        return self.amount - self.paid


class Payment(IdMixin, CreatedMixin, Model):  # 缴费 (full, partial, advance 预收)
    __tablename__ = "pt_payments"
    __table_args__ = (
        sa.Index("ix_pt_payments_compound_date", "compound_id", "date"),
        # The payments with an advance (预收) to apply, without reading the compound's history.
        sa.Index(
            "ix_pt_payments_advance",
            "compound_id",
            sqlite_where=sa.text("advance > 0"),
            postgresql_where=sa.text("advance > 0"),
        ),
    )
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    unit_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_units.id"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("residents.id"), index=True)
    date: Mapped[dt.date] = mapped_column(sa.Date)
    amount: Mapped[int] = mapped_column(Fen)
    advance: Mapped[int] = mapped_column(Fen, default=0)  # the part kept as 预收
    voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))


class BillSettlement(IdMixin, Model):  # which payment (or advance) settled which bill
    __tablename__ = "pt_bill_settlements"
    community_id: Mapped[int] = _community()
    bill_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_bills.id"), index=True)
    payment_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_payments.id"), index=True)
    amount: Mapped[int] = mapped_column(Fen)
    from_advance: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))


class Reminder(IdMixin, Model):  # 催告 (TP-15)
    __tablename__ = "pt_reminders"
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    unit_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_units.id"), index=True)
    sent_on: Mapped[dt.date] = mapped_column(sa.Date)
    deadline: Mapped[dt.date] = mapped_column(sa.Date)
    amount: Mapped[int] = mapped_column(Fen)  # arrears at the time
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Escalation(IdMixin, Model):  # litigation / arbitration (never a utility cut-off)
    __tablename__ = "pt_escalations"
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    unit_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_units.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(12))  # litigation | arbitration | settled
    date: Mapped[dt.date] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))


class PublicRevenue(IdMixin, CreatedMixin, Model):  # 公共收益 (TP-10)
    __tablename__ = "pt_public_revenue"
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    kind: Mapped[str] = mapped_column(sa.String(12))  # parking | advertising | venue | other
    date: Mapped[dt.date] = mapped_column(sa.Date)
    gross: Mapped[int] = mapped_column(Fen)
    deductions: Mapped[int] = mapped_column(Fen, default=0)
    repair_topup: Mapped[int] = mapped_column(Fen, default=0)
    description: Mapped[str] = mapped_column(sa.String(300), default="")
    voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))


class RevenueDeduction(IdMixin, Model):  # documented cost deducted from public revenue
    __tablename__ = "pt_revenue_deductions"
    community_id: Mapped[int] = _community()
    revenue_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("pt_public_revenue.id"), index=True
    )
    description: Mapped[str] = mapped_column(sa.String(300))
    document: Mapped[str] = mapped_column(sa.String(200))  # invoice / contract reference
    amount: Mapped[int] = mapped_column(Fen)


class Vote(IdMixin, CreatedMixin, Model):  # 业主大会表决 (TP-8)
    __tablename__ = "pt_votes"
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    subject: Mapped[str] = mapped_column(sa.String(300))
    kind: Mapped[str] = mapped_column(sa.String(10))  # major | ordinary
    held_on: Mapped[dt.date] = mapped_column(sa.Date)
    total_area: Mapped[Decimal] = mapped_column(Area)
    total_owners: Mapped[int] = mapped_column(sa.Integer)
    voted_area: Mapped[Decimal] = mapped_column(Area)
    voted_owners: Mapped[int] = mapped_column(sa.Integer)
    yes_area: Mapped[Decimal] = mapped_column(Area)
    yes_owners: Mapped[int] = mapped_column(sa.Integer)
    quorum_met: Mapped[bool] = mapped_column(sa.Boolean)
    passed: Mapped[bool] = mapped_column(sa.Boolean)
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))


class Budget(IdMixin, CreatedMixin, Model):  # 年度预算 (TP-7)
    __tablename__ = "pt_budgets"
    __table_args__ = (sa.UniqueConstraint("compound_id", "year"),)
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    year: Mapped[int] = mapped_column(sa.Integer)
    vote_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("pt_votes.id"))
    expected_collection_rate: Mapped[Decimal] = mapped_column(Rate, default=1)  # 以收定支

    lines: Mapped[list[BudgetLine]] = relationship(order_by="BudgetLine.id", viewonly=True)


class BudgetLine(IdMixin, Model):
    __tablename__ = "pt_budget_lines"
    community_id: Mapped[int] = _community()
    budget_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_budgets.id"), index=True)
    account_code: Mapped[str] = mapped_column(sa.String(20))  # the TP-6 expense category
    name: Mapped[str] = mapped_column(sa.String(200))
    amount: Mapped[int] = mapped_column(Fen)  # as voted plus adjustments


class BudgetAdjustment(IdMixin, Model):  # 预算调整, with its reason
    __tablename__ = "pt_budget_adjustments"
    community_id: Mapped[int] = _community()
    line_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_budget_lines.id"), index=True)
    delta: Mapped[int] = mapped_column(Fen)
    reason: Mapped[str] = mapped_column(sa.String(500))
    vote_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("pt_votes.id"))
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Expense(IdMixin, CreatedMixin, Model):  # a payment out of the trust fund
    __tablename__ = "pt_expenses"
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    budget_line_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("pt_budget_lines.id"))
    emergency: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    amount: Mapped[int] = mapped_column(Fen)
    voucher_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("vouchers.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))


class Signature(IdMixin, Model):  # N-of-M signatories on the common-fund account (TP-4)
    __tablename__ = "pt_signatures"
    __table_args__ = (sa.UniqueConstraint("expense_id", "user_id"),)
    community_id: Mapped[int] = _community()
    expense_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("pt_expenses.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class SupervisorNote(IdMixin, Model):  # comment | flag | hold | release | finding (TP-9)
    __tablename__ = "pt_supervisor_notes"
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"), index=True)
    month: Mapped[int | None] = mapped_column(sa.Integer)  # findings: the statement's month
    action: Mapped[str] = mapped_column(sa.String(10))
    text: Mapped[str] = mapped_column(sa.String(1000), default="")
    user_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class RemunerationRun(IdMixin, CreatedMixin, Model):  # 酬金 of one month (TP-5)
    __tablename__ = "pt_remuneration"
    __table_args__ = (sa.UniqueConstraint("compound_id", "month"),)
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    month: Mapped[int] = mapped_column(sa.Integer)
    mode: Mapped[str] = mapped_column(sa.String(30))
    collected_fees: Mapped[int] = mapped_column(Fen)
    public_revenue: Mapped[int] = mapped_column(Fen, default=0)
    base: Mapped[int] = mapped_column(Fen)
    rate: Mapped[Decimal | None] = mapped_column(Rate)
    product: Mapped[int] = mapped_column(Fen)
    floor: Mapped[int | None] = mapped_column(Fen)
    cap: Mapped[int | None] = mapped_column(Fen)
    bound: Mapped[str] = mapped_column(sa.String(6), default="")
    amount: Mapped[int] = mapped_column(Fen)
    voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))


class PublishedStatement(IdMixin, Model):  # the owners' statement published with a report
    """The month's owners' statement as published with the book's disclosure report (the
    ledger's ``report_published`` signal): its figures frozen as JSON, never changed, linked
    from the organisation's public page next to the report that makes them verifiable."""

    __tablename__ = "pt_published_statements"
    __table_args__ = (sa.UniqueConstraint("compound_id", "month"),)
    community_id: Mapped[int] = _community()
    compound_id: Mapped[int] = _compound()
    month: Mapped[int] = mapped_column(sa.Integer)  # yyyymm
    report_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("disclosure_reports.id"), index=True
    )
    figures: Mapped[str] = mapped_column(sa.Text)  # JSON (statement.snapshot)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    published_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


guard_append_only(PublishedStatement)
