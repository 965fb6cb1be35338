"""The parties the tests are about, one typed value each, like the demo's 张三 and his company.

Every form a test needs (the agency API's party object, the intake's ``NewParty``, the bare
identifier a fine or a delivery is keyed by) is derived from the one value here, so a test
module cannot drift to an identifier with a wrong check character that the portal would refuse
(``test_the_shared_identities_are_valid`` checks them with ``portal.identifiers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from portal.cases.intake import NewParty
from portal.identifiers import id_number_check_char


@dataclass(frozen=True)
class Person:
    """A natural person, known by the resident ID number (GB 11643)."""

    name: str
    id_number: str

    @property
    def party(self) -> NewParty:
        return NewParty("person", self.name, id_number=self.id_number)

    @property
    def api(self) -> dict[str, str]:
        """The party object of the agency API (``POST /api/v1/cases``)."""
        return {"kind": "person", "name": self.name, "id_number": self.id_number}


@dataclass(frozen=True)
class Company:
    """An organisation, known by its unified social credit code (GB 32100)."""

    name: str
    credit_code: str

    @property
    def party(self) -> NewParty:
        return NewParty("organisation", self.name, credit_code=self.credit_code)

    @property
    def api(self) -> dict[str, str]:
        """The party object of the agency API (``POST /api/v1/cases``)."""
        return {"kind": "organisation", "name": self.name, "credit_code": self.credit_code}


ZHANGSAN = Person("张三", "35010219850312123X")
COMPANY = Company("福州示例科技有限公司", "91350100MA2XY12346")


def numbered_person(n: int) -> Person:
    """The ``n``-th of as many distinct test people as a test needs, each with a valid ID number
    (a Fuzhou Gulou number; the birth date moves on a day every thousand people)."""
    born = date(1980, 1, 1) + timedelta(days=n // 1000)
    first17 = f"350102{born:%Y%m%d}{n % 1000:03d}"
    return Person(f"测试当事人{n}", first17 + id_number_check_char(first17))
