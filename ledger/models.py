"""Ledger tables: books, accounts, funds, periods, vouchers, per-period balances, the Merkle log.

Posted vouchers and their lines never change: the service refuses, an ORM hook refuses
(``ledger.guards``) and database triggers refuse (see the ledger migration).
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import BigId, CreatedMixin, Fen, IdMixin, Model, utcnow


class VoucherStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    POSTED = "posted"
    DISCARDED = "discarded"  # never posted; kept with its history


class VoucherKind(enum.StrEnum):
    NORMAL = "normal"
    REVERSAL = "reversal"  # 红字冲销: same sides as the original, negative amounts
    CLOSING = "closing"  # 年末结转
    OPENING = "opening"  # 期初余额


class Book(IdMixin, CreatedMixin, Model):  # 账套
    __tablename__ = "books"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), unique=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    standard: Mapped[str] = mapped_column(sa.String(20))
    # The chart the accounts came from: a standard's template, or CUSTOM (e.g. a beancount import).
    chart: Mapped[str] = mapped_column(sa.String(20))
    base_unit: Mapped[str] = mapped_column(sa.String(24), default="CNY")
    # The head row: every post takes it with UPDATE … RETURNING, serialising posts per book.
    log_size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    single_person_mode: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Periods are closed in order: every month up to and including this YYYYMM is closed.
    closed_through: Mapped[int | None] = mapped_column(sa.Integer)
    max_future_days: Mapped[int] = mapped_column(sa.Integer, default=0)
    # 期初余额: 'required' (nothing posts before the openings), 'posted', or 'none' (the book
    # starts from zero). See ledger.opening.
    opening_state: Mapped[str] = mapped_column(sa.String(12), default="none", server_default="none")

    organisation = relationship("Organisation")


class BookPolicyChange(IdMixin, Model):
    """An admin's recorded choice about a book's policy (single-person mode …). Append-only."""

    __tablename__ = "book_policy_changes"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"), index=True)
    setting: Mapped[str] = mapped_column(sa.String(40))
    value: Mapped[str] = mapped_column(sa.String(100))
    reason: Mapped[str] = mapped_column(sa.Text)
    changed_by_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("users.id"))
    changed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class BookUnit(IdMixin, Model):
    """A non-currency unit a book declares (points …). ISO 4217 currencies need no declaration."""

    __tablename__ = "book_units"
    __table_args__ = (sa.UniqueConstraint("book_id", "code"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(24))
    name: Mapped[str] = mapped_column(sa.String(100))
    exponent: Mapped[int] = mapped_column(sa.Integer, default=0)  # minor-unit digits


class Account(IdMixin, CreatedMixin, Model):  # 会计科目
    __tablename__ = "accounts"
    __table_args__ = (sa.UniqueConstraint("book_id", "code"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(200))
    name_zh: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200), default="")
    type: Mapped[str] = mapped_column(sa.String(20))
    normal_side: Mapped[str] = mapped_column(sa.String(6))
    parent_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("accounts.id"))
    level: Mapped[int] = mapped_column(sa.Integer, default=1)
    from_standard: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    has_children: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # NPO revenue is split 限定性 / 非限定性: a restricted line must name a restricted fund.
    restriction: Mapped[str | None] = mapped_column(sa.String(12))

    parent: Mapped[Account | None] = relationship(remote_side="Account.id")

    def label(self, locale: str = "zh") -> str:
        name = self.name_en if locale.startswith("en") and self.name_en else self.name_zh
        return f"{self.code} {name}"


class Fund(IdMixin, CreatedMixin, Model):  # 基金 / 资金 (限定性 restricted or not)
    __tablename__ = "funds"
    __table_args__ = (sa.UniqueConstraint("book_id", "code"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(200))
    restricted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    endowment: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # 不动本
    purpose: Mapped[str] = mapped_column(sa.String(300), default="")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class Period(IdMixin, Model):  # 会计期间 (monthly)
    __tablename__ = "periods"
    __table_args__ = (sa.UniqueConstraint("book_id", "year", "month"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"), index=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    month: Mapped[int] = mapped_column(sa.Integer)
    # Gapless numbering: each post takes the next number with UPDATE … RETURNING.
    voucher_count: Mapped[int] = mapped_column(sa.Integer, default=0)

    book: Mapped[Book] = relationship()

    @property
    def key(self) -> int:
        return self.year * 100 + self.month

    @property
    def closed(self) -> bool:
        return self.book.closed_through is not None and self.key <= self.book.closed_through

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}"


class PeriodEvent(IdMixin, Model):
    """A period was closed or reopened: who, when, why. Append-only."""

    __tablename__ = "period_events"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    period_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("periods.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(20))  # close | reopen
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    user_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Voucher(IdMixin, CreatedMixin, Model):  # 记账凭证
    __tablename__ = "vouchers"
    __table_args__ = (
        sa.UniqueConstraint("book_id", "number"),
        sa.UniqueConstraint("book_id", "log_index"),
        # One live reversal per voucher: a discarded red draft does not block a new one.
        # (Only reversals are in it: an ordinary voucher costs the index nothing.)
        sa.Index(
            "uq_vouchers_live_reversal",
            "reverses_id",
            unique=True,
            postgresql_where=sa.text("reverses_id IS NOT NULL AND status <> 'discarded'"),
            sqlite_where=sa.text("reverses_id IS NOT NULL AND status <> 'discarded'"),
        ),
        sa.Index("ix_vouchers_book_status_date", "book_id", "status", "date"),
    )
    community_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("communities.id")
    )  # no index: LogNode
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    summary: Mapped[str] = mapped_column(sa.String(300))  # 摘要
    kind: Mapped[str] = mapped_column(sa.String(12), default=VoucherKind.NORMAL.value)
    status: Mapped[str] = mapped_column(sa.String(12), default=VoucherStatus.DRAFT.value)
    attachment_count: Mapped[int] = mapped_column(sa.Integer, default=0)  # 附单据张数
    reverses_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("vouchers.id"))
    source: Mapped[str] = mapped_column(sa.String(20), default="ui")
    prepared_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    posted_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    # Set when posted, never after.
    period_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("periods.id"))
    number: Mapped[str | None] = mapped_column(sa.String(24))  # 记-2026-03-0001
    log_index: Mapped[int | None] = mapped_column(sa.BigInteger)
    posted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    private_salt: Mapped[bytes | None] = mapped_column(sa.LargeBinary(16))
    # The private fields committed to in the public record (JSON), frozen at posting.
    private_json: Mapped[str | None] = mapped_column(sa.Text)

    lines: Mapped[list[VoucherLine]] = relationship(
        back_populates="voucher", order_by="VoucherLine.line_no", cascade="all, delete-orphan"
    )
    reverses: Mapped[Voucher | None] = relationship(
        remote_side="Voucher.id", foreign_keys=[reverses_id]
    )
    book: Mapped[Book] = relationship()
    period: Mapped[Period | None] = relationship()
    prepared_by = relationship("User", foreign_keys=[prepared_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    posted_by = relationship("User", foreign_keys=[posted_by_id])

    @property
    def is_posted(self) -> bool:
        return self.status == VoucherStatus.POSTED


class VoucherLine(IdMixin, Model):  # 分录
    """One line. Exactly one of debit and credit is non-zero; negative only on a red reversal."""

    __tablename__ = "voucher_lines"
    __table_args__ = (
        sa.CheckConstraint("(debit = 0) <> (credit = 0)", name="one_side"),
        sa.Index("ix_voucher_lines_account", "account_id", "voucher_id"),
    )
    community_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("communities.id")
    )  # no index: LogNode
    voucher_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("vouchers.id"), index=True)
    line_no: Mapped[int] = mapped_column(sa.Integer)
    account_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("accounts.id"))
    fund_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("funds.id"))
    unit: Mapped[str] = mapped_column(sa.String(24), default="CNY")
    debit: Mapped[int] = mapped_column(Fen, default=0)
    credit: Mapped[int] = mapped_column(Fen, default=0)
    memo: Mapped[str] = mapped_column(sa.String(300), default="")
    resident_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("residents.id"))
    counterparty_org_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("organisations.id")
    )

    voucher: Mapped[Voucher] = relationship(back_populates="lines")
    account: Mapped[Account] = relationship()
    fund: Mapped[Fund | None] = relationship()
    resident = relationship("Resident")
    counterparty_org = relationship("Organisation")

    @property
    def fund_code(self) -> str | None:
        """The code of the line's fund; None without one (``fund`` is then never read)."""
        if not self.fund_id:
            return None
        assert self.fund is not None  # fund_id names a fund
        return self.fund.code


class CashFlowClass(IdMixin, Model):  # 现金流量项目 (a cash line's classification)
    """The cash-flow statement line a treasurer chose for one line on a cash account, overriding
    the counter-account rules (ledger/charts/cash_flow_rules.json). Posted voucher lines never
    change, so the classification lives beside the line: one row per line, replaced when the
    treasurer reclassifies (each change is in the audit trail)."""

    __tablename__ = "cash_flow_classes"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"), index=True)
    voucher_line_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("voucher_lines.id"), unique=True
    )
    line_key: Mapped[str] = mapped_column(sa.String(60))  # a key of the cash-flow layout
    set_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    set_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class VoucherEvent(IdMixin, Model):
    """The voucher's history: created, edited, submitted, approved, rejected, posted. Append-only."""

    __tablename__ = "voucher_events"
    community_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("communities.id")
    )  # no index: LogNode
    voucher_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("vouchers.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(20))
    user_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    note: Mapped[str] = mapped_column(sa.Text, default="")

    user = relationship("User")


class VoucherAttachment(IdMixin, CreatedMixin, Model):
    """A scanned receipt or invoice. Kept in the database: no local files hold state."""

    __tablename__ = "voucher_attachments"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    voucher_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("vouchers.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    uploaded_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))

    voucher: Mapped[Voucher] = relationship()


class AccountPeriodBalance(Model):
    """Movements per account, fund, unit and month, kept at posting time so reports never
    scan history. ``fund_key`` is the fund id or 0 (no fund), so the key has no NULLs."""

    __tablename__ = "account_period_balances"
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("accounts.id"), primary_key=True)
    fund_key: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    unit: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    period_key: Mapped[int] = mapped_column(sa.Integer, primary_key=True)  # YYYYMM
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    debit: Mapped[int] = mapped_column(Fen, default=0)
    credit: Mapped[int] = mapped_column(Fen, default=0)


class LogNode(Model):
    """Hash of the complete subtree (level, index) of a book's log (level 0 = leaves).

    Vouchers, lines, history events and log nodes are the tables every post writes rows to;
    their ``community_id`` (the future distribution column, DESIGN.md §6) is not indexed: every
    query reaches them through their voucher or book, and an index nobody reads costs every
    post and every import a write."""

    __tablename__ = "log_nodes"
    # The key is the row: on SQLite no separate rowid tree and key index to write on every post.
    __table_args__ = {"sqlite_with_rowid": False}
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"), primary_key=True)
    level: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    index: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("communities.id")
    )  # no index: LogNode
    hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
