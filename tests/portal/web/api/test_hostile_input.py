"""Hostile input answers 400/413/422, never 500: multipart bodies the parser refuses in the CSRF
check, NUL and lone surrogates in JSON bodies and forms, ``%00`` in path ids and queries
(PostgreSQL cannot store NUL in text), and 405s that name the allowed methods. SECURITY.md
"Uploads and PDFs" v5.0.0-5.1.1 (limits); "Reliability battery" (schemathesis: no 5xx);
v5.0.0-4.1.x (HTTP semantics)."""

from __future__ import annotations

import json

import httpx
import pytest

from portal.services.agencies import NewClient
from tests.conftest import csrf_from
from tests.portal.web.api.conftest import bearer, fetch_token
from tests.portal.web.api.factories import NEW_CASE

MANY_PARTS = b"".join(b"--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nx\r\n" % i
                      for i in range(1001)) + b"--b--\r\n"


@pytest.mark.parametrize("path", ["/logout", "/login", "/verify", "/notices/read-all"])
async def test_multipart_the_parser_refuses_is_a_400_page_on_every_form(
        client: httpx.AsyncClient, path: str) -> None:
    await client.get("/")  # a session, so the CSRF check reads the form for its token
    for content_type, body in (("multipart/form-data; boundary=b", MANY_PARTS),
                               ("multipart/form-data", b"--b\r\n\r\nx\r\n--b--\r\n"),  # no boundary
                               ("multipart/form-data; boundary=b", b"garbage")):
        response = await client.post(path, content=body, headers={"content-type": content_type})
        assert response.status_code in (400, 403), (path, content_type, response.status_code)
        assert response.headers["content-type"].startswith("text/html")
        assert "提交的表单格式有误" in response.text or "页面已过期" in response.text


async def test_a_form_field_with_nul_is_refused_before_it_reaches_the_database(
        client: httpx.AsyncClient) -> None:
    token = await csrf_from(client, "/")
    response = await client.post("/logout", content=f"csrf_token={token}&x=a%00b".encode(),
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and "不能保存的字符" in response.text


@pytest.mark.parametrize("path", ["/c/AB%00CD", "/publicity?q=%00", "/verify/reports/x%00",
                                  "/receipts/verify?code=3501%000001"])
async def test_nul_in_a_page_path_or_query_is_a_chinese_400(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 400 and "不能保存的字符" in response.text


def _with(text: str) -> str:
    """A case registration valid in every other respect, ``text`` in its matter: on main
    PostgreSQL refused the NUL and asyncpg the surrogate with a 500."""
    return json.dumps({**NEW_CASE, "matter": text}, ensure_ascii=True)


@pytest.mark.parametrize("body", [
    _with("销售\x00过期食品"), _with("销售\ud800过期食品"),  # NUL, a lone surrogate
    '{"\\udc00": 1}',  # in a key: echoing it in the 422 was itself a 500
])
async def test_nul_and_lone_surrogates_in_json_are_problem_details(
        api: httpx.AsyncClient, agency_a: NewClient, body: str) -> None:
    # the fields are read by portal.fields (tests/portal/web/api/test_inbound_text.py names them);
    # here: no 500 on any JSON endpoint, whatever the body holds
    token = bearer(await fetch_token(api, agency_a))
    headers = {**token, "content-type": "application/json"}
    for method, path in (("POST", "/api/v1/cases"), ("POST", "/api/v1/fines"),
                         ("POST", "/api/v1/fines/F0000000000000000/refunds"), ("PUT", "/api/v1/webhook"),
                         ("POST", "/api/v1/publications")):
        response = await api.request(method, path, content=body.encode(), headers=headers)
        assert response.status_code in (404, 422), (path, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    hook = await api.put("/api/v1/webhook", headers=token,
                         json={"url": "https://agency.example/hook\x00"})  # ASCII, so a "valid" URL
    assert hook.status_code == 422 and hook.json()["code"] == "webhook_url_invalid"


@pytest.mark.parametrize("path", ["/api/v1/cases/AB%00CD", "/api/v1/deliveries/x%00",
                                  "/api/v1/fines/%00", "/api/v1/submissions/a%00",
                                  "/api/v1/publications/1%00", "/api/v1/agency/clients/ag_%00",
                                  "/api/v1/submissions?since=%00"])
async def test_nul_in_an_api_path_id_is_a_problem_detail(
        api: httpx.AsyncClient, agency_a: NewClient, path: str) -> None:
    response = await api.get(path, headers=bearer(await fetch_token(api, agency_a)))
    assert response.status_code == 400 and response.json()["code"] == "invalid_text"
    assert response.headers["content-type"] == "application/problem+json"


async def test_405_names_every_method_of_the_path(client: httpx.AsyncClient, api: httpx.AsyncClient) -> None:
    logout = await client.get("/logout")
    assert logout.status_code == 405 and logout.headers["allow"] == "POST"
    login = await client.options("/login")  # two routes, GET and POST (OPTIONS passes the CSRF check)
    assert login.status_code == 405 and login.headers["allow"] == "GET, HEAD, POST"
    webhook = await api.delete("/api/v1/webhook")
    assert webhook.status_code == 405 and webhook.headers["allow"] == "GET, HEAD, PUT"
    assert webhook.json()["code"] == "method_not_allowed"
