"""The development PKI: every certificate the portal needs to run without a real CA.

On first use ``open_dev_pki(directory)`` writes, under a lock so that two processes can race
for it, a root CA and below it an organisation CA (agency e-seals, the portal's own seal, the
TSA) and a party CA (per-party certificates of natural persons for remote signing). Later calls
load what is there, so the set is stable across restarts. Agencies can be added at any time:
``agency_seal(name, uscc)`` issues (once) and then loads that agency's seal certificate.

Revocation is real: ``revoke()`` records the revocation and re-issues the issuer's CRL at once;
``signing.dev_responder`` answers OCSP from the same records. End-entity certificates point at
``http://pki.dev.invalid/...`` for both, and the validator is wired (``trust_settings()``) to
answer those addresses in-process, so nothing goes to the network.

For the hostile corpus there are an already-expired seal and a seal under a root nobody trusts.
The national-standard half (SM2 root, CAs, seal maker, TSA) lives in ``<directory>/sm2``
(``signing.pki_sm2``), created with the rest and trusted beside it.
Keys are PEM files with mode 0600; the CAs and the TSA use EC P-256 (cheap to load), seals
default to RSA-2048, the profile most organisations still have.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.errors import PkiError
from signing.pki_sm2 import DevSm2Pki, Sm2CaName, write_atomic
from signing.profiles import (
    NATURAL_PERSON_POLICY,
    ORGANISATION_SEAL_POLICY,
    CaName,
    Credential,
    KeyAlgorithm,
    authority_key_identifier,
    ca_extensions,
    end_entity_extensions,
    issue,
    new_key,
    organisation_name,
)
from signing.trust import RevocationMode, TrustSettings

__all__ = ["DevPki", "open_dev_pki"]

DEFAULT_PORTAL_NAME = "行政执法服务门户（开发环境）"
_PKI_ORG = "行政执法服务门户开发测试PKI"
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def open_dev_pki(directory: Path, portal_name: str = DEFAULT_PORTAL_NAME) -> DevPki:
    """Create the development PKI in ``directory`` if needed, then load it."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    pki = DevPki(directory, portal_name)
    with pki.locked():
        pki.ensure_base()
    return pki


class DevPki:
    """Handle on a development PKI directory; build it with ``open_dev_pki``."""

    def __init__(self, directory: Path, portal_name: str = DEFAULT_PORTAL_NAME) -> None:
        self.directory = directory
        self.portal_name = portal_name
        self._cache: dict[str, Credential] = {}
        self._sm2: DevSm2Pki | None = None

    # -- layout and locking -------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        with open(self.directory / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ensure_base(self) -> None:
        """Issue whichever of the fixed credentials is missing (call under ``locked()``)."""
        root = self._ensure(CaName.ROOT, lambda: self._new_ca(CaName.ROOT, None, "开发测试根CA"))
        org_name = "开发测试机构签章CA"
        party_name = "开发测试个人签名CA"
        self._ensure(CaName.ORGANISATIONS, lambda: self._new_ca(CaName.ORGANISATIONS, root, org_name))
        self._ensure(CaName.PARTIES, lambda: self._new_ca(CaName.PARTIES, root, party_name))
        self._ensure("tsa", self._new_tsa)
        self._ensure("portal-seal", lambda: self._new_seal(self.portal_name, None, KeyAlgorithm.RSA_2048))
        for ca in CaName:
            if not (self.directory / "crl" / f"{ca}.crl").exists():
                self._write_crl(ca)
        self.sm2.ensure_base()

    def _ensure(self, name: str, factory: Callable[[], Credential]) -> Credential:
        if not (self.directory / f"{name}.crt.pem").exists():
            self._store(name, factory())
        return self.credential(name)

    def credential(self, name: str) -> Credential:
        """Load (once per handle) the credential stored under ``name``."""
        if name not in self._cache:
            try:
                cert = x509.load_pem_x509_certificate((self.directory / f"{name}.crt.pem").read_bytes())
                key = serialization.load_pem_private_key(
                    (self.directory / f"{name}.key.pem").read_bytes(), password=None
                )
            except (OSError, ValueError) as exc:
                raise PkiError(f"development credential {name!r} is missing or unreadable") from exc
            if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
                raise PkiError(f"development credential {name!r} has an unsupported key type")
            self._cache[name] = Credential(cert, key, self.chain_of(cert))
        return self._cache[name]

    def chain_of(self, cert: x509.Certificate) -> tuple[x509.Certificate, ...]:
        """The dev CAs above ``cert`` (nearest first); empty if no dev CA issued it."""
        if cert.issuer == cert.subject:
            return ()
        try:
            issuer = self.ca(self.ca_name_for(cert.issuer))
        except PkiError:
            return ()
        return (issuer.certificate, *issuer.chain)

    def _store(self, name: str, credential: Credential) -> None:
        path = self.directory / name
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_pem = credential.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_atomic(path.parent / f"{path.name}.key.pem", key_pem, mode=0o600)
        cert_pem = credential.certificate.public_bytes(serialization.Encoding.PEM)
        write_atomic(path.parent / f"{path.name}.crt.pem", cert_pem, mode=0o644)

    # -- the credentials ----------------------------------------------------------------
    def ca(self, name: CaName) -> Credential:
        return self.credential(str(name))

    def ca_name_for(self, issuer: x509.Name) -> CaName:
        for ca in CaName:
            if self.ca(ca).certificate.subject == issuer:
                return ca
        raise PkiError(f"certificate was not issued by this development PKI: {issuer.rfc4514_string()}")

    @property
    def root_certificate(self) -> x509.Certificate:
        return self.ca(CaName.ROOT).certificate

    @property
    def sm2(self) -> DevSm2Pki:
        """The national-standard (SM2) half of the development PKI, in ``<directory>/sm2``."""
        if self._sm2 is None:
            self._sm2 = DevSm2Pki(self.directory / "sm2", self.locked)
        return self._sm2

    def tsa(self) -> Credential:
        return self.credential("tsa")

    def portal_seal(self) -> Credential:
        return self.credential("portal-seal")

    def agency_seal(
        self, name: str, uscc: str, algorithm: KeyAlgorithm = KeyAlgorithm.RSA_2048
    ) -> Credential:
        """The e-seal credential of an agency, issued on first request."""
        if not _USCC.match(uscc):
            raise PkiError("a unified social credit code has 18 characters of [0-9A-Y] (no I O S V Z)")
        with self.locked():
            return self._ensure(f"agencies/{uscc}", lambda: self._new_seal(name, uscc, algorithm))

    def issue_party_certificate(
        self, name: str, pseudonym: str, public_key: ec.EllipticCurvePublicKey
    ) -> x509.Certificate:
        """Certify a natural person's key; the subject carries a pseudonym, never an ID number.

        The person's private key never reaches the PKI; ``chain_of()`` gives the issuers.
        """
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, pseudonym),
            ]
        )
        extensions = end_entity_extensions(CaName.PARTIES, NATURAL_PERSON_POLICY)
        return issue(subject, public_key, self.ca(CaName.PARTIES), extensions)

    def expired_seal(self) -> Credential:
        """A seal of the organisation CA whose validity ended a year ago (hostile corpus)."""

        def factory() -> Credential:
            now = dt.datetime.now(dt.UTC)
            subject = organisation_name("已过期测试机构", None)
            key = new_key(KeyAlgorithm.EC_P256)
            issuer = self.ca(CaName.ORGANISATIONS)
            extensions = end_entity_extensions(CaName.ORGANISATIONS, ORGANISATION_SEAL_POLICY)
            cert = issue(
                subject,
                key.public_key(),
                issuer,
                extensions,
                not_before=now - dt.timedelta(days=730),
                not_after=now - dt.timedelta(days=365),
            )
            return Credential(cert, key, ())

        with self.locked():
            return self._ensure("hostile/expired-seal", factory)

    def untrusted_seal(self) -> Credential:
        """A seal issued under a self-made root that no trust list contains (hostile corpus)."""

        def factory() -> Credential:
            root_key = new_key(KeyAlgorithm.EC_P256)
            root_subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "不受信任的测试根CA")])
            root_cert = issue(
                root_subject, root_key.public_key(), None, ca_extensions(None, None), signing_key=root_key
            )
            root = Credential(root_cert, root_key, ())
            key = new_key(KeyAlgorithm.EC_P256)
            cert = issue(
                organisation_name("冒充的测试机构", None),
                key.public_key(),
                root,
                end_entity_extensions(None, ORGANISATION_SEAL_POLICY),
            )
            self._store("hostile/untrusted-root", root)
            return Credential(cert, key, (root_cert,))

        with self.locked():
            seal = self._ensure("hostile/untrusted-seal", factory)
        root = x509.load_pem_x509_certificate(
            (self.directory / "hostile" / "untrusted-root.crt.pem").read_bytes()
        )
        return Credential(seal.certificate, seal.private_key, (root,))

    def trust_settings(self, revocation_mode: RevocationMode = RevocationMode.HARD_FAIL) -> TrustSettings:
        """Trust the dev roots (RSA/EC and SM2); answer their CRL/OCSP addresses from here."""
        root_der = self.root_certificate.public_bytes(serialization.Encoding.DER)
        return TrustSettings(
            trust_roots=(root_der, self.sm2.root_certificate.dump()),
            intermediate_certs=(self.sm2.credential(Sm2CaName.ORGANISATIONS).certificate.dump(),),
            revocation_mode=revocation_mode,
            dev_pki_dir=self.directory,
        )

    # -- revocation ---------------------------------------------------------------------
    def revoke(
        self,
        certificate: x509.Certificate,
        reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise,
        at: dt.datetime | None = None,
    ) -> None:
        """Record ``certificate`` as revoked and re-issue its issuer's CRL immediately."""
        ca = self.ca_name_for(certificate.issuer)
        when = at or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        with self.locked():
            records = self._revocation_records()
            records.setdefault(str(ca), {})[str(certificate.serial_number)] = {
                "at": when.isoformat(),
                "reason": reason.value,
            }
            write_atomic(self.directory / "revoked.json", json.dumps(records).encode(), mode=0o644)
            self._write_crl(ca)

    def revocation(self, ca: CaName, serial_number: int) -> tuple[dt.datetime, x509.ReasonFlags] | None:
        """When and why the certificate ``serial_number`` of ``ca`` was revoked, if it was."""
        record = self._revocation_records().get(str(ca), {}).get(str(serial_number))
        if record is None:
            return None
        return dt.datetime.fromisoformat(record["at"]), x509.ReasonFlags(record["reason"])

    def _revocation_records(self) -> dict[str, dict[str, dict[str, str]]]:
        path = self.directory / "revoked.json"
        if not path.exists():
            return {}
        records: dict[str, dict[str, dict[str, str]]] = json.loads(path.read_text())
        return records

    def crl(self, ca: CaName) -> bytes:
        """The current DER CRL of ``ca``; re-issued when it is less than a day from expiry."""
        path = self.directory / "crl" / f"{ca}.crl"
        current = x509.load_der_x509_crl(path.read_bytes())
        next_update = current.next_update_utc
        if next_update is None or next_update - dt.datetime.now(dt.UTC) < dt.timedelta(days=1):
            with self.locked():
                self._write_crl(ca)
        return path.read_bytes()

    def _write_crl(self, ca: CaName) -> None:
        issuer = self.ca(ca)
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.certificate.subject)
            .last_update(now - dt.timedelta(minutes=1))
            .next_update(now + dt.timedelta(days=7))
            .add_extension(x509.CRLNumber(int(now.timestamp() * 1000)), critical=False)
            .add_extension(authority_key_identifier(issuer.certificate), critical=False)
        )
        for serial, record in self._revocation_records().get(str(ca), {}).items():
            revoked = (
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial))
                .revocation_date(dt.datetime.fromisoformat(record["at"]))
                .add_extension(x509.CRLReason(x509.ReasonFlags(record["reason"])), critical=False)
                .build()
            )
            builder = builder.add_revoked_certificate(revoked)
        crl = builder.sign(issuer.private_key, hashes.SHA256())
        (self.directory / "crl").mkdir(mode=0o700, exist_ok=True)
        write_atomic(
            self.directory / "crl" / f"{ca}.crl", crl.public_bytes(serialization.Encoding.DER), mode=0o644
        )

    # -- factories ----------------------------------------------------------------------
    def _new_ca(self, name: CaName, parent: Credential | None, common_name: str) -> Credential:
        key = new_key(KeyAlgorithm.EC_P256)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, _PKI_ORG),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        now = dt.datetime.now(dt.UTC)
        extensions = ca_extensions(0 if parent else None, CaName.ROOT if parent else None)
        cert = issue(
            subject,
            key.public_key(),
            parent,
            extensions,
            signing_key=key,
            not_before=now - dt.timedelta(days=1095),
            not_after=now + dt.timedelta(days=7300),
        )
        return Credential(cert, key, ())

    def _new_tsa(self) -> Credential:
        key = new_key(KeyAlgorithm.EC_P256)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, _PKI_ORG),
                x509.NameAttribute(NameOID.COMMON_NAME, "开发测试时间戳服务"),
            ]
        )
        extensions = end_entity_extensions(CaName.ORGANISATIONS, None)
        extensions.append((x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True))
        cert = issue(
            subject,
            key.public_key(),
            self.ca(CaName.ORGANISATIONS),
            extensions,
            not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=3650),
        )
        return Credential(cert, key, ())

    def _new_seal(self, name: str, uscc: str | None, algorithm: KeyAlgorithm) -> Credential:
        key = new_key(algorithm)
        extensions = end_entity_extensions(CaName.ORGANISATIONS, ORGANISATION_SEAL_POLICY)
        cert = issue(
            organisation_name(name, uscc), key.public_key(), self.ca(CaName.ORGANISATIONS), extensions
        )
        return Credential(cert, key, ())

