"""Invitations, roles, password changes and resets, server-side sessions, residents' logins."""

import datetime as dt

import pytest
import sqlalchemy as sa

from core import auth, people
from core.db import db, utcnow
from core.errors import Conflict, NotFound, NotPermitted
from core.models import AuditEvent, Invitation, Membership, User
from tests.conftest import PASSWORD, csrf_token, login

pytestmark = pytest.mark.usefixtures("english")

NEW_PASSWORD = "saffron bicycle window 88"


@pytest.fixture
def org_admin(user_factory, organisation):
    u = user_factory()
    auth.grant_role(u, organisation, "admin")
    return u


def _users(username):
    return db.session.scalar(sa.select(sa.func.count()).where(User.username == username))


# --- sessions (issue 9 item 3) ---------------------------------------------------------------


def test_copied_cookie_no_longer_works_after_logout(app, user):
    c = app.test_client()
    login(c, user.username)
    copied = c.get_cookie("session").value
    assert c.get("/api/v1/me").status_code == 200
    c.post("/logout", data={"csrf_token": csrf_token(c)})
    thief = app.test_client()
    thief.set_cookie("session", copied, domain="localhost")
    assert thief.get("/api/v1/me").status_code == 401


def test_sign_out_everywhere_ends_other_browsers(app, user):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, user.username)
    login(laptop, user.username)
    r = laptop.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(laptop)})
    assert r.status_code == 302
    assert phone.get("/api/v1/me").status_code == 401
    assert laptop.get("/api/v1/me").status_code == 401


def test_sign_out_everywhere_also_ends_api_tokens(app, user):
    row, token = auth.create_api_token(user, "phone app")
    db.session.commit()
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    browser = app.test_client()
    login(browser, user.username)
    r = browser.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(browser)})
    assert r.status_code == 302
    assert api.get("/api/v1/me", headers=bearer).status_code == 401
    db.session.refresh(row)
    assert row.revoked_at is not None
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "sign out everywhere")
    ).one()
    assert '"api_tokens": 1' in event.detail


def test_password_change_ends_other_sessions_and_keeps_this_one(app, user):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, user.username)
    login(laptop, user.username)
    form = {"current_password": PASSWORD, "password": "12345678", "password2": "12345678"}
    r = laptop.post("/account/password", data=form | {"csrf_token": csrf_token(laptop)})
    assert r.status_code == 422 and "太容易被猜到" in r.get_data(as_text=True)
    assert phone.get("/api/v1/me").status_code == 200  # nothing changed
    form = {"current_password": "wrong", "password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    r = laptop.post("/account/password", data=form | {"csrf_token": csrf_token(laptop)})
    assert r.status_code == 422 and "当前密码不正确" in r.get_data(as_text=True)
    form["current_password"] = PASSWORD
    r = laptop.post("/account/password", data=form | {"csrf_token": csrf_token(laptop)})
    assert r.status_code == 302
    assert phone.get("/api/v1/me").status_code == 401
    assert laptop.get("/api/v1/me").status_code == 200
    fresh = app.test_client()
    login(fresh, user.username, NEW_PASSWORD)


def test_role_revocation_ends_the_persons_sessions(app, organisation, org_admin, user):
    auth.grant_role(user, organisation, "preparer")
    c = app.test_client()
    login(c, user.username)
    people.revoke(organisation, user, "preparer", actor=org_admin)
    assert c.get("/api/v1/me").status_code == 401
    m = db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id))
    assert m.revoked_at is not None and m.revoked_by_id == org_admin.id


# --- invitations -----------------------------------------------------------------------------


def test_invitation_link_creates_the_login_once(app, organisation, org_admin):
    inv, token = people.invite(organisation, role="preparer", display_name="李娟", actor=org_admin)
    assert inv.token_hash != token and token not in inv.token_hash
    user = people.accept_invitation(token, username="lijuan", password=NEW_PASSWORD)
    assert user.roles_in(organisation.id) == {"preparer"}
    assert user.display_name == "李娟"
    with pytest.raises(Conflict, match="already been used"):
        people.accept_invitation(token, username="lijuan2", password=NEW_PASSWORD)
    assert _users("lijuan2") == 0


def test_expired_invitation_is_refused(app, organisation, org_admin):
    inv, token = people.invite(organisation, role="reviewer", actor=org_admin)
    inv.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.flush()
    with pytest.raises(Conflict, match="expired"):
        people.accept_invitation(token, username="late", password=NEW_PASSWORD)
    assert _users("late") == 0
    with pytest.raises(NotFound):
        people.accept_invitation("not-a-token", username="x", password=NEW_PASSWORD)


def test_invitation_page_used_twice_is_a_translated_refusal(app, client, organisation, org_admin):
    _inv, token = people.invite(organisation, role="auditor", actor=org_admin)
    form = {"username": "sunjing", "password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    r = client.post(f"/invite/{token}", data=form | {"csrf_token": csrf_token(client)})
    assert r.status_code == 302
    assert client.get("/api/v1/me").get_json()["username"] == "sunjing"
    other = app.test_client()
    r = other.post(
        f"/invite/{token}",
        data=form | {"username": "again", "csrf_token": csrf_token(other)},
        headers={"Accept-Language": "zh-CN"},
    )
    assert r.status_code == 409
    assert "已被使用" in r.get_data(as_text=True)
    assert _users("again") == 0


def test_weak_password_on_acceptance_leaves_the_link_usable(app, client, organisation, org_admin):
    _inv, token = people.invite(organisation, role="auditor", actor=org_admin)
    form = {"username": "zhao", "password": "zhao12345", "password2": "zhao12345"}
    r = client.post(f"/invite/{token}", data=form | {"csrf_token": csrf_token(client)})
    assert r.status_code == 422
    assert _users("zhao") == 0
    form |= {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    r = client.post(f"/invite/{token}", data=form | {"csrf_token": csrf_token(client)})
    assert r.status_code == 302


def test_only_the_organisations_admin_invites_and_grants(client_as, organisation, user):
    preparer = client_as("preparer")
    r = preparer.post(
        f"/orgs/{organisation.id}/people", data={"csrf_token": preparer.csrf, "role": "admin"}
    )
    assert r.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
    auth.grant_role(user, organisation, "auditor")
    r = preparer.post(
        f"/orgs/{organisation.id}/people/{user.id}",
        data={"csrf_token": preparer.csrf, "action": "grant", "role": "admin"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert r.status_code == 403 and "管理员" in r.get_data(as_text=True)
    assert user.roles_in(organisation.id) == {"auditor"}
    with pytest.raises(NotPermitted):
        people.grant(organisation, user, "admin", actor=preparer.user)


def test_admin_grants_and_revokes_and_the_person_page_shows_it(client_as, organisation, user):
    admin = client_as("admin")
    auth.grant_role(user, organisation, "auditor")
    url = f"/orgs/{organisation.id}/people/{user.id}"
    r = admin.post(url, data={"csrf_token": admin.csrf, "action": "grant", "role": "reviewer"})
    assert r.status_code == 302
    r = admin.post(url, data={"csrf_token": admin.csrf, "action": "revoke", "role": "auditor"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).roles_in(organisation.id) == {"reviewer"}
    events = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.target == f"user:{user.id}")
    ).all()
    assert events == ["role grant", "role revoke"]
    page = admin.get(url).get_data(as_text=True)
    assert "已授予角色: 审核" in page and "已撤销角色: 审计" in page
    assert "(Asia/Shanghai)" in page  # times in the organisation's zone


def test_invite_page_shows_the_link_once(client_as, organisation):
    admin = client_as("admin")
    r = admin.post(
        f"/orgs/{organisation.id}/people",
        data={"csrf_token": admin.csrf, "role": "preparer", "display_name": "新人"},
    )
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "/invite/" in page
    assert "/invite/" not in admin.get(f"/orgs/{organisation.id}/people").get_data(as_text=True)


# --- password resets -------------------------------------------------------------------------


def test_reset_link_sets_a_new_password_once_and_ends_sessions(app, organisation, org_admin, user):
    auth.grant_role(user, organisation, "preparer")
    c = app.test_client()
    login(c, user.username)
    _row, token = people.issue_reset_link(user, actor=org_admin, org=organisation)
    anon = app.test_client()
    form = {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    r = anon.post(f"/reset/{token}", data=form | {"csrf_token": csrf_token(anon)})
    assert r.status_code == 302
    assert c.get("/api/v1/me").status_code == 401
    login(app.test_client(), user.username, NEW_PASSWORD)
    r = anon.post(f"/reset/{token}", data=form | {"csrf_token": csrf_token(anon)})
    assert r.status_code == 409


def test_an_org_admin_cannot_reset_someone_who_works_elsewhere(
    organisation, organisation_factory, org_admin, user
):
    auth.grant_role(user, organisation, "preparer")
    auth.grant_role(user, organisation_factory(), "admin")
    with pytest.raises(NotPermitted):
        people.issue_reset_link(user, actor=org_admin, org=organisation)


def test_cli_reset_link(runner, user):
    r = runner.invoke(args=["user", "reset-link", user.username])
    assert r.exit_code == 0 and r.output.startswith("/reset/")


# --- first run and residents -------------------------------------------------------------------


def test_first_run_page_while_no_user(app, client):
    assert client.get("/setup").status_code == 200
    form = {"username": "root", "password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    r = client.post("/setup", data=form | {"csrf_token": csrf_token(client)})
    assert r.status_code == 302
    me = client.get("/api/v1/me").get_json()
    assert me["username"] == "root" and me["is_platform_admin"]
    assert app.test_client().get("/setup").status_code == 404


def test_staff_link_a_residents_login_and_it_sees_only_its_own(
    client_as, organisation, resident_factory, user
):
    staff = client_as("preparer")
    mine = resident_factory(community=organisation.community)
    other = resident_factory(community=organisation.community)
    r = staff.post(
        f"/communities/{organisation.community_id}/residents/{mine.id}/login",
        data={"csrf_token": staff.csrf, "username": user.username},
    )
    assert r.status_code == 302
    assert people.my_resident_records(user) == [mine]
    assert people.is_own_record(mine, user) and not people.is_own_record(other, user)
    stranger = client_as("auditor")  # not staff
    r = stranger.post(
        f"/communities/{organisation.community_id}/residents/{other.id}/login",
        data={"csrf_token": stranger.csrf, "username": stranger.user.username},
    )
    assert r.status_code == 403 and other.user_id is None


def test_link_tokens_never_reach_the_audit_trail(app, client, organisation, org_admin):
    _inv, token = people.invite(organisation, role="auditor", actor=org_admin)
    form = {"username": "weak", "password": "12345678", "password2": "12345678"}
    r = client.post(f"/invite/{token}", data=form | {"csrf_token": csrf_token(client)})
    assert r.status_code == 422  # refused, so the link is still valid
    targets = db.session.scalars(sa.select(AuditEvent.target)).all()
    assert targets and not any(token in (t or "") for t in targets)
    assert any("[redacted]" in (t or "") for t in targets)


def test_admin_cancels_an_invitation_and_signs_a_person_out(app, client_as, organisation, user):
    admin = client_as("admin")
    inv, token = people.invite(organisation, role="preparer", actor=admin.user)
    r = admin.post(
        f"/orgs/{organisation.id}/invitations/{inv.id}/cancel", data={"csrf_token": admin.csrf}
    )
    assert r.status_code == 302
    with pytest.raises(NotFound):
        people.open_invitation(token)
    auth.grant_role(user, organisation, "preparer")
    c = app.test_client()
    login(c, user.username)
    r = admin.post(
        f"/orgs/{organisation.id}/people/{user.id}",
        data={"csrf_token": admin.csrf, "action": "signout"},
    )
    assert r.status_code == 302
    assert c.get("/api/v1/me").status_code == 401
    assert admin.get("/api/v1/me").status_code == 200
