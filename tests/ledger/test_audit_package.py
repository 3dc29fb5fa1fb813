"""The audit package (ledger/audit_package.py), the PDF downloads of the staff pages and the
API, and the CLI commands `flask ledger pdf` and `flask ledger audit-package`."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import subprocess
import zipfile

import pytest

from core.months import Month
from ledger import services as svc
from ledger.attachments import add_attachment
from ledger.audit_package import audit_package
from tests.ledger.conftest import lines
from tests.transparency.publicdata import pdf_text, requires_poppler

pytestmark = requires_poppler

D = dt.date
MARCH = Month(2025, 3)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def month_book(book, acct, post, people):
    post(
        lines((acct("1002"), 50000000, 0), (acct("3001"), 0, 50000000)),
        date=D(2025, 3, 1),
        summary="股东投入资本",
    )
    v = svc.create_voucher(
        book,
        svc.VoucherInput(
            D(2025, 3, 9),
            "支付房租",
            lines((acct("5602"), 1234567, 0), (acct("1002"), 0, 1234567)),
        ),
        actor=people["preparer"],
    )
    add_attachment(v, "invoice.png", "image/png", PNG, actor=people["preparer"])
    svc.submit_voucher(v, actor=people["preparer"])
    svc.approve_voucher(v, actor=people["reviewer"])
    svc.post_voucher(v, actor=people["reviewer"])
    return book


def test_the_package_holds_statements_vouchers_attachments_and_sums(
    organisation, month_book, tmp_path
):
    data = audit_package(month_book, MARCH)
    z = zipfile.ZipFile(io.BytesIO(data))
    names = z.namelist()
    assert "README.txt" in names and "SHA256SUMS" in names
    assert "trial-balance.csv" in names and "vouchers.csv" in names
    assert "audit-trail.csv" in names and "checkpoint.txt" in names
    pdfs = [n for n in names if n.startswith("statements/") and n.endswith(".pdf")]
    assert any("balance-sheet" in n for n in pdfs) and any("vouchers" in n for n in pdfs)
    assert [n for n in names if n.startswith("attachments/")] == [
        next(n for n in names if n.startswith("attachments/记-2025-03-0002/"))
    ]
    # every file's SHA-256 is listed and right
    for line in z.read("SHA256SUMS").decode().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(z.read(name)).hexdigest() == digest
    # vouchers.csv re-totals to the trial balance's movements
    rows = list(csv.DictReader(io.StringIO(z.read("vouchers.csv").decode("utf-8-sig"))))
    debit = sum(int(r["debit"].replace(".", "") or 0) for r in rows)
    assert debit == 50000000 + 1234567
    readme = z.read("README.txt").decode()
    assert "核验方法" in readme and "How to verify" in readme
    # where to check it: the organisation's own page and the standalone verifier, as URLs
    assert f"/public/o/{organisation.id}" in readme and "/verify/commons_verify.py" in readme
    assert "{" not in readme and "python -m transparency" not in readme
    text, _fonts, pages = pdf_text(z.read(pdfs[0]), tmp_path)
    assert "资产负债表" in text and pages >= 1


def test_an_auditor_downloads_the_package_and_pdfs_from_the_staff_pages(
    client_as, organisation, month_book, tmp_path
):
    c = client_as("auditor")
    page = c.get(f"/books/{organisation.id}/reports").get_data(as_text=True)
    assert "audit-package?month=2025-03" in page
    r = c.get(f"/books/{organisation.id}/audit-package?month=2025-03")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(r.data)).read("README.txt")
    r = c.get(f"/books/{organisation.id}/reports/trial-balance?month=2025-03&format=pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text, _f, _p = pdf_text(r.data, tmp_path)
    assert "科目余额表" in text and "12,345.67" in text
    r = c.get(f"/books/{organisation.id}/voucher-printout?voucher=记-2025-03-0002")
    assert r.status_code == 200
    text, _f, _p = pdf_text(r.data, tmp_path, "v.pdf")
    assert "壹万贰仟叁佰肆拾伍元陆角柒分" in re.sub(r"\s+", "", text)
    assert "附单据1张" in re.sub(r"\s+", "", text)


def test_bad_months_and_unknown_vouchers_are_clear_4xx(client_as, organisation, month_book):
    c = client_as("auditor")
    assert c.get(f"/books/{organisation.id}/audit-package").status_code == 422
    assert c.get(f"/books/{organisation.id}/audit-package?month=2025-13").status_code == 422
    assert c.get(f"/books/{organisation.id}/voucher-printout?voucher=nope").status_code == 404


def test_the_api_gives_a_statement_pdf(client_as, organisation, month_book, tmp_path):
    c = client_as("auditor")
    base = f"/api/v1/organisations/{organisation.id}/pdf"
    r = c.get(f"{base}/income-statement?period=2025-03")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text, _f, _p = pdf_text(r.data, tmp_path)
    assert "利润表" in text and "12,345.67" in text
    assert c.get(f"{base}/nope?period=2025-03").status_code == 404
    assert c.get(f"{base}/trial-balance?period=March").status_code == 422


def test_cli_pdf_and_audit_package(runner, month_book, tmp_path):
    out = tmp_path / "tb.pdf"
    r = runner.invoke(
        args=[
            "ledger",
            "pdf",
            "--book",
            str(month_book.id),
            "--statement",
            "trial-balance",
            "--period",
            "2025-03",
            "-o",
            str(out),
        ]
    )
    assert r.exit_code == 0, r.output
    text, _f, _p = pdf_text(out.read_bytes(), tmp_path, "x.pdf")
    assert "科目余额表" in text


def test_cli_audit_package(runner, month_book, tmp_path):
    # (one command a test: an audited command rolls the test's data back when it ends)
    zip_out = tmp_path / "p.zip"
    r = runner.invoke(
        args=[
            "ledger",
            "audit-package",
            "--book",
            str(month_book.id),
            "--period",
            "2025-03",
            "-o",
            str(zip_out),
        ]
    )
    assert r.exit_code == 0, r.output
    assert "vouchers.csv" in zipfile.ZipFile(zip_out).namelist()


def test_cli_cash_flow_and_a_bad_period(runner, month_book, tmp_path):
    out = tmp_path / "x.pdf"
    book = str(month_book.id)
    args = ["ledger", "pdf", "--book", book, "-o", str(out), "--period"]
    r = runner.invoke(args=[*args, "2025-03", "--statement", "cash-flow"])
    assert r.exit_code == 0, r.output
    assert (
        "现金流量表"
        in subprocess.run(
            ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
        ).stdout
    )
    r = runner.invoke(args=[*args, "2025/03", "--statement", "trial-balance"])
    assert r.exit_code == 1 and "YYYY-MM" in r.output
