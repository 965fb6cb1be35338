"""Which seal on a served document counts as the serving agency's (FJ art. 18; GD art. 27, 28).

An agency serves a document through the portal only sealed with its own e-seal: the portal
verifies the PDF (``portal.notary``) and then asks ``delivery_seal(report, agency)``. The
answer is a ``SealDecision``: the seal that counts, or the ``SealRefusal`` that says why none
does (the API answers 422 with the refusal's ``code`` and the report).

The rule today, in order:

1. the whole document must validate (``TOTAL_PASSED``: every signature intact, trusted, not
   revoked, and no disallowed change after any of them);
2. among its signatures, a *seal* (not a person's signature) whose certificate names the
   serving agency as its organisation; the first such seal counts;
3. nothing changed after any signature, not even a change the signatures permit (a form
   filled in over the sealed amount, an annotation): what was sealed must be all the file
   shows (``VerificationReport.changed_after_signing``).

A pure function on values, so that each step can grow (matching by unified social credit
code, say) with a property test beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from signing import SignatureKind, SignatureReport, VerificationReport


@dataclass(frozen=True)
class ServingAgency:
    """The agency serving the document, as the seal must name it."""

    name: str


class SealRefusal(StrEnum):
    DOCUMENT_NOT_VALID = "document_not_valid"
    """The document as a whole did not validate."""
    NO_SEAL_OF_AGENCY = "no_seal_of_agency"
    """It validates, but no seal on it is the serving agency's."""
    CHANGED_AFTER_SEAL = "changed_after_seal"
    """Sealed by the agency, but the file shows more than was sealed."""

    @property
    def code(self) -> str:
        """The API's problem code: ``seal_invalid`` or ``changed_after_seal``."""
        return "changed_after_seal" if self is SealRefusal.CHANGED_AFTER_SEAL else "seal_invalid"


@dataclass(frozen=True)
class SealDecision:
    seal: SignatureReport | None
    refusal: SealRefusal | None

    @property
    def accepted(self) -> bool:
        return self.seal is not None


def is_agency_seal(signature: SignatureReport, agency: ServingAgency) -> bool:
    """A seal (not a person's signature) whose certificate names ``agency``."""
    return signature.kind is SignatureKind.SEAL and signature.organisation == agency.name


def delivery_seal(report: VerificationReport, agency: ServingAgency) -> SealDecision:
    """The seal that makes ``report``'s document servable by ``agency``, or why there is none."""
    if not report.passed:
        return SealDecision(None, SealRefusal.DOCUMENT_NOT_VALID)
    seal = next((s for s in report.signatures if is_agency_seal(s, agency)), None)
    if seal is None:
        return SealDecision(None, SealRefusal.NO_SEAL_OF_AGENCY)
    if report.changed_after_signing:
        return SealDecision(None, SealRefusal.CHANGED_AFTER_SEAL)
    return SealDecision(seal, None)
