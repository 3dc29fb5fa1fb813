# SPDX-License-Identifier: AGPL-3.0-or-later
"""Community funds' own records (DOMAIN.md §4): community funds on the ledger's funds (CF-1,
CF-2, CF-3), residents' councils and their resolutions (CF-6), five-step public-finance
projects (CF-5), the negative and priority lists, budgets, inflows and disbursements with the
vouchers they caused, allocations by formula (CF-4), ¥1-rent service commitments (CF-7) and
the disclosure calendar (CF-8). Every table carries ``community_id`` and its organisation.
Money is never stored here except as what a record asked the ledger to post (voucher ids)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import BigId, CreatedMixin, Fen, IdMixin, Model


class FounderType(enum.StrEnum):
    RESIDENTS = "RESIDENTS"
    COMPANY = "COMPANY"
    UNIT = "UNIT"
    COMMUNITY = "COMMUNITY"


class Body(enum.StrEnum):
    """Who decides: the residents' council (居民议事会) or the fund's committee (管委会)."""

    COUNCIL = "council"
    COMMITTEE = "committee"


class Step(enum.StrEnum):
    """The five steps of 社区保障资金 (CF-5), then closed or refused."""

    PROPOSED = "proposed"  # ① 党组织提议
    VOTED = "voted"  # ② 居民议事会民主决议
    IMPLEMENTATION = "implementation"  # ③ 居委会组织实施
    ACCEPTANCE = "acceptance"  # ④ 党组织评议验收
    SUPERVISION = "supervision"  # ⑤ 监委会民主监督
    REFUSED = "refused"  # the council voted it down


STEP_ORDER = [Step.PROPOSED, Step.VOTED, Step.IMPLEMENTATION, Step.ACCEPTANCE, Step.SUPERVISION]


class InflowKind(enum.StrEnum):
    DONATION = "donation"  # 捐赠收入 4101
    GRANT = "grant"  # 政府补助收入 4401
    TRANSFER = "transfer"  # from the community economy, 其他收入 4901
    ALLOCATION = "allocation"  # 社区保障资金 by formula, 4401 against 1122
    RETURN = "return"  # an endowment's investment returns, 投资收益 4601


class CommunityFund(IdMixin, CreatedMixin, Model):  # 社区基金 / 社区微基金
    __tablename__ = "cf_funds"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"))
    fund_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("funds.id"), unique=True)
    # The community whose fund it is (社区保障资金 is allocated into it); public pages list it.
    beneficiary_community_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("communities.id"), index=True
    )
    founder_type: Mapped[str] = mapped_column(sa.String(12))
    founder_name: Mapped[str] = mapped_column(sa.String(200), default="")
    purpose_tags: Mapped[str] = mapped_column(sa.String(300), default="")  # comma-separated
    public_finance: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # 社区保障资金

    fund = relationship("Fund")
    rules: Mapped[list[FundRule]] = relationship(order_by="FundRule.id", viewonly=True)
    committee: Mapped[list[CommitteeMember]] = relationship(
        order_by="CommitteeMember.id", viewonly=True
    )

    @property
    def tags(self) -> list[str]:
        return [t for t in (self.purpose_tags or "").split(",") if t]


class FundRule(IdMixin, Model):
    """Which decision of a fund needs which body: a disbursement or release over
    ``over_fen`` needs a passed resolution of ``body``."""

    __tablename__ = "cf_fund_rules"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    cf_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_funds.id"), index=True)
    decision: Mapped[str] = mapped_column(sa.String(20))  # disburse | release
    body: Mapped[str] = mapped_column(sa.String(12))
    over_fen: Mapped[int] = mapped_column(Fen, default=0)


class CommitteeMember(IdMixin, Model):  # 管委会成员 (CF-3)
    __tablename__ = "cf_committee_members"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    cf_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_funds.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.String(60))
    term_start: Mapped[dt.date] = mapped_column(sa.Date)
    term_end: Mapped[dt.date | None] = mapped_column(sa.Date)


class Council(IdMixin, CreatedMixin, Model):  # 居民议事会 (CF-6)
    __tablename__ = "cf_councils"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    # Quorum: present × den ≥ seated × num (e.g. 1/2 → more than half: see services).
    quorum_num: Mapped[int] = mapped_column(sa.Integer, default=1)
    quorum_den: Mapped[int] = mapped_column(sa.Integer, default=2)

    members: Mapped[list[CouncilMember]] = relationship(order_by="CouncilMember.id", viewonly=True)


class CouncilMember(IdMixin, Model):
    __tablename__ = "cf_council_members"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    council_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_councils.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    seated_from: Mapped[dt.date] = mapped_column(sa.Date)
    seated_to: Mapped[dt.date | None] = mapped_column(sa.Date)


class Resolution(IdMixin, CreatedMixin, Model):  # 议事会决议 / 管委会决定
    __tablename__ = "cf_resolutions"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    body: Mapped[str] = mapped_column(sa.String(12))
    council_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("cf_councils.id"))
    cf_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("cf_funds.id"))
    project_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("cf_projects.id"))
    budget_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("cf_budgets.id"))
    meeting_date: Mapped[dt.date] = mapped_column(sa.Date)
    seated: Mapped[int] = mapped_column(sa.Integer)
    present: Mapped[int] = mapped_column(sa.Integer)
    votes_for: Mapped[int] = mapped_column(sa.Integer)
    votes_against: Mapped[int] = mapped_column(sa.Integer)
    votes_abstain: Mapped[int] = mapped_column(sa.Integer)
    quorum_rule: Mapped[str] = mapped_column(sa.String(20))  # e.g. "1/2", as applied
    text: Mapped[str] = mapped_column(sa.Text)
    passed: Mapped[bool] = mapped_column(sa.Boolean)
    minutes_name: Mapped[str | None] = mapped_column(sa.String(200))
    minutes_type: Mapped[str | None] = mapped_column(sa.String(100))
    minutes: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))


class ExpenseCategory(IdMixin, Model):
    """An expense category of an organisation, on the negative list (with the reason) or the
    priority list (CF-5)."""

    __tablename__ = "cf_expense_categories"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "code"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("organisations.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    name_zh: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))
    negative_reason: Mapped[str | None] = mapped_column(sa.String(300))
    priority: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class Project(IdMixin, CreatedMixin, Model):  # 项目 (five steps for 社区保障资金)
    __tablename__ = "cf_projects"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    cf_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_funds.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    priority_tags: Mapped[str] = mapped_column(sa.String(300), default="")
    step: Mapped[str] = mapped_column(sa.String(20), default=Step.PROPOSED.value)
    start: Mapped[dt.date] = mapped_column(sa.Date)
    end: Mapped[dt.date] = mapped_column(sa.Date)
    budget_fen: Mapped[int] = mapped_column(Fen, default=0)
    related_party: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    fund: Mapped[CommunityFund] = relationship()
    steps: Mapped[list[ProjectStep]] = relationship(order_by="ProjectStep.id", viewonly=True)


class ProjectStep(IdMixin, Model):
    """One step a project took: who, when, with which documents (and resolution)."""

    __tablename__ = "cf_project_steps"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    project_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_projects.id"), index=True)
    step: Mapped[str] = mapped_column(sa.String(20))
    who: Mapped[str] = mapped_column(sa.String(200))
    on: Mapped[dt.date] = mapped_column(sa.Date)
    documents: Mapped[str] = mapped_column(sa.Text, default="")
    resolution_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("cf_resolutions.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))

    resolution: Mapped[Resolution | None] = relationship()


class Budget(IdMixin, CreatedMixin, Model):  # 预算 per fund or project
    __tablename__ = "cf_budgets"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    cf_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_funds.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("cf_projects.id"))
    year: Mapped[int] = mapped_column(sa.Integer)
    label: Mapped[str] = mapped_column(sa.String(200))
    amount: Mapped[int] = mapped_column(Fen)


class Inflow(IdMixin, CreatedMixin, Model):
    """A donation, grant, transfer, allocation or return into a fund, and its voucher."""

    __tablename__ = "cf_inflows"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    cf_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_funds.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    amount: Mapped[int] = mapped_column(Fen)
    source_name: Mapped[str] = mapped_column(sa.String(200), default="")  # donor or grantor
    resident_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("residents.id"))
    anonymous: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # A donor's name appears publicly only with this consent (a resident's publish_name
    # consent is also required for a resident donor).
    publish_name: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    voucher_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    # A transfer from the community economy: the paying organisation and its own voucher (in
    # its own book), posted together with ``voucher_id``.
    source_organisation_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("organisations.id")
    )
    source_voucher_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))

    resident = relationship("Resident")
    voucher = relationship("Voucher", foreign_keys=[voucher_id])
    source_voucher = relationship("Voucher", foreign_keys=[source_voucher_id])
    source_organisation = relationship("Organisation", foreign_keys=[source_organisation_id])


class Disbursement(IdMixin, CreatedMixin, Model):  # 支出
    __tablename__ = "cf_disbursements"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    cf_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_funds.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("cf_projects.id"))
    budget_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("cf_budgets.id"))
    category_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_expense_categories.id"))
    resolution_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("cf_resolutions.id"))
    purpose: Mapped[str] = mapped_column(sa.String(60))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    amount: Mapped[int] = mapped_column(Fen)
    payee: Mapped[str] = mapped_column(sa.String(200))
    memo: Mapped[str] = mapped_column(sa.String(300), default="")
    voucher_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))

    category: Mapped[ExpenseCategory] = relationship()
    project: Mapped[Project | None] = relationship()


class Release(IdMixin, CreatedMixin, Model):  # 限定性净资产转为非限定性净资产
    __tablename__ = "cf_releases"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    cf_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_funds.id"), index=True)
    resolution_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_resolutions.id"))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    amount: Mapped[int] = mapped_column(Fen)
    reason: Mapped[str] = mapped_column(sa.String(300))
    voucher_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))


class Allocation(IdMixin, CreatedMixin, Model):  # 社区保障资金 by formula (CF-4)
    __tablename__ = "cf_allocations"
    __table_args__ = (sa.UniqueConstraint("cf_id", "year"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    cf_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("cf_funds.id"), index=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    date: Mapped[dt.date] = mapped_column(sa.Date)
    kind: Mapped[str] = mapped_column(sa.String(10))  # urban | rural
    population: Mapped[int] = mapped_column(sa.Integer)
    population_basis: Mapped[str] = mapped_column(sa.String(20))  # resident | registered
    part_hundreds: Mapped[str] = mapped_column(sa.String(20))  # floor | ceil | proportional
    amount: Mapped[int] = mapped_column(Fen)
    voucher_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))

    voucher = relationship("Voucher")


class ServiceCommitment(IdMixin, CreatedMixin, Model):  # 一元租金、资源换服务 (CF-7)
    __tablename__ = "cf_service_commitments"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    tenant: Mapped[str] = mapped_column(sa.String(200))
    premises: Mapped[str] = mapped_column(sa.String(200))
    year: Mapped[int] = mapped_column(sa.Integer)
    rent_fen: Mapped[int] = mapped_column(Fen)  # booked as income (¥1)
    rent_voucher_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    sessions_promised: Mapped[int] = mapped_column(sa.Integer)
    value_claimed_fen: Mapped[int] = mapped_column(Fen)  # reported, never booked

    deliveries: Mapped[list[ServiceDelivery]] = relationship(
        order_by="ServiceDelivery.id", viewonly=True
    )


class ServiceDelivery(IdMixin, Model):
    __tablename__ = "cf_service_deliveries"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    commitment_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("cf_service_commitments.id"), index=True
    )
    date: Mapped[dt.date] = mapped_column(sa.Date)
    sessions: Mapped[int] = mapped_column(sa.Integer)
    description: Mapped[str] = mapped_column(sa.String(300))
    verified_by: Mapped[str | None] = mapped_column(sa.String(100))


class Disclosure(IdMixin, Model):  # 慈善组织信息公开 due dates (CF-8)
    __tablename__ = "cf_disclosures"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("cf_projects.id"))
    kind: Mapped[str] = mapped_column(sa.String(20))  # quarterly | final | related_party
    due: Mapped[dt.date] = mapped_column(sa.Date)
    met_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    met_note: Mapped[str] = mapped_column(sa.String(300), default="")

    project: Mapped[Project | None] = relationship()
