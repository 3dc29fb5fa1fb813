"""The command-line verifier in Chinese (issue 14 item 3): ``--lang zh`` or a Chinese locale."""

from __future__ import annotations

import copy
import json

import pytest

from tests.transparency.bundlegen import SyntheticBook
from transparency.verify import default_lang, main


@pytest.fixture(scope="module")
def bundles():
    return SyntheticBook(book_id=7, seed=11).monthly_reports(months=2, per_month=10)


def write(tmp_path, name, doc) -> str:
    p = tmp_path / name
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(p)


def test_partly_checked_in_chinese_names_what_completes_it(tmp_path, bundles, capsys):
    assert main([write(tmp_path, "b.json", bundles[1]), "--lang", "zh"]) == 3
    out = capsys.readouterr().out
    assert "部分核验：没有发现问题" in out
    assert "机构公钥：用 --key 加上机构页面上的“核验公钥”重新运行" in out
    assert "期初余额：用 --previous 加上截至 2026-10-31 那一期报告的数据包" in out
    assert "通过 按记录重算日志根（log_root）" in out
    assert "PARTLY CHECKED" not in out


def test_a_tampered_bundle_fails_in_chinese_with_the_chinese_detail(tmp_path, bundles, capsys):
    doc = copy.deepcopy(bundles[0])
    line = next(ln for r in doc["log"]["records"] for ln in r["lines"] if ln["debit"])
    line["debit"] += 100
    assert main([write(tmp_path, "t.json", doc), "--lang", "zh"]) == 1
    out = capsys.readouterr().out
    assert "未通过 按记录重算日志根（log_root）：记录与签名的日志对不上" in out
    assert "（详情：由压缩区间和记录重新计算的根不是检查点的根" in out
    assert "技术细节" not in out and "the root recomputed" not in out
    assert out.strip().splitlines()[-1].startswith("核验未通过：")


def test_a_changed_statement_line_is_detailed_in_chinese_in_yuan(tmp_path, bundles, capsys):
    doc = copy.deepcopy(bundles[0])
    st = next(s for s in doc["statements"] if s["statement"] == "balance_sheet")
    ln = next(x for x in st["lines"] if x.get("amount") and x["key"] == "cash")
    ln["amount"] += 100
    assert main([write(tmp_path, "t.json", doc), "--lang", "zh"]) == 1
    zh = capsys.readouterr().out
    said = f"¥{ln['amount'] // 100:,}.{ln['amount'] % 100:02d}"
    detail = next(x for x in zh.splitlines() if "（statement.balance_sheet）" in x)
    assert detail.startswith("未通过 重算报表（statement.balance_sheet）：报表中有些行")
    assert "（详情：第 cash 行：重新计算为 ¥" in detail and f"报告上写 {said}）" in detail
    assert "recomputed" not in zh and "the report says" not in zh
    # English keeps its words, from the same templates
    assert main([write(tmp_path, "t.json", doc), "--lang", "en"]) == 1
    en = capsys.readouterr().out
    assert "FAIL statement.balance_sheet: line cash: recomputed ¥" in en
    assert f"the report says {said}" in en and "重新计算" not in en


def test_a_mismatched_previous_report_is_detailed_in_chinese(tmp_path, bundles, capsys):
    prev = copy.deepcopy(bundles[0])
    prev["closing_balances"][0]["balance"] += 100
    args = [write(tmp_path, "b.json", bundles[1]), "--previous", write(tmp_path, "p.json", prev)]
    assert main([*args, "--lang", "zh"]) == 1
    out = capsys.readouterr().out
    opening = next(x for x in out.splitlines() if "（opening_balances）" in x)
    assert "期初余额不是上一份报告的期末余额：" in opening and "上期期末 ¥" in opening
    assert "本期期初 ¥" in opening and "previous closing" not in out


def test_english_stays_the_default_outside_a_chinese_locale(tmp_path, bundles, capsys, monkeypatch):
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert default_lang() == "en"
    main([write(tmp_path, "b.json", bundles[0])])
    assert "PARTLY CHECKED" in capsys.readouterr().out
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert default_lang() == "zh"
    main([write(tmp_path, "b.json", bundles[0])])
    assert "部分核验" in capsys.readouterr().out


def test_a_receipt_is_detailed_in_chinese(tmp_path, capsys):
    book = SyntheticBook(book_id=7, seed=11)
    reports = book.monthly_reports(months=1, per_month=10)
    receipt = book.receipt(book.private_indices()[0])
    args = [write(tmp_path, "b.json", reports[0]), "--receipt", write(tmp_path, "r.json", receipt)]
    main([*args, "--lang", "zh"])
    out = capsys.readouterr().out
    assert "该记录在已签名的日志（共 " in out
    assert "记录的承诺值与个人信息一致（第 " in out
    bad = copy.deepcopy(receipt)
    bad["private"][0]["name"] += "X"
    args[-1] = write(tmp_path, "bad.json", bad)
    assert main([*args, "--lang", "zh"]) == 1
    out = capsys.readouterr().out
    assert "的 SHA-256（盐 ‖ 个人信息）不是记录中该行的承诺值" in out
    assert "the salt or a private field differs" not in out and "技术细节" not in out
