"""The points API, pages and CLI: a whole grant → notice → credit → redemption through HTTP,
an Idempotency-Key retry that spends once, translated refusals that store nothing, the
resident's own page and the public section without names, and the CLI's exit codes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core.db import db
from points import services as svc
from points.cli import points_cli
from points.models import PointHolding, PointRedemption
from tests.conftest import PASSWORD, csrf_token, login
from tests.points.conftest import credited

TODAY = dt.date.today()


def client_for(app, user):
    c = login(app.test_client(), user.username, PASSWORD)
    c.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(c)
    return c


def test_grant_and_redeem_through_the_api(app, world):
    w = world
    base = f"/api/v1/organisations/{w.org.id}/points"
    staff, reviewer = client_for(app, w.staff), client_for(app, w.reviewer)
    a = w.residents[0]
    r = staff.post(
        base + "/grants",
        json={
            "activity_id": w.activity.id,
            "activity_date": TODAY.isoformat(),
            "attendance": f"{a.id},25\n",
        },
    )
    assert r.status_code == 201, r.get_json()
    gid = r.get_json()["id"]
    r = reviewer.post(f"{base}/grants/{gid}/approve")
    assert r.status_code == 200 and r.get_json()["status"] == "publicised"
    r = staff.post(f"{base}/grants/{gid}/credit", headers={"Accept-Language": "en"})
    assert r.status_code == 409 and "public notice until" in r.get_json()["message"]
    credited(w, [a], points=25)  # one credited through the services, its notice over
    key = {"Idempotency-Key": "redeem-0001"}
    body = {"item_id": w.item.id, "resident_id": a.id, "points": "20"}
    first = staff.post(base + "/redemptions", json=body, headers=key)
    again = staff.post(base + "/redemptions", json=body, headers=key)
    assert first.status_code == 201 and again.status_code == 201
    assert first.get_json() == again.get_json()
    assert first.get_json()["cash_fen"] == 1000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointRedemption)) == 1
    r = staff.get(base + "/reconciliation")
    assert all(x["ok"] for x in r.get_json())


def test_api_refusals_are_translated_and_store_nothing(app, world):
    w = world
    base = f"/api/v1/organisations/{w.org.id}/points"
    staff = client_for(app, w.staff)
    a = w.residents[0]
    credited(w, [a], points=5)
    cases = [
        (
            {"item_id": w.item.id, "resident_id": a.id, "points": "6"},
            409,
            "积分不足：持有人有 5，本次兑换需要 6。",
        ),
        (
            {"item_id": w.item.id, "resident_id": a.id, "points": "-1"},
            422,
            "积分须大于零（收到 -1）。",
        ),
        (
            {"item_id": w.item.id, "resident_id": a.id, "points": "0.5"},
            422,
            "服务积分 只有 0 位小数；0.5 超出。",
        ),
        (
            {"item_id": w.item.id, "resident_id": a.id, "points": "1", "scheme_id": w.basic.id},
            422,
            "基本积分（基本积分）仅用于表彰，不可兑换。",
        ),
    ]
    for body, status, message in cases:
        r = staff.post(base + "/redemptions", json=body, headers={"Accept-Language": "zh-CN"})
        assert r.status_code == status and r.get_json()["message"] == message, r.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointRedemption)) == 0
    assert db.session.scalar(sa.select(PointHolding.balance)) == 5


def test_pages(app, world):
    w = world
    a = w.residents[0]
    credited(w, [a], points=15)
    staff = client_for(app, w.staff)
    page = staff.get(f"/points/{w.org.id}/").get_data(as_text=True)
    assert "助老送餐" in page and "15" in page
    # The phone page: find by name + last 4, pick the item, confirm.
    page = staff.get(
        f"/points/{w.org.id}/redeem", query_string={"name": "王", "last4": "0000"}
    ).get_data(as_text=True)
    assert "王**" in page and "139****0000" in page and "王秀兰" not in page
    r = staff.post(
        f"/points/{w.org.id}/redeem?resident_id={a.id}&item_id={w.item.id}",
        data={"points": "15", "csrf_token": csrf_token(staff)},
    )
    assert r.status_code == 302
    assert svc.balance(w.service, a.id) == 0


def test_resident_sees_own_points_only_and_public_has_no_names(app, world):
    from tests.factories import UserFactory

    w = world
    a, b = w.residents[:2]
    credited(w, [a], points=12)
    credited(w, [b], points=7)
    login_user = UserFactory()
    a.user_id = login_user.id
    db.session.flush()
    c = client_for(app, login_user)
    mine = c.get("/api/v1/points/me").get_json()
    assert [x["balance"] for x in mine["balances"]] == [12]
    page = c.get("/points/me").get_data(as_text=True)
    assert "12" in page and "我的积分" in page
    public = app.test_client().get(f"/public/o/{w.org.id}").get_data(as_text=True)
    assert "积分（按月合计）" in public
    for r in w.residents:
        assert r.name not in public and r.name[0] + "*" not in public


def test_cli_expire_and_reconcile(app, world, runner):
    w = world
    a = w.residents[0]
    credited(w, [a], points=9, day=dt.date(TODAY.year - 2, 3, 1))
    out = runner.invoke(points_cli, ["expire", "--as-of", TODAY.isoformat()])
    assert out.exit_code == 0 and "expired 9 from 1 holders" in out.output
    out = runner.invoke(points_cli, ["reconcile", "--issuer", str(w.issuer.id)])
    assert out.exit_code == 0 and out.output.count("OK") == 3
    db.session.execute(sa.update(PointHolding).values(balance=PointHolding.balance + 1))
    out = runner.invoke(points_cli, ["reconcile"])
    assert out.exit_code == 1 and "DIFF" in out.output
    out = runner.invoke(points_cli, ["reconcile", "--as-of", "not-a-date"])
    assert out.exit_code == 2


def test_catalogue_rates_exchange_and_settlement_through_the_api(app, world):
    w = world
    admin, platform = client_for(app, w.admin), client_for(app, w.platform)
    base = f"/api/v1/organisations/{w.org.id}/points"
    r = admin.post(
        base + "/activities", json={"scheme_id": w.service.id, "name": "楼道清扫", "points": "8"}
    )
    assert r.status_code == 201 and r.get_json()["points"] == 8
    r = admin.post(
        base + "/items",
        json={"scheme_id": w.service.id, "name": "修鞋", "price_fen": 800, "max_points": "8"},
    )
    assert r.status_code == 201
    r = admin.post(base + "/schemes", json={"name": "守信积分", "type": "basic", "unit": "PTX"})
    assert r.status_code == 201
    r = platform.post(
        "/api/v1/points/rates",
        json={
            "from_scheme_id": w.service.id,
            "to_scheme_id": w.other_scheme.id,
            "rate": "1.5",
            "effective_from": "2026-02-01",
        },
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 422 and "at most 1" in r.get_json()["message"]
    r = platform.post(
        "/api/v1/points/rates",
        json={
            "from_scheme_id": w.service.id,
            "to_scheme_id": w.other_scheme.id,
            "rate": "0.5",
            "effective_from": "2026-02-01",
        },
    )
    assert r.status_code == 201
    a = w.residents[0]
    credited(w, [a], points=40)
    other = client_for(app, w.other_staff)
    r = other.post(
        f"/api/v1/organisations/{w.other_org.id}/points/redemptions",
        json={
            "item_id": w.other_item.id,
            "resident_id": a.id,
            "points": "40",
            "scheme_id": w.service.id,
        },
    )
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["target_points"], r.get_json()["settlement_fen"]) == (20, 1000)
    staff = client_for(app, w.staff)
    r = staff.post(base + "/settlements", json={"payee_org_id": w.other_org.id, "amount_fen": 1000})
    assert r.status_code == 201 and r.get_json()["owed_fen"] == 0
