"""The worker's memory of costly verification steps (without it an OFD seal cost 2.2x PAdES):
entries expire when the revocation data behind them is due, and the cache stays bounded."""

from __future__ import annotations

import datetime as dt

import pytest
from asn1crypto import crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization

from signing import (
    DevPki,
    DevTimestampClient,
    Indication,
    KeySigner,
    PadesLevel,
    SignatureSettings,
    SubIndication,
    TrustSettings,
    VerificationContext,
    sign_pdf,
    verification_cache,
    verify_pdf,
)
from signing.documents import verify_document
from signing.pki_sm2 import Sm2CaName
from signing.verification_cache import MAX_AGE, ExpiringCache, revocation_expiry
from tests.signing.gm_corpus import GmCorpus
from tests.signing.sample_pdfs import make_pdf

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


# -- PAdES: the signer's and the TSA's path validations, per certificate ----------------------

def _pades_documents(signer: KeySigner, settings: SignatureSettings,
                     tsa: DevTimestampClient | None = None) -> tuple[bytes, bytes]:
    """Two different documents sealed with the same certificate."""
    return (sign_pdf(make_pdf(1), signer, settings, timestamps=tsa),
            sign_pdf(make_pdf(2), signer, settings, timestamps=tsa))


def test_a_second_pades_document_of_the_same_seal_skips_path_validation(
        agency_rsa: KeySigner, tsa: DevTimestampClient, context: VerificationContext) -> None:
    """Signer and TSA paths are validated once; the report (chain with its revocation
    status, timestamp, level) is the one a full validation gives."""
    first, second = _pades_documents(agency_rsa, SignatureSettings(level=PadesLevel.B_T), tsa)
    verification_cache.clear()
    chains = verification_cache.CHAINS
    cold = verify_pdf(second, context)
    assert (chains.hits, chains.misses, len(chains)) == (0, 2, 2)  # the TSA's, the signer's
    verification_cache.clear()
    verify_pdf(first, context)
    warm = verify_pdf(second, context)
    assert (chains.hits, chains.misses) == (2, 2)
    assert cold.passed and warm.passed
    assert warm.signatures == cold.signatures
    assert warm.signatures[0].certificate_chain[0].revocation.value == "GOOD"


def test_the_per_document_checks_still_run_on_a_remembered_certificate(
        agency_rsa: KeySigner, context: VerificationContext) -> None:
    """A remembered chain says nothing about the bytes: a changed document still fails."""
    first, second = _pades_documents(agency_rsa, SignatureSettings())
    verification_cache.clear()
    assert verify_pdf(first, context).passed
    tampered = bytearray(second)
    tampered[tampered.index(b"stream") + 10] ^= 0x01  # inside the signed byte range
    report = verify_pdf(bytes(tampered), context)
    assert not report.passed
    assert report.signatures[0].indication is Indication.TOTAL_FAILED


def test_a_revocation_is_seen_once_the_remembered_validation_is_due(
        pki: DevPki, context: VerificationContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache hides a revocation at most until the revocation data it rests on is due or
    MAX_AGE has passed (documented bound); then the validator asks again and sees it.
    A failed validation is never remembered."""
    seal = pki.agency_seal("将被吊销的测试机构", "11350102MB0000078L")
    first, second = _pades_documents(KeySigner.from_credential(seal), SignatureSettings())
    verification_cache.clear()
    started = verification_cache.clock()
    assert verify_pdf(first, context).passed
    pki.revoke(seal.certificate)
    assert verify_pdf(second, context).passed  # within the bound: the remembered answer
    later = started + MAX_AGE + dt.timedelta(seconds=1)
    monkeypatch.setattr(verification_cache, "clock", lambda: later)
    for _ in range(2):
        report = verify_pdf(second, context)
        assert report.indication is Indication.INDETERMINATE
        assert report.signatures[0].sub_indication is SubIndication.REVOKED_NO_POE
        assert report.signatures[0].certificate_chain[0].revocation.value == "REVOKED"
    chains = verification_cache.CHAINS
    assert chains.hits == 1 and len(chains) == 0  # the failure was validated again, not kept


def test_contexts_share_the_parsed_roots_but_not_what_a_document_brought(
        trust: TrustSettings, pki: DevPki) -> None:
    """The roots are parsed and indexed once per process; the certificates one document
    offers for path building are not offered to the next."""
    seal = pki.agency_seal("福州市鼓楼区市场监督管理局", "11350102MB0000001X")
    offered = asn1_x509.Certificate.load(seal.certificate.public_bytes(serialization.Encoding.DER))
    first = trust.validation_context(other_certs=[offered])
    second = trust.validation_context()
    assert first.path_builder.trust_manager is second.path_builder.trust_manager
    assert first.certificate_registry is not second.certificate_registry
    assert offered.issuer_serial in {cert.issuer_serial for cert in first.certificate_registry}
    assert offered.issuer_serial not in {cert.issuer_serial for cert in second.certificate_registry}
    assert len(trust.root_certificates()) == len(trust.trust_roots)


def test_a_signatures_certificates_are_extracted_once_per_document(
        agency_rsa: KeySigner, tsa: DevTimestampClient, context: VerificationContext,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """pyhanko asks twice for the signature's CMS value (three calls in all, with the
    timestamp's) through ``generic_cms.extract_certs_for_validation``; the verifier answers
    the second time from the document's memory. If pyhanko stops asking through that name,
    this fails and the replacement in ``signing.verify`` is to be revisited."""
    from pyhanko.sign.validation import generic_cms

    from signing import verify as verify_module

    document = sign_pdf(make_pdf(1), agency_rsa, SignatureSettings(level=PadesLevel.B_T), timestamps=tsa)
    calls: list[object] = []
    original = verify_module._pyhanko_extract_certs

    def counting(signed_data: object) -> object:
        calls.append(signed_data)
        return original(signed_data)

    monkeypatch.setattr(verify_module, "_pyhanko_extract_certs", counting)
    assert generic_cms.extract_certs_for_validation is verify_module._extracted_once
    first = verify_pdf(document, context)
    assert first.passed and first.signatures[0].timestamp is not None
    assert len(calls) == 2 and calls[0] is not calls[1]  # the signature's, the timestamp's
    assert verify_pdf(document, context).signatures == first.signatures
    assert len(calls) == 4  # nothing kept from one document to the next
