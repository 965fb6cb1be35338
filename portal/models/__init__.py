"""ORM tables, one module per aggregate. Importing this package registers every table."""

from portal.models.agencies import Agency, ApiClient, ApiToken
from portal.models.evidence import ChainHead, EvidenceEvent
from portal.models.limits import RateLimitWindow
from portal.models.parties import Account, Party, Representation
from portal.models.sessions import WebSession

__all__ = [
    "Account", "Agency", "ApiClient", "ApiToken", "ChainHead", "EvidenceEvent", "Party",
    "RateLimitWindow", "Representation", "WebSession",
]
