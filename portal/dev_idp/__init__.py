"""The embedded development identity provider: an OpenID Provider for demos and tests.

Enabled only when no external provider (``OIDC_ISSUER``) is configured, and marked as such on
every page it shows. It stands for the province's unified identity platform, offering demo
identities instead of a real authentication.

    identities.py   the demo identities and their claims
    server.py       the OAuth 2.0 / OpenID Connect logic on authlib's server classes (no I/O)
    provider.py     the endpoints under /dev-idp, the signing key file, the code store
"""
