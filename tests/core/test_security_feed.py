"""The security-event feed: each kind of event reaches the right organisation's admin and no
other, platform admins see everything, nobody else sees it, odd query strings are 4xx."""

import pytest

from core.auth import grant_role
from core.db import db
from core.models import AuditEvent
from tests.conftest import csrf_token


@pytest.fixture
def two_orgs(organisation, organisation_factory, user_factory):
    other = organisation_factory()
    member = user_factory(username="member_of_a")
    grant_role(member, organisation, "preparer")
    outsider = user_factory(username="member_of_b")
    grant_role(outsider, other, "preparer")
    db.session.flush()
    return organisation, other, member, outsider


def _events(app, two_orgs, client_as):
    """One event of each kind, against organisation A, made by real requests."""
    a, _b, member, _outsider = two_orgs
    anon = app.test_client()
    # a failed login under a member's username
    r = anon.post(
        "/login",
        data={"username": member.username, "password": "wrong", "csrf_token": csrf_token(anon)},
        headers={"User-Agent": "agent-of-failed-login"},
    )
    assert r.status_code == 401
    # a denied action: a preparer of A tries to invite someone
    prep = client_as("preparer", username="denied_preparer")
    r = prep.post(f"/orgs/{a.id}/people", data={"csrf_token": prep.csrf, "role": "reviewer"})
    assert r.status_code == 403
    # a refused security token (CSRF) on A's page, by a member of B
    csrf_user = client_as("preparer", org=two_orgs[1], username="csrf_sender")
    r = csrf_user.post(f"/orgs/{a.id}/people", data={"role": "reviewer"})
    assert r.status_code == 400
    # a bad API token on A's API
    r = anon.get(
        f"/api/v1/organisations/{a.id}/accounts", headers={"Authorization": "Bearer cl_nonsense"}
    )
    assert r.status_code == 401


def test_each_kind_reaches_the_right_admin_and_no_other(app, two_orgs, client_as):
    a, b, member, outsider = two_orgs
    _events(app, two_orgs, client_as)
    # a failed login of B's member, which A's admin must not see
    anon = app.test_client()
    anon.post(
        "/login",
        data={"username": outsider.username, "password": "x", "csrf_token": csrf_token(anon)},
    )

    admin_a = client_as("admin", username="admin_of_a")
    page = admin_a.get(f"/orgs/{a.id}/security").get_data(as_text=True)
    assert "安全事件" in page
    assert "member_of_a" in page and "agent-of-failed-login" in page  # failed login
    assert "denied_preparer" in page and "POST /orgs/&lt;id:org_id&gt;/people" in page  # denied
    assert "csrf_sender" in page and "csrf" in page  # CSRF
    assert "bad_token" in page  # a bad API token
    assert "member_of_b" not in page

    admin_b = client_as("admin", org=b, username="admin_of_b")
    page_b = admin_b.get(f"/orgs/{b.id}/security").get_data(as_text=True)
    assert "member_of_b" in page_b
    for name in ("member_of_a", "denied_preparer", "csrf_sender", "bad_token"):
        assert name not in page_b
    # B's admin cannot read A's feed
    assert admin_b.get(f"/orgs/{a.id}/security").status_code == 403

    platform = client_as("platform_admin", username="root_admin")
    everything = platform.get("/security").get_data(as_text=True)
    for name in ("member_of_a", "member_of_b", "denied_preparer", "csrf_sender", "bad_token"):
        assert name in everything


def test_filters_by_kind_and_day(app, two_orgs, client_as):
    _events(app, two_orgs, client_as)
    platform = client_as("platform_admin")
    logins = platform.get("/security?kind=login").get_data(as_text=True)
    assert "member_of_a" in logins and "denied_preparer" not in logins
    denied = platform.get("/security?kind=denied").get_data(as_text=True)
    assert "denied_preparer" in denied and "member_of_a" not in denied
    csrf = platform.get("/security?kind=csrf").get_data(as_text=True)
    assert "csrf_sender" in csrf and "denied_preparer" not in csrf
    past = platform.get("/security?since=2000-01-01&until=2000-01-02").get_data(as_text=True)
    assert "没有安全事件。" in past
    today = db.session.scalar(db.select(AuditEvent.occurred_at).order_by(AuditEvent.id.desc()))
    day = today.date().isoformat()
    assert "denied_preparer" in platform.get(f"/security?since={day}&until={day}").get_data(
        as_text=True
    )


def test_pages_of_fifty(app, client_as):
    from core.audit import record

    for i in range(55):
        record("login", "denied", username=f"guess{i:02d}", security=True, status_code=401)
    db.session.flush()
    platform = client_as("platform_admin")
    first = platform.get("/security?kind=login").get_data(as_text=True)
    assert "guess54" in first and "guess04" not in first and "第 1 页，共 2 页" in first
    second = platform.get("/security?kind=login&page=2").get_data(as_text=True)
    assert "guess04" in second and "guess54" not in second


def test_who_may_read_it(app, organisation, client_as):
    preparer = client_as("preparer")
    assert preparer.get(f"/orgs/{organisation.id}/security").status_code == 403
    assert preparer.get("/security").status_code == 403
    assert 'href="/security"' not in preparer.get("/").get_data(as_text=True)
    admin = client_as("admin")
    assert 'href="/security"' in admin.get("/").get_data(as_text=True)
    r = admin.get("/security")
    assert r.status_code == 302 and r.location.endswith(f"/orgs/{organisation.id}/security")
    assert app.test_client().get("/security").status_code == 302  # to the login page


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=abc",
        "page=" + "9" * 40,
        "page=%C2%B2",
        "kind=nonsense",
        "kind=%00",
        "since=2026-13-01",
        "since=yesterday",
        "until=99999-01-01",
        "since=2026-12-03&until=2026-12-01",
        "since=" + "1" * 5000,
    ],
)
def test_odd_query_strings_are_4xx(client_as, organisation, query):
    platform = client_as("platform_admin")
    for url in (f"/security?{query}", f"/orgs/{organisation.id}/security?{query}"):
        r = platform.get(url)
        assert 400 <= r.status_code < 500, (url, r.status_code)


def test_no_secret_reaches_the_feed(app, client_as):
    """An invitation link's token, in a refused request, is redacted before it is stored."""
    anon = app.test_client()
    secret = "s3cr3t-invitation-token-value"
    assert anon.post(f"/invite/{secret}", data={"password": "x"}).status_code == 400
    page = client_as("platform_admin").get("/security?kind=csrf").get_data(as_text=True)
    assert "[redacted]" in page and secret not in page
