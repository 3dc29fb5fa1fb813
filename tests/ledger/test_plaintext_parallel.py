"""Reading a beancount file in parts, in child processes, gives exactly what one pass in this
process gives: the same journal, and the same problems on the same lines (ledger.plaintext,
``parallel``). The parts are made small here so that a test journal is cut many times."""

from __future__ import annotations

import gc
import os
import tracemalloc

import pytest

import ledger.plaintext.reader as pt
from ledger.beancount_import import _iso_exponents
from ledger.plaintext import PlainTextError, read_beancount
from ledger.plaintext.reader import _parts, _Reader
from tests.ledger.journal import generate_journal

EXPONENTS = _iso_exponents()


def both_ways(text: str):
    """(in process, in children) results: a journal, or the problems as (line, code, params)."""
    out = []
    for parallel in (False, True):
        try:
            out.append(read_beancount(text, "t.beancount", exponents=EXPONENTS, parallel=parallel))
        except PlainTextError as e:
            out.append([(p.line, p.code, dict(p.params)) for p in e.problems])
    return out


@pytest.fixture(scope="module")
def journal_text() -> str:
    return generate_journal(1500, seed=7)


@pytest.fixture(autouse=True)
def small_parts(monkeypatch):
    monkeypatch.setattr(pt, "_PART_CHARS", 40_000)


def test_parts_read_in_child_processes_equal_one_pass(journal_text):
    bounds = _parts(journal_text)
    assert bounds is not None and len(bounds) >= 4
    assert bounds[0][0] == 0 and bounds[-1][1] == len(journal_text)
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
    reader = _Reader(journal_text, "t.beancount", EXPONENTS)
    assert reader.parse_in_parts()  # the parts path was taken, not the fallback
    parallel = reader.build()
    sequential = read_beancount(journal_text, "t.beancount", exponents=EXPONENTS, parallel=False)
    assert parallel == sequential
    assert len(parallel.transactions) == 1500
    # line numbers of later parts are the file's, not the part's
    cut_line = journal_text[: bounds[-1][0]].count("\n") + 1
    late = [t for t in parallel.transactions if t.line > cut_line]
    assert late and all(
        journal_text.split("\n")[t.line - 1][:10] == t.date.isoformat() for t in late
    )


def test_problems_in_a_late_part_are_named_on_the_same_lines(journal_text):
    lines = journal_text.split("\n")
    n = len(lines)
    # break a posting far into the file: an account nobody opened
    i = next(i for i in range(int(n * 0.8), n) if lines[i].startswith("  ") and ":" in lines[i])
    lines[i] = "  Assets:Nowhere  1.00 CNY" if "CNY" in lines[i] else "  Assets:Nowhere  1 POINTS"
    seq, par = both_ways("\n".join(lines))
    assert isinstance(seq, list) and seq == par
    assert any(line == i + 1 for line, _code, _params in seq)


def test_a_cut_inside_a_multi_line_string_falls_back_to_one_pass(journal_text, monkeypatch):
    # A narration spanning lines, one of which looks like the start of a dated directive; the
    # text is cut there (where _parts could cut it, had the string fallen at that place).
    at = journal_text.index("\n2", len(journal_text) // 2) + 1
    trick = '2024-06-01 * "多行\n2024-06-02 看似一条分录的行"\n  Assets:1001-库存现金  1.00 CNY\n  Assets:1001-库存现金  -1.00 CNY\n\n'
    text = journal_text[:at] + trick + journal_text[at:]
    inner = text.index("\n2024-06-02 看似") + 1
    assert pt._DIRECTIVE_START.match(text, inner - 1)
    real_parts = pt._parts
    monkeypatch.setattr(
        pt, "_parts", lambda t: [(0, inner), (inner, len(t))] if t == text else real_parts(t)
    )
    reader = _Reader(text, "t.beancount", EXPONENTS)
    assert not reader.parse_in_parts()
    seq, par = both_ways(text)
    assert seq == par and not isinstance(seq, list)


def test_an_account_opened_in_two_parts_is_reported_as_in_one_pass(journal_text):
    first_open = next(line for line in journal_text.split("\n") if " open " in line)
    text = journal_text + "\n" + first_open.replace(first_open[:10], "2027-12-31") + "\n"
    seq, par = both_ways(text)
    assert isinstance(seq, list) and seq == par
    assert seq[0][1] == "duplicate_open"


def test_options_in_a_late_part_count(journal_text):
    text = journal_text + '\noption "title" "第二半的标题"\noption "operating_currency" "CNY"\n'
    seq, par = both_ways(text)
    assert seq == par
    assert par.title == "第二半的标题" and "CNY" in par.operating_currencies


def test_too_many_problems_read_in_a_child_stop_as_in_one_pass():
    text = (
        "".join(
            f'2024-01-{d:02d} * "x"\n  Assets:Nowhere{d}  1.00 CNY\n  Assets:Cash\n\n'
            for d in range(1, 29)
        )
        * 40
    )
    seq, par = both_ways(text)
    assert isinstance(seq, list) and seq == par
    assert seq[-1][1] == "too_many_errors"


def test_small_texts_are_read_in_one_process(monkeypatch):
    def no_fork():
        raise AssertionError("forked for a small text")

    monkeypatch.setattr(pt.os, "fork", no_fork)
    text = generate_journal(20)
    assert len(text) < pt._CHILD_MIN_CHARS
    assert read_beancount(text, exponents=EXPONENTS) == read_beancount(
        text, exponents=EXPONENTS, parallel=False
    )


def test_the_parsers_memory_leaves_with_the_children(journal_text):
    """beancount_ast never frees a syntax tree (its nodes and their file refer to each other,
    unseen by the garbage collector): read in this process, the tree stays; read in children,
    this process keeps only the journal."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")

    def kept(parallel: bool) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            journal = read_beancount(journal_text, exponents=EXPONENTS, parallel=parallel)
            del journal
            gc.collect()
            return tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()

    in_process, in_children = kept(False), kept(True)
    # the tree (tens of bytes a character) is kept: if this fails, beancount_ast frees it now
    assert in_process > 10 * len(journal_text)
    assert in_children < len(journal_text)  # nothing of it here
