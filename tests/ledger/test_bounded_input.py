"""Bounded input (issue 9 item 4): every query-string and form number, month and date on the
ledger's pages, reports (HTML, CSV, JSON) and API is parsed by ``core.parse``. Unicode digits
(², ３, ٣), 5,000-digit strings and dates past the calendar's edge give a translated 4xx, never
a 500; dates inside the range (up to 9999-12-31, month 9999-12) are computed without overflow."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core.db import db
from ledger.models import Voucher
from tests.ledger.conftest import lines, voucher_form
from tests.ledger.test_api import Api

SUPERSCRIPT, FULL_WIDTH, ARABIC_INDIC = "²", "３", "٣"
HUGE = "1" * 5000
BAD_NUMBERS = [SUPERSCRIPT, FULL_WIDTH, ARABIC_INDIC, HUGE, "-1", "0", "1e3", "0x1", "1.0"]
BAD_DATES = [
    "0001-01-01",
    "1899-12-31",
    "２０２６-０３-０１",
    "2026-0３-01",
    "2026-02-30",
    "20260301",
    HUGE,
    "9" * 30 + "-01-01",
]
BAD_MONTHS = [
    "0001-01",
    "1899-12",
    "2026-13",
    "2026-00",
    "２０２６-０３",
    "2026-³",
    HUGE,
    "10000-01",
]
EDGE_DATES_OK = ["9999-12-31", "1900-01-01"]

HTML_REPORTS = [
    "trial-balance",
    "balance-sheet",
    "income-statement",
    "general-ledger",
    "account-detail",
    "fund-statement",
    "account-balances",
]
API_REPORTS = [n.replace("-", "_") for n in HTML_REPORTS]


@pytest.fixture
def march(post, acct):
    post(lines((acct("1002"), 123456, 0), (acct("5001"), 0, 123456)), summary="三月服务费")


@pytest.fixture
def auditor(client_as):
    return client_as("auditor")


def _is_4xx(resp) -> bool:
    return 400 <= resp.status_code < 500


# --- HTML reports ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["html", "csv", "json"])
@pytest.mark.parametrize("name", HTML_REPORTS)
def test_report_pages_refuse_bad_dates_months_and_numbers(auditor, organisation, march, name, fmt):
    base = f"/books/{organisation.id}/reports/{name}"
    cases = (
        [{"start": d} for d in BAD_DATES]
        + [{"end": d} for d in BAD_DATES]
        + [{"as_of": d} for d in BAD_DATES]
        + [{"month": m} for m in BAD_MONTHS]
        + [{"fund": n} for n in BAD_NUMBERS]
        + [{"level": n} for n in [*BAD_NUMBERS, "10"]]
    )
    for args in cases:
        resp = auditor.get(base, query_string={**args, "format": fmt, "account": "1002"})
        assert _is_4xx(resp), (args, resp.status_code, resp.get_data(as_text=True)[:300])


@pytest.mark.parametrize("fmt", ["html", "csv", "json"])
@pytest.mark.parametrize("name", HTML_REPORTS)
def test_report_pages_compute_the_calendars_last_month_and_day(
    auditor, organisation, march, name, fmt
):
    base = f"/books/{organisation.id}/reports/{name}"
    for args in (
        {"month": "9999-12"},
        {"month": "1900-01"},
        {"start": "9999-01-01", "end": "9999-12-31", "as_of": "9999-12-31"},
        {"start": "9999-12-01", "end": "9999-12-31"},
        {"start": "9999-12-31", "end": "9999-12-31"},
        {"start": "1900-01-01", "end": "1900-01-01", "as_of": "1900-01-01"},
    ):
        resp = auditor.get(base, query_string={**args, "format": fmt, "account": "1002"})
        assert resp.status_code == 200, (args, resp.get_data(as_text=True)[:400])


def test_a_whole_range_report_still_adds_up(auditor, organisation, march):
    resp = auditor.get(
        f"/books/{organisation.id}/reports/trial-balance",
        query_string={"start": "1900-01-01", "end": "9999-12-31", "format": "json"},
    )
    assert resp.status_code == 200
    assert "123456" in resp.get_data(as_text=True)


def test_report_errors_are_translated(client_as, organisation, march):
    zh = client_as("auditor").get(
        f"/books/{organisation.id}/reports/trial-balance", query_string={"start": "0001-01-01"}
    )
    assert zh.status_code == 422 and "1900-01-01" in zh.get_data(as_text=True)
    assert "日期" in zh.get_data(as_text=True)


# --- HTML lists and forms ----------------------------------------------------------------------


def test_voucher_list_refuses_bad_pages_and_dates(auditor, organisation, march):
    base = f"/books/{organisation.id}/vouchers"
    for args in [{"page": n} for n in BAD_NUMBERS] + [
        {name: d} for name in ("date_from", "date_to") for d in BAD_DATES
    ]:
        resp = auditor.get(base, query_string=args)
        assert resp.status_code == 422, (args, resp.status_code)
    for args in ({"date_from": "1900-01-01", "date_to": "9999-12-31"}, {"page": "999999"}):
        assert auditor.get(base, query_string=args).status_code == 200, args


def test_copy_of_a_voucher_with_a_bad_id_is_not_found(client_as, organisation, march):
    c = client_as("preparer")
    for bad in [*BAD_NUMBERS, str(2**63)]:
        resp = c.get(f"/books/{organisation.id}/vouchers/new", query_string={"copy": bad})
        assert resp.status_code == 404, (bad[:10], resp.status_code)


def test_period_forms_refuse_bad_months_and_years(client_as, organisation, march):
    c = client_as("admin")
    for m in BAD_MONTHS:
        resp = c.post(
            f"/books/{organisation.id}/periods/close", data={"csrf_token": c.csrf, "period": m}
        )
        assert resp.status_code == 422, (m[:10], resp.status_code)
    for y in [*BAD_NUMBERS, "1899", "10000", "9999" + SUPERSCRIPT]:
        resp = c.post(
            f"/books/{organisation.id}/periods/year_end", data={"csrf_token": c.csrf, "year": y}
        )
        assert resp.status_code == 422, (y[:10], resp.status_code)
    resp = c.post(
        f"/books/{organisation.id}/periods/close", data={"csrf_token": c.csrf, "period": "9999-12"}
    )
    assert _is_4xx(resp)  # a month in the far future cannot be closed; no overflow either
    for action, data in (("year_end", {"year": "9999"}), ("reopen", {"period": "9999-12"})):
        resp = c.post(
            f"/books/{organisation.id}/periods/{action}", data={"csrf_token": c.csrf, **data}
        )
        assert _is_4xx(resp), (action, resp.status_code)


def test_entry_form_refuses_unicode_digits_and_edge_dates(client_as, organisation, book, acct):
    c = client_as("preparer")
    url = f"/books/{organisation.id}/vouchers/new"

    def send(**over):
        return c.post(url, data=voucher_form(c, **({"attachment_count": "1"} | over)))

    for n in BAD_NUMBERS[:4]:
        assert send(attachment_count=n).status_code == 422, n[:10]
        assert send(debit=[n, ""], credit=["", "10.00"]).status_code == 422, n[:10]
        assert send(fund=[n, ""]).status_code == 422, n[:10]
    for d in BAD_DATES:
        assert send(date=d).status_code == 422, d[:20]


def test_reversal_date_is_bounded(client_as, organisation, march, book):
    v = db.session.scalars(sa.select(Voucher).where(Voucher.book_id == book.id)).first()
    c = client_as("preparer")
    for d in BAD_DATES:
        resp = c.post(
            f"/books/{organisation.id}/vouchers/{v.id}/reverse",
            data={"csrf_token": c.csrf, "date": d},
        )
        assert resp.status_code == 422, (d[:20], resp.status_code)


# --- API -----------------------------------------------------------------------------------------


@pytest.fixture
def api_auditor(app, organisation, people, book):
    return Api(app, organisation, people["auditor"])


@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize("name", API_REPORTS)
def test_api_reports_refuse_bad_dates(api_auditor, march, name, fmt):
    for field in ("start", "end", "as_of"):
        for d in BAD_DATES:
            r = api_auditor.get(
                f"/reports/{name}",
                query_string={field: d, "format": fmt, "account": "1002"},
            )
            assert r.status_code == 422, (field, d[:20], r.status_code)
    r = api_auditor.get(
        f"/reports/{name}",
        query_string={
            "start": "9999-01-01",
            "end": "9999-12-31",
            "as_of": "9999-12-31",
            "format": fmt,
            "account": "1002",
        },
    )
    assert r.status_code == 200, r.get_data(as_text=True)[:300]


def test_api_voucher_list_refuses_unicode_and_huge_numbers(api_auditor, march):
    for args in (
        [{"page": n} for n in BAD_NUMBERS]
        + [{"per_page": n} for n in BAD_NUMBERS]
        + [{"date_from": d} for d in BAD_DATES]
    ):
        r = api_auditor.get("/vouchers", query_string=args)
        assert r.status_code == 422, (args, r.status_code)


def test_api_refuses_edge_dates_on_vouchers(app, organisation, people, book):
    prep = Api(app, organisation, people["preparer"])
    for d in ["0001-01-01", "1899-12-31", "２０２６-０３-０１", "10000-01-01"]:
        r = prep.post(
            "/vouchers",
            {
                "date": d,
                "summary": "x",
                "lines": [
                    {"account": "1002", "debit": "1.00"},
                    {"account": "5001", "credit": "1.00"},
                ],
            },
        )
        assert r.status_code == 422, (d, r.status_code)


def test_api_period_months_are_bounded(app, organisation, people, book):
    admin = Api(app, organisation, people["admin"])
    for path in ("/periods/1899/12/close", "/periods/2026/13/close", "/periods/9999/12/close"):
        assert _is_4xx(admin.post(path)), path
    for path in ("/year-end/1", "/year-end/1899", "/year-end/9999", "/periods/9999/12/reopen"):
        assert _is_4xx(admin.post(path)), path


def test_today_is_not_a_boundary(auditor, organisation, march):
    today = dt.date.today().isoformat()
    resp = auditor.get(
        f"/books/{organisation.id}/reports/trial-balance", query_string={"end": today}
    )
    assert resp.status_code == 200
