"""The OpenAPI document tells the truth: served as JSON, valid OpenAPI 3.1, one entry for every
API route and no entry without one, and its security and schemas match what the routes do.

(The ``api`` client in the other tests checks every real response against the document; the
last test here shows that check is not vacuous.)
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from portal.web.api.openapi import API_PREFIX, OpenApiDocument, UndocumentedRoute
from tests.portal.web.api.conftest import PUBLIC_URL, OpenApiConformance

_METHODS = ("get", "post", "put", "patch", "delete")


def _api_routes(routes: list[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """(path template, method) of every API route, walked from the app's route table."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= _api_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route) and (prefix + route.path).startswith(API_PREFIX):
            path = re.sub(r":\w+}", "}", prefix + route.path)
            found |= {(path, m.lower()) for m in (route.methods or {"GET"}) if m != "HEAD"}
    return found


async def _document(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"  # not YAML (PITFALLS.md)
    document: dict[str, Any] = response.json()
    return document


async def test_document_is_valid_openapi_3_1_json(api: httpx.AsyncClient) -> None:
    document = await _document(api)
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


async def test_every_api_route_is_documented_and_nothing_else(api: httpx.AsyncClient,
                                                              app: Starlette) -> None:
    document = await _document(api)
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method in _METHODS}
    assert documented == _api_routes(app.routes)
    assert {"/api/v1/token", "/api/v1/openapi.json", "/api/v1/agency"} <= set(document["paths"])


async def test_path_parameters_are_declared(api: httpx.AsyncClient) -> None:
    for path, item in (await _document(api))["paths"].items():
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), path


async def test_declared_security_is_what_routes_enforce(api: httpx.AsyncClient) -> None:
    # SECURITY.md "Access control": a route documented as needing a bearer token refuses
    # without one; one documented as public (`security: []`) does not ask for credentials
    document = await _document(api)
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            url = re.sub(r"{\w+}", "anything", path)
            if operation["security"] == [{"agencyBearer": []}]:
                response = await api.request(method, url)
                assert response.status_code == 401, (method, path)
                assert response.headers["content-type"] == "application/problem+json"
                assert "401" in operation["responses"]
                checked += 1
            elif operation["security"] == [] and method == "get":
                assert (await api.get(url)).status_code == 200, path
    assert checked >= 3


async def test_public_and_client_routes_are_marked(api: httpx.AsyncClient) -> None:
    paths = (await _document(api))["paths"]
    assert paths["/api/v1/openapi.json"]["get"]["security"] == []
    assert paths["/api/v1/token"]["post"]["security"] == [{"clientSecretBasic": []}, {}]
    body = paths["/api/v1/token"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/x-www-form-urlencoded"]


async def test_every_operation_documents_problem_details(api: httpx.AsyncClient) -> None:
    for item in (await _document(api))["paths"].values():
        for operation in item.values():
            default = operation["responses"]["default"]["content"]
            assert default == {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}


async def test_an_undeclared_api_route_breaks_the_document(app: Starlette) -> None:
    async def undeclared(request: Request) -> Response:
        return JSONResponse({})

    routes = [*app.routes, Route("/api/v1/undeclared", undeclared)]
    with pytest.raises(UndocumentedRoute, match="GET /api/v1/undeclared"):
        OpenApiDocument(PUBLIC_URL).get_schema(routes)


async def test_the_conformance_check_catches_a_lie(app: Starlette) -> None:
    checker = OpenApiConformance(app)
    operation = checker.document["paths"]["/api/v1/agency"]["get"]
    request = httpx.Request("GET", PUBLIC_URL + "/api/v1/agency")
    wrong_body = httpx.Response(200, json={"agency_id": "one"}, request=request)
    with pytest.raises(AssertionError, match="contradicts"):
        checker.check(operation, wrong_body)
    no_challenge = httpx.Response(401, request=request, json={},
                                  headers={"content-type": "application/problem+json"})
    with pytest.raises(AssertionError, match="WWW-Authenticate"):
        checker.check(operation, no_challenge)
