"""Auditor grants (core.auditor_access, issue 16 item 7): only an organisation's admin grants
or revokes, only to someone holding the auditor role there, with a sane range; the history is
append-only (the database refuses UPDATE and DELETE); the latest row holds; the admin page
grants and revokes; a background job's download is refused once the grant no longer covers
its dates."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from core import auditor_access, jobs
from core.auth import grant_role
from core.db import db
from core.errors import InvalidInput, NotPermitted
from core.models import AuditorGrant
from tests.conftest import login

D = dt.date


@pytest.fixture
def staff(organisation, user_factory):
    out = {}
    for role in ("admin", "auditor", "reviewer"):
        u = user_factory(username=f"ga_{role}")
        grant_role(u, organisation, role)
        out[role] = u
    db.session.flush()
    return out


def test_only_an_admin_grants_and_only_to_an_auditor(app, organisation, staff):
    with app.test_request_context():
        with pytest.raises(NotPermitted):
            auditor_access.grant(
                staff["auditor"],
                organisation,
                D(2025, 1, 1),
                D(2025, 12, 31),
                actor=staff["reviewer"],
            )
        with pytest.raises(InvalidInput):
            auditor_access.grant(
                staff["reviewer"],
                organisation,
                D(2025, 1, 1),
                D(2025, 12, 31),
                actor=staff["admin"],
            )
        with pytest.raises(InvalidInput):
            auditor_access.grant(
                staff["auditor"], organisation, D(2025, 12, 31), D(2025, 1, 1), actor=staff["admin"]
            )
        row = auditor_access.grant(
            staff["auditor"], organisation, D(2025, 1, 1), D(2025, 12, 31), actor=staff["admin"]
        )
        assert auditor_access.current_grant(staff["auditor"].id, organisation.id) is row


def test_the_latest_row_holds_and_nothing_is_rewritten(app, organisation, staff):
    with app.test_request_context():
        a, admin = staff["auditor"], staff["admin"]
        first = auditor_access.grant(a, organisation, D(2025, 1, 1), D(2025, 6, 30), actor=admin)
        second = auditor_access.grant(a, organisation, D(2025, 1, 1), D(2025, 12, 31), actor=admin)
        assert auditor_access.current_grant(a.id, organisation.id) is second
        auditor_access.revoke(a, organisation, actor=admin, note_text="审计结束")
        assert auditor_access.current_grant(a.id, organisation.id) is None
        with pytest.raises(InvalidInput):
            auditor_access.revoke(a, organisation, actor=admin)  # nothing left to revoke
        history = auditor_access.history(organisation)
        assert [h.action for h in history] == ["revoke", "grant", "grant"]
        assert (first.start_date, first.end_date) == (D(2025, 1, 1), D(2025, 6, 30))
        db.session.flush()
        for stmt in (
            sa.update(AuditorGrant)
            .where(AuditorGrant.id == first.id)
            .values(end_date=D(2030, 1, 1)),
            sa.delete(AuditorGrant).where(AuditorGrant.id == first.id),
        ):
            with pytest.raises(DatabaseError), db.session.begin_nested():
                db.session.execute(stmt)


def test_the_check_names_the_range(app, organisation, staff):
    with app.test_request_context():
        a = staff["auditor"]
        auditor_access.check(a, organisation, [D(2031, 1, 1)])  # never granted: the role alone
        app.config["AUDITOR_GRANT_REQUIRED"] = True
        try:
            with pytest.raises(NotPermitted):
                auditor_access.check(a, organisation, [D(2025, 3, 1)])
        finally:
            app.config.pop("AUDITOR_GRANT_REQUIRED")
        auditor_access.grant(a, organisation, D(2025, 3, 1), D(2025, 3, 31), actor=staff["admin"])
        auditor_access.check(a, organisation, [D(2025, 3, 1), D(2025, 3, 31)])
        with pytest.raises(NotPermitted) as e:
            auditor_access.check(a, organisation, [D(2025, 4, 1)])
        assert "2025" in str(e.value.message)
        with pytest.raises(NotPermitted):
            auditor_access.check(a, organisation, None)
        # someone who is also staff there is not limited by grants
        grant_role(a, organisation, "reviewer")
        auditor_access.check(a, organisation, [D(2040, 1, 1)])


def test_admin_page_grants_and_revokes(app, organisation, staff):
    c = app.test_client()
    login(c, staff["admin"].username)
    from tests.conftest import csrf_token

    token = csrf_token(c)
    page = c.get(f"/orgs/{organisation.id}/auditors")
    assert page.status_code == 200 and "ga_auditor" in page.get_data(as_text=True)
    r = c.post(
        f"/orgs/{organisation.id}/auditors/grant",
        data={
            "csrf_token": token,
            "user": staff["auditor"].id,
            "start": "2025-01-01",
            "end": "2025-12-31",
        },
    )
    assert r.status_code == 303
    row = auditor_access.current_grant(staff["auditor"].id, organisation.id)
    assert row is not None and row.recorded_by_id == staff["admin"].id
    bad = c.post(
        f"/orgs/{organisation.id}/auditors/grant",
        data={
            "csrf_token": token,
            "user": staff["reviewer"].id,
            "start": "2025-01-01",
            "end": "2025-12-31",
        },
    )
    assert bad.status_code == 422
    bad = c.post(
        f"/orgs/{organisation.id}/auditors/grant",
        data={"csrf_token": token, "user": staff["auditor"].id, "start": "2025-13-01", "end": "x"},
    )
    assert bad.status_code == 422
    r = c.post(
        f"/orgs/{organisation.id}/auditors/revoke",
        data={"csrf_token": token, "user": staff["auditor"].id},
    )
    assert r.status_code == 303
    assert auditor_access.current_grant(staff["auditor"].id, organisation.id) is None
    text = c.get(f"/orgs/{organisation.id}/auditors").get_data(as_text=True)
    assert text.count("ga_admin") >= 2  # both rows of the history name who recorded them


def test_a_jobs_download_follows_the_grant(app, organisation, staff):
    from ledger import services as svc

    svc.create_book(organisation)
    with app.test_request_context():
        auditor_access.grant(
            staff["auditor"], organisation, D(2025, 1, 1), D(2025, 12, 31), actor=staff["admin"]
        )
    db.session.flush()
    app.config["EXPORT_INLINE_MAX_LINES"] = 0  # every export is a job
    try:
        c = app.test_client()
        login(c, staff["auditor"].username)
        r = c.get(
            f"/books/{organisation.id}/reports/trial-balance"
            "?start=2025-03-01&end=2025-03-31&format=xlsx"
        )
        assert r.status_code == 303
        job_url = r.headers["Location"]
        assert jobs.work(worker="t") == 1
        assert c.get(job_url + "/download").status_code == 200
        with app.test_request_context():
            auditor_access.grant(
                staff["auditor"], organisation, D(2026, 1, 1), D(2026, 12, 31), actor=staff["admin"]
            )
        db.session.flush()
        refused = c.get(job_url + "/download")
        assert refused.status_code == 403
    finally:
        app.config.pop("EXPORT_INLINE_MAX_LINES", None)
