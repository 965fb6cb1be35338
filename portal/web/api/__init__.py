"""The agency API (JSON, OAuth2 client credentials) and the few public API routes."""
