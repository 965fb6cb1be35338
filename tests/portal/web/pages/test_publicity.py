"""The public pages: /publicity (search, without JavaScript and as htmx fragments), an item's
page, and the CSV/JSON export; both databases, time pinned through ``app.state.clock``.

FJ art. 21 (gone from every page, search and export at 2 years + 1 second; a changed item
says so), APL art. 48 (the withdrawal notice with its reason), SECURITY.md "Business logic"
(search limited per client) and "Browser side" (the htmx block is the page's own block, with
``Vary: HX-Request``), and the CSV injection guard of the export.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from portal.publicity.window import years_later
from portal.services import rate_limits
from portal.web.pages import publicity
from tests.builders import agency
from tests.conftest import Database
from tests.portal.publicity.factories import T0, body, publish

NOW = T0 + timedelta(days=3)


@pytest_asyncio.fixture(loop_scope="session")
async def items(database: Database, app: Starlette) -> list[int]:
    market = await agency(database)
    app.state.clock = lambda: NOW
    published = [
        await publish(database, market, body("榕市监罚〔2026〕1号", company="福州闽江贸易有限公司",
                                             decided=date(2026, 1, 20))),
        await publish(database, market, body("榕市监罚〔2026〕2号", company="厦门鹭江食品有限公司",
                                             decided=date(2026, 2, 26)), at=T0 + timedelta(days=1)),
        await publish(database, market, body("榕市监罚〔2026〕3号", company="=HYPERLINK(1)有限公司",
                                             decided=date(2026, 2, 10))),
    ]
    return [item.id for item in published]


def main_text(page: httpx.Response) -> str:
    match = re.search(r"<main.*?</main>", page.text, re.S)
    assert match, page.text[:200]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group()))


def results(page: httpx.Response) -> str:
    """The results part of a search page (the form's hint mentions a company name too)."""
    return main_text(page).split("查询结果", 1)[1]


async def test_search_works_without_javascript_and_htmx_gets_the_same_block(
        client: httpx.AsyncClient, items: list[int]) -> None:
    full = await client.get("/publicity", params={"q": "闽江贸易"})
    assert full.status_code == 200
    assert "HX-Request" in full.headers["vary"] and full.headers["cache-control"] == "private, no-store"
    assert "<form method=\"get\" action=\"/publicity\"" in full.text  # a plain form first
    assert 'hx-get="/publicity"' in full.text and 'hx-push-url="true"' in full.text
    assert "福州闽江贸易有限公司" in results(full) and "鹭江" not in results(full)
    fragment = await client.get("/publicity", params={"q": "闽江贸易"}, headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="publicity-results"')
    assert "<html" not in fragment.text
    assert fragment.text.strip() in full.text.replace("\n\n", "\n")  # the very same block
    everything = results(await client.get("/publicity"))
    assert everything.index("鹭江") < everything.index("HYPERLINK") < everything.index("闽江贸易")


async def test_filters_and_bad_filter_values(client: httpx.AsyncClient, items: list[int]) -> None:
    page = results(await client.get("/publicity", params={"from": "2026-02-01", "to": "2026-02-28"}))
    assert "鹭江" in page and "HYPERLINK" in page and "闽江贸易" not in page
    nul = await client.get("/publicity", params={"q": "闽江\x00贸易"})  # refused at the edge
    assert nul.status_code == 400 and "不能保存的字符" in nul.text
    odd_cursor = await client.get("/publicity", params={"after": f"2026-01-01.{10**30}"})
    assert odd_cursor.status_code == 200  # a cursor that cannot be one is ignored, not a 500
    bad = await client.get("/publicity", params={"from": "2026-02-30", "kind": "fine", "agency": "999"})
    assert bad.status_code == 200
    text = main_text(bad)
    for message in ("请按“年-月-日”填写日期", "请从列表中选择信息类别", "请从列表中选择执法机关"):
        assert message in text


async def test_an_items_page_shows_masked_content_and_a_missing_one_is_404(
        client: httpx.AsyncClient, items: list[int]) -> None:
    page = await client.get(f"/publicity/{items[0]}")
    assert page.status_code == 200
    assert page.headers["x-robots-tag"] == "noindex, noarchive"  # no copy outliving the window
    text = main_text(page)
    for expected in ("福州闽江贸易有限公司", "榕市监罚〔2026〕1号", "福州市市场监督管理局", "2026年1月20日",
                     "5,000.00 元", "公示截止 2028年3月2日 10:00"):
        assert expected in text, expected
    assert "已更新" not in text and "第 2 版" not in text
    for missing in ("/publicity/999999", f"/publicity/{2**70}"):
        gone = await client.get(missing)
        assert gone.status_code == 404 and "未找到该公示信息" in gone.text


async def test_at_two_years_and_one_second_the_item_is_gone_from_every_public_page(
        client: httpx.AsyncClient, app: Starlette, items: list[int]) -> None:
    # FJ art. 21: nobody acts; the pages simply stop showing it
    first = items[0]
    app.state.clock = lambda: years_later(T0, 2) - timedelta(seconds=1)
    assert (await client.get(f"/publicity/{first}")).status_code == 200
    app.state.clock = lambda: years_later(T0, 2) + timedelta(seconds=1)
    assert (await client.get(f"/publicity/{first}")).status_code == 404
    assert "闽江贸易" not in results(await client.get("/publicity", params={"q": "闽江贸易"}))
    assert "闽江贸易" not in results(await client.get("/publicity"))
    exported_csv = (await client.get("/publicity/export.csv")).text
    exported_json = json.loads((await client.get("/publicity/export.json")).text)
    assert "闽江贸易" not in exported_csv
    assert [row["id"] for row in exported_json] == [items[1]]  # the one published a day later


async def test_the_export_streams_csv_and_json_of_what_is_public(client: httpx.AsyncClient,
                                                                items: list[int]) -> None:
    response = await client.get("/publicity/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="publicity.csv"')
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [int(row["编号"]) for row in rows] == [items[1], items[2], items[0]]  # newest decision first
    injected = next(row for row in rows if "HYPERLINK" in row["当事人"])
    assert injected["当事人"].startswith("'=")  # a spreadsheet shows it, never runs it
    # people's words in the CSV, field names and codes in the JSON
    assert rows[0]["状态"] == "公示中" and rows[0]["罚没金额（元）"] == "5000.00"
    assert rows[0]["信息类别"] == "行政处罚决定" and "T" not in rows[0]["本版公示时间（北京时间）"]
    records = json.loads((await client.get("/publicity/export.json", params={"from": "2026-02-20"})).text)
    assert [r["party_name"] for r in records] == ["厦门鹭江食品有限公司"]
    assert records[0]["url"] == f"http://testserver/publicity/{items[1]}"
    assert records[0]["status"] == "public" and records[0]["amount_fen"] == 500_000
    bad = await client.get("/publicity/export.csv", params={"region": "x"})
    assert bad.status_code == 422


async def test_search_is_limited_per_client(client: httpx.AsyncClient, items: list[int],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # SECURITY.md "Business logic": anti-automation on public search (ASVS v5.0.0-2.4.1)
    monkeypatch.setattr(publicity, "SEARCHES", rate_limits.Limit("publicity_search_test", 2, 60))
    assert (await client.get("/publicity")).status_code == 200
    assert (await client.get("/publicity", params={"q": "闽江"})).status_code == 200
    refused = await client.get("/publicity")
    assert refused.status_code == 429 and "retry-after" in refused.headers
