"""The trust store of the portal's outbound HTTPS calls, loaded once per process.

An ``httpx.AsyncClient`` built without ``verify`` reads and parses the whole CA bundle
(certifi's, about 150 roots) when it is made: some 0.1 s of CPU, and the portal makes a client
per login step, per webhook delivery and two per app. So every client the portal makes verifies
with the one context built here. The roots and checks are httpx's own defaults
(``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set, else certifi; hostnames checked); an
``ssl.SSLContext`` may be shared by clients, threads and event loops.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx

__all__ = ["tls_context"]


@cache
def tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
