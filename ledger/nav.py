"""What a page offers the signed-in user: ``can(action, organisation, subject=None)``, a Jinja
global for menus and action buttons.

Hiding a link is not authorization: the services refuse by themselves. This only keeps a menu
from offering what would be refused, and it decides from the very role sets the services check
(``ledger.services.PREPARE_ROLES``, ``REVIEW_ROLES``, ``POST_ROLES``, ``CLOSE_ROLES``, read at
call time) and from the book's standard, so there is no second list to drift.

Actions (``subject`` is a voucher where one is named, a report name for ``report``):

=============  ==============================================================================
read           any role in the organisation
prepare        enter and change vouchers, attachments, accounts, funds (PREPARE_ROLES)
review         the review queue; returning a voucher for correction (REVIEW_ROLES)
approve        with a voucher: as ``approve_voucher`` decides (someone else reviews, unless
               single-person mode); without one: REVIEW_ROLES
post           POST_ROLES (with a voucher: it is approved)
reverse        PREPARE_ROLES (with a voucher: it is posted and not itself a reversal)
close          close a month, year-end closing (CLOSE_ROLES)
reopen         reopen the latest closed month (admins)
report         with a report name: the book's standard has that report
my_receipts    no organisation: the login is linked to a resident, or is a resident's login
security_feed  no organisation: a platform admin, or an admin of some organisation
=============  ==============================================================================

With a voucher, the voucher's state must allow the step too (edit/submit a draft, approve a
submitted one, reject a submitted or approved one, post an approved one, discard an unposted one).
Layers above the ledger add their own actions to ``EXTRA_RULES`` (``fn(roles, organisation,
subject) -> bool``), the way they add hooks to ``ledger.services``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from core.auth import READ_ROLES
from core.db import db
from core.models import Membership, Organisation, Resident, Role, Standard

from . import services as svc
from .models import Book, VoucherKind, VoucherStatus

# Reports that only some standards have. The fund statement (基金收支情况表) is one of the NPO
# statements (DOMAIN.md §5.3, "+ per-fund statements"); an SME or trust-fund book has none.
STANDARD_REPORTS: dict[str, tuple[str, ...]] = {
    "fund-statement": (Standard.NPO_2004.value, Standard.NPO_2024.value)
}

EXTRA_RULES: dict[str, Callable[[frozenset[str], Organisation | None, object], bool]] = {}


@dataclass(frozen=True)
class BookLink:
    """A domain's entry in a book's navigation (templates/ledger/_layout.html): shown when the
    book keeps one of ``standards`` (empty: any) and ``can(action, organisation)``; highlighted
    on any endpoint that starts with ``current_prefix`` (default: the endpoint's blueprint)."""

    endpoint: str  # takes ``org_id``
    label: object  # a lazy_gettext string
    action: str = "read"
    standards: tuple[str, ...] = ()
    current_prefix: str = ""


BOOK_LINKS: list[BookLink] = []

# Links a layer above the ledger adds to the periods page, per month: ``fn(book) -> {month key
# (yyyymm): [(url, label), ...]}`` (transparency: the published reports covering the month).
MONTH_LINKS: list[Callable[[Book], dict[int, list[tuple[str, str]]]]] = []


def book_links(organisation: Organisation) -> list[tuple[str, str, str]]:
    """(url, label, prefix-for-highlighting) of the domain links this user may follow."""
    from flask import url_for

    out = []
    book = _book(organisation)
    for link in BOOK_LINKS:
        if link.standards and (book is None or book.standard not in link.standards):
            continue
        if not can(link.action, organisation):
            continue
        prefix = link.current_prefix or link.endpoint.split(".")[0] + "."
        out.append((url_for(link.endpoint, org_id=organisation.id), str(link.label), prefix))
    return out


_S = VoucherStatus


def _roles(organisation: Organisation) -> frozenset[str]:
    """The roles the signed-in user holds in ``organisation`` (platform admins: all)."""
    if not has_request_context() or not current_user.is_authenticated:
        return frozenset()
    if current_user.is_platform_admin:
        return frozenset(r.value for r in Role)
    return frozenset(current_user.roles_in(organisation.id))


def _holds(roles: frozenset[str], allowed) -> bool:
    return bool(roles & {str(r) for r in allowed})


def _cache() -> dict:
    """Answers kept for the rest of this request (one page asks several times)."""
    return request.environ.setdefault("commons_ledger.nav", {})


def _book(organisation: Organisation) -> Book | None:
    key = ("book", organisation.id)
    cache = _cache()
    if key not in cache:
        cache[key] = db.session.scalar(
            sa.select(Book).where(Book.organisation_id == organisation.id)
        )
    return cache[key]


def _status(voucher, *statuses: VoucherStatus) -> bool:
    return voucher is None or voucher.status in {s.value for s in statuses}


def _approve(roles, organisation, voucher) -> bool:
    """Mirror of ``svc.approve_voucher``."""
    if voucher is None:
        return _holds(roles, svc.REVIEW_ROLES)
    if not _status(voucher, _S.SUBMITTED):
        return False
    if voucher.prepared_by_id is not None and voucher.prepared_by_id == current_user.id:
        book = voucher.book
        return bool(book.single_person_mode) and _holds(roles, (*svc.REVIEW_ROLES, Role.PREPARER))
    return _holds(roles, svc.REVIEW_ROLES)


def _reverse(roles, organisation, voucher) -> bool:
    if not _holds(roles, svc.PREPARE_ROLES):
        return False
    return voucher is None or (
        voucher.status == _S.POSTED.value and voucher.kind == VoucherKind.NORMAL.value
    )


def _report(roles, organisation, name) -> bool:
    if not _holds(roles, READ_ROLES):
        return False
    standards = STANDARD_REPORTS.get(str(name or ""))
    if standards is None:
        return True
    book = _book(organisation)
    return book is not None and book.standard in standards


def _my_receipts(organisation) -> bool:
    """A resident's own receipts: offered to a login linked to a resident, and to a login that
    holds no role anywhere (a resident whose link is still to be made sees how to get it)."""
    if not has_request_context() or not current_user.is_authenticated:
        return False
    cache = _cache()
    if "my_receipts" not in cache:
        linked = db.session.scalar(
            sa.select(Resident.id).where(Resident.user_id == current_user.id).limit(1)
        )
        staff = db.session.scalar(
            sa.select(Membership.id)
            .where(Membership.user_id == current_user.id, Membership.revoked_at.is_(None))
            .limit(1)
        )
        cache["my_receipts"] = linked is not None or (
            staff is None and not current_user.is_platform_admin
        )
    return cache["my_receipts"]


def _security_feed() -> bool:
    """The security-event feed (core.security_views): platform admins and organisations' admins."""
    if not has_request_context() or not current_user.is_authenticated:
        return False
    if current_user.is_platform_admin:
        return True
    return any(
        m.role == Role.ADMIN.value and m.revoked_at is None for m in current_user.memberships
    )


_RULES: dict[str, Callable] = {
    "read": lambda roles, org, v: _holds(roles, READ_ROLES),
    "prepare": lambda roles, org, v: _holds(roles, svc.PREPARE_ROLES),
    "edit": lambda roles, org, v: _holds(roles, svc.PREPARE_ROLES) and _status(v, _S.DRAFT),
    "submit": lambda roles, org, v: _holds(roles, svc.PREPARE_ROLES) and _status(v, _S.DRAFT),
    "discard": lambda roles, org, v: (
        _holds(roles, svc.PREPARE_ROLES) and _status(v, _S.DRAFT, _S.SUBMITTED)
    ),
    "review": lambda roles, org, v: (
        _holds(roles, svc.REVIEW_ROLES) and _status(v, _S.SUBMITTED, _S.APPROVED)
    ),
    "approve": _approve,
    "post": lambda roles, org, v: _holds(roles, svc.POST_ROLES) and _status(v, _S.APPROVED),
    "reverse": _reverse,
    "close": lambda roles, org, v: _holds(roles, svc.CLOSE_ROLES),
    "reopen": lambda roles, org, v: _holds(roles, (Role.ADMIN,)),
    "report": _report,
}


def can(action: str, organisation: Organisation | None = None, subject=None) -> bool:
    """Whether a page should offer ``action`` to the signed-in user (see the module doc).
    An unknown action is a mistake in a template and raises ``KeyError``."""
    if action == "my_receipts":
        return _my_receipts(organisation)
    if action == "security_feed":
        return _security_feed()
    rule = _RULES.get(action) or EXTRA_RULES.get(action)
    if rule is None:
        raise KeyError(f"can(): unknown action {action!r}")
    if organisation is None:
        return False
    return bool(rule(_roles(organisation), organisation, subject))


__all__ = [
    "BOOK_LINKS",
    "EXTRA_RULES",
    "MONTH_LINKS",
    "STANDARD_REPORTS",
    "BookLink",
    "book_links",
    "can",
]
