"""``portal.attachments``: what a file is comes from its bytes and a real parse, never its name;
size and count limits (SECURITY.md "Uploads and PDFs", ASVS v5.0.0-5.1.1, 5.2.2, 5.3.2).

PDFs are opened here by the function the verification workers run
(``signing.structure.attachment_problem``), called in this process; that the portal runs it in
the workers is ``tests/portal/web/pages/test_untrusted_attachments.py``'s."""

from __future__ import annotations

import asyncio
import struct
import zlib

import pytest

from portal.attachments import (
    MAX_FILE_BYTES,
    MAX_FILES,
    Attachment,
    AttachmentRefused,
    MediaType,
    sniff,
)
from tests.portal.cases.factories import attached, jpeg, pdf, png
from tests.signing.hostile import long_last_line, many_revisions


def checked(files: list[bytes]) -> tuple[Attachment, ...]:
    return asyncio.run(attached(files))


def refusal(files: list[bytes]) -> tuple[str, int | None]:
    with pytest.raises(AttachmentRefused) as refused:
        checked(files)
    return refused.value.refusal, refused.value.position


def test_types_come_from_the_bytes_and_names_are_internal() -> None:
    accepted = checked([png(), pdf(), jpeg()])
    assert [a.media_type for a in accepted] == [MediaType.PNG, MediaType.PDF, MediaType.JPEG]
    assert [a.internal_name for a in accepted] == ["附件1.png", "附件2.pdf", "附件3.jpg"]
    assert sniff(b"hello, I am text named evidence.pdf") is None


def test_text_and_damaged_files_are_refused_whatever_their_name() -> None:
    assert refusal([pdf(), b"just text, saved as evidence.pdf"]) == ("unsupported_type", 2)
    assert refusal([pdf()[:400]]) == ("damaged", 1)  # truncated: no %%EOF, no xref
    assert refusal([b"%PDF-1.7\n%%EOF\n"]) == ("damaged", 1)  # a header is not a PDF
    assert refusal([png()[:60]]) == ("damaged", 1)
    assert refusal([b"\xff\xd8\xff" + b"\x00" * 100]) == ("damaged", 1)
    assert refusal([b""]) == ("file_empty", 1)


def test_size_and_count_limits() -> None:
    big = pdf() + b"%" * (MAX_FILE_BYTES - len(pdf()) + 1)
    assert refusal([big]) == ("file_too_large", 1)
    assert refusal([png()] * (MAX_FILES + 1)) == ("too_many_files", None)
    assert len(checked([png()] * MAX_FILES)) == MAX_FILES
    almost = pdf() + b"%" * (MAX_FILE_BYTES - len(pdf()) - 100) + b"\n%%EOF\n"
    assert refusal([almost, almost, almost]) == ("total_too_large", None)


def _claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels (CRC fixed up)."""
    data = bytearray(png((8, 8)))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def test_a_decompression_bomb_is_refused() -> None:
    # ASVS v5.0.0-5.2.x: a few bytes claiming 60 (and 400) million pixels are not opened
    assert refusal([_claiming(10000, 6000)]) == ("damaged", 1)
    assert refusal([_claiming(20000, 20000)]) == ("damaged", 1)


def test_a_pdf_built_to_be_slow_to_open_is_refused_as_too_complex() -> None:
    # SECURITY.md "Uploads and PDFs" (15.2.2): a long last line and thousands of revisions
    # cost pyHanko seconds; refused unparsed
    assert refusal([png(), long_last_line(pdf(), 2_000_000)]) == ("too_complex", 2)
    assert refusal([many_revisions(pdf(), 2_000)]) == ("too_complex", 1)
