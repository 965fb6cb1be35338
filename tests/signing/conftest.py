"""Shared fixtures: one development PKI per session (in a temporary directory), signers for
every kind of key, the in-process TSA, sample PDFs and a verification worker pool."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from signing import (
    DevPki,
    DevTimestampClient,
    KeyAlgorithm,
    KeySigner,
    TrustSettings,
    VerificationContext,
    VerificationRunner,
    create_party_key,
    load_party_signer,
    open_dev_pki,
)
from tests.signing.gm_corpus import GmCorpus, build_corpus
from tests.signing.sample_pdfs import image_pdf, make_pdf

PARTY_SECRET = b"portal-party-key-secret-0123456789abcdef"
AGENCY_NAME = "福州市鼓楼区市场监督管理局"
AGENCY_USCC = "11350102MB0000001X"


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pki")


@pytest.fixture(scope="session")
def pki(pki_dir: Path) -> DevPki:
    return open_dev_pki(pki_dir)


@pytest.fixture(scope="session")
def trust(pki: DevPki) -> TrustSettings:
    return pki.trust_settings()


@pytest.fixture(scope="session")
def tsa(pki: DevPki) -> DevTimestampClient:
    return DevTimestampClient(pki.tsa())


@pytest.fixture(scope="session")
def agency_rsa(pki: DevPki) -> KeySigner:
    return KeySigner.from_credential(pki.agency_seal(AGENCY_NAME, AGENCY_USCC))


@pytest.fixture(scope="session")
def agency_ec(pki: DevPki) -> KeySigner:
    seal = pki.agency_seal("厦门市思明区城市管理局", "11350203MB0000002Y", KeyAlgorithm.EC_P256)
    return KeySigner.from_credential(seal)


@pytest.fixture(scope="session")
def portal_signer(pki: DevPki) -> KeySigner:
    return KeySigner.from_credential(pki.portal_seal())


@pytest.fixture(scope="session")
def party_signer(pki: DevPki) -> KeySigner:
    party_key = create_party_key(pki, "张三", "oidc|subject-42", PARTY_SECRET)
    return load_party_signer(party_key, PARTY_SECRET)


@pytest.fixture(scope="session")
def gm_corpus(pki: DevPki) -> GmCorpus:
    """The national-standard (SM2) corpus, built once per session."""
    return build_corpus(pki)


@pytest.fixture(scope="session")
def context(trust: TrustSettings) -> VerificationContext:
    return VerificationContext(trust=trust)


@pytest.fixture(scope="session")
def one_page() -> bytes:
    return make_pdf(1)


@pytest.fixture(scope="session")
def hundred_pages() -> bytes:
    return make_pdf(100)


@pytest.fixture(scope="session")
def pillow_pdf() -> bytes:
    return image_pdf()


@pytest.fixture(scope="session")
def runner(context: VerificationContext) -> Iterator[VerificationRunner]:
    pool = VerificationRunner(context, workers=2, time_budget=20.0)
    yield pool
    pool.close()
