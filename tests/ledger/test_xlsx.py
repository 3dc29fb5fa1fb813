"""XLSX exports of every staff report (issue 16 item 6): read back with openpyxl, every figure
re-totalled to the fen against the JSON report; numbers are numbers, dates are dates, text is
never a formula; the header row is frozen; Chinese headers, English with the language switch.
Big exports go through a background job (core.jobs)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core import jobs
from core.db import db
from ledger import reports
from ledger.reports.render import XLSX_MIMETYPE, to_xlsx
from tests.ledger.conftest import lines

D = dt.date
FEN = Decimal("0.01")


def fen(value) -> int:
    """A cell's amount in fen; it must be a number (never text)."""
    assert isinstance(value, int | float | Decimal), f"not a number: {value!r}"
    return int((Decimal(str(value)) / FEN).to_integral_value())


def sheet(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    return wb.worksheets[0]


def rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.fixture
def march(book, acct, post):
    """An SME book's March 2026: capital, a sale, rent, petty cash, a summary that looks like
    a formula."""
    a = {c: acct(c) for c in ("1001", "1002", "3001", "5001", "5602")}
    post(lines((a["1002"], 50_000_000, 0), (a["3001"], 0, 50_000_000)), date=D(2026, 3, 1))
    post(
        lines((a["1002"], 11_300_007, 0), (a["5001"], 0, 11_300_007)),
        date=D(2026, 3, 5),
        summary="销售收入",
    )
    post(
        lines((a["5602"], 2_000_050, 0), (a["1002"], 0, 2_000_050)),
        date=D(2026, 3, 10),
        summary="=1+1 房租",
    )
    post(lines((a["1001"], 500_001, 0), (a["1002"], 0, 500_001)), date=D(2026, 3, 15))
    return a


START, END = D(2026, 3, 1), D(2026, 3, 31)


def test_trial_balance_xlsx_retotals_to_the_json(book, march):
    tb = reports.trial_balance(book, start=START, end=END)
    j = reports.to_json(tb)
    ws = sheet(to_xlsx(tb, sheet="科目余额表"))
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    table = rows(ws)
    assert table[0][:3] == ["科目编码", "科目名称", "级次"]
    keys = (
        "opening_debit",
        "opening_credit",
        "debit",
        "credit",
        "closing_debit",
        "closing_credit",
    )
    by_code = {r["account"]["code"]: r for r in j["rows"]}
    body, total = table[1:-1], table[-1]
    assert len(body) == len(j["rows"])
    for row in body:
        want = by_code[row[0]]
        assert row[2] == want["level"] and isinstance(row[2], int)
        assert [fen(v) for v in row[3:9]] == [want[k] for k in keys]
    assert total[0] == "合计"
    assert [fen(v) for v in total[3:9]] == [j["totals"][k] for k in keys]
    # re-totalled: the first-level rows add up to the total row, to the fen
    level1 = [r for r in body if r[2] == 1]
    for i in range(3, 9):
        assert sum(fen(r[i]) for r in level1) == fen(total[i])
    amount_cell = ws.cell(row=2, column=4)
    assert amount_cell.number_format == "#,##0.00" and amount_cell.data_type == "n"


def test_statements_xlsx_every_line_to_the_fen(book, march):
    for st in (
        reports.balance_sheet(book, as_of=END),
        reports.income_statement(book, start=START, end=END),
    ):
        j = reports.to_json(st)
        table = rows(sheet(to_xlsx(st)))
        assert table[0][:2] == ["项目", "行次"]
        assert table[0][2:] == [c["label_zh"] for c in j["columns"]]
        assert len(table) - 1 == len(j["lines"])
        for row, line in zip(table[1:], j["lines"], strict=True):
            assert row[0] == line["label_zh"]
            assert row[1] == line["line_no"]
            for cell, want in zip(row[2:], line["amounts"], strict=True):
                if want is None:
                    assert cell is None
                else:
                    assert fen(cell) == want
    sale = reports.to_json(reports.income_statement(book, start=START, end=END))
    assert any(
        any(a == 11_300_007 for a in ln["amounts"] if a is not None) for ln in sale["lines"]
    ), "the sale's 113,000.07 is on the income statement"


def test_general_ledger_and_account_detail_xlsx(book, march):
    gl = reports.general_ledger(book, start=START, end=END)
    j = reports.to_json(gl)
    table = rows(sheet(to_xlsx(gl)))
    month_rows = [r for r in table[1:] if r[3] == "本月合计"]
    debit = sum(fen(r[4]) for r in month_rows)
    credit = sum(fen(r[5]) for r in month_rows)
    assert debit == sum(a["debit"] for a in j["accounts"]) == 63_800_058
    assert credit == sum(a["credit"] for a in j["accounts"])
    opening_row = next(r for r in table[1:] if r[3] == "期初余额")
    assert isinstance(opening_row[2], dt.datetime) and opening_row[2].date() == START

    detail = reports.account_detail(book, march["1002"], start=START, end=END)
    jd = reports.to_json(detail)
    ws = sheet(to_xlsx(detail))
    table = rows(ws)
    movement = table[2:-1]  # after the opening row, before the period total
    assert len(movement) == len(jd["lines"])
    assert sum(fen(r[3]) for r in movement if r[3] is not None) == jd["debit"]
    assert sum(fen(r[4]) for r in movement if r[4] is not None) == jd["credit"]
    assert fen(table[-1][6]) == abs(jd["closing"]) == 58_799_956
    assert [r[0].date() for r in movement] == [D.fromisoformat(x["date"]) for x in jd["lines"]]
    # a summary that starts with "=" is text in the workbook, never a formula
    rent = next(r for r in movement if r[2] and r[2].startswith("="))
    assert rent[2] == "=1+1 房租"
    cell = next(c for c in ws["C"] if c.value == "=1+1 房租")
    assert cell.data_type == "s"


def test_fund_statement_and_balances_xlsx(book, march):
    fs = reports.fund_statement(book, start=START, end=END)
    j = reports.to_json(fs)
    table = rows(sheet(to_xlsx(fs)))
    assert table[-1][0] == "合计"
    keys = ("opening", "revenue", "expense", "transfers", "closing")
    assert [fen(v) for v in table[-1][3:8]] == [j["totals"][k] for k in keys]
    bal = reports.account_balances(book, as_of=END)
    table = rows(sheet(to_xlsx(bal, "en")))
    assert table[0][0] == "Code"
    assert sum(fen(r[5]) for r in table[1:]) == sum(b.balance for b in bal) == 0


def test_report_page_offers_xlsx_in_both_languages(client_as, organisation, book, march):
    c = client_as("reviewer")
    base = f"/books/{organisation.id}/reports/trial-balance?start=2026-03-01&end=2026-03-31"
    page = c.get(base).get_data(as_text=True)
    assert "format=xlsx" in page and "format=csv" in page
    r = c.get(base + "&format=xlsx")
    assert r.status_code == 200 and r.mimetype == XLSX_MIMETYPE
    assert "trial-balance_2026-03-01_2026-03-31.xlsx" in r.headers["Content-Disposition"]
    assert rows(sheet(r.data))[0][0] == "科目编码"
    c.set_cookie("lang", "en")
    r = c.get(base + "&format=xlsx")
    assert rows(sheet(r.data))[0][0] == "Code"
    assert c.get(base + "&format=xls").status_code == 422


def test_api_answers_xlsx(app, organisation, book, march, people):
    from tests.ledger.test_api import Api

    api = Api(app, organisation, people["reviewer"])
    r = api.get("/reports/income_statement?start=2026-03-01&end=2026-03-31&format=xlsx")
    assert r.status_code == 200 and r.mimetype == XLSX_MIMETYPE
    j = api.get("/reports/income_statement?start=2026-03-01&end=2026-03-31").get_json()
    table = rows(sheet(r.data))
    for row, line in zip(table[1:], j["lines"], strict=True):
        assert [None if v is None else fen(v) for v in row[2:]] == line["amounts"]


def test_a_big_export_runs_as_a_job_and_downloads(app, client_as, organisation, book, march):
    app.config["EXPORT_INLINE_MAX_LINES"] = 3  # the four vouchers' eight lines are "big"
    try:
        c = client_as("reviewer")
        url = (
            f"/books/{organisation.id}/reports/general-ledger?start=2026-03-01&end=2026-03-31"
            "&format=xlsx"
        )
        r = c.get(url)
        assert r.status_code == 303 and "/jobs/" in r.headers["Location"]
        page_url = r.headers["Location"]
        page = c.get(page_url).get_data(as_text=True)
        assert 'http-equiv="refresh"' in page and "<progress" in page
        assert c.get(url).headers["Location"] == page_url  # the same job, not a second one
        assert jobs.work(worker="test") == 1
        page = c.get(page_url).get_data(as_text=True)
        assert 'http-equiv="refresh"' not in page and "/download" in page
        job_id = int(page_url.rsplit("/", 1)[1])
        status = c.get(f"/jobs/{job_id}.json").get_json()
        assert status["status"] == "done" and status["progress"] == 100
        d = c.get(f"/jobs/{job_id}/download")
        assert d.status_code == 200 and d.mimetype == XLSX_MIMETYPE
        gl = reports.to_json(reports.general_ledger(book, start=START, end=END))
        month_rows = [row for row in rows(sheet(d.data))[1:] if row[3] == "本月合计"]
        assert sum(fen(x[4]) for x in month_rows) == sum(a["debit"] for a in gl["accounts"])
        # someone else (even a reviewer of the same book) never sees this job
        other = client_as("reviewer")
        assert other.get(f"/jobs/{job_id}/download").status_code == 404
        assert other.get(page_url).status_code == 404
    finally:
        app.config.pop("EXPORT_INLINE_MAX_LINES", None)
        db.session.rollback()


def test_a_big_api_export_answers_202_with_the_job(app, organisation, book, march, people):
    from tests.ledger.test_api import Api

    app.config["EXPORT_INLINE_MAX_LINES"] = 3
    try:
        api = Api(app, organisation, people["reviewer"])
        r = api.get(
            "/reports/account_detail?start=2026-03-01&end=2026-03-31&account=1002&format=csv"
        )
        assert r.status_code == 202
        job = r.get_json()
        assert job["status"] == "queued" and job["download_url"] is None
        assert jobs.work(worker="test") == 1
        status = api.client.get(job["status_url"], headers=api.headers).get_json()
        assert status["status"] == "done"
        d = api.client.get(status["download_url"], headers=api.headers)
        text = d.get_data(as_text=True)
        assert d.mimetype == "text/csv" and "587999.56" in text
    finally:
        app.config.pop("EXPORT_INLINE_MAX_LINES", None)


def test_bad_export_requests_are_4xx(app, organisation, book, march, people):
    from tests.ledger.test_api import Api

    api = Api(app, organisation, people["reviewer"])
    rng = "start=2026-03-01&end=2026-03-31"
    assert api.get(f"/reports/account_detail?{rng}&format=xlsx").status_code == 422
    assert api.get(f"/reports/account_detail?{rng}&account=9999&format=xlsx").status_code == 422
    assert api.get(f"/reports/trial_balance?{rng}&format=xlsb").status_code == 422
    assert (
        api.get("/reports/trial_balance?start=2026-04-01&end=2026-03-01&format=xlsx").status_code
        == 422
    )


def test_a_big_pdf_runs_as_a_job_and_downloads(app, client_as, organisation, book, march):
    """The general ledger as PDF: above PDF_INLINE_MAX_LINES the page answers with the job,
    and the job's file is the same PDF (read back: title, the preparer, a month total)."""
    import subprocess

    app.config["PDF_INLINE_MAX_LINES"] = 3
    try:
        c = client_as("reviewer")
        url = (
            f"/books/{organisation.id}/reports/general-ledger?start=2026-03-01&end=2026-03-31"
            "&format=pdf"
        )
        r = c.get(url)
        assert r.status_code == 303 and "/jobs/" in r.headers["Location"]
        job_id = int(r.headers["Location"].rsplit("/", 1)[1])
        assert jobs.work(worker="test") == 1
        d = c.get(f"/jobs/{job_id}/download")
        assert d.status_code == 200 and d.mimetype == "application/pdf"
        text = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=d.data, capture_output=True, check=True
        ).stdout.decode()
        assert "总账" in text and "本月合计" in text
        gl = reports.to_json(reports.general_ledger(book, start=START, end=END))
        from core.i18n import amount

        for account in gl["accounts"]:  # each account's debit total is printed
            assert amount(account["debit"], 2) in text
        app.config["PDF_INLINE_MAX_LINES"] = 10_000  # small again: the PDF comes at once
        r = c.get(url)
        assert r.status_code == 200 and r.mimetype == "application/pdf"
    finally:
        app.config.pop("PDF_INLINE_MAX_LINES", None)
        db.session.rollback()
