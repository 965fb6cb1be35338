"""CSRF protection for every unsafe request from a page (ASVS v5.0.0-3.5.1).

The token is an HMAC of the session token, so it needs no storage and changes at login. Pages
are sent compressed, and some reflect what a person typed; a secret that is the same in every
response would then leak through the compressed size (BREACH). So each response carries the
token masked afresh: a random 32-byte mask and the token XOR the mask, in hex (as Django does);
the check unmasks it. Forms carry it in a hidden ``csrf_token`` field; htmx sends it as
``X-CSRF-Token`` (set once with ``hx-headers`` on ``<body>``). The agency API and the identity
provider's back channel authenticate with credentials, not cookies, and are exempt by path
prefix. The body is read once here (it is already bounded by the size limit) and replayed to
the endpoint; url-encoded forms must be valid UTF-8, and a form over the form limit is refused.
A multipart body the parser refuses (no boundary, more than 1,000 parts, a field over 1 MiB)
is a 400 ``invalid_form``, never a 500 (PITFALLS.md "Multipart limits").

A form rendered for a session that ended or lapsed before it was posted carries that session's
token: it passes, marked ``lapsed_form``, and runs in the new, anonymous session, so a page that
needs a login sends to the login as usual, and a legal act's form keeps what was typed for its
person (``web.form_drafts``) instead of answering "forged" and losing it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.errors import BadRequest, CsrfFailed, PayloadTooLarge
from portal.web.errors import send_error
from portal.web.input_guard import invalid_text
from portal.web.session import LAPSED_KEY, browser_session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrf_token"
HEADER = b"x-csrf-token"
_LAPSED_FORM = "portal_lapsed_form"


def _secret(conn: HTTPConnection) -> bytes:
    """The session's token (32 bytes), or empty without a session."""
    session = browser_session(conn)
    return _secret_of(conn, session.token) if session is not None else b""


def _secret_of(conn: HTTPConnection, session_token: str) -> bytes:
    key = conn.scope["app"].state.settings.key("csrf")
    return hmac.new(key, b"csrf|" + session_token.encode(), hashlib.sha256).digest()


def lapsed_form(conn: HTTPConnection) -> bool:
    """Whether this request is a form rendered for the browser's previous session, which ended
    or lapsed before it was posted (``CsrfMiddleware`` let it through on that session's token):
    its sender is known to be the same browser, but nobody is logged in."""
    return bool(conn.scope.get(_LAPSED_FORM))


def csrf_token(conn: HTTPConnection) -> str:
    """The session's token, masked afresh (module docstring): 128 hex digits."""
    secret = _secret(conn)
    if not secret:
        return ""
    mask = secrets.token_bytes(len(secret))
    return (mask + bytes(a ^ b for a, b in zip(secret, mask, strict=True))).hex()


def _unmasked(supplied: str) -> bytes:
    try:
        raw = bytes.fromhex(supplied)
    except ValueError:
        return b""
    if len(raw) != 64:
        return b""
    return bytes(a ^ b for a, b in zip(raw[:32], raw[32:], strict=True))


def parse_urlencoded(body: bytes, max_fields: int = 1000) -> list[tuple[str, str]]:
    """Parse a url-encoded form strictly: anything but UTF-8 is a 400, not mojibake."""
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict",
                         max_num_fields=max_fields, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(code="invalid_encoding") from None


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, *, exempt_prefixes: Iterable[str], max_form_bytes: int) -> None:
        self.app = app
        self.exempt = tuple(exempt_prefixes)
        self.max_form_bytes = max_form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] in SAFE_METHODS
                or scope["path"].startswith(self.exempt)):
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
            content_type = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip()
            if content_type == b"application/x-www-form-urlencoded":
                if len(body) > self.max_form_bytes:
                    raise PayloadTooLarge()
                if b"%00" in body or b"\x00" in body:  # no form field may hold a NUL
                    raise invalid_text()
            replay = _replayer(body, receive)
            supplied = dict(scope["headers"]).get(HEADER, b"").decode("latin-1")
            if not supplied and content_type == b"application/x-www-form-urlencoded":
                supplied = dict(parse_urlencoded(body)).get(FIELD, "")
            elif not supplied and content_type == b"multipart/form-data":
                supplied = await _multipart_token(scope, replay())
            conn = HTTPConnection(scope)
            expected = _secret(conn)
            if not expected or not hmac.compare_digest(_unmasked(supplied), expected):
                lapsed = scope.get(LAPSED_KEY)
                if not lapsed or not hmac.compare_digest(_unmasked(supplied), _secret_of(conn, lapsed)):
                    raise CsrfFailed()
                scope[_LAPSED_FORM] = True
        except (CsrfFailed, BadRequest, PayloadTooLarge) as exc:
            await send_error(scope, send, exc)
            return
        await self.app(scope, replay(), send)


async def _multipart_token(scope: Scope, receive: Receive) -> str:
    """The token field of a multipart form; ``BadRequest("invalid_form")`` when the parser
    refuses the body (it raises ``HTTPException(400)`` inside an app, which a middleware would
    otherwise let escape as a 500)."""
    try:
        form = await Request(scope, receive).form()
    except (HTTPException, MultiPartException):
        raise BadRequest(code="invalid_form") from None
    value = form.get(FIELD)
    await form.close()
    return value if isinstance(value, str) else ""


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replayer(body: bytes, upstream: Receive) -> Callable[[], Receive]:
    """Receive callables that give the buffered body once, then wait on the real channel."""

    def make() -> Receive:
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await upstream()

        return receive

    return make
