"""The embedded development identity provider: an OpenID Provider for demos and tests.

Enabled only when no external provider (``OIDC_ISSUER``) is configured, and marked as such on
every page it shows. It stands for the province's unified identity platform, offering demo
identities instead of a real authentication.
"""
