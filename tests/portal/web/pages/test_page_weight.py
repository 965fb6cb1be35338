"""Over-the-wire weight: each of /, /verify, /publicity, a case page, the
mailbox and 我的待办, gzip-compressed as a phone receives it, together with its CSS and
JavaScript, stays within 30 kB. Measured on the ``make run`` demo (``portal.demo``), whose
pages carry real cases, fines, documents and thirty published decisions. The bytes counted are
the compressed bodies as they leave the app (headers come on top, a few hundred bytes)."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from portal import demo
from portal.settings import Settings
from tests.conftest import Database
from tests.portal.web.login_flow import log_in

BUDGET = 30_000  # bytes
GZIP = {"accept-encoding": "gzip"}
ASSETS = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')


async def _weight(http: httpx.AsyncClient, path: str) -> tuple[int, list[str]]:
    page = await http.get(path, headers=GZIP)
    assert page.status_code == 200, (path, page.status_code)
    assert page.headers.get("content-encoding") == "gzip", path
    total, parts = page.num_bytes_downloaded, [f"{path}: {page.num_bytes_downloaded}"]
    for asset in ASSETS.findall(page.text):
        fetched = await http.get(asset, headers=GZIP)
        assert fetched.status_code == 200 and fetched.headers.get("content-encoding") == "gzip", asset
        total += fetched.num_bytes_downloaded
        parts.append(f"{asset}: {fetched.num_bytes_downloaded}")
    return total, parts


async def test_each_page_with_its_css_and_javascript_weighs_at_most_30_kb_compressed(
        client: httpx.AsyncClient, database: Database, settings: Settings) -> None:
    if database.backend != "sqlite":
        pytest.skip("the same markup on either database: weighed once")
    assert await demo.seed(settings, database.sessions)
    case = json.loads((settings.data_dir / "demo-cases.json").read_text())[0]
    weights = {path: await _weight(client, path) for path in ("/", "/verify", "/publicity")}
    await log_in(client, "zhangsan")
    for path in ("/todo", f"/cases/{case}"):
        weights[path] = await _weight(client, path)
    await log_in(client, "lisi")
    weights["/mailbox"] = await _weight(client, "/mailbox")
    heavy = {path: parts for path, (total, parts) in weights.items() if total > BUDGET}
    assert not heavy, f"over {BUDGET} bytes compressed: {heavy}"
