"""Opening an OFD package (GB/T 33190: a ZIP of XML parts) without trusting it.

An uploaded OFD is hostile until proven otherwise, so the container is read under limits that
hold whatever its headers claim (headers that admit to more are refused at once): at most
``max_entries`` entries, each inflated to at most
``max_entry_bytes`` and at most ``max_ratio`` times its compressed size, all together at most
``max_total_bytes`` (counted while inflating, never taken from the central directory).
Names are internal only and never touch the filesystem; a name that is absolute, climbs with
``..``, uses a backslash or a control character, or appears twice (also after normalising
case and ``./``) makes the whole package unreadable, because two readers could then see two
different documents.

XML goes through ``defusedxml`` with DTDs forbidden outright: an OFD part never has one, and
refusing any ``<!DOCTYPE`` closes external entities and entity expansion (billion laughs) in
one rule, before expat expands anything. (lxml would need four parser switches to do the same
and still parse the DTD; the standard library's expat under defusedxml is the smaller surface.)
"""

from __future__ import annotations

import io
import posixpath
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

__all__ = ["OFD_NAMESPACE", "OfdPackage", "PackageLimits", "UnsafePackage", "resolve"]

OFD_NAMESPACE = "http://www.ofdspec.org/2016"
_CHUNK = 64 * 1024


class UnsafePackage(Exception):
    """The package breaks a limit or a naming rule; ``reason`` says which (English, for logs)."""

    def __init__(self, reason: str, *, too_large: bool = False, not_zip: bool = False) -> None:
        self.reason = reason
        self.too_large = too_large
        self.not_zip = not_zip
        super().__init__(reason)


@dataclass(frozen=True)
class PackageLimits:
    max_entries: int = 2_000
    max_entry_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 256 * 1024 * 1024
    max_ratio: int = 200
    max_xml_bytes: int = 8 * 1024 * 1024


class OfdPackage:
    """The entries of one OFD file, read on demand within ``PackageLimits``."""

    def __init__(self, data: bytes, limits: PackageLimits | None = None) -> None:
        self.limits = limits or PackageLimits()
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise UnsafePackage(f"not a readable ZIP: {exc}", not_zip=True) from exc
        if len(infos) > self.limits.max_entries:
            raise UnsafePackage("too many entries", too_large=True)
        declared = sum(info.file_size for info in infos)
        if declared > self.limits.max_total_bytes or any(
            info.file_size > max(info.compress_size, 1) * self.limits.max_ratio + _CHUNK for info in infos
        ):
            raise UnsafePackage("declared sizes beyond the limits", too_large=True)
        self._infos: dict[str, zipfile.ZipInfo] = {}
        seen: set[str] = set()
        for info in infos:
            if info.is_dir():
                continue
            name = _checked_name(info.filename)
            folded = unicodedata.normalize("NFC", name).casefold()
            if folded in seen:
                raise UnsafePackage(f"duplicate entry name {name!r}")
            seen.add(folded)
            self._infos[name] = info
        self._inflated = 0
        self._cache: dict[str, bytes] = {}

    @property
    def names(self) -> tuple[str, ...]:
        """Every file, as an absolute package path (``/Doc_0/Document.xml``)."""
        return tuple(sorted(f"/{name}" for name in self._infos))

    def has(self, path: str) -> bool:
        return path.lstrip("/") in self._infos

    def read(self, path: str) -> bytes:
        """The bytes of ``path`` (absolute package path); ``KeyError`` if there is none."""
        name = path.lstrip("/")
        if name in self._cache:
            return self._cache[name]
        info = self._infos[name]
        limit = min(self.limits.max_entry_bytes, max(info.compress_size, 1) * self.limits.max_ratio + _CHUNK)
        chunks: list[bytes] = []
        size = 0
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    self._inflated += len(chunk)
                    if size > limit or self._inflated > self.limits.max_total_bytes:
                        raise UnsafePackage(f"entry {name!r} inflates beyond the limits", too_large=True)
                    chunks.append(chunk)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise UnsafePackage(f"entry {name!r} is unreadable: {exc}") from exc
        data = b"".join(chunks)
        self._cache[name] = data
        return data

    def xml(self, path: str) -> ET.Element:
        """The root element of the XML part ``path``; ``UnsafePackage`` for a DTD or bad XML."""
        data = self.read(path)
        if len(data) > self.limits.max_xml_bytes:
            raise UnsafePackage(f"XML part {path!r} is too large", too_large=True)
        try:
            root: ET.Element = SafeET.fromstring(data, forbid_dtd=True)
        except (DefusedXmlException, ET.ParseError, ValueError) as exc:
            raise UnsafePackage(f"XML part {path!r} refused: {type(exc).__name__}") from exc
        return root


def _checked_name(name: str) -> str:
    if not name or name.startswith("/") or "\\" in name or any(ord(char) < 32 for char in name):
        raise UnsafePackage(f"unsafe entry name {name!r}")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts) or ":" in parts[0]:
        raise UnsafePackage(f"unsafe entry name {name!r}")
    return name


def resolve(base_file: str, reference: str) -> str | None:
    """The absolute package path ``reference`` names, read from ``base_file``; ``None`` if it
    leaves the package (GB/T 33190 ST_Loc: absolute from the package root, or relative to the
    folder of the file that holds it)."""
    reference = reference.strip()
    if not reference or "\\" in reference or "://" in reference or any(ord(c) < 32 for c in reference):
        return None
    if reference.startswith("/"):
        joined = reference
    else:
        joined = posixpath.join(posixpath.dirname(base_file), reference)
    parts: list[str] = []
    for part in joined.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts) if parts else None
