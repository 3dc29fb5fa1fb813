"""Authorization-matrix rows of the property_trust domain (see tests/security/authz_matrix.py).

The world's organisations are enterprises, which keep no property trust: whoever passes the
role check gets 404 (no compound), so N marks "allowed", F "refused". Owners (residents with a
unit in the compound) are covered by tests/property_trust/test_web.py."""

from __future__ import annotations

from tests.security.rows import Row

# fmt: off
ROWS: list[Row] = [
    #    own                  other                (columns: anon padm admin prep rev aud sup sec res)
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/"),
    Row("L N N N F F F F F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/arrears"),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/bill", body={'month': '2026-01'}),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/payments", body={'unit_id': '1', 'amount': '1', 'date': '2026-01-05'}),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/mine"),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/statement/<int(max=9999):year>/<int(max=99):month>"),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/statement/<int(max=9999):year>/<int(max=99):month>.pdf"),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/vouchers/<id:voucher_id>"),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/vouchers/<id:voucher_id>/attachments/<id:attachment_id>"),
    Row("L N F F F F N F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/vouchers/<id:voucher_id>/supervise", body={'action': 'comment', 'text': 'x'}),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/property"),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/property/arrears"),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/bills", body={'month': '2026-01'}),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/property/check"),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/payments", body={'unit_id': 1, 'amount': '1', 'date': '2026-01-05'}),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/remuneration", body={'month': '2026-01'}),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/property/statements/<int(max=9999):year>/<int(max=99):month>"),
    Row("L N F F F F N F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/vouchers/<id:voucher_id>/supervision", body={'action': 'comment', 'text': 'x'}),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/votes", body={'subject': 's', 'kind': 'ordinary', 'held_on': '2026-01-05', 'voted_area': '1', 'voted_owners': 1, 'yes_area': '1', 'yes_owners': 1}),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/revenue", body={'kind': 'parking', 'date': '2026-01-05', 'gross': '100'}),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/expenses", body={'account_code': '5103', 'amount': '1', 'date': '2026-01-05', 'summary': 's'}),
    Row("L N N F N F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/expenses/<id:expense_id>/signatures", args={'expense_id': '1'}),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/budgets", body={'year': 2026, 'vote_id': 1, 'lines': [{'account_code': '5103', 'name': 'n', 'amount': '1'}]}),
    Row("L N N F N F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/budgets/adjustments", body={'line_id': 1, 'delta': '1', 'reason': 'r'}),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/property/budgets/<int(max=9999):year>"),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/reminders", body={'unit_id': 1, 'sent_on': '2026-01-05', 'deadline': '2026-02-05'}),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/escalations", body={'unit_id': 1, 'status': 'litigation', 'date': '2026-01-05'}),
    # --- governance pages (property_trust/pages.py) and the published statement ---
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/votes"),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/votes", body={'subject': 's', 'kind': 'ordinary', 'held_on': '2026-01-05', 'voted_area': '1', 'voted_owners': '1', 'yes_area': '1', 'yes_owners': '1'}),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/budgets"),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/budgets", body={'year': '2026', 'vote_id': '1', 'lines': '5103 清洁 1.00'}),
    Row("L N N F N F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/budgets/adjustments", body={'line_id': '1', 'delta': '1', 'reason': 'r'}),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/revenue"),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/revenue", body={'kind': 'parking', 'date': '2026-01-05', 'gross': '100'}),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/expenses"),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/expenses", body={'account_code': '5103', 'amount': '1', 'date': '2026-01-05', 'summary': 's'}),
    Row("L N N F N F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/expenses/<id:expense_id>/sign", args={'expense_id': '1'}),
    Row("L N N N F F F F F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/reminders"),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/reminders", body={'unit_id': '1', 'sent_on': '2026-01-05', 'deadline': '2026-02-05'}),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/escalations", body={'unit_id': '1', 'status': 'litigation', 'date': '2026-01-05'}),
    Row("L N F F F F N F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/findings", body={'month': '2026-01', 'text': 'x'}),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/remuneration", body={'month': '2026-01'}),
    Row("N N N N N N N N N", "N N N N N N N N N", "GET",   "/property/<id:org_id>/published/<int(max=9999):year>/<int(max=99):month>", why='public (no login); the world\'s organisations keep no property trust'),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/property/<id:org_id>/settings"),
    Row("L N N F F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/settings/fees", body={'unit_type': 'residential', 'rate': '2.5', 'effective_from': '2026-01-01'}),
    Row("L N N F F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/settings/remuneration", body={'mode': 'FIXED', 'fixed': '100'}),
    Row("L N N F F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/settings/approvals", body={'committee_threshold': '0', 'signatories_required': '1', 'signatories_total': '1', 'supervisor_review': 'after', 'budget_vote_kind': 'ordinary'}),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/property/<id:org_id>/units", body={'building': '1', 'number': '101', 'area': '80', 'owner_ids': '1'}),
    Row("L N F F F F N F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/findings", body={'month': '2026-01', 'text': 'x'}),
    Row("L N N F F F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/fee-rates", body={'rate': '2.5', 'effective_from': '2026-01-01'}),
    Row("L N N F F F F F F", "L N F F F F F F F", "PUT",   "/api/v1/organisations/<id:org_id>/property/remuneration-terms", body={'mode': 'FIXED', 'fixed': '100'}),
    Row("L N N F F F F F F", "L N F F F F F F F", "PUT",   "/api/v1/organisations/<id:org_id>/property/approval-chain", body={'committee_threshold': '0', 'signatories_required': 1, 'signatories_total': 1, 'supervisor_review': 'after', 'budget_vote_kind': 'ordinary'}),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/property/units", body={'building': '1', 'number': '101', 'area': '80', 'owner_ids': [1]}),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/property/votes"),
    Row("L N N N N N N N F", "L N F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/property/published-statements"),
]
# fmt: on
