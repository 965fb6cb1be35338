"""Case codes (案件编码, FJ art. 29): short, printable, unguessable, self-checking.

A code is 12 random characters from Crockford's base-32 alphabet (60 bits from a CSPRNG, so
codes are not sequential and cannot be enumerated) plus one check character computed with
the Luhn mod-32 algorithm, which catches every single mistyped character and most swaps of
neighbours. Printed in groups, ``7KQ2-M9XD-4RTB-H``; typed input is forgiving: case, spaces,
hyphens, and the look-alikes O→0, I/L→1 are normalised before checking.

The QR code printed on paper links to ``/c/<code>?t=<token>``, where the token is an HMAC of
the code under the portal's secret (128 bits, SECURITY.md v5.0.0-11.5.1): it proves the link
came from a document the portal issued, not from guessing; the page it opens still shows only
the public status. ``case_url`` builds that link and ``qr_png``/``qr_svg`` draw it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from typing import Any

import qrcode
import qrcode.constants
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage

from notifications.rendering import personal_data_in

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INDEX = {char: i for i, char in enumerate(ALPHABET)}
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
RANDOM_LENGTH = 12
CODE_LENGTH = RANDOM_LENGTH + 1


def check_character(payload: str) -> str:
    """Luhn mod N (N = 32) over ``payload``: the character that makes the code check."""
    factor, total = 2, 0
    for char in reversed(payload):
        addend = factor * _INDEX[char]
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def new_code() -> str:
    """A fresh code that nobody, and no privacy guard, can mistake for personal data.

    The notifications' guard refuses an e-mail whose text looks like it carries an ID number
    or a mobile number, in a case code too (a refused notice aborts the act that queues it);
    about one random code in 10,000 also holds ``CNY`` or ``RMB`` between digits (``7CNY-…``),
    which a reader takes for an amount (the guard, since it knows the codes it shows, no
    longer does: codes issued before this draw are still in use). Such a code is never issued;
    drawing again costs 60 random bits about once per 10,000 cases."""
    while True:
        payload = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
        code = payload + check_character(payload)
        if not personal_data_in(f"{code} {display(code)}"):
            return code


def normalise(typed: str) -> str | None:
    """The canonical code for what a person typed, or None if it cannot be a valid code."""
    cleaned = "".join(typed.split()).replace("-", "").upper().translate(_LOOKALIKES)
    if len(cleaned) != CODE_LENGTH or any(char not in _INDEX for char in cleaned):
        return None
    return cleaned if check_character(cleaned[:-1]) == cleaned[-1] else None


def display(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def qr_token(secret: str, code: str) -> str:
    digest = hmac.new(secret.encode(), b"case-qr|" + code.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def token_matches(secret: str, code: str, token: str) -> bool:
    return hmac.compare_digest(qr_token(secret, code), token)


def case_url(public_url: str, secret: str, code: str) -> str:
    """The address a case's QR code encodes: the public status page with its token."""
    return f"{public_url}/c/{code}?t={qr_token(secret, code)}"


def _matrix(url: str) -> qrcode.QRCode[Any]:
    # Level M (15% of the symbol may be damaged): a printed notice gets folded and stamped on.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a PNG image (black on white, 4-module quiet zone)."""
    buffer = io.BytesIO()
    _matrix(url).make_image(image_factory=PilImage).save(buffer)
    return buffer.getvalue()


def qr_svg(url: str) -> bytes:
    """The QR code of ``url`` as one SVG path: scales to any print size without blurring."""
    buffer = io.BytesIO()
    _matrix(url).make_image(image_factory=SvgPathImage).save(buffer)
    return buffer.getvalue()


def qr_modules(url: str) -> list[list[bool]]:
    """The dark/light modules of the symbol, for checking an image without a QR reader."""
    return [list(row) for row in _matrix(url).get_matrix()]
