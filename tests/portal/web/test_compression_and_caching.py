"""Pages and static files go out gzip-compressed; versioned static URLs are cached for a year
and anything else is revalidated; the CSRF token, on every compressed page, is masked afresh
each time so its bytes never repeat (BREACH) while every copy still works (ASVS
v5.0.0-3.5.1; SECURITY.md "Browser side")."""

from __future__ import annotations

import re

import httpx

from portal.web.static_assets import assets
from tests.conftest import CSRF_RE, Database, csrf_from
from tests.portal.web.login_flow import log_in

GZIP = {"accept-encoding": "gzip"}
STYLESHEET = re.compile(r'<link rel="stylesheet" href="(/static/portal\.css\?v=[0-9a-f]{12})">')


async def test_pages_and_static_files_are_compressed_pdfs_are_not(
        client: httpx.AsyncClient, database: Database) -> None:
    page = await client.get("/", headers=GZIP)
    assert page.headers["content-encoding"] == "gzip" and "Accept-Encoding" in page.headers["vary"]
    css = await client.get(STYLESHEET.search(page.text).group(1), headers=GZIP)  # type: ignore[union-attr]
    assert css.headers["content-encoding"] == "gzip"
    assert int(css.headers["content-length"]) < len(css.content) / 2  # what travels is smaller
    script = await client.get(assets.url("vendor/htmx-2.0.11/htmx.min.js"), headers=GZIP)
    assert script.headers["content-encoding"] == "gzip"
    plain = await client.get("/", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers


async def test_a_versioned_static_url_is_immutable_and_a_stale_one_revalidates(
        client: httpx.AsyncClient, database: Database) -> None:
    url = STYLESHEET.search((await client.get("/")).text).group(1)  # type: ignore[union-attr]
    fresh = await client.get(url)
    assert fresh.status_code == 200
    assert fresh.headers["cache-control"] == "public, max-age=31536000, immutable"
    for stale in ("/static/portal.css", "/static/portal.css?v=000000000000"):
        response = await client.get(stale)
        assert response.status_code == 200 and response.headers["cache-control"] == "no-cache"
        etag = response.headers["etag"]
        again = await client.get(stale, headers={"if-none-match": etag})
        assert again.status_code == 304


async def test_the_csrf_token_is_masked_afresh_on_every_page_and_each_copy_works(
        client: httpx.AsyncClient, database: Database) -> None:
    await log_in(client, "zhangsan")
    first, second = await csrf_from(client, "/todo"), await csrf_from(client, "/todo")
    assert first != second and len(first) == len(second) == 128
    page = (await client.get("/todo")).text
    assert len(set(CSRF_RE.findall(page))) == 1  # one page: one value (form and htmx header)
    for token in (first, second):
        read = await client.post("/notices/read-all", data={"csrf_token": token})
        assert read.status_code == 303
    unmasked_guess = first[:64]  # half a token, or the bare HMAC, is no token
    refused = await client.post("/notices/read-all", data={"csrf_token": unmasked_guess})
    assert refused.status_code == 403
    raw = bytes.fromhex(first)
    other = (raw[:-1] + bytes([raw[-1] ^ 1])).hex()  # one bit of the masked token changed
    assert (await client.post("/notices/read-all", data={"csrf_token": other})).status_code == 403
