"""Which seal on a served document counts as the serving agency's (FJ art. 18; GD art. 27, 28).

An agency serves a document through the portal only sealed with its own e-seal: the portal
verifies the PDF (``portal.notary``) and then asks ``delivery_seal(report, agency)``. The
answer is a ``SealDecision``: the seal that counts, or the ``SealRefusal`` that says why none
does (the API answers 422 with the refusal's ``code`` and the report).

The rule, in order:

0. the agency must be known by its unified social credit code (统一社会信用代码): an agency
   recorded without one serves nothing (``agency_credit_code_missing``, asked before the
   file is even verified);
1. the whole document must validate (``TOTAL_PASSED``: every signature intact, trusted, not
   revoked, and no disallowed change after any of them);
2. among its signatures, a *seal* (not a person's signature) whose certificate's
   organisation identifier is the agency's credit code; the first such seal counts;
3. nothing changed after any signature, not even a change the signatures permit (a form
   filled in over the sealed amount, an annotation): what was sealed must be all the file
   shows (``VerificationReport.changed_after_signing``).

Why the code and never the name. Names are not unique: two organisations may bear
the same name in different places or years, and a certificate authority the trust settings
hold may certify either, so a seal of "福州市市场监督管理局" with another code passed as the
agency's. The code identifies one legal person for its whole life (GB 32100-2015), and
organisation seal certificates carry it in ``organizationIdentifier`` (plain, or in the ETSI
EN 319 412-1 form ``NTRCN-`` + code). The name on the seal is not compared at all: after a
reorganisation renames an agency its certificate keeps the old name until renewal, and the
code, which the certificate authority verified, already says who sealed.

Why an agency without a code serves nothing rather than falling back to its name: the name
is exactly the guess this rule removes, and a served document has legal effect (APL art. 61;
nothing of legal effect is decided on a guess). Such agencies exist only from before codes
were recorded (migration 0130); the operator records the code with
``portal agency credit-code``, and until then the agency serves by other means, as it does
without consent.

A pure function on values, so that each step can grow with a property test beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from portal.identifiers import normalise_credit_code
from signing import SignatureKind, SignatureReport, VerificationReport

_ETSI_LEGAL_PERSON = "NTRCN-"
"""ETSI EN 319 412-1 semantics identifier prefix: a national trade register number, China."""


@dataclass(frozen=True)
class ServingAgency:
    """The agency serving the document: its name (for people) and credit code (for seals)."""

    name: str
    credit_code: str | None


class SealRefusal(StrEnum):
    AGENCY_WITHOUT_CREDIT_CODE = "agency_without_credit_code"
    """The agency has no unified social credit code on record: no seal can be matched to it."""
    DOCUMENT_NOT_VALID = "document_not_valid"
    """The document as a whole did not validate."""
    NO_SEAL_OF_AGENCY = "no_seal_of_agency"
    """It validates, but no seal on it is the serving agency's."""
    CHANGED_AFTER_SEAL = "changed_after_seal"
    """Sealed by the agency, but the file shows more than was sealed."""

    @property
    def code(self) -> str:
        """The API's problem code: ``agency_credit_code_missing``, ``changed_after_seal`` or
        ``seal_invalid``."""
        return _CODES.get(self, "seal_invalid")


_CODES = {SealRefusal.AGENCY_WITHOUT_CREDIT_CODE: "agency_credit_code_missing",
          SealRefusal.CHANGED_AFTER_SEAL: "changed_after_seal"}


@dataclass(frozen=True)
class SealDecision:
    seal: SignatureReport | None
    refusal: SealRefusal | None

    @property
    def accepted(self) -> bool:
        return self.seal is not None


def credit_code_of(organisation_id: str | None) -> str | None:
    """The credit code a certificate's organisation identifier states, normalised."""
    if organisation_id is None:
        return None
    code = normalise_credit_code(organisation_id)
    return code.removeprefix(_ETSI_LEGAL_PERSON) or None


def is_agency_seal(signature: SignatureReport, agency: ServingAgency) -> bool:
    """A seal (not a person's signature) whose certificate names ``agency`` by its credit code."""
    return (signature.kind is SignatureKind.SEAL and agency.credit_code is not None
            and credit_code_of(signature.organisation_id) == normalise_credit_code(agency.credit_code))


def agency_refusal(agency: ServingAgency) -> SealRefusal | None:
    """Why no document can be servable by ``agency`` whatever its seals (ask before verifying)."""
    return SealRefusal.AGENCY_WITHOUT_CREDIT_CODE if not agency.credit_code else None


def delivery_seal(report: VerificationReport, agency: ServingAgency) -> SealDecision:
    """The seal that makes ``report``'s document servable by ``agency``, or why there is none."""
    refusal = agency_refusal(agency)
    if refusal is not None:
        return SealDecision(None, refusal)
    if not report.passed:
        return SealDecision(None, SealRefusal.DOCUMENT_NOT_VALID)
    seal = next((s for s in report.signatures if is_agency_seal(s, agency)), None)
    if seal is None:
        return SealDecision(None, SealRefusal.NO_SEAL_OF_AGENCY)
    if report.changed_after_signing:
        return SealDecision(None, SealRefusal.CHANGED_AFTER_SEAL)
    return SealDecision(seal, None)
