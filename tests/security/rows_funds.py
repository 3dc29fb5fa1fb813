"""Authorization-matrix rows of the funds domain (see tests/security/authz_matrix.py).

The funds pages and API are addressed through each side's foundation (``{funds_org_id}``, built
by the funds block at the end of tests/security/world.py), where community A's roles are held
too: readers see (O), writers write (O with a valid body), the other roles are refused (F), a
resident without a role is refused (F), and another community's foundation refuses everyone but
the platform admin. Writes are sent with valid bodies, so O means the write went through (each
request is rolled back)."""

from __future__ import annotations

from tests.security.rows import Row

ORG = {"org_id": "{funds_org_id}"}
PF = {**ORG, "cf_id": "{cf_id}"}
MICRO = {**ORG, "cf_id": "{micro_id}"}
PROJECT = {**ORG, "project_id": "{project_id}"}
READ = ("L O O O O O O O F", "L O F F F F F F F")
WRITE = ("L O O O F F F F F", "L O F F F F F F F")
MINUTE = ("L O O O F F F O F", "L O F F F F F F F")  # the council secretary minutes meetings
# The matrix fills ids into a body as text; the API takes ids as JSON integers only, so these
# bodies are refused by the schema (422) before any login or role check, for everyone.
PARSED = ("V V V V V V V V V", "V V V V V V V V V")
IDS_AS_TEXT = (
    "ids in the body arrive as text and the API takes JSON integers: refused while parsing"
)
PUBLIC = ("O O O O O O O O O", "O O O O O O O O O")
API = "/api/v1/organisations/<id:org_id>"
SPEND = {
    "amount": "1.00",
    "date": "2025-04-02",
    "category": "environment",
    "purpose": "public_services",
    "payee": "某保洁公司",
    "project_id": "{project_id}",
    "resolution_id": "{resolution_id}",
}

# fmt: off
ROWS: list[Row] = [
    # --- staff pages ---------------------------------------------------------------------------
    Row(*READ,   "GET",  "/funds/<id:org_id>/", args=ORG),
    Row(*READ,   "GET",  "/funds/<id:org_id>/allocation", args=ORG, query={"kind": "urban", "population": "8050"}),
    Row(*READ,   "GET",  "/funds/<id:org_id>/budgets", args=ORG),
    Row(*READ,   "GET",  "/funds/<id:org_id>/commitments", args=ORG),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/disclosures", args=ORG, body={"through": "2025-12-31", "note": "2025 年报"}),
    Row(*READ,   "GET",  "/funds/<id:org_id>/f/<id:cf_id>", args=PF),
    Row(*READ,   "GET",  "/funds/<id:org_id>/f/<id:cf_id>/statement.csv", args=PF),
    Row(*READ,   "GET",  "/funds/<id:org_id>/f/<id:cf_id>/statement.pdf", args=PF),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/f/<id:cf_id>/disbursements", args=PF, body=SPEND),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/f/<id:cf_id>/releases", args=MICRO,
        body={"amount": "1.00", "date": "2025-04-02", "resolution_id": "{micro_resolution_id}", "reason": "用途达成"}),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/inflows", args=ORG,
        body={"cf_id": "{micro_id}", "kind": "donation", "amount": "5.00", "date": "2025-04-02", "source_name": "某公司"}),
    Row(*READ,   "GET",  "/funds/<id:org_id>/inflows/<id:inflow_id>/acknowledgement.pdf", args=ORG),
    Row(*READ,   "GET",  "/funds/<id:org_id>/projects/<id:project_id>", args=PROJECT),
    Row(*MINUTE, "POST", "/funds/<id:org_id>/projects/<id:project_id>/resolutions", args=PROJECT,
        body={"council_id": "{council_id}", "meeting_date": "2025-04-02", "present": "4", "votes_for": "4",
              "votes_against": "0", "votes_abstain": "0", "text": "同意追加"}),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/projects/<id:project_id>/steps", args=PROJECT,
        body={"to": "acceptance", "who": "社区党委", "on": "2025-04-02"}),
    Row(*READ,   "GET",  "/funds/<id:org_id>/resolutions/<id:resolution_id>/minutes", args=ORG),
    # forms that set things up (issue 12 review: funds, councils, committees, budgets, projects,
    # commitments), the allocation that posts and the two-book transfer
    Row(*READ,   "GET",  "/funds/<id:org_id>/councils", args=ORG),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/councils", args=ORG,
        body={"name": "第三议事会", "quorum_num": "2", "quorum_den": "3", "members": "甲\n乙\n丙", "seated_from": "2025-01-01"}),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/councils/<id:council_id>/members", args=ORG,
        body={"name": "丁", "seated_from": "2025-02-01"}),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/funds", args=ORG,
        body={"code": "MF-8", "name": "表单微基金", "founder_type": "COMPANY", "purpose_tags": "elderly", "restricted": "1"}),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/f/<id:cf_id>/committee", args=MICRO,
        body={"name": "委员", "role": "委员", "term_start": "2025-01-01"}),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/budgets", args=ORG,
        body={"cf_id": "{micro_id}", "year": "2025", "label": "重阳节", "amount": "100.00"}),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/projects", args=ORG,
        body={"cf_id": "{cf_id}", "title": "新项目", "start": "2025-04-01", "end": "2025-05-01",
              "proposed_by": "社区党委", "proposed_on": "2025-04-01", "budget": "100.00"}),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/allocation", args=ORG,
        body={"cf_id": "{cf_id}", "year": "2031", "date": "2025-04-02", "kind": "urban", "population": "8000",
              "population_basis": "resident", "part_hundreds": "floor"}),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/transfers", args=ORG,
        body={"cf_id": "{micro_id}", "enterprise_id": "{org_id}", "amount": "1.00", "date": "2025-04-02"}),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/commitments", args=ORG,
        body={"tenant": "社会组织", "premises": "活动室", "year": "2025", "date": "2025-04-02", "rent": "1.00",
              "sessions_promised": "20", "value_claimed": "300.00"}),
    Row(*MINUTE, "POST", "/funds/<id:org_id>/f/<id:cf_id>/resolutions", args=MICRO,
        body={"body": "council", "council_id": "{council_id}", "meeting_date": "2025-04-02", "present": "4",
              "votes_for": "4", "votes_against": "0", "votes_abstain": "0", "text": "同意"}),
    Row(*READ,   "GET",  "/funds/<id:org_id>/projects.<any(csv,pdf):fmt>", args={**ORG, "fmt": "csv"}),
    Row(*WRITE,  "POST", "/funds/<id:org_id>/commitments/<id:commitment_id>/deliveries", args=ORG,
        body={"date": "2025-04-02", "sessions": "2", "description": "篮球课", "verified_by": "监委会"}),
    # --- public pages --------------------------------------------------------------------------
    Row(*PUBLIC, "GET", "/public/funds/f/<id:cf_id>"),
    Row(*PUBLIC, "GET", "/public/funds/p/<id:project_id>"),
    # --- API -----------------------------------------------------------------------------------
    Row(*READ,   "GET",  API + "/community-funds", args=ORG),
    Row(*READ,   "GET",  API + "/community-funds/check", args=ORG),
    Row(*READ,   "GET",  API + "/community-funds/<id:cf_id>/statement", args=PF),
    Row(*READ,   "GET",  API + "/disclosure-calendar", args=ORG),
    Row(*READ,   "GET",  API + "/fund-projects", args=ORG),
    Row(*WRITE,  "POST", API + "/community-funds", args=ORG,
        body={"code": "MF-9", "name": "测试微基金", "founder_type": "COMPANY", "purpose_tags": ["elderly"]}),
    Row(*WRITE,  "POST", API + "/community-funds/<id:cf_id>/inflows", args=MICRO,
        body={"kind": "donation", "amount": "1.00", "date": "2025-04-02", "source_name": "某公司"}),
    Row(*WRITE,  "POST", API + "/community-funds/<id:cf_id>/disbursements", args=MICRO,
        body={"amount": "1.00", "date": "2025-04-02", "category": "activities", "purpose": "elderly", "payee": "老年协会"}),
    Row(*PARSED, "POST", API + "/community-funds/<id:cf_id>/releases", args=MICRO,
        body={"amount": "1.00", "date": "2025-04-02", "resolution_id": "{micro_resolution_id}", "reason": "达成"}, why=IDS_AS_TEXT),
    Row(*WRITE,  "POST", API + "/community-funds/<id:cf_id>/allocations", args=PF,
        body={"year": 2030, "date": "2025-04-02", "kind": "urban", "population": 8000, "population_basis": "resident"}),
    Row(*PARSED, "POST", API + "/fund-projects", args=ORG, why=IDS_AS_TEXT,
        body={"cf_id": "{cf_id}", "title": "项目", "start": "2025-04-01", "end": "2025-05-01", "proposed_by": "社区党委", "proposed_on": "2025-04-01"}),
    Row(*WRITE,  "POST", API + "/fund-projects/<id:project_id>/steps", args=PROJECT,
        body={"to": "acceptance", "who": "社区党委", "on": "2025-04-02"}),
    Row(*READ,   "GET",  API + "/budgets", args=ORG),
    Row(*WRITE,  "POST", API + "/community-funds/<id:cf_id>/budgets", args=MICRO,
        body={"year": 2025, "label": "重阳节活动", "amount": "500.00"}),
    Row(*WRITE,  "POST", API + "/community-funds/<id:cf_id>/committee", args=MICRO,
        body={"name": "管委会委员", "role": "委员", "term_start": "2025-01-01"}),
    Row(*WRITE,  "POST", API + "/councils", args=ORG,
        body={"name": "第二议事会", "members": ["甲", "乙", "丙"], "seated_from": "2025-01-01"}),
    Row(*READ,   "GET",  API + "/service-commitments", args=ORG),
    Row(*WRITE,  "POST", API + "/service-commitments", args=ORG,
        body={"tenant": "社会组织", "premises": "活动室", "year": 2025, "date": "2025-04-02",
              "sessions_promised": 20, "value_claimed": "30000.00"}),
    Row(*WRITE,  "POST", API + "/service-commitments/<id:commitment_id>/deliveries", args=ORG,
        body={"date": "2025-04-02", "sessions": 2, "description": "篮球课", "verified_by": "监委会"}),
    Row(*PARSED, "POST", API + "/resolutions", args=ORG, why=IDS_AS_TEXT,
        body={"body": "council", "council_id": "{council_id}", "meeting_date": "2025-04-02", "present": 4, "votes_for": 4,
              "votes_against": 0, "votes_abstain": 0, "text": "同意"}),
]
# fmt: on
