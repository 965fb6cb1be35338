"""What a party reads and signs to authorise an agent: one value for the page and the PDF of the
power of attorney (授权委托书, ``portal.documents.authorisation``), gathered by
``services.authorisations.content``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.catalogue import DELEGATION as L
from portal.legal_calendar import day_text
from portal.vocabulary import PERSON


@dataclass(frozen=True)
class AuthorisationContent:
    principal_name: str
    principal_kind: str
    principal_identifier: str
    signer_name: str
    agent_name: str
    agent_id_number: str
    scope: str
    granted_on: date
    last_day: date | None

    def rows(self) -> list[tuple[str, str]]:
        identifier = (L["authorisation.person_identifier"] if self.principal_kind == PERSON
                      else L["authorisation.organisation_identifier"])
        rows = [(L["authorisation.principal"], self.principal_name),
                (identifier, self.principal_identifier)]
        if self.principal_kind != PERSON:
            rows.append((L["authorisation.signer"], self.signer_name))
        until = day_text(self.last_day) + " 24:00" if self.last_day else L["no_end"]
        scope = f"{L['scope.' + self.scope]}：{L['authorisation.scope.' + self.scope]}"
        rows += [(L["authorisation.agent"], self.agent_name),
                 (L["authorisation.agent_identifier"], self.agent_id_number),
                 (L["authorisation.scope"], scope),
                 (L["authorisation.term"], L["authorisation.term_value"].format(
                     start=day_text(self.granted_on), end=until)),
                 (L["authorisation.date"], day_text(self.granted_on))]
        return rows
