"""The one place where errors become responses: problem details for the API, Chinese pages
for people (SECURITY.md; RFC 9457). A stack trace never leaves the process.

Paths under ``/api/`` answer ``application/problem+json`` with a stable ``code`` (the token
endpoint's refusals are RFC 6749 ``application/json`` carrying the same members); every other
path answers an HTML page from ``templates/errors/error.html``. ``Unauthenticated`` on a page
is a redirect to the login page, which brings the person back afterwards.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Scope, Send

from portal import catalogue
from portal.blobstore import BlobUnavailable
from portal.errors import (
    BadRequest,
    Forbidden,
    InvalidClient,
    InvalidToken,
    MethodNotAllowed,
    NotFound,
    OAuthError,
    PortalError,
    RateLimited,
    ReauthenticationRequired,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)

log = logging.getLogger("portal.errors")

_BY_STATUS: dict[int, type[PortalError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    415: UnsupportedMediaType,
}


def is_api(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith("/api/")


def problem_response(exc: PortalError, request_id: str) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://portal.invalid/problems/{exc.code}",
        "title": catalogue.title(exc.code),
        "status": exc.status,
        "code": exc.code,
        "request_id": request_id,
    }
    if exc.detail:
        body["detail"] = exc.detail
    if isinstance(exc, ValidationFailed):
        body["errors"] = exc.errors
    extra = getattr(exc, "problem_extra", None)
    if extra:
        body.update(extra)
    headers = {"cache-control": "no-store"}
    media_type = "application/problem+json"
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        headers["retry-after"] = str(retry_after)
    if isinstance(exc, Unauthenticated):
        # RFC 6750 §3.1: no error code when no credentials were presented at all
        invalid = ', error="invalid_token"' if isinstance(exc, InvalidToken) else ""
        headers["www-authenticate"] = f'Bearer realm="portal"{invalid}'
    if isinstance(exc, OAuthError):
        # RFC 6749 §5.2: the token endpoint answers application/json with ``error``; the
        # problem members stay, so agencies read one error shape everywhere
        body["error"] = exc.code
        if exc.detail:
            body["error_description"] = exc.detail
        media_type = "application/json"
        headers["pragma"] = "no-cache"
    if isinstance(exc, InvalidClient):
        headers["www-authenticate"] = 'Basic realm="portal", charset="UTF-8"'
    return JSONResponse(body, status_code=exc.status, headers=headers, media_type=media_type)


def page_response(request: Request, exc: PortalError) -> Response:
    from portal.web.rendering import render  # rendering imports session helpers; avoid a cycle

    if isinstance(exc, ReauthenticationRequired):
        return RedirectResponse("/login?reauth=1", status_code=303)
    if isinstance(exc, Unauthenticated):
        return RedirectResponse("/login", status_code=303)
    headers = {}
    if isinstance(exc, RateLimited):
        headers["retry-after"] = str(exc.retry_after)
    context = {
        "status": exc.status,
        "title": catalogue.party_title(exc.code),
        "explanation": catalogue.explanation(exc.code),
        "detail": exc.detail if exc.status < 500 else None,
        "retry_after": getattr(exc, "retry_after", None),
        "errors": getattr(exc, "errors", None),
    }
    return render(request, "errors/error.html", context, status=exc.status, headers=headers)


def error_response(request: Request, exc: PortalError) -> Response:
    request_id = request.scope.get("state", {}).get("request_id", "-")
    if is_api(request.scope):
        return problem_response(exc, request_id)
    return page_response(request, exc)


async def send_error(scope: Scope, send: Send, exc: PortalError) -> None:
    """For middleware, which runs outside the exception handlers."""

    async def no_body() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    response = error_response(Request(scope, no_body), exc)
    await response(scope, no_body, send)


async def handle_portal_error(request: Request, exc: Exception) -> Response:
    error = cast(PortalError, exc)  # the handler of PortalError
    if error.status >= 500:
        log.error("portal error", extra={"code": error.code})
    elif error.status in (401, 403, 429):
        log.warning("refused", extra={"code": error.code, "status": error.status})
    return error_response(request, error)


def _allowed(request: Request) -> str:
    """Every method some route of the path answers (one path may be several routes, e.g. GET
    and POST ``/login``; Starlette names only the first one's)."""
    path = request.scope["path"]
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return ", ".join(sorted(methods))


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no route, a method the route lacks, a malformed form); a 405
    names the methods the path has in ``Allow`` (RFC 9110 §15.5.6)."""
    refusal = cast(HTTPException, exc)  # the handler of HTTPException
    response = error_response(request, _BY_STATUS.get(refusal.status_code, PortalError)())
    if refusal.status_code == 405:
        response.headers["allow"] = _allowed(request) or (refusal.headers or {}).get("Allow", "")
    return response


def _unavailable(exc: BaseException) -> bool:
    """The database or the document store is away (a restart, a network cut), not a bug."""
    if isinstance(exc, (BlobUnavailable, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        state = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
        # class 08: connection exception; 57P01-03: the server shutting down or starting up
        return (exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError))
                or state.startswith(("08", "57P")) or isinstance(exc.orig, (ConnectionError, OSError)))
    return isinstance(exc, OSError) and exc.errno is not None


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """The 500 page or problem (503 when the database or document store is away), for an
    error that escaped ``RequestContextMiddleware``, which normally answers it itself."""
    return error_response(request, unexpected(exc))


def unexpected(exc: Exception, **context: str) -> PortalError:
    """What an error no handler took is answered with, logged once: 503 when the database or
    the document store is away, else 500; ``context`` (method, route) joins the log line."""
    if _unavailable(exc) or (exc.__cause__ is not None and _unavailable(exc.__cause__)):
        log.warning("database or document store unavailable",
                    extra={"action": type(exc).__name__, **context})
        return ServiceUnavailable()
    log.error("unhandled error", exc_info=exc, extra=context)
    return PortalError()
