"""Money as integer fen: validation, yuan formatting and parsing, Chinese capital numerals.

Every amount in the portal is an `int` number of fen (1 yuan = 100 fen), in the API, the
database and here (LAW.md, "Money is exact"). Floats never enter: `check_fen` refuses them,
and refuses `bool` too, which Python would otherwise accept as the integers 0 and 1. Amounts
that arrive as yuan text (payment platforms send "123.45") are parsed digit by digit by
`parse_yuan`, never through `float` or `Decimal` rounding.

`capital_yuan` writes an amount in capital numerals (大写金额) as receipts and payment
documents require, following the People's Bank of China rules for filling in bills and
settlement vouchers (《正确填写票据和结算凭证的基本规定》):

- 壹贰叁肆伍陆柒捌玖 with 拾佰仟万亿; "壹拾" keeps its 壹 (10 → 壹拾元整).
- Zeros inside the number are written as one 零, however many there are (6007.14 →
  陆仟零柒元壹角肆分), also across the 万 and 亿 groups (100000001 → 壹亿零壹元整).
- Where the rules allow a 零 or not (a zero 万 or 元 digit followed by a non-zero 仟 or 角
  digit), this module writes none before a non-zero 仟 digit (107000.53 → 壹拾万柒仟元伍角叁分)
  and none between 元 and a non-zero 角 (1680.32 → 壹仟陆佰捌拾元叁角贰分): one fixed choice, so
  the same amount always reads the same.
- A zero 角 before a non-zero 分 is written 零 (325.04 → 叁佰贰拾伍元零肆分).
- 整 closes an amount without 分, after 元 or after 角 (100 → 壹佰元整, 0.50 → 伍角整), so
  nothing can be appended; an amount with 分 has no 整.
- Amounts under one yuan start with their 角 or 分 (0.05 → 伍分); zero is 零元整.
- A negative amount (red-letter reversal receipts) is prefixed 负.
"""

from __future__ import annotations

from payments.errors import InvalidAmount

__all__ = ["MAX_FEN", "capital_yuan", "check_fen", "format_yuan", "parse_yuan"]

MAX_FEN = 10**18 - 1
"""The largest amount accepted (within a signed 64-bit column, below 亿亿 yuan)."""

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")


def check_fen(value: object, *, name: str = "amount_fen", negative: bool = False) -> int:
    """Return ``value`` if it is an ``int`` amount of fen, else raise `InvalidAmount`.

    ``bool`` and ``float`` are refused even when integral (``True``, ``100.0``): an amount that
    arrives as either is a bug upstream. ``negative`` allows amounts below zero (reversals).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(f"{name} must be an int number of fen, not {type(value).__name__}")
    if value < 0 and not negative:
        raise InvalidAmount(f"{name} must not be negative")
    if abs(value) > MAX_FEN:
        raise InvalidAmount(f"{name} is out of range")
    return value


def format_yuan(fen: int) -> str:
    """``123456`` → ``"1,234.56"``; negative amounts get a leading ``-``."""
    check_fen(fen, name="fen", negative=True)
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


def parse_yuan(text: str) -> int:
    """Exact fen from yuan text: ``"1,234.56"``, ``"1234.5"``, ``"12"``, ``"-0.07"``.

    Refuses more than two decimals, exponents, blanks inside, and anything but ASCII digits,
    so a platform cannot smuggle a rounding in. Thousands separators must be well placed.
    """
    if not isinstance(text, str):
        raise InvalidAmount(f"yuan text expected, not {type(text).__name__}")
    body = text[1:] if text.startswith("-") else text
    whole, dot, frac = body.partition(".")
    if dot and not 1 <= len(frac) <= 2:
        raise InvalidAmount("yuan text must have one or two decimals after the point")
    if "," in whole:
        groups = whole.split(",")
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise InvalidAmount("misplaced thousands separator in yuan text")
        whole = "".join(groups)
    if not (whole.isascii() and whole.isdigit()) or (frac and not (frac.isascii() and frac.isdigit())):
        raise InvalidAmount("yuan text must contain only digits, one point and separators")
    fen = int(whole) * 100 + int(frac.ljust(2, "0") or "0")
    if text.startswith("-"):
        fen = -fen
    return check_fen(fen, name="yuan text", negative=True)


def _group(n: int) -> str:
    """1..9999 in capitals, zeros inside collapsed to one 零, trailing zeros dropped."""
    out: list[str] = []
    pending_zero = False
    for position in range(3, -1, -1):
        digit = n // 10**position % 10
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_DIGITS[digit] + _UNITS[position])
    return "".join(out)


def _joined(high: str, unit: str, low: int, low_width: int, low_words: str) -> str:
    """``high`` + ``unit`` followed by the lower part, with 零 where the lower part has
    leading zeros (it is shorter than ``low_width`` digits)."""
    if low == 0:
        return high + unit
    gap = "零" if low < 10 ** (low_width - 1) else ""
    return high + unit + gap + low_words


def _integer(n: int) -> str:
    """A positive integer of yuan in capitals, recursively by 亿 and then by 万."""
    if n >= 10**8:
        low = n % 10**8
        return _joined(_integer(n // 10**8), "亿", low, 8, _integer(low) if low else "")
    if n >= 10**4:
        low = n % 10**4
        return _joined(_group(n // 10**4), "万", low, 4, _group(low) if low else "")
    return _group(n)


def capital_yuan(fen: int) -> str:
    """The amount in Chinese capital numerals (大写金额); see the module docstring for the rules.

    >>> capital_yuan(123456)
    '壹仟贰佰叁拾肆元伍角陆分'
    """
    check_fen(fen, name="fen", negative=True)
    if fen == 0:
        return "零元整"
    sign = "负" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    jiao, fen_digit = divmod(cents, 10)
    text = _integer(yuan) + "元" if yuan else ""
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif fen_digit and yuan:
        text += "零"
    if fen_digit:
        text += _DIGITS[fen_digit] + "分"
    else:
        text += "整"
    return sign + text
