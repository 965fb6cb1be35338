"""Which seal counts for a delivery (``portal.eservice.seals``), as properties over any report:
whatever else a document carries, it is servable by an agency exactly when it validates and
one of its seals is that agency's (FJ art. 18; GD art. 27, 28)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from portal.eservice.seals import SealRefusal, ServingAgency, delivery_seal, is_agency_seal
from signing import Indication, SignatureKind, SignatureReport, SubIndication, VerificationReport
from signing.verdict import unverifiable_signature

AGENCY = ServingAgency("福州市鼓楼区市场监督管理局")
OTHER_NAMES = ("厦门市思明区城市管理局", "福州市鼓楼区市场监督管理局 ", "福州市鼓楼区市场监督管理", "", None)


def signature(kind: SignatureKind | None, organisation: str | None, indication: Indication,
              field: str = "Sig1") -> SignatureReport:
    failed = None if indication is Indication.TOTAL_PASSED else SubIndication.GENERIC
    return dataclasses.replace(unverifiable_signature(field, SubIndication.GENERIC, ""),
                               indication=indication, sub_indication=failed, kind=kind,
                               organisation=organisation)


def report(signatures: list[SignatureReport]) -> VerificationReport:
    """The document's indication is its worst signature's, as ``signing`` reports it."""
    worst = max((s.indication for s in signatures), key=lambda i: i.severity,
                default=Indication.INDETERMINATE)
    return VerificationReport(indication=worst, sub_indication=None, summary="", problem=None,
                              signatures=tuple(signatures), document_sha256="0" * 64, size=1,
                              validated_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))


kinds = st.sampled_from([SignatureKind.SEAL, SignatureKind.SIGNATURE, None])
indications = st.sampled_from(list(Indication))
foreign = st.builds(signature, kinds, st.sampled_from(OTHER_NAMES), indications)
"""A signature that is never the agency's seal: another organisation, or none."""
persons_of_agency = st.builds(signature, st.sampled_from([SignatureKind.SIGNATURE, None]),
                              st.just(AGENCY.name), indications)
"""The agency's name on a person's signature, not a seal."""
others = st.lists(st.one_of(foreign, persons_of_agency), max_size=4)
agency_seal = st.builds(signature, st.just(SignatureKind.SEAL), st.just(AGENCY.name), indications)


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
