"""Every message the command-line verifier can show is translated (issue 14 item 3): broken
copies of a real published demo bundle and receipt (tests/transparency/corrupt.py) go through
``python -m transparency.verify --lang zh``, and every line it prints is in Chinese, with no
English sentence left in it; in English the same runs still say what they said."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.transparency.corrupt import Case, DemoDocuments, cases, demo_documents  # noqa: F401
from transparency.verify import MESSAGES, main

pytestmark = pytest.mark.slow

CJK = re.compile(r"[\u4e00-\u9fff]")
# Two English words in a row: what an untranslated sentence has, and what a JSON path, a
# check id, a hash, a key, an origin or an amount never has.
# A fingerprint shown in groups of four hex digits ("dfbc ea78") is not English.
HEX_GROUPS = re.compile(r"\b[0-9a-f]{4}(?: [0-9a-f]{4})+\b")
ENGLISH = re.compile(r"(?<![-\w./])[A-Za-z]{2,}[,.;:!?')]?\s+[(']?[A-Za-z]{2,}")


def untranslated(text: str) -> list[str]:
    """The lines of a Chinese output that are not Chinese, or that carry English words."""
    return [
        line
        for line in text.splitlines()
        if line.strip() and (not CJK.search(line) or ENGLISH.search(HEX_GROUPS.sub("", line)))
    ]


def run(tmp_path, case: Case, lang: str, capsys) -> tuple[int, str]:
    args: list[str] = []
    for role, data in case.files.items():
        if role == "key":
            args += ["--key", data.decode("utf-8")]
            continue
        path = tmp_path / f"{role}.json"
        path.write_bytes(data)
        args += [str(path)] if role == "bundle" else [f"--{role}", str(path)]
    code = main([*args, "--lang", lang])
    return code, capsys.readouterr().out


def test_the_detector_finds_english(capsys):
    assert untranslated("未通过 本期记录（records）：0 records, indices 26 to 25")
    assert untranslated("FAIL records: log.first_index -1 is negative")
    assert not untranslated("未通过 本期记录（records）：log.records[3].date：应为 YYYY-MM-DD 格式")


def test_every_chinese_message_of_the_table_is_chinese():
    for key, (_en, zh) in MESSAGES.items():
        if key in ("list", "comma_list", "sheet_pass", "file_what", "input_key_error"):
            continue  # made only of their parameters
        assert CJK.search(zh), f"{key}: {zh!r}"
        assert not ENGLISH.search(re.sub(r"\{[^}]*\}", "", zh)), f"{key}: {zh!r}"


def test_every_broken_document_is_reported_in_chinese(demo_documents, tmp_path, capsys):  # noqa: F811
    problems = []
    for case in cases(demo_documents):
        code, out = run(tmp_path, case, "zh", capsys)
        assert code in (1, 2), f"{case.name}: exit code {code}\n{out}"
        failed = [ln for ln in out.splitlines() if ln.startswith("未通过")]
        want = "读取文件" if case.expect == "input" else f"（{case.expect}"
        if not any(want in ln for ln in failed):
            problems.append(f"{case.name}: {case.expect} did not fail:\n{out}")
        bad = untranslated(out)
        if bad:
            problems.append(f"{case.name}:\n  " + "\n  ".join(bad))
    assert not problems, "\n".join(problems)


def test_english_still_reads_as_before(demo_documents, tmp_path, capsys):  # noqa: F811
    by_name = {c.name: c for c in cases(demo_documents)}
    said = {}
    for name in (
        "truncated bundle",
        "no signature",
        "key of 31 bytes",
        "first_index negative",
        "salt of 15 bytes",
        "signed text of two lines",
        "key named for another log",
        "statement line changed",
    ):
        code, out = run(tmp_path, by_name[name], "en", capsys)
        assert code in (1, 2), out
        # English words on every line, and none of the Chinese texts' punctuation (the
        # documents' own data, such as voucher numbers 记-…, may be Chinese).
        for line in out.splitlines():
            assert re.search(r"[A-Za-z]{3,}", line) and "：" not in line and "。" not in line, line
        said[name] = out
    assert "FAIL input: bundle " in said["truncated bundle"]
    assert "not valid JSON (" in said["truncated bundle"]
    assert (
        'the bundle has no "signature": its statements and labels are not signed'
        in (said["no signature"])
    )
    assert "public_key.ed25519 is 31 bytes, an Ed25519 key is 32" in said["key of 31 bytes"]
    assert "log.first_index -1 is negative" in said["first_index negative"]
    assert ".salt is 15 bytes, not 16" in said["salt of 15 bytes"]
    assert (
        "the signed text has 2 lines, a bundle signature has 3"
        in (said["signed text of two lines"])
    )
    assert (
        "bundle's public_key is named 'evil.example/commons-ledger/1'"
        in (said["key named for another log"])
    )
    assert re.search(r"recomputed ¥[\d,]+\.\d\d, the report says ¥", said["statement line changed"])


def test_amounts_are_in_yuan_and_counts_in_words(demo_documents, tmp_path, capsys):  # noqa: F811
    by_name = {c.name: c for c in cases(demo_documents)}
    _, out = run(tmp_path, by_name["statement line changed"], "zh", capsys)
    line = next(ln for ln in out.splitlines() if "（statement.balance_sheet）" in ln)
    assert re.search(r"重新计算为 ¥[\d,]+\.\d\d，报告上写 ¥[\d,]+\.\d\d", line), line
    _, out = run(tmp_path, by_name["opening balance changed"], "zh", capsys)
    line = next(ln for ln in out.splitlines() if "（opening_balances）" in ln)
    assert re.search(r"上期期末 ¥[\d,]+\.\d\d，本期期初 ¥[\d,]+\.\d\d", line), line
    _, out = run(tmp_path, by_name["first report not from zero"], "zh", capsys)
    assert "本期记录却不是从日志的第一条开始（而是从序号 3 开始）" in out


# --------------------------------------------------------------------------- the ids


ROOT = Path(__file__).resolve().parents[2]


def _camel(message_id: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[-._]", message_id))


def test_every_tlog_error_code_has_a_message():
    """A new ShapeError, NoteError or VerificationError code without a Chinese text fails."""

    def codes(module: str, cls: str, position: int, default: int | None = None) -> set[str]:
        tree = ast.parse((ROOT / "tlog" / module).read_text(encoding="utf-8"))
        out = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == cls:
                i = position if len(node.args) > position else default
                if i is not None and isinstance(node.args[i], ast.Constant):
                    out.add(node.args[i].value)
        return out

    shape = codes("bundle_math.py", "ShapeError", 2)
    note = codes("notes.py", "NoteError", 2, default=0)
    check = codes("merkle.py", "VerificationError", 0)
    missing = [f"shape_{c}" for c in shape if f"shape_{c}" not in MESSAGES]
    missing += [f"note_{c}" for c in note if f"note_{c}" not in MESSAGES]
    missing += [f"merkle_{c}" for c in check if f"merkle_{c}" not in MESSAGES]
    assert not missing, missing


def test_every_message_id_of_the_browser_verifier_has_a_template():
    """Each id verify.js gives a message, and each error code it throws, is in the shared
    table (the CLI's) or is one of the page's own templates (_verify_i18n.html)."""
    js = (ROOT / "static" / "js" / "verify.js").read_text(encoding="utf-8")
    page = (ROOT / "templates" / "transparency" / "_verify_i18n.html").read_text(encoding="utf-8")
    own = {_camel(m) for m in re.findall(r"data-msg-([a-z-]+)=", page)}
    ids = set(re.findall(r'\bM\("([a-z_-]+)"', js))
    ids |= {f"shape_{c}" for c in re.findall(r'new ShapeError\(.*"([a-z_]+)"(?:, \{.*\})?\);', js)}
    ids |= {f"note_{c}" for c in re.findall(r'new NoteError\("([a-z_0-9]+)"', js)}
    ids |= {f"merkle_{c}" for c in re.findall(r'new VerificationError\("([a-z_]+)"', js)}
    ids |= {
        f"json_{t}"
        for t in re.findall(
            r'"(\w+)"', re.search(r"JSON_TYPES = new Set\(\[([^]]*)\]", js).group(1)
        )
    }
    assert len(ids) > 150, len(ids)
    missing = sorted(i for i in ids if i not in MESSAGES and _camel(i) not in own)
    assert not missing, missing


def test_the_page_table_is_generated_from_the_cli_table():
    from tests.transparency import page_messages

    assert page_messages.PATH.read_text(encoding="utf-8") == page_messages.render(), (
        "run: .venv/bin/python -m tests.transparency.page_messages"
    )
