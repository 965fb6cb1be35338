"""Server-side browser sessions behind a signed cookie (SECURITY.md, "Identity and sessions").

Every visitor gets a random 256-bit token in a signed, HttpOnly, SameSite=Lax cookie (Secure
and ``__Host-`` behind https). Data lives in ``web_sessions`` under the token's SHA-256, and a
row is written only once the session holds something (``services.web_sessions``, which also
enforces the idle and absolute lifetimes). ``rotate()`` issues a new token at login (no session
fixation, ASVS v5.0.0-7.2.4); ``end()`` marks the row ended at logout, so a copied cookie is
worthless afterwards.

Every answer that passes through here depends on the session (each page carries its CSRF
token, most the user's name), so it goes out ``Cache-Control: private, no-store`` whatever the
endpoint said (SECURITY.md "Deployment configuration", ASVS v5.0.0-14.3.2). The one exception
is an answer its endpoint marked ``public`` for a visitor who is not logged in and gets no
new cookie (the development identity provider's discovery document): an answer that sets a
cookie is never publicly cacheable. Static files and the API have no session at all.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.database import transaction, utcnow
from portal.services import web_sessions
from portal.settings import Settings

_SCOPE_KEY = "portal_session"
LAPSED_KEY = "portal_lapsed_session"
"""Scope key of the token of the session the browser's cookie named when that session had ended
or lapsed (the request runs in a new one): the CSRF check accepts a form rendered for it, so a
form posted after the idle timeout is not refused as forged but kept (``web.form_drafts``)."""


class BrowserSession:
    """The session of one request: its token, its data, and what must be saved."""

    def __init__(self, token: str, data: dict[str, Any], *, new_cookie: bool,
                 created_at: datetime | None = None, persisted: bool = False) -> None:
        self.token = token
        self.data = data
        self.new_cookie = new_cookie
        self.created_at = created_at
        self.persisted = persisted
        self.modified = False
        self.retired: list[str] = []

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.modified = True

    def pop(self, key: str, default: Any = None) -> Any:
        if key in self.data:
            self.modified = True
        return self.data.pop(key, default)

    def rotate(self) -> None:
        """New token, same data: called at login."""
        self.retired.append(self.token)
        self.token = secrets.token_urlsafe(32)
        self.new_cookie = True
        self.persisted = False
        self.created_at = None
        self.modified = True

    def end(self) -> None:
        """Forget everything and retire the token server-side: called at logout."""
        self.rotate()
        self.data = {}
        self.modified = False


def _uncacheable(headers: list[tuple[bytes, bytes]], *, shared_ok: bool) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``Cache-Control: private, no-store``, unless ``shared_ok`` and the
    endpoint asked for ``public`` caching itself."""
    given = b", ".join(value for name, value in headers if name.lower() == b"cache-control")
    if shared_ok and b"public" in given.lower():
        return headers
    return [*((name, value) for name, value in headers if name.lower() != b"cache-control"),
            (b"cache-control", b"private, no-store")]


def browser_session(conn: HTTPConnection) -> BrowserSession | None:
    return conn.scope.get(_SCOPE_KEY)


def page_session(conn: HTTPConnection) -> BrowserSession:
    """The session of a page: ``SessionMiddleware`` gives one to every path but the stateless
    ones, so its absence is a routing bug, raised as ``RuntimeError``."""
    session = browser_session(conn)
    if session is None:
        raise RuntimeError("no browser session: SessionMiddleware runs before every page")
    return session


class SessionMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings,
                 sessions: async_sessionmaker[AsyncSession],
                 stateless_prefixes: tuple[str, ...] = ("/api/", "/static/"),
                 passive_paths: frozenset[str] = frozenset()) -> None:
        """``stateless_prefixes``: paths that authenticate otherwise (the agency API) get no
        session and no cookie. ``passive_paths``: background polls (the bell) that read the
        session without counting as activity, so an open tab cannot defeat the idle timeout."""
        self.app = app
        self.stateless_prefixes = stateless_prefixes
        self.passive_paths = passive_paths
        self.sessions = sessions
        self.serializer = URLSafeSerializer(settings.key_text("session"), salt="portal-session")
        self.cookie_name = "__Host-portal_session" if settings.https else "portal_session"
        self.secure = settings.https
        self.lifetimes = web_sessions.Lifetimes(idle=timedelta(minutes=settings.session_idle_minutes),
                                                absolute=timedelta(hours=settings.session_absolute_hours))

    def _token_from_cookie(self, scope: Scope) -> str | None:
        raw = dict(scope["headers"]).get(b"cookie")
        if not raw:
            return None
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(raw.decode("latin-1"))
        except Exception:  # a malformed Cookie header is just "no session"
            return None
        morsel = cookie.get(self.cookie_name)
        if morsel is None:
            return None
        try:
            token = self.serializer.loads(morsel.value)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None

    async def _load(self, token: str, *, touch: bool = True) -> BrowserSession | None:
        async with transaction(self.sessions) as db:
            stored = await web_sessions.load(db, token, now=utcnow(), lifetimes=self.lifetimes, touch=touch)
        if stored is None:
            return None
        return BrowserSession(token, stored.data, new_cookie=False, created_at=stored.created_at,
                              persisted=stored.persisted)

    async def _save(self, session: BrowserSession) -> None:
        now = utcnow()
        async with transaction(self.sessions) as db:
            if session.retired:
                await web_sessions.retire(db, session.retired, now=now)
            if session.modified:
                await web_sessions.save(db, session.token, session.data, now=now)

    def _cookie_header(self, session: BrowserSession) -> bytes:
        value = self.serializer.dumps(session.token)
        parts = [f"{self.cookie_name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.stateless_prefixes):
            await self.app(scope, receive, send)
            return
        token = self._token_from_cookie(scope)
        touch = scope["path"] not in self.passive_paths
        session = await self._load(token, touch=touch) if token else None
        if session is None:
            # a background poll never replaces the browser's cookie: the form open in the page
            # must still be postable on its lapsed session's token (``LAPSED_KEY``)
            session = BrowserSession(secrets.token_urlsafe(32), {}, new_cookie=touch or not token)
            if token:  # the browser's session ended or lapsed: a form it posts is still ours
                scope[LAPSED_KEY] = token
        scope[_SCOPE_KEY] = session

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                if session.modified or session.retired:
                    await self._save(session)
                headers = list(message.get("headers", []))
                if session.new_cookie:
                    headers.append((b"set-cookie", self._cookie_header(session)))
                message["headers"] = _uncacheable(headers, shared_ok=not session.new_cookie
                                                  and "user" not in session.data)
            await send(message)

        await self.app(scope, receive, send_with_session)
