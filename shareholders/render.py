# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the pages, the PDFs, the CSV and the CLI show: a shareholder's statement (holdings
over time, subscriptions, payments, dividends, transfers) and the register's rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.models import Organisation
from ledger.amounts import format_minor
from ledger.models import Voucher

from . import services as svc
from .models import Certificate, DividendLine, RegisterEvent, Shareholder, Subscription, Transfer

EVENT_LABELS = {
    "subscribe": _l("Subscribed"),
    "pay": _l("Paid in"),
    "transfer_in": _l("Acquired by transfer"),
    "transfer_out": _l("Transferred away"),
    "dividend": _l("Dividend declared"),
    "dividend_paid": _l("Dividend paid"),
}


@dataclass
class StatementRow:
    event: RegisterEvent
    label: str
    voucher_number: str | None
    subscribed: int  # running totals after the event
    paid_in: int


@dataclass
class Statement:
    shareholder: Shareholder
    holding: svc.Holding
    rows: list[StatementRow] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    dividends: list[DividendLine] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    share_pct: str = "0.00"  # of all paid-in capital


def statement(org: Organisation, sh: Shareholder) -> Statement:
    hs = svc.holdings(org)
    h = hs[sh.id]
    total_paid = sum(x.paid_in for x in hs.values())
    evs = svc.events(org, sh)
    numbers = dict(
        db.session.execute(
            sa.select(Voucher.id, Voucher.number).where(
                Voucher.id.in_({e.voucher_id for e in evs if e.voucher_id})
            )
        ).all()
    )
    st = Statement(shareholder=sh, holding=h)
    sub = paid = 0
    for e in evs:
        sub += e.subscribed_delta
        paid += e.paid_delta
        st.rows.append(
            StatementRow(
                e,
                str(EVENT_LABELS.get(e.kind, e.kind)),
                numbers.get(e.voucher_id) if e.voucher_id else None,
                sub,
                paid,
            )
        )
    st.subscriptions = list(
        db.session.scalars(
            sa.select(Subscription)
            .where(Subscription.shareholder_id == sh.id)
            .order_by(Subscription.date, Subscription.id)
        )
    )
    st.dividends = list(
        db.session.scalars(
            sa.select(DividendLine)
            .where(DividendLine.shareholder_id == sh.id)
            .order_by(DividendLine.id)
        )
    )
    st.transfers = list(
        db.session.scalars(
            sa.select(Transfer)
            .where(sa.or_(Transfer.seller_id == sh.id, Transfer.buyer_id == sh.id))
            .order_by(Transfer.id)
        )
    )
    st.certificates = svc.certificates(org, sh)
    if total_paid:
        st.share_pct = f"{h.paid_in * 100 / total_paid:.2f}"
    return st


def register_rows(org: Organisation, as_of: dt.date | None) -> list[list]:
    """The register for auditors and the registry filing: one row per holder."""
    hs = svc.holders(org, as_of)
    total = sum(h.paid_in for h in hs) or 1
    rows: list[list] = [
        [
            str(_l("Serial number")),
            str(_l("Shareholder")),
            str(_l("Kind")),
            str(_l("Subscribed (yuan)")),
            str(_l("Paid in (yuan)")),
            str(_l("Share of paid-in capital (%)")),
            str(_l("Certificate")),
        ]
    ]
    for n, h in enumerate(hs, start=1):
        cert = svc.current_certificate(h.shareholder)
        rows.append(
            [
                n,
                h.shareholder.name,
                str(_l("Resident")) if h.shareholder.is_person else str(_l("Organisation")),
                format_minor(h.subscribed, 2),
                format_minor(h.paid_in, 2),
                f"{h.paid_in * 100 / total:.2f}",
                cert.label if cert else "",
            ]
        )
    rows.append(
        [
            "",
            str(_l("Total")),
            "",
            format_minor(sum(h.subscribed for h in hs), 2),
            format_minor(sum(h.paid_in for h in hs), 2),
            "100.00" if hs else "0.00",
            "",
        ]
    )
    return rows
