"""The words the portal's rows and rules share: kinds of party, and what a grant covers.

Plain constants, importing nothing, at the bottom of the layers (README, "Layout"): the ORM
tables store them, the domain rules and the pages compare with them, and none of those has to
import another layer for a word.
"""

from __future__ import annotations

from typing import Final

PERSON: Final = "person"
"""A natural person, named by the resident ID number (公民身份号码)."""
ORGANISATION: Final = "organisation"
"""A company or other organisation, named by its unified social credit code (统一社会信用代码)."""

SCOPE_MAILBOX: Final = "mailbox"
"""A representative may read the mailbox, download documents and service receipts."""
SCOPE_FULL: Final = "full"
"""Everything the party can do: also consent, paper copies, statements, hearings, payments."""
SCOPES: Final = (SCOPE_MAILBOX, SCOPE_FULL)

SCOPE_ALL: Final = "all"
"""An e-service consent that covers every agency on the portal."""
SCOPE_AGENCIES: Final = "agencies"
"""An e-service consent that covers only the agencies it names."""
