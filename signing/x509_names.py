"""asn1crypto's comparison of X.509 names, remembered by the names' DER bytes.

RFC 5280 compares names after the string preparation of RFC 4518 (``x509.Name.__eq__``), and
asn1crypto prepares every attribute afresh on every certificate it parses: mapping, NFKC,
the prohibited-character tables, one character at a time in Python. pyhanko compares names
all through a PAdES verification — finding the signer among the CMS certificates
(``match_issuer_serial`` for every certificate, the issuer first), the ESS signing-certificate
attribute, the trust roots and the registry keyed by ``Name.hashable`` — and since each
document's certificates are parsed anew, that string preparation was about 40% of verifying
a 1-page sealed PDF, for the same handful of names each time.

Both answers are functions of the names' encodings alone, so ``install()`` replaces
``x509.Name.__eq__`` and ``x509.Name.hashable`` with versions that ask asn1crypto once per
pair of encodings (per encoding for ``hashable``) and remember the answer, at most
``LIMIT`` of each in a process, the oldest forgotten first. An error (a name with a
character RFC 4518 prohibits) is never remembered: asn1crypto raises it again each time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from asn1crypto import x509

__all__ = ["LIMIT", "install", "name_hashable", "names_equal"]

LIMIT = 4096
_asn1crypto_equal: Callable[[x509.Name, object], bool] = x509.Name.__eq__
_asn1crypto_hashable: Callable[[x509.Name], str] = x509.Name.hashable.fget  # type: ignore[attr-defined]
_EQUAL: dict[tuple[bytes, bytes], bool] = {}
_HASHABLE: dict[bytes, str] = {}

_K = TypeVar("_K")
_V = TypeVar("_V")


def _remember(memory: dict[_K, _V], key: _K, value: _V) -> _V:
    memory[key] = value
    if len(memory) > LIMIT:
        del memory[next(iter(memory))]
    return value


def names_equal(self: x509.Name, other: object) -> bool:
    """``self == other`` as asn1crypto answers it (RFC 5280 §7.1), once per pair of encodings."""
    if not isinstance(other, x509.Name):
        return False
    key = (self.dump(), other.dump())
    known = _EQUAL.get(key)
    if known is None:
        known = _remember(_EQUAL, key, _asn1crypto_equal(self, other))
    return known


def name_hashable(self: x509.Name) -> str:
    """``self.hashable`` as asn1crypto computes it, once per encoding."""
    key = self.dump()
    known = _HASHABLE.get(key)
    if known is None:
        known = _remember(_HASHABLE, key, _asn1crypto_hashable(self))
    return known


def install() -> None:
    """Make asn1crypto's ``Name`` compare and hash through the memory (idempotent)."""
    x509.Name.__eq__ = names_equal  # type: ignore[method-assign,assignment]
    x509.Name.hashable = property(name_hashable)  # type: ignore[method-assign,assignment]
