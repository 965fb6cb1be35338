"""The verification report: its content, its JSON form, input limits and offline B-LT."""

from __future__ import annotations

import json

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization

from signing import (
    DevPki,
    DevTimestampClient,
    FileProblem,
    Indication,
    KeySigner,
    PadesLevel,
    RevocationStatus,
    SignatureKind,
    SignatureSettings,
    TrustSettings,
    VerificationContext,
    sign_pdf,
    verify_pdf,
)
from signing.inspection import signer_profile


@pytest.fixture(scope="module")
def b_lt(portal_signer: KeySigner, one_page: bytes, tsa: DevTimestampClient, trust: TrustSettings) -> bytes:
    return sign_pdf(
        one_page,
        portal_signer,
        SignatureSettings(level=PadesLevel.B_LT, reason="送达回证"),
        timestamps=tsa,
        trust=trust,
    )


def test_report_details_and_json(b_lt: bytes, context: VerificationContext) -> None:
    report = verify_pdf(b_lt, context)
    (signature,) = report.signatures
    assert signature.claimed_signing_time is not None and signature.timestamp is not None
    assert signature.timestamp.time >= signature.claimed_signing_time.replace(microsecond=0)
    leaf, issuing, root = signature.certificate_chain
    assert (leaf.revocation, leaf.revocation_source) == (RevocationStatus.GOOD, "OCSP")
    assert (issuing.revocation, issuing.revocation_source) == (RevocationStatus.GOOD, "CRL")
    assert root.revocation is RevocationStatus.TRUST_ANCHOR
    assert signature.modifications is not None and signature.modifications.later_revisions == 1  # the DSS
    document = json.loads(json.dumps(report.to_json_dict(), ensure_ascii=False))
    assert document["summary"] == "此文件的签章有效，签署后未被修改"
    assert document["signatures"][0]["pades_level"] == "B-LT"
    assert document["signatures"][0]["kind"] == "SEAL"
    assert document["signatures"][0]["modifications"]["level"] == "LTA_UPDATES"
    assert document["validated_at"].endswith("+00:00")


def test_b_lt_verifies_offline_from_embedded_data_and_b_t_cannot(
    b_lt: bytes, portal_signer: KeySigner, one_page: bytes, tsa: DevTimestampClient, trust: TrustSettings
) -> None:
    offline = VerificationContext(trust=TrustSettings(trust_roots=trust.trust_roots, fetch_online=False))
    assert verify_pdf(b_lt, offline).passed
    b_t = sign_pdf(one_page, portal_signer, SignatureSettings(level=PadesLevel.B_T), timestamps=tsa)
    report = verify_pdf(b_t, offline)
    assert report.indication is Indication.INDETERMINATE
    assert report.summary.startswith("无法验证：")


def test_input_limits(
    b_lt: bytes, one_page: bytes, trust: TrustSettings, context: VerificationContext
) -> None:
    small = VerificationContext(trust=trust, max_bytes=1024)
    assert verify_pdf(b_lt, small).problem is FileProblem.TOO_LARGE
    one_page_only = VerificationContext(trust=trust, max_pages=0)
    assert verify_pdf(b_lt, one_page_only).problem is FileProblem.TOO_COMPLEX
    assert verify_pdf(one_page, context).problem is FileProblem.NO_SIGNATURES
    garbage = verify_pdf(b"%PDF-1.7\n" + bytes(range(256)) * 40, context)
    assert garbage.problem is FileProblem.MALFORMED and garbage.summary == "无法验证：文件已损坏或格式错误"


def _certificate(subject: dict[str, str], policy: str | None = None) -> asn1_x509.Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    oids = {
        "cn": NameOID.COMMON_NAME,
        "o": NameOID.ORGANIZATION_NAME,
        "oid": NameOID.ORGANIZATION_IDENTIFIER,
        "gn": NameOID.GIVEN_NAME,
    }
    name = x509.Name([x509.NameAttribute(oids[key], value) for key, value in subject.items()])
    key = ec.generate_private_key(ec.SECP256R1())
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if policy:
        builder = builder.add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(policy), None)]),
            critical=False,
        )
    der = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


@pytest.mark.parametrize(
    ("subject", "policy", "kind"),
    [
        ({"o": "某局", "cn": "某局"}, None, SignatureKind.SEAL),
        ({"o": "某局", "cn": "经办章", "oid": "11350102MB0000001X"}, None, SignatureKind.SEAL),
        ({"o": "某局", "cn": "张三"}, None, SignatureKind.SIGNATURE),
        ({"o": "某局", "cn": "某局", "gn": "三"}, None, SignatureKind.SIGNATURE),
        ({"cn": "张三"}, "0.4.0.194112.1.1", SignatureKind.SEAL),  # QCP-l: legal person
        ({"o": "某局", "cn": "某局"}, "0.4.0.194112.1.2", SignatureKind.SIGNATURE),  # QCP-n-qscd
    ],
)
def test_seal_or_signature_is_decided_from_the_certificate(
    subject: dict[str, str], policy: str | None, kind: SignatureKind
) -> None:
    assert signer_profile(_certificate(subject, policy))[0] is kind


def test_dev_pki_profiles_are_classified(pki: DevPki, party_signer: KeySigner) -> None:
    seal = asn1_x509.Certificate.load(pki.portal_seal().certificate.public_bytes(serialization.Encoding.DER))
    assert signer_profile(seal)[0] is SignatureKind.SEAL
    assert signer_profile(party_signer.signing_cert)[0] is SignatureKind.SIGNATURE
