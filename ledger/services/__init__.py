"""Ledger use cases: the only code that writes money (DESIGN.md §1, §3).

Each function takes typed arguments and the acting user, checks the rules, writes, records
history and flushes; the caller (request or CLI command) commits once. Rooms: ``books``
(books, charts, funds, units), ``vouchers`` (vouchers and their approval), ``periods``
(closing and reopening months), ``closing`` (year-end closing entries). Posting itself is
``ledger.posting``'s one engine.
"""

from __future__ import annotations

from core.errors import InvalidInput

from .. import policy
from ..models import VoucherKind
from ..posting import VOUCHER_PREFIX, LineInput, Problems, VoucherInput, status_label
from .books import (
    account_by_code,
    account_has_postings,
    add_sub_account,
    book_for,
    create_book,
    create_fund,
    declare_unit,
    get_book,
    parent_org,
    set_account_active,
    set_single_person_mode,
    unit_exponent,
)
from .closing import _needs_year_end_closing, generate_year_end_closing, needs_year_end_closing
from .periods import UNPOSTED, close_period, period_key, reopen_period
from .vouchers import (
    _validate,
    approve_voucher,
    check_vouchers,
    create_voucher,
    discard_voucher,
    get_voucher,
    post_imported_vouchers,
    post_system_voucher,
    post_voucher,
    post_vouchers,
    reject_voucher,
    reverse_voucher,
    shaped_by,
    submit_voucher,
    update_voucher,
    voucher_editors,
    voucher_in_organisation,
)

# Role sets by step (views and the API import these names; ledger.policy is their home).
PREPARE_ROLES = policy.PREPARE
REVIEW_ROLES = policy.REVIEW
POST_ROLES = policy.POST
CLOSE_ROLES = policy.CLOSE

__all__ = [
    "CLOSE_ROLES",
    "POST_ROLES",
    "PREPARE_ROLES",
    "REVIEW_ROLES",
    "UNPOSTED",
    "VOUCHER_PREFIX",
    "InvalidInput",
    "LineInput",
    "Problems",
    "VoucherInput",
    "VoucherKind",
    "_needs_year_end_closing",
    "_validate",
    "account_by_code",
    "account_has_postings",
    "add_sub_account",
    "approve_voucher",
    "book_for",
    "close_period",
    "create_book",
    "create_fund",
    "create_voucher",
    "declare_unit",
    "discard_voucher",
    "generate_year_end_closing",
    "get_book",
    "get_voucher",
    "needs_year_end_closing",
    "parent_org",
    "period_key",
    "check_vouchers",
    "post_imported_vouchers",
    "post_system_voucher",
    "post_voucher",
    "post_vouchers",
    "reject_voucher",
    "reopen_period",
    "reverse_voucher",
    "set_account_active",
    "set_single_person_mode",
    "shaped_by",
    "status_label",
    "submit_voucher",
    "unit_exponent",
    "update_voucher",
    "voucher_editors",
    "voucher_in_organisation",
]
