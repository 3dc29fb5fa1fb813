"""The ledger JSON API: the voucher lifecycle, bad input, permissions, tenancy, chart, periods."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.auth import create_api_token, grant_role
from core.db import db
from ledger import services as svc
from ledger.models import Account, Voucher, VoucherLine
from tests.conftest import csrf_token, login

D = "2026-03-05"


class Api:
    """One user's view of one organisation's ledger API, by bearer token or by session."""

    def __init__(self, app, org, user, *, session: bool = False, lang: str | None = None):
        self.client = app.test_client()
        self.base = f"/api/v1/organisations/{org.id}"
        self.user = user
        if session:
            login(self.client, user.username)
            self.headers = {"X-CSRFToken": csrf_token(self.client)}
        else:
            self.headers = {"Authorization": f"Bearer {create_api_token(user, 'test')[1]}"}
        if lang:
            self.headers["Accept-Language"] = lang

    def _call(self, method: str, path: str, headers: dict | None = None, **kwargs):
        # What the test set up must survive a refused request's rollback, as it would if it
        # had been committed before (inside the test's outer transaction this is a savepoint).
        db.session.commit()
        return self.client.open(
            self.base + path, method=method, headers={**self.headers, **(headers or {})}, **kwargs
        )

    def get(self, path, **kw):
        return self._call("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self._call("POST", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self._call("PUT", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self._call("PATCH", path, json=json, **kw)


def body(lines=None, **over) -> dict:
    out = {
        "date": D,
        "summary": "收到3月物业服务费",
        "attachment_count": 2,
        "lines": lines
        if lines is not None
        else [
            {"account": "1002", "debit": "1234.56", "memo": "工行入账"},
            {"account": "5001", "credit": "1234.56"},
        ],
    }
    out.update(over)
    return out


def count_vouchers() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Voucher))


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def api(app, organisation, people, book):
    """api("preparer") → that role's client (token); api("reviewer", session=True) → by session."""

    def make(role: str, **kw) -> Api:
        return Api(app, organisation, people[role], **kw)

    return make


def approved(api, **over) -> int:
    prep, rev = api("preparer"), api("reviewer")
    vid = prep.post("/vouchers", body(**over)).get_json()["id"]
    assert prep.post(f"/vouchers/{vid}/submit").status_code == 200
    assert rev.post(f"/vouchers/{vid}/approve").status_code == 200
    return vid


# --- lifecycle ---------------------------------------------------------------------------------


def test_full_lifecycle_by_token_and_session(api, book):
    preparer = api("preparer")  # token
    reviewer = api("reviewer", session=True)  # browser session + CSRF header

    r = preparer.post("/vouchers", body())
    assert r.status_code == 201, r.get_json()
    v = r.get_json()
    assert v["status"] == "draft" and v["number"] is None and v["source"] == "api"
    first = v["lines"][0]
    assert first["account"] == "1002" and first["account_name"] == "银行存款"
    assert (first["debit"], first["credit"], first["debit_minor"], first["credit_minor"]) == (
        "1234.56",
        None,
        123456,
        0,
    )
    assert first["memo"] == "工行入账" and v["lines"][1]["credit"] == "1234.56"
    assert v["totals"] == [{"unit": "CNY", "debit": "1234.56", "credit": "1234.56"}]
    vid = v["id"]

    assert preparer.post(f"/vouchers/{vid}/submit").get_json()["status"] == "submitted"
    r = reviewer.post(f"/vouchers/{vid}/approve")
    assert r.status_code == 200 and r.get_json()["approved_by"]["id"] == reviewer.user.id
    r = reviewer.post(f"/vouchers/{vid}/post")
    assert r.status_code == 200, r.get_json()
    posted = r.get_json()
    assert (
        posted["status"] == "posted"
        and posted["number"] == "记-2026-03-0001"
        and posted["log_index"] == 0
    )
    assert [e["action"] for e in posted["history"]] == [
        "created",
        "submitted",
        "approved",
        "posted",
    ]

    en = preparer.get(f"/vouchers/{vid}", headers={"Accept-Language": "en"}).get_json()
    assert en["lines"][0]["account_name"] == "Bank deposits"

    # Correction: a red reversal, reviewed and posted like any other voucher.
    r = preparer.post(f"/vouchers/{vid}/reverse", {"date": "2026-03-20"})
    assert r.status_code == 201
    red = r.get_json()
    assert red["kind"] == "reversal" and red["reverses_id"] == vid
    assert red["lines"][0]["debit"] == "-1234.56" and red["lines"][0]["debit_minor"] == -123456
    preparer.post(f"/vouchers/{red['id']}/submit")
    reviewer.post(f"/vouchers/{red['id']}/approve")
    assert reviewer.post(f"/vouchers/{red['id']}/post").get_json()["number"] == "记-2026-03-0002"
    assert preparer.get(f"/vouchers/{vid}").get_json()["reversed_by_id"] == red["id"]
    db.session.refresh(book)
    assert book.log_size == 2


def test_draft_is_replaced_with_put_and_rejected_back(api):
    preparer, reviewer = api("preparer"), api("reviewer")
    vid = preparer.post("/vouchers", body()).get_json()["id"]
    new_lines = [
        {"account": "1002", "debit": "10"},
        {"account": "5001", "credit": "4.5"},
        {"account": "5001", "credit": "5.50"},
    ]
    r = preparer.put(f"/vouchers/{vid}", body(new_lines, summary="改正金额"))
    assert r.status_code == 200, r.get_json()
    v = r.get_json()
    assert v["summary"] == "改正金额" and [ln["credit_minor"] for ln in v["lines"]] == [0, 450, 550]
    preparer.post(f"/vouchers/{vid}/submit")
    r = reviewer.post(f"/vouchers/{vid}/reject", {"note": "缺少发票"})
    assert r.get_json()["status"] == "draft" and r.get_json()["history"][-1]["note"] == "缺少发票"
    r = preparer.post(f"/vouchers/{vid}/discard", {"note": "重复录入"})
    assert r.get_json()["status"] == "discarded"


def test_preparer_cannot_approve_own_voucher(api):
    preparer = api("preparer")
    vid = preparer.post("/vouchers", body()).get_json()["id"]
    preparer.post(f"/vouchers/{vid}/submit")
    r = preparer.post(f"/vouchers/{vid}/approve")
    assert r.status_code == 403
    assert r.get_json()["code"] == "forbidden" and has_cjk(r.get_json()["message"])
    assert db.session.get(Voucher, vid).status == "submitted"


def test_posting_twice_is_409(api, book):
    vid = approved(api)
    reviewer = api("reviewer")
    assert reviewer.post(f"/vouchers/{vid}/post").status_code == 200
    r = reviewer.post(f"/vouchers/{vid}/post", headers={"Accept-Language": "en"})
    assert r.status_code == 409
    assert "posted" in r.get_json()["message"]
    db.session.refresh(book)
    assert book.log_size == 1


def test_editing_a_posted_voucher_is_409_and_changes_nothing(api):
    vid = approved(api)
    api("reviewer").post(f"/vouchers/{vid}/post")
    preparer = api("preparer")
    r = preparer.put(f"/vouchers/{vid}", body(summary="偷偷改"))
    assert r.status_code == 409 and r.get_json()["code"] == "conflict"
    for action in ("submit", "discard"):
        assert preparer.post(f"/vouchers/{vid}/{action}").status_code == 409
    r = api("admin")._call("DELETE", f"/vouchers/{vid}")  # there is no deleting, posted or not
    assert r.status_code == 405 and r.get_json()["code"] == "method_not_allowed"
    db.session.expire_all()
    v = db.session.get(Voucher, vid)
    assert v.summary == "收到3月物业服务费" and v.status == "posted"


# --- bad input ---------------------------------------------------------------------------------


def _lines(debit, credit=None, **extra):
    credit = debit if credit is None else credit
    return [{"account": "1002", "debit": debit, **extra}, {"account": "5001", "credit": credit}]


BAD = {
    "unbalanced": (body(_lines("100.00", "99.99")), "differ"),
    "both sides": (
        body(
            [{"account": "1002", "debit": "1", "credit": "1"}, {"account": "5001", "credit": "1"}]
        ),
        "either a debit or a credit",
    ),
    "neither side": (
        body([{"account": "1002"}, {"account": "5001"}]),
        "either a debit or a credit",
    ),
    "zero": (body(_lines("0.00")), "more than zero"),
    "negative": (body(_lines("-5.00")), "never negative"),
    "fractional fen": (body(_lines("1.234")), "decimal places"),
    "float": (body(_lines(12.5)), "not valid"),
    "integer": (body(_lines(100)), "not valid"),
    "NaN text": (body(_lines("NaN")), "amount"),
    "Infinity text": (body(_lines("Infinity")), "amount"),
    "full-width digits": (body(_lines("１２")), "amount"),
    "not a number": (body(_lines("12元")), "not an amount"),
    "over-large": (body(_lines("100000000000000.00")), "too large"),
    "absurdly large": (body(_lines("9" * 39)), "too large"),
    "too long amount": (body(_lines("1" * 41)), "not valid"),
    "unknown account": (
        body([{"account": "9999", "debit": "1"}, {"account": "5001", "credit": "1"}]),
        "no such account",
    ),
    "parent account": (
        body([{"account": "1002", "debit": "1"}, {"account": "5001", "credit": "1"}]),
        "sub-accounts",
    ),
    "inactive account": (
        body([{"account": "100201", "debit": "1"}, {"account": "5001", "credit": "1"}]),
        "inactive",
    ),
    "unknown unit": (body(_lines("1", unit="POINTS")), "unknown unit"),
    "unknown fund": (body(_lines("1", fund="NOPE")), "no such fund"),
    "future date": (body(date="2099-01-01"), "future"),
    "closed period": (body(date="2026-01-10"), "closed"),
    "bad date": (body(date="2026-13-01"), "not valid"),
    "blank summary": (body(summary="  "), "summary"),
    "long summary": (body(summary="摘" * 301), "not valid"),
    "NUL in summary": (body(summary="a\x00b"), "not valid"),
    "unknown field": (body(colour="red"), "not valid"),
    "one line": (body([{"account": "1002", "debit": "1"}]), "at least two lines"),
    "lines not a list": (body("1002"), "not valid"),
    "resident id past 2^63": (body(_lines("1", resident_id=2**63)), "not valid"),
    "resident id as text": (body(_lines("1", resident_id="7")), "not valid"),
    "unknown resident": (body(_lines("1", resident_id=10**12)), "no such resident"),
    "negative attachments": (body(attachment_count=-1), "not valid"),
    "missing date": ({"summary": "x", "lines": _lines("1")}, "not valid"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_a_clear_4xx_in_the_users_language_and_nothing_is_stored(
    api, acct, people, book, case
):
    payload, english = BAD[case]
    if case in ("parent account", "inactive account"):
        sub = svc.add_sub_account(acct("1002"), "100201", "工商银行")
        if case == "inactive account":
            svc.set_account_active(sub, False, actor=people["admin"])
    if case == "closed period":
        svc.close_period(book, 2026, 1, actor=people["reviewer"])
    before = count_vouchers()
    zh = api("preparer").post("/vouchers", payload)
    en = api("preparer", lang="en").post("/vouchers", payload)
    for r in (zh, en):
        assert r.status_code == 422, (case, r.get_json())
        assert set(r.get_json()) == {"code", "message", "errors"} and r.get_json()["errors"]
    assert has_cjk(zh.get_json()["message"]), zh.get_json()
    en_body = en.get_json()
    assert english in en_body["message"] or english in str(en_body["errors"]), en_body
    assert count_vouchers() == before


def test_nan_and_huge_json_numbers_are_refused(api):
    preparer = api("preparer")
    before = count_vouchers()
    for raw in (
        '{"date": "2026-03-05", "summary": "x", "lines": [{"account": "1002", "debit": NaN}, {"account": "5001", "credit": Infinity}]}',
        '{"date": "2026-03-05", "summary": "x", "attachment_count": 1e400, "lines": []}',
        '{"date": "2026-03-05", "summary": "x", "attachment_count": '
        + "9" * 400
        + ', "lines": []}',
    ):
        r = preparer.post("/vouchers", data=raw, content_type="application/json")
        assert r.status_code == 422, r.get_json()
        assert r.get_json()["errors"]
    r = preparer.post("/vouchers", data="{not json", content_type="application/json")
    assert r.status_code == 400
    assert count_vouchers() == before


def test_float_amount_message_names_the_field(api):
    r = api("preparer", lang="en").post("/vouchers", body(_lines(12.5)))
    errors = r.get_json()["errors"]
    assert errors["lines"]["0"]["debit"] == ['Give amounts as text such as "1234.56".']
    r = api("preparer").post("/vouchers", body(_lines(12.5)))
    assert has_cjk(r.get_json()["errors"]["lines"]["0"]["debit"][0])


def test_amount_problem_names_the_line(api):
    r = api("preparer", lang="en").post("/vouchers", body(_lines("1.234")))
    assert r.get_json()["message"].startswith("Line 1:")
    assert "lines.1.debit" in r.get_json()["errors"]


def test_odd_ids_in_urls_are_404(api):
    preparer = api("preparer")
    for vid in ("0", str(2**63), "9" * 30, "abc"):
        assert preparer.get(f"/vouchers/{vid}").status_code == 404, vid
    assert preparer.post("/periods/99999/1/close").status_code == 404
    assert preparer.patch("/accounts/10%0002", {"active": False}).status_code == 404


# --- permissions and tenancy --------------------------------------------------------------------


def test_auditor_can_read_but_not_write(api):
    vid = approved(api)
    auditor = api("auditor")
    assert auditor.get("/accounts").status_code == 200
    assert auditor.get("/vouchers").get_json()["total"] == 1
    assert auditor.get(f"/vouchers/{vid}").status_code == 200
    assert auditor.get("/periods").status_code == 200
    before = count_vouchers()
    r = auditor.post("/vouchers", body())
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    assert auditor.post(f"/vouchers/{vid}/post").status_code == 403
    assert (
        auditor.post("/funds", {"code": "F1", "name": "x", "restricted": False}).status_code == 403
    )
    assert auditor.patch("/accounts/1002", {"active": False}).status_code == 403
    assert count_vouchers() == before and db.session.get(Voucher, vid).status == "approved"


def test_another_organisations_user_is_403_and_foreign_voucher_ids_404(
    app, api, organisation, organisation_factory, user_factory
):
    vid = approved(api)
    other_org = organisation_factory()
    svc.create_book(other_org)
    outsider = user_factory()
    grant_role(outsider, other_org, "admin")
    db.session.flush()
    mine = Api(app, other_org, outsider)
    assert mine.get("/vouchers").status_code == 200
    assert mine.get(f"/vouchers/{vid}").status_code == 404  # a voucher of another book
    assert mine.post(f"/vouchers/{vid}/post").status_code == 404
    snooping = Api(app, organisation, outsider)  # the first organisation's URLs
    for r in (
        snooping.get("/vouchers"),
        snooping.get(f"/vouchers/{vid}"),
        snooping.post(f"/vouchers/{vid}/post"),
        snooping.post("/vouchers", body()),
    ):
        assert r.status_code == 403, r.get_json()
    assert db.session.get(Voucher, vid).status == "approved"


def test_anonymous_is_401_and_session_writes_need_csrf(app, api, organisation, people):
    client = app.test_client()
    base = f"/api/v1/organisations/{organisation.id}"
    db.session.commit()  # keep the fixtures through the refused request's rollback
    assert client.get(base + "/vouchers").status_code == 401
    login(client, people["preparer"].username)
    r = client.post(base + "/vouchers", json=body())
    assert r.status_code == 400 and r.get_json()["code"] == "csrf"
    assert count_vouchers() == 0


def test_organisation_without_a_book_is_404(app, organisation_factory, user_factory):
    org = organisation_factory()
    u = user_factory()
    grant_role(u, org, "admin")
    assert Api(app, org, u).get("/accounts").status_code == 404


# --- chart, funds, lists, periods --------------------------------------------------------------


def test_chart_sub_accounts_and_deactivation(api, acct):
    preparer = api("preparer")
    chart = preparer.get("/accounts").get_json()
    bank = next(a for a in chart if a["code"] == "1002")
    assert bank == {
        "code": "1002",
        "name_zh": "银行存款",
        "name_en": "Bank deposits",
        "type": "asset",
        "normal_side": "debit",
        "parent": None,
        "level": 1,
        "active": True,
        "has_children": False,
        "restriction": None,
    }
    r = preparer.post(
        "/accounts",
        {"parent_code": "1002", "code": "100201", "name_zh": "工商银行", "name_en": "ICBC"},
    )
    assert r.status_code == 201 and r.get_json()["parent"] == "1002" and r.get_json()["level"] == 2
    assert (
        preparer.post(
            "/accounts", {"parent_code": "1002", "code": "100201", "name_zh": "重复"}
        ).status_code
        == 409
    )
    r = preparer.post("/accounts", {"parent_code": "8888", "code": "888801", "name_zh": "x"})
    assert r.status_code == 422 and "parent_code" in r.get_json()["errors"]
    assert (
        preparer.post(
            "/accounts", {"parent_code": "1002", "code": "2002x", "name_zh": "x"}
        ).status_code
        == 422
    )
    r = api("admin").patch("/accounts/100201", {"active": False})
    assert (
        r.status_code == 200
        and r.get_json()["active"] is False
        and r.get_json()["parent"] == "1002"
    )
    assert not acct("100201").active
    assert api("admin").patch("/accounts/100201", {"active": "maybe"}).status_code == 422
    assert api("admin").patch("/accounts/7777", {"active": True}).status_code == 404
    assert api("admin").patch("/accounts/100201", {"active": True, "code": "1"}).status_code == 422


def test_funds(api):
    preparer = api("preparer")
    r = preparer.post(
        "/funds", {"code": "ELDER", "name": "长者助餐基金", "restricted": True, "purpose": "助餐"}
    )
    assert r.status_code == 201 and r.get_json()["restricted"] is True
    assert (
        preparer.post("/funds", {"code": "ELDER", "name": "x", "restricted": False}).status_code
        == 409
    )
    assert (
        preparer.post("/funds", {"code": "X", "name": "x"}).status_code == 422
    )  # restricted is required
    assert [f["code"] for f in preparer.get("/funds").get_json()] == ["ELDER"]
    r = preparer.post("/vouchers", body(_lines("8", fund="ELDER")))
    assert r.status_code == 201 and r.get_json()["lines"][0]["fund"] == "ELDER"


def test_voucher_list_filters_and_pages(api, acct):
    preparer = api("preparer")
    svc.add_sub_account(acct("5001"), "500101", "物业服务收入")
    specs = [
        ("2026-03-02", "物业费 1栋", "5001"),
        ("2026-03-01", "物业费 2栋", "500101"),
        ("2026-03-03", "停车费", "5001"),
        ("2026-03-01", "100%_收款", "5001"),
    ]
    ids = []
    for date, summary, code in specs:
        if code == "5001" and acct("5001").has_children:
            code = "500101"
        r = preparer.post(
            "/vouchers",
            body(
                [{"account": "1002", "debit": "1"}, {"account": code, "credit": "1"}],
                date=date,
                summary=summary,
            ),
        )
        assert r.status_code == 201, r.get_json()
        ids.append(r.get_json()["id"])
    page = preparer.get("/vouchers").get_json()
    assert page["total"] == 4 and [v["id"] for v in page["items"]] == [
        ids[1],
        ids[3],
        ids[0],
        ids[2],
    ]
    assert preparer.get("/vouchers?q=物业费").get_json()["total"] == 2
    assert [v["id"] for v in preparer.get("/vouchers?q=%25_").get_json()["items"]] == [
        ids[3]
    ]  # literal %_
    assert (
        preparer.get("/vouchers?date_from=2026-03-02&date_to=2026-03-02").get_json()["total"] == 1
    )
    assert preparer.get("/vouchers?account=5001").get_json()["total"] == 4  # includes sub-accounts
    assert preparer.get("/vouchers?status=posted").get_json()["total"] == 0
    p2 = preparer.get("/vouchers?per_page=3&page=2").get_json()
    assert [v["id"] for v in p2["items"]] == [ids[2]] and p2["page"] == 2 and p2["per_page"] == 3
    for bad in (
        "per_page=201",
        "page=0",
        "status=lost",
        "date_from=2026-03-05&date_to=2026-03-01",
        "account=9999",
        "page=" + "9" * 30,
    ):
        r = preparer.get("/vouchers?" + bad)
        assert r.status_code == 422, (bad, r.get_json())
    vid = approved(
        api, lines=[{"account": "1002", "debit": "1"}, {"account": "500101", "credit": "1"}]
    )
    api("reviewer").post(f"/vouchers/{vid}/post")
    assert preparer.get("/vouchers?number=0001").get_json()["items"][0]["id"] == vid


def test_periods_close_reopen_and_year_end(api, people, book, acct, post):
    from tests.ledger.conftest import lines

    post(lines((acct("1002"), 50000, 0), (acct("5001"), 0, 50000)), date=dt.date(2025, 11, 3))
    reviewer, admin = api("reviewer"), api("admin")
    r = reviewer.post("/periods/2025/11/close")
    assert r.status_code == 200 and r.get_json() == {
        "year": 2025,
        "month": 11,
        "label": "2025-11",
        "closed": True,
        "voucher_count": 1,
    }
    assert reviewer.post("/periods/2025/11/close").status_code == 409
    assert reviewer.post("/periods/2025/13/close").status_code == 422
    assert api("preparer").post("/periods/2025/12/close").status_code == 403
    assert admin.post("/periods/2025/11/reopen", {}).status_code == 422  # a reason is required
    assert reviewer.post("/periods/2025/11/reopen", {"reason": "漏记"}).status_code == 403
    r = admin.post("/periods/2025/11/reopen", {"reason": "漏记一笔收入"})
    assert r.status_code == 200 and r.get_json()["closed"] is False
    periods = reviewer.get("/periods").get_json()
    assert periods["closed_through"] is None and periods["periods"][0]["label"] == "2025-11"

    r = reviewer.post("/year-end/2025")
    assert r.status_code == 201, r.get_json()
    closing = r.get_json()
    assert [v["kind"] for v in closing] == ["closing", "closing"] and all(
        v["status"] == "posted" for v in closing
    )
    assert {ln["account"] for ln in closing[0]["lines"]} == {"5001", "3103"}
    assert reviewer.post("/year-end/2025").status_code == 409
    assert reviewer.post("/year-end/0").status_code == 404


def test_line_details_are_masked_and_units_have_their_own_decimals(
    api, book, resident_factory, organisation
):
    svc.declare_unit(book, "PTS", "服务积分", 0)
    resident = resident_factory(community=organisation.community, name="王秀兰")
    lines = [
        {"account": "1002", "debit": "12", "unit": "PTS", "resident_id": resident.id},
        {"account": "5001", "credit": "12", "unit": "PTS"},
    ]
    r = api("preparer").post("/vouchers", body(lines))
    assert r.status_code == 201, r.get_json()
    line = r.get_json()["lines"][0]
    assert (line["debit"], line["debit_minor"], line["unit"]) == ("12", 12, "PTS")
    assert line["resident_name"] == resident.masked_name != "王秀兰"
    assert "王秀兰" not in r.get_data(as_text=True)
    assert "1390000" not in r.get_data(as_text=True)  # no phone
    assert (
        api("preparer")
        .post("/vouchers", body([dict(lines[0], debit="1.5"), dict(lines[1], credit="1.5")]))
        .status_code
        == 422
    )


def test_openapi_lists_the_ledger_paths(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    base = "/api/v1/organisations/{org_id}"
    for path in (
        "/accounts",
        "/accounts/{code}",
        "/funds",
        "/vouchers",
        "/vouchers/{voucher_id}",
        "/vouchers/{voucher_id}/post",
        "/vouchers/{voucher_id}/reverse",
        "/periods",
        "/periods/{year}/{month}/close",
        "/periods/{year}/{month}/reopen",
        "/year-end/{year}",
        "/reports/{name}",
    ):
        assert base + path in spec["paths"], path
    post = spec["paths"][base + "/vouchers"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert spec["components"]["schemas"]["LineIn"]["properties"]["debit"]["type"] == "string"


def test_lines_are_stored_in_minor_units(api):
    r = api("preparer").post("/vouchers", body(_lines("1,234.5")))
    assert r.status_code == 201
    stored = db.session.scalars(
        sa.select(VoucherLine.debit).where(VoucherLine.voucher_id == r.get_json()["id"])
    ).all()
    assert sorted(stored) == [0, 123450]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Account)) > 0


def test_deeply_nested_json_is_400_not_500(api):
    r = api("preparer").post(
        "/vouchers",
        data='{"lines": ' + "[" * 100_000 + "]" * 100_000 + "}",
        content_type="application/json",
    )
    assert r.status_code == 400 and r.get_json()["code"] == "bad_request"
    assert count_vouchers() == 0


# --- reports -----------------------------------------------------------------------------------


@pytest.fixture
def march(api, acct, post):
    """Two posted vouchers in March 2026: revenue 1234.56, then an expense of 200.00."""
    from tests.ledger.conftest import lines

    post(lines((acct("1002"), 123456, 0), (acct("5001"), 0, 123456)), date=dt.date(2026, 3, 5))
    post(lines((acct("5602"), 20000, 0), (acct("1002"), 0, 20000)), date=dt.date(2026, 3, 9))


def test_trial_balance_json_and_csv(api, march):
    auditor = api("auditor")
    r = auditor.get("/reports/trial_balance?start=2026-03-01&end=2026-03-31")
    assert r.status_code == 200, r.get_json()
    tb = r.get_json()
    assert tb["report"] == "trial_balance" and tb["balanced"] is True and tb["exponent"] == 2
    rows = {row["account"]["code"]: row for row in tb["rows"]}
    assert (rows["1002"]["debit"], rows["1002"]["credit"], rows["1002"]["closing"]) == (
        123456,
        20000,
        103456,
    )
    assert tb["totals"]["debit"] == tb["totals"]["credit"] == 143456
    r = auditor.get(
        "/reports/trial-balance?start=2026-03-01&end=2026-03-31&format=csv",
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff") and "1234.56" in text and "Code" in text.splitlines()[0]
    assert "trial_balance_2026-03-01_2026-03-31.csv" in r.headers["Content-Disposition"]


def test_other_reports_answer(api, march):
    reviewer = api("reviewer")
    rng = "start=2026-03-01&end=2026-03-31"
    bs = reviewer.get("/reports/balance_sheet?as_of=2026-03-31").get_json()
    assert bs["report"] == "balance_sheet" and all(bs["checks"].values())
    inc = reviewer.get(f"/reports/income_statement?{rng}").get_json()
    assert inc["report"] == "income_statement"
    gl = reviewer.get(f"/reports/general_ledger?{rng}&account=1002").get_json()
    assert [a["account"]["code"] for a in gl["accounts"]] == ["1002"] and gl["accounts"][0][
        "closing"
    ] == 103456
    detail = reviewer.get(f"/reports/account_detail?{rng}&account=1002").get_json()
    assert [ln["balance"] for ln in detail["lines"]] == [123456, 103456]
    assert reviewer.get(f"/reports/fund_statement?{rng}").get_json()["report"] == "fund_statement"
    bal = reviewer.get("/reports/account_balances?as_of=2026-03-06").get_json()
    assert {b["account"]["code"]: b["balance"] for b in bal["balances"]} == {
        "1002": 123456,
        "5001": -123456,
    }
    assert reviewer.get("/reports/account_balances?as_of=2026-03-31&format=csv").status_code == 200


def test_bad_report_requests_are_4xx(api, march):
    reviewer = api("reviewer")
    assert reviewer.get("/reports/profit_and_loss").status_code == 404
    for bad in (
        "trial_balance?start=2026-04-01&end=2026-03-01",
        "trial_balance?start=2026-02-30",
        "trial_balance?fund=NOPE",
        "account_detail?start=2026-03-01&end=2026-03-31",
        "account_detail?account=4444",
        "trial_balance?format=xml",
        "balance_sheet?as_of=99999-01-01",
    ):
        r = reviewer.get("/reports/" + bad)
        assert r.status_code == 422, (bad, r.get_json())
        assert r.get_json()["message"]
    org_less = api("auditor")
    org_less.base = "/api/v1/organisations/999999"
    assert org_less.get("/reports/trial_balance").status_code == 404


# --- fuzz: whatever the JSON, never a 500 -------------------------------------------------------

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_line = st.fixed_dictionaries(
    {"account": st.sampled_from(["1002", "5001", "9999", ""]) | _json},
    optional={
        "debit": st.sampled_from(["1.00", "0", "-1", "1e3", "1.001"]) | _json,
        "credit": st.sampled_from(["1.00", "NaN"]) | _json,
        "unit": _json,
        "fund": _json,
        "memo": _json,
        "resident_id": _json,
    },
)
_voucher = st.fixed_dictionaries(
    {
        "date": st.sampled_from(["2026-03-05", "2026-02-30", "0000-01-01"]) | _json,
        "summary": st.text(max_size=10) | _json,
        "lines": st.lists(_line, max_size=3) | _json,
    },
    optional={"attachment_count": _json, "extra": _json},
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=_voucher)
def test_fuzzed_voucher_bodies_never_500(api, payload):
    r = api("preparer").post("/vouchers", payload)
    assert r.status_code in (201, 400, 422), (
        payload,
        r.status_code,
        r.get_data(as_text=True)[:300],
    )
    assert set(r.get_json()) >= ({"id"} if r.status_code == 201 else {"code", "message", "errors"})


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "status",
                "date_from",
                "date_to",
                "account",
                "q",
                "number",
                "page",
                "per_page",
                "start",
                "end",
                "as_of",
                "fund",
                "unit",
                "format",
            ]
        ),
        st.text(max_size=12)
        | st.sampled_from(["2026-03-01", "0", "-1", "99999999999999999999", "posted", "csv"]),
        max_size=5,
    ),
    report=st.sampled_from(
        ["trial_balance", "balance_sheet", "general_ledger", "account_detail", "x"]
    ),
)
def test_fuzzed_query_strings_never_500(api, params, report):
    auditor = api("auditor")
    for path in ("/vouchers", f"/reports/{report}"):
        r = auditor.get(path, query_string=params)
        assert r.status_code in (200, 404, 422), (
            path,
            params,
            r.status_code,
            r.get_data(as_text=True)[:300],
        )
