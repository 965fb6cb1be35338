"""``signing.pdf_arrays`` reads every array exactly as pyhanko's own reader does: same elements
(types, values, references and their PDF handler, container references), same stream position
after it, same error for a malformed one (a signature's ``/ByteRange`` is such an array, and
what it covers is what the verdict rests on)."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import KeySigner, SignatureSettings, pdf_arrays, sign_pdf
from tests.signing.sample_pdfs import make_pdf

SAMPLES = [
    b"[]", b"[ ]", b"[1 0 R]", b"[ 3 0 R 4 0 R\n5 0 R ]", b"[0 11548 28982 58806]", b"[1 2 3 0 R 4]",
    b"[12 0 R]/Count 3", b"[1\t0\r\nR\x0c2 0 R]", b"[01 00 R]", b"[0 0 R]", b"[1 0 R2 0 R]", b"[1 0R]",
    b"[12R]", b"[1 0 R", b"[1 0 R 2", b"[", b"[1 0 R %comment\n2 0 R]", b"[1\x000 R]", b"[1\x0b0 R]",
    b"[1 -2]", b"[1.5 2]", b"[1,2]", b"[+1]", b"[/Name 1 0 R]", b"[[1 0 R]]", b"[<41> 1]", b"[R]",
    b"[123456789012 0 R]", b"[1234567890 1234567 R]", b"[12345678 123456789 R]", b"[1      0      R]",
    b"[" + b" ".join(b"%d 0 R" % n for n in range(1, 2000)) + b"]", b"[" + b"7 " * 3000 + b"]",
]


def _described(value: object) -> object:
    if isinstance(value, generic.IndirectObject):
        return ("ref", value.idnum, value.generation, id(value.get_pdf_handler()), id(value.container_ref))
    if isinstance(value, generic.ArrayObject):
        return ("array", [_described(element) for element in value])
    return (type(value), value, id(getattr(value, "container_ref", None)))


def _outcome(reader: Callable[..., generic.ArrayObject], data: bytes,
             container: generic.Dereferenceable) -> tuple[object, ...]:
    stream = io.BytesIO(b"  " + data)
    stream.seek(2)
    try:
        value = reader(stream, container)
    except Exception as exc:  # the failure itself is what is compared
        return ("error", type(exc), str(exc))
    return (type(value), _described(value), stream.tell())


CONTAINER = generic.Reference(7, 0, pdf=object())


@pytest.mark.parametrize("data", SAMPLES)
def test_same_reading_as_pyhanko(data: bytes) -> None:
    expected = _outcome(pdf_arrays._pyhanko_reader, data, CONTAINER)
    assert _outcome(pdf_arrays.read_array, data, CONTAINER) == expected


def test_same_reading_as_pyhanko_on_random_arrays() -> None:
    rng = random.Random(32000)
    tokens = [b"1", b"0", b"12", b"007", b"123456789", b"R", b" ", b"  ", b"\n", b"\r\n", b"\t", b"\x0c",
              b"\x00", b"\x0b", b"%c\n", b"-", b".", b"/N", b"]", b"["]
    for _ in range(3000):
        data = b"[" + b"".join(rng.choice(tokens) for _ in range(rng.randrange(0, 30)))
        if rng.random() < 0.8:
            data += b"]"
        assert _outcome(pdf_arrays.read_array, data, CONTAINER) == _outcome(
            pdf_arrays._pyhanko_reader, data, CONTAINER), data


@contextmanager
def _arrays_read_by(reader: Callable[..., generic.ArrayObject]) -> Iterator[None]:
    installed = generic.ArrayObject.__dict__["read_from_stream"]
    generic.ArrayObject.read_from_stream = staticmethod(reader)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        generic.ArrayObject.read_from_stream = installed  # type: ignore[method-assign]


def _every_object(document: bytes) -> list[object]:
    reader = PdfFileReader(io.BytesIO(document))
    found: list[object] = [_normalised(reader.trailer_view)]
    for idnum in range(1, int(reader.trailer["/Size"])):
        try:
            found.append(_normalised(reader.get_object(generic.Reference(idnum, 0, reader))))
        except Exception as exc:  # a free entry: the same failure either way
            found.append(("error", type(exc)))
    return found


def _normalised(value: object) -> object:
    if isinstance(value, generic.IndirectObject):
        return ("ref", value.idnum, value.generation)
    if isinstance(value, generic.ArrayObject):
        return [_normalised(element) for element in value]
    if isinstance(value, generic.DictionaryObject):
        return {key: _normalised(value.raw_get(key)) for key in value}
    if isinstance(value, generic.StreamObject):
        return value.encoded_data
    return (type(value), value)


def test_sealed_documents_read_the_same(agency_rsa: KeySigner) -> None:
    for pages in (1, 100):
        sealed = sign_pdf(make_pdf(pages), agency_rsa, SignatureSettings())
        with _arrays_read_by(pdf_arrays._pyhanko_reader):
            expected = _every_object(sealed)
        with _arrays_read_by(pdf_arrays.read_array):
            assert _every_object(sealed) == expected


def test_installed_for_the_verifier() -> None:
    import signing.verify  # noqa: F401  (installing is part of importing the verifier)

    assert generic.ArrayObject.read_from_stream is pdf_arrays.read_array
