"""The shared test identities are ones the portal accepts: a wrong check character would make
every test built on them test the refusal instead of the journey."""

from __future__ import annotations

from portal.identifiers import is_valid_credit_code, is_valid_id_number
from tests.identities import COMPANY, ZHANGSAN, numbered_person


def test_the_shared_identities_are_valid() -> None:
    # GB 11643 (resident ID number) and GB 32100 (unified social credit code) check characters
    assert is_valid_id_number(ZHANGSAN.id_number)
    assert is_valid_credit_code(COMPANY.credit_code)
    assert ZHANGSAN.party.identifier == ZHANGSAN.id_number
    assert COMPANY.party.identifier == COMPANY.credit_code


def test_numbered_people_are_valid_and_distinct() -> None:
    people = [numbered_person(n) for n in (0, 1, 999, 1000, 123_456)]
    assert all(is_valid_id_number(person.id_number) for person in people)
    assert len({person.id_number for person in people}) == len(people)
