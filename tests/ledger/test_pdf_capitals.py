"""人民币大写 (core.pdf.rmb_capital): the edge cases the issue names, and a round trip over
random amounts (a reader of the words gets the amount back)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.pdf import CAPITAL_MAX_FEN, rmb_capital

DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def read_capitals(words: str) -> int:
    """The amount in fen that Chinese capitals spell (an independent reader)."""
    sign = -1 if words.startswith("负") else 1
    words = words.removeprefix("负")
    assert words.endswith(("整", "分")), words
    yuan_part, has_yuan, rest = words.partition("元")
    if not has_yuan:
        yuan_part, rest = "", words
    total = section = num = 0
    yi = 0
    for ch in yuan_part:
        if ch in DIGITS:
            num = DIGITS[ch]
        elif ch in SMALL:
            section += num * SMALL[ch]
            num = 0
        elif ch == "万":
            total += (section + num) * 10_000
            section = num = 0
        elif ch == "亿":
            yi = (yi + total + section + num) * 100_000_000
            total = section = num = 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {words}")
    yuan = yi + total + section + num
    fen = 0
    digit = None
    for ch in rest:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch == "角":
            fen += 10 * (digit or 0)
            digit = None
        elif ch == "分":
            fen += digit or 0
            digit = None
    return sign * (yuan * 100 + fen)


@pytest.mark.parametrize(
    "fen, words",
    [
        (0, "零元整"),
        (1000, "壹拾元整"),  # ¥10.00
        (10000507, "壹拾万零伍元零柒分"),  # ¥100,005.07
        (10_000_000_000, "壹亿元整"),  # ¥1亿
        (7, "柒分"),
        (123456, "壹仟贰佰叁拾肆元伍角陆分"),
        (10_001_000_000, "壹亿零壹万元整"),
        (10_000_000_100, "壹亿零壹元整"),
        (-5000, "负伍拾元整"),
    ],
)
def test_edge_cases(fen, words):
    assert rmb_capital(fen) == words


def test_refuses_what_it_cannot_spell():
    with pytest.raises(ValueError):
        rmb_capital(CAPITAL_MAX_FEN + 1)
    with pytest.raises(TypeError):
        rmb_capital(1.5)  # type: ignore[arg-type]


@given(st.integers(min_value=-CAPITAL_MAX_FEN, max_value=CAPITAL_MAX_FEN))
def test_round_trip(fen):
    words = rmb_capital(fen)
    assert read_capitals(words) == fen
    assert "零零" not in words
    assert not words.lstrip("负").startswith("零") or fen == 0
    assert words.endswith("整") == (fen % 10 == 0)


@given(st.integers(min_value=1, max_value=10**12))
def test_ends_at_yuan_with_zheng(yuan):
    assert rmb_capital(yuan * 100).endswith("元整")
