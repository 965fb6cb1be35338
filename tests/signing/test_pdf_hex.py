"""``signing.pdf_hex`` reads every hex string exactly as pyhanko's own reader does: same
value, same stream position after it, same error for a malformed one (a signature's
``/Contents`` is the bytes the verdict rests on)."""

from __future__ import annotations

import io
import random

import pytest
from pyhanko.pdf_utils import generic

from signing import pdf_hex

SAMPLES = [
    b"<>", b"<41>", b"<414>", b"<4 1\n4\r2\t\x00\x0c>", b"<ABCdef01> trailing", b"<41 % comment\n42>",
    b"<41G2>", b"<4142", b"<", b"<41>>", b"<" + b"30" * 20_000 + b"00" * 20_000 + b">/Type",
    b"<" + b"ab " * 5000 + b"x>", b"<feff004100420043>", b"<" + b"0" * 1000,
]


def _outcome(reader, data: bytes) -> tuple[object, ...]:
    stream = io.BytesIO(b"  " + data)
    stream.seek(2)
    try:
        value = reader(stream)
    except Exception as exc:  # the failure itself is what is compared
        return ("error", type(exc), str(exc))
    return (type(value), value.original_bytes, str(value), stream.tell())


@pytest.mark.parametrize("data", SAMPLES)
def test_same_reading_as_pyhanko(data: bytes) -> None:
    assert _outcome(pdf_hex.read_hex_string, data) == _outcome(pdf_hex._pyhanko_reader, data)


def test_same_reading_as_pyhanko_on_random_strings() -> None:
    rng = random.Random(38540)
    alphabet = b"0123456789abcdefABCDEF \n\r\t\x00\x0c%>g<"
    for _ in range(2000):
        data = b"<" + bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 600)))
        assert _outcome(pdf_hex.read_hex_string, data) == _outcome(pdf_hex._pyhanko_reader, data), data


def test_installed_for_the_verifier() -> None:
    import signing.verify  # noqa: F401  (installing is part of importing the verifier)

    assert generic.read_hex_string_from_stream is pdf_hex.read_hex_string
