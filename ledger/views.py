"""Treasurer pages for the ledger (voucher entry, lists, approval queue, periods, reports)."""

from flask import Blueprint

bp = Blueprint("ledger", __name__, url_prefix="/books")
