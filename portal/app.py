"""``create_app(settings)``: routes, middleware, exception handlers and lifespan in one place.

Middleware order, outermost first: request id and access log → security headers → body
size limit → session → CSRF. Errors raised by middleware are rendered by
``portal.web.errors`` directly; errors from endpoints go through the exception handlers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from portal.database import create_engine, session_factory
from portal.errors import PortalError
from portal.settings import Settings
from portal.web import errors
from portal.web.body_limit import BodyLimitMiddleware
from portal.web.csrf import CsrfMiddleware
from portal.web.request_context import RequestContextMiddleware
from portal.web.routes import routes
from portal.web.security_headers import SecurityHeadersMiddleware
from portal.web.session import SessionMiddleware

CSRF_EXEMPT = ("/api/",)


def create_app(settings: Settings) -> Starlette:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(RequestContextMiddleware, trust_incoming_id=settings.trusted_proxy_hops > 0),
            Middleware(SecurityHeadersMiddleware, https=settings.https),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
            Middleware(SessionMiddleware, settings=settings, sessions=sessions),
            Middleware(CsrfMiddleware, exempt_prefixes=CSRF_EXEMPT,
                       max_form_bytes=settings.max_form_bytes),
        ],
        exception_handlers={
            PortalError: errors.handle_portal_error,
            HTTPException: errors.handle_http_exception,
            Exception: errors.handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    return app
