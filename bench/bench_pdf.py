# SPDX-License-Identifier: AGPL-3.0-or-later
"""Benchmark: a 2,000-line general ledger (总账) as PDF (issue 16), a script, not a test.

Side by side in one run, on the same rows:

* **baseline**: a plain single-table WeasyPrint render (one ``<table>`` of every row, automatic
  table layout, a minimal stylesheet with the CJK font);
* **ours**: ``ledger.pdf.report_pdf`` (templates/pdf/ledger/general_ledger.html): one
  fixed-layout table per account, column widths given, the cycle collector paused while
  WeasyPrint lays out (``core.pdf.render_pdf``), with the full header, footer, signature lines
  and checkpoint block.

* **ours, long**: above ``PARALLEL_MIN_ROWS`` rows the accounts are split in runs rendered by
  worker processes (one a core) and joined with pypdf; the page numbers (第 N 页 / 共 M 页) are
  laid over the joined pages from a blank document of as many pages.

The general ledger is built in memory (``ledger.reports.GeneralLedger`` of synthetic accounts,
12 months each: 1 opening row + 2 rows a month = 25 rows an account), so the figures measure
the rendering alone. ``--rows 20000`` renders a big one and reports peak memory (ru_maxrss).
Target: ours ≤ 0.5 × baseline.

Usage::

    .venv/bin/python bench/bench_pdf.py [--rows 2000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import logging
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet  # noqa: E402

from core.app import create_app  # noqa: E402
from core.months import Month  # noqa: E402
from ledger import pdf as ledger_pdf  # noqa: E402
from ledger.models import Account  # noqa: E402
from ledger.reports import GeneralLedger, LedgerAccount, LedgerMonth  # noqa: E402

NAMES = ["银行存款", "库存现金", "应收账款", "其他应收款", "应付账款", "管理费用", "主营业务收入"]


def synthetic_ledger(rows: int) -> GeneralLedger:
    rng = random.Random(16)
    n_accounts = max(1, round(rows / 25))
    accounts = []
    for i in range(n_accounts):
        account = Account(code=f"{1001 + i}", name_zh=f"{NAMES[i % len(NAMES)]}{i:03d}", level=1)
        opening = rng.randint(-(10**9), 10**9)
        balance, yd, yc = opening, 0, 0
        months = []
        for m in range(1, 13):
            d, c = rng.randint(0, 10**8), rng.randint(0, 10**8)
            yd, yc, balance = yd + d, yc + c, balance + d - c
            month = Month(2025, m)
            months.append(
                LedgerMonth(month.key, month.first_day, month.last_day, d, c, yd, yc, balance)
            )
        accounts.append(LedgerAccount(account=account, opening=opening, months=months))
    return GeneralLedger(
        book_id=1,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 12, 31),
        unit="CNY",
        exponent=2,
        fund_id=None,
        accounts=accounts,
    )


def baseline_html(gl: GeneralLedger) -> str:
    def amt(v: int) -> str:
        return f"{v / 100:,.2f}"

    out = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'></head><body>",
        "<h1>总账</h1><table><thead><tr><th>科目编码</th><th>科目名称</th><th>期间</th>"
        "<th>摘要</th><th>借方</th><th>贷方</th><th>借或贷</th><th>余额</th></tr></thead><tbody>",
    ]
    for la in gl.accounts:
        a = la.account
        out.append(
            f"<tr><td>{a.code}</td><td>{a.name_zh}</td><td>{gl.start}</td><td>期初余额</td>"
            f"<td></td><td></td><td>{'借' if la.opening > 0 else '贷'}</td>"
            f"<td>{amt(abs(la.opening))}</td></tr>"
        )
        for m in la.months:
            for label, d, c in (
                ("本月合计", m.debit, m.credit),
                ("本年累计", m.year_debit, m.year_credit),
            ):
                out.append(
                    f"<tr><td>{a.code}</td><td>{a.name_zh}</td><td>{m.label}</td><td>{label}</td>"
                    f"<td>{amt(d)}</td><td>{amt(c)}</td><td>{'借' if m.balance > 0 else '贷'}</td>"
                    f"<td>{amt(abs(m.balance))}</td></tr>"
                )
    out.append("</tbody></table></body></html>")
    return "".join(out)


BASELINE_CSS = (
    "@page { size: A4; margin: 18mm 12mm; } "
    "html { font-family: 'Noto Sans CJK SC', sans-serif; font-size: 9pt; } "
    "table { border-collapse: collapse; width: 100%; } "
    "th, td { border: 0.5pt solid #333; padding: 0.6mm 1.2mm; }"
)


def render_baseline(gl: GeneralLedger) -> bytes:
    from weasyprint import CSS, HTML

    return HTML(string=baseline_html(gl)).write_pdf(stylesheets=[CSS(string=BASELINE_CSS)])


def pages(data: bytes) -> int:
    """Page count by pdfinfo (poppler); 0 without it."""
    import shutil
    import subprocess

    if not shutil.which("pdfinfo"):
        return 0
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=False).stdout
    m = re.search(rb"^Pages:\s+(\d+)", info, re.M)
    return int(m.group(1)) if m else 0


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its finished children (the
    parallel chunks' workers)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, *args):
    """(result, wall seconds, CPU seconds): the machine is shared, so wall times stretch with
    other work; CPU time (ours includes its worker processes) is printed next to them."""
    gc.collect()
    w, c = time.perf_counter(), _cpu()
    out = fn(*args)
    return out, time.perf_counter() - w, _cpu() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--ours-only", action="store_true", help="skip the baseline (big runs)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "INSTANCE_PATH": str(tmp / "instance"),
            "SECRET_KEY": "bench",
            "FIELD_KEY": Fernet.generate_key().decode(),
            "ARGON2_FAST": True,
            "SERVER_NAME": "bench.invalid",
        }
    )
    gl = synthetic_ledger(args.rows)
    n_rows = sum(1 + 2 * len(la.months) for la in gl.accounts)
    book = SimpleNamespace(
        id=1, organisation_id=1, organisation=SimpleNamespace(name="基准社区企业")
    )
    proof = ledger_pdf.Proof(
        log_size=2000,
        log_root="A" * 43 + "=",
        size=2000,
        root="A" * 43 + "=",
        fingerprint="ab" * 32,
        signed_at=None,
        url="https://bench.invalid/public/o/1",
    )
    ledger_pdf.latest_checkpoint = lambda book: proof  # no database behind the synthetic book
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    base_t = ours_t = (float("inf"), float("inf"))
    with app.app_context(), app.test_request_context():
        render_baseline(synthetic_ledger(25))  # warm up fonts and caches for both
        ledger_pdf.report_pdf(book, synthetic_ledger(25))  # type: ignore[arg-type]
        for _ in range(args.repeat):
            if not args.ours_only:
                base, w, c = timed(render_baseline, gl)
                base_t = min(base_t, (w, c), key=lambda t: t[1])
            ours, w, c = timed(ledger_pdf.report_pdf, book, gl)
            ours_t = min(ours_t, (w, c), key=lambda t: t[1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"general ledger: {len(gl.accounts)} accounts, {n_rows} table rows")
    print("                                   wall s    CPU s   pages")
    if not args.ours_only:
        print(
            f"baseline (one auto-layout table): {base_t[0]:7.2f}  {base_t[1]:7.2f}  {pages(base):5d}"
        )
    print(f"ours (ledger.pdf.report_pdf):     {ours_t[0]:7.2f}  {ours_t[1]:7.2f}  {pages(ours):5d}")
    if not args.ours_only:
        print(
            f"ratio ours / baseline:            {ours_t[0] / base_t[0]:7.2f}  "
            f"{ours_t[1] / base_t[1]:7.2f}  (target <= 0.50)"
        )
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory (process / a worker): {peak:7.0f} MB / {kids:.0f} MB")
    print(
        f"parallel chunks: {'yes' if ledger_pdf.parallel_available() else 'no (pypdf or a 2nd core missing)'}"
    )


if __name__ == "__main__":
    main()
