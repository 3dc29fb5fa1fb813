"""Treasurer pages for the ledger: book home, voucher entry (记账凭证录入), voucher list,
the reviewer's approval queue (审核), period close (结账), the chart of accounts and reports.

Views are thin (DESIGN.md §1): they turn form text into ``ledger.services`` inputs, call the
service, and render. Every write goes through a service, which checks the user's role.
A refused action never commits: the request's after-hook rolls back any answer ≥ 400, and
the views below roll back explicitly before re-rendering a page with the error.
"""

from __future__ import annotations

from core.downloads import csv_response

from . import chart, home, periods, reports, review, vouchers
from .common import bp, rmb_words

__all__ = [
    "bp",
    "chart",
    "csv_response",
    "home",
    "periods",
    "reports",
    "review",
    "rmb_words",
    "vouchers",
]
