"""The public site's parts (issue 14 items 1 and 2): the one glossary and the SVG charts."""

from __future__ import annotations

import re

from flask_babel import force_locale

from transparency import charts, glossary


def test_a_label_finds_its_term_the_longest_word_winning(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert glossary.find("三、限定性净资产转为非限定性净资产").slug == "feixianding"
        assert glossary.find("限定性净资产").slug == "xianding"  # a tie: the earlier term
        assert glossary.find("减：累计折旧").slug == "zhejiu"
        assert glossary.find("其中：原材料").slug == "cunhuo"
        assert glossary.find("会费收入") is None
        html = str(glossary.glossed("计提 9 月工资<script>"))
        assert '<details class="pub-term"><summary>计提 9 月工资&lt;script&gt;' in html
        assert "计提：在费用或收入所属的月份记账" in html
        assert str(glossary.glossed("会费收入")) == "会费收入"
    with app.test_request_context(), force_locale("en"):
        assert glossary.find("Reversal").slug == "chongxiao"
        assert "Reversal: a voucher that cancels" in str(glossary.glossed("Reversal"))


def test_every_term_has_words_in_both_languages_and_a_unique_slug():
    slugs = [t.slug for t in glossary.TERMS]
    assert len(slugs) == len(set(slugs))
    for t in glossary.TERMS:
        assert t.zh and t.en and all(w == w.lower() for w in t.en)
    for word in ("计提", "结转", "冲销", "限定性"):  # the issue's own examples
        assert any(word in t.zh for t in glossary.TERMS), word


def test_the_glossary_page_lists_every_term(client):
    html = client.get("/public/glossary", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    for t in glossary.TERMS:
        assert f'id="{t.slug}"' in html


def test_the_trend_chart_draws_each_period_to_scale_without_script():
    points = [charts.Point("2026-09", 3_115_815, 2_052_240), charts.Point("2026-10", 1_637_054, 0)]
    svg = str(charts.bars(points, title="收入 & 支出", legend=("收入", "支出")))
    assert svg.startswith("<svg") and "<script" not in svg
    assert "<title>收入 &amp; 支出</title>" in svg and 'role="img"' in svg
    heights = [
        float(h)
        for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)
    ]
    # Two legend swatches (10 high), then income and spending of each period.
    bars = heights[2:]
    assert len(bars) == 4 and bars[3] == 0
    assert abs(bars[0] / bars[2] - 3_115_815 / 1_637_054) < 0.01
    assert ">09<" in svg and ">10<" in svg
    top = charts._nice_max(3_115_815)
    assert 3_115_815 <= top <= 3_115_815 * 1.3
