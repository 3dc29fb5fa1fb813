# SPDX-License-Identifier: AGPL-3.0-or-later
"""Signing keys, signed checkpoints and published disclosure reports.

All three tables are append-only (an ORM hook here, database triggers in the migration):
a key that signed something, a checkpoint someone may hold, and a report someone downloaded
must never change under them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from core.db import BigId, IdMixin, Model, guard_append_only, utcnow


class SigningKey(IdMixin, Model):  # 签名公钥
    """An organisation's Ed25519 public key. The private key lives in KEYS_DIR, never here."""

    __tablename__ = "signing_keys"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "fingerprint"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("organisations.id"), index=True
    )
    # Key name = checkpoint origin, ``commons-ledger/<book id>`` (FORMAT.md §2).
    name: Mapped[str] = mapped_column(sa.String(100))
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Checkpoint(IdMixin, Model):  # 签名检查点
    """A signed (size, root) of a book's log. A book never signs two inconsistent ones."""

    __tablename__ = "checkpoints"
    __table_args__ = (sa.UniqueConstraint("book_id", "size"),)
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"))
    key_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("signing_keys.id"))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    root: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    note: Mapped[str] = mapped_column(sa.Text)  # the C2SP signed note, byte for byte
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)

    key: Mapped[SigningKey] = relationship()


class DisclosureReport(IdMixin, Model):  # 公开报告 / 财务公开
    """A published period report: the bundle one verifies, stored exactly as served."""

    __tablename__ = "disclosure_reports"
    __table_args__ = (
        sa.UniqueConstraint("book_id", "period_start"),
        # Reports form a chain: each has at most one successor.
        sa.UniqueConstraint("previous_id"),
    )
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    book_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("books.id"), index=True)
    period_start: Mapped[dt.date] = mapped_column(sa.Date)
    period_end: Mapped[dt.date] = mapped_column(sa.Date)
    checkpoint_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("checkpoints.id"))
    previous_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("disclosure_reports.id"))
    bundle: Mapped[str] = mapped_column(sa.Text)
    bundle_sha256: Mapped[str] = mapped_column(sa.String(64))
    published_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    published_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    # Published despite the pre-publication checks (transparency.public_checks): what the
    # checks found (JSON list) and the publisher's note; both shown on the public page.
    publisher_note: Mapped[str | None] = mapped_column(sa.Text)
    sanity_warnings: Mapped[str | None] = mapped_column(sa.Text)
    # The bundle's length in characters, computed by the database: the public pages decide
    # whether a report is small enough to check in place without fetching megabytes.
    bundle_chars: Mapped[int] = column_property(sa.func.length(bundle))

    checkpoint: Mapped[Checkpoint] = relationship()
    previous: Mapped[DisclosureReport | None] = relationship(remote_side="DisclosureReport.id")
    published_by = relationship("User")

    @property
    def label(self) -> str:
        start, end = self.period_start, self.period_end
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.year}-{start.month:02d}"
        return f"{start.year}-{start.month:02d} – {end.year}-{end.month:02d}"


for _model in (SigningKey, Checkpoint, DisclosureReport):
    guard_append_only(_model)
