"""Authorization-matrix rows of the shareholders domain (see tests/security/authz_matrix.py)."""

from __future__ import annotations

from tests.security.rows import Row

B = "/books/<id:org_id>/shareholders"
A = "/api/v1/organisations/<id:org_id>/shareholders"
DIV = {
    "resolution_date": "2026-02-01",
    "record_date": "2026-01-31",
    "profit_year": 2025,
    "amount": "10.00",
    "reserve": "0",
}

# fmt: off
ROWS: list[Row] = [
    #    own                  other                (columns: anon padm admin prep rev aud sup sec res)
    # --- pages ------------------------------------------------------------------------------------
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   B + "/"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  B + "/articles", body={'registered_capital': '1000000'}),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  B + "/subscribe", body={'resident_id': '{other_id}', 'amount': '100', 'date': '2025-05-01', 'due_date': '2025-06-01'}),
    Row("L O O O O O O O O", "L O F F F F F F F", "GET",   B + "/<id:sh_id>", why="the resident's own shareholding (own side); another community's shareholder (other)"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  B + "/<id:sh_id>/pay", body={'amount': '100', 'date': '2025-05-01'}, why='fully paid in: more than the unpaid subscription'),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  B + "/<id:sh_id>/certificate", body={'date': '2026-02-01'}),
    Row("L O O O O O O O O", "L O F F F F F F F", "GET",   B + "/<id:sh_id>/statement.pdf"),
    Row("L O O O O O O O O", "L O F F F F F F F", "GET",   B + "/<id:sh_id>/certificate.pdf"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   B + "/register.csv"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   B + "/register.pdf"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  B + "/transfers", body={'seller_id': '{payer_sh_id}', 'buyer_id': '{other_sh_id}', 'amount': '100', 'date': '2026-02-01'}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   B + "/transfers/<id:transfer_id>"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  B + "/transfers/<id:transfer_id>/<any(claim, complete, filing):action>", body={'shareholder_id': '{payer_sh_id}', 'date': '2025-04-10'}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   B + "/dividends"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  B + "/dividends", body=DIV, why='the profit year has no year-end closing in this world'),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   B + "/dividends/<id:dividend_id>"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  B + "/dividends/<id:dividend_id>/lines/<id:line_id>/pay", body={'date': '2026-02-01'}),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  B + "/dividends/<id:dividend_id>/pay-all", body={'date': '2026-02-01'}),
    Row("L O O O O O O O O", "L O O O O O O O O", "GET",   "/my/shares"),
    # --- API --------------------------------------------------------------------------------------
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   A),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  A, body={'resident_id': '{other_id}', 'amount': '100.00', 'date': '2025-05-01', 'due_date': '2025-06-01'}),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  A + "/articles", body={'registered_capital': '1000000.00', 'lockup_days': 30}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   A + "/check"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  A + "/<id:sh_id>/payments", body={'amount': '100.00', 'date': '2025-05-01'}, why='fully paid in: more than the unpaid subscription'),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   A + "/transfers"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  A + "/transfers", body={'seller_id': '{payer_sh_id}', 'buyer_id': '{other_sh_id}', 'amount': '100.00', 'date': '2026-02-01'}),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  A + "/transfers/<id:transfer_id>/claims", body={'shareholder_id': '{payer_sh_id}', 'date': '2025-04-10'}),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  A + "/transfers/<id:transfer_id>/complete", body={'date': '2025-04-10'}, why='inside the pre-emption window'),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  A + "/transfers/<id:transfer_id>/filing", body={'date': '2025-04-10'}, why='the transfer is not completed yet'),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   A + "/dividends"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  A + "/dividends", body=DIV, why='the profit year has no year-end closing in this world'),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  A + "/dividends/<id:dividend_id>/lines/<id:line_id>/payment", body={'date': '2026-02-01'}),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  A + "/dividends/<id:dividend_id>/pay-all", body={'date': '2026-02-01'}),
]
# fmt: on
