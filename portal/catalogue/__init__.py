"""The message catalogue: every Chinese sentence the code (not a template) shows a user.

Keyed by the stable machine codes used in errors and flash messages, so the API speaks in
codes and the pages speak Chinese from this one place. One module per area; every name is
re-exported here, so callers write ``from portal.catalogue import CASES`` or
``catalogue.title(code)`` whichever module holds it:

- `errors`: ``TITLES``, ``PARTY_TITLES`` (pages), ``EXPLANATIONS``, ``title()``, ``party_title()``,
  ``explanation()``
- `verification`: ``VERIFICATION``
- `eservice`: ``SERVICE_RECEIPT``, ``CONSENT``, ``MAILBOX``
- `delegation`: ``DELEGATION``
- `cases`: ``CASES``
- `rights`: ``RIGHTS``
- `publicity`: ``PUBLICITY``, ``PUBLICITY_REGIONS``, ``CSV_COLUMNS``
- `fines`: ``PAYMENTS``
- `deployment`: ``DEPLOYMENT``
- `privacy`: ``PRIVACY``
"""

from __future__ import annotations

from portal.catalogue.cases import CASES
from portal.catalogue.delegation import DELEGATION
from portal.catalogue.deployment import DEPLOYMENT
from portal.catalogue.errors import EXPLANATIONS, PARTY_TITLES, TITLES, explanation, party_title, title
from portal.catalogue.eservice import CONSENT, MAILBOX, SERVICE_RECEIPT
from portal.catalogue.fines import PAYMENTS
from portal.catalogue.privacy import PRIVACY
from portal.catalogue.publicity import CSV_COLUMNS, PUBLICITY, PUBLICITY_REGIONS
from portal.catalogue.rights import RIGHTS
from portal.catalogue.verification import VERIFICATION

__all__ = [
    "CASES",
    "CONSENT",
    "CSV_COLUMNS",
    "DELEGATION",
    "DEPLOYMENT",
    "EXPLANATIONS",
    "MAILBOX",
    "PARTY_TITLES",
    "PAYMENTS",
    "PRIVACY",
    "PUBLICITY",
    "PUBLICITY_REGIONS",
    "RIGHTS",
    "SERVICE_RECEIPT",
    "TITLES",
    "VERIFICATION",
    "explanation",
    "party_title",
    "title",
]
