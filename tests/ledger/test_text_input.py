"""HTML forms refuse NUL and bidirectional control characters in summaries, memos and names
(issue 9 item 8), with a translated 422 and nothing stored — as the API does."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import parse
from core.db import db
from core.errors import InvalidInput
from ledger.models import Account, Fund, Voucher
from tests.ledger.conftest import voucher_form
from tests.ledger.test_api import Api

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
MARKS = ["\u200e", "\u200f"]
REFUSED = ["\x00", "\x07", *BIDI, *MARKS]


@pytest.mark.parametrize("ch", REFUSED)
def test_parse_text_refuses_controls_and_bidi(ch):
    with pytest.raises(InvalidInput) as e:
        parse.text(f"付款{ch}exe.txt", field="summary", max_length=300)
    assert e.value.errors["summary"]


@pytest.mark.parametrize("ok", ["办公用品\n第二行", "tab\there", "Ünïcödé", "阿拉伯语 مرحبا"])
def test_parse_text_keeps_ordinary_text(ok):
    assert parse.text(ok, field="memo", max_length=300) == ok


def test_parse_text_refuses_lone_surrogates_and_long_text():
    with pytest.raises(InvalidInput):
        parse.text("a\udc80", field="memo", max_length=300)
    with pytest.raises(InvalidInput):
        parse.text("长" * 301, field="memo", max_length=300)


def _count(model, book) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(model).where(model.book_id == book.id)
    )


@pytest.mark.parametrize("ch", ["\x00", "\u202e", "\u2067", "\u200f"])
def test_voucher_form_refuses_them_in_summary_and_memo(client_as, organisation, book, ch):
    c = client_as("preparer")
    url = f"/books/{organisation.id}/vouchers/new"
    for over in ({"summary": f"发票{ch}fdp.exe"}, {"memo": [f"备注{ch}", ""]}):
        resp = c.post(url, data=voucher_form(c, **over))
        assert resp.status_code == 422, (over, resp.status_code)
        page = resp.get_data(as_text=True)
        assert "字符" in page  # the Chinese message, shown next to the field
    assert _count(Voucher, book) == 0
    c.set_cookie("lang", "en")
    resp = c.post(url, data=voucher_form(c, summary=f"x{ch}y"))
    assert resp.status_code == 422 and "characters" in resp.get_data(as_text=True)


def test_account_and_fund_forms_refuse_them(client_as, organisation, book, acct):
    c = client_as("admin")
    accounts, funds = _count(Account, book), _count(Fund, book)
    resp = c.post(
        f"/books/{organisation.id}/accounts",
        data={
            "csrf_token": c.csrf,
            "parent_id": str(acct("1002").id),
            "code": "100201",
            "name_zh": "工行\u202e",
            "name_en": "",
        },
    )
    assert resp.status_code == 422
    resp = c.post(
        f"/books/{organisation.id}/funds",
        data={"csrf_token": c.csrf, "fund_code": "F1", "fund_name": "助学\x00基金"},
    )
    assert resp.status_code == 422
    assert (_count(Account, book), _count(Fund, book)) == (accounts, funds)
    ok = c.post(
        f"/books/{organisation.id}/funds",
        data={"csrf_token": c.csrf, "fund_code": "F1", "fund_name": "助学基金"},
    )
    assert ok.status_code == 302


def test_the_api_refuses_bidi_as_it_refuses_nul(app, organisation, people, book):
    prep = Api(app, organisation, people["preparer"])
    for summary in ("发票\u202efdp.exe", "发票\x00"):
        r = prep.post(
            "/vouchers",
            {
                "date": "2026-03-05",
                "summary": summary,
                "lines": [
                    {"account": "1002", "debit": "1.00"},
                    {"account": "5001", "credit": "1.00", "memo": "ok"},
                ],
            },
        )
        assert r.status_code == 422, r.get_json()
        assert "summary" in r.get_json()["errors"]
    assert _count(Voucher, book) == 0


def test_resident_names_refuse_them(client_as, organisation):
    c = client_as("admin")
    resp = c.post(
        f"/communities/{organisation.community_id}/residents",
        data={"csrf_token": c.csrf, "name": "王\u202e兰"},
    )
    assert resp.status_code == 422


def test_search_text_with_nul_is_refused_not_a_database_error(client_as, organisation, book):
    c = client_as("auditor")
    for args in ({"q": "发票\x00"}, {"account": "10\x00"}, {"status": "draft\x00"}):
        resp = c.get(f"/books/{organisation.id}/vouchers", query_string=args)
        assert resp.status_code == 422, (args, resp.status_code)
    resp = c.get(
        f"/books/{organisation.id}/reports/account-detail", query_string={"account": "1002\x00"}
    )
    assert resp.status_code == 422


def test_login_with_nul_is_refused_not_a_database_error(client):
    from tests.conftest import csrf_token

    token = csrf_token(client)
    resp = client.post(
        "/login", data={"username": "admin\x00", "password": "x\x00", "csrf_token": token}
    )
    assert 400 <= resp.status_code < 500


def test_attachment_names_lose_bidi_controls():
    from ledger.attachments import clean_filename

    name = clean_filename("发票\u202efdp.exe", "application/pdf")
    assert name == "发票_fdp.exe" and not set(name) & parse.BIDI_CONTROLS
    assert clean_filename("\u2066\u2069", "application/pdf") == "attachment.pdf"


def test_nul_in_address_parts_is_not_a_database_error(app, client, organisation, people, book):
    admin = Api(app, organisation, people["admin"])
    resp = admin.patch("/accounts/10%0002", {"active": False})
    assert resp.status_code in (404, 422), resp.status_code
    assert client.get("/public/c/x%00y").status_code == 404
