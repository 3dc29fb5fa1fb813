"""``flask ledger import-beancount``, ``export`` and ``report trial-balance`` against outside oracles.

Expected balances never come from our code: beancount (GPL, only ever run as a separate
program) and hledger compute them from the original file and from our exports. The bulk
posting path is checked against the one-voucher-at-a-time path (same numbers, log leaves,
nodes, events and balances).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from core.db import db
from core.errors import InvalidInput
from core.models import Community, Organisation
from ledger import beancount_import as bi
from ledger import log
from ledger import services as svc
from ledger.models import (
    Account,
    AccountPeriodBalance,
    Book,
    BookUnit,
    LogNode,
    Period,
    Voucher,
    VoucherEvent,
)
from ledger.plaintext import read_beancount
from tests.ledger.conftest import lines
from tests.ledger.journal import generate_journal
from tlog import merkle

# --------------------------------------------------------------------------------------------
# Oracles: separate processes only
# --------------------------------------------------------------------------------------------


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


BEAN_CHECK = _tool("bean-check")
HLEDGER = shutil.which("hledger")
needs_beancount = pytest.mark.skipif(
    BEAN_CHECK is None, reason="beancount (bean-check) is not installed"
)
needs_hledger = pytest.mark.skipif(HLEDGER is None, reason="hledger is not installed")

# Runs in beancount's own interpreter, in its own process (beancount is GPL-2.0-only).
_ORACLE = textwrap.dedent(
    """
    import json, sys
    from beancount import loader
    from beancount.core import data

    loader.initialize(use_cache=False)
    entries, errors, options = loader.load_file(sys.argv[1])
    end = sys.argv[2] if len(sys.argv) > 2 else None
    sums = {}
    for entry in entries:
        if isinstance(entry, data.Transaction) and (end is None or str(entry.date) <= end):
            for p in entry.postings:
                key = p.account + "\\t" + p.units.currency
                sums[key] = sums.get(key, 0) + p.units.number
    print(json.dumps({"errors": [str(e.message) for e in errors],
                      "balances": {k: str(v) for k, v in sums.items()}}, ensure_ascii=False))
    """
)


def _oracle_python() -> str:
    first = Path(BEAN_CHECK).read_text(errors="replace").splitlines()[0]
    if first.startswith("#!") and "python" in first:
        return first[2:].strip().split()[0]
    return sys.executable


def beancount_balances(path: Path, end: dt.date | None = None) -> dict[tuple[str, str], Decimal]:
    """Non-zero balance per (account, commodity) according to beancount itself."""
    args = [_oracle_python(), "-c", _ORACLE, str(path)] + ([end.isoformat()] if end else [])
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["errors"] == []
    result = {tuple(k.split("\t")): Decimal(v) for k, v in out["balances"].items()}
    return {k: v for k, v in result.items() if v != 0}


def bean_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BEAN_CHECK, "--no-cache", str(path)], capture_output=True, text=True, timeout=600
    )


def hledger_balances(path: Path, *extra: str) -> dict[tuple[str, str], Decimal]:
    proc = subprocess.run(
        [HLEDGER, "-f", str(path), "bal", "-N", "--flat", "-O", "csv", *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["account", "balance"]
    result = {}
    for account, amounts in rows[1:]:
        for amount in amounts.split(", "):
            number, _, commodity = amount.strip().partition(" ")
            if Decimal(number) != 0:
                result[(account, commodity.strip('"'))] = Decimal(number)
    return result


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

BOOK_LINE = re.compile(r"^book (\d+)$", re.M)


def import_file(runner, path: Path, *extra: str, organisation: str = "幸福里社区服务合作社"):
    result = runner.invoke(
        args=["ledger", "import-beancount", str(path), "--organisation", organisation, *extra]
    )
    m = BOOK_LINE.search(result.stdout)
    return result, (int(m.group(1)) if m else None)


def trial_balance_csv(runner, book_id: int, *extra: str) -> dict[tuple[str, str], Decimal]:
    result = runner.invoke(
        args=[
            "ledger",
            "report",
            "trial-balance",
            "--book",
            str(book_id),
            "--format",
            "csv",
            *extra,
        ]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["account", "commodity", "balance"]
    body = [tuple(r) for r in rows[1:]]
    assert body == sorted(body, key=lambda r: (r[0], r[1])), "rows are sorted by account"
    out = {(a, c): Decimal(b) for a, c, b in body}
    assert all(v != 0 for v in out.values())
    return out


def export(runner, book_id: int, fmt: str, path: Path) -> Path:
    result = runner.invoke(
        args=["ledger", "export", "--book", str(book_id), "--format", fmt, "-o", str(path)]
    )
    assert result.exit_code == 0, result.output
    return path


def counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Book)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)),
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """3,000 realistic transactions over 2023–2025 (all in the past)."""
    path = tmp_path_factory.mktemp("bc") / "coop.beancount"
    path.write_text(generate_journal(3000, seed=11, start=dt.date(2023, 1, 1)), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Import → trial balance, against beancount and hledger
# --------------------------------------------------------------------------------------------


@needs_beancount
@needs_hledger
def test_imported_trial_balance_equals_beancount_and_hledger_to_the_fen(
    runner, generated, tmp_path
):
    result, book_id = import_file(runner, generated)
    assert result.exit_code == 0, result.output
    assert book_id is not None
    assert "vouchers 3000" in result.stdout
    ours = trial_balance_csv(runner, book_id)

    theirs = beancount_balances(generated)
    assert len(theirs) > 20
    assert ours == theirs

    hl = export(runner, book_id, "hledger", tmp_path / "book.journal")
    assert hledger_balances(hl) == ours

    bc = export(runner, book_id, "beancount", tmp_path / "book.beancount")
    proc = bean_check(bc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert beancount_balances(bc) == ours


@needs_hledger
def test_trial_balance_as_of_a_date_inside_a_month(runner, generated, tmp_path):
    _result, book_id = import_file(runner, generated)
    hl = export(runner, book_id, "hledger", tmp_path / "book.journal")
    as_of = dt.date(2024, 6, 17)
    ours = trial_balance_csv(runner, book_id, "--as-of", as_of.isoformat())
    # hledger's end date is exclusive
    assert ours == hledger_balances(hl, "-e", (as_of + dt.timedelta(days=1)).isoformat())
    assert ours != trial_balance_csv(runner, book_id)


def test_import_builds_the_chart_from_account_names(runner, tmp_path, app):
    path = tmp_path / "small.beancount"
    path.write_text(
        textwrap.dedent("""\
        option "operating_currency" "CNY"
        2024-01-01 open Assets:1002-银行存款
        2024-01-01 open Assets:1002-银行存款:100201-工商银行 CNY
        2024-01-01 open Income:Sales:Services
        2024-01-01 open Liabilities:Points
        2024-01-01 open Expenses:Rewards
        2024-01-01 open Equity:Opening
        2024-01-02 * "张三" "服务费"
          Assets:1002-银行存款:100201-工商银行  100.50 CNY
          Income:Sales:Services
        2024-01-03 * "银行利息"
          Assets:1002-银行存款  0.50 CNY
          Assets:1002-银行存款:100201-工商银行  0 CNY
          Income:Sales:Services  -0.50 CNY
        2024-01-04 * "积分"
          Expenses:Rewards  2.5 PTS
          Liabilities:Points
        2024-02-01 close Expenses:Rewards
        """),
        encoding="utf-8",
    )
    result, book_id = import_file(runner, path, organisation="Small Coop")
    assert result.exit_code == 0, result.output
    book = db.session.get(Book, book_id)
    assert book.chart == "CUSTOM"
    org = db.session.get(Organisation, book.organisation_id)
    assert org.kind == "enterprise"
    assert db.session.get(Community, org.community_id).slug == "imports"
    accounts = {
        a.code: a for a in db.session.scalars(sa.select(Account).where(Account.book_id == book_id))
    }
    assert set(accounts) == {
        "Assets:1002-银行存款",
        "Assets:1002-银行存款:100201-工商银行",
        "Income:Sales",
        "Income:Sales:Services",
        "Liabilities:Points",
        "Expenses:Rewards",
        "Equity:Opening",
    }
    sales, services = accounts["Income:Sales"], accounts["Income:Sales:Services"]
    assert (sales.type, sales.normal_side, sales.has_children, sales.level) == (
        "revenue",
        "credit",
        True,
        1,
    )
    assert (services.parent_id, services.name_zh, services.level) == (sales.id, "Services", 2)
    bank = accounts["Assets:1002-银行存款"]
    # opened and posted to directly, as beancount allows: it keeps taking postings
    assert (bank.type, bank.normal_side, bank.has_children) == ("asset", "debit", False)
    assert accounts["Assets:1002-银行存款:100201-工商银行"].parent_id == bank.id
    assert (accounts["Liabilities:Points"].type, accounts["Equity:Opening"].type) == (
        "liability",
        "equity",
    )
    assert (accounts["Expenses:Rewards"].type, accounts["Expenses:Rewards"].normal_side) == (
        "expense",
        "debit",
    )
    assert accounts["Expenses:Rewards"].active is False  # closed in the file
    unit = db.session.scalar(sa.select(BookUnit).where(BookUnit.book_id == book_id))
    assert (unit.code, unit.exponent) == ("PTS", 1)

    vouchers = db.session.scalars(
        sa.select(Voucher).where(Voucher.book_id == book_id).order_by(Voucher.log_index)
    ).all()
    assert [v.number for v in vouchers] == ["记-2024-01-0001", "记-2024-01-0002", "记-2024-01-0003"]
    assert [v.summary for v in vouchers] == ["张三 服务费", "银行利息", "积分"]
    assert {(v.kind, v.status, v.source) for v in vouchers} == {("normal", "posted", "import")}
    assert len(vouchers[1].lines) == 2  # the zero posting moves nothing and is left out
    pts = [ln for ln in vouchers[2].lines]
    assert [(ln.unit, ln.debit, ln.credit) for ln in pts] == [("PTS", 25, 0), ("PTS", 0, 25)]

    ours = trial_balance_csv(runner, book_id)
    assert ours == {
        ("Assets:1002-银行存款", "CNY"): Decimal("0.50"),
        ("Assets:1002-银行存款:100201-工商银行", "CNY"): Decimal("100.50"),
        ("Expenses:Rewards", "PTS"): Decimal("2.5"),
        ("Income:Sales:Services", "CNY"): Decimal("-101.00"),
        ("Liabilities:Points", "PTS"): Decimal("-2.5"),
    }
    text = runner.invoke(
        args=["ledger", "report", "trial-balance", "--book", str(book_id), "--lang", "en"]
    )
    assert text.exit_code == 0
    rows = text.stdout.splitlines()
    assert rows[0].startswith("Assets:1002-银行存款 ") and rows[0].endswith("0.50 CNY")
    assert any(r.startswith("Total") and r.endswith(" 0.00 CNY") for r in rows)
    assert any(r.startswith("Total") and r.endswith(" 0.0 PTS") for r in rows)


def test_import_into_a_named_community(runner, tmp_path, community_factory):
    community = community_factory(slug="xingfuli")
    path = tmp_path / "c.beancount"
    path.write_text(
        "2024-01-01 open Assets:Cash\n2024-01-01 open Income:Fees\n"
        '2024-01-02 * "fee"\n  Assets:Cash  1.00 CNY\n  Income:Fees\n',
        encoding="utf-8",
    )
    result, book_id = import_file(runner, path, "--community", "xingfuli", organisation="Fees Coop")
    assert result.exit_code == 0, result.output
    org = db.session.get(Organisation, db.session.get(Book, book_id).organisation_id)
    assert org.community_id == community.id and org.slug == "fees-coop"
    again, book2 = import_file(runner, path, "--community", "xingfuli", organisation="Fees Coop")
    assert again.exit_code == 0
    assert (
        db.session.get(Organisation, db.session.get(Book, book2).organisation_id).slug
        == "fees-coop-2"
    )

    before = counts()
    missing, none = import_file(runner, path, "--community", "nowhere")
    assert missing.exit_code == 1 and none is None
    assert "nowhere" in missing.stderr
    assert counts() == before


# --------------------------------------------------------------------------------------------
# Bad files
# --------------------------------------------------------------------------------------------

BAD = """\
2024-01-01 open Assets:Cash CNY
2024-01-01 open Income:Sales
2024-01-02 * "unbalanced"
  Assets:Cash  10.00 CNY
  Income:Sales  -9.99 CNY
2024-01-03 * "unknown account"
  Assets:Cash  1.00 CNY
  Income:Salez  -1.00 CNY
2024-01-05 * "too precise"
  Assets:Cash  1.005 CNY
  Income:Sales
"""


def test_a_bad_file_names_each_line_and_stores_nothing(runner, tmp_path):
    path = tmp_path / "bad.beancount"
    path.write_text(BAD, encoding="utf-8")
    before = counts()
    result, book_id = import_file(runner, path)
    assert result.exit_code == 1
    assert book_id is None
    lines_ = result.stderr.strip().splitlines()
    named = sorted(
        {int(re.match(rf"{re.escape(str(path))}:(\d+): ", ln).group(1)) for ln in lines_}
    )
    assert named == [3, 8, 10]
    assert "借贷不平衡" in result.stderr  # Chinese by default
    assert counts() == before

    english = runner.invoke(
        args=["ledger", "import-beancount", str(path), "--organisation", "X", "--lang", "en"]
    )
    assert english.exit_code == 1
    assert f"{path}:3: Transaction does not balance" in english.stderr
    assert f"{path}:8: Account Income:Salez is used but never opened" in english.stderr
    assert counts() == before

    lot = tmp_path / "lot.beancount"
    lot.write_text(
        BAD.replace("  Assets:Cash  1.005 CNY", "  Assets:Cash  1 STOCK {10.00 CNY}"),
        encoding="utf-8",
    )
    refused = runner.invoke(
        args=["ledger", "import-beancount", str(lot), "--organisation", "X", "--lang", "en"]
    )
    assert refused.exit_code == 1
    assert f"{lot}:10: Not supported by Commons Ledger: cost basis" in refused.stderr
    assert counts() == before


def test_what_the_book_cannot_hold_is_refused_with_its_line(runner, tmp_path):
    path = tmp_path / "units.beancount"
    path.write_text(
        textwrap.dedent("""\
        2024-01-01 open Assets:Tokens
        2024-01-01 open Income:Tokens
        2024-01-02 * "fine"
          Assets:Tokens  1 TOKEN
          Income:Tokens
        2024-01-03 * "seven places"
          Assets:Tokens  0.0000001 TOKEN
          Income:Tokens
        """),
        encoding="utf-8",
    )
    before = counts()
    result, _ = import_file(runner, path, "--lang", "en")
    assert result.exit_code == 1
    assert (
        f"{path}:4: TOKEN is used with 7 decimal places; a unit may have at most 6."
        in result.stderr
    )
    assert counts() == before


@pytest.mark.parametrize("batch", [bi.IMPORT_BATCH, 40], ids=["one batch", "batches of 40"])
def test_future_dates_are_refused_with_their_lines_unless_allowed(
    runner, tmp_path, monkeypatch, batch
):
    # three years of transactions starting 900 days ago: the last months lie after today.
    # In batches of 40 the future ones fall in several batches, after some were written: the
    # refusal still names every one, and nothing stays.
    monkeypatch.setattr(bi, "IMPORT_BATCH", batch)
    path = tmp_path / "future.beancount"
    path.write_text(
        generate_journal(300, seed=5, start=dt.date.today() - dt.timedelta(days=900)),
        encoding="utf-8",
    )
    journal = read_beancount(path.read_text(encoding="utf-8"))
    future = [t.line for t in journal.transactions if t.date > dt.date.today()]
    assert 20 < len(future) < 200

    before = counts()
    result, book_id = import_file(runner, path, "--lang", "en")
    assert result.exit_code == 1 and book_id is None
    named = [
        int(m)
        for m in re.findall(
            rf"^{re.escape(str(path))}:(\d+): The date .* is in the future\.$",
            result.stderr,
            flags=re.M,
        )
    ]
    assert named == future
    assert len(result.stderr.strip().splitlines()) == len(future)
    assert counts() == before

    allowed, book_id = import_file(runner, path, "--allow-future")
    assert allowed.exit_code == 0, allowed.output
    book = db.session.get(Book, book_id)
    assert book.log_size == 300
    assert book.max_future_days == 0  # the book still refuses future dates afterwards


def test_reports_and_exports_of_an_unknown_book_fail_cleanly(runner):
    for args in (
        ["ledger", "report", "trial-balance", "--book", "999999"],
        ["ledger", "export", "--book", "999999"],
    ):
        result = runner.invoke(args=[*args, "--lang", "en"])
        assert result.exit_code == 1
        assert "No such book." in result.stderr


# --------------------------------------------------------------------------------------------
# The bulk path stores exactly what post_system_voucher stores
# --------------------------------------------------------------------------------------------


VARYING = ("id", "book_id", "community_id", "period_id", "private_salt", "posted_at", "created_at")


def _book_state(book: Book) -> dict:
    vouchers = db.session.scalars(
        sa.select(Voucher).where(Voucher.book_id == book.id).order_by(Voucher.log_index)
    ).all()
    records = []
    for v in vouchers:
        rec = log.public_record(v, None)
        assert rec["book"] == book.id
        rec["book"] = None
        records.append(rec)
    leaf_hashes = [merkle.leaf_hash(log.leaf_bytes(log.public_record(v, None))) for v in vouchers]
    stored = {
        (n.level, n.index): bytes(n.hash)
        for n in db.session.scalars(sa.select(LogNode).where(LogNode.book_id == book.id))
    }
    codes = {
        a.id: a.code
        for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
    }
    balances = {
        (codes[b.account_id], b.fund_key, b.unit, b.period_key): (b.debit, b.credit)
        for b in db.session.scalars(
            sa.select(AccountPeriodBalance).where(AccountPeriodBalance.book_id == book.id)
        )
    }
    events = [
        [
            (e.action, e.user_id, e.note)
            for e in db.session.scalars(
                sa.select(VoucherEvent)
                .where(VoucherEvent.voucher_id == v.id)
                .order_by(VoucherEvent.id)
            )
        ]
        for v in vouchers
    ]
    return {
        "size": book.log_size,
        "records": records,
        "leaf_hashes": leaf_hashes,
        "stored": stored,
        "balances": balances,
        "events": events,
        # every column, but those that differ between two books or two moments
        "vouchers": [
            {c.name: getattr(v, c.key) for c in Voucher.__table__.columns if c.name not in VARYING}
            | {
                "period": v.period.label,
                "salt": len(v.private_salt),
                "posted_at": v.posted_at is not None,
            }
            for v in vouchers
        ],
        "lines": [
            [
                (
                    codes[ln.account_id],
                    ln.line_no,
                    ln.unit,
                    ln.debit,
                    ln.credit,
                    ln.fund_id,
                    ln.memo,
                )
                for ln in v.lines
            ]
            for v in vouchers
        ],
        "periods": sorted(
            (p.label, p.voucher_count)
            for p in db.session.scalars(sa.select(Period).where(Period.book_id == book.id))
        ),
    }


SMALL = generate_journal(120, seed=21, start=dt.date(2022, 6, 1))


@pytest.mark.parametrize("parallel", [False, True], ids=["one process", "rows built by a child"])
def test_bulk_import_stores_exactly_what_posting_one_by_one_stores(
    app, organisation_factory, parallel
):
    journal = read_beancount(SMALL)
    slow = bi.import_journal(journal, organisation_name="one by one", bulk=False).book

    # The same chart in another book; the first vouchers one by one (a log that is not empty,
    # and not a power of two), then the rest in small batches, so that the frontier of the log
    # is loaded from the database and crosses batch boundaries.
    fast = svc.create_book(organisation_factory(), chart="CUSTOM")
    bi._declare_units(fast, journal)
    accounts, problems = bi._create_accounts(fast, journal)
    assert problems == []
    inputs, _where = bi._voucher_inputs(journal.transactions, accounts)
    for data in inputs[:5]:
        svc.post_system_voucher(
            fast, data, kind=svc.VoucherKind.NORMAL, actor=None, source="import"
        )
    ids = svc.post_imported_vouchers(fast, inputs[5:], batch_size=7, parallel=parallel)
    assert len(ids) == 115 and ids == sorted(ids)
    db.session.expire_all()

    a, b = _book_state(slow), _book_state(fast)
    assert a["size"] == b["size"] == 120
    assert a["vouchers"] == b["vouchers"]
    assert a["lines"] == b["lines"]
    assert a["records"] == b["records"]
    assert a["events"] == b["events"] == [[("import", None, ""), ("posted", None, "")]] * 120
    assert a["balances"] == b["balances"]
    assert a["periods"] == b["periods"]
    # Stored leaves are the hashes of the records' canonical bytes, and every complete subtree
    # is stored: the same node ids in both books, and the root of the stored nodes is the RFC
    # root of the leaves.
    for state in (a, b):
        assert [state["stored"][(0, i)] for i in range(120)] == state["leaf_hashes"]
        assert log.root(fast.id if state is b else slow.id, 120) == merkle.root_hash(
            state["leaf_hashes"]
        )
    assert set(a["stored"]) == set(b["stored"])
    assert len(b["stored"]) == 2 * 120 - bin(120).count("1")


def test_an_import_in_batches_stores_what_one_batch_stores(app, monkeypatch):
    journal = read_beancount(SMALL)
    whole = bi.import_journal(journal, organisation_name="一次").book
    monkeypatch.setattr(bi, "IMPORT_BATCH", 33)
    monkeypatch.setattr(bi, "WRITE_BATCH", 8)
    parts = bi.import_journal(journal, organisation_name="分批").book
    db.session.expire_all()
    a, b = _book_state(whole), _book_state(parts)
    assert a["size"] == b["size"] == 120
    for key in ("vouchers", "lines", "records", "events", "balances", "periods"):
        assert a[key] == b[key], key
    assert set(a["stored"]) == set(b["stored"])
    assert log.root(parts.id, 120) == merkle.root_hash(b["leaf_hashes"])


@pytest.mark.parametrize("parallel", [False, True], ids=["one process", "rows built by a child"])
def test_a_failure_while_building_rows_stops_the_import(
    app, organisation_factory, monkeypatch, parallel
):
    """An error while building rows (in the child too) stops the import; the caller rolls
    back and nothing stays."""
    journal = read_beancount(SMALL)
    book = svc.create_book(organisation_factory(), chart="CUSTOM")
    bi._declare_units(book, journal)
    accounts, _problems = bi._create_accounts(book, journal)
    inputs, _where = bi._voucher_inputs(journal.transactions, accounts)

    def broken(*_args):
        raise ValueError("subtree hashes went wrong")

    monkeypatch.setattr(merkle, "nodes_to_store_on_appends", broken)
    with pytest.raises((ValueError, RuntimeError), match="subtree hashes went wrong"):
        with db.session.begin_nested():
            svc.post_imported_vouchers(book, inputs, batch_size=50, parallel=parallel)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Voucher).where(Voucher.book_id == book.id)
        )
        == 0
    )


def test_bulk_posting_refuses_what_validate_refuses(app, book, acct, people):
    """The checks of _validate, with its messages, for every voucher at once; nothing stays."""
    cash, bank, revenue = acct("1001"), acct("1002"), acct("5001")
    svc.add_sub_account(acct("1012"), "101201", "微信支付")
    parent = acct("1012")
    inactive = svc.set_account_active(acct("1101"), False, actor=people["admin"])
    d = dt.date(2026, 3, 5)
    good = svc.VoucherInput(d, "好", lines((cash, 100, 0), (revenue, 0, 100)))
    bad = [
        svc.VoucherInput(d, "不平", lines((cash, 100, 0), (revenue, 0, 99))),
        svc.VoucherInput(
            d,
            "两边",
            [svc.LineInput(cash.id, debit=1, credit=1), svc.LineInput(revenue.id, credit=0)],
        ),
        svc.VoucherInput(d, "负数", lines((cash, -5, 0), (revenue, 0, -5))),
        svc.VoucherInput(d, "上级科目", lines((parent, 100, 0), (revenue, 0, 100))),
        svc.VoucherInput(d, "单位", lines((cash, 100, 0), (revenue, 0, 100), unit="XYZPOINTS")),
        svc.VoucherInput(
            dt.date.today() + dt.timedelta(days=3), "未来", lines((cash, 100, 0), (revenue, 0, 100))
        ),
        svc.VoucherInput(d, "  ", lines((cash, 100, 0), (revenue, 0, 100))),
        svc.VoucherInput(d, "一行", lines((cash, 100, 0))),
        svc.VoucherInput(
            d, "他账", [svc.LineInput(cash.id, debit=1), svc.LineInput(999_999_999, credit=1)]
        ),
        svc.VoucherInput(d, "停用", lines((inactive, 100, 0), (revenue, 0, 100))),
        svc.VoucherInput(d, "x" * 301, lines((cash, 100, 0), (revenue, 0, 100))),
        svc.VoucherInput(
            d, "小数", [svc.LineInput(cash.id, debit=True), svc.LineInput(revenue.id, credit=1)]
        ),
    ]
    inputs = [good] + bad
    size = book.log_size
    with pytest.raises(InvalidInput) as caught:
        with db.session.begin_nested():
            svc.post_imported_vouchers(book, inputs)
    errors = caught.value.errors
    assert {int(k.split(".")[1]) for k in errors} == set(range(1, len(inputs)))
    for i, data in enumerate(bad, start=1):
        with pytest.raises(InvalidInput) as one:
            svc._validate(book, data)
        assert {k: v for k, v in errors.items() if k.startswith(f"vouchers.{i}.")} == {
            f"vouchers.{i}.{k}": v for k, v in one.value.errors.items()
        }
    db.session.refresh(book)
    assert book.log_size == size
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Voucher).where(Voucher.book_id == book.id)
        )
        == 0
    )
    # bank is untouched and fine
    assert svc.post_imported_vouchers(
        book, [svc.VoucherInput(d, "好", lines((bank, 1, 0), (revenue, 0, 1)))]
    )


def test_bulk_posting_writes_private_commitments_like_post(
    app, book, acct, resident_factory, people
):
    resident = resident_factory(community=db.session.get(Community, book.community_id))
    receivable, revenue = acct("1122"), acct("5001")
    d = dt.date(2026, 3, 5)
    inputs = [
        svc.VoucherInput(
            d,
            "物业费",
            [
                svc.LineInput(receivable.id, debit=4200, resident_id=resident.id),
                svc.LineInput(revenue.id, credit=4200),
            ],
        ),
        svc.VoucherInput(d, "其他", lines((receivable, 100, 0), (revenue, 0, 100))),
    ]
    ids = svc.post_imported_vouchers(book, inputs, actor=people["admin"], source="import")
    db.session.expire_all()
    for vid in ids:
        v = db.session.get(Voucher, vid)
        assert v.status == "posted" and v.posted_by_id == people["admin"].id
        expected = merkle.leaf_hash(log.leaf_bytes(log.public_record(v, None)))
        assert log.leaf_hash_at(book.id, v.log_index) == expected
    first, second = db.session.get(Voucher, ids[0]), db.session.get(Voucher, ids[1])
    assert log.public_record(first, None)["private"] is not None
    assert first.lines[0].resident_id == resident.id
    # the private fields are frozen at posting, as _post freezes them
    assert json.loads(first.private_json) == log.private_fields(SimpleNamespace(lines=first.lines))
    assert json.loads(first.private_json)[0]["resident"] == resident.id
    assert second.private_json == "null"


# --------------------------------------------------------------------------------------------
# Export of a standard-chart book: red reversal, year-end closing, sub-accounts, points
# --------------------------------------------------------------------------------------------


@needs_beancount
@needs_hledger
def test_export_of_an_sme_book_passes_bean_check_and_re_totals(
    runner, book, acct, people, post, tmp_path
):
    icbc = svc.add_sub_account(acct("1002"), "100201", "工商银行", actor=people["preparer"])
    svc.declare_unit(book, "points", "积分", 0)
    cash, revenue, tax, cogs, goods = (
        acct("1001"),
        acct("5001"),
        acct("2221"),
        acct("5401"),
        acct("1405"),
    )
    post(
        lines((icbc, 1_000_000, 0), (acct("3001"), 0, 1_000_000)),
        date=dt.date(2025, 1, 3),
        summary="股东出资",
    )
    post(
        lines((goods, 300_000, 0), (icbc, 0, 300_000)), date=dt.date(2025, 2, 8), summary="购入商品"
    )
    sale = post(
        lines((cash, 113_000, 0), (revenue, 0, 100_000), (tax, 0, 13_000)),
        date=dt.date(2025, 3, 12),
        summary="销售商品，含税",
    )
    post(
        lines((cogs, 60_000, 0), (goods, 0, 60_000)), date=dt.date(2025, 3, 12), summary="结转成本"
    )
    post(
        lines((acct("5601"), 50, 0), (acct("2241"), 0, 50), unit="points"),
        date=dt.date(2025, 4, 1),
        summary="积分奖励",
    )
    red = svc.reverse_voucher(sale, actor=people["preparer"], date=dt.date(2025, 5, 6))
    svc.submit_voucher(red, actor=people["preparer"])
    svc.approve_voucher(red, actor=people["reviewer"])
    svc.post_voucher(red, actor=people["reviewer"])
    post(
        lines((cash, 110_000, 0), (revenue, 0, 97_345), (tax, 0, 12_655)),
        date=dt.date(2025, 5, 6),
        summary="销售商品（更正）",
    )
    closing = svc.generate_year_end_closing(book, 2025, actor=people["reviewer"])
    assert closing

    ours = trial_balance_csv(runner, book.id)
    assert ours[("Assets:1002-银行存款:100201-工商银行", "CNY")] == Decimal("7000.00")
    assert ours[("Liabilities:2241-其他应付款", "POINTS")] == Decimal("-50")
    assert ("Income:5001-主营业务收入", "CNY") not in ours  # closed at year end
    assert ours[("Equity:3104-利润分配", "CNY")] == Decimal("-373.45")

    bc = export(runner, book.id, "beancount", tmp_path / "sme.beancount")
    text = bc.read_text(encoding="utf-8")
    assert "open Assets:1002-银行存款:100201-工商银行" in text
    assert (
        "  Income:5001-主营业务收入  1000.00 CNY" in text
    )  # the red reversal, as a negative credit
    proc = bean_check(bc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert beancount_balances(bc) == ours
    assert beancount_balances(bc, dt.date(2025, 5, 31)) == trial_balance_csv(
        runner, book.id, "--as-of", "2025-05-31"
    )

    hl = export(runner, book.id, "hledger", tmp_path / "sme.journal")
    assert hledger_balances(hl) == ours

    stdout = runner.invoke(args=["ledger", "export", "--book", str(book.id)])
    assert stdout.exit_code == 0 and stdout.stdout == text
