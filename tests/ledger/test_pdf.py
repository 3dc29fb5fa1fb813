"""Ledger PDFs (ledger/pdf.py) read back with poppler: the text holds the title, the form
number, the period and the totals the JSON report gives; the CJK font travels with the file;
page counts are sane; the 记账凭证's 大写 total is right."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core.months import Month
from ledger import pdf as ledger_pdf
from ledger import reports
from tests.ledger.conftest import lines
from tests.transparency.publicdata import pdf_text, requires_poppler
from tests.transparency.test_pdf import cjk_fonts_embedded

pytestmark = requires_poppler

Y = 2025
D = dt.date
MARCH = Month(Y, 3)


def yuan(text: str) -> int:
    whole, _, frac = text.replace(",", "").partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


@pytest.fixture
def sme(book, acct, post):
    """A community enterprise's March 2025 (小企业会计准则)."""
    a = {c: acct(c) for c in ("1001", "1002", "1122", "2221", "3001", "5001", "5602")}
    post(
        lines((a["1002"], yuan("500,000"), 0), (a["3001"], 0, yuan("500,000"))),
        date=D(Y, 3, 1),
        summary="股东投入资本",
    )
    post(
        lines(
            (a["1002"], yuan("113,000"), 0),
            (a["5001"], 0, yuan("100,000")),
            (a["2221"], 0, yuan("13,000")),
        ),
        date=D(Y, 3, 5),
        summary="销售收入",
    )
    post(
        lines((a["5602"], yuan("100,005.07"), 0), (a["1002"], 0, yuan("100,005.07"))),
        date=D(Y, 3, 10),
        summary="支付办公室房租",
    )
    return a


def _text(data: bytes, tmp_path, name="doc.pdf"):
    assert data.startswith(b"%PDF-")
    text, fonts, pages = pdf_text(data, tmp_path, name)
    assert cjk_fonts_embedded(fonts), fonts
    squeezed = re.sub(r"\s+", "", text)
    for n in range(1, pages + 1):
        assert f"第{n}页/共{pages}页" in squeezed, (n, pages)
    return text, pages


def test_balance_sheet_pdf_has_form_period_and_the_json_totals(book, sme, organisation, tmp_path):
    body = ledger_pdf.statement_pdf(book, "balance-sheet", MARCH)
    text, pages = _text(body, tmp_path)
    data = reports.to_json(reports.balance_sheet(book, as_of=MARCH.last_day))
    assert "资产负债表" in text and "会小企01表" in text
    assert "2025年3月31日" in text and "单位：元" in text
    assert organisation.name in text
    assert "单位负责人" in text and "会计机构负责人" in text and "制表人" in text
    # Total assets as the JSON report gives it
    total = next(ln for ln in data["lines"] if ln["kind"] == "total")
    amount = total["amounts"][0]
    assert f"{amount // 100:,}.{amount % 100:02d}" in text
    assert pages <= 2  # 53 lines a side, landscape


def test_income_statement_pdf_shows_the_month(book, sme, tmp_path):
    text, _pages = _text(ledger_pdf.statement_pdf(book, "income-statement", MARCH), tmp_path)
    assert "利润表" in text and "会小企02表" in text and "2025年3月" in text
    assert "100,000.00" in text and "100,005.07" in text


def test_trial_balance_pdf_keeps_account_names_on_one_line(book, sme, tmp_path):
    text, _pages = _text(ledger_pdf.statement_pdf(book, "trial-balance", MARCH), tmp_path)
    tb = reports.trial_balance(book, start=MARCH.first_day, end=MARCH.last_day)
    assert "科目余额表" in text
    # The name column is wide enough: whole names on the line of their code.
    assert re.search(r"1002\s+银行存款", text), text[:2000]
    assert re.search(r"5602\s+管理费用", text)
    total = tb.totals.debit
    assert f"{total // 100:,}.{total % 100:02d}" in text


def test_voucher_printout_has_capitals_attachments_and_people(book, sme, people, tmp_path):
    text, pages = _text(ledger_pdf.statement_pdf(book, "voucher", MARCH), tmp_path)
    assert "记账凭证" in text
    assert "壹拾万零伍元零柒分" in text  # 100,005.07
    assert "伍拾万元整" in text
    assert "附单据" in text
    assert people["preparer"].username in text or people["preparer"].display_name in text
    assert pages == 2  # three vouchers, two per page
    one, _ = _text(
        ledger_pdf.statement_pdf(book, "voucher", MARCH, voucher_number="记-2025-03-0003"),
        tmp_path,
        "one.pdf",
    )
    assert "壹拾万零伍元零柒分" in one and "伍拾万元整" not in one


def test_an_empty_month_is_a_clear_empty_statement(book, tmp_path):
    text, pages = _text(ledger_pdf.statement_pdf(book, "general-ledger", Month(Y, 7)), tmp_path)
    assert "总账" in text and "本期无数据" in text and pages == 1


def test_general_ledger_and_english(book, sme, tmp_path):
    text, _ = _text(ledger_pdf.statement_pdf(book, "general-ledger", MARCH), tmp_path)
    assert "银行存款" in text and "本月合计" in text and "本年累计" in text
    en = ledger_pdf.statement_pdf(book, "trial-balance", MARCH, lang="en")
    text_en, fonts, pages = pdf_text(en, tmp_path, "en.pdf")
    assert "Trial balance" in text_en and f"Page 1 of {pages}" in text_en


def test_a_long_general_ledger_renders_in_parallel_chunks_numbered_across(
    book, sme, tmp_path, monkeypatch
):
    from core import pdf as core_pdf

    if not core_pdf.parallel_available():
        pytest.skip("pypdf or a second core is missing: the serial path is tested above")
    monkeypatch.setattr(ledger_pdf, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(ledger_pdf, "CHUNK_ROWS", 3)
    calls = []
    real = core_pdf.render_pdf_chunks

    def counting(parts, **kw):
        calls.append(len(parts))
        return real(parts, **kw)

    monkeypatch.setattr(ledger_pdf, "render_pdf_chunks", counting)
    gl = reports.general_ledger(book, start=MARCH.first_day, end=MARCH.last_day)
    text, pages = _text(ledger_pdf.report_pdf(book, gl), tmp_path)  # numbers checked in _text
    assert calls and calls[0] >= 2
    for la in gl.accounts:
        assert la.account.name_zh in text
    squeezed = re.sub(r"\s+", "", text)
    assert squeezed.count("单位负责人") == 1 and squeezed.count("编制单位") == 1


from tests.ledger.test_reports import npo  # noqa: E402,F401  (fixture: a foundation's March)


def test_npo_activities_pdf_groups_its_restriction_columns(npo, tmp_path):  # noqa: F811
    b = npo["book"]
    text, pages = _text(ledger_pdf.statement_pdf(b, "income-statement", MARCH), tmp_path)
    squeezed = re.sub(r"\s+", "", text)
    assert "业务活动表" in squeezed and "会民非02表" in squeezed
    assert "本月数" in squeezed and "本年累计数" in squeezed
    assert squeezed.count("非限定性") >= 2 and "合计" in squeezed
    act = reports.to_json(reports.income_statement(b, start=MARCH.first_day, end=MARCH.last_day))
    total_revenue = next(ln for ln in act["lines"] if ln.get("line_no") == 11)
    amount = total_revenue["amounts"][2]  # this month, total
    assert f"{amount // 100:,}.{amount % 100:02d}" in text
    bs, _ = _text(ledger_pdf.statement_pdf(b, "balance-sheet", MARCH), tmp_path, "bs.pdf")
    assert "会民非01表" in re.sub(r"\s+", "", bs)
    funds, _ = _text(ledger_pdf.statement_pdf(b, "fund-statement", MARCH), tmp_path, "f.pdf")
    assert "助学基金" in funds and "社区活动基金" in funds
