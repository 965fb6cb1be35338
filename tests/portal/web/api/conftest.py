"""Fixtures of the agency API tests: two agencies with clients, tokens, and an HTTP client that
checks every ``/api/v1/`` response it sees against the OpenAPI document.

The ``api`` client validates each response (status documented or ``default``, media type,
required headers, body against the documented JSON Schema), so every test here doubles as a
test that the document tells the truth. The public URL is a loopback address: the token
endpoint issues tokens only for an https or loopback ``PUBLIC_URL`` (see ``web/api/token.py``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.applications import Starlette
from starlette.routing import Match, Route

from portal.database import transaction
from portal.services import agencies, api_tokens
from portal.services.agencies import NewClient
from portal.settings import Settings
from portal.web.api.openapi import API_PREFIX, OpenApiDocument
from tests.builders import credit_code
from tests.conftest import Database, make_settings

PUBLIC_URL = "http://127.0.0.1:8000"
_DOCUMENT_URI = "urn:portal:openapi"
_CONVERTER = re.compile(r":\w+}")  # /x/{id:int} is documented as /x/{id}


class OpenApiConformance:
    """An httpx response hook: fails the test when a response contradicts the document."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.document = OpenApiDocument(PUBLIC_URL).get_schema(app.routes)
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(_DOCUMENT_URI, resource)

    def template(self, path: str, method: str) -> str | None:
        scope = {"type": "http", "path": path, "method": method}
        for route in self.app.routes:
            if isinstance(route, Route) and route.matches(scope)[0] is Match.FULL:
                return _CONVERTER.sub("}", route.path)
        return None

    async def __call__(self, response: httpx.Response) -> None:
        request = response.request
        template = self.template(request.url.path, request.method)
        if template is None or not template.startswith(API_PREFIX):
            return  # not an API operation (404/405 are covered by `default` elsewhere)
        operation = self.document["paths"][template][request.method.lower()]
        await response.aread()
        self.check(operation, response)

    def check(self, operation: dict[str, Any], response: httpx.Response) -> None:
        responses = operation["responses"]
        entry = responses.get(str(response.status_code), responses["default"])
        media_type = response.headers.get("content-type", "").split(";")[0]
        where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
        assert media_type in entry["content"], f"{where}: undocumented media type {media_type}"
        for name, header in entry.get("headers", {}).items():
            assert not header["required"] or name in response.headers, f"{where}: no {name} header"
        if not media_type.endswith("json"):
            return  # a binary body (PDF, image): its documented media type is the promise
        schema = {"$ref": _DOCUMENT_URI + entry["content"][media_type]["schema"]["$ref"]}
        errors = [error.message for error in
                  Draft202012Validator(schema, registry=self.registry).iter_errors(response.json())]
        assert not errors, f"{where}: body contradicts the OpenAPI document: {errors}"


@pytest.fixture
def settings(database: Database, data_dir: Path) -> Settings:
    return make_settings(database.url, data_dir, PUBLIC_URL=PUBLIC_URL)


@pytest_asyncio.fixture(loop_scope="session")
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL,
                                 event_hooks={"response": [OpenApiConformance(app)]}) as http:
        yield http


async def new_client(database: Database, agency_name: str) -> NewClient:
    """An agency with its test credit code (``tests.builders.credit_code``) and a client."""
    async with transaction(database.sessions) as db:
        return await agencies.create_client(db, agency_name, credit_code(agency_name))


@pytest_asyncio.fixture(loop_scope="session")
async def agency_a(database: Database) -> NewClient:
    return await new_client(database, "福州市市场监督管理局")


@pytest_asyncio.fixture(loop_scope="session")
async def agency_b(database: Database) -> NewClient:
    return await new_client(database, "厦门市交通运输局")


async def fetch_token(api: httpx.AsyncClient, client: NewClient) -> str:
    response = await api.post("/api/v1/token", data={"grant_type": "client_credentials"},
                              auth=(client.client_id, client.client_secret))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def stored_token(database: Database, client: NewClient, *, lifetime: timedelta) -> str:
    """A token written straight into the database, e.g. one that expired already."""
    value = api_tokens.new_token_value()
    async with transaction(database.sessions) as db:
        await api_tokens.store_token(db, value, client_id=client.client_id,
                                     agency_id=client.agency_id, scope="agency", lifetime=lifetime)
    return value


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
