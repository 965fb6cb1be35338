"""What a verification worker remembers between files: the costly parts that repeat.

National-standard seals repeat: every fiscal e-receipt of a finance bureau carries the same
seal, made by the same seal maker, signed with the same certificate. Verifying one costs two
certificate path validations (the signer's and the seal maker's, each with its CRLs) and the
re-drawing of the seal's picture — about 60% of an OFD's verification (without this cache an
OFD cost 2.2x a PAdES document). Both answers depend only on things we can name exactly, so
each worker process keeps them, bounded in number:

* ``CHAINS``: a successful path validation, keyed by the trust settings, the certificate's
  SHA-256, the role it was validated for and the other certificates offered for path
  building; valid until the revocation information it rests on is due to be renewed (the
  earliest ``nextUpdate`` of the CRLs and OCSP responses consulted), the earliest
  ``notAfter`` on the path, and at most ``MAX_AGE``: a CA may publish a CRL before the last
  one's ``nextUpdate`` (RFC 5280 §5.1.2.5), and an hour bounds how late a revocation is seen.
  Failures are never kept (they may be a passing network problem, and they are cheap).
* ``PICTURES``: the PNG re-drawn from a seal's picture, keyed by the SHA-256 of its declared
  type and bytes; it depends on nothing else.

The PAdES side (``signing.verify``) keeps its path validations, of the signer's and the
TSA's certificates, in ``CHAINS`` under the same rules; the checks of each document (byte
range, digest, CMS signature, timestamp imprint, changes after signing) are never kept.

Nothing here is shared between processes or persisted; ``clear()`` empties both (tests,
benchmarks of the cold path). Each cache counts its ``hits`` and ``misses``, so a test can
tell a remembered validation from a new one without timing it.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from asn1crypto import crl, ocsp, x509

__all__ = ["CHAINS", "MAX_AGE", "PICTURES", "ExpiringCache", "clear", "revocation_expiry"]

MAX_AGE = dt.timedelta(hours=1)


def clock() -> dt.datetime:
    """The time entries are kept against (one place, so a test can move it on)."""
    return dt.datetime.now(dt.UTC)

_V = TypeVar("_V")


class ExpiringCache(Generic[_V]):
    """At most ``size`` entries, least recently used out first, each with its expiry."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._entries: collections.OrderedDict[Hashable, tuple[_V, dt.datetime | None]] = (
            collections.OrderedDict()
        )

    def get(self, key: Hashable, now: dt.datetime | None = None) -> _V | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        value, expires = entry
        if expires is not None and expires <= (now or clock()):
            del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: Hashable, value: _V, expires: dt.datetime | None = None) -> None:
        """Keep ``value`` until ``expires`` (``None``: as long as there is room)."""
        self._entries[key] = (value, expires)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __contains__(self, key: Hashable) -> bool:
        entry = self._entries.get(key)
        return entry is not None and (entry[1] is None or entry[1] > clock())

    def __len__(self) -> int:
        return len(self._entries)


def revocation_expiry(
    path: Iterable[x509.Certificate],
    crls: Iterable[crl.CertificateList],
    ocsps: Iterable[ocsp.OCSPResponse],
    now: dt.datetime | None = None,
) -> dt.datetime:
    """Until when a path validated with these CRLs and OCSP responses may be trusted again
    without checking: the earliest of their next updates, the certificates' ends and
    ``MAX_AGE`` from now."""
    moments = [(now or clock()) + MAX_AGE]
    moments += [cert.not_valid_after for cert in path]
    for certificate_list in crls:
        next_update = certificate_list["tbs_cert_list"]["next_update"].native
        if next_update is not None:
            moments.append(next_update)
    for response in ocsps:
        try:
            basic = response["response_bytes"]["response"].parsed
            singles = basic["tbs_response_data"]["responses"]
        except (KeyError, ValueError, TypeError):
            continue
        for single in singles:
            if single["next_update"].native is not None:
                moments.append(single["next_update"].native)
    return min(moments)


CHAINS: ExpiringCache[object] = ExpiringCache(256)
PICTURES: ExpiringCache[bytes | None] = ExpiringCache(64)


def clear() -> None:
    """Forget everything (the next verification takes the cold path)."""
    for cache in (CHAINS, PICTURES):
        cache._entries.clear()
        cache.hits = cache.misses = 0
