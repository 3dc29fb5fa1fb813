"""Authorization-matrix rows of background jobs and auditor grants (issue 16 items 5 and 7; see
tests/security/authz_matrix.py).

A job is seen only by the user who queued it (each side's job was queued by that side's admin)
and platform admins: anyone else gets 404, as for a job that does not exist. The auditor-grant
page and form are for the organisation's admin. The date-range rule (an auditor outside their
grant gets 403 on every report, voucher, export and download) is checked route by route in
tests/security/test_auditor_range.py: one row per route here cannot carry two date ranges."""

from __future__ import annotations

from tests.security.rows import Row

JOB = {"job_id": "{job_id}"}
CREATOR = ("L O O N N N N N N", "L O N N N N N N N")
ADMIN = ("L O O F F F F F F", "L O F F F F F F F")
GRANT = {"user": "{auditor_user_id}", "start": "2025-01-01", "end": "2025-12-31", "note": "年审"}

# fmt: off
ROWS: list[Row] = [
    Row(*CREATOR, "GET",  "/jobs/<id:job_id>", args=JOB),
    Row(*CREATOR, "GET",  "/jobs/<id:job_id>.json", args=JOB),
    Row(*CREATOR, "GET",  "/jobs/<id:job_id>/download", args=JOB),
    Row(*ADMIN,   "GET",  "/orgs/<id:org_id>/auditors"),
    Row(*ADMIN,   "POST", "/orgs/<id:org_id>/auditors/<any(grant,revoke):action>", args={"action": "grant"}, body=GRANT),
]
# fmt: on
