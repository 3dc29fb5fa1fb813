"""Reading a large beancount file in two processes gives exactly what one pass gives: the same
journal, and the same problems on the same lines (ledger.plaintext, ``parallel``)."""

from __future__ import annotations

import pytest

import ledger.plaintext.reader as pt
from ledger.beancount_import import _iso_exponents
from ledger.plaintext import PlainTextError, read_beancount
from ledger.plaintext.reader import _cut_point, _Reader
from tests.ledger.journal import generate_journal

EXPONENTS = _iso_exponents()


def both_ways(text: str):
    """(sequential, parallel) results: a journal, or the problems as (line, code, params)."""
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


def test_two_halves_read_in_two_processes_equal_one_pass(journal_text):
    reader = _Reader(journal_text, "t.beancount", EXPONENTS)
    assert reader.parse_in_two()  # the two-process path was taken, not the fallback
    parallel = reader.build()
    sequential = read_beancount(journal_text, "t.beancount", exponents=EXPONENTS, parallel=False)
    assert parallel == sequential
    assert len(parallel.transactions) == 1500
    # line numbers of the second half are the file's, not the half's
    cut_line = journal_text[: _cut_point(journal_text)].count("\n") + 1
    late = [t for t in parallel.transactions if t.line > cut_line]
    assert late and all(
        journal_text.split("\n")[t.line - 1][:10] == t.date.isoformat() for t in late
    )


def test_problems_in_the_second_half_are_named_on_the_same_lines(journal_text):
    lines = journal_text.split("\n")
    n = len(lines)
    # break a posting far into the second half: an account nobody opened
    i = next(i for i in range(int(n * 0.8), n) if lines[i].startswith("  ") and ":" in lines[i])
    lines[i] = "  Assets:Nowhere  1.00 CNY" if "CNY" in lines[i] else "  Assets:Nowhere  1 POINTS"
    seq, par = both_ways("\n".join(lines))
    assert isinstance(seq, list) and seq == par
    assert any(line == i + 1 for line, _code, _params in seq)


def test_a_cut_inside_a_multi_line_string_falls_back_to_one_pass(journal_text, monkeypatch):
    # A narration spanning lines, one of which looks like the start of a dated directive; the
    # text is cut there (where _cut_point could cut it, had the string fallen at that place).
    at = journal_text.index("\n2", len(journal_text) // 2) + 1
    trick = '2024-06-01 * "多行\n2024-06-02 看似一条分录的行"\n  Assets:1001-库存现金  1.00 CNY\n  Assets:1001-库存现金  -1.00 CNY\n\n'
    text = journal_text[:at] + trick + journal_text[at:]
    inner = text.index("\n2024-06-02 看似") + 1
    assert pt._DIRECTIVE_START.match(text, inner - 1)
    real_cut = pt._cut_point
    monkeypatch.setattr(pt, "_cut_point", lambda t: inner if t == text else real_cut(t))
    reader = _Reader(text, "t.beancount", EXPONENTS)
    assert not reader.parse_in_two()
    seq, par = both_ways(text)
    assert seq == par and not isinstance(seq, list)


def test_an_account_opened_in_both_halves_is_reported_as_in_one_pass(journal_text):
    first_open = next(line for line in journal_text.split("\n") if " open " in line)
    text = journal_text + "\n" + first_open.replace(first_open[:10], "2027-12-31") + "\n"
    seq, par = both_ways(text)
    assert isinstance(seq, list) and seq == par
    assert seq[0][1] == "duplicate_open"


def test_options_in_the_second_half_count(journal_text):
    text = journal_text + '\noption "title" "第二半的标题"\noption "operating_currency" "CNY"\n'
    seq, par = both_ways(text)
    assert seq == par
    assert par.title == "第二半的标题" and "CNY" in par.operating_currencies


def test_small_texts_are_read_in_one_process(monkeypatch):
    def no_fork():
        raise AssertionError("forked for a small text")

    monkeypatch.setattr(pt.os, "fork", no_fork)
    text = generate_journal(20)
    assert read_beancount(text, exponents=EXPONENTS) == read_beancount(
        text, exponents=EXPONENTS, parallel=False
    )
