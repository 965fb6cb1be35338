"""Benchmark of the signing library: signing and verification times, with their baselines.

Run with ``.venv/bin/python bench/signing.py``. It builds a development PKI in a temporary
directory (removed when the run ends, with everything else it writes there) and a 1-page and
a 100-page PDF, then prints:

* signing per document through ``signing`` (``KeySigner``, RSA-2048 agency seal) against the
  naive pyhanko way (``SimpleSigner`` loaded from the same key, one signer object reused),
  with the ratio (target: at most 0.25x of ``SimpleSigner``); and, when Debian's ``softhsm2``
  is installed, through the PKCS#11 signer (``TokenSigner``) with the same key in a SoftHSM
  token (skipped with a note otherwise);
* verification per document: bare in-process pyhanko validation of the same signature (same
  trust and revocation sources), ``verify_pdf`` in-process and through the worker-process
  ``VerificationRunner``, each also as a multiple of hashing the same bytes with SHA-256;
* verification through the portal's public HTTP API (``POST /api/v1/verifications``: multipart
  upload, rate-limit check in the database, validation in the notary's worker process, JSON
  report), the app run in-process over ``httpx.ASGITransport`` with its SQLite database,
  next to bare pyhanko validation of the same files in the same run, with the ratio (target:
  at most 1.2x) and the multiple of SHA-256.

"Bare pyhanko" is pyhanko's own ``validate_pdf_signature`` with the same trust set-up
(``TrustSettings.validation_context()``: the same roots, revocation sources and SM2 validator),
without the portal's checks, report or caches of path validations. It runs in this process,
where importing ``signing`` has installed its replacements of pyhanko's and asn1crypto's
internals that give the same answers faster (``signing.pdf_hex``, ``signing.pdf_arrays``,
``signing.x509_names``): so the baseline is faster than pyhanko as installed, and the ratios
are the stricter for it.

``bench_verification(label, verify, documents)`` times any "bytes in, verdict out" callable the
same way and returns the medians, so two of them can be compared.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder would come first on sys.path and ``import signing``
# would import this very file; put the repository root there instead.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import asyncio  # noqa: E402
import hashlib  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402

import httpx  # noqa: E402
from asn1crypto import keys as asn1_keys  # noqa: E402
from asn1crypto import x509 as asn1_x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign import fields, signers  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature  # noqa: E402
from pyhanko_certvalidator.registry import SimpleCertificateStore  # noqa: E402

from bench.harness import sized  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.database import create_engine  # noqa: E402
from portal.schema import upgrade  # noqa: E402
from portal.settings import load_settings  # noqa: E402
from signing import (  # noqa: E402
    Credential,
    DevPki,
    KeySigner,
    SealPlacement,
    SignatureSettings,
    TrustSettings,
    VerificationContext,
    VerificationRunner,
    open_dev_pki,
    open_pkcs11_signer,
    sign_pdf,
    verification_cache,
    verify_document,
    verify_pdf,
)
from signing.ofd_build import SignedValueKind, build_ofd, seal_ofd  # noqa: E402
from signing.sm2_signer import Sm2Signer  # noqa: E402
from tests.signing.gm_corpus import national_pdf  # noqa: E402
from tests.signing.sample_pdfs import make_pdf  # noqa: E402
from tests.signing.softhsm import create_token, softhsm_missing  # noqa: E402


def per_call_ms(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``action`` in milliseconds, after one warm-up call."""
    action()
    times = []
    for _ in range(sized(repeat, 1)):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2] * 1000


def simple_signer(credential: Credential) -> signers.SimpleSigner:
    """pyhanko's own in-memory signer over the same key, as the pyhanko documentation shows it."""
    der = serialization.Encoding.DER
    key_der = credential.private_key.private_bytes(
        der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain = [asn1_x509.Certificate.load(cert.public_bytes(der)) for cert in credential.chain]
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(credential.certificate.public_bytes(der)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )


def naive_sign(document: bytes, signer: signers.SimpleSigner) -> bytes:
    metadata = signers.PdfSignatureMetadata(
        field_name="Signature", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(document), strict=False)
    return signers.sign_pdf(writer, metadata, signer=signer).getvalue()


def bare_pyhanko_validation(document: bytes, trust: TrustSettings) -> bool:
    signature = PdfFileReader(io.BytesIO(document)).embedded_signatures[0]
    status = validate_pdf_signature(signature, trust.validation_context())
    return bool(status.bottom_line)


def bench_verification(label: str, verify: Callable[[bytes], object], documents: dict[str, bytes],
                       repeat: int = 10) -> dict[str, float]:
    """Print the per-document time of ``verify`` and its multiple of SHA-256 over the bytes;
    return the median milliseconds per document name."""
    medians = {}
    for name, data in documents.items():
        hashing = per_call_ms(partial(hashlib.sha256, data), 200)
        elapsed = per_call_ms(partial(verify, data), repeat)
        ratio = elapsed / hashing
        print(f"  {label:<28} {name:<10} {elapsed:9.2f} ms   {ratio:10.0f}x SHA-256 ({hashing:.3f} ms)")
        medians[name] = elapsed
    return medians


class ApiVerifier:
    """The portal app in this process (no server socket), its database migrated, and a client
    that posts a PDF to the verification API and reads the JSON report. The development PKI is
    ``data_dir/pki``, so the app trusts what the benchmark signs with it."""

    def __init__(self, data_dir: Path) -> None:
        # a limit no benchmark reaches: the point is the cost of the check, not the refusal
        settings = load_settings({"DATA_DIR": str(data_dir), "VERIFY_UPLOADS_PER_MINUTE": "1000000",
                                  "LOG_LEVEL": "WARNING"})
        self.loop = asyncio.new_event_loop()
        engine = create_engine(settings.database_url)
        self.loop.run_until_complete(upgrade(engine))
        self.loop.run_until_complete(engine.dispose())
        self.app = create_app(settings)
        if importlib.util.find_spec("sniffio") is None:
            # httpx's in-process transport tries ``import sniffio`` on every request; with it
            # absent, each try searches sys.path again (0.17 ms), a cost of this client and not
            # of the portal. Marked absent, the import fails at once, as it would anyway.
            sys.modules["sniffio"] = None  # type: ignore[assignment]
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                        base_url=settings.public_url)

    async def _post(self, data: bytes) -> dict[str, object]:
        response = await self.client.post("/api/v1/verifications",
                                          files={"file": ("document.pdf", data, "application/pdf")})
        response.raise_for_status()
        report: dict[str, object] = response.json()
        return report

    def verify(self, data: bytes) -> dict[str, object]:
        return self.loop.run_until_complete(self._post(data))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.run_until_complete(self.app.state.notary.aclose())
        self.loop.run_until_complete(self.app.state.engine.dispose())
        self.loop.close()


def bench_api(data_dir: Path, signed: dict[str, bytes], trust: TrustSettings) -> None:
    api = ApiVerifier(data_dir)
    try:
        for name, document in signed.items():
            report = api.verify(document)
            assert report["indication"] == "TOTAL_PASSED", (name, report["summary"])
        # warm both worker processes of the pool before timing
        for _ in range(4):
            api.verify(signed[next(iter(signed))])
        print("\nVerification through the HTTP API, next to bare pyhanko (median per document, same run)")
        bare = bench_verification("bare pyhanko validation",
                                  lambda data: bare_pyhanko_validation(data, trust), signed, repeat=20)
        http = bench_verification("HTTP API (upload → JSON)", api.verify, signed, repeat=20)
        # The machine may be busy with other work: time the two alternately, call by call, and
        # take the median of the per-pair ratios, so that load drifting during the run hits both.
        paired = {name: paired_ratio(lambda data: bare_pyhanko_validation(data, trust), api.verify,
                                     document, 60) for name, document in signed.items()}
    finally:
        api.close()
    for name in signed:
        hashing = per_call_ms(partial(hashlib.sha256, signed[name]), 200)
        print(f"  {name:<10} HTTP API / bare pyhanko {http[name] / bare[name]:5.2f}x of the medians, "
              f"{paired[name]:5.2f}x paired (target ≤ 1.2x);  "
              f"HTTP API / SHA-256 {http[name] / hashing:8.0f}x")


def paired_ratio(baseline: Callable[[bytes], object], measured: Callable[[bytes], object], data: bytes,
                 pairs: int) -> float:
    """Median of ``measured`` / ``baseline`` over ``pairs`` back-to-back calls on ``data``,
    the order swapped every other pair: the second call of a pair finds the CPU's caches warm
    from the first, which would otherwise always favour the same side."""
    ratios = []
    for n in range(sized(pairs, 1)):
        first, second = (baseline, measured) if n % 2 == 0 else (measured, baseline)
        started = time.perf_counter()
        first(data)
        middle = time.perf_counter()
        second(data)
        ended = time.perf_counter()
        base, timed = (middle - started, ended - middle) if n % 2 == 0 else (ended - middle, middle - started)
        ratios.append(timed / base)
    ratios.sort()
    return ratios[len(ratios) // 2]


def bench_token(data_dir: Path, credential: Credential, documents: dict[str, bytes],
                naive_ms: dict[str, float]) -> None:
    """The same key in a SoftHSM token, signed through ``TokenSigner`` (one shared session)."""
    missing = softhsm_missing()
    if missing:
        print(f"  PKCS#11 token: skipped, softhsm2 missing ({missing}; make system-test installs it)")
        return
    token = create_token(data_dir / "softhsm", "bench", "bench-pin-1234", {"agency-seal": credential})
    with open_pkcs11_signer(token.config("agency-seal")) as signer:
        for name, document in documents.items():
            elapsed = per_call_ms(partial(sign_pdf, document, signer, SignatureSettings()), 30)
            print(f"  {name:<10} {elapsed:9.2f} ms   PKCS#11 token (SoftHSM), "
                  f"{elapsed / naive_ms[name]:.3f}x SimpleSigner")


def main() -> None:
    # the scratch folder holds the development PKI's private keys: removed however the run ends
    with tempfile.TemporaryDirectory(prefix="bench-signing-") as scratch:
        measure(Path(scratch))


def measure(data_dir: Path) -> None:
    """Print every figure, with the development PKI, SoftHSM token and portal database in
    ``data_dir``."""
    pki = open_dev_pki(data_dir / "pki")  # where portal.notary looks for it (DATA_DIR/pki)
    credential = pki.agency_seal("福州市鼓楼区市场监督管理局", "11350102MB0000001X")
    ours = KeySigner.from_credential(credential)
    naive = simple_signer(credential)
    documents = {"1 page": make_pdf(1), "100 pages": make_pdf(100)}

    # Where the time goes: the same KeySigner with pyhanko's per-signature attribute building.
    held_key_only = KeySigner.from_credential(credential)
    held_key_only.signed_attr_prov_spec = None

    print("Signing, RSA-2048 agency seal, PAdES B-B, invisible (median per document)")
    header = f"{'document':<10} {'signing/':>12} {'SimpleSigner':>14} {'ratio':>8}"
    print(f"  {header}   {'key held, default attributes':>28}")
    naive_ms = {}
    for name, document in documents.items():
        fast = per_call_ms(partial(sign_pdf, document, ours, SignatureSettings()), 30)
        slow = naive_ms[name] = per_call_ms(partial(naive_sign, document, naive), 10)
        middle = per_call_ms(partial(sign_pdf, document, held_key_only, SignatureSettings()), 10)
        print(f"  {name:<10} {fast:9.2f} ms {slow:11.2f} ms {fast / slow:7.3f}x   {middle:25.2f} ms")
    bench_token(data_dir, credential, documents, naive_ms)
    visible = SignatureSettings(placement=SealPlacement(page=0, box=(380, 60, 520, 200)))
    seal_ms = per_call_ms(lambda: sign_pdf(documents["1 page"], ours, visible), 10)
    print(f"  with a visible seal (1 page): {seal_ms:.2f} ms")

    trust = pki.trust_settings()
    context = VerificationContext(trust=trust)
    signed = {name: sign_pdf(document, ours, SignatureSettings()) for name, document in documents.items()}
    print("\nVerification of the signed documents (median per document)")
    bench_verification("bare pyhanko validation", lambda data: bare_pyhanko_validation(data, trust), signed)
    bench_verification("verify_pdf (in-process)", lambda data: verify_pdf(data, context), signed)
    runner = VerificationRunner(context)
    try:
        bench_verification(
            "VerificationRunner (worker)", lambda data: asyncio.run(runner.verify(data)), signed
        )
    finally:
        runner.close()
    bench_api(data_dir, signed, trust)
    bench_national(pki, context, documents["1 page"], signed["1 page"])


def bench_national(pki: DevPki, context: VerificationContext, document: bytes, pades: bytes) -> None:
    """National-standard seals per document next to PAdES (goal: at most 2x a PAdES one), with
    the worker's caches (``signing.verification_cache``) warm, as for the second document of
    the same agency, and cold, as for its first. The ratio is paired (each call next to a
    PAdES one, median of the ratios), so load drifting during the run hits both sides."""
    seal_cert, seal = pki.sm2.seal_file("福州市鼓楼区市场监督管理局", "11350102MB0000001X")
    ofd = build_ofd("行政处罚决定书", ["当事人：福州示例科技有限公司", "罚款人民币伍仟元整"])
    samples = {
        "SM2 PDF (1 page)": sign_pdf(document, Sm2Signer.from_credential(seal_cert),
                                     SignatureSettings(md_algorithm="sm3")),
        "PDF, GB/T 38540 seal": national_pdf(document, seal_cert, seal=seal),
        "OFD, GB/T 38540 seal": seal_ofd(ofd, SignedValueKind.SES, seal_cert.certificate,
                                         seal_cert.private_key, seal=seal),
        "OFD, GB/T 35275 PKCS#7": seal_ofd(ofd, SignedValueKind.PKCS7, seal_cert.certificate,
                                           seal_cert.private_key, chain=seal_cert.chain),
    }

    def pades_check(data: bytes) -> None:
        verify_pdf(data, context)

    pades_ms = per_call_ms(lambda: pades_check(pades), 20)
    print("\nNational-standard seals, in-process verify_document (median per document; goal <= 2x PAdES)")
    print(f"  {'PAdES RSA (1 page)':<24} {pades_ms:9.2f} ms")
    print(f"  {'':<24} {'warm caches':>21}   {'cold caches':>21}")
    for name, data in samples.items():
        report = verify_document(data, context)
        if not report.passed:
            raise SystemExit(f"{name} did not verify: {report.summary}")

        def warm(data: bytes = data) -> None:
            verify_document(data, context)

        def cold(data: bytes = data) -> None:
            verification_cache.clear()
            verify_document(data, context)

        warm_ms, cold_ms = per_call_ms(warm, 20), per_call_ms(cold, 20)
        warm_ratio = paired_ratio(lambda _: pades_check(pades), lambda _: warm(), data, 20)
        cold_ratio = paired_ratio(lambda _: pades_check(pades), lambda _: cold(), data, 20)
        print(f"  {name:<24} {warm_ms:7.2f} ms {warm_ratio:5.2f}x PAdES   "
              f"{cold_ms:7.2f} ms {cold_ratio:5.2f}x PAdES")


if __name__ == "__main__":
    main()
