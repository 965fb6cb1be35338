"""The PKCS#11 key source against SoftHSM: seals made by a key that never leaves its token.

In production, keys come from PKCS#12 files or a PKCS#11 token (HSM); ASVS
v5.0.0-13.3.3 (signing inside an isolated security module) and v5.0.0-13.3.1 (the PIN is a
secret: never in a ``repr``, an error message or a log). The token (``softhsm_token``,
tests/conftest.py) holds the seals of its own CA (``hsm_pki``), which these tests trust.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pkcs11
import pytest
from asn1crypto import keys
from cryptography.hazmat.primitives import serialization
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass, SignMixin
from pkcs11.exceptions import PinIncorrect
from pkcs11.util.x509 import decode_x509_certificate

from signing import (
    ConfigurationError,
    DevPki,
    DevTimestampClient,
    Indication,
    KeySourceError,
    PadesLevel,
    Pkcs11Config,
    SignatureKind,
    SignatureSettings,
    TokenSigner,
    TrustSettings,
    VerificationContext,
    VerificationReport,
    async_sign_pdf,
    open_pkcs11_signer,
    sign_pdf,
    verify_pdf,
)
from tests.conftest import HSM_PORTAL_NAME
from tests.signing.softhsm import SoftHsmToken

AGENCY_EC_NAME = "厦门市思明区城市管理局"


@pytest.fixture(scope="module")
def hsm_trust(hsm_pki: DevPki) -> TrustSettings:
    return hsm_pki.trust_settings()


@pytest.fixture(scope="module")
def hsm_tsa(hsm_pki: DevPki) -> DevTimestampClient:
    return DevTimestampClient(hsm_pki.tsa())


@pytest.fixture(scope="module")
def hsm_context(hsm_trust: TrustSettings) -> VerificationContext:
    return VerificationContext(trust=hsm_trust)


@pytest.fixture
def portal_token_signer(softhsm_token: SoftHsmToken) -> Iterator[TokenSigner]:
    # function-scoped: between tests no session is open, so each test sees the token fresh
    with open_pkcs11_signer(softhsm_token.config("portal-seal")) as signer:
        yield signer


def _assert_sealed_by(report: VerificationReport, organisation: str, level: PadesLevel) -> None:
    assert report.indication is Indication.TOTAL_PASSED, report.summary
    (signature,) = report.signatures
    assert signature.pades_level is level
    assert signature.kind is SignatureKind.SEAL
    assert signature.organisation == organisation


@pytest.mark.parametrize("level", [PadesLevel.B_B, PadesLevel.B_T, PadesLevel.B_LT])
@pytest.mark.parametrize(("key_label", "organisation"),
                         [("portal-seal", HSM_PORTAL_NAME), ("agency-ec", AGENCY_EC_NAME)])
def test_a_token_key_seals_at_each_level_and_validates_total_passed(
    softhsm_token: SoftHsmToken, key_label: str, organisation: str, level: PadesLevel, one_page: bytes,
    hsm_tsa: DevTimestampClient, hsm_trust: TrustSettings, hsm_context: VerificationContext,
) -> None:
    # RSA-2048 (hash-and-sign mechanism) and EC P-256 (raw CKM_ECDSA over our digest)
    with open_pkcs11_signer(softhsm_token.config(key_label)) as signer:
        signed = sign_pdf(one_page, signer, SignatureSettings(level=level), timestamps=hsm_tsa,
                          trust=hsm_trust)
    _assert_sealed_by(verify_pdf(signed, hsm_context), organisation, level)


def test_the_chain_is_the_tokens_ca_certificates_not_other_seals(
    portal_token_signer: TokenSigner, hsm_pki: DevPki
) -> None:
    chain = {cert.dump() for cert in portal_token_signer.cert_registry}
    assert chain == {ca.public_bytes(serialization.Encoding.DER) for ca in hsm_pki.portal_seal().chain}


def test_concurrent_threads_share_the_session_and_every_seal_validates(
    portal_token_signer: TokenSigner, one_page: bytes, hsm_context: VerificationContext
) -> None:
    # 8 requests sealing at once, each in its own thread and event loop (as Notary.seal does)
    with ThreadPoolExecutor(max_workers=8) as pool:
        signed = list(pool.map(lambda _: sign_pdf(one_page, portal_token_signer, SignatureSettings()),
                               range(8)))
    assert len(set(signed)) == 8
    for document in signed:
        _assert_sealed_by(verify_pdf(document, hsm_context), HSM_PORTAL_NAME, PadesLevel.B_B)


async def test_concurrent_tasks_on_one_event_loop_all_validate(
    portal_token_signer: TokenSigner, one_page: bytes, hsm_context: VerificationContext
) -> None:
    signed = await asyncio.gather(
        *(async_sign_pdf(one_page, portal_token_signer, SignatureSettings()) for _ in range(8)))
    for document in signed:
        report = await asyncio.to_thread(verify_pdf, document, hsm_context)
        _assert_sealed_by(report, HSM_PORTAL_NAME, PadesLevel.B_B)


def test_two_signers_on_one_token_share_one_login(
    softhsm_token: SoftHsmToken, one_page: bytes, hsm_context: VerificationContext
) -> None:
    # a second C_Login on the token would fail (CKR_USER_ALREADY_LOGGED_IN): they share a session,
    # and closing one (no logout while the other still needs it) leaves the other working
    portal = open_pkcs11_signer(softhsm_token.config("portal-seal"))
    with open_pkcs11_signer(softhsm_token.config("agency-ec")) as agency:
        portal.close()
        signed = sign_pdf(one_page, agency, SignatureSettings())
    _assert_sealed_by(verify_pdf(signed, hsm_context), AGENCY_EC_NAME, PadesLevel.B_B)


def test_a_lost_session_is_reopened_and_the_seal_still_validates(
    portal_token_signer: TokenSigner, one_page: bytes, hsm_context: VerificationContext
) -> None:
    # stands for an HSM restart: the session (and the login) disappear under the signer
    portal_token_signer._token.session.close()  # type: ignore[union-attr]
    signed = sign_pdf(one_page, portal_token_signer, SignatureSettings())
    _assert_sealed_by(verify_pdf(signed, hsm_context), HSM_PORTAL_NAME, PadesLevel.B_B)


def test_a_closed_signer_refuses_to_sign(softhsm_token: SoftHsmToken, one_page: bytes) -> None:
    signer = open_pkcs11_signer(softhsm_token.config("portal-seal"))
    signer.close()
    signer.close()  # idempotent
    with pytest.raises(KeySourceError, match="closed"):
        sign_pdf(one_page, signer, SignatureSettings())


@pytest.mark.parametrize("while_open", [False, True], ids=["login", "already-open"])
def test_a_wrong_pin_is_refused_without_showing_any_pin(
    softhsm_token: SoftHsmToken, while_open: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # login: C_Login answers CKR_PIN_INCORRECT; already-open: the shared session is not handed
    # to an opener with another PIN
    caplog.set_level(logging.DEBUG)
    opened = open_pkcs11_signer(softhsm_token.config("portal-seal")) if while_open else None
    try:
        with pytest.raises(KeySourceError, match="wrong PIN") as caught:
            open_pkcs11_signer(softhsm_token.config("portal-seal", pin="0000-wrong"))
    finally:
        if opened is not None:
            opened.close()
    assert isinstance(caught.value.__cause__, PinIncorrect) is not while_open  # which path ran
    for text in (str(caught.value), repr(caught.value.__cause__), caplog.text):
        assert softhsm_token.pin not in text and "0000-wrong" not in text


def test_the_pin_is_not_in_the_configuration_repr(softhsm_token: SoftHsmToken) -> None:
    assert softhsm_token.pin not in repr(softhsm_token.config("portal-seal"))


def test_a_missing_key_label_is_a_clear_key_source_error(softhsm_token: SoftHsmToken) -> None:
    with pytest.raises(KeySourceError, match="'no-such-key'"):
        open_pkcs11_signer(softhsm_token.config("no-such-key"))


def test_a_missing_token_is_a_clear_key_source_error(softhsm_token: SoftHsmToken) -> None:
    config = Pkcs11Config(module=softhsm_token.module, token_label="no-such-token", key_label="portal-seal",
                          pin=softhsm_token.pin)
    with pytest.raises(KeySourceError, match="'no-such-token'"):
        open_pkcs11_signer(config)


def test_a_missing_or_broken_module_is_a_configuration_error(
    softhsm_token: SoftHsmToken, tmp_path: Path
) -> None:
    not_a_module = tmp_path / "libvendor-pkcs11.so"
    not_a_module.write_text("not a shared object")
    for module, message in ((tmp_path / "missing.so", "not found"), (not_a_module, "cannot load")):
        config = Pkcs11Config(module=module, token_label=softhsm_token.label, key_label="portal-seal",
                              pin=softhsm_token.pin)
        with pytest.raises(ConfigurationError, match=message):
            open_pkcs11_signer(config)


def test_a_key_that_does_not_belong_to_its_certificate_stops_start_up(softhsm_token: SoftHsmToken) -> None:
    # the probe signature at open time catches it, not the first seal a party would receive
    with pytest.raises(KeySourceError, match="does not belong to its certificate"):
        open_pkcs11_signer(softhsm_token.config("mismatched"))


def test_an_incomplete_configuration_is_refused() -> None:
    module = Path("/usr/lib/softhsm/libsofthsm2.so")
    with pytest.raises(ConfigurationError, match="token"):
        Pkcs11Config(module=module, key_label="seal", pin="1234")
    with pytest.raises(ConfigurationError, match="key"):
        Pkcs11Config(module=module, token_label="portal-hsm", pin="1234")
    with pytest.raises(ConfigurationError, match="PIN"):
        Pkcs11Config(module=module, token_label="portal-hsm", key_label="seal", pin="")


def test_an_sm2_certificate_on_a_token_is_refused_softhsm_cannot_sign_sm2(
        softhsm_token: SoftHsmToken, hsm_pki: DevPki) -> None:
    # SoftHSM 2.6.1 makes a key on the SM2 curve and signs with CKM_ECDSA there, but
    # that is ECDSA, which no SM2 verifier accepts, and it has no SM2 mechanism: refuse it.
    token = pkcs11.lib(os.path.realpath(softhsm_token.module)).get_token(token_label=softhsm_token.label)
    with token.open(rw=True, user_pin=softhsm_token.pin) as session:
        assert not [m for m in token.slot.get_mechanisms() if int(m) >= 0x80000000]  # no vendor ones
        names = {Attribute.TOKEN: True, Attribute.LABEL: "sm2-seal", Attribute.ID: b"\x99"}
        if not list(session.get_objects({Attribute.LABEL: "sm2-seal"})):
            curve = keys.ECDomainParameters(name="named", value="sm2p256v1").dump()
            session.generate_keypair(
                KeyType.EC, store=True, public_template={**names, Attribute.EC_PARAMS: curve},
                private_template={**names, Attribute.SIGN: True})
            certificate = hsm_pki.sm2.seal(HSM_PORTAL_NAME, None).certificate
            session.create_object({**decode_x509_certificate(certificate.dump()), **names})
        key = next(iter(session.get_objects({Attribute.LABEL: "sm2-seal",
                                              Attribute.CLASS: ObjectClass.PRIVATE_KEY})))
        assert isinstance(key, SignMixin)  # generated with CKA_SIGN
        assert len(key.sign(bytes(32), mechanism=Mechanism.ECDSA)) == 64  # r || s of ECDSA, not SM2
    with pytest.raises(KeySourceError, match="SM2"):
        open_pkcs11_signer(softhsm_token.config("sm2-seal"))
