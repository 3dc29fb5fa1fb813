"""What a caller hands the ledger to post: a voucher's date, summary and lines (typed, plain)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.errors import InvalidInput


@dataclass(frozen=True)
class LineInput:  # 分录
    account_id: int
    debit: int = 0
    credit: int = 0
    unit: str = "CNY"
    fund_id: int | None = None
    memo: str = ""
    resident_id: int | None = None
    counterparty_org_id: int | None = None


@dataclass(frozen=True)
class VoucherInput:  # 记账凭证
    date: dt.date
    summary: str
    lines: Sequence[LineInput]
    attachment_count: int = 0


@dataclass
class Problems:
    """Collects field errors so a treasurer sees every problem at once."""

    errors: dict = field(default_factory=dict)
    first: object = None

    def add(self, key: str, message) -> None:
        self.errors.setdefault(key, []).append(str(message))
        if self.first is None:
            self.first = message

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.first, errors=self.errors)


def as_input(voucher) -> VoucherInput:
    """A stored voucher as the input the rules check."""
    return VoucherInput(
        date=voucher.date,
        summary=voucher.summary,
        attachment_count=voucher.attachment_count,
        lines=[
            LineInput(
                account_id=ln.account_id,
                debit=ln.debit,
                credit=ln.credit,
                unit=ln.unit,
                fund_id=ln.fund_id,
                memo=ln.memo,
                resident_id=ln.resident_id,
                counterparty_org_id=ln.counterparty_org_id,
            )
            for ln in voucher.lines
        ],
    )
