"""Authorization-matrix rows of the funds domain (see tests/security/authz_matrix.py).

The roles are held in an enterprise (an SME book): a funds page or API call there passes the
read and role checks and then finds no NPO book hosting community funds (N); a resident
without a role is refused (F); another organisation refuses everyone but the platform admin,
who finds no community funds either (N). Writes: the API parses the body first, then checks
the role (auditors, supervisors … F), then the book (N)."""

from __future__ import annotations

from tests.security.rows import Row

X = "999999999"  # a record id that exists nowhere
IDS = {"cf_id": X, "project_id": X, "inflow_id": X, "resolution_id": X}
READ = ("L N N N N N N N F", "L N F F F F F F F")
NPO_ONLY = "no NPO book hosts community funds in the enterprise: 404 after the read check"
API = "/api/v1/organisations/<id:org_id>"

# fmt: off
ROWS: list[Row] = [
    # --- staff pages ---------------------------------------------------------------------------
    Row(*READ, "GET",  "/funds/<id:org_id>/", why=NPO_ONLY),
    Row(*READ, "GET",  "/funds/<id:org_id>/allocation", why=NPO_ONLY),
    Row(*READ, "GET",  "/funds/<id:org_id>/budgets", why=NPO_ONLY),
    Row(*READ, "GET",  "/funds/<id:org_id>/commitments", why=NPO_ONLY),
    Row(*READ, "GET",  "/funds/<id:org_id>/f/<id:cf_id>", args=IDS, why=NPO_ONLY),
    Row(*READ, "GET",  "/funds/<id:org_id>/f/<id:cf_id>/statement.csv", args=IDS, why=NPO_ONLY),
    Row(*READ, "GET",  "/funds/<id:org_id>/f/<id:cf_id>/statement.pdf", args=IDS, why=NPO_ONLY),
    Row(*READ, "POST", "/funds/<id:org_id>/f/<id:cf_id>/disbursements", args=IDS, why=NPO_ONLY),
    Row(*READ, "POST", "/funds/<id:org_id>/f/<id:cf_id>/releases", args=IDS, why=NPO_ONLY),
    Row(*READ, "POST", "/funds/<id:org_id>/inflows", why=NPO_ONLY),
    Row(*READ, "GET",  "/funds/<id:org_id>/inflows/<id:inflow_id>/acknowledgement.pdf", args=IDS, why=NPO_ONLY),
    Row(*READ, "GET",  "/funds/<id:org_id>/projects/<id:project_id>", args=IDS, why=NPO_ONLY),
    Row(*READ, "POST", "/funds/<id:org_id>/projects/<id:project_id>/resolutions", args=IDS, why=NPO_ONLY),
    Row(*READ, "POST", "/funds/<id:org_id>/projects/<id:project_id>/steps", args=IDS, why=NPO_ONLY),
    Row(*READ, "GET",  "/funds/<id:org_id>/resolutions/<id:resolution_id>/minutes", args=IDS, why=NPO_ONLY),
    # --- public pages --------------------------------------------------------------------------
    Row("N N N N N N N N N", "N N N N N N N N N", "GET", "/public/funds/f/<id:cf_id>", args=IDS, why="no such fund"),
    Row("N N N N N N N N N", "N N N N N N N N N", "GET", "/public/funds/p/<id:project_id>", args=IDS, why="no such project"),
    # --- API -----------------------------------------------------------------------------------
    Row(*READ, "GET",  API + "/community-funds", why=NPO_ONLY),
    Row(*READ, "GET",  API + "/community-funds/check", why=NPO_ONLY),
    Row(*READ, "GET",  API + "/community-funds/<id:cf_id>/statement", args=IDS, why=NPO_ONLY),
    Row(*READ, "GET",  API + "/disclosure-calendar", why=NPO_ONLY),
    Row(*READ, "GET",  API + "/fund-projects", why=NPO_ONLY),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST", API + "/community-funds",
        body={"code": "MF-9", "name": "测试微基金", "founder_type": "COMPANY", "purpose_tags": ["elderly"]}, why=NPO_ONLY),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST", API + "/community-funds/<id:cf_id>/inflows", args=IDS,
        body={"kind": "donation", "amount": "1.00", "date": "2025-04-01", "source_name": "某公司"}, why=NPO_ONLY),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST", API + "/community-funds/<id:cf_id>/disbursements", args=IDS,
        body={"amount": "1.00", "date": "2025-04-01", "category": "activities", "payee": "某协会"}, why=NPO_ONLY),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST", API + "/community-funds/<id:cf_id>/releases", args=IDS,
        body={"amount": "1.00", "date": "2025-04-01", "resolution_id": 1, "reason": "达成"}, why=NPO_ONLY),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST", API + "/community-funds/<id:cf_id>/allocations", args=IDS,
        body={"year": 2025, "date": "2025-04-01", "kind": "urban", "population": 8000, "population_basis": "resident"}, why=NPO_ONLY),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST", API + "/fund-projects",
        body={"cf_id": 1, "title": "项目", "start": "2025-04-01", "end": "2025-05-01", "proposed_by": "社区党委", "proposed_on": "2025-04-01"}, why=NPO_ONLY),
    Row("L N N N F F F F F", "L N F F F F F F F", "POST", API + "/fund-projects/<id:project_id>/steps", args=IDS,
        body={"to": "voted", "who": "议事会", "on": "2025-04-01"}, why=NPO_ONLY),
    Row("L N N N F F F N F", "L N F F F F F F F", "POST", API + "/resolutions",
        body={"body": "council", "meeting_date": "2025-04-01", "present": 5, "votes_for": 5, "votes_against": 0, "votes_abstain": 0, "text": "同意"}, why=NPO_ONLY),
]
# fmt: on
