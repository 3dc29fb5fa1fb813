"""A resident's personal data on request (PIPL 个人信息保护法 §45 access/copy, §47 deletion):
export everything held on them, and erase it without breaking the books.

Export: the registry fields (phone and ID number decrypted), consents, memberships of their
login, and what the layers above add through ``EXPORT_SECTIONS`` (the ledger adds the posted
vouchers where they are the counterparty, with the private fields committed to for them and
whether a receipt can be issued).

Erasure is a recorded exception to "nothing posted ever changes", with four eyes: one staff
member files the request with its reason (``request_erasure``), another confirms it
(``confirm_erasure``). Confirming writes who, when and why on the ``resident_erasures`` row,
then announces ``resident_erasing`` so the ledger can drop the private fields and the salts of
the posted vouchers that named the person (the published commitments stay; the database
trigger on posted vouchers allows exactly that change and only with a confirmed erasure row
for a resident of the voucher), and finally blanks the registry row: the name becomes a
placeholder, phone, ID number and unit go, the login is unlinked. Accounting records
(会计档案管理办法: vouchers and books are kept 30 years) stay, now about nobody in particular.
A receipt already issued keeps working: it carries its own salt and private fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import parse
from .db import BigId, IdMixin, Model, db, utcnow
from .errors import Conflict, InvalidInput, NotFound, NotPermitted
from .models import Membership, Resident, Role, User
from .residents import require_staff

ERASED_NAME = "—"  # what the registry row shows once its person is erased
MAX_REASON = 500
CONFIRMING_ROLES = {Role.ADMIN.value}

_signals = Namespace()
#: sender: the Resident (before its row is blanked); keyword: erasure. The ledger drops the
#: private fields and salts of the posted vouchers that name the resident.
resident_erasing = _signals.signal("resident-erasing")

#: ``fn(resident) -> (key, value) | None``: what the layers above hold on a resident.
EXPORT_SECTIONS: list[Callable[[Resident], tuple[str, Any] | None]] = []


class ResidentErasure(IdMixin, Model):
    """A request to erase a resident's personal data and, once another staff member confirms
    it, the record that it was done: who asked, who confirmed, when, why. Once confirmed the
    row never changes and is never deleted (database triggers)."""

    __tablename__ = "resident_erasures"
    community_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("communities.id"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("residents.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(MAX_REASON))
    requested_by_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("users.id"))
    erased_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)

    resident: Mapped[Resident] = relationship()
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])


def get_resident(resident_id: int, community_id: int | None = None) -> Resident:
    r = db.session.get(Resident, resident_id)
    if r is None or (community_id is not None and r.community_id != community_id):
        raise NotFound(_l("No such resident."))
    return r


def is_erased(resident: Resident) -> bool:
    erased = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ResidentErasure)
        .where(ResidentErasure.resident_id == resident.id, ResidentErasure.erased_at.is_not(None))
    )
    return bool(erased)


def pending_erasure(resident: Resident) -> ResidentErasure | None:
    return db.session.scalar(
        sa.select(ResidentErasure).where(
            ResidentErasure.resident_id == resident.id, ResidentErasure.erased_at.is_(None)
        )
    )


def erasures(resident: Resident) -> list[ResidentErasure]:
    return list(
        db.session.scalars(
            sa.select(ResidentErasure)
            .where(ResidentErasure.resident_id == resident.id)
            .order_by(ResidentErasure.id)
        )
    )


def _iso(value: dt.datetime | None) -> str | None:
    return value.replace(tzinfo=dt.UTC).isoformat() if value is not None else None


def export_resident(resident: Resident) -> dict:
    """Everything held on ``resident``, for handing over (phone and ID number decrypted)."""
    user = db.session.get(User, resident.user_id) if resident.user_id else None
    out: dict[str, Any] = {
        "format": "commons-ledger/personal-data/1",
        "exported_at": _iso(utcnow()),
        "resident": {
            "id": resident.id,
            "community": {"id": resident.community.id, "name": resident.community.name},
            "name": resident.name,
            "phone": resident.phone,
            "id_number": resident.id_number,
            "unit": resident.unit,
            "created_at": _iso(resident.created_at),
        },
        "consents": [
            {
                "kind": c.kind,
                "action": c.action,
                "scope": c.scope,
                "channel": c.channel,
                "recorded_at": _iso(c.recorded_at),
            }
            for c in resident.consents
        ],
        "login": None,
        "erasures": [
            {
                "reason": e.reason,
                "requested_at": _iso(e.requested_at),
                "erased_at": _iso(e.erased_at),
            }
            for e in erasures(resident)
        ],
    }
    if user is not None:
        out["login"] = {
            "username": user.username,
            "display_name": user.display_name,
            "memberships": [
                {
                    "organisation_id": m.organisation_id,
                    "role": m.role,
                    "revoked": m.revoked_at is not None,
                }
                for m in db.session.scalars(
                    sa.select(Membership)
                    .where(Membership.user_id == user.id)
                    .order_by(Membership.id)
                )
            ],
        }
    for section in EXPORT_SECTIONS:
        got = section(resident)
        if got is not None:
            out[got[0]] = got[1]
    return out


def request_erasure(resident: Resident, reason: str, *, actor: User) -> ResidentErasure:
    """File a request (staff of the resident's community); another admin confirms it."""
    require_staff(resident.community, actor)
    reason = parse.text(reason, field="reason", max_length=MAX_REASON)
    if not reason:
        raise InvalidInput(errors={"reason": [str(_l("Give the reason for the erasure."))]})
    if is_erased(resident):
        raise Conflict(_l("This resident's personal data has already been erased."))
    if pending_erasure(resident) is not None:
        raise Conflict(_l("An erasure request for this resident is already waiting."))
    e = ResidentErasure(
        community_id=resident.community_id,
        resident_id=resident.id,
        reason=reason,
        requested_by_id=actor.id,
    )
    db.session.add(e)
    db.session.flush()
    return e


def _may_confirm(resident: Resident, actor: User) -> bool:
    if actor.is_platform_admin:
        return True
    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Membership)
            .where(
                Membership.user_id == actor.id,
                Membership.community_id == resident.community_id,
                Membership.revoked_at.is_(None),
                Membership.role.in_(CONFIRMING_ROLES),
            )
        )
    )


def confirm_erasure(erasure: ResidentErasure, *, actor: User) -> ResidentErasure:
    """The second pair of eyes (an admin of the community, not the requester): erase."""
    resident = erasure.resident
    require_staff(resident.community, actor)
    if not _may_confirm(resident, actor):
        raise NotPermitted(_l("Only an administrator may confirm an erasure."))
    if erasure.erased_at is not None:
        raise Conflict(_l("This resident's personal data has already been erased."))
    if erasure.requested_by_id == actor.id:
        raise NotPermitted(
            _l("Another administrator must confirm an erasure: not the person who requested it.")
        )
    erasure.confirmed_by_id = actor.id
    erasure.erased_at = utcnow()
    db.session.flush()  # the row the database trigger on posted vouchers looks for
    resident_erasing.send(resident, erasure=erasure)
    resident.name = ERASED_NAME
    resident.phone = None
    resident.id_number = None
    resident.unit = None
    resident.user_id = None
    db.session.flush()
    return erasure
