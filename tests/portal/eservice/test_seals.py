"""Which seal counts for a delivery (``portal.eservice.seals``), as properties over any report:
whatever else a document carries, it is servable by an agency exactly when it validates, one
of its seals is that agency's — by unified social credit code, whatever name it bears — and
nothing changed after any signature (FJ art. 18; GD art. 27, 28)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from portal.eservice.seals import SealRefusal, ServingAgency, agency_refusal, delivery_seal, is_agency_seal
from signing import (
    Indication,
    ModificationLevel,
    ModificationReport,
    SignatureKind,
    SignatureReport,
    SubIndication,
    VerificationReport,
)
from signing.verdict import unverifiable_signature

AGENCY = ServingAgency("福州市鼓楼区市场监督管理局", "11350102MB0000001X")
OTHER_NAMES = ("厦门市思明区城市管理局", "福州市鼓楼区市场监督管理局 ", "福州市鼓楼区市场监督管理", "", None)
OTHER_CODES = ("11350203MB0000002Y", "11350102MB0000001", "11350102MB0000001X1", "NTRCN-11350203MB0000002Y",
               "", None)
"""Organisation identifiers that are not the agency's code (another code, a prefix, more)."""
AGENCY_IDS = (AGENCY.credit_code, "ntrcn-11350102mb0000001x", " 11350102mb0000001x")
"""The agency's code as certificates may state it: plain, in the ETSI EN 319 412-1 form,
in another case or padded."""


UNCHANGED = ModificationReport(level=ModificationLevel.NONE, allowed=True, later_revisions=0,
                               changed_form_fields=(), detail=None, description="")


def signature(kind: SignatureKind | None, organisation: str | None, indication: Indication,
              field: str = "Sig1", organisation_id: str | None = None) -> SignatureReport:
    """A signature with nothing changed after it."""
    failed = None if indication is Indication.TOTAL_PASSED else SubIndication.GENERIC
    return dataclasses.replace(unverifiable_signature(field, SubIndication.GENERIC, ""),
                               indication=indication, sub_indication=failed, kind=kind,
                               organisation=organisation, organisation_id=organisation_id,
                               modifications=UNCHANGED)


def report(signatures: list[SignatureReport]) -> VerificationReport:
    """The document's indication is its worst signature's, as ``signing`` reports it."""
    worst = max((s.indication for s in signatures), key=lambda i: i.severity,
                default=Indication.INDETERMINATE)
    return VerificationReport(indication=worst, sub_indication=None, summary="", problem=None,
                              signatures=tuple(signatures), document_sha256="0" * 64, size=1,
                              validated_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))


kinds = st.sampled_from([SignatureKind.SEAL, SignatureKind.SIGNATURE, None])
indications = st.sampled_from(list(Indication))
names = st.sampled_from((AGENCY.name, *OTHER_NAMES))
foreign = st.builds(signature, kinds, names, indications, organisation_id=st.sampled_from(OTHER_CODES))
"""A signature that is never the agency's seal: another code or none, whatever the name —
the agency's own name included (an organisation of the same name elsewhere)."""
persons_of_agency = st.builds(signature, st.sampled_from([SignatureKind.SIGNATURE, None]),
                              names, indications, organisation_id=st.sampled_from(AGENCY_IDS))
"""The agency's code on a person's signature, not a seal."""
others = st.lists(st.one_of(foreign, persons_of_agency), max_size=4)
agency_seal = st.builds(signature, st.just(SignatureKind.SEAL), names, indications,
                        organisation_id=st.sampled_from(AGENCY_IDS))
"""The agency's seal: its code, under its name or any other (a renamed agency's old seal)."""


@given(others)
def test_without_the_agencys_seal_nothing_counts(signatures: list[SignatureReport]) -> None:
    decision = delivery_seal(report(signatures), AGENCY)
    assert not decision.accepted and decision.seal is None
    assert decision.refusal in (SealRefusal.DOCUMENT_NOT_VALID, SealRefusal.NO_SEAL_OF_AGENCY)


@given(others, agency_seal, others)
def test_a_valid_document_with_the_agencys_seal_counts_that_seal(
        before: list[SignatureReport], seal: SignatureReport, after: list[SignatureReport]) -> None:
    document = report([*before, seal, *after])
    decision = delivery_seal(document, AGENCY)
    assert decision.accepted == document.passed
    if document.passed:
        assert decision.refusal is None and decision.seal is not None
        assert is_agency_seal(decision.seal, AGENCY)
    else:
        assert decision.refusal is SealRefusal.DOCUMENT_NOT_VALID


@given(others, agency_seal, st.sampled_from([Indication.TOTAL_FAILED, Indication.INDETERMINATE]))
def test_one_failing_signature_anywhere_refuses_the_document(
        signatures: list[SignatureReport], seal: SignatureReport, failing: Indication) -> None:
    bad = signature(SignatureKind.SIGNATURE, "某公司", failing, field="Late")
    decision = delivery_seal(report([*signatures, seal, bad]), AGENCY)
    assert decision.refusal is SealRefusal.DOCUMENT_NOT_VALID and decision.seal is None


@given(others)
def test_a_valid_document_with_only_other_seals_is_refused_for_the_seal(
        signatures: list[SignatureReport]) -> None:
    valid = [dataclasses.replace(s, indication=Indication.TOTAL_PASSED, sub_indication=None)
             for s in signatures] or [signature(SignatureKind.SEAL, OTHER_NAMES[0], Indication.TOTAL_PASSED)]
    decision = delivery_seal(report(valid), AGENCY)
    assert decision.refusal is SealRefusal.NO_SEAL_OF_AGENCY


def test_a_document_without_signatures_is_not_valid() -> None:
    assert delivery_seal(report([]), AGENCY).refusal is SealRefusal.DOCUMENT_NOT_VALID


@given(others, agency_seal.map(lambda s: dataclasses.replace(s, indication=Indication.TOTAL_PASSED,
                                                               sub_indication=None)),
       st.sampled_from([ModificationLevel.FORM_FILLING, ModificationLevel.ANNOTATIONS,
                        ModificationLevel.OTHER, None]),
       st.booleans())
def test_a_change_after_any_signature_refuses_even_a_permitted_one(
        signatures: list[SignatureReport], seal: SignatureReport, level: ModificationLevel | None,
        on_the_seal: bool) -> None:
    valid = [dataclasses.replace(s, indication=Indication.TOTAL_PASSED, sub_indication=None)
             for s in signatures]
    changed = dataclasses.replace(UNCHANGED, level=level, changed_form_fields=("amount",))
    if on_the_seal or not valid:
        seal = dataclasses.replace(seal, modifications=changed)
    else:
        valid[0] = dataclasses.replace(valid[0], modifications=changed)
    decision = delivery_seal(report([*valid, seal]), AGENCY)
    assert decision.refusal is SealRefusal.CHANGED_AFTER_SEAL and decision.seal is None
    assert decision.refusal.code == "changed_after_seal"


@given(others)
def test_every_other_refusal_is_seal_invalid(signatures: list[SignatureReport]) -> None:
    assert agency_refusal(AGENCY) is None
    refusal = delivery_seal(report(signatures), AGENCY).refusal
    assert refusal is not None and refusal.code == "seal_invalid"


def test_a_seal_of_the_same_name_with_another_code_is_not_the_agencys() -> None:
    # an organisation elsewhere with the agency's very name, certified with its own code
    namesake = signature(SignatureKind.SEAL, AGENCY.name, Indication.TOTAL_PASSED,
                         organisation_id="11350203MB0000002Y")
    nameless = signature(SignatureKind.SEAL, AGENCY.name, Indication.TOTAL_PASSED)
    for seal in (namesake, nameless):
        assert not is_agency_seal(seal, AGENCY)
        assert delivery_seal(report([seal]), AGENCY).refusal is SealRefusal.NO_SEAL_OF_AGENCY


@given(st.lists(st.one_of(foreign, persons_of_agency, agency_seal), max_size=4),
       st.sampled_from([None, ""]))
def test_an_agency_without_a_credit_code_serves_nothing(
        signatures: list[SignatureReport], missing: str | None) -> None:
    # not even a valid seal bearing its exact name: the name alone decides nothing
    unidentified = ServingAgency(AGENCY.name, missing)
    named = signature(SignatureKind.SEAL, AGENCY.name, Indication.TOTAL_PASSED,
                      organisation_id=AGENCY.credit_code)
    decision = delivery_seal(report([*signatures, named]), unidentified)
    assert decision.refusal is SealRefusal.AGENCY_WITHOUT_CREDIT_CODE and decision.seal is None
    assert agency_refusal(unidentified) is SealRefusal.AGENCY_WITHOUT_CREDIT_CODE
    assert decision.refusal.code == "agency_credit_code_missing"
    assert not any(is_agency_seal(s, unidentified) for s in [*signatures, named])
