import datetime as dt

import pytest
import sqlalchemy as sa

from core.auth import create_api_token
from core.db import db
from core.models import AuditEvent, User
from tests.conftest import PASSWORD, csrf_token, login


def _events(**where):
    q = sa.select(AuditEvent).order_by(AuditEvent.id)
    for k, v in where.items():
        q = q.where(getattr(AuditEvent, k) == v)
    return db.session.scalars(q).all()


def test_login_and_logout(client, user):
    login(client, user.username)
    assert client.get("/api/v1/me").get_json()["username"] == user.username
    resp = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert resp.status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_wrong_password_is_refused_in_the_users_language(client, user):
    token = csrf_token(client)
    resp = client.post(
        "/login", data={"username": user.username, "password": "nope", "csrf_token": token}
    )
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    resp = client.post(
        "/login",
        data={"username": user.username, "password": "nope", "csrf_token": token},
        headers={"Accept-Language": "en"},
    )
    assert "Wrong username or password" in resp.get_data(as_text=True)
    ev = _events(action="login")[-1] if _events(action="login") else _events()[-1]
    assert ev.security and ev.outcome == "denied" and ev.username == user.username


def test_login_is_throttled_after_repeated_failures(client, user):
    token = csrf_token(client)
    for _ in range(5):
        r = client.post(
            "/login", data={"username": user.username, "password": "bad", "csrf_token": token}
        )
        assert r.status_code == 401
    # Even the right password is refused while throttled.
    r = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 429
    assert "15" in r.get_data(as_text=True)


def test_missing_csrf_token_is_refused_and_recorded(client, user):
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 400
    assert "安全令牌" in resp.get_data(as_text=True)
    ev = _events()[-1]
    assert ev.security and ev.outcome == "invalid"
    assert client.get("/api/v1/me").status_code == 401  # not logged in


def test_session_cookie_flags(client, user):
    token = csrf_token(client)
    resp = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forged_or_expired_session_is_anonymous(client, user):
    login(client, user.username)
    client.set_cookie("session", "forged.value.here", domain="localhost")
    assert client.get("/api/v1/me").status_code == 401


def test_api_token_auth(app, client, user, runner):
    result = runner.invoke(args=["user", "token", user.username])
    token = result.output.strip()
    assert token.startswith("cl_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["username"] == user.username
    stored = db.session.scalars(
        sa.select(sa.text("token_hash")).select_from(sa.text("api_tokens"))
    ).all()
    assert token not in stored  # only the hash is stored


def test_bad_api_token_is_401_and_a_security_event(client):
    resp = client.post(
        "/api/v1/tokens", json={"name": "x"}, headers={"Authorization": "Bearer cl_wrong"}
    )
    assert resp.status_code == 401
    body = resp.get_json()
    assert body["code"] == "not_authenticated" and body["message"]
    assert _events()[-1].security


def test_token_write_needs_no_csrf_but_session_write_does(client, user, runner):
    login(client, user.username)
    r = client.post("/api/v1/tokens", json={"name": "script"})
    assert r.status_code == 400 and r.get_json()["code"] == "csrf"
    r = client.post(
        "/api/v1/tokens", json={"name": "script"}, headers={"X-CSRFToken": csrf_token(client)}
    )
    assert r.status_code == 201 and r.get_json()["token"].startswith("cl_")


def test_cli_grant_role(runner, user, organisation):
    r = runner.invoke(args=["user", "grant", user.username, organisation.slug, "reviewer"])
    assert r.exit_code == 0, r.output
    db.session.expire_all()
    assert db.session.get(User, user.id).roles_in(organisation.id) == {"reviewer"}
    r = runner.invoke(args=["user", "grant", user.username, organisation.slug, "king"])
    assert r.exit_code != 0
    assert "未知角色 king" in r.output  # the CLI speaks the default language, Chinese
    db.session.expire_all()
    assert db.session.get(User, user.id).roles_in(organisation.id) == {"reviewer"}


def test_user_create_refuses_short_password(runner):
    r = runner.invoke(args=["user", "create", "carol", "--password", "short"])
    assert r.exit_code == 1
    assert db.session.scalar(sa.select(User).where(User.username == "carol")) is None


def test_session_expires_after_its_lifetime(app, client, user, signing_clock, monkeypatch):
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", dt.timedelta(seconds=600))
    login(client, user.username)
    signing_clock.advance(599)
    assert client.get("/api/v1/me").status_code == 200
    signing_clock.advance(601)
    assert client.get("/api/v1/me").status_code == 401


# --- issue 9 items 6 and 8: CSRF with a stray bearer header, throttling, caching ---------------


def _token_count() -> int:
    return db.session.scalar(sa.text("SELECT count(*) FROM api_tokens"))


@pytest.mark.parametrize("bearer", ["Bearer cl_bogus", "Bearer not-even-our-prefix", "bearer  "])
def test_a_session_write_with_a_bogus_bearer_header_still_needs_csrf(client, user, bearer):
    login(client, user.username)
    before = _token_count()
    r = client.post("/api/v1/tokens", json={"name": "x"}, headers={"Authorization": bearer})
    assert r.status_code == 400 and r.get_json()["code"] == "csrf"
    assert _token_count() == before  # nothing changed
    # The same with an HTML form: logout is a write too.
    r = client.post("/logout", headers={"Authorization": bearer})
    assert r.status_code == 400
    assert client.get("/api/v1/me").status_code == 200  # still logged in


def test_a_session_write_with_a_valid_bearer_of_someone_else_still_needs_csrf(
    client, user, user_factory
):
    other = user_factory()
    _row, token = create_api_token(other, "theirs")
    login(client, user.username)
    before = _token_count()
    r = client.post(
        "/api/v1/tokens", json={"name": "x"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 400 and r.get_json()["code"] == "csrf"
    assert _token_count() == before


def test_a_valid_token_alone_needs_no_csrf(client, user):
    _row, token = create_api_token(user, "script")
    r = client.post(
        "/api/v1/tokens", json={"name": "y"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 201


def _fail(client, username, addr, token):
    return client.post(
        "/login",
        data={"username": username, "password": "bad", "csrf_token": token},
        environ_base={"REMOTE_ADDR": addr},
    )


def test_failures_for_one_user_do_not_lock_out_others_behind_the_same_address(
    client, user, user_factory
):
    neighbour = user_factory()
    token = csrf_token(client)
    for _ in range(5):
        assert _fail(client, user.username, "10.0.0.1", token).status_code == 401
    assert _fail(client, user.username, "10.0.0.1", token).status_code == 429
    # Same address, another username: not locked out.
    r = client.post(
        "/login",
        data={"username": neighbour.username, "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert r.status_code == 302


def test_failures_from_elsewhere_do_not_lock_the_user_out(client, user):
    token = csrf_token(client)
    for _ in range(5):
        assert _fail(client, user.username, "203.0.113.9", token).status_code == 401
    r = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert r.status_code == 302


def test_an_address_spraying_many_usernames_hits_the_higher_bound(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 8)
    token = csrf_token(client)
    for n in range(8):
        assert _fail(client, f"guess{n}", "198.51.100.7", token).status_code == 401
    r = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert r.status_code == 429


@pytest.mark.parametrize("path", ["/", "/account", "/api/v1/me"])
def test_signed_in_pages_are_not_cached(client, user, path):
    login(client, user.username)
    r = client.get(path)
    assert r.headers.get("Cache-Control") == "no-store", (path, r.status_code)


def test_public_pages_stay_cacheable_and_static_files_keep_their_caching(client, user):
    assert client.get("/public/").headers.get("Cache-Control") != "no-store"
    login(client, user.username)
    static = client.get("/static/css/app.css")
    assert static.headers.get("Cache-Control") != "no-store"
