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
    assert "期初余额：用 --previous 加上上一份报告的数据包" in out
    assert "通过 按记录重算日志根（log_root）" in out
    assert "PARTLY CHECKED" not in out


def test_a_tampered_bundle_fails_in_chinese_with_the_english_detail(tmp_path, bundles, capsys):
    doc = copy.deepcopy(bundles[0])
    line = next(ln for r in doc["log"]["records"] for ln in r["lines"] if ln["debit"])
    line["debit"] += 100
    assert main([write(tmp_path, "t.json", doc), "--lang", "zh"]) == 1
    out = capsys.readouterr().out
    assert "未通过 按记录重算日志根（log_root）：记录与签名的日志对不上" in out
    assert "（技术细节，英文：" in out
    assert out.strip().splitlines()[-1].startswith("核验未通过：")


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
