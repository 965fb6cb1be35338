"""Check-digit validation of the identifiers agencies name parties by.

- Resident identity number (公民身份号码, GB 11643-1999): 17 digits + an ISO 7064 MOD 11-2
  check character (0-9 or X), with a real birth date in positions 7-14.
- Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a
  31-character alphabet (no I, O, S, V, Z) with a MOD 31 check character.

Pure functions on strings: used by the API validators, the dev identity provider and tests.
"""

from __future__ import annotations

import re
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(rf"^[{USCC_ALPHABET}]{{18}}$")


def id_number_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalise_id_number(value: str) -> str:
    return value.strip().upper()


def is_valid_id_number(value: str) -> bool:
    value = normalise_id_number(value)
    if not _ID_SHAPE.match(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_number_check_char(value[:17]) == value[17]


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    return value.strip().upper()


def is_valid_credit_code(value: str) -> bool:
    value = normalise_credit_code(value)
    return bool(_USCC_SHAPE.match(value)) and uscc_check_char(value[:17]) == value[17]


def masked_identifier(identifier: str | None) -> str:
    """First 6 and last 4 characters (350102********123X): enough to tell people apart on a
    page or a receipt that also names them, without showing the whole number."""
    if not identifier:
        return ""
    return identifier[:6] + "*" * (len(identifier) - 10) + identifier[-4:]
