"""JSON API for the ledger under /api/v1."""

from flask_smorest import Blueprint

blp = Blueprint("ledger_api", __name__, url_prefix="/api/v1", description="Books, accounts, vouchers, reports")
