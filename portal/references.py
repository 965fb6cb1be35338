"""Numbers people read aloud: short and grouped on pages, full in the API.

A submission's receipt number is a 32-hex-digit id (``secrets.token_hex(16)``), right for
machines and links and hopeless over the phone. People see ``reference(id)`` instead: its
first 40 bits in Crockford's base 32 (the case codes' alphabet: no I, L, O, U to misread) in
two groups of four, e.g. ``4KQ7-93TD``. It names the submission together with its case (a
person quotes both; 40 bits make two submissions of one case alike about once in 10^11), and
the full id stays on the page under 技术信息, on the sealed receipt and in the API.

A payment code (20 digits, typed at a bank counter) is shown in groups of four, the way bank
card numbers are printed.
"""

from __future__ import annotations

from portal.cases.codes import ALPHABET

_BITS = 40


def reference(public_id: str) -> str:
    """``4KQ7-93TD`` for a hex id (at least 10 hex digits)."""
    value = int(public_id[: _BITS // 4], 16)
    chars = "".join(ALPHABET[(value >> shift) & 31] for shift in range(_BITS - 5, -1, -5))
    return f"{chars[:4]}-{chars[4:]}"


def grouped_digits(digits: str, size: int = 4) -> str:
    """``5784 7203 9261 9467 1886``: digits in groups, for reading and typing."""
    return " ".join(digits[i:i + size] for i in range(0, len(digits), size))
