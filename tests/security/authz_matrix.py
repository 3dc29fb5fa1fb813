"""The authorization matrix: every route rule (``app.url_map`` rule × method) and what each
role gets, for its own organisation and for another one (in another community).

Columns of ``own`` / ``other``, in this order (tests/security/world.py builds them):
    anon   no login
    padm   platform admin
    admin  preparer  reviewer  auditor  supervisor  council_secretary: roles held in the
           enterprise of community A ("own" is that organisation; "other" is community B's)
    res    a resident of community A with a login (no organisation role); "own" fills a
           resident id with their own resident, "other" with community B's.
Outcomes (rows.OUTCOMES): O ok (2xx/3xx) · L login (401 / redirect to login) · F forbidden (403)
· N not found (404) · V past authorization, refused as bad input or state (400/409/422 …).
Write rows send a body that passes validation where the endpoint parses before it checks the
role (``body``), so that F and V tell apart "refused" from "allowed but invalid".

A new route fails tests/security/test_authz_matrix.py until it has a row here.
"""

from __future__ import annotations

from tests.security import (
    rows_auditors,
    rows_funds,
    rows_points,
    rows_property_trust,
    rows_shareholders,
)
from tests.security.rows import Row

# fmt: off
ROWS = [
    #    own                  other                (columns: anon padm admin prep rev aud sup sec res)
    #    a p a p r a s s r    a p a p r a s s r
    #    n a d r e u u e e    n a d r e u u e e
    #    o d m e v d p c s    o d m e v d p c s
    # --- Account, login, language, receipts --------------------------------------------------------
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/"),
    Row("L O O O O O O O O", "L O O O O O O O O", "GET",   "/account"),
    Row("L V V V V V V V V", "L V V V V V V V V", "POST",  "/account/password"),
    Row("L L L L L L L L L", "L L L L L L L L L", "POST",  "/account/sign-out-everywhere", why='it signs the caller out: the answer is the login page'),
    Row("L O O O O O O O O", "L O O O O O O O O", "POST",  "/account/tokens", body={'name': 'matrix'}),
    Row("N N N N N N N N N", "N N N N N N N N N", "GET",   "/invite/<token>", why='an unknown token'),
    Row("N N N N N N N N N", "N N N N N N N N N", "POST",  "/invite/<token>", why='an unknown token'),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/lang/<code>"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/login"),
    Row("L L L L L L L L L", "L L L L L L L L L", "POST",  "/login", why='an empty form is sent back to the login page'),
    Row("O O O O O O O O O", "O O O O O O O O O", "POST",  "/logout"),
    Row("L O O O O O O O O", "L O O O O O O O O", "GET",   "/me/records"),
    Row("L O O O O O O O O", "L O O O O O O O O", "GET",   "/receipts"),
    Row("N N N N N N N N N", "N N N N N N N N N", "GET",   "/reset/<token>", why='an unknown token'),
    Row("N N N N N N N N N", "N N N N N N N N N", "POST",  "/reset/<token>", why='an unknown token'),
    Row("N N N N N N N N N", "N N N N N N N N N", "GET",   "/setup", why='setup is over once a user exists'),
    Row("N N N N N N N N N", "N N N N N N N N N", "POST",  "/setup", why='setup is over once a user exists'),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/static/<path:filename>"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/verify"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/verify/commons_verify.py"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/verify/receipt"),
    # --- Public pages ------------------------------------------------------------------------------
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/public/"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/public/c/<string(maxlength=64):slug>"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/public/o/<id:org_id>"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/public/o/<id:org_id>/check"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/public/glossary"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/public/o/<id:org_id>/checkpoints/<int(min=0, max=9223372036854775807):size>.txt"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/public/r/<id:report_id>"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/public/r/<id:report_id>.pdf"),
    # --- Books (ledger pages) ----------------------------------------------------------------------
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/accounts"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  "/books/<id:org_id>/accounts", body={'parent_id': '{account_id}', 'code': '100299', 'name_zh': '测试银行'}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/accounts.json"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  "/books/<id:org_id>/accounts/<id:account_id>/active"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  "/books/<id:org_id>/funds"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/opening"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  "/books/<id:org_id>/opening"),
    Row("L N N N N N N N F", "L N F F F F F F F", "POST",  "/books/<id:org_id>/opening/<any(approve, post, reverse):action>", why='no opening draft to approve: 404 after the read check, before the role check; nothing changes'),
    Row("L V V F F F F F F", "L V F F F F F F F", "POST",  "/books/<id:org_id>/opening/state"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/periods"),
    Row("L V V F F F F F F", "L V F F F F F F F", "POST",  "/books/<id:org_id>/periods/<any(close,reopen,year_end):action>", args={'action': 'reopen'}, body={'period': '2025-03', 'reason': '更正'}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/reports"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/reports/<name>", args={'name': 'trial-balance'}),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/books/<id:org_id>/reports/cash-flow/classify", body={'line': 'x', 'key': 'capital_received'}, why='cash-flow (issue 16): those who post classify; a line id that is no number is refused'),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/voucher-printout", query={'month': '2025-03'}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/audit-package", query={'month': '2025-03'}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/review"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/single-person"),
    Row("L V V F F F F F F", "L V F F F F F F F", "POST",  "/books/<id:org_id>/single-person"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/vouchers"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/vouchers/<id:voucher_id>"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  "/books/<id:org_id>/vouchers/<id:voucher_id>/<any(submit,approve,reject,post,discard,reverse):action>"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  "/books/<id:org_id>/vouchers/<id:voucher_id>/attachments", args={'voucher_id': '{draft_id}'}, body={'files': '@png'}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/vouchers/<id:voucher_id>/attachments/<id:attachment_id>"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  "/books/<id:org_id>/vouchers/<id:voucher_id>/attachments/<id:attachment_id>/delete"),
    Row("L O O O F F F F F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/vouchers/<id:voucher_id>/edit"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  "/books/<id:org_id>/vouchers/<id:voucher_id>/edit"),
    Row("L O O O O O F F O", "L O F F F F F F F", "GET",   "/books/<id:org_id>/vouchers/<id:voucher_id>/receipt/<id:resident_id>"),
    Row("L O O O O O F F O", "L O F F F F F F F", "GET",   "/books/<id:org_id>/vouchers/<id:voucher_id>/receipt/<id:resident_id>.json"),
    Row("L O O O O O F F O", "L O F F F F F F F", "GET",   "/books/<id:org_id>/vouchers/<id:voucher_id>/receipt/<id:resident_id>.pdf"),
    Row("L O O O O O F F O", "L O F F F F F F F", "GET",   "/books/<id:org_id>/vouchers/<id:voucher_id>/receipt/<id:resident_id>.svg"),
    Row("L O O O O O F F O", "L O F F F F F F F", "POST",  "/books/<id:org_id>/vouchers/<id:voucher_id>/receipt/<id:resident_id>/checkpoint"),
    Row("L O O O F F F F F", "L O F F F F F F F", "GET",   "/books/<id:org_id>/vouchers/new"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  "/books/<id:org_id>/vouchers/new"),
    # --- Residents ---------------------------------------------------------------------------------
    Row("L O O O O F F F F", "L O F F F F F F F", "GET",   "/communities/<id:community_id>/residents"),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/communities/<id:community_id>/residents"),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/communities/<id:community_id>/residents/<id:resident_id>/consent"),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/communities/<id:community_id>/residents/<id:resident_id>/login"),
    # personal data (PIPL, core/personal_data_views.py): staff of the community read, export and
    # request an erasure; confirming needs an admin other than the requester (404: none waiting)
    Row("L O O O O F F F F", "L O F F F F F F F", "GET",   "/communities/<id:community_id>/residents/<id:resident_id>/personal-data"),
    Row("L O O O O F F F F", "L O F F F F F F F", "GET",   "/communities/<id:community_id>/residents/<id:resident_id>/personal-data.json"),
    Row("L O O O O F F F F", "L O F F F F F F F", "POST",  "/communities/<id:community_id>/residents/<id:resident_id>/erasure", body={'reason': '本人申请'}),
    Row("L N N N N F F F F", "L N F F F F F F F", "POST",  "/communities/<id:community_id>/residents/<id:resident_id>/erasure/confirm", why='no erasure request is waiting: 404 after the staff check'),
    Row("L O O O O O O O O", "L O O O O O O O O", "GET",   "/me/personal-data.json"),
    # --- Organisation people and settings ----------------------------------------------------------
    Row("L O O F F F F F F", "L O F F F F F F F", "POST",  "/orgs/<id:org_id>/invitations/<id:invitation_id>/cancel"),
    Row("L O O F F F F F F", "L O F F F F F F F", "GET",   "/orgs/<id:org_id>/people"),
    Row("L V V F F F F F F", "L V F F F F F F F", "POST",  "/orgs/<id:org_id>/people"),
    Row("L O O F F F F F F", "L O F F F F F F F", "GET",   "/orgs/<id:org_id>/people/<id:user_id>"),
    Row("L V V F F F F F F", "L V F F F F F F F", "POST",  "/orgs/<id:org_id>/people/<id:user_id>"),
    Row("L O O F F F F F F", "L O F F F F F F F", "GET",   "/orgs/<id:org_id>/settings"),
    Row("L O O F F F F F F", "L O F F F F F F F", "GET",   "/orgs/<id:org_id>/security"),
    Row("L O O F F F F F F", "L O O F F F F F F", "GET",   "/security", why="an organisation's admin is sent on to their own organisation's feed"),
    Row("L V V F F F F F F", "L V F F F F F F F", "POST",  "/orgs/<id:org_id>/settings"),
    # --- Platform administration -------------------------------------------------------------------
    Row("L O F F F F F F F", "L O F F F F F F F", "GET",   "/platform/communities"),
    Row("L V F F F F F F F", "L V F F F F F F F", "POST",  "/platform/communities"),
    Row("L O F F F F F F F", "L O F F F F F F F", "GET",   "/platform/communities/<id:community_id>"),
    Row("L V F F F F F F F", "L V F F F F F F F", "POST",  "/platform/communities/<id:community_id>"),
    Row("L V F F F F F F F", "L V F F F F F F F", "POST",  "/platform/organisations/<id:org_id>"),
    # --- API ---------------------------------------------------------------------------------------
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/api/v1/communities"),
    Row("L O F F F F F F F", "L O F F F F F F F", "POST",  "/api/v1/communities", body={'name': '新社区', 'slug': 'authz-new'}),
    Row("L O F F F F F F F", "L O F F F F F F F", "PATCH", "/api/v1/communities/<id:community_id>", body={'name': '改名社区'}),
    Row("L O F F F F F F F", "L O F F F F F F F", "POST",  "/api/v1/communities/<id:community_id>/organisations", body={'name': '新企业', 'slug': 'authz-new-org', 'kind': 'enterprise', 'first_month': '2025-01'}),
    Row("L O O O O O O O O", "L O O O O O O O O", "GET",   "/api/v1/me"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/api/v1/openapi.json"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/api/v1/organisations/<id:org_id>"),
    Row("L O F F F F F F F", "L O F F F F F F F", "PATCH", "/api/v1/organisations/<id:org_id>", body={'name': '改名企业'}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/accounts"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/accounts", body={'parent_code': '1002', 'code': '100299', 'name_zh': '测试银行'}),
    Row("L O O O F F F F F", "L O F F F F F F F", "PATCH", "/api/v1/organisations/<id:org_id>/accounts/<code>", body={'active': False}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/funds"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/funds", body={'code': 'F1', 'name': '测试基金', 'restricted': False}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/opening"),
    Row("L V V V F F F F F", "L V F F F F F F F", "PUT",   "/api/v1/organisations/<id:org_id>/opening", body={'rows': []}),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/opening/submit"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/periods"),
    Row("L V V F V F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/periods/<int(max=9999):year>/<int(max=99):month>/close"),
    Row("L V V F F F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/periods/<int(max=9999):year>/<int(max=99):month>/reopen"),
    Row("L V V F V F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/reports", body={'period': '2025-03'}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/reports/<name>"),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/pdf/<name>", args={'name': 'trial-balance'}, query={'period': '2025-03'}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/vouchers"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/vouchers", body={'date': '2025-04-05', 'summary': '测试', 'lines': [{'account': '1002', 'debit': '1.00'}, {'account': '5001', 'credit': '1.00'}]}),
    Row("L O O O O O O O F", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/vouchers/<id:voucher_id>"),
    Row("L O O O F F F F F", "L O F F F F F F F", "PUT",   "/api/v1/organisations/<id:org_id>/vouchers/<id:voucher_id>", args={'voucher_id': '{draft_id}'}, body={'date': '2025-04-05', 'summary': '测试', 'lines': [{'account': '1002', 'debit': '1.00'}, {'account': '5001', 'credit': '1.00'}]}),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/vouchers/<id:voucher_id>/approve"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/vouchers/<id:voucher_id>/discard"),
    Row("L V V V V F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/vouchers/<id:voucher_id>/post"),
    Row("L O O O O O F F O", "L O F F F F F F F", "GET",   "/api/v1/organisations/<id:org_id>/vouchers/<id:voucher_id>/receipt", query={'resident': '{payer_id}'}),
    Row("L O O O O O F F O", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/vouchers/<id:voucher_id>/receipt", query={'resident': '{payer_id}'}),
    Row("L V V F V F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/vouchers/<id:voucher_id>/reject"),
    Row("L O O O F F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/vouchers/<id:voucher_id>/reverse"),
    Row("L V V V F F F F F", "L V F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/vouchers/<id:voucher_id>/submit"),
    Row("L O O F O F F F F", "L O F F F F F F F", "POST",  "/api/v1/organisations/<id:org_id>/year-end/<int(min=1, max=9999):year>"),
    Row("L O O O O O O O O", "L O O O O O O O O", "POST",  "/api/v1/tokens", body={'name': 'matrix'}),
    Row("L O O O O F F F F", "L O F F F F F F F", "GET",   "/api/v1/communities/<id:community_id>/residents/<id:resident_id>/personal-data"),
    # --- API, public -------------------------------------------------------------------------------
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/api/v1/public/books/<id:book_id>/checkpoint"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/api/v1/public/books/<id:book_id>/checkpoints"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/api/v1/public/books/<id:book_id>/consistency", query={'old': '{size}'}),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/api/v1/public/books/<id:book_id>/proof", query={'index': 0}),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/api/v1/public/books/<id:book_id>/reports"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/api/v1/public/organisations/<id:org_id>/key"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/api/v1/public/reports/<id:report_id>.csv"),
    Row("O O O O O O O O O", "O O O O O O O O O", "GET",   "/api/v1/public/reports/<id:report_id>/bundle.json"),
]
# fmt: on

# Each domain keeps its rows in its own file (tests/security/rows_<domain>.py).
for _domain in (rows_shareholders, rows_points, rows_funds, rows_property_trust, rows_auditors):
    ROWS += _domain.ROWS
