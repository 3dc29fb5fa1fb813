"""CSV formula injection (issue 9 item 5): every CSV the app writes, staff and public, goes
through ``core.downloads.csv_text``. Text cells that a spreadsheet would run (``=``, ``+``,
``-``, ``@``, tab, CR) are prefixed with an apostrophe; amount cells stay plain numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from core.downloads import csv_cell, csv_text
from ledger import services as svc
from tests.ledger.conftest import lines

HOSTILE = ['=HYPERLINK("http://x.cn","a")', "+1", "-cmd", "@SUM(A1:A9)"]


def _cells(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _runs_a_formula(cell: str) -> bool:
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _plain_number(cell)


def _plain_number(cell: str) -> bool:
    try:
        Decimal(cell)
    except ArithmeticError:
        return False
    return cell.lstrip("-").replace(".", "", 1).isdigit()


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("  =1", "'  =1"),
        ("-12.00", "-12.00"),  # an amount: stays a number
        ("1234", "1234"),
        ("-0.05", "-0.05"),
        ("-1e3", "'-1e3"),  # not a plain decimal: text, escaped
        ("办公用品", "办公用品"),
        ("", ""),
        (None, ""),
        (-1200, -1200),
        (Decimal("-1.50"), Decimal("-1.50")),
    ],
)
def test_csv_cell(value, written):
    assert csv_cell(value) == written


def test_csv_text_is_bom_crlf_and_escaped():
    text = csv_text([["a", "=1"], [-5, "-5.00"]])
    assert text == "\ufeffa,'=1\r\n-5,-5.00\r\n"


@pytest.fixture
def hostile_book(book, people, acct, post):
    """A fund, a sub-account and summaries named like formulas; posted in March 2026."""
    funds = [
        svc.create_fund(book, code, name, restricted=False, actor=people["admin"])
        for code, name in zip(HOSTILE, reversed(HOSTILE), strict=True)
    ]
    sub = svc.add_sub_account(acct("1002"), "100201", HOSTILE[0], HOSTILE[3], actor=people["admin"])
    for i, summary in enumerate(HOSTILE):
        post(
            lines(
                (sub, 1000 + i, 0, {"fund_id": funds[i].id}),
                (acct("5001"), 0, 1000 + i, {"fund_id": funds[i].id}),
            ),
            summary=summary,
            date=dt.date(2026, 3, 5 + i),
        )
    post(lines((acct("5001"), 1200, 0), (sub, 0, 1200)), summary="冲回", date=dt.date(2026, 3, 20))
    return book


@pytest.mark.parametrize(
    "name",
    [
        "trial-balance",
        "general-ledger",
        "account-detail",
        "fund-statement",
        "account-balances",
        "balance-sheet",
        "income-statement",
    ],
)
def test_staff_report_csv_escapes_every_text_cell(client_as, organisation, hostile_book, name):
    c = client_as("auditor")
    resp = c.get(
        f"/books/{organisation.id}/reports/{name}",
        query_string={
            "start": "2026-03-01",
            "end": "2026-03-31",
            "as_of": "2026-03-31",
            "account": "100201",
            "format": "csv",
        },
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    rows = _cells(resp.data)
    flat = [cell for row in rows for cell in row]
    assert not [cell for cell in flat if _runs_a_formula(cell)], flat
    if name in ("trial-balance", "general-ledger", "account-detail", "account-balances"):
        assert "'" + HOSTILE[0] in flat  # the sub-account's name, escaped, not dropped
    if name == "account-detail":
        assert {"'+1", "'-cmd", "'@SUM(A1:A9)"} <= set(flat)  # summaries
    if name == "fund-statement":
        assert {"'+1", "'-cmd", "'@SUM(A1:A9)", "'" + HOSTILE[0]} <= set(flat)  # codes, names


def test_a_negative_amount_stays_a_number(client_as, organisation, hostile_book):
    c = client_as("auditor")
    resp = c.get(
        f"/books/{organisation.id}/reports/account-balances",
        query_string={"as_of": "2026-03-31", "format": "csv"},
    )
    rows = _cells(resp.data)
    revenue = next(r for r in rows if r[0] == "5001")
    assert revenue[-1].startswith("-") and _plain_number(revenue[-1]), revenue


def test_api_report_csv_escapes_too(app, organisation, people, hostile_book):
    from tests.ledger.test_api import Api

    r = Api(app, organisation, people["auditor"]).get(
        "/reports/fund_statement",
        query_string={"start": "2026-03-01", "end": "2026-03-31", "format": "csv"},
    )
    assert r.status_code == 200
    flat = [cell for row in _cells(r.data) for cell in row]
    assert "'+1" in flat and not [cell for cell in flat if _runs_a_formula(cell)]


def test_public_report_csv_escapes_summaries_and_fund_codes_but_not_amounts():
    import json
    from types import SimpleNamespace

    from transparency.disclosure import report_csv

    records = [
        {
            "index": i,
            "number": f"记-2026-03-000{i + 1}",
            "date": "2026-03-05",
            "kind": "normal",
            "summary": text,
            "lines": [
                {"account": "1002", "fund": text, "unit": "CNY", "debit": 1200, "credit": 0},
                {"account": "5001", "fund": None, "unit": "CNY", "debit": -1200, "credit": 0},
            ],
            "reverses": None,
            "private": None,
        }
        for i, text in enumerate(HOSTILE)
    ]
    bundle = {
        "period": {"end": "2026-03-31"},
        "carried_records": [],
        "log": {"records": records},
    }
    rows = _cells(report_csv(SimpleNamespace(bundle=json.dumps(bundle))).encode("utf-8"))
    flat = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in flat if _runs_a_formula(cell)], flat
    for text in HOSTILE:
        assert sum(cell == "'" + text for cell in flat) == 3  # summary (×2 lines) and fund
    assert "-12.00" in flat  # an amount (in yuan) stays a number
