"""Platform and tenancy models: communities, organisations, residents, users, roles, audit.

Every tenant table carries ``community_id`` (the future distribution column, DESIGN.md §6).
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .crypto import EncryptedString, mask_id_number, mask_name, mask_phone
from .db import BigId, CreatedMixin, IdMixin, Model, utcnow


class Standard(enum.StrEnum):
    """The accounting standard a book follows (DOMAIN.md R0.2)."""

    SME_2011 = "SME_2011"  # 小企业会计准则
    NPO_2004 = "NPO_2004"  # 民间非营利组织会计制度 (财会〔2004〕7号)
    NPO_2024 = "NPO_2024"  # its revision (财会〔2024〕25号, in force 2026-01-01)
    TRUST_FUND = "TRUST_FUND"  # 信托制物业 共有基金 (no official standard)


class OrganisationKind(enum.StrEnum):
    ENTERPRISE = "enterprise"  # 社区企业
    FOUNDATION = "foundation"  # 基金会 hosting 社区基金
    TRUST_FUND = "trust_fund"  # 小区业主共有资金 (信托制物业)


KIND_STANDARD = {
    OrganisationKind.ENTERPRISE: Standard.SME_2011,
    OrganisationKind.FOUNDATION: Standard.NPO_2004,
    OrganisationKind.TRUST_FUND: Standard.TRUST_FUND,
}
# The standards a kind may keep its books under (the first is KIND_STANDARD's default): a
# foundation opens its 2026 book under the revised NPO system (ledger.transition).
KIND_STANDARDS = {
    OrganisationKind.ENTERPRISE: (Standard.SME_2011,),
    OrganisationKind.FOUNDATION: (Standard.NPO_2004, Standard.NPO_2024),
    OrganisationKind.TRUST_FUND: (Standard.TRUST_FUND,),
}


class Role(enum.StrEnum):
    ADMIN = "admin"
    PREPARER = "preparer"  # 制单
    REVIEWER = "reviewer"  # 审核
    AUDITOR = "auditor"  # read-only
    SUPERVISOR = "supervisor"  # 信托监察人
    COUNCIL_SECRETARY = "council_secretary"  # 议事会秘书


class AreaKind(enum.StrEnum):
    URBAN = "urban"  # 城市社区
    RURAL = "rural"  # 农村社区 (村)


class PopulationBasis(enum.StrEnum):
    """What a community's population count counts (社区公共财政 per-head figures use it)."""

    REGISTERED = "registered"  # 户籍人口
    RESIDENT = "resident"  # 常住人口


DEFAULT_TIMEZONE = "Asia/Shanghai"


class Community(IdMixin, CreatedMixin, Model):  # 社区
    __tablename__ = "communities"
    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    district: Mapped[str | None] = mapped_column(sa.String(200))  # 区/县
    street: Mapped[str | None] = mapped_column(sa.String(200))  # 街道/乡镇
    area_kind: Mapped[str] = mapped_column(sa.String(10), default="urban", server_default="urban")
    population: Mapped[int | None] = mapped_column(sa.Integer)
    population_basis: Mapped[str | None] = mapped_column(sa.String(20))
    timezone: Mapped[str] = mapped_column(
        sa.String(64), default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE
    )
    # Deactivated, never deleted: its books and published reports stay.
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())

    organisations: Mapped[list[Organisation]] = relationship(back_populates="community")


class Organisation(IdMixin, CreatedMixin, Model):
    """An entity that keeps its own book (账套): enterprise, foundation or trust fund."""

    __tablename__ = "organisations"
    __table_args__ = (sa.UniqueConstraint("community_id", "slug"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(20))
    standard: Mapped[str] = mapped_column(sa.String(20))
    # The first month it keeps books here (yyyymm, core.months.Month.key); earlier history
    # arrives as opening balances.
    first_month: Mapped[int | None] = mapped_column(sa.Integer)
    base_currency: Mapped[str] = mapped_column(sa.String(3), default="CNY", server_default="CNY")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    # Settings statements need.
    timezone: Mapped[str] = mapped_column(
        sa.String(64), default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE
    )
    fiscal_year_start_month: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")
    head_name: Mapped[str | None] = mapped_column(sa.String(100))  # 单位负责人
    accounting_head_name: Mapped[str | None] = mapped_column(sa.String(100))  # 会计机构负责人
    statement_preparer_name: Mapped[str | None] = mapped_column(sa.String(100))  # 制表人

    community: Mapped[Community] = relationship(back_populates="organisations")


class Resident(IdMixin, CreatedMixin, Model):  # 居民
    """A person in a community. Phone and ID number are encrypted at rest and shown masked."""

    __tablename__ = "residents"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(EncryptedString)
    id_number: Mapped[str | None] = mapped_column(EncryptedString)
    unit: Mapped[str | None] = mapped_column(sa.String(100))  # e.g. 3栋2单元501
    user_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))

    community: Mapped[Community] = relationship()
    consents: Mapped[list[ResidentConsent]] = relationship(
        back_populates="resident", order_by="ResidentConsent.id"
    )

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    def has_consent(self, kind: str, on: dt.datetime | None = None) -> bool:
        """Consent state is the latest grant or withdrawal recorded before ``on``."""
        state = False
        for c in self.consents:
            if on is not None and c.recorded_at > on:
                break
            if c.kind == kind:
                state = c.action == "grant"
        return state


class ResidentConsent(IdMixin, Model):
    """One recorded grant or withdrawal of a consent (PIPL 单独同意, DOMAIN.md DP-5). Append-only."""

    __tablename__ = "resident_consents"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("residents.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))  # publish_name, …
    action: Mapped[str] = mapped_column(sa.String(10))  # grant | withdraw
    scope: Mapped[str] = mapped_column(sa.String(200), default="")
    channel: Mapped[str] = mapped_column(sa.String(40), default="paper")
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))

    resident: Mapped[Resident] = relationship(back_populates="consents")


class User(IdMixin, CreatedMixin, Model):
    """A login. Platform table: not tied to one community."""

    __tablename__ = "users"
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_platform_admin: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(20))

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", foreign_keys="Membership.user_id"
    )

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def roles_in(self, organisation_id: int) -> set[str]:
        return {
            m.role
            for m in self.memberships
            if m.organisation_id == organisation_id and m.revoked_at is None
        }


class Membership(IdMixin, Model):
    """A role a user holds in one organisation."""

    __tablename__ = "memberships"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    role: Mapped[str] = mapped_column(sa.String(30))
    granted_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])


class LoginSession(IdMixin, Model):
    """A browser login, revocable on the server (issue 9 item 3). The session cookie carries a
    random token; only its SHA-256 is stored. Logging out, changing the password, losing a role
    or an admin's "sign out everywhere" revoke rows, and a copied cookie stops working."""

    __tablename__ = "login_sessions"
    user_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))


class Invitation(IdMixin, Model):  # 邀请
    """A one-time link an organisation's admin gives a new person: accepting it creates their
    login and grants the role. Only the token's SHA-256 is stored; the link is shown once."""

    __tablename__ = "invitations"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(30))
    display_name: Mapped[str] = mapped_column(sa.String(100), default="")
    created_by_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    used_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)

    organisation: Mapped[Organisation] = relationship()


class PasswordReset(IdMixin, Model):
    """A one-time password reset link an admin issued for a user (platform table, like users)."""

    __tablename__ = "password_resets"
    user_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ApiToken(IdMixin, CreatedMixin, Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    user_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)

    user: Mapped[User] = relationship()


class AuditEvent(IdMixin, Model):
    """Who did what, when, where from, and how it ended. Append-only (DB triggers)."""

    __tablename__ = "audit_events"
    occurred_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    username: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    community_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("communities.id"))
    organisation_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("organisations.id"))
    action: Mapped[str] = mapped_column(sa.String(200))
    target: Mapped[str | None] = mapped_column(sa.String(200))
    outcome: Mapped[str] = mapped_column(sa.String(20))  # ok | denied | invalid | error
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    security: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))
    detail: Mapped[str | None] = mapped_column(sa.Text)


class IdempotencyRecord(IdMixin, Model):
    """A write request's Idempotency-Key and its answer: a retry is answered, never redone."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)
    user_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(sa.String(100))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int] = mapped_column(sa.Integer)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Job(IdMixin, Model):  # 后台任务
    """A background job (a big export or statement): queued by a request, claimed by one
    worker with an atomic UPDATE … WHERE status = 'queued' (core.jobs), its file kept in the
    instance folder for the user who asked. No in-process state: any app process may run it."""

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_status_id", "status", "id"),)
    community_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("communities.id"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    book_id: Mapped[int | None] = mapped_column(BigId)  # the ledger's book (core knows no ledger)
    kind: Mapped[str] = mapped_column(sa.String(80))
    params: Mapped[str] = mapped_column(sa.Text, default="{}")  # JSON
    status: Mapped[str] = mapped_column(
        sa.String(12), default="queued"
    )  # queued|running|done|failed
    progress: Mapped[int] = mapped_column(sa.Integer, default=0)  # 0 … 100
    progress_note: Mapped[str] = mapped_column(sa.String(200), default="")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    worker: Mapped[str | None] = mapped_column(sa.String(80))  # who claimed it last
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    result_path: Mapped[str | None] = mapped_column(sa.String(300))  # under the instance folder
    result_name: Mapped[str | None] = mapped_column(sa.String(200))  # the download's file name
    result_mimetype: Mapped[str | None] = mapped_column(sa.String(120))
    result_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)

    organisation: Mapped[Organisation | None] = relationship()


class AuditorGrant(IdMixin, Model):  # 审计授权
    """An admin's grant of one organisation's books to an auditor for a date range, or its
    revocation. Append-only: a change of range is a new grant row, a revocation a row with
    ``action = 'revoke'``; the latest row for (auditor, organisation) is what holds now."""

    __tablename__ = "auditor_grants"
    __table_args__ = (
        sa.Index("ix_auditor_grants_user_org", "user_id", "organisation_id", "id"),
        sa.CheckConstraint("action IN ('grant', 'revoke')", name="action"),
        sa.CheckConstraint(
            "action = 'revoke' OR (start_date IS NOT NULL AND end_date IS NOT NULL "
            "AND start_date <= end_date)",
            name="range",
        ),
    )
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(10))  # grant | revoke
    start_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    end_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    organisation: Mapped[Organisation] = relationship()
