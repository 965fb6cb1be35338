"""Security headers on every response (SECURITY.md, "Browser side"; ASVS v5.0.0-3.4.x).

No inline script anywhere, so the policy can forbid it; htmx is configured through a meta
tag (``allowEval=false``), which needs no ``unsafe-eval``. Styles are ours, from /static.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def content_security_policy(extra_form_action: str = "") -> str:
    """The policy, with ``extra_form_action`` allowed as a form target besides 'self'.

    Chromium applies ``form-action`` to every redirect that follows a form submission, so the
    login page, whose form is answered with a redirect to the identity provider, must name
    the provider's origin; it sets this on its own response, other pages keep 'self' only.
    """
    if not extra_form_action:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {extra_form_action}")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool, extra_form_action: str = "") -> None:
        self.app = app
        headers = [
            (b"content-security-policy", content_security_policy(extra_form_action).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if https:
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
