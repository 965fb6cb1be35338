"""The OpenAPI 3.1 document of the agency API, built from declarations next to each endpoint.

Every endpoint under ``/api/v1/`` carries an ``@operation(...)`` declaration: summary, who may
call it, its request body and its responses, with the JSON Schemas of those bodies defined in
the endpoint's own module. The document is assembled from the live route table (Starlette's
``BaseSchemaGenerator.get_endpoints`` walks it) plus those declarations, so a path or a method
cannot be documented without existing, nor exist without a declaration: an undeclared API route
makes the document fail to build, and the test suite with it.

Two things are added to every operation rather than declared by hand, because they are true of
every one: the ``default`` response (any other refusal or failure is problem details, RFC 9457)
and, for agency routes, the 401 the bearer guard answers. Starlette's own schema helper renders
YAML; clients and schemathesis get JSON (PITFALLS.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.schemas import BaseSchemaGenerator

API_PREFIX = "/api/v1/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

Security = Literal["agency", "client", "public"]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_SECURITY_SCHEMES: dict[str, Any] = {
    "agencyBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An opaque access token from POST /api/v1/token (client credentials grant). "
                       "Send it in the Authorization header only; it expires after an hour.",
    },
    "clientSecretBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "The agency's client_id and client_secret (as printed by "
                       "`portal agency create`), form-urlencoded, as HTTP Basic credentials.",
    },
}
_SECURITY: dict[Security, list[dict[str, list[str]]]] = {
    "agency": [{"agencyBearer": []}],
    # client_secret_post carries the secret in the form body, which OpenAPI cannot name as a
    # security scheme: hence the empty alternative next to Basic
    "client": [{"clientSecretBasic": []}, {}],
    "public": [],
}


@dataclass(frozen=True)
class Schema:
    """A named JSON Schema, published under ``components/schemas``; ``uses`` lists the other
    named schemas it refers to with ``ref()``."""

    name: str
    body: Mapping[str, Any]
    uses: tuple[Schema, ...] = ()

    def ref(self) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{self.name}"}


@dataclass(frozen=True)
class Reply:
    """One documented response: its body's schema and the headers it always carries."""

    description: str
    schema: Schema
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Body:
    schema: Schema
    media_type: str = "application/json"


@dataclass(frozen=True)
class PathParameter:
    name: str
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Operation:
    method: str
    summary: str
    description: str
    security: Security
    replies: Mapping[int, Reply]
    body: Body | None = None
    parameters: tuple[PathParameter, ...] = ()
    tag: str = "agency"


PROBLEM = Schema("Problem", {
    "type": "object",
    "description": "Problem details (RFC 9457). `code` is the stable machine code to act on; "
                   "`title` is a short Chinese sentence for people; quote `request_id` to support.",
    "required": ["type", "title", "status", "code", "request_id"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "Field name to error code, for validation_failed."},
    },
})


def problem(description: str, **headers: str) -> Reply:
    """A problem-details response; ``headers`` maps header names to what they say."""
    return Reply(description, PROBLEM, PROBLEM_MEDIA_TYPE, headers)


BEARER_REFUSED = problem(
    "No bearer token (`unauthenticated`), or one that is unknown, expired or revoked "
    "(`invalid_token`).",
    **{"WWW-Authenticate": 'Bearer realm="portal", with error="invalid_token" for a bad token'},
)
ANY_OTHER = problem("Any other refusal or failure, as problem details.")


def operation(method: str, *, summary: str, description: str, security: Security,
              replies: Mapping[int, Reply], body: Body | None = None,
              parameters: tuple[PathParameter, ...] = (), tag: str = "agency",
              ) -> Callable[[Endpoint], Endpoint]:
    """Declare how the decorated endpoint answers ``method``: the source of its OpenAPI entry."""
    declared = Operation(method.lower(), summary, description, security, replies, body,
                         parameters, tag)

    def mark(endpoint: Endpoint) -> Endpoint:
        table: dict[str, Operation] = dict(getattr(endpoint, "openapi_operations", {}))
        table[declared.method] = declared
        endpoint.openapi_operations = table  # type: ignore[attr-defined]
        return endpoint

    return mark


def declared_operations(endpoint: Callable[..., Any]) -> Mapping[str, Operation]:
    return getattr(endpoint, "openapi_operations", {})


class UndocumentedRoute(LookupError):
    """An API route without a declaration: a programming error the test suite catches."""


class OpenApiDocument(BaseSchemaGenerator):
    """Builds the document for the routes under ``API_PREFIX``."""

    def __init__(self, public_url: str) -> None:
        self.public_url = public_url

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        schemas: dict[str, Mapping[str, Any]] = {}
        for endpoint in self.get_endpoints(routes):
            if not endpoint.path.startswith(API_PREFIX):
                continue
            declared = declared_operations(endpoint.func).get(endpoint.http_method)
            if declared is None:
                raise UndocumentedRoute(f"{endpoint.http_method.upper()} {endpoint.path}")
            paths.setdefault(endpoint.path, {})[endpoint.http_method] = _operation_object(
                declared, endpoint.func.__name__)
            for schema in _schemas_of(declared):
                if schemas.setdefault(schema.name, schema.body) != schema.body:
                    raise ValueError(f"two different schemas are named {schema.name}")
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "Enforcement service portal: agency API",
                "version": "1",
                "description": "Machine-to-machine API for agencies (application units). Get a "
                               "token with the client credentials grant at /api/v1/token, then "
                               "send it as a bearer token. Every refusal is problem details "
                               "(RFC 9457) with a stable `code`; an agency sees only its own "
                               "data, and anything else answers 404.",
            },
            "servers": [{"url": self.public_url}],
            "paths": paths,
            "components": {"schemas": dict(sorted(schemas.items())),
                           "securitySchemes": _SECURITY_SCHEMES},
        }


def _all_replies(declared: Operation) -> dict[str, Reply]:
    replies = dict(declared.replies)
    if declared.security == "agency":
        replies.setdefault(401, BEARER_REFUSED)
    return {**{str(status): reply for status, reply in sorted(replies.items())},
            "default": ANY_OTHER}


def _operation_object(declared: Operation, name: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "operationId": name,
        "summary": declared.summary,
        "description": declared.description,
        "tags": [declared.tag],
        "security": _SECURITY[declared.security],
        "responses": {status: _response_object(reply)
                      for status, reply in _all_replies(declared).items()},
    }
    if declared.parameters:
        result["parameters"] = [
            {"name": p.name, "in": "path", "required": True, "description": p.description,
             "schema": dict(p.schema)} for p in declared.parameters]
    if declared.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {declared.body.media_type: {"schema": declared.body.schema.ref()}},
        }
    return result


def _response_object(reply: Reply) -> dict[str, Any]:
    result: dict[str, Any] = {
        "description": reply.description,
        "content": {reply.media_type: {"schema": reply.schema.ref()}},
    }
    if reply.headers:
        result["headers"] = {name: {"description": text, "required": True,
                                    "schema": {"type": "string"}}
                             for name, text in reply.headers.items()}
    return result


def _schemas_of(declared: Operation) -> Iterator[Schema]:
    pending = [reply.schema for reply in _all_replies(declared).values()]
    if declared.body is not None:
        pending.append(declared.body.schema)
    while pending:
        schema = pending.pop()
        yield schema
        pending.extend(schema.uses)


DOCUMENT = Schema("OpenApiDocument", {
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {"openapi": {"type": "string", "pattern": "^3\\.1\\."}},
})


@operation("get", summary="This document", tag="meta", security="public",
           description="The OpenAPI 3.1 description of the agency API, as JSON.",
           replies={200: Reply("The OpenAPI document.", DOCUMENT)})
async def openapi_json(request: Request) -> Response:
    document = OpenApiDocument(request.app.state.settings.public_url).get_schema(request.app.routes)
    return JSONResponse(document, headers={"cache-control": "no-cache"})
