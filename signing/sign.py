"""PAdES signing of PDFs: agency e-seals, the portal's own seal, and parties' signatures.

All three are the same operation with a different key (see ``signing.keys``): the PDF gets an
incremental update holding an ``ETSI.CAdES.detached`` signature at the requested baseline
level, optionally with a visible round seal (``signing.seal_image``) placed on a page.

    B-B    signature with the signing-certificate attribute
    B-T    + an RFC 3161 signature timestamp from a ``TimestampClient``
    B-LT   + the validation data (certificates, CRLs/OCSP responses) in the document security
           store, so the signature can be checked offline later; needs ``TrustSettings``
    B-LTA  + a document timestamp over all of that

``SignatureSettings`` is the frozen, documented description of one signature (after pyHanko's
``PdfSignatureMetadata``). ``async_sign_pdf`` is for the event loop (it awaits the TSA);
``sign_pdf`` is its synchronous twin for threads, workers and the CLI.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import io
import uuid
from dataclasses import dataclass, field

from PIL import Image
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.stamp import StaticStampStyle

from signing.errors import ConfigurationError, SigningFailed
from signing.seal_image import SealStyle, draw_seal
from signing.timestamps import TimestampClient
from signing.trust import TrustSettings

__all__ = ["PadesLevel", "SealPlacement", "SignatureSettings", "async_sign_pdf", "sign_pdf"]


class PadesLevel(enum.StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1), in increasing order of strength."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def rank(self) -> int:
        return list(PadesLevel).index(self)


@dataclass(frozen=True)
class SealPlacement:
    """Where the visible seal goes: a page and a box in PDF points (origin bottom-left)."""

    page: int
    """0-based page index; negative counts from the end (-1 is the last page)."""
    box: tuple[float, float, float, float]
    """``(x1, y1, x2, y2)``, e.g. ``(400, 80, 520, 200)`` for a 120 pt seal near the bottom."""

    def __post_init__(self) -> None:
        x1, y1, x2, y2 = self.box
        if not (x2 - x1 > 0 and y2 - y1 > 0):
            raise ConfigurationError("the seal box needs a positive width and height")


@dataclass(frozen=True)
class SignatureSettings:
    """Everything about one signature except the key, the TSA and the trust settings."""

    level: PadesLevel = PadesLevel.B_B
    """Baseline level; B-T and above need a ``TimestampClient``, B-LT and above ``TrustSettings``."""

    placement: SealPlacement | None = None
    """Visible seal position; ``None`` signs invisibly."""

    seal_image: bytes | None = None
    """PNG to show at ``placement``; by default a round seal is drawn from the certificate's
    organisation (or, for a person, common name) with ``seal_style``."""

    seal_style: SealStyle = field(default_factory=SealStyle)

    field_name: str | None = None
    """Signature field to create; a unique ``Signature-…`` name when ``None``."""

    reason: str | None = None
    """Why it was signed, e.g. "送达回证" or "电子送达确认"."""

    location: str | None = None
    contact_info: str | None = None

    certify: bool = False
    """Certification (author) signature: only form filling and further signatures may follow.
    Must be the first signature of the document."""

    md_algorithm: str = "sha256"


@functools.lru_cache(maxsize=64)
def _drawn_seal(name: str, style: SealStyle) -> Image.Image:
    # Drawing costs ~0.1 s; a seal is the same picture on every document of its owner.
    return draw_seal(name, style)


def _appearance(settings: SignatureSettings, signer: signers.Signer) -> StaticStampStyle:
    picture: Image.Image
    if settings.seal_image is not None:
        try:
            picture = Image.open(io.BytesIO(settings.seal_image))
            picture.load()
        except (OSError, ValueError) as exc:
            raise ConfigurationError("seal_image is not a readable image") from exc
    else:
        cert = signer.signing_cert
        subject = cert.subject.native if cert is not None else {}
        name = subject.get("organization_name") or subject.get("common_name") or ""
        picture = _drawn_seal(str(name), settings.seal_style)
    return StaticStampStyle(
        background=PdfImage(picture),
        background_opacity=1.0,
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(0),
        ),
    )


async def async_sign_pdf(
    data: bytes,
    signer: signers.Signer,
    settings: SignatureSettings,
    *,
    timestamps: TimestampClient | None = None,
    trust: TrustSettings | None = None,
) -> bytes:
    """Sign ``data`` (a PDF) with ``signer`` and return the signed PDF's bytes.

    Raises ``ConfigurationError`` when the level's prerequisites are missing and
    ``SigningFailed`` when the PDF cannot be signed (unreadable, encrypted, bad field) or the
    signer's certificate does not validate for B-LT.
    """
    level = settings.level
    if level.rank >= PadesLevel.B_T.rank and timestamps is None:
        raise ConfigurationError(f"{level} needs a timestamp client")
    if level.rank >= PadesLevel.B_LT.rank and trust is None:
        raise ConfigurationError(f"{level} needs trust settings to collect validation data")
    field_name = settings.field_name or f"Signature-{uuid.uuid4().hex[:12]}"
    context = trust.validation_context() if trust and level.rank >= PadesLevel.B_LT.rank else None
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=settings.md_algorithm,
        reason=settings.reason,
        location=settings.location,
        contact_info=settings.contact_info,
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=settings.certify,
        embed_validation_info=context is not None,
        use_pades_lta=level is PadesLevel.B_LTA,
        validation_context=context,
    )
    placement = settings.placement
    box = None
    if placement is not None:
        x1, y1, x2, y2 = (round(value) for value in placement.box)
        box = (x1, y1, x2, y2)
    spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=placement.page if placement else 0, box=box)
    timestamped = timestamps is not None and level.rank >= PadesLevel.B_T.rank
    pdf_signer = signers.PdfSigner(
        metadata,
        signer,
        timestamper=timestamps.timestamper() if timestamped and timestamps else None,
        stamp_style=_appearance(settings, signer) if placement else None,
        new_field_spec=spec,
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        if writer.prev.encrypted:
            raise SigningFailed("the PDF is encrypted; decrypt it before sealing")
        output = await pdf_signer.async_sign_pdf(writer, output=io.BytesIO())
    except (PdfError, PyhankoSigningError, ValueError, KeyError, IndexError) as exc:
        raise SigningFailed(f"could not sign the PDF: {exc}") from exc
    finally:
        if context is not None:
            await context.aclose()
    return bytes(output.getvalue())


def sign_pdf(
    data: bytes,
    signer: signers.Signer,
    settings: SignatureSettings,
    *,
    timestamps: TimestampClient | None = None,
    trust: TrustSettings | None = None,
) -> bytes:
    """Synchronous ``async_sign_pdf``; do not call it from inside a running event loop."""
    return asyncio.run(async_sign_pdf(data, signer, settings, timestamps=timestamps, trust=trust))
