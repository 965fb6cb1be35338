"""The agency's view of itself: who it is, and its own API clients.

The first routes behind the bearer guard and the pattern later agency routes follow: an
``@operation`` declaration (the OpenAPI entry), ``@agency_endpoint`` (one transaction, the
guard), then parse → call a service that filters by ``agency.agency_id`` → JSON. Another
agency's object is ``NotFound`` from the service: 404, exactly like an id that never existed,
so its existence does not leak (SECURITY.md, "Access control"; ASVS v5.0.0-8.4.1).

Client listings never carry secrets or their digests: the services hand back ``ClientView``.
Every answer is ``Cache-Control: no-store`` (agency data, ASVS v5.0.0-14.3.2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.services import agencies
from portal.services.agencies import ClientView
from portal.services.api_tokens import AgencyPrincipal
from portal.web.api import openapi
from portal.web.api.bearer import agency_endpoint

_TIMESTAMP = {"type": "string", "format": "date-time"}

WHO_AM_I = openapi.Schema("AgencyIdentity", {
    "type": "object",
    "required": ["agency_id", "agency_name", "credit_code", "client_id", "scopes", "token_expires_at"],
    "additionalProperties": False,
    "properties": {
        "agency_id": {"type": "integer"},
        "agency_name": {"type": "string"},
        "credit_code": {"oneOf": [{"type": "string"}, {"type": "null"}],
                        "description": "The agency's unified social credit code: its seals are "
                                       "matched by it. Null: not recorded, so the agency cannot "
                                       "serve documents."},
        "client_id": {"type": "string"},
        "scopes": {"type": "array", "items": {"type": "string"}},
        "token_expires_at": _TIMESTAMP,
    },
})
API_CLIENT = openapi.Schema("ApiClient", {
    "type": "object",
    "description": "One of the agency's API clients. The secret is shown once, at creation, "
                   "and is never readable afterwards.",
    "required": ["client_id", "created_at", "revoked_at", "current"],
    "additionalProperties": False,
    "properties": {
        "client_id": {"type": "string"},
        "created_at": _TIMESTAMP,
        "revoked_at": {"oneOf": [_TIMESTAMP, {"type": "null"}]},
        "current": {"type": "boolean", "description": "The client this request's token was "
                                                      "issued to."},
    },
})
API_CLIENT_LIST = openapi.Schema("ApiClientList", {
    "type": "object",
    "required": ["items"],
    "additionalProperties": False,
    "properties": {"items": {"type": "array", "items": API_CLIENT.ref()}},
}, uses=(API_CLIENT,))
CLIENT_ID = openapi.PathParameter("client_id", "The client id, as printed by `portal agency create`.")


@openapi.operation(
    "get", summary="Who am I",
    description="The calling agency, the client its token was issued to, the token's scopes "
                "and when it expires. A cheap way to check a token.",
    security="agency",
    replies={200: openapi.Reply("The caller.", WHO_AM_I)},
)
@agency_endpoint
async def get_agency(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    return _json({
        "agency_id": agency.agency_id,
        "agency_name": agency.agency_name,
        "credit_code": agency.agency_credit_code,
        "client_id": agency.client_id,
        "scopes": sorted(agency.scopes),
        "token_expires_at": _instant(agency.expires_at),
    })


@openapi.operation(
    "get", summary="The agency's API clients",
    description="Every API client of the calling agency, revoked ones included, oldest first. "
                "No secrets.",
    security="agency",
    replies={200: openapi.Reply("The agency's clients.", API_CLIENT_LIST)},
)
@agency_endpoint
async def list_clients(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    views = await agencies.list_clients(db, agency.agency_id)
    return _json({"items": [_client(view, agency) for view in views]})


@openapi.operation(
    "get", summary="One of the agency's API clients",
    description="A client of the calling agency. Another agency's client answers 404, exactly "
                "like one that does not exist.",
    security="agency",
    parameters=(CLIENT_ID,),
    replies={
        200: openapi.Reply("The client.", API_CLIENT),
        404: openapi.problem("No such client for this agency (`not_found`)."),
    },
)
@agency_endpoint
async def get_client(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    view = await agencies.agency_client(db, agency.agency_id, request.path_params["client_id"])
    return _json(_client(view, agency))


def _client(view: ClientView, agency: AgencyPrincipal) -> dict[str, Any]:
    return {
        "client_id": view.client_id,
        "created_at": _instant(view.created_at),
        "revoked_at": _instant(view.revoked_at) if view.revoked_at else None,
        "current": view.client_id == agency.client_id,
    }


def _instant(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, to the second: what agencies' systems parse most easily."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers={"cache-control": "no-store"})
