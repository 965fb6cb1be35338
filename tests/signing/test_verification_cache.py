"""The worker's memory of costly verification steps (issue 17: an OFD seal cost 2.2x PAdES):
entries expire when the revocation data behind them is due, and the cache stays bounded."""

from __future__ import annotations

import datetime as dt

from asn1crypto import crl

from signing import DevPki, VerificationContext, verification_cache
from signing.documents import verify_document
from signing.pki_sm2 import Sm2CaName
from signing.verification_cache import MAX_AGE, ExpiringCache, revocation_expiry
from tests.signing.gm_corpus import GmCorpus

NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def test_entries_expire_and_the_least_recently_used_go_first() -> None:
    cache: ExpiringCache[str] = ExpiringCache(2)
    cache.put("a", "A", NOW + dt.timedelta(minutes=5))
    cache.put("b", "B")
    assert cache.get("a", NOW) == "A"  # now the most recently used
    cache.put("c", "C")
    assert (cache.get("b", NOW), cache.get("a", NOW), cache.get("c", NOW)) == (None, "A", "C")
    assert cache.get("a", NOW + dt.timedelta(minutes=5)) is None and "a" not in cache
    assert len(cache) == 1


def test_a_validation_is_trusted_until_its_crl_is_due_at_most_an_hour(pki: DevPki) -> None:
    sm2 = pki.sm2
    signer = sm2.seal("福州市鼓楼区市场监督管理局", "11350102MB0000001X")
    path = [signer.certificate, *signer.chain]
    crls = [crl.CertificateList.load(sm2.crl(ca)) for ca in Sm2CaName]
    now = dt.datetime.now(dt.UTC)
    assert revocation_expiry(path, crls, [], now) == now + MAX_AGE  # the CRLs run for a week
    due = min(c["tbs_cert_list"]["next_update"].native for c in crls)
    assert revocation_expiry(path, crls, [], due - dt.timedelta(minutes=10)) == due
    assert revocation_expiry(path, [], [], signer.certificate.not_valid_after) == (
        signer.certificate.not_valid_after)


def test_a_seal_seen_before_is_verified_from_memory_with_the_same_report(
        gm_corpus: GmCorpus, context: VerificationContext) -> None:
    verification_cache.clear()
    cold = verify_document(gm_corpus.v4, context)
    assert len(verification_cache.CHAINS) == 2 and len(verification_cache.PICTURES) == 1  # signer, maker
    warm = verify_document(gm_corpus.v4, context)
    assert warm.passed and cold.passed
    assert warm.signatures == cold.signatures
