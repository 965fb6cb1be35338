"""The development PKI: generated once, loaded after, extendable, and its revocation is real."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from signing import CaName, DevPki, PkiError, open_dev_pki
from signing.dev_responder import ocsp_response
from signing.profiles import NATURAL_PERSON_POLICY, ORGANISATION_SEAL_POLICY


def _policies(cert: x509.Certificate) -> set[str]:
    extension = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    return {policy.policy_identifier.dotted_string for policy in extension}


def test_generation_is_fast_idempotent_and_keys_are_private(tmp_path: Path) -> None:
    started = time.monotonic()
    first = open_dev_pki(tmp_path / "pki")
    assert time.monotonic() - started < 5
    second = open_dev_pki(tmp_path / "pki")
    assert second.root_certificate == first.root_certificate
    assert second.portal_seal().certificate == first.portal_seal().certificate
    assert second.tsa().certificate == first.tsa().certificate
    keys = list((tmp_path / "pki").rglob("*.key.pem"))
    # root, organisation CA, party CA, TSA, portal seal; SM2: root, organisation CA, seal maker, TSA
    assert len(keys) == 9
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in keys)


def test_agency_seal_is_issued_at_run_time_then_loaded(pki: DevPki) -> None:
    seal = pki.agency_seal("泉州市丰泽区交通运输局", "11350503MB0000003L")
    again = open_dev_pki(pki.directory).agency_seal("泉州市丰泽区交通运输局", "11350503MB0000003L")
    assert again.certificate == seal.certificate
    subject = seal.certificate.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "泉州市丰泽区交通运输局"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == "11350503MB0000003L"
    assert _policies(seal.certificate) == {ORGANISATION_SEAL_POLICY}
    assert [cert.subject for cert in seal.chain] == [
        pki.ca(CaName.ORGANISATIONS).certificate.subject,
        pki.root_certificate.subject,
    ]


def test_a_malformed_credit_code_is_refused(pki: DevPki) -> None:
    with pytest.raises(PkiError):
        pki.agency_seal("某机构", "../../etc/passwd")


def test_revocation_reaches_the_crl_and_the_ocsp_responder(pki: DevPki) -> None:
    seal = pki.agency_seal("被吊销的测试机构", "11350505MB0000005B")
    good = ocsp.load_der_ocsp_response(ocsp_response(pki, seal.certificate))
    assert good.certificate_status is ocsp.OCSPCertStatus.GOOD
    pki.revoke(seal.certificate)
    crl = x509.load_der_x509_crl(pki.crl(CaName.ORGANISATIONS))
    assert crl.get_revoked_certificate_by_serial_number(seal.certificate.serial_number) is not None
    assert crl.is_signature_valid(pki.ca(CaName.ORGANISATIONS).private_key.public_key())
    revoked = ocsp.load_der_ocsp_response(ocsp_response(pki, seal.certificate))
    assert revoked.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_time_utc is not None


def test_hostile_corpus_credentials(pki: DevPki) -> None:
    expired = pki.expired_seal().certificate
    assert expired.not_valid_after_utc < dt.datetime.now(dt.UTC)
    untrusted = pki.untrusted_seal()
    assert untrusted.chain[0].subject == untrusted.certificate.issuer
    assert untrusted.chain[0] != pki.root_certificate


def test_party_certificate_is_a_natural_person_under_the_party_ca(pki: DevPki) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    cert = pki.issue_party_certificate("李四", "ABCDEF0123456789ABCDEF0123456789", key.public_key())
    assert cert.issuer == pki.ca(CaName.PARTIES).certificate.subject
    assert _policies(cert) == {NATURAL_PERSON_POLICY}
    assert (
        cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
        == "ABCDEF0123456789ABCDEF0123456789"
    )
    assert not cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
