"""ledger.plaintext against independent oracles.

Expected figures never come from our own code: beancount (GPL, installed as a test tool and
only ever run as a separate program) and hledger compute them from the same files.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import shutil
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.plaintext import (
    PlainTextError,
    PTAccount,
    PTJournal,
    PTPosting,
    PTTransaction,
    balances,
    beancount_account_name,
    beancount_commodity_name,
    format_units,
    is_valid_account_name,
    read_beancount,
    write_beancount,
    write_hledger,
)
from tests.ledger.journal import generate_journal

# --------------------------------------------------------------------------------------------
# Oracles (separate processes only)
# --------------------------------------------------------------------------------------------


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).with_name(name)  # the venv's bin/ when run as .venv/bin/pytest
    if beside.exists():
        return str(beside)
    return shutil.which(name)


BEAN_CHECK = _tool("bean-check")
HLEDGER = shutil.which("hledger")

needs_beancount = pytest.mark.skipif(
    BEAN_CHECK is None,
    reason="beancount is not installed (pip install 'beancount>=3,<4'): bean-check missing",
)
needs_hledger = pytest.mark.skipif(
    HLEDGER is None, reason="hledger is not installed (apt-get install hledger)"
)

# Run with the interpreter beside bean-check, in its own process: beancount is GPL-2.0-only and
# is never imported into this process.
_ORACLE = textwrap.dedent(
    """
    import json, sys
    from beancount import loader
    from beancount.core import data

    loader.initialize(use_cache=False)
    entries, errors, options = loader.load_file(sys.argv[1])
    sums = {}
    narrations = []
    for entry in entries:
        if isinstance(entry, data.Transaction):
            narrations.append([entry.payee, entry.narration])
            for p in entry.postings:
                key = p.account + "\\t" + p.units.currency
                sums[key] = sums.get(key, 0) + p.units.number
    print(json.dumps({
        "errors": [[(e.source or {}).get("lineno"), e.message] for e in errors],
        "balances": {k: str(v) for k, v in sums.items()},
        "narrations": narrations,
    }, ensure_ascii=False))
    """
)


def _oracle_python() -> str:
    # bean-check's own interpreter, so the oracle runs wherever beancount is installed.
    assert BEAN_CHECK is not None
    first = Path(BEAN_CHECK).read_text(errors="replace").splitlines()[0]
    if first.startswith("#!") and "python" in first:
        return first[2:].strip().split()[0]
    return sys.executable


def beancount_oracle(path: Path) -> dict:
    proc = subprocess.run(
        [_oracle_python(), "-c", _ORACLE, str(path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if "No module named 'beancount'" in proc.stderr:
        pytest.skip("beancount is not importable by the oracle interpreter")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    result["balances"] = {tuple(k.split("\t")): Decimal(v) for k, v in result["balances"].items()}
    return result


def bean_check(path: Path) -> subprocess.CompletedProcess:
    assert BEAN_CHECK is not None
    return subprocess.run(
        [BEAN_CHECK, "--no-cache", str(path)], capture_output=True, text=True, timeout=600
    )


def hledger_balances(path: Path) -> dict[tuple[str, str], Decimal]:
    assert HLEDGER is not None
    proc = subprocess.run(
        [HLEDGER, "-f", str(path), "bal", "--flat", "-O", "csv", "--no-total"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[tuple[str, str], Decimal] = {}
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["account", "balance"]
    for account, amounts in rows[1:]:
        for amount in amounts.split(", "):
            number, _, commodity = amount.strip().partition(" ")
            if Decimal(number) != 0:
                result[(account, commodity.strip('"'))] = Decimal(number)
    return result


def as_decimals(journal: PTJournal) -> dict[tuple[str, str], Decimal]:
    """Our per-(account, commodity) sums in major units, exactly."""
    return {
        key: Decimal(format_units(units, journal.commodities[key[1]]))
        for key, units in balances(journal).items()
        if units
    }


def nonzero(d: dict) -> dict:
    return {k: v for k, v in d.items() if v != 0}


def entries(journal: PTJournal) -> list[tuple]:
    """Transactions without line numbers."""
    return [
        (
            t.date,
            t.flag,
            t.payee,
            t.narration,
            [(p.account, p.units, p.commodity) for p in t.postings],
        )
        for t in journal.transactions
    ]


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------


def test_generator_is_deterministic_and_realistic():
    text = generate_journal(3000, seed=7)
    assert text == generate_journal(3000, seed=7)
    assert text != generate_journal(3000, seed=8)
    journal = read_beancount(text)
    assert len(journal.transactions) == 3000
    n_postings = sum(len(t.postings) for t in journal.transactions)
    assert 2.2 < n_postings / 3000 < 2.4
    sizes = {len(t.postings) for t in journal.transactions}
    assert {2, 3, 4} <= sizes
    assert 25 <= len(journal.accounts) <= 45
    assert len(journal.balances) >= 6
    dates = [t.date for t in journal.transactions]
    assert dates == sorted(dates)
    assert (dates[-1] - dates[0]).days > 2 * 365
    # some amounts were left out for the reader to infer
    elided_lines = len(re.findall(r"^  [A-Z][^ ]*$", text, flags=re.M))
    assert 0.1 < elided_lines / 3000 < 0.2
    assert journal.commodities == {"CNY": 2, "POINTS": 0}


@pytest.mark.slow
def test_generator_is_fast():
    started = time.perf_counter()
    text = generate_journal(100_000)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, elapsed
    postings = sum(
        1
        for line in text.splitlines()
        if line.startswith("  ") and not line.startswith("  invoice")
    )
    assert 220_000 < postings < 240_000


# --------------------------------------------------------------------------------------------
# Round trips against beancount and hledger
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, PTJournal]:
    path = tmp_path_factory.mktemp("journal") / "generated.beancount"
    text = generate_journal(2000, seed=3)
    path.write_text(text, encoding="utf-8")
    return path, read_beancount(text, str(path))


@needs_beancount
def test_generated_file_is_valid_for_beancount(generated):
    path, _ = generated
    proc = bean_check(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_beancount
def test_balances_match_beancount_to_the_fen(generated):
    path, journal = generated
    oracle = beancount_oracle(path)
    assert oracle["errors"] == []
    theirs = nonzero(oracle["balances"])
    ours = as_decimals(journal)
    assert ours == theirs
    # and in integer minor units
    for (account, commodity), number in theirs.items():
        exponent = journal.commodities[commodity]
        scaled = number.scaleb(exponent)
        assert scaled == scaled.to_integral_value()
        assert balances(journal)[(account, commodity)] == int(scaled)
    assert len(oracle["narrations"]) == len(journal.transactions)


@needs_beancount
def test_written_beancount_passes_bean_check_and_rereads_identically(generated, tmp_path):
    _, journal = generated
    text = write_beancount(journal)
    out = tmp_path / "written.beancount"
    out.write_text(text, encoding="utf-8")
    proc = bean_check(out)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    again = read_beancount(text, str(out))
    assert balances(again) == balances(journal)
    assert entries(again) == entries(journal)
    assert [(b.date, b.account, b.units, b.commodity) for b in again.balances] == [
        (b.date, b.account, b.units, b.commodity) for b in journal.balances
    ]
    assert [(a.name, a.open_date, a.currencies) for a in again.accounts] == [
        (a.name, a.open_date, a.currencies) for a in journal.accounts
    ]
    assert again.commodities == journal.commodities
    assert again.title == journal.title

    oracle = beancount_oracle(out)
    assert oracle["errors"] == []
    assert nonzero(oracle["balances"]) == as_decimals(journal)


@needs_hledger
def test_hledger_agrees_with_our_balances(generated, tmp_path):
    _, journal = generated
    out = tmp_path / "written.journal"
    out.write_text(write_hledger(journal), encoding="utf-8")
    # hledger also checks the (subaccount-inclusive) balance assertions while reading.
    assert hledger_balances(out) == as_decimals(journal)


@needs_hledger
def test_hledger_rejects_a_wrong_assertion(tmp_path):
    journal = read_beancount(
        textwrap.dedent(
            """\
            2024-01-01 open Assets:1002-银行存款
            2024-01-01 open Assets:1002-银行存款:100201-工行
            2024-01-01 open Income:5001-收入
            2024-01-01 * "收入"
              Assets:1002-银行存款:100201-工行  10.00 CNY
              Income:5001-收入
            2024-01-02 balance Assets:1002-银行存款  10.00 CNY
            """
        )
    )
    ok = tmp_path / "ok.journal"
    ok.write_text(write_hledger(journal), encoding="utf-8")
    assert hledger_balances(ok)[("Income:5001-收入", "CNY")] == Decimal("-10.00")
    wrong = tmp_path / "wrong.journal"
    wrong.write_text(write_hledger(journal).replace("=* 10.00 CNY", "=* 10.01 CNY"), "utf-8")
    proc = subprocess.run([HLEDGER, "-f", str(wrong), "bal"], capture_output=True, text=True)
    assert proc.returncode != 0


# --------------------------------------------------------------------------------------------
# Semantics
# --------------------------------------------------------------------------------------------

ELIDED = """\
option "title" "测试"
option "operating_currency" "CNY"
2024-01-01 open Assets:1002-银行存款 CNY
2024-01-01 open Assets:1001-库存现金
2024-01-01 open Income:5001-主营业务收入:500101-服务费
2024-01-01 open Liabilities:2801-积分
2024-01-02 * "张三" "服务费"
  Assets:1002-银行存款  100.50 CNY
  Income:5001-主营业务收入:500101-服务费
2024-01-03 * "李四" "服务费与积分"
  Income:5001-主营业务收入:500101-服务费  -20.05 CNY
  Liabilities:2801-积分  -5 POINTS
  Assets:1001-库存现金
2024-01-04 * "净额为零"
  Assets:1001-库存现金  1.00 CNY
  Income:5001-主营业务收入:500101-服务费  -1.00 CNY
  Assets:1002-银行存款
"""


def test_elided_amount_is_inferred():
    journal = read_beancount(ELIDED)
    t1, t2, t3 = journal.transactions
    assert t1.payee == "张三" and t1.narration == "服务费"
    assert t1.postings[1] == PTPosting("Income:5001-主营业务收入:500101-服务费", -10050, "CNY", 9)
    # several commodities: one inferred posting per commodity, in place of the elided one
    assert [(p.account, p.units, p.commodity, p.line) for p in t2.postings] == [
        ("Income:5001-主营业务收入:500101-服务费", -2005, "CNY", 11),
        ("Liabilities:2801-积分", -5, "POINTS", 12),
        ("Assets:1001-库存现金", 2005, "CNY", 13),
        ("Assets:1001-库存现金", 5, "POINTS", 13),
    ]
    # nothing left to infer: beancount drops the empty posting, so do we
    assert [p.account for p in t3.postings] == [
        "Assets:1001-库存现金",
        "Income:5001-主营业务收入:500101-服务费",
    ]
    assert journal.commodities == {"CNY": 2, "POINTS": 0}
    assert journal.title == "测试" and journal.operating_currencies == ("CNY",)


@needs_beancount
def test_elided_amounts_agree_with_beancount(tmp_path):
    path = tmp_path / "elided.beancount"
    path.write_text(ELIDED, encoding="utf-8")
    oracle = beancount_oracle(path)
    assert oracle["errors"] == []
    assert as_decimals(read_beancount(ELIDED)) == nonzero(oracle["balances"])


BALANCE_SEMANTICS = """\
2024-01-01 open Assets:1002-银行存款
2024-01-01 open Assets:1002-银行存款:100201-工行
2024-01-01 open Equity:3001-实收资本
2024-01-01 * "入股"
  Assets:1002-银行存款  100.00 CNY
  Assets:1002-银行存款:100201-工行  50.00 CNY
  Equity:3001-实收资本
2024-01-05 * "同日交易不计入当日日初余额"
  Assets:1002-银行存款:100201-工行  7.00 CNY
  Equity:3001-实收资本
2024-01-05 balance Assets:1002-银行存款  {parent} CNY
2024-01-05 balance Assets:1002-银行存款:100201-工行  50.00 CNY
2024-01-06 balance Assets:1002-银行存款:100201-工行  57.00 CNY
"""


@pytest.mark.parametrize(("parent", "ok"), [("150.00", True), ("100.00", False), ("157.00", False)])
def test_balance_assertions_follow_beancount(parent, ok, tmp_path):
    text = BALANCE_SEMANTICS.format(parent=parent)
    if ok:
        journal = read_beancount(text)
        assert len(journal.balances) == 3
    else:
        with pytest.raises(PlainTextError) as info:
            read_beancount(text)
        assert [(p.line, p.code) for p in info.value.problems] == [(11, "balance_failed")]
    if BEAN_CHECK:
        path = tmp_path / "balances.beancount"
        path.write_text(text, encoding="utf-8")
        assert (bean_check(path).returncode == 0) == ok


def test_balance_with_explicit_tolerance():
    text = BALANCE_SEMANTICS.format(parent="150.02 ~ 0.02")
    assert read_beancount(text).balances[0].tolerance == 2
    with pytest.raises(PlainTextError):
        read_beancount(BALANCE_SEMANTICS.format(parent="150.03 ~ 0.02"))


def test_ignored_directives_are_listed_not_errors():
    text = textwrap.dedent(
        """\
        ; 注释
        * 标题
        2024-01-01 open Assets:1001-库存现金
        2024-01-01 open Equity:3001-实收资本
        2024-01-02 note Assets:1001-库存现金 "盘点"
        2024-01-02 event "location" "社区"
        2024-01-02 price USD 7.10 CNY
        2024-01-02 query "q" "SELECT 1"
        2024-01-02 document Assets:1001-库存现金 "/tmp/x.pdf"
        2024-01-02 custom "budget" "x"
        pushtag #x
        2024-01-03 ! "现金" #tag ^link
          meta: "ignored"
          Assets:1001-库存现金  1,000.00 CNY ; comment
          Equity:3001-实收资本  -(500 + 500) CNY
        poptag #x
        2024-02-01 close Assets:1001-库存现金
        """
    )
    journal = read_beancount(text)
    assert [kind for _, kind in journal.ignored] == [
        "note",
        "event",
        "price",
        "query",
        "document",
        "custom",
    ]
    assert journal.ignored[0][0] == 5
    (txn,) = journal.transactions
    assert txn.flag == "!" and txn.payee is None and txn.narration == "现金"
    assert [p.units for p in txn.postings] == [100000, -100000]
    assert journal.accounts[0].close_date == datetime.date(2024, 2, 1)


def test_exponents():
    text = textwrap.dedent(
        """\
        2024-01-01 open Assets:A
        2024-01-01 open Assets:B
        2024-01-02 * "x"
          Assets:A  1.5 XPT
          Assets:A  3 POINTS
          Assets:A  1.000 CNY
          Assets:A  100 JPY
          Assets:B  -1.5 XPT
          Assets:B  -3 POINTS
          Assets:B  -1 CNY
          Assets:B  -100 JPY
        """
    )
    journal = read_beancount(text)
    assert journal.commodities == {"XPT": 1, "POINTS": 0, "CNY": 2, "JPY": 0}
    assert [p.units for p in journal.transactions[0].postings[:4]] == [15, 3, 100, 100]
    fixed = read_beancount(text, exponents={"POINTS": 2})
    assert fixed.commodities["POINTS"] == 2
    assert fixed.transactions[0].postings[1].units == 300


def test_strings_round_trip_through_beancount(tmp_path):
    narration = '支付 "社区课堂" 场地费 \\ 备注\n第二行'
    journal = PTJournal(
        accounts=(
            PTAccount("Assets:1001-库存现金", "Assets", datetime.date(2024, 1, 1)),
            PTAccount("Expenses:5602-管理费用", "Expenses", datetime.date(2024, 1, 1)),
        ),
        transactions=(
            PTTransaction(
                datetime.date(2024, 1, 2),
                narration,
                '王"五"',
                (
                    PTPosting("Expenses:5602-管理费用", 5, "CNY"),
                    PTPosting("Assets:1001-库存现金", -5, "CNY"),
                ),
            ),
        ),
        balances=(),
        commodities={"CNY": 2},
    )
    text = write_beancount(journal)
    assert "0.05 CNY" in text and "-0.05 CNY" in text
    again = read_beancount(text)
    assert again.transactions[0].narration == narration
    assert again.transactions[0].payee == '王"五"'
    if BEAN_CHECK:
        path = tmp_path / "strings.beancount"
        path.write_text(text, encoding="utf-8")
        oracle = beancount_oracle(path)
        assert oracle["errors"] == []
        assert oracle["narrations"] == [['王"五"', narration]]


# --------------------------------------------------------------------------------------------
# Bad input: every error names its line
# --------------------------------------------------------------------------------------------

HEADER = """\
2024-01-01 open Assets:1002-银行存款
2024-01-01 open Assets:1002-银行存款:100201-工行
2024-01-01 open Income:5001-收入
2024-01-01 open Assets:1601-股票
"""  # lines 1-4

BAD = {
    # name: (body starting at line 5, line, code, does beancount reject it too?)
    "syntax": ('2024-01-02 * "x"\n  Assets:1002-银行存款  1.0.0 CNY\n', 6, "syntax", True),
    "unterminated_string": (
        '2024-01-02 * "x\n  Assets:1002-银行存款  1 CNY\n',
        7,
        "syntax_unterminated_string",
        True,
    ),
    "bad_date": ("2024-02-30 open Assets:9999-x\n", 5, "bad_date", True),
    "unbalanced": (
        '2024-01-02 * "x"\n  Assets:1002-银行存款  10.00 CNY\n  Income:5001-收入  -9.99 CNY\n',
        5,
        "unbalanced",
        True,
    ),
    "unbalanced_below_beancount_tolerance": (
        '2024-01-02 * "x"\n  Assets:1002-银行存款  10.0004 XPT\n  Income:5001-收入  -10.000 XPT\n',
        5,
        "unbalanced",
        False,
    ),
    "two_elided": (
        '2024-01-02 * "x"\n  Assets:1002-银行存款  10.00 CNY\n  Income:5001-收入\n  Assets:1002-银行存款:100201-工行\n',
        5,
        "several_elided",
        True,
    ),
    "cost_basis": (
        '2024-01-02 * "x"\n  Assets:1601-股票  10 ABC {2.00 CNY}\n  Assets:1002-银行存款  -20.00 CNY\n',
        6,
        "unsupported",
        False,
    ),
    "price": (
        '2024-01-02 * "x"\n  Assets:1002-银行存款  10.00 USD @ 7.10 CNY\n  Income:5001-收入  -71.00 CNY\n',
        6,
        "unsupported",
        False,
    ),
    "total_price": (
        '2024-01-02 * "x"\n  Assets:1002-银行存款  10.00 USD @@ 71.00 CNY\n  Income:5001-收入  -71.00 CNY\n',
        6,
        "unsupported",
        False,
    ),
    "pad": (
        "2024-01-02 pad Assets:1002-银行存款 Income:5001-收入\n2024-01-03 balance Assets:1002-银行存款  5.00 CNY\n",
        5,
        "unsupported",
        False,
    ),
    "plugin": ('plugin "beancount.plugins.auto_accounts"\n', 5, "unsupported", False),
    "include": ('include "other.beancount"\n', 5, "unsupported", True),
    "rename_roots": ('option "name_assets" "Aktiva"\n', 5, "unsupported", False),
    "unknown_option": ('option "colour" "blue"\n', 5, "unknown_option", True),
    "unopened_account": (
        '2024-01-02 * "x"\n  Assets:1002-银行存款  10.00 CNY\n  Income:5002-其他收入  -10.00 CNY\n',
        7,
        "unknown_account",
        True,
    ),
    "before_open": (
        '2023-12-31 * "x"\n  Assets:1002-银行存款  10.00 CNY\n  Income:5001-收入  -10.00 CNY\n',
        6,
        "account_not_open_yet",
        True,
    ),
    "after_close": (
        '2024-01-05 close Income:5001-收入\n2024-01-06 * "x"\n  Assets:1002-银行存款  1.00 CNY\n  Income:5001-收入  -1.00 CNY\n',
        8,
        "account_closed",
        True,
    ),
    "failing_balance": (
        '2024-01-02 * "x"\n  Assets:1002-银行存款:100201-工行  10.00 CNY\n  Income:5001-收入\n2024-01-03 balance Assets:1002-银行存款  9.00 CNY\n',
        8,
        "balance_failed",
        True,
    ),
    "too_many_decimals": (
        '2024-01-02 * "x"\n  Assets:1002-银行存款  10.005 CNY\n  Income:5001-收入  -10.005 CNY\n',
        6,
        "precision",
        False,
    ),
    "missing_commodity": (
        '2024-01-02 * "x"\n  Assets:1002-银行存款  10.00\n  Income:5001-收入  -10.00 CNY\n',
        6,
        "missing_commodity",
        False,
    ),
    "inexact_division": (
        '2024-01-02 * "x"\n  Assets:1002-银行存款  10/3 CNY\n  Income:5001-收入\n',
        6,
        "bad_number",
        False,
    ),
    "currency_constraint": (
        '2024-01-01 open Assets:1001-库存现金 CNY\n2024-01-02 * "x"\n  Assets:1001-库存现金  1 USD\n  Income:5001-收入  -1 USD\n',
        7,
        "currency_not_allowed",
        True,
    ),
    "chinese_first_letter": ("2024-01-01 open Assets:银行存款\n", 5, "invalid_account_name", True),
    "duplicate_open": ("2024-01-03 open Income:5001-收入\n", 5, "duplicate_open", True),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_names_the_line(case, tmp_path):
    body, line, code, beancount_rejects = BAD[case]
    text = HEADER + body
    with pytest.raises(PlainTextError) as info:
        read_beancount(text, "bad.beancount")
    error = info.value
    assert (line, code) in [(p.line, p.code) for p in error.problems], error.problems
    assert error.errors and all(isinstance(n, int) and msg for n, msg in error.errors)
    for problem in error.problems:
        assert problem.message_en and problem.message_zh
        assert problem.message_zh != problem.message_en
    assert f"bad.beancount:{line}:" in str(error)
    if BEAN_CHECK:
        path = tmp_path / "bad.beancount"
        path.write_text(text, encoding="utf-8")
        rejected = bean_check(path).returncode != 0
        assert rejected == beancount_rejects, "beancount's verdict changed; review the case"


def test_unbalanced_message_explains_strictness():
    body, *_ = BAD["unbalanced"]
    with pytest.raises(PlainTextError) as info:
        read_beancount(HEADER + body)
    (problem,) = info.value.problems
    assert "0.01 CNY" in problem.message_en and "exact" in problem.message_en
    assert "0.01 CNY" in problem.message_zh and "借贷不平衡" in problem.message_zh
    assert info.value.messages("zh")[0] == (5, problem.message_zh)


def test_errors_are_collected_not_just_the_first():
    text = HEADER + (
        '2024-01-02 * "a"\n  Assets:1002-银行存款  1.00 CNY\n  Income:5001-收入  -0.99 CNY\n'
        '2024-01-02 * "b"\n  Assets:1002-银行存款  1.00 CNY\n  Income:9999-未开设  -1.00 CNY\n'
    )
    with pytest.raises(PlainTextError) as info:
        read_beancount(text)
    assert [(p.line, p.code) for p in info.value.problems] == [
        (5, "unbalanced"),
        (10, "unknown_account"),
    ]


# --------------------------------------------------------------------------------------------
# Names and writers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("root", "code", "name", "expected"),
    [
        ("Assets", "1002", "银行存款", "Assets:1002-银行存款"),
        ("Income:5001-主营业务收入", "500101", "服务费", "Income:5001-主营业务收入:500101-服务费"),
        ("Expenses", "5602", "管理费用 (办公) : 其他", "Expenses:5602-管理费用-办公-其他"),
        (
            "Liabilities",
            "2211",
            "应付职工薪酬，社保·公积金",
            "Liabilities:2211-应付职工薪酬-社保-公积金",
        ),
        ("Assets", "a1", "Cash & Bank's", "Assets:A1-Cash-Bank-s"),
        ("Equity", "3001", "", "Equity:3001"),
    ],
)
def test_beancount_account_name(root, code, name, expected):
    assert beancount_account_name(root, code, name) == expected
    assert is_valid_account_name(expected)


def test_beancount_account_name_rejects_bad_input():
    with pytest.raises(ValueError):
        beancount_account_name("Vermögen", "1", "x")
    with pytest.raises(ValueError):
        beancount_account_name("Assets", "", "银行")
    with pytest.raises(ValueError):
        beancount_account_name("Assets", "银", "银行")


@needs_beancount
def test_built_account_names_are_accepted_by_beancount(tmp_path):
    names = [
        beancount_account_name("Assets", "1002", "银行存款（工行）"),
        beancount_account_name("Expenses", "5602.01", "办公费/打印 纸"),
        beancount_account_name("Income", "5001", "服务费:家政"),
        beancount_account_name("Liabilities", "2241", "其他应付款—押金"),
    ]
    text = "".join(f"2024-01-01 open {n}\n" for n in names)
    path = tmp_path / "names.beancount"
    path.write_text(text, encoding="utf-8")
    assert bean_check(path).returncode == 0
    assert [a.name for a in read_beancount(text).accounts] == names


def test_commodity_names():
    assert beancount_commodity_name("points") == "POINTS"
    assert beancount_commodity_name("CNY") == "CNY"
    with pytest.raises(ValueError):
        beancount_commodity_name("积分")


def test_writer_refuses_what_beancount_would_reject():
    base = read_beancount(ELIDED)
    bad_account = PTJournal(
        accounts=(PTAccount("Assets:银行", "Assets", datetime.date(2024, 1, 1)),),
        transactions=(),
        balances=(),
        commodities={"CNY": 2},
    )
    with pytest.raises(ValueError, match="account name"):
        write_beancount(bad_account)
    bad_commodity = PTJournal(base.accounts, base.transactions, (), {"CNY": 2, "points": 0})
    with pytest.raises(ValueError, match="commodity"):
        write_beancount(bad_commodity)
    unbalanced = PTJournal(
        base.accounts,
        (
            PTTransaction(
                datetime.date(2024, 1, 2),
                "x",
                None,
                (PTPosting("Assets:1001-库存现金", 1, "CNY"),),
            ),
        ),
        (),
        {"CNY": 2},
    )
    with pytest.raises(ValueError, match="balance"):
        write_beancount(unbalanced)


def test_format_units():
    assert format_units(12345, 2) == "123.45"
    assert format_units(-5, 2) == "-0.05"
    assert format_units(0, 2) == "0.00"
    assert format_units(7, 0) == "7"
    assert format_units(-1234567, 3) == "-1234.567"
