"""The development SM2 PKI: national-standard certificates for seals the portal can check.

Beside the RSA/ECDSA development PKI (``signing.pki_dev``), under ``<pki>/sm2``, written once
under the same lock and loaded afterwards: an SM2 root CA, below it an organisation CA that
issues seal certificates (agencies', the portal's), the seal maker's certificate (制章者, the
system that signs GB/T 38540 seals) and a time-stamping certificate; CRLs of both CAs. Every
certificate is signed with SM2-with-SM3 (GM/T 0015 profile) and built with asn1crypto,
because ``cryptography`` can neither hold an SM2 key nor sign with one.

Certificates name ``http://pki.dev.invalid/sm2/crl/<ca>.crl``; ``signing.dev_responder``
answers it from this directory, so revocation is checked offline, through the same
pyhanko-certvalidator code as the RSA world. For the hostile corpus there are an expired seal
and a seal under an SM2 root nobody trusts.

``seal_file(name, uscc)`` plays the seal-making system (制章系统) as well: beside an
organisation's SM2 seal certificate it keeps that organisation's GB/T 38540-2020 seal
(``SESeal``, ``seals/<key>.esl``), signed by the seal maker, with the round seal picture
``signing.seal_image`` draws; the demo, the portal's own SM2 seal and the tests seal OFDs with it.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import io
import json
import os
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import crl, pem, x509
from PIL import Image

from signing.errors import PkiError
from signing.profiles import DEV_BASE_URL, ORGANISATION_SEAL_POLICY
from signing.seal_image import seal_png
from signing.ses import SealPicture, SesVersion, build_seal
from signing.sm2 import Sm2PrivateKey

__all__ = ["SM2_CRL_BASE", "DevSm2Pki", "Sm2CaName", "Sm2Credential", "write_atomic"]
_Factory = Callable[[], "tuple[x509.Certificate, Sm2PrivateKey]"]

SM2_CRL_BASE = f"{DEV_BASE_URL}/sm2/crl"
_PKI_ORG = "行政执法服务门户开发测试国密PKI"
_SIGNATURE = {"algorithm": "sm2_sm3"}


class Sm2CaName(enum.StrEnum):
    ROOT = "root"
    ORGANISATIONS = "org-ca"


@dataclass(frozen=True)
class Sm2Credential:
    """An SM2 certificate, its key and its issuers (nearest first)."""

    certificate: x509.Certificate
    private_key: Sm2PrivateKey
    chain: tuple[x509.Certificate, ...]


class DevSm2Pki:
    """Handle on ``<pki>/sm2``; ``signing.pki_dev.DevPki.sm2`` creates and returns it."""

    def __init__(self, directory: Path, locked: Callable[[], AbstractContextManager[None]]) -> None:
        self.directory = directory
        self.locked = locked
        """The development PKI's lock: every method that writes takes it, but ``ensure_base``."""
        self._cache: dict[str, Sm2Credential] = {}

    def ensure_base(self) -> None:
        """Issue what is missing (the caller holds the development PKI's lock)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        root = self._ensure(Sm2CaName.ROOT, lambda: self._new_ca("国密开发测试根CA", None))
        org = self._ensure(Sm2CaName.ORGANISATIONS, lambda: self._new_ca("国密开发测试机构CA", root))
        self._ensure("seal-maker", lambda: self._end_entity(_name("国密开发测试制章系统", None), org))
        self._ensure("tsa", lambda: self._end_entity(_name("国密开发测试时间戳服务", None), org, tsa=True))
        for ca in Sm2CaName:
            if not (self.directory / "crl" / f"{ca}.crl").exists():
                self._write_crl(ca)

    # -- credentials ----------------------------------------------------------------------
    def credential(self, name: str) -> Sm2Credential:
        if name not in self._cache:
            try:
                cert = _load_cert((self.directory / f"{name}.crt.pem").read_bytes())
                key = Sm2PrivateKey.from_pkcs8(_unarmor((self.directory / f"{name}.key.pem").read_bytes()))
            except (OSError, ValueError) as exc:
                raise PkiError(f"SM2 development credential {name!r} is missing or unreadable") from exc
            self._cache[name] = Sm2Credential(cert, key, self._chain_of(cert))
        return self._cache[name]

    def _chain_of(self, cert: x509.Certificate) -> tuple[x509.Certificate, ...]:
        if cert.self_issued:
            return ()
        for ca in (Sm2CaName.ORGANISATIONS, Sm2CaName.ROOT):
            path = self.directory / f"{ca}.crt.pem"
            if path.exists():
                issuer = _load_cert(path.read_bytes())
                if issuer.subject == cert.issuer:
                    return (issuer, *self._chain_of(issuer))
        return ()

    @property
    def root_certificate(self) -> x509.Certificate:
        return self.credential(Sm2CaName.ROOT).certificate

    def seal_maker(self) -> Sm2Credential:
        return self.credential("seal-maker")

    def tsa(self) -> Sm2Credential:
        return self.credential("tsa")

    def seal(self, name: str, uscc: str | None) -> Sm2Credential:
        """The SM2 seal certificate of an organisation, issued on first request."""
        key = f"seals/{uscc or hashlib.sha256(name.encode()).hexdigest()[:16]}"
        org = self.credential(Sm2CaName.ORGANISATIONS)
        with self.locked():
            return self._ensure(key, lambda: self._end_entity(_name(name, uscc), org))

    def seal_file(self, name: str, uscc: str | None) -> tuple[Sm2Credential, bytes]:
        """The organisation's SM2 seal certificate and its GB/T 38540-2020 seal (DER
        ``SESeal``), made by the development seal maker on first request and kept; the seal is
        valid as long as the certificate."""
        credential = self.seal(name, uscc)
        path = self.directory / f"seals/{uscc or hashlib.sha256(name.encode()).hexdigest()[:16]}.esl"
        with self.locked():
            if not path.exists():
                maker = self.seal_maker()
                certificate = credential.certificate
                seal = build_seal(
                    SesVersion.V4,
                    seal_id=f"{(uscc or '0' * 18)[-14:]}{certificate.serial_number % 10**4:04d}",
                    name=f"{name}电子印章",
                    signer_certs=(certificate,),
                    picture=SealPicture("PNG", _palette_png(seal_png(name)), 40, 40),
                    valid_from=certificate.not_valid_before,
                    valid_until=certificate.not_valid_after,
                    maker_cert=maker.certificate,
                    maker_key=maker.private_key,
                )
                write_atomic(path, seal, 0o644)
            return credential, path.read_bytes()

    def expired_seal(self) -> Sm2Credential:
        now = dt.datetime.now(dt.UTC)
        org = self.credential(Sm2CaName.ORGANISATIONS)
        with self.locked():
            return self._ensure(
                "hostile/expired-seal",
                lambda: self._end_entity(
                    _name("已过期国密测试机构", None),
                    org,
                    not_before=now - dt.timedelta(days=730),
                    not_after=now - dt.timedelta(days=365),
                ),
            )

    def untrusted_seal(self) -> Sm2Credential:
        """A seal under a self-made SM2 root that no trust list holds."""
        with self.locked():
            root = self._ensure(
                "hostile/untrusted-root", lambda: self._new_ca("不受信任的国密测试根CA", None)
            )
            return self._ensure(
                "hostile/untrusted-seal", lambda: self._end_entity(_name("冒充的国密测试机构", None), root)
            )

    def _ensure(self, name: str, factory: _Factory) -> Sm2Credential:
        if not (self.directory / f"{name}.crt.pem").exists():
            cert, key = factory()
            path = self.directory / name
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomic(
                path.parent / f"{path.name}.key.pem", pem.armor("PRIVATE KEY", key.to_pkcs8()), 0o600
            )
            write_atomic(path.parent / f"{path.name}.crt.pem", pem.armor("CERTIFICATE", cert.dump()), 0o644)
        return self.credential(name)

    # -- revocation -----------------------------------------------------------------------
    def revoke(self, certificate: x509.Certificate, at: dt.datetime | None = None) -> None:
        """Record ``certificate`` as revoked by the organisation CA and re-issue its CRL."""
        when = at or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        with self.locked():
            records = self._records()
            serial = str(certificate.serial_number)
            records.setdefault(str(Sm2CaName.ORGANISATIONS), {})[serial] = when.isoformat()
            write_atomic(self.directory / "revoked.json", json.dumps(records).encode(), 0o644)
            self._write_crl(Sm2CaName.ORGANISATIONS)

    def crl(self, ca: Sm2CaName) -> bytes:
        """The current DER CRL of ``ca``, re-issued when it is less than a day from expiry."""
        path = self.directory / "crl" / f"{ca}.crl"
        current = crl.CertificateList.load(path.read_bytes())
        next_update = current["tbs_cert_list"]["next_update"].native
        if next_update is None or next_update - dt.datetime.now(dt.UTC) < dt.timedelta(days=1):
            with self.locked():
                self._write_crl(ca)
        return path.read_bytes()

    def _records(self) -> dict[str, dict[str, str]]:
        path = self.directory / "revoked.json"
        records: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
        return records

    def _write_crl(self, ca: Sm2CaName) -> None:
        issuer = self.credential(ca)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        revoked = [
            {"user_certificate": int(serial), "revocation_date": _time(dt.datetime.fromisoformat(at))}
            for serial, at in self._records().get(str(ca), {}).items()
        ]
        tbs = crl.TbsCertList(
            {
                "version": "v2",
                "signature": _SIGNATURE,
                "issuer": issuer.certificate.subject,
                "this_update": _time(now - dt.timedelta(minutes=1)),
                "next_update": _time(now + dt.timedelta(days=7)),
                "revoked_certificates": revoked or None,
                "crl_extensions": [
                    {"extn_id": "crl_number", "extn_value": int(now.timestamp() * 1000)},
                    {
                        "extn_id": "authority_key_identifier",
                        "extn_value": {"key_identifier": issuer.certificate.key_identifier},
                    },
                ],
            }
        )
        signed = crl.CertificateList(
            {
                "tbs_cert_list": tbs,
                "signature_algorithm": _SIGNATURE,
                "signature": issuer.private_key.sign(tbs.dump()),
            }
        )
        (self.directory / "crl").mkdir(mode=0o700, exist_ok=True)
        write_atomic(self.directory / "crl" / f"{ca}.crl", signed.dump(), 0o644)

    # -- factories ------------------------------------------------------------------------
    def _new_ca(
        self, common_name: str, parent: Sm2Credential | None
    ) -> tuple[x509.Certificate, Sm2PrivateKey]:
        key = Sm2PrivateKey.generate()
        subject = x509.Name.build(
            {"country_name": "CN", "organization_name": _PKI_ORG, "common_name": common_name}
        )
        now = dt.datetime.now(dt.UTC)
        extensions: list[dict[str, object]] = [
            {
                "extn_id": "basic_constraints",
                "critical": True,
                "extn_value": {"ca": True, "path_len_constraint": 0 if parent else None},
            },
            {
                "extn_id": "key_usage",
                "critical": True,
                "extn_value": {"digital_signature", "key_cert_sign", "crl_sign"},
            },
        ]
        if parent is not None:
            extensions.append(_crl_point(Sm2CaName.ROOT))
        cert = _issue(
            subject, key, parent, extensions, now - dt.timedelta(days=1095), now + dt.timedelta(days=7300)
        )
        return cert, key

    def _end_entity(
        self,
        subject: x509.Name,
        issuer: Sm2Credential,
        *,
        tsa: bool = False,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> tuple[x509.Certificate, Sm2PrivateKey]:
        key = Sm2PrivateKey.generate()
        now = dt.datetime.now(dt.UTC)
        extensions: list[dict[str, object]] = [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": False}},
            {
                "extn_id": "key_usage",
                "critical": True,
                "extn_value": {"digital_signature", "non_repudiation"},
            },
        ]
        if issuer.certificate.subject != self._untrusted_root_subject():
            extensions.append(_crl_point(Sm2CaName.ORGANISATIONS))
        if tsa:
            extensions.append(
                {"extn_id": "extended_key_usage", "critical": True, "extn_value": ["time_stamping"]}
            )
        else:
            extensions.append(
                {
                    "extn_id": "certificate_policies",
                    "extn_value": [{"policy_identifier": ORGANISATION_SEAL_POLICY}],
                }
            )
        cert = _issue(
            subject,
            key,
            issuer,
            extensions,
            not_before or now - dt.timedelta(hours=1),
            not_after or now + dt.timedelta(days=1095),
        )
        return cert, key

    def _untrusted_root_subject(self) -> x509.Name | None:
        path = self.directory / "hostile" / "untrusted-root.crt.pem"
        return _load_cert(path.read_bytes()).subject if path.exists() else None


def _palette_png(png: bytes) -> bytes:
    """The seal drawn in 16 colours, as seal-making systems store pictures: a quarter of the
    size, and a seal signature carries its picture into every document it seals."""
    with Image.open(io.BytesIO(png)) as image:
        output = io.BytesIO()
        image.quantize(colors=16, method=Image.Quantize.FASTOCTREE).save(output, format="PNG", optimize=True)
    return output.getvalue()


def _name(organisation: str, uscc: str | None) -> x509.Name:
    values = {"country_name": "CN", "organization_name": organisation, "common_name": organisation}
    if uscc:
        values["organization_identifier"] = uscc
    return x509.Name.build(values)


def _time(moment: dt.datetime) -> x509.Time:
    moment = moment.astimezone(dt.UTC).replace(microsecond=0)
    return x509.Time(name="utc_time" if moment.year < 2050 else "general_time", value=moment)


def _crl_point(ca: Sm2CaName) -> dict[str, object]:
    url = f"{SM2_CRL_BASE}/{ca}.crl"
    return {
        "extn_id": "crl_distribution_points",
        "extn_value": [
            {
                "distribution_point": (
                    "full_name",
                    [x509.GeneralName(name="uniform_resource_identifier", value=url)],
                )
            }
        ],
    }


def _issue(
    subject: x509.Name,
    key: Sm2PrivateKey,
    issuer: Sm2Credential | None,
    extensions: list[dict[str, object]],
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    public_key = key.public_key
    ski = hashlib.sha1(public_key["public_key"].native, usedforsecurity=False).digest()
    all_extensions = [{"extn_id": "key_identifier", "extn_value": ski}, *extensions]
    if issuer is not None:
        all_extensions.append(
            {
                "extn_id": "authority_key_identifier",
                "extn_value": {"key_identifier": issuer.certificate.key_identifier},
            }
        )
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": secrets.randbits(63) | 1 << 62,
            "signature": _SIGNATURE,
            "issuer": issuer.certificate.subject if issuer else subject,
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": subject,
            "subject_public_key_info": public_key,
            "extensions": all_extensions,
        }
    )
    signing_key = issuer.private_key if issuer else key
    return x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": _SIGNATURE,
            "signature_value": signing_key.sign(tbs.dump()),
        }
    )


def _unarmor(data: bytes) -> bytes:
    _type, _headers, der = pem.unarmor(data)
    return bytes(der)


def _load_cert(data: bytes) -> x509.Certificate:
    return x509.Certificate.load(_unarmor(data) if pem.detect(data) else data)


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` through a temporary file, so readers never see half of it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
