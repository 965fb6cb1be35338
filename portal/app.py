"""``create_app(settings)``: routes, middleware, exception handlers and lifespan in one place.

Middleware order, outermost first: security headers (on every answer, a 500 included) →
request id, access log and the 500 for anything unhandled → compression → text the database
cannot store (NUL in the path or query) → body size limit → session → CSRF → the bell's
unread count.

Compression is Starlette's own ``GZipMiddleware`` rather than brotli-asgi: it is maintained
with the framework the portal is built on, needs no C extension, and gzip already brings each
page with its CSS and JavaScript under the 30 kB budget (``tests/portal/web/pages/test_page_weight.py``);
brotli would save a few more kB at the cost of a third-party wrapper released rarely. Files
that are compressed already (PDF, images, ZIP) are not compressed again. Pages carry the CSRF
token, so it is masked afresh in every response (``csrf``): a compressed page that also
reflects what someone typed cannot leak it byte by byte (BREACH). Errors raised by middleware are
rendered by ``portal.web.errors`` directly; errors from endpoints go through the exception
handlers.

Production mode (``portal.deployment``): ``create_app`` refuses settings with any development
part; in development mode the lifespan logs which ones are in force.

Signing (``portal.notary``): the notary is built here, cheaply; the lifespan opens its PKI at
start-up and stops its verification worker processes at shutdown.

Login: the OpenID relying party lives on ``app.state.relying_party`` and makes its outbound
calls through ``app.state.http_client`` (a factory, so tests can replace it). Without an
external provider the development identity provider is mounted at ``/dev-idp`` and the
relying party reaches it through the app itself, at its public URL, by the same code path.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.routing import Mount

from portal import deployment, metrics
from portal.blobstore import open_blob_store
from portal.database import session_factory
from portal.dev_idp import provider as dev_idp
from portal.engines import open_engine
from portal.errors import PortalError
from portal.notary import Notary
from portal.payment_platforms import SANDBOX_MOUNT, PaymentPlatforms
from portal.services import outbox
from portal.settings import Settings
from portal.web import errors
from portal.web.bell import BELL_PATH, NoticeCountMiddleware
from portal.web.body_limit import BodyLimitMiddleware
from portal.web.csrf import CsrfMiddleware
from portal.web.input_guard import InputGuardMiddleware
from portal.web.oidc import RelyingParty, default_http_client, in_process_http_client
from portal.web.pages.fines import sandbox_payer
from portal.web.rendering import render
from portal.web.request_context import RequestContextMiddleware
from portal.web.routes import routes
from portal.web.security_headers import SecurityHeadersMiddleware
from portal.web.session import SessionMiddleware

log = logging.getLogger("portal")
# The agency API, the dev identity provider's token endpoint (a back-channel call with client
# authentication) and the sandbox payment platform's merchant API (its merchant key) carry
# credentials, not cookies. The sandbox's pay page is a form like any other: the payer's
# session and the CSRF token (``portal.web.pages.fines.sandbox_payer``).
CSRF_EXEMPT = ("/api/", f"{dev_idp.MOUNT_PATH}/token", f"{SANDBOX_MOUNT}/api/")
# compressed already: compressing again costs CPU and saves nothing
PRECOMPRESSED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf", "application/octet-stream")


def create_app(
    settings: Settings, *, background: Callable[[], AbstractAsyncContextManager[object]] | None = None
) -> Starlette:
    """``background`` runs for the app's lifetime, stopped before the engine is disposed
    (``portal run`` passes the notification worker: ``portal.workers.runner``)."""
    deployment.refuse_unsafe(settings)
    engine = open_engine(settings)
    sessions = session_factory(engine)
    replica = open_engine(settings, settings.database.replica_url) if settings.database.replica_url else None
    metrics.watch_pool(engine, "app")
    if replica is not None:
        metrics.watch_pool(replica, "replica")
    notary = Notary.from_settings(settings)
    blobs = open_blob_store(settings.blobs, engine)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.development:
            log.warning("development mode: %s (`portal check` lists what production needs)",
                        "; ".join(p.setting for p in deployment.configuration_problems(settings)))
        await notary.start()
        async with background() if background is not None else nullcontext():
            yield
        if app.state.payments.sandbox is not None:
            await app.state.payments.sandbox.aclose()
        await notary.aclose()
        await blobs.aclose()
        await engine.dispose()
        if replica is not None:
            await replica.dispose()

    app_routes = routes()
    if settings.dev_idp_enabled:
        provider = dev_idp.DevIdentityProvider(settings, sessions, render)
        app_routes.append(Mount(dev_idp.MOUNT_PATH, routes=provider.routes()))

    app = Starlette(
        routes=app_routes,
        middleware=[
            Middleware(SecurityHeadersMiddleware, https=settings.https),
            Middleware(RequestContextMiddleware, trust_incoming_id=settings.trusted_proxy_hops > 0),
            Middleware(GZipMiddleware, minimum_size=500, compresslevel=6,
                       exclude_content_types=PRECOMPRESSED),
            Middleware(InputGuardMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
            Middleware(SessionMiddleware, settings=settings, sessions=sessions,
                       passive_paths=frozenset({BELL_PATH})),
            Middleware(CsrfMiddleware, exempt_prefixes=CSRF_EXEMPT,
                       max_form_bytes=settings.max_form_bytes),
            Middleware(NoticeCountMiddleware),
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
    app.state.replica_engine = replica
    app.state.replica_sessions = session_factory(replica) if replica is not None else None
    app.state.notary = notary
    app.state.blobs = blobs
    app.state.clock = None  # tests pin time here (portal.web.clock); None: the real clocks
    app.state.renderer = outbox.renderer_for(settings.public_url)
    oidc = settings.oidc or dev_idp.relying_party_settings(settings)
    app.state.relying_party = RelyingParty(oidc, f"{settings.public_url}{dev_idp.CALLBACK_PATH}")
    app.state.http_client = (in_process_http_client(app, settings.public_url) if settings.dev_idp_enabled
                             else default_http_client)
    app.state.payments = PaymentPlatforms.from_settings(
        settings, http=in_process_http_client(app, settings.public_url), mount_sandbox=True,
        sandbox_payer=sandbox_payer(app))
    if app.state.payments.sandbox is not None:  # development only: see portal.payment_platforms
        app.router.routes.append(Mount(SANDBOX_MOUNT, app=app.state.payments.sandbox))
    return app
