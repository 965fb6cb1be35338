"""Money is exact integer fen (LAW.md, "Money is exact"); capital numerals follow the PBOC rules.

The capital-numeral table holds the worked examples of the People's Bank of China rules for
filling in bills (《正确填写票据和结算凭证的基本规定》, 第十条) and further cases for every
zero rule; the property test reads every generated amount back with an independent parser
written here, and checks the shape rules (one 零 at a time, 整 only without 分, 壹拾 kept).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments import MAX_FEN, InvalidAmount, capital_yuan, check_fen, format_yuan, parse_yuan

CAPITALS = [
    # the brief's and the PBOC rules' worked examples
    (1234_56, "壹仟贰佰叁拾肆元伍角陆分"),
    (100_00, "壹佰元整"),
    (1005_00, "壹仟零伍元整"),
    (10000000_07, "壹仟万元零柒分"),
    (1409_50, "壹仟肆佰零玖元伍角整"),
    (6007_14, "陆仟零柒元壹角肆分"),
    (1680_32, "壹仟陆佰捌拾元叁角贰分"),  # rule 3: no 零 between a zero 元 digit and 角
    (107000_53, "壹拾万柒仟元伍角叁分"),  # rule 3: no 零 after a zero 万 digit before 仟
    (16409_02, "壹万陆仟肆佰零玖元零贰分"),  # rule 4: 零 for a zero 角 before 分
    (325_04, "叁佰贰拾伍元零肆分"),
    (16_00, "壹拾陆元整"),  # 壹拾 keeps its 壹
    # small amounts
    (0, "零元整"),
    (1, "壹分"),
    (5, "伍分"),
    (10, "壹角整"),
    (50, "伍角整"),
    (55, "伍角伍分"),
    (1_00, "壹元整"),
    (1_01, "壹元零壹分"),
    (1_10, "壹元壹角整"),
    (10_00, "壹拾元整"),
    (10_05, "壹拾元零伍分"),
    (11_00, "壹拾壹元整"),
    (20_00, "贰拾元整"),
    (101_00, "壹佰零壹元整"),
    (110_00, "壹佰壹拾元整"),
    (1001_00, "壹仟零壹元整"),
    (1010_00, "壹仟零壹拾元整"),
    (1100_00, "壹仟壹佰元整"),
    # the 万 group
    (10000_00, "壹万元整"),
    (10001_00, "壹万零壹元整"),
    (10010_00, "壹万零壹拾元整"),
    (10100_00, "壹万零壹佰元整"),
    (11000_00, "壹万壹仟元整"),
    (100000_00, "壹拾万元整"),
    (100010_00, "壹拾万零壹拾元整"),
    (101000_00, "壹拾万壹仟元整"),  # rule 3 again
    (1000000_00, "壹佰万元整"),
    (1020304_05, "壹佰零贰万零叁佰零肆元零伍分"),
    (9999999_99, "玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    # the 亿 group
    (100000000_00, "壹亿元整"),
    (100000001_00, "壹亿零壹元整"),
    (100010000_00, "壹亿零壹万元整"),
    (100100000_00, "壹亿零壹拾万元整"),
    (110000000_00, "壹亿壹仟万元整"),
    (101010101_01, "壹亿零壹佰零壹万零壹佰零壹元零壹分"),
    (1000000000000_00, "壹万亿元整"),
    (1000000010000_00, "壹万亿零壹万元整"),
    (1234567890123_45, "壹万贰仟叁佰肆拾伍亿陆仟柒佰捌拾玖万零壹佰贰拾叁元肆角伍分"),
    # reversals (红冲) are negative
    (-100_00, "负壹佰元整"),
    (-5, "负伍分"),
]


@pytest.mark.parametrize(("fen", "text"), CAPITALS)
def test_capital_numerals_follow_the_pboc_rules(fen: int, text: str) -> None:
    assert capital_yuan(fen) == text


_DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_SMALL_UNIT = {"拾": 10, "佰": 100, "仟": 1000}


def _parse_integer(text: str) -> int:
    """An independent reading of capital numerals: accumulate sections at 万 and 亿."""
    total = section = digit = 0
    for char in text:
        if char in _DIGIT:
            digit = _DIGIT[char]
        elif char in _SMALL_UNIT:
            section += digit * _SMALL_UNIT[char]
            digit = 0
        elif char == "万":
            section = (section + digit) * 10_000
            digit = 0
        elif char == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
        else:
            raise AssertionError(f"unexpected {char!r}")
    return total + section + digit


def parse_capital(text: str) -> int:
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负")
    if text == "零元整":
        return 0
    whole, _, cents = text.rpartition("元")
    fen = _parse_integer(whole) * 100 if whole else 0
    cents = cents.removesuffix("整").removeprefix("零")
    if "角" in cents:
        jiao, _, cents = cents.partition("角")
        fen += _DIGIT[jiao] * 10
    if cents:
        assert cents.endswith("分") and len(cents) == 2
        fen += _DIGIT[cents[0]]
    return sign * fen


@given(st.integers(min_value=-MAX_FEN, max_value=MAX_FEN))
def test_capital_numerals_read_back_to_the_same_amount(fen: int) -> None:
    text = capital_yuan(fen)
    assert parse_capital(text) == fen
    if fen == 0:
        return
    body = text.removeprefix("负")
    assert text.startswith("负") == (fen < 0)
    assert body[0] in _DIGIT and body[0] != "零", "starts with a digit, 壹拾 keeps its 壹"
    assert "零零" not in body, "a run of zeros is one 零"
    assert not any("零" + unit in body for unit in "拾佰仟万亿元角分整"), "no 零 before a unit"
    assert body.endswith("整") == (fen % 10 == 0), "整 exactly when there is no 分"


@given(st.integers(min_value=0, max_value=10**6 - 1))
def test_capital_numerals_agree_with_a_digit_by_digit_rendering_below_ten_thousand_yuan(fen: int) -> None:
    yuan, cents = divmod(fen, 100)
    digits = f"{yuan:04d}"
    expected = ""
    zero = False
    for digit, unit in zip(digits, ("仟", "佰", "拾", ""), strict=True):
        if digit == "0":
            zero = bool(expected)
            continue
        expected += ("零" if zero else "") + "零壹贰叁肆伍陆柒捌玖"[int(digit)] + unit
        zero = False
    expected = expected + "元" if yuan else ""
    jiao, fen_digit = divmod(cents, 10)
    if jiao:
        expected += "零壹贰叁肆伍陆柒捌玖"[jiao] + "角"
    elif fen_digit and yuan:
        expected += "零"
    expected += "零壹贰叁肆伍陆柒捌玖"[fen_digit] + "分" if fen_digit else "整"
    assert capital_yuan(fen) == (expected if fen else "零元整")


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (99, "0.99"),
        (100, "1.00"),
        (123456, "1,234.56"),
        (100000000, "1,000,000.00"),
        (-123456, "-1,234.56"),
        (-5, "-0.05"),
    ],
)
def test_yuan_is_formatted_with_thousands_separators(fen: int, text: str) -> None:
    assert format_yuan(fen) == text
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "fen"), [("12", 1200), ("12.5", 1250), ("0.07", 7), ("1234.56", 123456), ("-0.50", -50)]
)
def test_yuan_text_is_parsed_exactly(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-",
        ".5",
        "1.",
        "1.234",
        "1e3",
        "1,23.00",
        "12,34",
        " 12",
        "12 ",
        "+12",
        "１２",
        "1_000",
        "0x10",
        "nan",
        "1.2.3",
        "--1",
    ],
)
def test_malformed_yuan_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_yuan(text)


@given(st.integers(min_value=-MAX_FEN, max_value=MAX_FEN))
def test_formatting_and_parsing_round_trip(fen: int) -> None:
    assert parse_yuan(format_yuan(fen)) == fen


@pytest.mark.parametrize("value", [True, False, 1.0, 100.5, "100", None, 10**18])
def test_only_int_fen_is_money(value: object) -> None:
    with pytest.raises(InvalidAmount):
        check_fen(value)
    with pytest.raises(InvalidAmount):
        capital_yuan(value)  # type: ignore[arg-type]


def test_negative_amounts_only_where_allowed() -> None:
    with pytest.raises(InvalidAmount):
        check_fen(-1)
    assert check_fen(-1, negative=True) == -1
