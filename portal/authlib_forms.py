"""Form and query parameters in the shape authlib's OAuth 2.0 server classes read them.

authlib has no Starlette server integration: its framework-neutral ``OAuth2Request`` expects a
``payload`` (an ``OAuth2Payload``) giving each parameter's value and, for the checks against
repeated parameters (RFC 6749 §3.1, §3.2), every value it was sent with. The agency API's token
endpoint (``web/api/token.py``) and the development identity provider (``dev_idp/server.py``,
which stands apart from the web edge) both build their requests from pairs Starlette has
already parsed, so both use this one adapter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from authlib.oauth2.rfc6749 import OAuth2Payload


class FormPayload(OAuth2Payload):
    """Parameter pairs, in their order, as authlib's ``data`` (last value wins) and ``datalist``."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._data = dict(pairs)
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in pairs:
            self._datalist[name].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist
