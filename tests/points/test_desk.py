"""The treasurer's points pages and their API twins: the catalogue created and edited from the
page, volunteer-hour records (recorded, approved by a second person, referenced by a grant
whose points are the activity's, never the hours), objections resolved, the exchange page and
its settlement, the platform's rate table. Bad input: a translated 4xx, nothing stored."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core.db import db
from points import services as svc
from points.models import (
    ExchangeRate,
    GrantStatus,
    PointActivity,
    PointGrant,
    PointGrantLine,
    PointScheme,
    RedemptionItem,
    VolunteerRecord,
)
from tests.factories import member
from tests.points.conftest import credited
from tests.points.test_api import client_for

TODAY = dt.date.today()
EN = {"Accept-Language": "en"}


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_catalogue_created_and_edited_from_the_page(app, world):
    w = world
    admin = client_for(app, w.admin)
    base = f"/points/{w.org.id}"
    page = admin.get(base + "/catalogue")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "助老送餐" in html and "理发" in html and 'name="csrf_token"' in html
    r = admin.post(
        base + "/schemes",
        data={
            "name": "绿色出行积分",
            "type": "service",
            "unit": "green",
            "value": "0.05",
            "decimals": "1",
            "money_mode": "volunteer",
            "expiry_rule": "fixed_months",
            "validity_months": "6",
            "notice_days": "5",
        },
    )
    assert r.status_code == 302
    x = db.session.scalar(sa.select(PointScheme).where(PointScheme.unit == "GREEN"))
    assert (x.value_fen, x.decimals, x.validity_months, x.notice_days) == (5, 1, 6, 5)
    r = admin.post(base + f"/schemes/{x.id}", data={"name": "绿色积分", "notice_days": "7"})
    assert r.status_code == 302
    db.session.refresh(x)
    assert (x.name, x.notice_days) == ("绿色积分", 7)
    r = admin.post(
        base + "/activities",
        data={
            "scheme_id": x.id,
            "name": "骑车上班",
            "points": "2.5",
            "tag": "public",
            "approver_roles": "admin",
        },
    )
    assert r.status_code == 302
    a = db.session.scalar(sa.select(PointActivity).where(PointActivity.name == "骑车上班"))
    assert a.points == 25 and a.tag == "public"
    r = admin.post(
        base + f"/activities/{a.id}",
        data={"name": "骑车上班", "points": "3", "tag": "public", "approver_roles": "admin"},
    )  # the box unticked: no longer offered
    db.session.refresh(a)
    assert r.status_code == 302 and a.points == 30 and a.active is False
    r = admin.post(
        base + "/items",
        data={"scheme_id": x.id, "name": "共享单车月卡", "price": "20.00", "max_points": "100"},
    )
    assert r.status_code == 302
    it = db.session.scalar(sa.select(RedemptionItem).where(RedemptionItem.name == "共享单车月卡"))
    assert it.price_fen == 2000 and it.max_points == 1000
    r = admin.post(
        base + f"/items/{it.id}",
        data={"name": "共享单车月卡", "price": "25.50", "max_points": "80", "active": "1"},
    )
    db.session.refresh(it)
    assert r.status_code == 302 and (it.price_fen, it.max_points, it.active) == (2550, 800, True)


def test_catalogue_bad_input_and_roles(app, world):
    w = world
    admin, staff = client_for(app, w.admin), client_for(app, w.staff)
    base = f"/points/{w.org.id}"
    before = (_count(PointScheme), _count(RedemptionItem), w.item.price_fen)
    # A basic scheme with a value, a fractional point in a whole-point scheme, a negative price.
    r = admin.post(
        base + "/schemes",
        data={
            "name": "错",
            "type": "basic",
            "unit": "BASIC2",
            "value": "1",
            "decimals": "0",
            "notice_days": "3",
        },
        headers=EN,
    )
    assert r.status_code == 422 and "never redeemable" in r.get_data(as_text=True)
    r = admin.post(
        base + "/items",
        data={"scheme_id": w.service.id, "name": "x", "price": "10", "max_points": "1.5"},
        headers=EN,
    )
    assert r.status_code == 422 and "decimals" in r.get_data(as_text=True)
    r = admin.post(
        base + f"/items/{w.item.id}",
        data={"name": "理发", "price": "-3", "max_points": "20", "active": "1"},
        headers=EN,
    )
    assert r.status_code == 422
    r = admin.post(
        base + "/items",
        data={"scheme_id": w.basic.id, "name": "x", "price": "10", "max_points": "1"},
        headers=EN,
    )
    assert r.status_code == 422 and "SERVICE" in r.get_data(as_text=True)
    r = staff.post(base + f"/schemes/{w.service.id}", data={"name": "改名", "notice_days": "3"})
    assert r.status_code == 403
    db.session.expire_all()
    assert (_count(PointScheme), _count(RedemptionItem), w.item.price_fen) == before
    assert w.service.name == "服务积分"


def test_volunteer_hours_are_recorded_approved_and_referenced_by_a_grant(app, world):
    w = world
    staff, reviewer = client_for(app, w.staff), client_for(app, w.reviewer)
    base = f"/points/{w.org.id}"
    a = w.residents[1]
    r = staff.post(
        base + "/volunteer",
        data={
            "resident_id": a.id,
            "activity": "助老送餐",
            "date": TODAY.isoformat(),
            "hours": "2.5",
        },
    )
    assert r.status_code == 302
    rec = db.session.scalar(sa.select(VolunteerRecord))
    assert rec.minutes == 150 and rec.recorded_by_id == w.staff.id and rec.approved_by_id is None
    # Not approved: no points may reference it yet; the recorder may not approve.
    r = staff.post(base + f"/volunteer/{rec.id}/grant", data={"activity_id": w.activity.id})
    assert r.status_code == 409
    assert staff.post(base + f"/volunteer/{rec.id}/approve").status_code == 403
    assert reviewer.post(base + f"/volunteer/{rec.id}/approve").status_code == 302
    db.session.refresh(rec)
    assert rec.approved_by_id == w.reviewer.id and rec.approved_at is not None
    assert reviewer.post(base + f"/volunteer/{rec.id}/approve").status_code == 409
    r = staff.post(base + f"/volunteer/{rec.id}/grant", data={"activity_id": w.activity.id})
    assert r.status_code == 302
    g = db.session.scalar(sa.select(PointGrant))
    line = db.session.scalar(sa.select(PointGrantLine).where(PointGrantLine.grant_id == g.id))
    # The activity's catalogue points (10), not 2.5 hours priced (PT-6).
    assert (g.status, g.total_points, line.volunteer_record_id) == ("requested", 10, rec.id)
    assert (
        staff.post(
            base + f"/volunteer/{rec.id}/grant", data={"activity_id": w.activity.id}
        ).status_code
        == 409
    )
    # The one posting path: approve, notice, credit; the ledger holds the points.
    svc.approve_grant(g, actor=w.reviewer, today=TODAY - dt.timedelta(days=3))
    svc.credit_grant(g, actor=w.staff)
    assert svc.balance(w.service, a.id) == 10
    assert all(x.ok for x in svc.reconcile(w.issuer.id))
    page = staff.get(base + "/volunteer").get_data(as_text=True)
    assert "2:30" in page and a.name not in page  # masked names only


def test_volunteer_bad_input_stores_nothing(app, world):
    w = world
    staff = client_for(app, w.staff)
    base = f"/points/{w.org.id}"
    a = w.residents[0]
    for hours in ("0", "25", "1.333", "abc", "-1"):
        r = staff.post(
            base + "/volunteer",
            data={"resident_id": a.id, "activity": "x", "date": TODAY.isoformat(), "hours": hours},
            headers=EN,
        )
        assert r.status_code == 422, hours
    r = staff.post(
        base + "/volunteer",
        data={
            "resident_id": a.id,
            "activity": "x",
            "date": (TODAY + dt.timedelta(days=1)).isoformat(),
            "hours": "1",
        },
        headers=EN,
    )
    assert r.status_code == 422 and "future" in r.get_data(as_text=True)
    other = w.other_community
    assert other is not None
    r = staff.post(
        base + "/volunteer",
        data={"resident_id": 10**9, "activity": "x", "date": TODAY.isoformat(), "hours": "1"},
    )
    assert r.status_code == 404
    assert _count(VolunteerRecord) == 0
    # The auditor reads the books but not the private volunteer records.
    auditor = member(w.org, "auditor")
    assert client_for(app, auditor).get(base + "/volunteer").status_code == 403


def test_objections_resolved_from_the_page(app, world):
    w = world
    reviewer = client_for(app, w.reviewer)
    base = f"/points/{w.org.id}"
    grants = []
    for r in w.residents[:2]:
        g = svc.request_grant(
            w.activity, activity_date=TODAY, residents=[(r.id, None)], actor=w.staff
        )
        svc.approve_grant(g, actor=w.reviewer)
        svc.object_to_grant(g, "当天未见到", actor=w.staff)
        grants.append(g)
    page = reviewer.get(base + "/objections").get_data(as_text=True)
    assert page.count("当天未见到") == 2
    o1, o2 = (svc.objections_of(w.issuer)[i] for i in (0, 1))
    assert (
        reviewer.post(base + f"/objections/{o1.id}/resolve", data={"outcome": "maybe"}).status_code
        == 422
    )
    assert (
        reviewer.post(
            base + f"/objections/{o1.id}/resolve", data={"outcome": "dismissed"}
        ).status_code
        == 302
    )
    assert (
        reviewer.post(base + f"/objections/{o2.id}/resolve", data={"outcome": "upheld"}).status_code
        == 302
    )
    assert (
        reviewer.post(base + f"/objections/{o2.id}/resolve", data={"outcome": "upheld"}).status_code
        == 409
    )
    db.session.expire_all()
    by_id = {g.id: g.status for g in grants}
    assert by_id[o1.grant_id] == GrantStatus.PUBLICISED
    assert by_id[o2.grant_id] == GrantStatus.REJECTED


def test_exchange_page_settles_what_is_owed(app, world):
    w = world
    assert w.other_org is not None and w.other_item is not None and w.other_issuer is not None
    a = w.residents[0]
    credited(w, [a], points=50)
    red = svc.redeem(w.other_item, a.id, "20", scheme=w.service, actor=w.other_staff)
    owed = red.settlement_fen
    assert owed == 800  # 20 points × 0.8 × ¥0.50
    staff = client_for(app, w.staff)
    page = staff.get(f"/points/{w.org.id}/exchange").get_data(as_text=True)
    assert "¥8.00" in page and w.other_issuer.name in page
    payee = w.other_issuer.id
    r = staff.post(
        f"/points/{w.org.id}/settlements",
        data={"payee_issuer_id": payee, "amount": "9.00"},
        headers=EN,
    )
    assert r.status_code == 422 and "owed" in r.get_data(as_text=True)
    r = staff.post(
        f"/points/{w.org.id}/settlements", data={"payee_issuer_id": payee, "amount": "5.00"}
    )
    assert r.status_code == 302
    assert svc.settlement_owed(w.issuer, w.other_issuer) == 300
    api = client_for(app, w.staff).get(f"/api/v1/organisations/{w.org.id}/points/settlements")
    assert api.get_json() == [
        {
            "issuer_id": payee,
            "organisation_id": w.other_org.id,
            "name": w.other_issuer.name,
            "we_owe_fen": 300,
            "they_owe_fen": 0,
        }
    ]


def test_the_platform_sets_rates_from_its_page(app, world):
    w = world
    assert w.other_scheme is not None
    platform, admin = client_for(app, w.platform), client_for(app, w.admin)
    assert admin.get("/points/rates").status_code == 403
    page = platform.get("/points/rates").get_data(as_text=True)
    assert "望平服务积分" in page and "基本积分" not in page  # only SERVICE schemes circulate
    body = {
        "from_scheme_id": w.other_scheme.id,
        "to_scheme_id": w.service.id,
        "rate": "1.2",
        "effective_from": TODAY.isoformat(),
    }
    before = _count(ExchangeRate)
    r = platform.post("/points/rates", data=body, headers=EN)
    assert r.status_code == 422 and "at most 1" in r.get_data(as_text=True)
    r = platform.post("/points/rates", data={**body, "to_scheme_id": w.basic.id}, headers=EN)
    assert r.status_code == 422
    assert _count(ExchangeRate) == before
    assert platform.post("/points/rates", data={**body, "rate": "0.5"}).status_code == 302
    assert svc.rate_on(w.other_scheme, w.service, TODAY) == svc.Decimal("0.5")
    rates = admin.get("/api/v1/points/rates").get_json()
    assert {(x["from_scheme_id"], x["rate"]) for x in rates} >= {(w.other_scheme.id, "0.500000")}


def test_api_edits_and_volunteer_records(app, world):
    w = world
    base = f"/api/v1/organisations/{w.org.id}/points"
    admin, staff, reviewer = (client_for(app, u) for u in (w.admin, w.staff, w.reviewer))
    r = admin.patch(f"{base}/items/{w.item.id}", json={"max_points": "15", "price_fen": 2500})
    assert r.status_code == 200 and r.get_json()["max_points"] == 15
    r = admin.patch(f"{base}/activities/{w.activity.id}", json={"points": "-1"}, headers=EN)
    assert r.status_code == 422
    r = admin.patch(f"{base}/schemes/{w.service.id}", json={"notice_days": 31})
    assert r.status_code == 422
    assert staff.patch(f"{base}/schemes/{w.service.id}", json={"name": "x"}).status_code == 403
    a = w.residents[2]
    r = staff.post(
        base + "/volunteer-records",
        json={
            "resident_id": a.id,
            "activity": "助老送餐",
            "date": TODAY.isoformat(),
            "hours": "1.5",
        },
    )
    assert r.status_code == 201 and r.get_json()["minutes"] == 90
    rid = r.get_json()["id"]
    assert reviewer.post(f"{base}/volunteer-records/{rid}/approve").status_code == 200
    r = staff.post(f"{base}/volunteer-records/{rid}/grant", json={"activity_id": w.activity.id})
    assert r.status_code == 201 and r.get_json()["total_points"] == 10
    listed = staff.get(base + "/volunteer-records").get_json()
    assert [x["approved_by_id"] for x in listed] == [w.reviewer.id]
    assert "name" not in listed[0]
    assert staff.get(base + "/objections").get_json() == []


def test_attendance_csv_file_and_the_reminder_list(app, world):
    import io

    from points.cli import points_cli

    w = world
    staff = client_for(app, w.staff)
    a, b = w.residents[0], w.residents[1]
    csv_bytes = f"居民编号,积分\n{a.id},12\n{b.id}\n".encode("utf-8-sig")
    r = staff.post(
        f"/points/{w.org.id}/grants",
        data={
            "activity_id": w.activity.id,
            "activity_date": TODAY.isoformat(),
            "attendance": "",
            "attendance_file": (io.BytesIO(csv_bytes), "attendance.csv"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    g = db.session.scalar(sa.select(PointGrant))
    assert (g.people, g.total_points) == (2, 22)
    r = staff.post(
        f"/points/{w.org.id}/grants",
        data={
            "activity_id": w.activity.id,
            "activity_date": TODAY.isoformat(),
            "attendance_file": (io.BytesIO(b"\xff\xfe\x00bad"), "a.csv"),
        },
        content_type="multipart/form-data",
        headers=EN,
    )
    assert r.status_code == 422 and "UTF-8" in r.get_data(as_text=True)
    assert _count(PointGrant) == 1
    # Points lapsing within 30 days: the staff page and the CLI list the holder (no names in
    # the CLI, masked on the page).
    credited(w, [a], points=7)
    exp = svc.expires_on(w.service, TODAY)
    assert exp is not None
    as_of = exp - dt.timedelta(days=20)
    rows = svc.expiring_soon(w.service, today=as_of)
    assert [(rid, int(p)) for rid, p, _d in rows] == [(a.id, 7)]
    assert svc.expiring_soon(w.service, today=exp - dt.timedelta(days=31)) == []
    out = app.test_cli_runner().invoke(
        points_cli, ["reminders", "--issuer", str(w.issuer.id), "--as-of", as_of.isoformat()]
    )
    assert out.exit_code == 0, out.output
    assert f"resident {a.id}\t7\t{exp.isoformat()}" in out.output and a.name not in out.output


def test_a_visitor_pays_with_another_communitys_points_on_the_phone_page(app, world):
    w = world
    assert w.other_org is not None and w.other_staff is not None and w.other_item is not None
    a = w.residents[0]  # of 安公; spends 安公 points at 望平 (rate 0.8, 望平 points worth ¥0.50)
    credited(w, [a], points=50)
    desk = client_for(app, w.other_staff)
    base = f"/points/{w.other_org.id}/redeem"
    page = desk.get(base).get_data(as_text=True)
    assert w.service.name in page  # offered as a visitor's points
    found = desk.get(base, query_string={"scheme_id": w.service.id, "last4": "0000"})
    assert f"resident_id={a.id}" in found.get_data(as_text=True)
    # Without the scheme, 望平's desk finds nobody of 安公 (another community).
    assert f"resident_id={a.id}" not in desk.get(base, query_string={"last4": "0000"}).get_data(
        as_text=True
    )
    q = {"scheme_id": w.service.id, "resident_id": a.id, "item_id": w.other_item.id}
    page = desk.get(base, query_string=q).get_data(as_text=True)
    # Cap: ¥15 lunch, at most 30 望平 points = ¥15; 37 安公 points × 0.8 = 29.6 → 29 points.
    assert 'value="37"' in page
    r = desk.post(base, query_string=q, data={"points": "37"})
    assert r.status_code == 302
    assert svc.balance(w.service, a.id) == 13
    assert svc.settlement_owed(w.issuer, w.other_issuer) == 29 * 50
    assert all(x.ok for x in svc.reconcile(w.issuer.id)) and all(
        x.ok for x in svc.reconcile(w.other_issuer.id)
    )
    # A scheme with no rate into this issuer: not found, nothing spent.
    assert desk.get(base, query_string={"scheme_id": w.sale.id}).status_code == 404
